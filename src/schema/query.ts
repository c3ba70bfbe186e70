// Query parameters of the read routes, validated once at the edge. The aggregator receives the
// parsed `LogFilter` and trusts it.
import { z } from "zod";
import { parseDuration } from "../core/duration.js";
import { CATEGORIES, DomainName, LEVELS, type Level, parseTimestamp, SERVICE_NAME_RE } from "./log-entry.js";

/** A comma-separated query value: 1–`max` items, each valid, duplicates dropped. */
export const commaList = <T extends z.ZodTypeAny>(item: T, what: string, max = 100) =>
  z.string().transform((s, ctx) => {
    const parts = s
      .split(",")
      .map((p) => p.trim())
      .filter((p) => p.length > 0);
    if (parts.length === 0 || parts.length > max) {
      ctx.addIssue({ code: "custom", message: `must be a comma list of 1-${max} ${what}` });
      return z.NEVER;
    }
    const out: z.output<T>[] = [];
    for (const p of parts) {
      const r = item.safeParse(p);
      if (!r.success) {
        ctx.addIssue({ code: "custom", message: `"${p.slice(0, 64)}" is not a valid ${what}` });
        return z.NEVER;
      }
      out.push(r.data);
    }
    return [...new Set(out)];
  });

export const QueryTime = z.string().transform((s, ctx) => {
  const v = /^\d+$/.test(s) ? parseTimestamp(Number(s)) : parseTimestamp(s);
  if (typeof v === "string") {
    ctx.addIssue({ code: "custom", message: v });
    return z.NEVER;
  }
  return v;
});

/** `limit` is an integer 1–1000; anything else is 400, never clamped. */
export const Limit = z.string().transform((s, ctx) => {
  if (!/^\d{1,4}$/.test(s) || Number(s) < 1 || Number(s) > 1000) {
    ctx.addIssue({ code: "custom", message: "must be an integer from 1 to 1000" });
    return z.NEVER;
  }
  return Number(s);
});

/** A query value that is a number in [0, 1] (thresholds, similarities). */
export const UnitInterval = z.string().transform((s, ctx) => {
  const n = Number(s);
  if (s.trim() === "" || !Number.isFinite(n) || n < 0 || n > 1) {
    ctx.addIssue({ code: "custom", message: "must be a number in [0, 1]" });
    return z.NEVER;
  }
  return n;
});

export const Window = (maxMs: number) =>
  z.string().transform((s, ctx) => {
    const ms = parseDuration(s);
    if (ms === undefined || ms > maxMs) {
      ctx.addIssue({ code: "custom", message: `must be <n>s|m|h|d, at most ${maxMs / 3_600_000}h` });
      return z.NEVER;
    }
    return ms;
  });

const ServiceNameItem = z.string().regex(SERVICE_NAME_RE);
const RefValue = z.string().min(1).max(256);

export const SearchQuery = z
  .object({
    service: commaList(ServiceNameItem, "service name").optional(),
    domain: commaList(
      z
        .string()
        .min(1)
        .max(253)
        .transform((d) => d.toLowerCase()),
      "domain",
    ).optional(),
    level: commaList(z.enum(LEVELS), "level (error, warn, info, debug)").optional(),
    start_time: QueryTime.optional(),
    end_time: QueryTime.optional(),
    user_id: RefValue.optional(),
    session_id: RefValue.optional(),
    request_id: RefValue.optional(),
    trace_id: RefValue.optional(),
    category: z.enum(CATEGORIES).optional(),
    pattern_id: z.string().min(1).max(64).optional(),
    q: z.string().min(1).max(1024).optional(),
    limit: Limit.optional(),
    cursor: z.string().min(1).max(2048).optional(),
    order: z.enum(["asc", "desc"]).optional(),
  })
  .strict()
  .refine((q) => q.start_time === undefined || q.end_time === undefined || q.start_time <= q.end_time, {
    message: "start_time must not be after end_time",
    path: ["start_time"],
  });
export type SearchQuery = z.output<typeof SearchQuery>;

/** The filter one aggregator applies (the service and domain are the aggregator itself). */
export interface LogFilter {
  levels?: Level[];
  startTime?: number;
  endTime?: number;
  userId?: string;
  sessionId?: string;
  requestId?: string;
  traceId?: string;
  category?: string;
  patternId?: string;
  /** set by the aggregator: patternId and every id merged into the same pattern */
  patternIds?: string[];
  q?: string;
}

/** Position strictly after which a page continues: (timestamp, seq) in the page's order. */
export interface PagePosition {
  ts: number;
  seq: number;
}

export interface AggregatorSearch {
  filter: LogFilter;
  order: "asc" | "desc";
  limit: number;
  after?: PagePosition;
}

export function toLogFilter(q: SearchQuery): LogFilter {
  const f: LogFilter = {};
  if (q.level) f.levels = q.level;
  if (q.start_time !== undefined) f.startTime = q.start_time;
  if (q.end_time !== undefined) f.endTime = q.end_time;
  if (q.user_id) f.userId = q.user_id;
  if (q.session_id) f.sessionId = q.session_id;
  if (q.request_id) f.requestId = q.request_id;
  if (q.trace_id) f.traceId = q.trace_id;
  if (q.category) f.category = q.category;
  if (q.pattern_id) f.patternId = q.pattern_id;
  if (q.q) f.q = q.q;
  return f;
}

export const StatsQuery = z
  .object({
    domain: DomainName.optional(),
    resolution: z.enum(["1s", "1m"]).optional(),
    window: Window(86_400_000).optional(),
  })
  .strict();

export const ErrorRateQuery = z
  .object({
    domain: DomainName.optional(),
    window: Window(86_400_000).optional(),
    threshold: UnitInterval.optional(),
    min_events: z
      .string()
      .transform((s, ctx) => {
        if (!/^\d{1,9}$/.test(s)) {
          ctx.addIssue({ code: "custom", message: "must be an integer >= 0" });
          return z.NEVER;
        }
        return Number(s);
      })
      .optional(),
  })
  .strict();
