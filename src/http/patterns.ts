// Pattern endpoints. Live answers come from the aggregators' miners (the last 24 h, merged by
// template across services); ranges reaching further back are the data service's (history).
import { Hono } from "hono";
import { DAY_MS } from "../core/duration.js";
import { LEARNED_KEY, type LearnedPattern, MAX_LEARNED_PATTERNS } from "../core/learned-patterns.js";
import { mergePatterns } from "../core/pattern-merge.js";
import { maskVariables, templateSimilarity } from "../core/pattern-miner.js";
import { DataServiceClient } from "../data-service-client.js";
import type { Env } from "../env.js";
import { ApiError, invalidRequest } from "../errors.js";
import {
  ANALYZE_RULES,
  AnalyzePatternsRequest,
  autoBucket,
  DEFAULT_MIN_SIMILARITY,
  isSpiking,
  PatternsAnalyticsQuery,
  resolveRange,
  SimilarPatternsQuery,
  TIME_BUCKET_MS,
} from "../schema/analytics.js";
import { derivePatternId, LearnPatternsRequest, type Pattern } from "../schema/pattern.js";
import type { Principal } from "../auth.js";
import { aggregator } from "./aggregators.js";
import { readJsonBody } from "./body.js";
import { type AppContext, type AppEnv, parseQuery, requireKey } from "./context.js";
import { expandShards, fanOut, knownServices, resolveTargets } from "./targets.js";

export const patternRoutes = new Hono<AppEnv>();

async function livePatterns(
  c: AppContext,
  principal: Principal,
  services: string[] | undefined,
  start: number,
  end: number,
  bucketMs: number,
  withTrend: boolean,
): Promise<Pattern[]> {
  const targets = await resolveTargets(c.env, principal, { services });
  const lists = await fanOut(targets, (t) =>
    aggregator(c.env, t.name).patterns({ start, end, bucketMs, minFrequency: 1, limit: 1000, withTrend }),
  );
  return mergePatterns(lists);
}

async function relayToDataService(c: AppContext, method: string, path: string, body?: unknown): Promise<Response> {
  const client = DataServiceClient.fromEnv(c.get("config"), c.env);
  if (!client)
    throw new ApiError("invalid_request", 400, "ranges older than 24 h need a data service (KV-only phase)", [
      { path: "start_time", message: "out of the live range" },
    ]);
  const res = await client.forward(method, path, body);
  return new Response(await res.text(), {
    status: res.status >= 500 ? 502 : res.status,
    headers: { "content-type": "application/json" },
  });
}

patternRoutes.get("/api/logs/analytics/patterns", async (c) => {
  const principal = await requireKey(c, "read");
  const q = parseQuery(c, PatternsAnalyticsQuery);
  const now = Date.now();
  const { start, end } = resolveRange(q, now);
  if (q.service) for (const s of q.service) principal.assertService(s);
  if (start < now - DAY_MS - 60_000) {
    const url = new URL(c.req.url);
    url.searchParams.delete("token");
    if (!q.service && principal.key.services) url.searchParams.set("service", [...principal.key.services].join(","));
    return relayToDataService(c, "GET", `${url.pathname}?${url.searchParams}`);
  }
  const bucket = q.time_bucket ?? autoBucket(end - start);
  const merged = await livePatterns(c, principal, q.service, start, end + 1, TIME_BUCKET_MS[bucket], true);
  const patterns = merged.filter((p) => p.frequency >= (q.min_frequency ?? 1)).slice(0, q.limit ?? 100);
  return c.json({ start_time: start, end_time: end, time_bucket: bucket, patterns });
});

patternRoutes.get("/api/logs/patterns/similar", async (c) => {
  const principal = await requireKey(c, "read");
  const q = parseQuery(c, SimilarPatternsQuery);
  const now = Date.now();
  const candidates = await livePatterns(c, principal, undefined, now - DAY_MS, now + 1, DAY_MS, false);
  let target: string;
  let self: string | undefined;
  if (q.pattern_id) {
    const found = candidates.find((p) => p.id === q.pattern_id) ?? (await findPattern(c, principal, q.pattern_id));
    if (!found) throw new ApiError("not_found", 404, `no pattern with id "${q.pattern_id}"`);
    target = found.pattern;
    self = found.pattern;
  } else target = maskVariables(q.message!);
  const min = q.min_similarity ?? DEFAULT_MIN_SIMILARITY;
  const scored = candidates
    .filter((p) => p.pattern !== self)
    .map((p) => ({ ...p, similarity: Math.round(templateSimilarity(target, p.pattern) * 1000) / 1000 }))
    .filter((p) => p.similarity >= min)
    .sort((a, b) => b.similarity - a.similarity || b.frequency - a.frequency);
  return c.json({ patterns: scored.slice(0, q.limit ?? 10) });
});

/** A pattern id that merged into another one still resolves (the miner keeps aliases). */
async function findPattern(c: AppContext, principal: Principal, id: string): Promise<Pattern | undefined> {
  const targets = await resolveTargets(c.env, principal, {});
  const found = await fanOut(targets, (t) => aggregator(c.env, t.name).pattern(id));
  return found.find((p): p is Pattern => p !== null);
}

patternRoutes.post("/api/logs/analyze/patterns", async (c) => {
  const principal = await requireKey(c, "read");
  const raw = await readJsonBody(c.req.raw);
  const parsed = AnalyzePatternsRequest.safeParse(raw);
  if (!parsed.success) throw invalidRequest(parsed.error);
  const r = parsed.data;
  if (r.services) for (const s of r.services) principal.assertService(s);
  const end = r.end_time ?? Date.now();
  const start = end - r.time_range;
  if (start < Date.now() - DAY_MS - 60_000) {
    const body =
      r.services || !principal.key.services ? raw : { ...(raw as object), services: [...principal.key.services] };
    return relayToDataService(c, "POST", "/api/logs/analyze/patterns", body);
  }
  const bucketMs = Math.ceil(r.time_range / r.buckets);
  const merged = await livePatterns(c, principal, r.services, start, end, bucketMs, true);
  const newSince = end - ANALYZE_RULES.new_fraction * r.time_range;
  const analyzed = merged
    .map((p) => ({
      ...p,
      trend: p.trend ?? [],
      new: p.first_seen >= newSince,
      spiking: isSpiking((p.trend ?? []).map((t) => t.count)),
    }))
    // A new error pattern is reported however rare: one occurrence of a new failure matters.
    .filter((p) => p.frequency >= r.min_frequency || (p.new && p.type === "error"))
    .sort((a, b) => Number(b.new || b.spiking) - Number(a.new || a.spiking) || b.frequency - a.frequency)
    .slice(0, r.limit);
  return c.json({ start_time: start, end_time: end, bucket_ms: bucketMs, rules: ANALYZE_RULES, patterns: analyzed });
});

/** The learned set, shared by every aggregator (they read it on start; changes are pushed). */
export async function loadLearned(env: Env): Promise<LearnedPattern[]> {
  return (await env.LOGS_KV.get<LearnedPattern[]>(LEARNED_KEY, "json")) ?? [];
}

/**
 * A key limited to some services learns for those services only (issue 16, item 4): its patterns
 * carry `services` (the key's, or a subset it names) and label only those services' logs; their
 * ids are derived from scope + text, so they never collide with another service's pattern in the
 * data service; and it may not replace a learned pattern that reaches beyond its services.
 */
patternRoutes.post("/api/logs/patterns/learn", async (c) => {
  const principal = await requireKey(c, "admin");
  const parsed = LearnPatternsRequest.safeParse(await readJsonBody(c.req.raw));
  if (!parsed.success) throw invalidRequest(parsed.error, "");
  const scope = principal.key.services ? [...principal.key.services].sort() : undefined;
  const current = new Map((await loadLearned(c.env)).map((p) => [p.id, p]));
  const forbidden = (path: string, message: string) =>
    new ApiError("forbidden", 403, `${path}: ${message}`, [{ path, message }]);
  const withinScope = (p: LearnedPattern | undefined) =>
    !scope || p === undefined || p.services?.every((s) => scope.includes(s)) === true;
  const learned: LearnedPattern[] = parsed.data.patterns.map((p, i) => {
    let services: string[] | undefined;
    if (scope) {
      const outside = (p.services ?? []).find((s) => !scope.includes(s));
      if (outside) throw forbidden(`patterns.${i}.services`, `this key may not learn for service "${outside}"`);
      if (p.id !== undefined && !current.has(p.id))
        throw forbidden(`patterns.${i}.id`, "a key limited to some services may only name ids it learned before");
      services = p.services?.length ? [...new Set(p.services)].sort() : scope;
    }
    const id = p.id ?? derivePatternId(scope ? `${scope.join(",")}\n${p.pattern}` : p.pattern);
    if (!withinScope(current.get(id)))
      throw forbidden(`patterns.${i}.id`, "this learned pattern applies to services this key may not touch");
    const l: LearnedPattern = { id, pattern: p.pattern, type: p.type, severity: p.severity };
    if (p.name) l.name = p.name;
    if (p.category) l.category = p.category;
    if (services) l.services = services;
    return l;
  });
  for (const l of learned) current.set(l.id, l);
  if (current.size > MAX_LEARNED_PATTERNS) {
    throw new ApiError("invalid_request", 400, `at most ${MAX_LEARNED_PATTERNS} learned patterns per deployment`, [
      { path: "patterns", message: "too many learned patterns" },
    ]);
  }
  const all = [...current.values()];
  await c.env.LOGS_KV.put(LEARNED_KEY, JSON.stringify(all));
  const targets = await expandShards(c.env, await knownServices(c.env));
  await fanOut(targets, (t) => aggregator(c.env, t.name).setLearnedPatterns(all));
  const client = DataServiceClient.fromEnv(c.get("config"), c.env);
  if (client) {
    const res = await client.forward("POST", "/api/logs/patterns/learn", {
      patterns: parsed.data.patterns.map((p, i) => ({
        ...p,
        id: learned[i].id,
        ...(learned[i].services ? { services: learned[i].services } : {}),
      })),
    });
    if (!res.ok)
      throw new ApiError(
        "upstream_unavailable",
        502,
        `learned patterns are live, but the data service refused them: HTTP ${res.status}`,
      );
  }
  return c.json({ learned: learned.length, total: all.length, patterns: learned });
});
