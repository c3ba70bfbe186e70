// The log entry: what clients send (LogEntryInput), how it is normalised, and the stored form
// (StoredLogEntry) that the aggregator, the queries, the data-service client and the reference
// data service all share. This module is the single source of truth for those shapes.
import { z } from "zod";

export const LEVELS = ["error", "warn", "info", "debug"] as const;
export const Level = z.enum(LEVELS);
export type Level = z.infer<typeof Level>;

export const CATEGORIES = ["auth", "data", "api", "ui"] as const;
export const Category = z.enum(CATEGORIES);
export type Category = z.infer<typeof Category>;

export const LIMITS = {
  messageBytes: 32 * 1024, // longer messages are truncated and flagged, not rejected
  metadataBytes: 16 * 1024,
  metadataDepth: 8,
  stackTraceBytes: 64 * 1024,
  refFieldChars: 256, // user_id, session_id, request_id
  urlChars: 2048,
} as const;

const LEVEL_ALIASES: Record<string, Level> = {
  error: "error",
  err: "error",
  fatal: "error",
  critical: "error",
  crit: "error",
  warn: "warn",
  warning: "warn",
  info: "info",
  information: "info",
  debug: "debug",
  trace: "debug",
};

export function normaliseLevel(value: string): Level | undefined {
  return LEVEL_ALIASES[value.trim().toLowerCase()];
}

export const SERVICE_NAME_RE = /^[A-Za-z0-9._-]{1,128}$/;
export const ServiceName = z
  .string({ error: "must be a string" })
  .regex(SERVICE_NAME_RE, "must be 1-128 characters of [A-Za-z0-9._-]");

const DOMAIN_RE =
  /^(?=.{1,253}$)[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*$/;
export const DomainName = z
  .string({ error: "must be a string" })
  .regex(DOMAIN_RE, "must be hostname-like (labels of [A-Za-z0-9_-] separated by dots)")
  .transform((d) => d.toLowerCase());

export const ID_RE = /^[A-Za-z0-9_-]{1,64}$/;
export const LogId = z.string({ error: "must be a string" }).regex(ID_RE, "must be 1-64 characters of [A-Za-z0-9_-]");

/** Earliest and latest instants we accept as milliseconds: below 1e11 is almost surely seconds. */
const MIN_MS = 1e11; // 1973-03-03 in ms, 5138 AD in seconds
const MAX_MS = 8.64e15; // the largest Date

/** Parses a timestamp given as ms since epoch or ISO-8601; returns an error text when it can't. */
export function parseTimestamp(value: unknown): number | string {
  if (typeof value === "number") {
    if (!Number.isFinite(value)) return "must be a finite number of milliseconds since epoch";
    if (Math.abs(value) < MIN_MS)
      return "looks like seconds since epoch; send milliseconds (value * 1000) or an ISO-8601 string";
    if (value < 0 || value > MAX_MS) return "is out of range";
    return Math.floor(value);
  }
  if (typeof value === "string") {
    if (!/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(value.trim())) {
      return "must be milliseconds since epoch or an ISO-8601 date-time";
    }
    const ms = Date.parse(value.trim());
    if (!Number.isFinite(ms) || ms < MIN_MS) return "is not a valid ISO-8601 date-time";
    return ms;
  }
  return "must be milliseconds since epoch or an ISO-8601 string";
}

export const Timestamp = z.unknown().transform((value, ctx) => {
  const parsed = parseTimestamp(value);
  if (typeof parsed === "string") {
    ctx.addIssue({ code: "custom", message: parsed });
    return z.NEVER;
  }
  return parsed;
});

export function utf8Length(s: string): number {
  let bytes = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

/** Cuts a string to at most maxBytes of UTF-8 without splitting a character. */
export function truncateUtf8(s: string, maxBytes: number): string {
  if (s.length * 3 <= maxBytes || utf8Length(s) <= maxBytes) return s;
  const buf = new Uint8Array(maxBytes);
  const { read } = new TextEncoder().encodeInto(s, buf);
  return s.slice(0, read);
}

const FORBIDDEN_KEYS = new Set(["__proto__", "constructor", "prototype"]);

/** Walks metadata without copying it (copying a `__proto__` key is how pollution happens). */
function checkMetadata(value: unknown): { path: (string | number)[]; message: string } | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { path: [], message: "must be an object" };
  }
  const walk = (
    node: unknown,
    path: (string | number)[],
    depth: number,
  ): { path: (string | number)[]; message: string } | undefined => {
    if (typeof node !== "object" || node === null) {
      if (typeof node === "number" && !Number.isFinite(node)) return { path, message: "numbers must be finite" };
      return undefined;
    }
    if (depth > LIMITS.metadataDepth) return { path, message: `nesting deeper than ${LIMITS.metadataDepth} levels` };
    for (const key of Object.keys(node)) {
      if (FORBIDDEN_KEYS.has(key)) return { path: [...path, key], message: `key "${key}" is not allowed` };
      const bad = walk(
        (node as Record<string, unknown>)[key],
        [...path, Array.isArray(node) ? Number(key) : key],
        depth + 1,
      );
      if (bad) return bad;
    }
    return undefined;
  };
  const bad = walk(value, [], 1);
  if (bad) return bad;
  if (utf8Length(JSON.stringify(value)) > LIMITS.metadataBytes) {
    return { path: [], message: `must serialise to at most ${LIMITS.metadataBytes} bytes` };
  }
  return undefined;
}

export const Metadata = z.unknown().transform((value, ctx) => {
  const bad = checkMetadata(value);
  if (bad) {
    ctx.addIssue({ code: "custom", message: bad.message, path: bad.path });
    return z.NEVER;
  }
  return value as Record<string, unknown>;
});

const boundedString = (max: number) =>
  z.string({ error: "must be a string" }).max(max, `must be at most ${max} characters`);

const RefField = boundedString(LIMITS.refFieldChars);

export const RequestContext = z.object({
  url: boundedString(LIMITS.urlChars).optional(),
  method: boundedString(16).optional(),
  ip: boundedString(64).optional(),
});
export type RequestContext = z.infer<typeof RequestContext>;

const LevelInput = z.string({ error: "must be one of error, warn, info, debug" }).transform((value, ctx) => {
  const level = normaliseLevel(value);
  if (!level) {
    ctx.addIssue({ code: "custom", message: `"${value.slice(0, 32)}" is not a level (error, warn, info, debug)` });
    return z.NEVER;
  }
  return level;
});

/** What a client sends; unknown fields are dropped. */
export const LogEntryInput = z.object({
  id: LogId.optional(),
  timestamp: Timestamp.optional(),
  level: LevelInput,
  message: z.string({ error: "must be a string" }).min(1, "must not be empty"),
  service: ServiceName,
  domain: DomainName.optional(),
  user_id: RefField.optional(),
  session_id: RefField.optional(),
  request_id: RefField.optional(),
  metadata: Metadata.optional(),
  context: RequestContext.optional(),
  stack_trace: z
    .string({ error: "must be a string" })
    .refine((s) => utf8Length(s) <= LIMITS.stackTraceBytes, `must be at most ${LIMITS.stackTraceBytes} bytes`)
    .optional(),
  category: z.enum(CATEGORIES, { error: "must be one of auth, data, api, ui" }).optional(),
  priority: z
    .number({ error: "must be an integer 1-5" })
    .int("must be an integer 1-5")
    .min(1, "must be an integer 1-5")
    .max(5, "must be an integer 1-5")
    .optional(),
});
export type LogEntryInput = z.output<typeof LogEntryInput>;

/** The stored form: the input fields plus id, timestamp (ms), received_at (ms) and pattern_id. */
export const StoredLogEntry = z.object({
  id: LogId,
  timestamp: z.number().int(),
  received_at: z.number().int(),
  level: Level,
  message: z.string(),
  service: ServiceName,
  domain: z.string(),
  user_id: z.string().optional(),
  session_id: z.string().optional(),
  request_id: z.string().optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
  context: RequestContext.optional(),
  stack_trace: z.string().optional(),
  category: Category.optional(),
  priority: z.number().int().min(1).max(5).optional(),
  pattern_id: z.string().nullable().optional(),
  truncated: z.boolean().optional(),
  /** Per domain/service sequence assigned by the aggregator; orders logs within a service. */
  seq: z.number().int().optional(),
});
export type StoredLogEntry = z.infer<typeof StoredLogEntry>;

/** An entry that passed validation, with defaults applied, before the aggregator stores it. */
export type NormalisedLogEntry = Omit<StoredLogEntry, "pattern_id" | "seq">;

export const DEFAULT_DOMAIN = "default";

/**
 * Turns a validated input into the entry the aggregator stores. `makeId` is injected so this
 * module stays free of randomness (tests pass a counter).
 */
export function normaliseEntry(input: LogEntryInput, receivedAt: number, makeId: () => string): NormalisedLogEntry {
  // Lone surrogates become U+FFFD here, once, so storage, search and tail all agree.
  const message = truncateUtf8(input.message.toWellFormed(), LIMITS.messageBytes);
  const entry: NormalisedLogEntry = {
    id: input.id ?? makeId(),
    timestamp: input.timestamp ?? receivedAt,
    received_at: receivedAt,
    level: input.level,
    message,
    service: input.service,
    domain: input.domain ?? DEFAULT_DOMAIN,
  };
  if (message.length !== input.message.length && utf8Length(input.message) > LIMITS.messageBytes)
    entry.truncated = true;
  if (input.user_id !== undefined) entry.user_id = input.user_id;
  if (input.session_id !== undefined) entry.session_id = input.session_id;
  if (input.request_id !== undefined) entry.request_id = input.request_id;
  if (input.metadata !== undefined) entry.metadata = input.metadata;
  if (input.context !== undefined) entry.context = input.context;
  if (input.stack_trace !== undefined) entry.stack_trace = input.stack_trace.toWellFormed();
  if (input.category !== undefined) entry.category = input.category;
  if (input.priority !== undefined) entry.priority = input.priority;
  return entry;
}

/** The aggregator instance name for a domain/service pair. */
export function aggregatorName(domain: string, service: string): string {
  return `${domain}/${service}`;
}

/** The optional columns both stores keep (SQLite in the aggregator, D1 in the data service). */
export type OptionalColumns = {
  user_id: string | null;
  session_id: string | null;
  request_id: string | null;
  category: string | null;
  priority: number | null;
  stack_trace: string | null;
  metadata: string | null; // JSON
  context: string | null; // JSON
  truncated: number | null;
};

/** Copies a stored row's optional columns onto an entry, leaving absent fields out. */
export function withOptionalColumns(e: StoredLogEntry, row: OptionalColumns): StoredLogEntry {
  if (row.user_id !== null) e.user_id = row.user_id;
  if (row.session_id !== null) e.session_id = row.session_id;
  if (row.request_id !== null) e.request_id = row.request_id;
  if (row.category !== null) e.category = row.category as Category;
  if (row.priority !== null) e.priority = row.priority;
  if (row.stack_trace !== null) e.stack_trace = row.stack_trace;
  if (row.metadata !== null) e.metadata = JSON.parse(row.metadata);
  if (row.context !== null) e.context = JSON.parse(row.context);
  if (row.truncated) e.truncated = true;
  return e;
}
