// Summary, aggregate and custom analytics over D1. The SQL comes from the pure compiler in
// src/core/analytics-sql.ts; this file runs it and shapes the answers.
import { aggregateQuery, compileCustomQuery, type CompiledQuery, rangeFilters } from "../../src/core/analytics-sql.js";
import type { AggregateQuery, CustomAnalyticsQuery, SummaryQuery, TimeBucket } from "../../src/schema/analytics.js";
import { resolveRange, TIME_BUCKET_MS } from "../../src/schema/analytics.js";
import { ApiError } from "../../src/errors.js";
import type { AggregateResponse, CustomAnalyticsResponse, SummaryResponse } from "../../src/schema/data-service.js";
import { MAX_AGGREGATE_BUCKETS } from "../../src/schema/data-service.js";

/** Summary series points a range may span (sparse output, but bounded work). */
const MAX_SUMMARY_POINTS = 10_000;

type Row = Record<string, string | number | null>;

function prepare(db: D1Database, q: CompiledQuery): D1PreparedStatement {
  return db.prepare(q.sql).bind(...q.params);
}

export async function runCustom(db: D1Database, q: CustomAnalyticsQuery): Promise<CustomAnalyticsResponse> {
  const compiled = compileCustomQuery(q);
  const { results } = await prepare(db, compiled).all<Row>();
  return { columns: compiled.columns, rows: results };
}

export async function runAggregate(db: D1Database, q: AggregateQuery): Promise<AggregateResponse> {
  const compiled = compileCustomQuery(
    aggregateQuery(
      q.group_by ?? [],
      q.time_bucket,
      { start: q.start_time, end: q.end_time, service: q.service, domain: q.domain, level: q.level },
      MAX_AGGREGATE_BUCKETS + 1,
    ),
  );
  const { results } = await prepare(db, compiled).all<Row>();
  const truncated = results.length > MAX_AGGREGATE_BUCKETS;
  return {
    buckets: (truncated ? results.slice(0, MAX_AGGREGATE_BUCKETS) : results) as AggregateResponse["buckets"],
    truncated,
  };
}

/** Five grouped counts in one D1 batch: total, by level, service, category, and (time, level). */
export async function runSummary(db: D1Database, q: SummaryQuery, nowMs: number): Promise<SummaryResponse> {
  const { start, end } = resolveRange(q, nowMs);
  const bucket: TimeBucket = q.time_bucket ?? "1h";
  const pointCount = Math.floor(end / TIME_BUCKET_MS[bucket]) - Math.floor(start / TIME_BUCKET_MS[bucket]) + 1;
  if (pointCount > MAX_SUMMARY_POINTS) {
    throw new ApiError(
      "invalid_request",
      400,
      `time_bucket: ${bucket} gives ${pointCount} series points; at most ${MAX_SUMMARY_POINTS}`,
      [{ path: "time_bucket", message: `too small for the range (at most ${MAX_SUMMARY_POINTS} points)` }],
    );
  }
  const filters = rangeFilters({ start, end, service: q.service, domain: q.domain });
  const base = { filters, metrics: [{ op: "count" as const, as: "count" }], order_by: undefined, limit: 1000 };
  const queries: CompiledQuery[] = [
    compileCustomQuery({ ...base, group_by: ["level"], time_bucket: undefined }),
    compileCustomQuery({ ...base, group_by: ["service"], time_bucket: undefined }, { limit: 100_000 }),
    compileCustomQuery({ ...base, group_by: ["category"], time_bucket: undefined }),
    compileCustomQuery({ ...base, group_by: ["level"], time_bucket: bucket }, { limit: 400_000 }),
  ];
  const [byLevel, byService, byCategory, series] = (await db.batch<Row>(queries.map((c) => prepare(db, c)))).map(
    (r) => r.results,
  );
  const levels = { error: 0, warn: 0, info: 0, debug: 0 };
  let total = 0;
  for (const r of byLevel!) {
    levels[r.level as keyof typeof levels] = Number(r.count);
    total += Number(r.count);
  }
  const services: Record<string, number> = {};
  for (const r of byService!) services[String(r.service)] = Number(r.count);
  const categories = { auth: 0, data: 0, api: 0, ui: 0 };
  for (const r of byCategory!)
    if (r.category !== null) categories[r.category as keyof typeof categories] = Number(r.count);
  const points = new Map<number, SummaryResponse["series"][number]>();
  for (const r of series!) {
    const time = Number(r.time);
    let p = points.get(time);
    if (!p) {
      p = { time, count: 0, error: 0, warn: 0, info: 0, debug: 0 };
      points.set(time, p);
    }
    p[r.level as "error"] = Number(r.count);
    p.count += Number(r.count);
  }
  return {
    start_time: start,
    end_time: end,
    time_bucket: bucket,
    total,
    by_level: levels,
    by_service: services,
    by_category: categories,
    series: [...points.values()].sort((a, b) => a.time - b.time),
  };
}
