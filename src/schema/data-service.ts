// The wire contract between the logger and a data-access service (spec/API.md §4): request and
// response bodies. The logger's DataServiceClient validates responses with these; the reference
// service (data-service/) validates requests with them. Pure zod.
import { z } from "zod";
import { parseDuration } from "../core/duration.js";
import { LEVELS, SERVICE_NAME_RE, StoredLogEntry } from "./log-entry.js";
import { Pattern, TrendPoint } from "./pattern.js";
import { commaList, QueryTime } from "./query.js";

/** Entries per POST /api/logs/batch (and /api/logs/store) request. More is 413 payload_too_large. */
export const MAX_STORE_BATCH = 100;

/** Request bodies the data service accepts: 100 entries can reach ~11 MiB at the per-field caps. */
export const MAX_STORE_BODY_BYTES = 16 * 1024 * 1024;

// POST /api/logs/batch
export const StoreBatchRequest = z.object({
  logs: z
    .array(StoredLogEntry)
    .min(1, "must hold at least one entry")
    .max(MAX_STORE_BATCH, `must hold at most ${MAX_STORE_BATCH} entries`),
});
export type StoreBatchRequest = z.infer<typeof StoreBatchRequest>;

// POST /api/logs/store: one entry or an array of them (same cap).
export const StoreRequest = z.union([StoredLogEntry, z.array(StoredLogEntry).min(1).max(MAX_STORE_BATCH)]);
export type StoreRequest = z.infer<typeof StoreRequest>;

/** Answer of both store routes (200): stored + duplicates = entries sent. */
export const StoreBatchResponse = z.object({
  stored: z.number().int().min(0),
  duplicates: z.number().int().min(0),
});
export type StoreBatchResponse = z.infer<typeof StoreBatchResponse>;

// GET /api/logs/search (query: SearchQuery from ./query.ts)
export const SearchResponse = z.object({
  logs: z.array(StoredLogEntry),
  next_cursor: z.string().nullable(),
});
export type SearchResponse = z.infer<typeof SearchResponse>;

// DELETE /api/logs/cleanup
const ServiceItem = z.string().regex(SERVICE_NAME_RE);

/** Retention: exactly one of `older_than=<n>s|m|h|d` or `before=<ms or ISO>`; optional service, level (comma lists). */
export const CleanupQuery = z
  .object({
    older_than: z
      .string()
      .transform((s, ctx) => {
        const ms = parseDuration(s);
        if (ms === undefined) {
          ctx.addIssue({ code: "custom", message: "must be <n>s|m|h|d" });
          return z.NEVER;
        }
        return ms;
      })
      .optional(),
    before: QueryTime.optional(),
    service: commaList(ServiceItem, "service name").optional(),
    level: commaList(z.enum(LEVELS), "level (error, warn, info, debug)").optional(),
  })
  .strict()
  .refine((q) => (q.older_than === undefined) !== (q.before === undefined), {
    message: "give exactly one of older_than, before",
    path: ["older_than"],
  });
export type CleanupQuery = z.output<typeof CleanupQuery>;

/** Entries with `timestamp` < the cutoff (now - older_than, or before) are deleted. */
export const CleanupResponse = z.object({ deleted: z.number().int().min(0), before: z.number().int() });
export type CleanupResponse = z.infer<typeof CleanupResponse>;

// GET /api/logs/analytics/summary (query: SummaryQuery from ./analytics.ts)
const LevelCounts = z.object({
  error: z.number().int(),
  warn: z.number().int(),
  info: z.number().int(),
  debug: z.number().int(),
});
export const SummaryResponse = z.object({
  start_time: z.number().int(),
  end_time: z.number().int(),
  time_bucket: z.string(),
  total: z.number().int(),
  by_level: LevelCounts,
  by_service: z.record(z.string(), z.number().int()),
  /** uncategorised entries count in total only */
  by_category: z.object({
    auth: z.number().int(),
    data: z.number().int(),
    api: z.number().int(),
    ui: z.number().int(),
  }),
  /** buckets with no entries are left out */
  series: z.array(LevelCounts.extend({ time: z.number().int(), count: z.number().int() })),
});
export type SummaryResponse = z.infer<typeof SummaryResponse>;

// GET /api/logs/aggregate (query: AggregateQuery from ./analytics.ts)
/** Each bucket: `time` (with time_bucket), the group_by fields (null when missing), `count`. */
export const AggregateBucket = z
  .object({ time: z.number().int().optional(), count: z.number().int() })
  .catchall(z.union([z.string(), z.number(), z.null()]));
export const AggregateResponse = z.object({
  buckets: z.array(AggregateBucket),
  /** true when more than MAX_AGGREGATE_BUCKETS buckets matched and the rest was cut */
  truncated: z.boolean(),
});
export type AggregateResponse = z.infer<typeof AggregateResponse>;
export const MAX_AGGREGATE_BUCKETS = 10_000;

// POST /api/logs/analytics/custom (body: CustomAnalyticsQuery from ./analytics.ts)
export const CustomAnalyticsResponse = z.object({
  columns: z.array(z.string()),
  rows: z.array(z.record(z.string(), z.union([z.string(), z.number(), z.null()]))),
});
export type CustomAnalyticsResponse = z.infer<typeof CustomAnalyticsResponse>;

// GET /api/logs/analytics/patterns (query: PatternsAnalyticsQuery)
export const PatternWithTrend = Pattern.extend({ trend: z.array(TrendPoint) });
export const PatternsAnalyticsResponse = z.object({
  start_time: z.number().int(),
  end_time: z.number().int(),
  time_bucket: z.string(),
  patterns: z.array(PatternWithTrend),
});
export type PatternsAnalyticsResponse = z.infer<typeof PatternsAnalyticsResponse>;

// POST /api/logs/patterns/learn (body: LearnPatternsRequest from ./pattern.ts)
export const LearnPatternsResponse = z.object({
  created: z.number().int().min(0),
  updated: z.number().int().min(0),
  /** the stored patterns after the upsert, one per distinct id, in request order */
  patterns: z.array(Pattern),
});
export type LearnPatternsResponse = z.infer<typeof LearnPatternsResponse>;

// GET /api/logs/patterns/similar (query: SimilarPatternsQuery)
export const SimilarPatternsResponse = z.object({
  patterns: z.array(Pattern.extend({ similarity: z.number().min(0).max(1) })),
});
export type SimilarPatternsResponse = z.infer<typeof SimilarPatternsResponse>;

// POST /api/logs/analyze/patterns (body: AnalyzePatternsRequest)
export const AnalyzedPattern = PatternWithTrend.extend({ new: z.boolean(), spiking: z.boolean() });
export const AnalyzePatternsResponse = z.object({
  start_time: z.number().int(),
  end_time: z.number().int(),
  bucket_ms: z.number(),
  rules: z.object({ new_fraction: z.number(), spike_factor: z.number(), spike_min_count: z.number() }),
  patterns: z.array(AnalyzedPattern),
});
export type AnalyzePatternsResponse = z.infer<typeof AnalyzePatternsResponse>;
