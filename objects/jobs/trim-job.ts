// Hot retention: persisted segments past HOT_RETENTION_MS or beyond HOT_MAX_ROWS leave SQLite,
// with old minute counters and expired KV-chunk indexes. Only persisted rows are ever trimmed.
import { DAY_MS, MINUTE_MS } from "../../src/core/duration.js";
import type { Config } from "../../src/config.js";
import { LEVELS, type Level } from "../../src/schema/log-entry.js";
import * as store from "../log-store.js";
import type { ScheduledTask } from "../scheduler.js";
import type { SegmentStore } from "../segment-store.js";
import type { AggregatorParts } from "./context.js";

/** How often the alarm trims hot segments when nothing else is due. */
export const TRIM_INTERVAL_MS = 10 * 60_000;

export class TrimJob implements ScheduledTask {
  readonly name = "trim";
  /** last trim (meta "trimmed_at"), read once at start */
  #trimmedAt = 0;

  constructor(
    private readonly parts: AggregatorParts,
    private readonly persistedSeq: () => number,
  ) {}

  load(): void {
    this.#trimmedAt = Number(store.getMeta(this.parts.sql, "trimmed_at") ?? 0);
  }

  dueAt(): number | null {
    return this.persistedSeq() > 0 && this.parts.store.segmentCount > 0 ? this.#trimmedAt + TRIM_INTERVAL_MS : null;
  }

  async run(now: number): Promise<void> {
    trimHot(this.parts.sql, this.parts.store, this.persistedSeq(), this.parts.config(), now);
    this.#trimmedAt = now;
  }

  /** Retention (DELETE /api/logs/cleanup): entries older than `beforeTs`, optionally of some levels. */
  removeBefore(beforeTs: number, levels?: Level[]): { deleted: number; unpersisted: number } {
    const only = levels?.length ? new Set<Level>(levels) : null;
    const lanes = only ? LEVELS.map((l, i) => (only.has(l) ? i : -1)).filter((i) => i >= 0) : null;
    const removed = this.parts.store.removeWhere(
      (s) => s.minTs < beforeTs && (!lanes || lanes.some((i) => s.levels[i] > 0)),
      (e) => e.timestamp < beforeTs && (!only || only.has(e.level)),
    );
    const persisted = this.persistedSeq();
    return { deleted: removed.length, unpersisted: removed.filter((e) => (e.seq ?? 0) > persisted).length };
  }
}

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
