// Bundles the reference data service (data-service/src/index.ts) to one plain-JS ES module,
// data-service/dist/index.js: vitest-pool-workers runs auxiliary workers only from plain JS
// (shared/PLATFORM.md). wrangler dev/deploy use the TypeScript entry directly.
import { build } from "esbuild";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));

await build({
  absWorkingDir: root,
  entryPoints: ["data-service/src/index.ts"],
  outfile: "data-service/dist/index.js",
  bundle: true,
  format: "esm",
  platform: "neutral",
  target: "es2022",
  conditions: ["workerd", "worker", "browser"],
  mainFields: ["module", "main"],
  external: ["cloudflare:*", "node:*"],
  sourcemap: "inline",
  logLevel: "warning",
});
console.log("built data-service/dist/index.js");
