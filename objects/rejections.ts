// The aggregator's record of refused entries: monotonic counts per reason (for /metrics and
// /health) and a ring of the last REJECTION_RING_SIZE refusals with their reasons (for
// GET /api/admin/rejected). Small functions over the aggregator's SqlStorage; the tables are
// created on first use, so the aggregator only calls recordRejections / readRejections.
// Bound: 100 rows of at most ~1.6 KB (1 KiB entry preview + 500-char message + path) per
// aggregator; each insert deletes what falls out of the ring.
import {
  clampMessage,
  REJECTION_REASONS,
  REJECTION_RING_SIZE,
  type RejectionCounts,
  type RejectionReason,
  type RejectionRecord,
  zeroCounts,
} from "../src/core/rejections.js";

export interface RecentRejection {
  at: number;
  reason: RejectionReason;
  path: string;
  message: string;
  entry: string;
}

export interface RejectionReport {
  service: string;
  domain: string;
  counts: RejectionCounts;
  recent: RecentRejection[];
}

const migrated = new WeakSet<SqlStorage>();

function migrate(sql: SqlStorage): void {
  if (migrated.has(sql)) return;
  sql.exec(`
    CREATE TABLE IF NOT EXISTS rejection_counts (reason TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS rejections (
      seq INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, reason TEXT NOT NULL,
      path TEXT NOT NULL, message TEXT NOT NULL, entry TEXT NOT NULL
    );
  `);
  migrated.add(sql);
}

export function recordRejections(sql: SqlStorage, records: RejectionRecord[], now: number): void {
  if (records.length === 0) return;
  migrate(sql);
  const by = new Map<string, number>();
  for (const r of records) by.set(r.reason, (by.get(r.reason) ?? 0) + 1);
  for (const [reason, n] of by) {
    sql.exec(
      "INSERT INTO rejection_counts(reason, n) VALUES (?, ?) ON CONFLICT(reason) DO UPDATE SET n = n + excluded.n",
      reason,
      n,
    );
  }
  // Only the last REJECTION_RING_SIZE of a large batch can survive the trim: skip the rest.
  for (const r of records.slice(-REJECTION_RING_SIZE)) {
    sql.exec(
      "INSERT INTO rejections(at, reason, path, message, entry) VALUES (?, ?, ?, ?, ?)",
      now,
      r.reason,
      r.path,
      clampMessage(r.message),
      r.entry,
    );
  }
  sql.exec("DELETE FROM rejections WHERE seq <= (SELECT MAX(seq) FROM rejections) - ?", REJECTION_RING_SIZE);
}

export function rejectionCounts(sql: SqlStorage): RejectionCounts {
  migrate(sql);
  const counts = zeroCounts();
  for (const row of sql.exec<{ reason: string; n: number }>("SELECT reason, n FROM rejection_counts")) {
    if ((REJECTION_REASONS as readonly string[]).includes(row.reason)) counts[row.reason as RejectionReason] = row.n;
  }
  return counts;
}

/** The newest `limit` refusals, newest first. */
export function recentRejections(sql: SqlStorage, limit: number): RecentRejection[] {
  migrate(sql);
  return sql
    .exec<{ at: number; reason: string; path: string; message: string; entry: string }>(
      "SELECT at, reason, path, message, entry FROM rejections ORDER BY seq DESC LIMIT ?",
      Math.max(0, Math.min(limit, REJECTION_RING_SIZE)),
    )
    .toArray()
    .map((r) => ({ ...r, reason: r.reason as RejectionReason }));
}
