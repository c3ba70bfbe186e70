// The shapes the LogAggregator's RPC methods answer with (shared by the Worker's routes).
import type { Pattern } from "../src/schema/pattern.js";
import type { StoredLogEntry } from "../src/schema/log-entry.js";
import type { StatsSnapshot } from "./live-counters.js";
import type { RejectionCounts } from "../src/core/rejections.js";

export interface IngestedEntry {
  id: string;
  seq: number;
  /** true when the id was already stored: the first entry stays (idempotent retry). */
  duplicate: boolean;
}

export interface IngestOutcome {
  entries: IngestedEntry[];
  /** set when the service's rate limit refused the whole batch: nothing was stored */
  rateLimited?: { retryAfterMs: number };
}

export interface SearchPage {
  logs: StoredLogEntry[];
  /** newest timestamp among rows trimmed from this aggregator (0 = none): older rows may live only in the data service */
  trimmedThroughTs: number;
  /** a text search stopped at its scan budget here: rows beyond were not examined */
  scannedThrough?: { ts: number; seq: number };
}

/** What the aggregator reports to /health, /metrics and the admin API. */
export interface AggregatorHealth {
  pending: number;
  dead_letters: number;
  failures: number;
  last_error: string | null;
  next_retry_at: number;
  flushed_total: number;
  flush_failed_total: number;
  rejected: RejectionCounts;
}

/** KV snapshot: live numbers for dashboards and global reads, at most one write per SNAPSHOT_INTERVAL_MS. */
export interface ServiceSnapshot {
  service: string;
  domain: string;
  updated_at: number;
  windows: StatsSnapshot["windows"];
  series: StatsSnapshot["series"];
  recent_errors: StoredLogEntry[];
  /** the 10 most frequent patterns of the last hour, with per-minute trends */
  top_patterns: Pattern[];
  pending: number;
  dead_letters: number;
}

/** Entries the Worker rejected for this service, by the level they claimed ("unknown" if none). */
export interface RejectedCounts {
  error: number;
  warn: number;
  info: number;
  debug: number;
  unknown: number;
}

/** Monotonic counters for GET /metrics. */
export interface AggregatorMetrics {
  service: string;
  domain: string;
  received: { error: number; warn: number; info: number; debug: number };
  rejected: RejectedCounts;
  rejected_by_reason?: RejectionCounts;
  duplicates: number;
  rate_limited: number;
  flushed_total: number;
  flush_failed_total: number;
  dead_lettered_total: number;
  pending: number;
  dead_letters: number;
  tail_subscribers: number;
  tail_dropped_total: number;
  patterns: number;
  patterns_evicted_total: number;
  /** SQLite rows written by this instance since it started (cursor.rowsWritten of every statement) */
  rows_written_total?: number;
  segments?: number;
}
