// Two suites: `unit` runs the pure modules (src/core, src/schema) in plain Node, so a stray
// Workers import fails at once; `workers` runs the Worker and its Durable Objects in workerd.
import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    projects: [
      {
        test: { name: "unit", environment: "node", include: ["test/unit/**/*.test.ts"] },
      },
      {
        plugins: [
          cloudflareTest({
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: {
              bindings: {
                API_KEYS: JSON.stringify([
                  { key: "dev-ingest-key", scopes: ["ingest"], services: ["*"] },
                  { key: "dev-read-key", scopes: ["read"], services: ["*"] },
                  { key: "dev-admin-key", scopes: ["ingest", "read", "admin"], services: ["*"] },
                  { key: "api-only-read-key", scopes: ["read"], services: ["api"] },
                  { key: "api-only-ingest-key", scopes: ["ingest"], services: ["api"] },
                ]),
                CURSOR_SECRET: "test-cursor-secret",
              },
            },
          }),
        ],
        test: { name: "workers", include: ["test/workers/**/*.test.ts"] },
      },
    ],
  },
});
