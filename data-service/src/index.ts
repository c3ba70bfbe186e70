// Worker entry of the reference data-access service (spec/API.md §4). Built to plain JS by
// scripts/build-data-service.mjs for vitest's auxiliary worker; wrangler runs this file directly.
import { buildDataApp } from "./app.js";
import type { DataEnv } from "./env.js";

const app = buildDataApp();

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<DataEnv>;
