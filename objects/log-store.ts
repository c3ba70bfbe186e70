// Small functions over the aggregator's SqlStorage: schema, inserts, queries. The aggregator is
// wiring; the SQL lives here so it can be read in one place.
import {
  type Level,
  type NormalisedLogEntry,
  type OptionalColumns,
  type StoredLogEntry,
  withOptionalColumns,
} from "../src/schema/log-entry.js";
import type { AggregatorSearch, LogFilter } from "../src/schema/query.js";

export function migrate(sql: SqlStorage): void {
  sql.exec(`
    CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    -- seq is the per-service sequence: tail resume points, flush progress and tie-breaks.
    CREATE TABLE IF NOT EXISTS logs (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      id TEXT NOT NULL UNIQUE,
      ts INTEGER NOT NULL,
      received_at INTEGER NOT NULL,
      level TEXT NOT NULL,
      message TEXT NOT NULL,
      user_id TEXT, session_id TEXT, request_id TEXT,
      category TEXT, priority INTEGER, pattern_id TEXT,
      stack_trace TEXT, metadata TEXT, context TEXT, truncated INTEGER
    );
    CREATE INDEX IF NOT EXISTS logs_ts ON logs(ts, seq);
    CREATE INDEX IF NOT EXISTS logs_level_ts ON logs(level, ts, seq);
    CREATE INDEX IF NOT EXISTS logs_request ON logs(request_id) WHERE request_id IS NOT NULL;
    CREATE INDEX IF NOT EXISTS logs_user ON logs(user_id) WHERE user_id IS NOT NULL;
    CREATE INDEX IF NOT EXISTS logs_session ON logs(session_id) WHERE session_id IS NOT NULL;
    CREATE INDEX IF NOT EXISTS logs_pattern ON logs(pattern_id, ts);
    -- Minute counters survive trimming of old rows, so live counters rebuild exactly.
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
    -- Monotonic totals for /metrics (received_<level>, rejected_<level>): survive restarts.
    CREATE TABLE IF NOT EXISTS totals (name TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS counter_minutes (
      minute INTEGER NOT NULL, level TEXT NOT NULL, n INTEGER NOT NULL,
      PRIMARY KEY (minute, level)
    ) WITHOUT ROWID;
  `);
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

/** Statement-sized pieces of a batch: one JSON parameter stays well under the 2 MB value limit. */
const BATCH_JSON_BYTES = 1_000_000;

/**
 * Inserts new entries (ids already checked absent) with one statement per ~1 MB: the batch goes
 * in as one JSON parameter and SQLite unpacks it with json_each, instead of one exec per row.
 * Returns the seq of each entry, in order.
 */
export function insertLogs(sql: SqlStorage, rows: { e: NormalisedLogEntry; patternId: string | null }[]): number[] {
  const seqs = new Map<string, number>();
  let chunk: string[] = [];
  let bytes = 0;
  const flush = () => {
    if (chunk.length === 0) return;
    const cursor = sql.exec<{ seq: number; id: string }>(
      `INSERT INTO logs (id, ts, received_at, level, message, user_id, session_id, request_id,
         category, priority, pattern_id, stack_trace, metadata, context, truncated)
       SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5, value->>6, value->>7,
         value->>8, value->>9, value->>10, value->>11, value->>12, value->>13, value->>14
       FROM json_each(?) ORDER BY key
       RETURNING seq, id`,
      `[${chunk.join(",")}]`,
    );
    for (const r of cursor) seqs.set(r.id, r.seq);
    chunk = [];
    bytes = 0;
  };
  for (const { e, patternId } of rows) {
    const json = JSON.stringify([
      e.id,
      e.timestamp,
      e.received_at,
      e.level,
      e.message,
      e.user_id ?? null,
      e.session_id ?? null,
      e.request_id ?? null,
      e.category ?? null,
      e.priority ?? null,
      patternId,
      e.stack_trace ?? null,
      e.metadata === undefined ? null : JSON.stringify(e.metadata),
      e.context === undefined ? null : JSON.stringify(e.context),
      e.truncated ? 1 : null,
    ]);
    if (bytes + json.length > BATCH_JSON_BYTES) flush();
    chunk.push(json);
    bytes += json.length;
  }
  flush();
  return rows.map(({ e }) => seqs.get(e.id)!);
}

export function seqOfId(sql: SqlStorage, id: string): number | undefined {
  return sql.exec<{ seq: number }>("SELECT seq FROM logs WHERE id = ?", id).toArray()[0]?.seq;
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

export function getLogById(sql: SqlStorage, id: string): LogRow | undefined {
  return sql.exec<LogRow>("SELECT * FROM logs WHERE id = ?", id).toArray()[0];
}

export function whereClause(filter: LogFilter): { where: string[]; params: (string | number)[] } {
  const where: string[] = [];
  const params: (string | number)[] = [];
  if (filter.levels && filter.levels.length > 0) {
    where.push(`level IN (${filter.levels.map(() => "?").join(",")})`);
    params.push(...filter.levels);
  }
  if (filter.startTime !== undefined) {
    where.push("ts >= ?");
    params.push(filter.startTime);
  }
  if (filter.endTime !== undefined) {
    where.push("ts <= ?");
    params.push(filter.endTime);
  }
  const eq: [keyof LogFilter, string][] = [
    ["userId", "user_id"],
    ["sessionId", "session_id"],
    ["requestId", "request_id"],
    ["category", "category"],
  ];
  for (const [key, column] of eq) {
    const v = filter[key];
    if (typeof v === "string") {
      where.push(`${column} = ?`);
      params.push(v);
    }
  }
  const patternIds = filter.patternIds ?? (filter.patternId !== undefined ? [filter.patternId] : undefined);
  if (patternIds) {
    where.push(`pattern_id IN (${patternIds.map(() => "?").join(",")})`);
    params.push(...patternIds);
  }
  if (filter.q !== undefined) {
    where.push("message LIKE ? ESCAPE '\\'");
    params.push(likePattern(filter.q));
  }
  return { where, params };
}

/** Case-insensitive substring (ASCII, as SQLite's LIKE); LIKE wildcards in the needle escaped. */
function likePattern(q: string): string {
  return `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/**
 * A text search (`q`) examines at most this many rows per aggregator and page: LIKE can't use an
 * index, and 100k rows take ~100 ms. When the budget runs out the page may be short and the
 * caller continues from `scannedThrough` (the last row examined).
 */
export const TEXT_SCAN_BUDGET = 20_000;

export interface SearchRows {
  rows: LogRow[];
  /** set when a text search stopped at its budget: rows after this position were not examined */
  scannedThrough?: { ts: number; seq: number };
}

export function searchLogs(sql: SqlStorage, search: AggregatorSearch): SearchRows {
  const { q, ...rest } = search.filter;
  const { where, params } = whereClause(rest);
  const desc = search.order === "desc";
  if (search.after) {
    where.push(desc ? "(ts < ? OR (ts = ? AND seq < ?))" : "(ts > ? OR (ts = ? AND seq > ?))");
    params.push(search.after.ts, search.after.ts, search.after.seq);
  }
  const dir = desc ? "DESC" : "ASC";
  const base = `SELECT * FROM logs ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY ts ${dir}, seq ${dir}`;
  if (q === undefined) return { rows: sql.exec<LogRow>(`${base} LIMIT ?`, ...params, search.limit).toArray() };
  const like = likePattern(q);
  const rows = sql
    .exec<LogRow>(
      `SELECT * FROM (${base} LIMIT ?) WHERE message LIKE ? ESCAPE '\\' ORDER BY ts ${dir}, seq ${dir} LIMIT ?`,
      ...params,
      TEXT_SCAN_BUDGET,
      like,
      search.limit,
    )
    .toArray();
  if (rows.length >= search.limit) return { rows };
  const edge = sql
    .exec<{ ts: number; seq: number }>(
      `SELECT ts, seq FROM (${base} LIMIT 1 OFFSET ?)`,
      ...params,
      TEXT_SCAN_BUDGET - 1,
    )
    .toArray()[0];
  return edge ? { rows, scannedThrough: { ts: edge.ts, seq: edge.seq } } : { rows };
}

/** Rows not yet persisted (seq > persisted), oldest first. */
export function pendingRows(sql: SqlStorage, afterSeq: number, limit: number): LogRow[] {
  return sql.exec<LogRow>("SELECT * FROM logs WHERE seq > ? ORDER BY seq LIMIT ?", afterSeq, limit).toArray();
}

export function countAfter(sql: SqlStorage, afterSeq: number): number {
  return sql.exec<{ n: number }>("SELECT count(*) AS n FROM logs WHERE seq > ?", afterSeq).one().n;
}

export function maxSeq(sql: SqlStorage): number {
  return sql.exec<{ s: number | null }>("SELECT max(seq) AS s FROM logs").one().s ?? 0;
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

/**
 * Deletes persisted rows (seq <= persistedSeq) older than `beforeTs` or beyond the newest
 * `maxRows`. In the KV-only phase the ids of trimmed rows are kept with their chunk first, so
 * get-by-id still finds them. Returns the number of rows deleted and the newest trimmed ts.
 */
export function trimPersisted(
  sql: SqlStorage,
  persistedSeq: number,
  beforeTs: number,
  maxRows: number,
  keepIds: boolean,
): { deleted: number; maxTs: number } {
  const capSeq = maxSeq(sql) - maxRows;
  const cond = "seq <= ? AND (ts < ? OR seq <= ?)";
  const stats = sql
    .exec<{ n: number; t: number | null }>(
      `SELECT count(*) AS n, max(ts) AS t FROM logs WHERE ${cond}`,
      persistedSeq,
      beforeTs,
      capSeq,
    )
    .one();
  if (stats.n === 0) return { deleted: 0, maxTs: 0 };
  if (keepIds) {
    sql.exec(
      `INSERT OR IGNORE INTO archived_ids(id, chunk)
       SELECT l.id, c.key FROM logs l JOIN kv_chunks c ON l.seq BETWEEN c.first_seq AND c.last_seq
       WHERE l.seq <= ? AND (l.ts < ? OR l.seq <= ?)`,
      persistedSeq,
      beforeTs,
      capSeq,
    );
  }
  sql.exec(`DELETE FROM logs WHERE ${cond}`, persistedSeq, beforeTs, capSeq);
  return { deleted: stats.n, maxTs: stats.t ?? 0 };
}

export function recentErrors(sql: SqlStorage, limit: number): LogRow[] {
  return sql
    .exec<LogRow>("SELECT * FROM logs WHERE level = 'error' ORDER BY ts DESC, seq DESC LIMIT ?", limit)
    .toArray();
}

/** Rows after `seq` matching the filter, in seq order: the tail's replay. */
export function rowsAfterSeq(sql: SqlStorage, seq: number, filter: LogFilter, limit: number): LogRow[] {
  const { where, params } = whereClause(filter);
  where.push("seq > ?");
  params.push(seq);
  return sql
    .exec<LogRow>(`SELECT * FROM logs WHERE ${where.join(" AND ")} ORDER BY seq LIMIT ?`, ...params, limit)
    .toArray();
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

/** The subset of `ids` already stored (100 bound parameters per statement). */
export function existingIds(sql: SqlStorage, ids: string[]): Set<string> {
  const found = new Set<string>();
  for (let i = 0; i < ids.length; i += 100) {
    const chunk = ids.slice(i, i + 100);
    for (const r of sql.exec<{ id: string }>(
      `SELECT id FROM logs WHERE id IN (${chunk.map(() => "?").join(",")})`,
      ...chunk,
    ))
      found.add(r.id);
  }
  return found;
}
