// Compiles a validated custom analytics query (src/schema/analytics.ts) into one parameterised
// SELECT over the `logs` table of the reference data service (data-service/migrations). Pure: no
// Workers APIs, so it is unit-tested in Node (test/unit/analytics-sql.test.ts).
//
// Safety: every identifier comes from an allow-list (FILTER_FIELDS, CUSTOM_GROUP_FIELDS) or is a
// metric name the schema checked against [a-z_][a-z0-9_]{0,63}; every value is a bound
// parameter. `in` lists travel as ONE JSON parameter read with json_each, so a query never
// needs more than filters + 2 parameters, well under SQLite/D1's 100 bound parameters.
import type {
  AggregateGroupField,
  CustomAnalyticsQuery,
  CustomFilter,
  CustomMetric,
  FilterField,
  TimeBucket,
} from "../schema/analytics.js";
import { TIME_BUCKET_MS } from "../schema/analytics.js";

/** D1 and Durable Object SQLite refuse statements with more bound parameters than this. */
export const MAX_BOUND_PARAMS = 100;

export type SqlValue = string | number | null;

export interface CompiledQuery {
  sql: string;
  params: SqlValue[];
  /** result columns in order: "time" (with a time_bucket), the group fields, then metric names */
  columns: string[];
}

/** Field → column of the logs table. Identical names today; the map is the allow-list. */
const COLUMN: Record<FilterField, string> = {
  id: "id",
  timestamp: "timestamp",
  received_at: "received_at",
  level: "level",
  service: "service",
  domain: "domain",
  user_id: "user_id",
  session_id: "session_id",
  request_id: "request_id",
  category: "category",
  priority: "priority",
  pattern_id: "pattern_id",
  message: "message",
};

const NAME_RE = /^[a-z_][a-z0-9_]{0,63}$/;

function col(field: string): string {
  const c = (COLUMN as Record<string, string | undefined>)[field];
  if (c === undefined) throw new Error(`analytics-sql: field "${field}" is not allow-listed`);
  return `"${c}"`;
}

function alias(name: string): string {
  if (!NAME_RE.test(name)) throw new Error(`analytics-sql: result name "${name}" is not allowed`);
  return `"${name}"`;
}

/**
 * Case-insensitive (ASCII) substring and prefix tests without LIKE: SQLite (and D1) refuse a
 * LIKE pattern longer than 50 bytes ("LIKE or GLOB pattern too complex"), while a search needle
 * may be 1024 bytes. instr() has no pattern limit and no wildcards, so the needle is literal;
 * lower() folds ASCII only, exactly as LIKE does. A NULL column never matches (as with LIKE).
 */
export function containsSql(column: string): string {
  return `instr(lower(${column}), lower(?)) > 0`;
}
export function prefixSql(column: string): string {
  return `instr(lower(${column}), lower(?)) = 1`;
}

/** One filter → a SQL condition and its parameters. */
export function compileFilter(f: CustomFilter): { sql: string; params: SqlValue[] } {
  const c = col(f.field);
  switch (f.op) {
    case "eq":
      return f.value === null
        ? { sql: `${c} IS NULL`, params: [] }
        : { sql: `${c} = ?`, params: [f.value as string | number] };
    case "neq":
      // "not equal" keeps rows where the field is missing, as a log search user expects.
      return f.value === null
        ? { sql: `${c} IS NOT NULL`, params: [] }
        : { sql: `${c} IS NOT ?`, params: [f.value as string | number] };
    case "in":
      return { sql: `${c} IN (SELECT value FROM json_each(?))`, params: [JSON.stringify(f.value)] };
    case "gt":
      return { sql: `${c} > ?`, params: [f.value as string | number] };
    case "gte":
      return { sql: `${c} >= ?`, params: [f.value as string | number] };
    case "lt":
      return { sql: `${c} < ?`, params: [f.value as string | number] };
    case "lte":
      return { sql: `${c} <= ?`, params: [f.value as string | number] };
    case "contains":
      return { sql: containsSql(c), params: [String(f.value)] };
    case "prefix":
      return { sql: prefixSql(c), params: [String(f.value)] };
  }
}

function metricSql(m: CustomMetric): string {
  switch (m.op) {
    case "count":
      return m.field === undefined ? "COUNT(*)" : `COUNT(${col(m.field)})`;
    case "count_distinct":
      return `COUNT(DISTINCT ${col(m.field!)})`;
    case "min":
      return `MIN(${col(m.field!)})`;
    case "max":
      return `MAX(${col(m.field!)})`;
    case "avg":
      return `AVG(${col(m.field!)})`;
  }
}

export interface CompileOptions {
  /** overrides q.limit (the aggregate route asks for one row more than its cap to detect truncation) */
  limit?: number;
}

/**
 * Compiles the query. Rows come back keyed by `columns`. Ordering: the query's `order_by`, then
 * time and the group fields ascending as tie-breakers; without `order_by`, time ascending, or
 * (no time bucket) the first metric descending, so results are deterministic.
 */
export function compileCustomQuery(q: CustomAnalyticsQuery, options: CompileOptions = {}): CompiledQuery {
  const params: SqlValue[] = [];
  const select: string[] = [];
  const columns: string[] = [];
  const groupKeys: string[] = [];

  if (q.time_bucket) {
    select.push(`("timestamp" - ("timestamp" % ?)) AS "time"`);
    params.push(TIME_BUCKET_MS[q.time_bucket]);
    columns.push("time");
    groupKeys.push("time");
  }
  for (const g of q.group_by) {
    select.push(`${col(g)} AS ${alias(g)}`);
    columns.push(g);
    groupKeys.push(g);
  }
  for (const m of q.metrics) {
    select.push(`${metricSql(m)} AS ${alias(m.as)}`);
    columns.push(m.as);
  }

  const where: string[] = [];
  for (const f of q.filters) {
    const c = compileFilter(f);
    where.push(c.sql);
    params.push(...c.params);
  }

  const order: string[] = [];
  const ordered = new Set<string>();
  for (const o of q.order_by ?? []) {
    if (!columns.includes(o.field)) throw new Error(`analytics-sql: order_by "${o.field}" is not a result column`);
    if (ordered.has(o.field)) continue;
    order.push(`${alias(o.field)} ${o.direction === "desc" ? "DESC" : "ASC"}`);
    ordered.add(o.field);
  }
  if (!q.order_by?.length && !q.time_bucket && groupKeys.length > 0) {
    const first = q.metrics[0]!;
    order.push(`${alias(first.as)} DESC`);
    ordered.add(first.as);
  }
  for (const k of groupKeys) {
    if (!ordered.has(k)) order.push(`${alias(k)} ASC`);
  }

  const limit = options.limit ?? q.limit;
  let sql = `SELECT ${select.join(", ")} FROM "logs"`;
  if (where.length) sql += ` WHERE ${where.join(" AND ")}`;
  if (groupKeys.length) sql += ` GROUP BY ${groupKeys.map((_, i) => String(i + 1)).join(", ")}`;
  if (order.length) sql += ` ORDER BY ${order.join(", ")}`;
  sql += " LIMIT ?";
  params.push(limit);

  if (params.length > MAX_BOUND_PARAMS) {
    throw new Error(`analytics-sql: ${params.length} bound parameters exceed the limit of ${MAX_BOUND_PARAMS}`);
  }
  return { sql, params, columns };
}

/** Range and list filters shared by aggregate, summary and patterns: inclusive [start, end]. */
export interface RangeFilter {
  start?: number;
  end?: number;
  service?: string[];
  domain?: string[];
  level?: string[];
}

export function rangeFilters(r: RangeFilter): CustomFilter[] {
  const out: CustomFilter[] = [];
  if (r.start !== undefined) out.push({ field: "timestamp", op: "gte", value: r.start });
  if (r.end !== undefined) out.push({ field: "timestamp", op: "lte", value: r.end });
  if (r.service?.length) out.push({ field: "service", op: "in", value: r.service });
  if (r.domain?.length) out.push({ field: "domain", op: "in", value: r.domain });
  if (r.level?.length) out.push({ field: "level", op: "in", value: r.level });
  return out;
}

/** GET /api/logs/aggregate as a custom query: count per (time bucket, group fields). */
export function aggregateQuery(
  groupBy: readonly AggregateGroupField[],
  timeBucket: TimeBucket | undefined,
  range: RangeFilter,
  maxRows: number,
): CustomAnalyticsQuery {
  return {
    filters: rangeFilters(range),
    group_by: [...groupBy],
    metrics: [{ op: "count", as: "count" }],
    time_bucket: timeBucket,
    order_by: undefined,
    limit: maxRows,
  };
}
