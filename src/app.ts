// Builds the logger's Hono app: config gate, routes, and the one error handler that turns every
// failure into the contract's JSON error body.
import { Hono } from "hono";
import { loadConfig } from "./config.js";
import { installErrorHandlers } from "./http/error-handlers.js";
import type { AppEnv } from "./http/context.js";
import { adminRoutes, healthReport } from "./http/admin.js";
import { analyticsRoutes } from "./http/analytics.js";
import { patternRoutes } from "./http/patterns.js";
import { checkRoutes } from "./http/checks.js";
import { dashboardRoutes } from "./http/dashboard.js";
import { ingestRoutes } from "./http/ingest.js";
import { tailRoutes } from "./http/tail.js";
import { logRoutes } from "./http/logs.js";
import { serviceRoutes } from "./http/services.js";
import { metricsRoutes } from "./http/metrics.js";
import { openapiRoutes } from "./http/openapi.js";
import { otlpRoutes } from "./http/otlp.js";
import { lokiRoutes } from "./http/loki.js";

export function buildApp(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  // 200 whenever the Worker runs; the body says what works.
  app.get("/health", async (c) => c.json(await healthReport(c.env)));
  app.route("/", dashboardRoutes); // GET / and /assets/*: no key, works without API_KEYS
  app.route("/", openapiRoutes); // GET /openapi.json: no key, works without API_KEYS

  app.use("*", async (c, next) => {
    c.set("config", await loadConfig(c.env));
    await next();
  });

  app.route("/", ingestRoutes);
  app.route("/", adminRoutes);
  app.route("/", analyticsRoutes); // before logRoutes: /api/logs/aggregate is not an id
  app.route("/", patternRoutes);
  app.route("/", checkRoutes);
  app.route("/", logRoutes);
  app.route("/", serviceRoutes);
  app.route("/", tailRoutes);
  app.route("/", otlpRoutes); // POST /v1/logs
  app.route("/", lokiRoutes); // POST /loki/api/v1/push
  app.route("/", metricsRoutes); // GET /metrics

  installErrorHandlers(app);
  return app;
}
