// Parameters of the analytics routes (spec/API.md §3–4): aggregate, summary, custom JSON queries,
// pattern analytics, analyze and similar. Shared by the logger's routes and the reference data
// service, so nothing here knows about D1: src/core/analytics-sql.ts compiles a validated
// CustomAnalyticsQuery to SQL. Pure zod plus two small helpers (range defaults, bucket choice).
import { z } from "zod";
import { parseDuration } from "../core/duration.js";
import { LEVELS, parseTimestamp, SERVICE_NAME_RE } from "./log-entry.js";
import { commaList, Limit, QueryTime, UnitInterval } from "./query.js";

// ---------------------------------------------------------------------------------------------
// Shared pieces

export const TIME_BUCKETS = ["1m", "5m", "15m", "1h", "1d"] as const;
export const TimeBucket = z.enum(TIME_BUCKETS, { error: "must be one of 1m, 5m, 15m, 1h, 1d" });
export type TimeBucket = z.infer<typeof TimeBucket>;
export const TIME_BUCKET_MS: Record<TimeBucket, number> = {
  "1m": 60_000,
  "5m": 300_000,
  "15m": 900_000,
  "1h": 3_600_000,
  "1d": 86_400_000,
};

/** Fields `group_by` accepts on GET /api/logs/aggregate (contract §3). */
export const AGGREGATE_GROUP_FIELDS = ["service", "domain", "level", "category", "pattern_id"] as const;
export type AggregateGroupField = (typeof AGGREGATE_GROUP_FIELDS)[number];

/** Default range when start_time/end_time are left out: the last 24 hours. */
export const DEFAULT_RANGE_MS = 86_400_000;

/** Caps the number of zero-filled buckets a trend may have, whichever bucket size is asked for. */
export const MAX_TREND_BUCKETS = 1000;

/** `[start, end]` (inclusive, ms) with defaults: end = now, start = end - DEFAULT_RANGE_MS. */
export function resolveRange(
  q: { start_time?: number; end_time?: number },
  nowMs: number,
  defaultSpanMs = DEFAULT_RANGE_MS,
): { start: number; end: number } {
  const end = q.end_time ?? nowMs;
  const start = q.start_time ?? end - defaultSpanMs;
  return { start, end };
}

/** The smallest bucket of TIME_BUCKETS that covers `spanMs` in at most `maxBuckets` buckets (1d beyond). */
export function autoBucket(spanMs: number, maxBuckets = 100): TimeBucket {
  for (const b of TIME_BUCKETS) if (Math.floor(spanMs / TIME_BUCKET_MS[b]) + 1 <= maxBuckets) return b;
  return "1d";
}

const ServiceList = commaList(z.string().regex(SERVICE_NAME_RE), "service name");
const DomainList = commaList(
  z
    .string()
    .min(1)
    .max(253)
    .transform((d) => d.toLowerCase()),
  "domain",
);
const LevelList = commaList(z.enum(LEVELS), "level (error, warn, info, debug)");

/** A non-negative integer given as a query-string value. */
const QueryCount = z.string().transform((s, ctx) => {
  if (!/^\d{1,9}$/.test(s)) {
    ctx.addIssue({ code: "custom", message: "must be an integer >= 0" });
    return z.NEVER;
  }
  return Number(s);
});

const startBeforeEnd = {
  message: "start_time must not be after end_time",
  path: ["start_time"],
};
const rangeOk = (q: { start_time?: number; end_time?: number }) =>
  q.start_time === undefined || q.end_time === undefined || q.start_time <= q.end_time;

// ---------------------------------------------------------------------------------------------
// GET /api/logs/aggregate

/**
 * `group_by` any of service, domain, level, category, pattern_id; `time_bucket`; the range.
 * `service`, `domain`, `level` (comma lists) narrow the rows, as on search.
 */
export const AggregateQuery = z
  .object({
    group_by: commaList(
      z.enum(AGGREGATE_GROUP_FIELDS),
      "group_by field (service, domain, level, category, pattern_id)",
      5,
    ).optional(),
    time_bucket: TimeBucket.optional(),
    start_time: QueryTime.optional(),
    end_time: QueryTime.optional(),
    service: ServiceList.optional(),
    domain: DomainList.optional(),
    level: LevelList.optional(),
  })
  .strict()
  .refine(rangeOk, startBeforeEnd);
export type AggregateQuery = z.output<typeof AggregateQuery>;

// ---------------------------------------------------------------------------------------------
// GET /api/logs/analytics/summary

/** Counts by level, service, category and time bucket for start_time..end_time (default: last 24h, 1h buckets). */
export const SummaryQuery = z
  .object({
    start_time: QueryTime.optional(),
    end_time: QueryTime.optional(),
    time_bucket: TimeBucket.optional(),
    service: ServiceList.optional(),
    domain: DomainList.optional(),
  })
  .strict()
  .refine(rangeOk, startBeforeEnd);
export type SummaryQuery = z.output<typeof SummaryQuery>;

// ---------------------------------------------------------------------------------------------
// GET /api/logs/analytics/patterns

export const PatternsAnalyticsQuery = z
  .object({
    service: ServiceList.optional(),
    start_time: QueryTime.optional(),
    end_time: QueryTime.optional(),
    min_frequency: QueryCount.optional(),
    limit: Limit.optional(),
    /** trend resolution; default autoBucket(range) (at most 100 points) */
    time_bucket: TimeBucket.optional(),
  })
  .strict()
  .refine(rangeOk, startBeforeEnd);
export type PatternsAnalyticsQuery = z.output<typeof PatternsAnalyticsQuery>;

// ---------------------------------------------------------------------------------------------
// GET /api/logs/patterns/similar

export const SimilarPatternsQuery = z
  .object({
    message: z
      .string()
      .min(1)
      .max(32 * 1024)
      .optional(),
    pattern_id: z.string().min(1).max(64).optional(),
    limit: Limit.optional(),
    /** candidates below this similarity are left out; default 0.3 */
    min_similarity: UnitInterval.optional(),
  })
  .strict()
  .refine((q) => (q.message === undefined) !== (q.pattern_id === undefined), {
    message: "give exactly one of message, pattern_id",
    path: ["message"],
  });
export type SimilarPatternsQuery = z.output<typeof SimilarPatternsQuery>;
export const DEFAULT_MIN_SIMILARITY = 0.3;

// ---------------------------------------------------------------------------------------------
// POST /api/logs/analyze/patterns

/** Longest `time_range` analyze accepts (the data service keeps history; live miners may allow less). */
export const MAX_ANALYZE_RANGE_MS = 30 * 86_400_000;

export const AnalyzePatternsRequest = z
  .object({
    time_range: z
      .string({ error: "must be <n>s|m|h|d" })
      .transform((s, ctx) => {
        const ms = parseDuration(s);
        if (ms === undefined || ms > MAX_ANALYZE_RANGE_MS) {
          ctx.addIssue({ code: "custom", message: "must be <n>s|m|h|d, at most 30d" });
          return z.NEVER;
        }
        return ms;
      })
      .default(86_400_000),
    services: z
      .array(
        z.string({ error: "must be a string" }).regex(SERVICE_NAME_RE, "must be 1-128 characters of [A-Za-z0-9._-]"),
      )
      .min(1)
      .max(100)
      .optional(),
    min_frequency: z
      .number({ error: "must be an integer >= 0" })
      .int("must be an integer >= 0")
      .min(0, "must be an integer >= 0")
      .default(1),
    /** end of the analysed range (ms or ISO); default now. The range is [end - time_range, end). */
    end_time: z
      .unknown()
      .transform((v, ctx) => {
        const t = parseTimestamp(v);
        if (typeof t === "string") {
          ctx.addIssue({ code: "custom", message: t });
          return z.NEVER;
        }
        return t;
      })
      .optional(),
    /** how many equal buckets the range is cut into for trends and the spike rule */
    buckets: z
      .number({ error: "must be an integer 4-100" })
      .int("must be an integer 4-100")
      .min(4, "must be an integer 4-100")
      .max(100, "must be an integer 4-100")
      .default(12),
    limit: z
      .number({ error: "must be an integer 1-1000" })
      .int("must be an integer 1-1000")
      .min(1, "must be an integer 1-1000")
      .max(1000, "must be an integer 1-1000")
      .default(100),
  })
  .strict();
export type AnalyzePatternsRequest = z.output<typeof AnalyzePatternsRequest>;

/**
 * The flag rules of analyze (also echoed in its response):
 * - `new`: the pattern's first_seen lies in the last NEW_FRACTION of the range;
 * - `spiking`: the last bucket's count ≥ SPIKE_FACTOR × the mean of the earlier buckets, and
 *   ≥ SPIKE_MIN_COUNT (so 1 → 3 events is not a spike).
 */
export const ANALYZE_RULES = { new_fraction: 0.25, spike_factor: 3, spike_min_count: 5 } as const;

export function isSpiking(
  trendCounts: number[],
  rules: { spike_factor: number; spike_min_count: number } = ANALYZE_RULES,
): boolean {
  if (trendCounts.length < 2) return false;
  const last = trendCounts[trendCounts.length - 1]!;
  const earlier = trendCounts.slice(0, -1);
  const mean = earlier.reduce((a, b) => a + b, 0) / earlier.length;
  return last >= rules.spike_min_count && last >= rules.spike_factor * mean;
}

// ---------------------------------------------------------------------------------------------
// POST /api/logs/analytics/custom

export const FILTER_FIELDS = [
  "id",
  "timestamp",
  "received_at",
  "level",
  "service",
  "domain",
  "user_id",
  "session_id",
  "request_id",
  "category",
  "priority",
  "pattern_id",
  "message",
] as const;
export type FilterField = (typeof FILTER_FIELDS)[number];
export const NUMERIC_FIELDS: ReadonlySet<FilterField> = new Set(["timestamp", "received_at", "priority"]);
const TIME_FIELDS: ReadonlySet<FilterField> = new Set(["timestamp", "received_at"]);

export const FILTER_OPS = ["eq", "neq", "in", "gt", "gte", "lt", "lte", "contains", "prefix"] as const;
export type FilterOp = (typeof FILTER_OPS)[number];

/** Fields a custom query may group by (free text `message`, `id` and raw times are left out). */
export const CUSTOM_GROUP_FIELDS = [
  "service",
  "domain",
  "level",
  "category",
  "priority",
  "pattern_id",
  "user_id",
  "session_id",
  "request_id",
] as const;

export const METRIC_OPS = ["count", "count_distinct", "min", "max", "avg"] as const;
export type MetricOp = (typeof METRIC_OPS)[number];

export const CUSTOM_LIMITS = {
  filters: 50,
  inValues: 100,
  groupBy: 5,
  metrics: 20,
  orderBy: 5,
  valueChars: 1024,
} as const;

export type FilterValue = string | number | null;
export interface CustomFilter {
  field: FilterField;
  op: FilterOp;
  /** a list for `in`, a number for numeric fields (times in ms), a string otherwise; null only with eq/neq */
  value: FilterValue | (string | number)[];
}

const NAME_RE = /^[a-z_][a-z0-9_]{0,63}$/;

const fieldList = FILTER_FIELDS.join(", ");
const opList = FILTER_OPS.join(", ");

/** Checks one scalar against the field's type; returns the normalised value or an error text. */
function scalarFor(field: FilterField, value: unknown): string | number | { error: string } {
  if (NUMERIC_FIELDS.has(field)) {
    if (typeof value === "number" && Number.isFinite(value)) {
      if (TIME_FIELDS.has(field)) {
        const t = parseTimestamp(value);
        return typeof t === "string" ? { error: t } : t;
      }
      return value;
    }
    if (typeof value === "string" && TIME_FIELDS.has(field)) {
      const t = parseTimestamp(value);
      return typeof t === "string" ? { error: t } : t;
    }
    return {
      error: TIME_FIELDS.has(field)
        ? `must be milliseconds since epoch or an ISO-8601 string for ${field}`
        : `must be a number for ${field}`,
    };
  }
  if (typeof value !== "string") return { error: `must be a string for ${field}` };
  if (value.length > CUSTOM_LIMITS.valueChars)
    return { error: `must be at most ${CUSTOM_LIMITS.valueChars} characters` };
  return value;
}

export const CustomFilterSchema = z
  .object({
    field: z.enum(FILTER_FIELDS, { error: `must be one of ${fieldList}` }),
    op: z.enum(FILTER_OPS, { error: `must be one of ${opList}` }),
    value: z.unknown(),
  })
  .strict()
  .transform((f, ctx): CustomFilter => {
    const fail = (path: string, message: string) => {
      ctx.addIssue({ code: "custom", message, path: [path] });
      return z.NEVER;
    };
    switch (f.op) {
      case "eq":
      case "neq": {
        if (f.value === null) return { field: f.field, op: f.op, value: null };
        const v = scalarFor(f.field, f.value);
        return typeof v === "object" ? fail("value", v.error) : { field: f.field, op: f.op, value: v };
      }
      case "in": {
        if (!Array.isArray(f.value) || f.value.length === 0 || f.value.length > CUSTOM_LIMITS.inValues) {
          return fail("value", `must be an array of 1-${CUSTOM_LIMITS.inValues} values for in`);
        }
        const out: (string | number)[] = [];
        for (const item of f.value) {
          const v = scalarFor(f.field, item);
          if (typeof v === "object") return fail("value", v.error);
          out.push(v);
        }
        return { field: f.field, op: "in", value: [...new Set(out)] };
      }
      case "gt":
      case "gte":
      case "lt":
      case "lte": {
        const v = scalarFor(f.field, f.value);
        return typeof v === "object" ? fail("value", v.error) : { field: f.field, op: f.op, value: v };
      }
      case "contains":
      case "prefix": {
        if (NUMERIC_FIELDS.has(f.field)) return fail("op", `${f.op} applies to text fields, not ${f.field}`);
        if (typeof f.value !== "string" || f.value.length === 0)
          return fail("value", `must be a non-empty string for ${f.op}`);
        if (f.value.length > CUSTOM_LIMITS.valueChars)
          return fail("value", `must be at most ${CUSTOM_LIMITS.valueChars} characters`);
        return { field: f.field, op: f.op, value: f.value };
      }
    }
  });

export interface CustomMetric {
  op: MetricOp;
  /** absent only for count (= every row) */
  field?: FilterField;
  /** the column name in the result rows */
  as: string;
}

export const CustomMetricSchema = z
  .object({
    op: z.enum(METRIC_OPS, { error: `must be one of ${METRIC_OPS.join(", ")}` }),
    field: z.enum(FILTER_FIELDS, { error: `must be one of ${fieldList}` }).optional(),
    as: z.string({ error: "must be a string" }).regex(NAME_RE, "must match [a-z_][a-z0-9_]{0,63}").optional(),
  })
  .strict()
  .transform((m, ctx): CustomMetric => {
    if (m.op !== "count" && m.field === undefined) {
      ctx.addIssue({ code: "custom", message: `${m.op} needs a field`, path: ["field"] });
      return z.NEVER;
    }
    if ((m.op === "min" || m.op === "max" || m.op === "avg") && !NUMERIC_FIELDS.has(m.field!)) {
      ctx.addIssue({
        code: "custom",
        message: `${m.op} applies to timestamp, received_at or priority`,
        path: ["field"],
      });
      return z.NEVER;
    }
    const as = m.as ?? (m.field === undefined ? "count" : `${m.op}_${m.field}`);
    return m.field === undefined ? { op: m.op, as } : { op: m.op, field: m.field, as };
  });

export const CustomAnalyticsQuery = z
  .object({
    filters: z
      .array(CustomFilterSchema)
      .max(CUSTOM_LIMITS.filters, `at most ${CUSTOM_LIMITS.filters} filters`)
      .default([]),
    group_by: z
      .array(z.enum(CUSTOM_GROUP_FIELDS, { error: `must be one of ${CUSTOM_GROUP_FIELDS.join(", ")}` }))
      .max(CUSTOM_LIMITS.groupBy, `at most ${CUSTOM_LIMITS.groupBy} fields`)
      .default([]),
    metrics: z
      .array(CustomMetricSchema)
      .min(1, "give at least one metric")
      .max(CUSTOM_LIMITS.metrics, `at most ${CUSTOM_LIMITS.metrics} metrics`)
      .default([{ op: "count", as: "count" }]),
    time_bucket: TimeBucket.optional(),
    order_by: z
      .array(
        z
          .object({
            field: z.string({ error: "must be a string" }).min(1).max(64),
            direction: z.enum(["asc", "desc"], { error: "must be asc or desc" }).default("asc"),
          })
          .strict(),
      )
      .max(CUSTOM_LIMITS.orderBy, `at most ${CUSTOM_LIMITS.orderBy} entries`)
      .optional(),
    limit: z
      .number({ error: "must be an integer from 1 to 1000" })
      .int("must be an integer from 1 to 1000")
      .min(1, "must be an integer from 1 to 1000")
      .max(1000, "must be an integer from 1 to 1000")
      .default(100),
  })
  .strict()
  .superRefine((q, ctx) => {
    const groups = new Set<string>();
    q.group_by.forEach((g, i) => {
      if (groups.has(g)) ctx.addIssue({ code: "custom", message: `"${g}" is given twice`, path: ["group_by", i] });
      groups.add(g);
    });
    const names = new Set<string>([...groups, ...(q.time_bucket ? ["time"] : [])]);
    q.metrics.forEach((m, i) => {
      if (names.has(m.as))
        ctx.addIssue({
          code: "custom",
          message: `result column "${m.as}" is not unique; name it with "as"`,
          path: ["metrics", i, "as"],
        });
      names.add(m.as);
    });
    q.order_by?.forEach((o, i) => {
      if (!names.has(o.field)) {
        ctx.addIssue({
          code: "custom",
          message: `must be one of the result columns: ${[...names].join(", ")}`,
          path: ["order_by", i, "field"],
        });
      }
    });
  });
export type CustomAnalyticsQuery = z.output<typeof CustomAnalyticsQuery>;
export type CustomAnalyticsInput = z.input<typeof CustomAnalyticsQuery>;
