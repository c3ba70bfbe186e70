// Worker entry: the Hono app for HTTP, and the Durable Object classes wrangler binds.
import { buildApp } from "./app.js";
import { loadConfig } from "./config.js";
import type { Env } from "./env.js";
import { applyRetention } from "./http/admin.js";
import { handleTail } from "./tail-consumer.js";

export { LogAggregator } from "../objects/log-aggregator.js";
export { ServiceRegistry } from "../objects/service-registry.js";
export { TailHub } from "../objects/tail-hub.js";

const app = buildApp();

export default {
  fetch: app.fetch,
  /** Tail Worker consumer: producers with `tail_consumers = [{ service = "edge-logger" }]` (src/tail-consumer.ts). */
  async tail(events, env, _ctx) {
    await handleTail(events, env);
  },
  /** Cron trigger (wrangler.toml): applies RETENTION_DAYS to every service and the data service. */
  async scheduled(_controller, env, _ctx) {
    const config = await loadConfig(env);
    const olderThan = config.retentionDays * 86_400_000;
    const r = await applyRetention(env, config, undefined, { older_than: olderThan }, Date.now(), () => true);
    console.log(`retention: deleted ${r.deleted} logs before ${new Date(r.before).toISOString()}`);
  },
} satisfies ExportedHandler<Env>;
