// GET /api/services, /api/services/:service/stats and /api/services/:service/error-rate.
// Without `domain`, a service's numbers are summed over every domain it was seen in.
import { aggregator } from "./aggregators.js";
import { Hono } from "hono";
import { z } from "zod";
import { evaluateErrorRate } from "../core/error-rate.js";
import { addCounts, emptyCounts, type SeriesPoint } from "../core/rolling-counters.js";
import { HOUR_MS, MINUTE_MS } from "../core/duration.js";
import { ApiError } from "../errors.js";
import { DEFAULT_DOMAIN, SERVICE_NAME_RE } from "../schema/log-entry.js";
import { shardNames } from "../core/sharding.js";
import { ErrorRateQuery, StatsQuery } from "../schema/query.js";
import type { StatsSnapshot } from "../../objects/log-aggregator.js";
import { type AppContext, type AppEnv, parseQuery, requireKey } from "./context.js";
import { fanOut, knownServices, resolveTargets } from "./targets.js";

export const serviceRoutes = new Hono<AppEnv>();

serviceRoutes.get("/api/services", async (c) => {
  const principal = await requireKey(c, "read");
  parseQuery(c, z.object({}).strict()); // no parameters: a typo is 400, not a silent default
  const targets = await resolveTargets(c.env, principal, {});
  const snaps = await fanOut(targets, (t) => aggregator(c.env, t.name).stats(MINUTE_MS, "1m"));
  // one row per domain/service, its shards summed
  const rows = new Map<
    string,
    { service: string; domain: string; first_seen: number; last_seen: number; counts: Windows }
  >();
  targets.forEach((t, i) => {
    const key = `${t.domain}/${t.service}`;
    const row = rows.get(key) ?? {
      service: t.service,
      domain: t.domain,
      first_seen: t.first_seen,
      last_seen: t.last_seen,
      counts: emptyWindows(),
    };
    row.counts = addWindows(row.counts, snaps[i].windows);
    rows.set(key, row);
  });
  return c.json({ services: [...rows.values()] });
});

type Windows = StatsSnapshot["windows"];
const WINDOW_NAMES = ["1m", "5m", "15m", "1h", "24h"] as const;
const emptyWindows = (): Windows => ({
  "1m": emptyCounts(),
  "5m": emptyCounts(),
  "15m": emptyCounts(),
  "1h": emptyCounts(),
  "24h": emptyCounts(),
});
function addWindows(a: Windows, b: Windows): Windows {
  const out = emptyWindows();
  for (const w of WINDOW_NAMES) out[w] = addCounts(a[w], b[w]);
  return out;
}

/** The aggregators of one service: the given domain, or every domain the registry knows. */
async function serviceTargets(
  c: AppContext,
  domain: string | undefined,
): Promise<{ service: string; names: string[]; domains: string[] }> {
  const principal = await requireKey(c, "read");
  const service = c.req.param("service") ?? "";
  if (!SERVICE_NAME_RE.test(service)) {
    throw new ApiError("invalid_request", 400, "service: must be 1-128 characters of [A-Za-z0-9._-]", [
      { path: "service", message: "malformed service name" },
    ]);
  }
  principal.assertService(service);
  let domains: string[];
  if (domain !== undefined) domains = [domain.toLowerCase()];
  else {
    domains = (await knownServices(c.env)).filter((s) => s.service === service).map((s) => s.domain);
    if (domains.length === 0) domains = [DEFAULT_DOMAIN];
  }
  const config = c.get("config");
  return { service, domains, names: domains.flatMap((d) => shardNames(config, d, service)) };
}

function sumSeries(all: SeriesPoint[][]): SeriesPoint[] {
  const [first, ...rest] = all;
  if (!first) return [];
  return first.map((p, i) => {
    const out = { ...p };
    for (const s of rest) {
      const q = s[i];
      if (!q) continue;
      out.error += q.error;
      out.warn += q.warn;
      out.info += q.info;
      out.debug += q.debug;
    }
    return out;
  });
}

serviceRoutes.get("/api/services/:service/stats", async (c) => {
  const q = parseQuery(c, StatsQuery);
  const { service, names, domains } = await serviceTargets(c, q.domain);
  const resolution = q.resolution ?? "1m";
  const windowMs = Math.min(
    q.window ?? (resolution === "1s" ? 5 * MINUTE_MS : HOUR_MS),
    resolution === "1s" ? 5 * MINUTE_MS : 24 * HOUR_MS,
  );
  const snaps: StatsSnapshot[] = await fanOut(names, (n) => aggregator(c.env, n).stats(windowMs, resolution));
  const windows = snaps.reduce((acc, s) => addWindows(acc, s.windows), emptyWindows());
  return c.json({
    service,
    domain: domains.length === 1 ? domains[0] : "*",
    domains,
    resolution,
    windows,
    series: sumSeries(snaps.map((s) => s.series)),
  });
});

serviceRoutes.get("/api/services/:service/error-rate", async (c) => {
  const q = parseQuery(c, ErrorRateQuery);
  const { service, names, domains } = await serviceTargets(c, q.domain);
  const windowMs = q.window ?? 5 * MINUTE_MS;
  const counts = (await fanOut(names, (n) => aggregator(c.env, n).counts(windowMs))).reduce(addCounts, emptyCounts());
  const result = evaluateErrorRate(counts, q.threshold ?? 0.05, q.min_events ?? 20);
  return c.json(
    {
      service,
      domain: domains.length === 1 ? domains[0] : "*",
      window: q.window === undefined ? "5m" : c.req.query("window"),
      ...result,
    },
    result.ok ? 200 : 503,
  );
});
