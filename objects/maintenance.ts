// Two of the alarm's jobs as plain functions over the aggregator's parts: trimming hot segments
// and pushing mined patterns to the data service. The scheduler decides when; these decide how.
import { DAY_MS, MINUTE_MS } from "../src/core/duration.js";
import type { Config } from "../src/config.js";
import { DataServiceClient } from "../src/data-service-client.js";
import type { Env } from "../src/env.js";
import * as store from "./log-store.js";
import type { PatternEngine } from "./pattern-engine.js";
import type { SegmentStore } from "./segment-store.js";

/**
 * Deletes persisted segments past hot retention (HOT_RETENTION_MS) or beyond HOT_MAX_ROWS, old
 * minute counters and expired KV-chunk indexes. In the KV-only phase the trimmed entries' ids
 * are kept with their chunk, so get-by-id still finds them.
 */
export function trimHot(
  sql: SqlStorage,
  segments: SegmentStore,
  persistedSeq: number,
  config: Config,
  now: number,
): void {
  store.setMeta(sql, "trimmed_at", String(now));
  const { deleted, maxTs, removed } = segments.trim(persistedSeq, now - config.hotRetentionMs, config.hotMaxRows);
  if (deleted > 0) {
    const prev = Number(store.getMeta(sql, "trimmed_through_ts") ?? 0);
    store.setMeta(sql, "trimmed_through_ts", String(Math.max(prev, maxTs)));
    if (!config.persistenceEnabled) store.archiveIds(sql, removed.flat());
  }
  sql.exec("DELETE FROM counter_minutes WHERE minute <= ?", Math.floor((now - DAY_MS) / MINUTE_MS));
  const expired = sql.exec<{ key: string }>("SELECT key FROM kv_chunks WHERE expires_at <= ?", now).toArray();
  for (const { key } of expired) {
    sql.exec("DELETE FROM archived_ids WHERE chunk = ?", key);
    sql.exec("DELETE FROM kv_chunks WHERE key = ?", key);
  }
}

/** Upserts mined patterns with cumulative counts (the data service keeps the max: retries are harmless). */
export async function pushPatterns(
  patterns: PatternEngine,
  service: string,
  config: Config,
  env: Env,
  now: number,
): Promise<boolean> {
  const list = patterns.list(
    service,
    { start: 0, end: Number.MAX_SAFE_INTEGER, bucketMs: DAY_MS, minFrequency: 1, limit: 1000, withTrend: false },
    now,
  );
  if (list.length === 0) return false;
  const client = DataServiceClient.fromEnv(config, env);
  try {
    const res = await client!.forward("POST", "/api/logs/patterns/learn", {
      patterns: list.map(
        ({ id, pattern, name, type, severity, category, frequency, first_seen, last_seen, services }) => ({
          id,
          pattern,
          name,
          type,
          severity,
          category,
          frequency,
          first_seen,
          last_seen,
          services,
        }),
      ),
    });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    return true;
  } catch (err) {
    // Patterns are derived data: the next run sends them again.
    console.error("pattern push failed", err instanceof Error ? err.message : String(err));
    return false;
  }
}
