// The pattern shapes of the contract (spec/API.md §2 "Pattern") and the learn request that
// upserts patterns by id. Shared by the logger's routes, its DataServiceClient and the reference
// data service (data-service/). Pure zod: no Workers APIs.
import { z } from "zod";
import { Category, CATEGORIES, LogId, ServiceName, Timestamp } from "./log-entry.js";

export const PATTERN_TYPES = ["error", "warning", "info"] as const;
export const PatternType = z.enum(PATTERN_TYPES, { error: "must be one of error, warning, info" });
export type PatternType = z.infer<typeof PatternType>;

export const SEVERITIES = ["low", "medium", "high", "critical"] as const;
export const Severity = z.enum(SEVERITIES, { error: "must be one of low, medium, high, critical" });
export type Severity = z.infer<typeof Severity>;

export const PATTERN_LIMITS = {
  patternChars: 4096, // a template is a masked log line; the miner caps lines at a few KB
  nameChars: 128,
  servicesPerPattern: 100,
  patternsPerLearn: 1000,
} as const;

/** A pattern id: the same alphabet as log ids, since it is stored on log entries as `pattern_id`. */
export const PatternId = LogId;

export const TrendPoint = z.object({ time: z.number().int(), count: z.number().int().min(0) });
export type TrendPoint = z.infer<typeof TrendPoint>;

/** A pattern as the APIs return it. `trend` is present when a time range was asked for. */
export const Pattern = z.object({
  id: PatternId,
  pattern: z.string(),
  type: PatternType,
  frequency: z.number().int().min(0),
  first_seen: z.number().int(),
  last_seen: z.number().int(),
  services: z.array(z.string()),
  severity: Severity,
  name: z.string().optional(),
  category: Category.optional(),
  trend: z.array(TrendPoint).optional(),
});
export type Pattern = z.infer<typeof Pattern>;

/** One pattern in a learn request. Without `id`, the id is derived from the text (derivePatternId). */
export const LearnPatternInput = z.object({
  id: PatternId.optional(),
  pattern: z
    .string({ error: "must be a string" })
    .min(1, "must not be empty")
    .max(PATTERN_LIMITS.patternChars, `must be at most ${PATTERN_LIMITS.patternChars} characters`),
  name: z.string({ error: "must be a string" }).min(1).max(PATTERN_LIMITS.nameChars).optional(),
  type: PatternType,
  severity: Severity,
  category: z.enum(CATEGORIES, { error: "must be one of auth, data, api, ui" }).optional(),
  /** cumulative count as the sender knows it; the store keeps the max of stored and sent */
  frequency: z
    .number({ error: "must be an integer >= 0" })
    .int("must be an integer >= 0")
    .min(0, "must be an integer >= 0")
    .optional(),
  first_seen: Timestamp.optional(),
  last_seen: Timestamp.optional(),
  services: z.array(ServiceName).max(PATTERN_LIMITS.servicesPerPattern).optional(),
});
export type LearnPatternInput = z.output<typeof LearnPatternInput>;

export const LearnPatternsRequest = z.object({
  patterns: z.array(LearnPatternInput).min(1, "must hold at least one pattern").max(PATTERN_LIMITS.patternsPerLearn),
});
export type LearnPatternsRequest = z.output<typeof LearnPatternsRequest>;

/**
 * A stable id for a pattern text: `p_` + 64-bit FNV-1a of its UTF-16 code units, in hex.
 * Synchronous and dependency-free so the logger, scripts and the data service derive the same id.
 */
export function derivePatternId(pattern: string): string {
  let h = 0xcbf29ce484222325n;
  const prime = 0x100000001b3n;
  const mask = 0xffffffffffffffffn;
  for (let i = 0; i < pattern.length; i++) {
    h ^= BigInt(pattern.charCodeAt(i));
    h = (h * prime) & mask;
  }
  return `p_${h.toString(16).padStart(16, "0")}`;
}
