// Which aggregators a read touches: the registry's known domain/service pairs, narrowed by the
// query and by what the key may read (a key limited to `api` never reaches another service),
// each expanded into its shards (SHARDS_PER_SERVICE / SHARD_OVERRIDES). The registry is read page
// by page, and a fan-out is never cut short: past MAX_FANOUT aggregators it is an explicit 400.
// Also the gate for new services on ingest (admitServices).
import type { Principal } from "../auth.js";
import type { Config } from "../config.js";
import type { Env } from "../env.js";
import { loadConfig } from "../config.js";
import { mapLimit, withDeadline } from "../core/concurrency.js";
import { shardNames } from "../core/sharding.js";
import { ApiError, type ErrorBody, errorBody } from "../errors.js";
import { REGISTRY_NAME, type ServiceInfo } from "../../objects/service-registry.js";

/** One aggregator: a shard of a domain/service. */
export interface Target extends ServiceInfo {
  name: string;
}

/** Every shard of the given domain/service pairs. */
export async function expandShards(env: Env, services: ServiceInfo[]): Promise<Target[]> {
  const config = await loadConfig(env);
  return services.flatMap((s) => shardNames(config, s.domain, s.service).map((name) => ({ ...s, name })));
}

/**
 * At most this many aggregators per fan-out (each is one subrequest; Workers Paid allows 10,000
 * per request by default). Beyond it a query answers 400 and asks to be narrowed by service,
 * never a silently partial answer.
 */
export const MAX_FANOUT = 10_000;
export const FANOUT_CONCURRENCY = 32;
/**
 * Each aggregator call in a fan-out must answer within this: a stuck object turns the request
 * into a 503 naming it, never a request that waits forever.
 */
export const FANOUT_DEADLINE_MS = 30_000;

/** One aggregator call within FANOUT_DEADLINE_MS (past it, DeadlineExceeded: the request answers 503). */
export function withinDeadline<R>(target: string | { name: string }, call: Promise<R>): Promise<R> {
  return withDeadline(call, FANOUT_DEADLINE_MS, `aggregator ${typeof target === "string" ? target : target.name}`);
}

/** `fn` over every target (an aggregator name or a Target), FANOUT_CONCURRENCY at a time, each within the deadline. */
export function fanOut<T extends string | { name: string }, R>(
  targets: readonly T[],
  fn: (target: T, index: number) => Promise<R>,
): Promise<R[]> {
  return mapLimit(targets, FANOUT_CONCURRENCY, (t, i) => withinDeadline(t, fn(t, i)));
}

/**
 * fanOut for reports that must answer whatever one aggregator does (/health, /metrics): a call
 * that fails or misses the deadline is logged and gives null.
 */
export function fanOutSettled<T extends string | { name: string }, R>(
  targets: readonly T[],
  fn: (target: T) => Promise<R>,
): Promise<(R | null)[]> {
  return mapLimit(targets, FANOUT_CONCURRENCY, (t) =>
    withinDeadline(t, fn(t)).catch((err: unknown) => {
      const name = typeof t === "string" ? t : t.name;
      console.error("aggregator did not answer", name, err instanceof Error ? err.message : String(err));
      return null;
    }),
  );
}

/** Every registered domain/service, read page by page (REGISTRY_PAGE_SIZE rows per RPC). */
export async function knownServices(env: Env): Promise<ServiceInfo[]> {
  const registry = env.SERVICE_REGISTRY.getByName(REGISTRY_NAME);
  const out: ServiceInfo[] = [];
  let after: { service: string; domain: string } | null = null;
  do {
    const page: Awaited<ReturnType<typeof registry.listPage>> = await registry.listPage(after);
    out.push(...page.services);
    after = page.next;
  } while (after);
  return out;
}

function tooManyAggregators(n: number): ApiError {
  return new ApiError(
    "invalid_request",
    400,
    `this query reaches ${n} aggregators, more than ${MAX_FANOUT} per request: name services with service=`,
    [{ path: "service", message: `more than ${MAX_FANOUT} aggregators; narrow by service` }],
  );
}

export async function resolveTargets(
  env: Env,
  principal: Principal,
  opts: { services?: string[]; domains?: string[] },
  /** uncapped: the caller walks the targets itself and stops at a hit (get-by-id) */
  mode: { uncapped?: boolean } = {},
): Promise<Target[]> {
  if (opts.services) for (const s of opts.services) principal.assertService(s);
  // Named services: only their rows (one small RPC); otherwise the whole registry, page by page.
  const all = opts.services
    ? await env.SERVICE_REGISTRY.getByName(REGISTRY_NAME).find(opts.services, opts.domains ?? null)
    : await knownServices(env);
  const matching = all.filter(
    (s) =>
      principal.canAccess(s.service) &&
      (!opts.services || opts.services.includes(s.service)) &&
      (!opts.domains || opts.domains.includes(s.domain)),
  );
  const targets = await expandShards(env, matching);
  if (!mode.uncapped && targets.length > MAX_FANOUT) throw tooManyAggregators(targets.length);
  return targets;
}

/** "<domain>/<service>" → its parts (domains and services never hold "/"). */
export function splitAggregatorName(name: string): { domain: string; service: string } {
  const i = name.indexOf("/");
  return { domain: name.slice(0, i), service: name.slice(i + 1) };
}

/**
 * Domain/service pairs this isolate knows are registered: most ingest requests name only known
 * services and skip the registry round trip. Bounded: cleared when full (the next requests ask
 * the registry again, which is only slower).
 */
const admittedHere = new Set<string>();
const ADMITTED_CACHE_MAX = 10_000;

/**
 * The ingest gate for new services (issue 16, item 3): pairs not registered yet are registered
 * by the registry up to NEW_SERVICES_PER_MINUTE per API key; the refused ones come back as
 * `aggregatorName → error` (rate_limited, with the reason), so the ingest route rejects their
 * entries, counted like any other rejection. Called once per ingest request.
 */
export async function admitServices(
  env: Env,
  config: Config,
  principal: Principal,
  pairs: { domain: string; service: string }[],
): Promise<{ refused: Map<string, ErrorBody["error"]>; retryAfterMs: number }> {
  const refused = new Map<string, ErrorBody["error"]>();
  const unknown = pairs.filter((p) => principal.canAccess(p.service) && !admittedHere.has(`${p.domain}/${p.service}`));
  if (unknown.length === 0) return { refused, retryAfterMs: 0 };
  const registry = env.SERVICE_REGISTRY.getByName(REGISTRY_NAME);
  const perMinute = principal.key.newServicesPerMinute ?? config.newServicesPerMinute;
  const r = await registry.admit(principal.key.name, unknown, Date.now(), perMinute);
  const refusedKeys = new Set(r.refused.map((p) => `${p.domain}/${p.service}`));
  for (const p of unknown) {
    const key = `${p.domain}/${p.service}`;
    if (refusedKeys.has(key)) {
      refused.set(
        key,
        errorBody(
          "rate_limited",
          `service "${p.service}" is new, and this key already created ${perMinute} services this minute (NEW_SERVICES_PER_MINUTE); retry later with the same ids`,
        ).error,
      );
      continue;
    }
    if (admittedHere.size >= ADMITTED_CACHE_MAX) admittedHere.clear();
    admittedHere.add(key);
  }
  return { refused, retryAfterMs: refused.size > 0 ? r.retryAfterMs : 0 };
}
