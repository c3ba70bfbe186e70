// POST /api/logs and /api/logs/batch: validate per entry, group by domain/service, hand each
// group to its LogAggregator over RPC. A 2xx means every accepted entry is in SQLite.
import { aggregator } from "./aggregators.js";
import { Hono } from "hono";
import { nanoid } from "nanoid";
import { errorBody, ApiError, type ErrorCode, type ErrorBody } from "../errors.js";
import { shardCount, shardName, shardOf } from "../core/sharding.js";
import {
  aggregatorName,
  DEFAULT_DOMAIN,
  DomainName,
  type NormalisedLogEntry,
  SERVICE_NAME_RE,
} from "../schema/log-entry.js";
import type { RejectedCounts } from "../../objects/log-aggregator.js";
import {
  entriesOf,
  type IngestResponse,
  type IngestResult,
  MAX_BATCH_ENTRIES,
  validateEntries,
} from "../schema/ingest.js";
import type { Principal } from "../auth.js";
import type { Env } from "../env.js";
import { readJsonBody } from "./body.js";
import { previewOf, reasonOf, type RejectionRecord } from "../core/rejections.js";
import { toLevel } from "../core/levels.js";
import { UNKNOWN_SERVICE } from "../core/otlp-mapping.js";
import { loadConfig } from "../config.js";
import { type AppEnv, requireKey } from "./context.js";
import { admitServices, splitAggregatorName } from "./targets.js";

export const ingestRoutes = new Hono<AppEnv>();

ingestRoutes.post("/api/logs", async (c) =>
  c.json(...(await handleIngest(c.env, await requireKey(c, "ingest"), c.req.raw, true))),
);
ingestRoutes.post("/api/logs/batch", async (c) =>
  c.json(...(await handleIngest(c.env, await requireKey(c, "ingest"), c.req.raw, false))),
);

type Status = 202 | 400 | 403 | 429 | 503;

type IngestReply = IngestResponse | (IngestResponse & ErrorBody);

export async function handleIngest(
  env: Env,
  principal: Principal,
  req: Request,
  allowSingle: boolean,
): Promise<[IngestReply, Status]> {
  const body = await readJsonBody(req);
  const raw = entriesOf(body, allowSingle);
  // `?service=` names the service for entries that carry none (pino and winston objects).
  const service = new URL(req.url).searchParams.get("service") ?? undefined;
  if (!Array.isArray(raw)) throw new ApiError("invalid_request", 400, `${raw.path || "body"}: ${raw.message}`, [raw]);
  if (raw.length > MAX_BATCH_ENTRIES) {
    throw new ApiError(
      "payload_too_large",
      413,
      `a batch holds at most ${MAX_BATCH_ENTRIES} entries (got ${raw.length})`,
    );
  }
  return ingestEntries(
    env,
    principal,
    raw,
    allowSingle && !Array.isArray(body) && !Array.isArray((body as { logs?: unknown }).logs) ? "" : "logs",
    { service },
  );
}

/** Validates, groups and stores entries; shared by the JSON, OTLP and Tail Worker paths. */
export async function ingestEntries(
  env: Env,
  principal: Principal,
  raw: unknown[],
  pathPrefix = "logs",
  defaults: { service?: string } = {},
  extraRejections: RejectionRecord[] = [],
): Promise<[IngestReply, Status]> {
  // Redaction happens here, before the aggregator: storage, tail and patterns see redacted text.
  const config = await loadConfig(env);
  const { redaction } = config;
  const { valid, rejected } = validateEntries(raw, Date.now(), () => nanoid(), pathPrefix, redaction, defaults);
  const results: IngestResult[] = [...rejected];
  // New services per key and minute are limited (NEW_SERVICES_PER_MINUTE): refused ones are rejected below.
  const admission = await admitServices(
    env,
    config,
    principal,
    valid.map((v) => v.entry),
  );

  const groups = new Map<string, { index: number; entry: NormalisedLogEntry }[]>();
  for (const v of valid) {
    if (!principal.canAccess(v.entry.service)) {
      results.push({
        index: v.index,
        error: errorBody("forbidden", `this key may not write to service "${v.entry.service}"`, [
          {
            path: pathPrefix === "" ? "service" : `${pathPrefix}.${v.index}.service`,
            message: "not allowed for this key",
          },
        ]).error,
      });
      continue;
    }
    const refusal = admission.refused.get(aggregatorName(v.entry.domain, v.entry.service));
    if (refusal) {
      results.push({ index: v.index, error: refusal });
      continue;
    }
    // A hot service is spread over shards by id, so a retried id reaches the same shard.
    const name = shardName(v.entry.domain, v.entry.service, shardOf(v.entry.id, shardCount(config, v.entry.service)));
    let g = groups.get(name);
    if (!g) groups.set(name, (g = []));
    g.push(v);
  }

  // Every refusal is counted and kept (objects/rejections.ts) on the service it names, or on
  // unknown_service when it names none that is valid: a 202 with rejections is never silent.
  const rejectedBy = new Map<string, RejectedCounts>();
  const recordsBy = new Map<string, RejectionRecord[]>();
  const addRecord = (record: RejectionRecord) => {
    const name = aggregatorName(record.domain, record.service);
    let list = recordsBy.get(name);
    if (!list) recordsBy.set(name, (list = []));
    list.push(record);
    if (!groups.has(name)) groups.set(name, []);
  };
  for (const r of extraRejections) addRecord(r);
  const refused = results.flatMap((r) => ("error" in r ? [r] : []));
  for (const r of refused) {
    const item = raw[r.index] as { service?: unknown; domain?: unknown; level?: unknown } | null;
    const named = typeof item === "object" && item !== null && !Array.isArray(item) ? item : {};
    const claimed =
      typeof named.service === "string" && SERVICE_NAME_RE.test(named.service)
        ? named.service
        : defaults.service !== undefined && SERVICE_NAME_RE.test(defaults.service)
          ? defaults.service
          : UNKNOWN_SERVICE;
    // A key never creates an aggregator for a service it may not write: such refusals (and the
    // forbidden ones) are filed under unknown_service, one bounded ring.
    const service = r.error.code !== "forbidden" && principal.canAccess(claimed) ? claimed : UNKNOWN_SERVICE;
    const domain =
      typeof named.domain === "string" && DomainName.safeParse(named.domain).success
        ? named.domain.toLowerCase()
        : DEFAULT_DOMAIN;
    const detail = r.error.details?.[0];
    const prefix = pathPrefix === "" ? "" : `${pathPrefix}.${r.index}`;
    const field = detail?.path.slice(prefix ? prefix.length + 1 : 0).split(".")[0];
    addRecord({
      service,
      domain,
      reason: reasonOf(r.error.code, field),
      path: detail?.path ?? prefix,
      message: r.error.message,
      entry: previewOf(item),
    });
    if (r.error.code === "forbidden") continue;
    const name = aggregatorName(domain, service);
    const counts = rejectedBy.get(name) ?? { error: 0, warn: 0, info: 0, debug: 0, unknown: 0 };
    counts[typeof named.level === "string" || typeof named.level === "number" ? toLevel(named.level) : "unknown"]++;
    rejectedBy.set(name, counts);
  }
  // Counting rejections must not create a new service past the limit either.
  const countOnly = [...groups].filter(([, g]) => g.length === 0).map(([name]) => splitAggregatorName(name));
  for (const name of (await admitServices(env, config, principal, countOnly)).refused.keys()) groups.delete(name);

  let retryAfterMs = admission.retryAfterMs;
  await Promise.all(
    [...groups].map(async ([name, group]) => {
      try {
        const outcome = await aggregator(env, name).ingest(
          group.map((g) => g.entry),
          rejectedBy.get(name),
          recordsBy.get(name),
        );
        if (outcome.rateLimited) {
          retryAfterMs = Math.max(retryAfterMs, outcome.rateLimited.retryAfterMs);
          const message = `service "${group[0].entry.service}" is over its ingest rate limit; retry later with the same ids`;
          for (const g of group) results.push({ index: g.index, error: errorBody("rate_limited", message).error });
        }
        outcome.entries.forEach((e, i) => {
          results.push(
            e.duplicate ? { index: group[i].index, id: e.id, duplicate: true } : { index: group[i].index, id: e.id },
          );
        });
      } catch (err) {
        // Not acknowledged: the client retries with the same ids, which is idempotent.
        console.error("ingest failed", name, err instanceof Error ? err.message : String(err));
        for (const g of group) {
          results.push({
            index: g.index,
            error: errorBody("upstream_unavailable", "storage is unavailable; retry with the same ids").error,
          });
        }
      }
    }),
  );

  results.sort((a, b) => a.index - b.index);
  const accepted = results.filter((r) => "id" in r).length;
  const response: IngestResponse = { accepted, rejected: results.length - accepted, results };
  if (accepted > 0) return [response, 202];
  // Nothing stored: an error body (contract §2) that still carries the per-index results.
  const errors = results.flatMap((r) => ("error" in r ? [r.error] : []));
  const codes = new Set(errors.map((e) => e.code));
  const [code, status]: [ErrorCode, Status] =
    codes.size === 1 && codes.has("rate_limited")
      ? ["rate_limited", 429]
      : codes.size === 1 && codes.has("forbidden")
        ? ["forbidden", 403]
        : codes.size === 1 && codes.has("upstream_unavailable")
          ? ["upstream_unavailable", 503]
          : ["invalid_request", 400];
  const details = errors.flatMap((e) => e.details ?? []).slice(0, 100);
  const message = errors.length === 1 ? errors[0].message : `none of the ${errors.length} entries was accepted`;
  if (status === 429) {
    throw new ApiError("rate_limited", 429, message, undefined, {
      "retry-after": String(Math.max(1, Math.ceil(retryAfterMs / 1000))),
    });
  }
  return [{ ...errorBody(code, message, details), ...response }, status];
}
