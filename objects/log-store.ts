// Small functions over the aggregator's SqlStorage: the schema (migrate() owns all DDL), meta,
// totals, minute counters, dead letters and the old row-per-log layout while it is converted.
// Segments (one row per ingested batch) are read and written by segment-store.ts.
import { type Level, type OptionalColumns, type StoredLogEntry, withOptionalColumns } from "../src/schema/log-entry.js";

/** 1: one `logs` row per entry (before segments); 2: segments; 3: segments with their columns. */
export const SCHEMA_VERSION = 3;

/**
 * Creates the current tables. An object that still holds the old `logs` table keeps it until
 * SegmentStore.migrateStep() has converted every row (schema_version stays 1 until then).
 */
export function migrate(sql: SqlStorage): void {
  sql.exec(`
    CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    -- One row per ingested batch (or per ~1 MB of it): see src/core/segment-codec.ts. No
    -- secondary index: headers are held in memory, so an insert writes exactly one row.
    CREATE TABLE IF NOT EXISTS segments (
      first_seq INTEGER PRIMARY KEY, last_seq INTEGER NOT NULL, n INTEGER NOT NULL, seqs TEXT,
      min_ts INTEGER NOT NULL, max_ts INTEGER NOT NULL,
      min_received INTEGER NOT NULL, max_received INTEGER NOT NULL,
      head TEXT NOT NULL, folded INTEGER NOT NULL, bloom BLOB NOT NULL, ids BLOB NOT NULL, cols BLOB,
      body TEXT NOT NULL
    );
    -- Entries the data service refused for good (a 4xx): kept, counted, replayable.
    CREATE TABLE IF NOT EXISTS dead_letters (
      seq INTEGER PRIMARY KEY, id TEXT NOT NULL, entry TEXT NOT NULL, error TEXT NOT NULL, at INTEGER NOT NULL
    );
    -- KV-only phase: which KV chunk holds which rows, and ids of rows trimmed from SQLite.
    CREATE TABLE IF NOT EXISTS kv_chunks (
      key TEXT PRIMARY KEY, first_seq INTEGER NOT NULL, last_seq INTEGER NOT NULL,
      min_ts INTEGER NOT NULL, max_ts INTEGER NOT NULL, expires_at INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS archived_ids (id TEXT PRIMARY KEY, chunk TEXT NOT NULL) WITHOUT ROWID;
    -- Monotonic totals for /metrics of segments already deleted or rewritten (live segments
    -- carry their own counts), plus rate_limited: survive restarts.
    CREATE TABLE IF NOT EXISTS totals (name TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;
    -- Minute counters of folded segments, so live counters rebuild exactly after trimming.
    CREATE TABLE IF NOT EXISTS counter_minutes (
      minute INTEGER NOT NULL, level TEXT NOT NULL, n INTEGER NOT NULL,
      PRIMARY KEY (minute, level)
    ) WITHOUT ROWID;
  `);
  // 3: segment columns (packColumns) in the row. Version 2 tables get the column appended, after
  // the body: correct, but reading it walks the body's pages (new objects put it before the body).
  const hasCols = sql.exec("SELECT 1 FROM pragma_table_info('segments') WHERE name = 'cols'").toArray().length > 0;
  if (!hasCols) sql.exec("ALTER TABLE segments ADD COLUMN cols BLOB");
  const version = getMeta(sql, "schema_version");
  if (version === undefined) setMeta(sql, "schema_version", String(hasLegacyLogs(sql) ? 1 : SCHEMA_VERSION));
  else if (version === "2") setMeta(sql, "schema_version", String(SCHEMA_VERSION));
}

export function getMeta(sql: SqlStorage, key: string): string | undefined {
  const row = sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = ?", key).toArray()[0];
  return row?.value;
}

export function setMeta(sql: SqlStorage, key: string, value: string): void {
  sql.exec(
    "INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
    key,
    value,
  );
}

export function bumpMinuteCounters(sql: SqlStorage, counts: Map<string, number>): void {
  for (const [key, n] of counts) {
    const [minute, level] = key.split(":");
    sql.exec(
      "INSERT INTO counter_minutes(minute, level, n) VALUES (?, ?, ?) ON CONFLICT(minute, level) DO UPDATE SET n = n + excluded.n",
      Number(minute),
      level,
      n,
    );
  }
}

export type LogRow = OptionalColumns & {
  seq: number;
  id: string;
  ts: number;
  received_at: number;
  level: string;
  message: string;
  pattern_id: string | null;
};

export function rowToEntry(row: LogRow, service: string, domain: string): StoredLogEntry {
  const e: StoredLogEntry = {
    id: row.id,
    timestamp: row.ts,
    received_at: row.received_at,
    level: row.level as Level,
    message: row.message,
    service,
    domain,
    pattern_id: row.pattern_id,
    seq: row.seq,
  };
  return withOptionalColumns(e, row);
}

export function addDeadLetter(sql: SqlStorage, entry: StoredLogEntry, error: string, at: number): void {
  sql.exec(
    "INSERT OR REPLACE INTO dead_letters(seq, id, entry, error, at) VALUES (?, ?, ?, ?, ?)",
    entry.seq ?? 0,
    entry.id,
    JSON.stringify(entry),
    error.slice(0, 1000),
    at,
  );
}

export function countDeadLetters(sql: SqlStorage): number {
  return sql.exec<{ n: number }>("SELECT count(*) AS n FROM dead_letters").one().n;
}

export function listDeadLetters(
  sql: SqlStorage,
  limit: number,
): { seq: number; id: string; error: string; at: number; entry: StoredLogEntry }[] {
  return sql
    .exec<{ seq: number; id: string; error: string; at: number; entry: string }>(
      "SELECT * FROM dead_letters ORDER BY seq LIMIT ?",
      limit,
    )
    .toArray()
    .map((r) => ({ seq: r.seq, id: r.id, error: r.error, at: r.at, entry: JSON.parse(r.entry) as StoredLogEntry }));
}

export function deleteDeadLetters(sql: SqlStorage, seqs: number[]): void {
  for (const seq of seqs) sql.exec("DELETE FROM dead_letters WHERE seq = ?", seq);
}

export function bumpTotals(sql: SqlStorage, deltas: Map<string, number>): void {
  for (const [name, n] of deltas) {
    if (n > 0)
      sql.exec("INSERT INTO totals(name, n) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET n = n + excluded.n", name, n);
  }
}

export function readTotals(sql: SqlStorage): Map<string, number> {
  return new Map(
    sql
      .exec<{ name: string; n: number }>("SELECT name, n FROM totals")
      .toArray()
      .map((r) => [r.name, r.n]),
  );
}

// ---- the old row-per-log layout (schema_version 1), read until migrated ----

export function hasLegacyLogs(sql: SqlStorage): boolean {
  return sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'logs'").toArray().length > 0;
}

/** The old table as segments of `rows` seqs each: header figures computed by SQLite. */
export function legacySegments(
  sql: SqlStorage,
  rows: number,
): {
  first: number;
  last: number;
  n: number;
  min_ts: number;
  max_ts: number;
  min_received: number;
  max_received: number;
  e: number;
  w: number;
  i: number;
  d: number;
}[] {
  return sql
    .exec<{
      first: number;
      last: number;
      n: number;
      min_ts: number;
      max_ts: number;
      min_received: number;
      max_received: number;
      e: number;
      w: number;
      i: number;
      d: number;
    }>(
      `SELECT min(seq) AS first, max(seq) AS last, count(*) AS n, min(ts) AS min_ts, max(ts) AS max_ts,
         min(received_at) AS min_received, max(received_at) AS max_received,
         sum(level = 'error') AS e, sum(level = 'warn') AS w, sum(level = 'info') AS i, sum(level = 'debug') AS d
       FROM logs GROUP BY (seq - 1) / CAST(? AS INTEGER) ORDER BY first`,
      rows,
    )
    .toArray();
}

/** The highest seq the old table ever handed out (AUTOINCREMENT keeps it after deletes). */
export function legacySeqHighWater(sql: SqlStorage): number {
  const r = sql.exec<{ seq: number }>("SELECT seq FROM sqlite_sequence WHERE name = 'logs'").toArray()[0];
  return r?.seq ?? 0;
}

export function legacyRows(sql: SqlStorage, first: number, last: number): LogRow[] {
  return sql.exec<LogRow>("SELECT * FROM logs WHERE seq BETWEEN ? AND ? ORDER BY seq", first, last).toArray();
}

export function legacyRowById(sql: SqlStorage, id: string): LogRow | undefined {
  return sql.exec<LogRow>("SELECT * FROM logs WHERE id = ?", id).toArray()[0];
}

export function deleteLegacyRows(sql: SqlStorage, first: number, last: number): void {
  sql.exec("DELETE FROM logs WHERE seq BETWEEN ? AND ?", first, last);
}

/** Drops the emptied old table (and its indexes) and records the new version. */
export function finishLegacyMigration(sql: SqlStorage, seqFloor: number): void {
  if (hasLegacyLogs(sql)) sql.exec("DROP TABLE logs");
  setMeta(sql, "seq_floor", String(seqFloor));
  setMeta(sql, "schema_version", String(SCHEMA_VERSION));
}

/** KV-only phase: remembers which chunk holds each trimmed entry (by its seq), for get-by-id. */
export function archiveIds(sql: SqlStorage, entries: StoredLogEntry[]): void {
  for (let i = 0; i < entries.length; i += 5000) {
    const pairs = entries.slice(i, i + 5000).map((e) => [e.id, e.seq ?? 0]);
    sql.exec(
      `INSERT OR IGNORE INTO archived_ids(id, chunk)
       SELECT j.value->>0, c.key FROM json_each(?) j JOIN kv_chunks c ON (j.value->>1) BETWEEN c.first_seq AND c.last_seq`,
      JSON.stringify(pairs),
    );
  }
}
