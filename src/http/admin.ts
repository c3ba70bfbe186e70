// Admin and operations routes: POST /api/admin/flush, dead letters, DELETE /api/logs/cleanup,
// and GET /health (no key; a short cache so it can't be used to fan out at will).
import { Hono } from "hono";
import { z } from "zod";
import type { Config } from "../config.js";
import { DataServiceClient } from "../data-service-client.js";
import type { Env } from "../env.js";
import { ApiError } from "../errors.js";
import { CleanupQuery, CleanupResponse } from "../schema/data-service.js";
import { SERVICE_NAME_RE } from "../schema/log-entry.js";
import { Limit } from "../schema/query.js";
import { loadConfig } from "../config.js";
import { aggregator } from "./aggregators.js";
import { REJECTION_RING_SIZE } from "../core/rejections.js";
import { type AppEnv, parseQuery, requireKey } from "./context.js";
import { expandShards, fanOut, fanOutSettled, knownServices, resolveTargets } from "./targets.js";

export const adminRoutes = new Hono<AppEnv>();

const ServiceParam = z
  .object({ service: z.string().regex(SERVICE_NAME_RE).optional(), limit: Limit.optional() })
  .strict();

adminRoutes.post("/api/admin/flush", async (c) => {
  const principal = await requireKey(c, "admin");
  const q = parseQuery(c, ServiceParam);
  const targets = await resolveTargets(c.env, principal, { services: q.service ? [q.service] : undefined });
  const reports = await fanOut(targets, (t) => aggregator(c.env, t.name).flushNow());
  const errors = reports.map((r) => r.last_error).filter((e): e is string => e !== null);
  return c.json({
    flushed: reports.reduce((a, r) => a + r.flushed, 0),
    pending: reports.reduce((a, r) => a + r.pending, 0),
    dead_lettered: reports.reduce((a, r) => a + r.dead_lettered, 0),
    last_error: errors[0] ?? null,
    services: targets.length,
  });
});

adminRoutes.get("/api/admin/dead-letters", async (c) => {
  const principal = await requireKey(c, "admin");
  const q = parseQuery(c, ServiceParam);
  const targets = await resolveTargets(c.env, principal, { services: q.service ? [q.service] : undefined });
  const limit = q.limit ?? 100;
  const lists = await fanOut(targets, (t) => aggregator(c.env, t.name).listDeadLetters(limit));
  return c.json({ dead_letters: lists.flat().slice(0, limit) });
});

adminRoutes.post("/api/admin/dead-letters/replay", async (c) => {
  const principal = await requireKey(c, "admin");
  const q = parseQuery(c, ServiceParam);
  const targets = await resolveTargets(c.env, principal, { services: q.service ? [q.service] : undefined });
  const limit = q.limit ?? 1000;
  const r = await fanOut(targets, (t) => aggregator(c.env, t.name).replayDeadLetters(limit));
  return c.json({ replayed: r.reduce((a, x) => a + x.replayed, 0) });
});

/** The newest refused entries per service, with their reasons (ring of REJECTION_RING_SIZE per aggregator). */
adminRoutes.get("/api/admin/rejected", async (c) => {
  const principal = await requireKey(c, "admin");
  const q = parseQuery(c, ServiceParam);
  const targets = await resolveTargets(c.env, principal, { services: q.service ? [q.service] : undefined });
  const limit = Math.min(q.limit ?? 20, REJECTION_RING_SIZE);
  const reports = await fanOut(targets, (t) => aggregator(c.env, t.name).getRejections(limit));
  const services = reports
    .map((r, i) => ({ ...r, service: targets[i].service, domain: targets[i].domain }))
    .filter((r) => r.recent.length > 0 || Object.values(r.counts).some((n) => n > 0))
    .map((r) => ({
      service: r.service,
      domain: r.domain,
      total: Object.values(r.counts).reduce((a, n) => a + n, 0),
      counts: Object.fromEntries(Object.entries(r.counts).filter(([, n]) => n > 0)),
      recent: r.recent,
    }));
  return c.json({ services, ring_size: REJECTION_RING_SIZE });
});

/** Deletes from the aggregators and the data service; `deleted` counts each log once. */
export async function applyRetention(
  env: Env,
  config: Config,
  services: string[] | undefined,
  q: CleanupQuery,
  now: number,
  canAccess: (s: string) => boolean,
) {
  const before = q.before ?? now - q.older_than!;
  const targets = await expandShards(
    env,
    (await knownServices(env)).filter((s) => canAccess(s.service) && (!services || services.includes(s.service))),
  );
  const results = await fanOut(targets, (t) => aggregator(env, t.name).cleanup(before, q.level));
  const client = DataServiceClient.fromEnv(config, env);
  if (!client) return { deleted: results.reduce((a, r) => a + r.deleted, 0), before };
  // Rows still in the outbox were never in the data service: count them here, the rest there.
  const params = new URLSearchParams({ before: String(before) });
  if (services) params.set("service", services.join(","));
  if (q.level) params.set("level", q.level.join(","));
  const res = await client.forward("DELETE", `/api/logs/cleanup?${params}`);
  if (!res.ok) throw new ApiError("upstream_unavailable", 502, `data service cleanup failed: HTTP ${res.status}`);
  const body = CleanupResponse.safeParse(await res.json());
  if (!body.success)
    throw new ApiError("upstream_unavailable", 502, "data service cleanup answer does not match the contract");
  return { deleted: body.data.deleted + results.reduce((a, r) => a + r.unpersisted, 0), before };
}

adminRoutes.delete("/api/logs/cleanup", async (c) => {
  const principal = await requireKey(c, "admin");
  const q = parseQuery(c, CleanupQuery);
  if (q.service) for (const s of q.service) principal.assertService(s);
  const services = q.service ?? (principal.key.services ? [...principal.key.services] : undefined);
  return c.json(await applyRetention(c.env, c.get("config"), services, q, Date.now(), (s) => principal.canAccess(s)));
});

let healthCache: { at: number; body: unknown } | undefined;
const HEALTH_CACHE_MS = 5_000;
/** Up to this many services /health asks every aggregator afresh; beyond, it caches 5 s. */
const HEALTH_FRESH_SERVICES = 50;
/** /health asks at most this many aggregators (it needs no key); the body says how many of how many. */
const HEALTH_MAX_AGGREGATORS = 1000;

export async function healthReport(env: Env): Promise<unknown> {
  const now = Date.now();
  if (healthCache && now - healthCache.at < HEALTH_CACHE_MS) return healthCache.body;
  let config: Config;
  try {
    config = await loadConfig(env);
  } catch (err) {
    return { status: "misconfigured", error: err instanceof Error ? err.message : String(err) };
  }
  const services = await knownServices(env).catch(() => []);
  // No key needed here, so the aggregators asked are bounded; how many were is in the body.
  const all = await expandShards(env, services);
  const targets = all.slice(0, HEALTH_MAX_AGGREGATORS);
  const reports = await fanOutSettled(targets, (t) => aggregator(env, t.name).health());
  const ok = reports.filter((r) => r !== null);
  const client = DataServiceClient.fromEnv(config, env);
  let dataService: { configured: boolean; reachable?: boolean; error?: string } = { configured: false };
  if (client) {
    try {
      // Any answer below 500 to a contract route proves the service is up; 404 is expected.
      const res = await client.forward("GET", "/api/logs/health-probe-0");
      dataService = { configured: true, reachable: res.status < 500 };
      if (res.status >= 500) dataService.error = `HTTP ${res.status}`;
    } catch (err) {
      dataService = { configured: true, reachable: false, error: err instanceof Error ? err.message : String(err) };
    }
  }
  // Refusals per service (reason → count), services with none left out, at most 100 listed.
  const rejected = reports.flatMap((r, i) => {
    if (r === null || !r.rejected) return [];
    const reasons = Object.fromEntries(Object.entries(r.rejected).filter(([, n]) => n > 0));
    const total = Object.values(reasons).reduce((a, n) => a + n, 0);
    return total > 0 ? [{ service: targets[i].service, domain: targets[i].domain, total, reasons }] : [];
  });
  const body = {
    status: "ok",
    time: now,
    mode: config.persistenceEnabled ? "data-service" : "kv-only",
    data_service: dataService,
    services: services.length,
    flush_backlog: ok.reduce((a, r) => a + r.pending, 0),
    dead_letters: ok.reduce((a, r) => a + r.dead_letters, 0),
    failing_services: ok.filter((r) => r.failures > 0).length,
    last_error: ok.map((r) => r.last_error).find((e) => e !== null) ?? null,
    unreachable_aggregators: reports.length - ok.length,
    rejected_total: rejected.reduce((a, r) => a + r.total, 0),
    rejected: rejected.slice(0, 100),
    aggregators_checked: targets.length,
    aggregators_total: all.length,
  };
  if (services.length > HEALTH_FRESH_SERVICES) healthCache = { at: now, body };
  return body;
}
