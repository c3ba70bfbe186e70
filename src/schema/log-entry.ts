// The log entry: what clients send (LogEntryInput), how it is normalised, and the stored form
// (StoredLogEntry) that the aggregator, the queries, the data-service client and the reference
// data service all share. This module is the single source of truth for those shapes.
import { z } from "zod";
import { knownLevel, toLevel } from "../core/levels.js";
import { truncateUtf8, utf8Length } from "../core/utf8.js";

// One UTF-8 byte count for the whole tree (src/core/utf8.ts), re-exported for the schema's callers.
export { truncateUtf8, utf8Length };

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

/** A known level name (see src/core/levels.ts) → its stored level; undefined when unknown. */
export function normaliseLevel(value: string): Level | undefined {
  return knownLevel(value);
}

/** `.` and `..` are path segments: a service so named could never be reached by its routes. */
export const SERVICE_NAME_RE = /^(?!\.{1,2}$)[A-Za-z0-9._-]{1,128}$/;
export const ServiceName = z
  .string({ error: "must be a string" })
  .regex(SERVICE_NAME_RE, "must be 1-128 characters of [A-Za-z0-9._-], and not . or ..");

const DOMAIN_RE =
  /^(?=.{1,253}$)[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*$/;
export const DomainName = z
  .string({ error: "must be a string" })
  .regex(DOMAIN_RE, "must be hostname-like (labels of [A-Za-z0-9_-] separated by dots)")
  .transform((d) => d.toLowerCase());

export const ID_RE = /^[A-Za-z0-9_-]{1,64}$/;
export const LogId = z.string({ error: "must be a string" }).regex(ID_RE, "must be 1-64 characters of [A-Za-z0-9_-]");

/** A timestamp further ahead of the receive time than this is refused (a clock or unit bug);
 * within it, clock skew is tolerated and counted at receive time (src/core/rolling-counters.ts). */
export const MAX_FUTURE_MS = 24 * 60 * 60 * 1000;

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
    // Date.parse rolls 2026-02-30 over to March 2; a date that does not exist is refused instead.
    const [y, m, d] = value.trim().slice(0, 10).split("-").map(Number);
    const day = new Date(Date.UTC(y, m - 1, d));
    if (day.getUTCFullYear() !== y || day.getUTCMonth() !== m - 1 || day.getUTCDate() !== d) {
      return `is not a valid ISO-8601 date-time (${value.trim().slice(0, 10)} does not exist)`;
    }
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
  // Size is not checked here: oversized metadata is cut down after redaction (boundMetadata).
  return walk(value, [], 1);
}

/** Longest string value kept whole when metadata is over LIMITS.metadataBytes. */
const METADATA_STRING_BYTES = 1024;

/**
 * Metadata within LIMITS.metadataBytes, and whether it was cut. Over the limit, long strings are
 * cut to METADATA_STRING_BYTES first (a 20 KB attribute keeps its key and its start); if it is
 * still too big, the whole object becomes `{ _truncated: "<its JSON text, cut>" }`.
 */
export function boundMetadata(meta: Record<string, unknown>): {
  metadata: Record<string, unknown>;
  truncated: boolean;
} {
  if (utf8Length(JSON.stringify(meta)) <= LIMITS.metadataBytes) return { metadata: meta, truncated: false };
  const cut = (node: unknown): unknown => {
    if (typeof node === "string") return truncateUtf8(node, METADATA_STRING_BYTES);
    if (Array.isArray(node)) return node.map(cut);
    if (typeof node === "object" && node !== null) {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(node)) out[k] = cut(v);
      return out;
    }
    return node;
  };
  const smaller = cut(meta) as Record<string, unknown>;
  const text = JSON.stringify(smaller);
  if (utf8Length(text) <= LIMITS.metadataBytes) return { metadata: smaller, truncated: true };
  return { metadata: { _truncated: truncateUtf8(text, LIMITS.metadataBytes - 64) }, truncated: true };
}

/** Metadata as stored: an object of safe keys, depth ≤ 8, at most LIMITS.metadataBytes. */
export const Metadata = z.unknown().transform((value, ctx) => {
  const bad = checkMetadata(value);
  if (bad) {
    ctx.addIssue({ code: "custom", message: bad.message, path: bad.path });
    return z.NEVER;
  }
  if (utf8Length(JSON.stringify(value)) > LIMITS.metadataBytes) {
    ctx.addIssue({ code: "custom", message: `must serialise to at most ${LIMITS.metadataBytes} bytes`, path: [] });
    return z.NEVER;
  }
  return value as Record<string, unknown>;
});

/** Metadata as a client sends it: like Metadata, but oversized is cut and flagged (boundMetadata), not refused. */
export const MetadataInput = z.unknown().transform((value, ctx) => {
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

/** Any level name or number (src/core/levels.ts); never refused for its name. */
const LevelInput = z.union([z.string(), z.number()], { error: "must be a level name or number" }).transform(toLevel);

/** Trace and span ids: hex, lower-cased when stored (OTel: 32 and 16 characters). */
export const HEX_ID_RE = /^[0-9a-fA-F]{1,64}$/;
const HexId = z
  .string({ error: "must be a string" })
  .regex(HEX_ID_RE, "must be 1-64 hex characters")
  .transform((s) => s.toLowerCase());

/**
 * What a client sends, after liberalEntry (below) has mapped common shipper spellings onto these
 * names and moved every other top-level field into metadata.
 */
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
  metadata: MetadataInput.optional(),
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
  trace_id: HexId.optional(),
  span_id: HexId.optional(),
  /** The level as the client wrote it, when that is not already one of the four stored names. */
  severity: boundedString(64).optional(),
});
export type LogEntryInput = z.output<typeof LogEntryInput>;

/** The fields LogEntryInput models; any other top-level field goes into metadata. */
const MODELLED = new Set([
  "id",
  "timestamp",
  "level",
  "message",
  "service",
  "domain",
  "user_id",
  "session_id",
  "request_id",
  "metadata",
  "context",
  "stack_trace",
  "category",
  "priority",
  "trace_id",
  "span_id",
  "severity",
]);

export interface LiberalEntry {
  /** The entry with modelled field names, for LogEntryInput. */
  raw: unknown;
  /** True when liberalEntry cut an over-long field (the stored entry is then flagged). */
  truncated: boolean;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Maps what real shippers send onto the modelled fields, before validation. Pure; never throws.
 * - pino/Bunyan: `msg` → message, `time` → timestamp, numeric `level`, `err`/`error` objects →
 *   stack_trace (their other fields stay in metadata.err), `name` → service when none is given.
 * - `@timestamp` (ECS, Logstash) → timestamp; `severity`/`levelname` → level when level is absent.
 * - A non-string message (number, object) becomes its JSON text.
 * - The level as written is kept as `severity` when it is not one of the stored names.
 * - trace_id/span_id (also traceId/spanId) that are not hex stay in metadata instead.
 * - Every other top-level field is moved into metadata (metadata's own keys win a clash; the
 *   top-level one is then kept as `_<key>`).
 * - Over-long ref fields, context values and stack traces are cut and flagged, not refused.
 * `defaults.service` fills a missing service (the `?service=` query parameter).
 */
export function liberalEntry(input: unknown, defaults: { service?: string } = {}): LiberalEntry {
  if (!isObject(input)) return { raw: input, truncated: false };
  const src: Record<string, unknown> = { ...input };
  const out: Record<string, unknown> = {};
  let truncated = false;
  const move = (from: string, to: string) => {
    if (out[to] === undefined && src[from] !== undefined) {
      out[to] = src[from];
      delete src[from];
    }
  };
  for (const key of MODELLED) if (Object.hasOwn(src, key) && key !== "metadata") move(key, key);
  move("msg", "message");
  move("time", "timestamp");
  move("@timestamp", "timestamp");
  move("levelname", "level");
  move("traceId", "trace_id");
  move("spanId", "span_id");
  if (out.level === undefined && typeof out.severity === "string") out.level = out.severity;
  if (out.service === undefined && typeof src.name === "string" && SERVICE_NAME_RE.test(src.name))
    move("name", "service");
  if (out.service === undefined && defaults.service !== undefined) out.service = defaults.service;

  if (out.message !== undefined && out.message !== null && typeof out.message !== "string") {
    out.message = JSON.stringify(out.message) ?? String(out.message);
  }
  for (const errKey of ["err", "error"]) {
    const err = src[errKey];
    if (!isObject(err) || typeof err.stack !== "string") continue;
    if (out.stack_trace === undefined) out.stack_trace = err.stack;
    const { stack: _stack, ...rest } = err;
    if (Object.keys(rest).length > 0) src[errKey] = rest;
    else delete src[errKey];
    if (out.message === undefined && typeof err.message === "string" && err.message) out.message = err.message;
    break;
  }
  if ((typeof out.level === "string" || typeof out.level === "number") && out.severity === undefined) {
    const written = String(out.level);
    if (!(LEVELS as readonly string[]).includes(written)) out.severity = written.slice(0, 64);
  }
  for (const key of ["trace_id", "span_id"]) {
    if (out[key] === undefined) continue;
    if (typeof out[key] === "string" && HEX_ID_RE.test(out[key])) continue;
    src[key] = out[key]; // not a hex id: kept as metadata rather than refused
    delete out[key];
  }
  for (const key of ["user_id", "session_id", "request_id"]) {
    const v = out[key];
    if (typeof v === "number") out[key] = String(v);
    if (typeof out[key] === "string" && (out[key] as string).length > LIMITS.refFieldChars) {
      out[key] = (out[key] as string).slice(0, LIMITS.refFieldChars);
      truncated = true;
    }
  }
  if (typeof out.stack_trace === "string" && utf8Length(out.stack_trace) > LIMITS.stackTraceBytes) {
    out.stack_trace = truncateUtf8(out.stack_trace, LIMITS.stackTraceBytes);
    truncated = true;
  }
  if (isObject(out.context)) {
    const ctx: Record<string, unknown> = { ...out.context };
    for (const [k, max] of [
      ["url", LIMITS.urlChars],
      ["method", 16],
      ["ip", 64],
    ] as const) {
      if (typeof ctx[k] === "string" && (ctx[k] as string).length > max) {
        ctx[k] = (ctx[k] as string).slice(0, max);
        truncated = true;
      }
    }
    out.context = ctx;
  }

  const extra = Object.keys(src).filter((k) => k !== "metadata");
  if (extra.length === 0) {
    if (src.metadata !== undefined) out.metadata = src.metadata;
    return { raw: out, truncated };
  }
  if (src.metadata !== undefined && !isObject(src.metadata)) {
    out.metadata = src.metadata; // refused by the validator as before: not an object
    return { raw: out, truncated };
  }
  const metadata: Record<string, unknown> = {};
  const given = (src.metadata ?? {}) as Record<string, unknown>;
  for (const k of extra) setOwn(metadata, Object.hasOwn(given, k) ? `_${k}` : k, src[k]);
  for (const k of Object.keys(given)) setOwn(metadata, k, given[k]);
  out.metadata = metadata;
  return { raw: out, truncated };
}

/** Sets an own property even for `__proto__`, so the validator sees (and refuses) such a key. */
function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

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
  trace_id: z.string().optional(),
  span_id: z.string().optional(),
  severity: z.string().optional(),
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
export function normaliseEntry(
  input: LogEntryInput,
  receivedAt: number,
  makeId: () => string,
  alreadyTruncated = false,
): NormalisedLogEntry {
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
  if (alreadyTruncated || (message.length !== input.message.length && utf8Length(input.message) > LIMITS.messageBytes))
    entry.truncated = true;
  if (input.user_id !== undefined) entry.user_id = input.user_id;
  if (input.session_id !== undefined) entry.session_id = input.session_id;
  if (input.request_id !== undefined) entry.request_id = input.request_id;
  if (input.metadata !== undefined) {
    const bounded = boundMetadata(input.metadata);
    entry.metadata = bounded.metadata;
    if (bounded.truncated) entry.truncated = true;
  }
  if (input.trace_id !== undefined) entry.trace_id = input.trace_id;
  if (input.span_id !== undefined) entry.span_id = input.span_id;
  if (input.severity !== undefined) entry.severity = input.severity;
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
  // Optional so a store that has not added these columns yet still type-checks (NULL = absent).
  trace_id?: string | null;
  span_id?: string | null;
  severity?: string | null;
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
  if (row.trace_id != null) e.trace_id = row.trace_id;
  if (row.span_id != null) e.span_id = row.span_id;
  if (row.severity != null) e.severity = row.severity;
  return e;
}
