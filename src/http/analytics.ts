// Historical analytics: summary, aggregate and custom queries are answered by the data service
// (it holds every flushed log; the last FLUSH_INTERVAL_MS may not be there yet). Queries are
// validated here with the same schemas the data service uses, and narrowed to the services the
// key may read, so a limited key can never aggregate another service's logs.
import { Hono } from "hono";
import type { Principal } from "../auth.js";
import { DataServiceClient } from "../data-service-client.js";
import { ApiError, invalidRequest } from "../errors.js";
import { AggregateQuery, CustomAnalyticsQuery, SummaryQuery } from "../schema/analytics.js";
import { readJsonBody } from "./body.js";
import { type AppContext, type AppEnv, parseQuery, requireKey } from "./context.js";

export const analyticsRoutes = new Hono<AppEnv>();

export function dataServiceOrFail(c: AppContext): DataServiceClient {
  const client = DataServiceClient.fromEnv(c.get("config"), c.env);
  if (!client) {
    throw new ApiError(
      "upstream_unavailable",
      503,
      "historical analytics need a data service; this deployment is KV-only (use /api/services/:service/stats for live counts)",
    );
  }
  return client;
}

/** The services a query may touch: what it names (each allowed), or all the key's services. */
function allowedServices(principal: Principal, named: string[] | undefined): string[] | undefined {
  if (named) {
    for (const s of named) principal.assertService(s);
    return named;
  }
  return principal.key.services ? [...principal.key.services] : undefined;
}

async function relay(res: Response): Promise<Response> {
  // The data service speaks the same error contract; 5xx from it are our 502.
  const body = await res.text();
  const status = res.status >= 500 ? 502 : res.status;
  return new Response(body, { status, headers: { "content-type": "application/json" } });
}

function forwardQuery(c: AppContext, services: string[] | undefined): string {
  const url = new URL(c.req.url);
  url.searchParams.delete("token");
  if (services) url.searchParams.set("service", services.join(","));
  return `${url.pathname}?${url.searchParams}`;
}

analyticsRoutes.get("/api/logs/analytics/summary", async (c) => {
  const principal = await requireKey(c, "read");
  const q = parseQuery(c, SummaryQuery);
  return relay(await dataServiceOrFail(c).forward("GET", forwardQuery(c, allowedServices(principal, q.service))));
});

analyticsRoutes.get("/api/logs/aggregate", async (c) => {
  const principal = await requireKey(c, "read");
  const q = parseQuery(c, AggregateQuery);
  return relay(await dataServiceOrFail(c).forward("GET", forwardQuery(c, allowedServices(principal, q.service))));
});

analyticsRoutes.post("/api/logs/analytics/custom", async (c) => {
  const principal = await requireKey(c, "read");
  const raw = await readJsonBody(c.req.raw);
  const parsed = CustomAnalyticsQuery.safeParse(raw);
  if (!parsed.success) throw invalidRequest(parsed.error);
  let body = raw as { filters?: unknown[] };
  if (principal.key.services) {
    // A limited key gets an extra filter: the data service ANDs filters, so this only narrows.
    body = {
      ...body,
      filters: [...(body.filters ?? []), { field: "service", op: "in", value: [...principal.key.services] }],
    };
  }
  return relay(await dataServiceOrFail(c).forward("POST", "/api/logs/analytics/custom", body));
});
