// Worker entry: the Hono app for HTTP, and the Durable Object classes wrangler binds.
import { buildApp } from "./app.js";
import type { Env } from "./env.js";

export { LogAggregator } from "../objects/log-aggregator.js";
export { ServiceRegistry } from "../objects/service-registry.js";

const app = buildApp();

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Env>;
