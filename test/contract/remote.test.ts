// Runs the §4 contract suite from Node against any data service:
//   DATA_SERVICE_URL=http://127.0.0.1:8788 DATA_SERVICE_API_KEY=dev-data-service-key npm run test:contract
// The `contract` vitest project exists only when DATA_SERVICE_URL is set (vitest.config.ts).
import { defineDataServiceContract } from "./data-service-contract.js";

const base = process.env.DATA_SERVICE_URL;
const key = process.env.DATA_SERVICE_API_KEY;
if (!base || !key) throw new Error("set DATA_SERVICE_URL and DATA_SERVICE_API_KEY to run the contract suite");

defineDataServiceContract(() => (path, init) => fetch(new URL(path, base), init), key);
