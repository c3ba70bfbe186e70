// Log rows over D1: idempotent inserts, keyset search, get by id, retention deletes.
import { containsSql } from "../../src/core/analytics-sql.js";
import {
  type Level,
  type OptionalColumns,
  type StoredLogEntry,
  withOptionalColumns,
} from "../../src/schema/log-entry.js";

export type LogRow = OptionalColumns & {
  id: string;
  timestamp: number;
  received_at: number;
  level: string;
  message: string;
  service: string;
  domain: string;
  pattern_id: string | null;
  seq: number | null;
};

const INSERT_SQL = `INSERT INTO logs (id, timestamp, received_at, level, message, service, domain, user_id,
  session_id, request_id, category, priority, pattern_id, stack_trace, metadata, context, truncated, seq,
  trace_id, span_id, severity)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO NOTHING`;

/**
 * Stores entries in one D1 batch (one round trip, one transaction): one 21-parameter statement
 * per entry keeps each statement far below the 100 bound-parameter limit. A repeated id (stored
 * before, or earlier in the same batch) changes nothing and counts as a duplicate.
 */
export async function storeLogs(
  db: D1Database,
  logs: StoredLogEntry[],
): Promise<{ stored: number; duplicates: number }> {
  const stmt = db.prepare(INSERT_SQL);
  const results = await db.batch(
    logs.map((e) =>
      stmt.bind(
        e.id,
        e.timestamp,
        e.received_at,
        e.level,
        e.message,
        e.service,
        e.domain,
        e.user_id ?? null,
        e.session_id ?? null,
        e.request_id ?? null,
        e.category ?? null,
        e.priority ?? null,
        e.pattern_id ?? null,
        e.stack_trace ?? null,
        e.metadata === undefined ? null : JSON.stringify(e.metadata),
        e.context === undefined ? null : JSON.stringify(e.context),
        e.truncated ? 1 : null,
        e.seq ?? null,
        e.trace_id ?? null,
        e.span_id ?? null,
        e.severity ?? null,
      ),
    ),
  );
  const stored = results.reduce((n, r) => n + (r.meta.changes ?? 0), 0);
  return { stored, duplicates: logs.length - stored };
}

/** Row → the contract's StoredLogEntry: `pattern_id` always present (null when none), as the logger's aggregator answers. */
export function rowToEntry(row: LogRow): StoredLogEntry {
  const e: StoredLogEntry = {
    id: row.id,
    timestamp: row.timestamp,
    received_at: row.received_at,
    level: row.level as Level,
    message: row.message,
    service: row.service,
    domain: row.domain,
    pattern_id: row.pattern_id,
  };
  if (row.seq !== null) e.seq = row.seq;
  return withOptionalColumns(e, row);
}

export async function getLog(db: D1Database, id: string): Promise<StoredLogEntry | null> {
  const row = await db.prepare("SELECT * FROM logs WHERE id = ?").bind(id).first<LogRow>();
  return row ? rowToEntry(row) : null;
}

export interface LogSearch {
  service?: string[];
  domain?: string[];
  level?: string[];
  start_time?: number;
  end_time?: number;
  user_id?: string;
  session_id?: string;
  request_id?: string;
  trace_id?: string;
  category?: string;
  pattern_id?: string;
  q?: string;
}

/** WHERE terms shared by search and cleanup. Lists travel as one JSON parameter each (json_each). */
export function searchWhere(f: LogSearch): { where: string[]; params: (string | number)[] } {
  const where: string[] = [];
  const params: (string | number)[] = [];
  const list = (column: string, values: string[] | undefined) => {
    if (values && values.length > 0) {
      where.push(`${column} IN (SELECT value FROM json_each(?))`);
      params.push(JSON.stringify(values));
    }
  };
  list("service", f.service);
  list("domain", f.domain);
  list("level", f.level);
  if (f.start_time !== undefined) {
    where.push("timestamp >= ?");
    params.push(f.start_time);
  }
  if (f.end_time !== undefined) {
    where.push("timestamp <= ?");
    params.push(f.end_time);
  }
  for (const column of ["user_id", "session_id", "request_id", "trace_id", "category", "pattern_id"] as const) {
    const v = f[column];
    if (v !== undefined) {
      where.push(`${column} = ?`);
      params.push(v);
    }
  }
  if (f.q !== undefined) {
    // Case-insensitive (ASCII) substring, as the logger's aggregator does it; no LIKE (50-byte pattern limit).
    where.push(containsSql("message"));
    params.push(f.q);
  }
  return { where, params };
}

/** One page in (timestamp, id) order, strictly after `after`; asks for `limit` rows. */
export async function searchLogs(
  db: D1Database,
  f: LogSearch,
  order: "asc" | "desc",
  limit: number,
  after?: { ts: number; id: string },
): Promise<StoredLogEntry[]> {
  const { where, params } = searchWhere(f);
  if (after) {
    where.push(
      order === "desc"
        ? "(timestamp < ? OR (timestamp = ? AND id < ?))"
        : "(timestamp > ? OR (timestamp = ? AND id > ?))",
    );
    params.push(after.ts, after.ts, after.id);
  }
  const dir = order === "desc" ? "DESC" : "ASC";
  const sql = `SELECT * FROM logs${where.length ? ` WHERE ${where.join(" AND ")}` : ""} ORDER BY timestamp ${dir}, id ${dir} LIMIT ?`;
  const { results } = await db
    .prepare(sql)
    .bind(...params, limit)
    .all<LogRow>();
  return results.map(rowToEntry);
}

/** Rows per DELETE statement: keeps each statement short on a large table. */
const DELETE_CHUNK = 5000;

/** Deletes entries with timestamp < before (and the optional service/level lists); returns the exact count. */
export async function cleanupLogs(
  db: D1Database,
  before: number,
  service?: string[],
  level?: string[],
): Promise<number> {
  const { where, params } = searchWhere({ service, level });
  where.unshift("timestamp < ?");
  params.unshift(before);
  const sql = `DELETE FROM logs WHERE rowid IN (SELECT rowid FROM logs WHERE ${where.join(" AND ")} LIMIT ?)`;
  const stmt = db.prepare(sql);
  let deleted = 0;
  for (;;) {
    const r = await stmt.bind(...params, DELETE_CHUNK).run();
    const n = r.meta.changes ?? 0;
    deleted += n;
    if (n < DELETE_CHUNK) return deleted;
  }
}
