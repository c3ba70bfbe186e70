// Two suites: `unit` runs the pure modules (src/core, src/schema) in plain Node, so a stray
// Workers import fails at once; `workers` runs the Worker and its Durable Objects in workerd.
// `contract` (only when DATA_SERVICE_URL is set) runs the §4 contract suite from Node against
// any data service: `DATA_SERVICE_URL=... DATA_SERVICE_API_KEY=... npm run test:contract`.
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

// The reference data service (data-service/) runs as an auxiliary worker in the `workers`
// project; build it first (npm run build:data-service). Its D1 id is shared with the test
// runner, whose setup file applies the migrations (test/workers/setup.ts).
const DATA_D1_ID = "edge-logger-data-test";
const DATA_SERVICE_API_KEY = "test-data-service-key";
const dataMigrations = await readD1Migrations("./data-service/migrations");
const contractProject = process.env.DATA_SERVICE_URL
  ? [
      {
        test: { name: "contract", environment: "node", include: ["test/contract/remote.test.ts"], testTimeout: 30_000 },
      },
    ]
  : [];

const TEST_API_KEYS = JSON.stringify([
  { key: "dev-ingest-key", scopes: ["ingest"], services: ["*"] },
  { key: "dev-read-key", scopes: ["read"], services: ["*"] },
  { key: "dev-admin-key", scopes: ["ingest", "read", "admin"], services: ["*"] },
  { key: "api-only-read-key", scopes: ["read"], services: ["api"] },
  { key: "api-only-ingest-key", scopes: ["ingest"], services: ["api"] },
]);

// Generous timeouts for the workerd projects: a few tests move thousands of logs through many
// objects (3.6 s for the sharding pages test on a quiet 2-core machine), and a busy CI host is
// slower. A timeout here is a hang detector, not a speed target (speed is `npm run bench`).
const WORKERD_TIMEOUTS = { testTimeout: 30_000, hookTimeout: 60_000 };

function phaseProject(name: string, vars: Record<string, string>, extra: Record<string, unknown> = {}) {
  return {
    plugins: [
      cloudflareTest({
        wrangler: { configPath: "./wrangler.toml" },
        miniflare: {
          bindings: { API_KEYS: TEST_API_KEYS, CURSOR_SECRET: "test-cursor-secret", ...vars },
          // wrangler.toml binds the reference service; these phases don't use it.
          serviceBindings: { DATA_SERVICE: () => new Response("not used in this phase", { status: 500 }) },
          ...extra,
        },
      }),
    ],
    test: {
      name,
      include: [`test/${name}/**/*.test.ts`],
      setupFiles: [`./test/${name}/setup.ts`],
      ...WORKERD_TIMEOUTS,
    },
  };
}

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
                  { key: "api-only-admin-key", scopes: ["admin"], services: ["api"] },
                  // its own new-services budget (test/workers/fanout.test.ts spends it)
                  {
                    key: "fanout-ingest-key",
                    name: "fanout",
                    scopes: ["ingest"],
                    services: ["*"],
                    new_services_per_minute: 3,
                  },
                ]),
                CURSOR_SECRET: "test-cursor-secret",
                TAIL_QUEUE_MAX: "100",
                SHARD_OVERRIDES: "shard-four=4",
                DATA_SERVICE_API_KEY,
                TEST_MIGRATIONS: dataMigrations,
              },
              d1Databases: { DB: DATA_D1_ID },
              workers: [
                {
                  name: "edge-logger-data",
                  modules: true,
                  scriptPath: "./data-service/dist/index.js",
                  compatibilityDate: "2026-04-01",
                  compatibilityFlags: ["nodejs_compat"],
                  d1Databases: { DB: DATA_D1_ID },
                  bindings: { DATA_SERVICE_API_KEY },
                },
                // A Tail Worker producer (test/workers/tail-consumer.test.ts): its events go to the
                // runner, which serves the logger's default export and so its tail() handler.
                {
                  name: "tail-producer",
                  modules: true,
                  scriptPath: "./test/fixtures/producer-worker.js",
                  compatibilityDate: "2026-04-01",
                  tails: ["vitest-pool-workers-runner-workers"],
                },
              ],
              serviceBindings: { TAIL_PRODUCER: "tail-producer" },
            },
          }),
        ],
        test: {
          name: "workers",
          include: ["test/workers/**/*.test.ts"],
          setupFiles: ["./test/workers/setup.ts"],
          ...WORKERD_TIMEOUTS,
        },
      },
      // The other two deployment phases, each its own workerd with its own configuration:
      // `workers-faults` talks to a data service at DATA_SERVICE_URL that msw fakes (failures,
      // timeouts, refusals); `workers-kv` runs the KV-only phase (PERSISTENCE_ENABLED=false).
      phaseProject("workers-faults", {
        DATA_SERVICE_URL: "http://data.test",
        DATA_SERVICE_API_KEY,
        DATA_SERVICE_TIMEOUT: "300",
        FLUSH_INTERVAL_MS: "1000",
        FLUSH_BACKOFF_BASE_MS: "20",
        SHARD_OVERRIDES: "check-sharded=3",
      }),
      // also: tight rate limits, so 429s can be tested without flooding
      phaseProject(
        "workers-kv",
        { PERSISTENCE_ENABLED: "false", RATE_LIMIT_SERVICE_LOGS_PER_S: "500" },
        {
          ratelimits: { KEY_RATE_LIMITER: { simple: { limit: 60, period: 10 } } },
        },
      ),
      ...contractProject,
      // `e2e`: the real thing from Node: `wrangler dev` (scripts/dev.mjs) on a free port, the
      // dashboard in the npm-registry Chromium (test/e2e/browser.ts) and the tail CLI (test/e2e/).
      {
        test: {
          name: "e2e",
          environment: "node",
          include: ["test/e2e/**/*.e2e.test.ts"],
          testTimeout: 60_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
