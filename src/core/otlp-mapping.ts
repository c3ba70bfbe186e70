// OTLP logs (JSON encoding, or protobuf decoded to the same shape by src/core/otlp-proto.ts;
// parsed by src/schema/otlp.ts) → raw log entries for
// `ingestEntries`, plus a reason for every record that cannot become one. Pure: no Workers APIs,
// no clock, no randomness. Used by POST /v1/logs (src/http/otlp.ts); the README's
// "OpenTelemetry" section is the user-facing version of the table below.
//
// | OTLP                                             | log entry                                  |
// |--------------------------------------------------|--------------------------------------------|
// | resource `service.name`                           | service (chars outside [A-Za-z0-9._-] → _) |
// | resource `service.namespace` (hostname-like)      | domain                                     |
// | `severityNumber` (1-8 / 9-12 / 13-16 / 17-24)     | level debug / info / warn / error          |
// | `severityText` when severityNumber is 0/absent    | level (src/core/levels.ts; unknown → info) |
// | `severityText` (else the number)                  | severity (the original, kept)              |
// | `body` (string; other kinds as JSON text)         | message                                    |
// | `timeUnixNano`, else `observedTimeUnixNano`       | timestamp (ms)                             |
// | `traceId`, `spanId` (hex; base64 in JSON too)     | trace_id, span_id (traceId also request_id)|
// | `url.full`/`http.url`, `http.request.method`/`http.method`, `client.address`/`http.client_ip` | context.url/method/ip |
// | `user.id`/`enduser.id`, `session.id`              | user_id, session_id                        |
// | `exception.stacktrace` (else `exception.type: exception.message`) | stack_trace               |
// | other record attributes                           | metadata (top level)                       |
// | flags, severity number/text, scope, eventName, other resource attributes | metadata.otel     |
import { LIMITS, type Level, truncateUtf8, utf8Length } from "../schema/log-entry.js";
import { knownLevel, otelSeverityToLevel } from "./levels.js";
import { type OtlpAnyValue, type OtlpKeyValue, OtlpLogRecord, type OtlpLogsRequest } from "../schema/otlp.js";

export const UNKNOWN_SERVICE = "unknown_service";
/** Resource attributes copied into every record's metadata.otel.resource, at most this many bytes. */
export const MAX_RESOURCE_METADATA_BYTES = 4096;

export interface MappedRecord {
  /** Where the record sits in the request: resourceLogs.R.scopeLogs.S.logRecords.I */
  path: string;
  /** A raw entry in the shape of LogEntryInput; ingestEntries validates it like any other. */
  entry: Record<string, unknown>;
}

export interface RejectedRecord {
  path: string;
  reason: string;
}

export interface OtlpMapping {
  entries: MappedRecord[];
  rejected: RejectedRecord[];
}

/** Records in a request, counted before mapping so an oversized request costs no work. */
export function countOtlpRecords(req: OtlpLogsRequest): number {
  let n = 0;
  for (const rl of req.resourceLogs ?? []) for (const sl of rl.scopeLogs ?? []) n += sl.logRecords?.length ?? 0;
  return n;
}

/** A service name the logger accepts: `[A-Za-z0-9._-]{1,128}`, other characters become `_`. */
export function toServiceName(raw: string | undefined, fallback = UNKNOWN_SERVICE): string {
  const s = (raw ?? "")
    .trim()
    .replace(/[^A-Za-z0-9._-]/g, "_")
    .slice(0, 128);
  return s.length > 0 ? s : fallback;
}

const DOMAIN_RE =
  /^(?=.{1,253}$)[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*$/;

/** OTLP SeverityNumber ranges (logs data model): TRACE 1-4, DEBUG 5-8, INFO 9-12, WARN 13-16, ERROR 17-20, FATAL 21-24. */
export function severityToLevel(
  severityNumber: number | undefined,
  severityText: string | undefined,
): Level | undefined {
  if (severityNumber !== undefined && severityNumber > 0) return otelSeverityToLevel(severityNumber);
  if (severityText) return knownLevel(severityText) ?? "info"; // "WARN2" → warn; never refused
  return undefined;
}

/** ns since the epoch (string or number) → ms, or undefined for 0/absent. */
export function unixNanoToMs(v: string | number | undefined): number | undefined {
  if (v === undefined) return undefined;
  const ms = typeof v === "number" ? Math.floor(v / 1e6) : Number(v.length > 6 ? v.slice(0, -6) : "0");
  return ms > 0 ? ms : undefined;
}

class TooDeep extends Error {}

/** Sets a key as an own property, even `__proto__`, so the entry validator sees (and refuses) it. */
function put(obj: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * AnyValue → plain JSON. `depth` is the metadata depth of the object this value sits in (the
 * top-level metadata object is 1, as in the entry validator); a nested object or array deeper
 * than LIMITS.metadataDepth throws TooDeep.
 */
export function anyValueToJson(
  v: OtlpAnyValue | undefined,
  depth = 1,
  maxDepth: number = LIMITS.metadataDepth,
): unknown {
  if (v === undefined) return null;
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.intValue !== undefined) {
    const n = Number(v.intValue);
    return Number.isSafeInteger(n) ? n : String(v.intValue); // beyond 2^53: keep every digit as text
  }
  if (v.doubleValue !== undefined) return v.doubleValue; // "NaN"/"Infinity" stay text (JSON has no such numbers)
  if (v.bytesValue !== undefined) return v.bytesValue; // base64, as sent
  if (v.arrayValue !== undefined) {
    if (depth + 1 > maxDepth) throw new TooDeep();
    return (v.arrayValue.values ?? []).map((x) => anyValueToJson(x, depth + 1, maxDepth));
  }
  if (v.kvlistValue !== undefined) {
    if (depth + 1 > maxDepth) throw new TooDeep();
    return kvToObject(v.kvlistValue.values, depth + 1, maxDepth);
  }
  return null;
}

function kvToObject(
  kvs: OtlpKeyValue[] | undefined,
  depth: number,
  maxDepth: number = LIMITS.metadataDepth,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const kv of kvs ?? []) put(out, kv.key, anyValueToJson(kv.value, depth, maxDepth));
  return out;
}

/** Takes the first of `keys` present in `attrs` as text, deleting it (it becomes a field). */
function take(attrs: Record<string, unknown>, ...keys: string[]): string | undefined {
  for (const k of keys) {
    if (!Object.hasOwn(attrs, k)) continue;
    const v = attrs[k];
    if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") {
      delete attrs[k];
      const s = String(v);
      if (s.length > 0) return s;
    }
  }
  return undefined;
}

/** A non-cryptographic 53-bit hash (cyrb53, public domain), twice with different seeds. */
export function contentHash(text: string): string {
  const h = (seed: number) => {
    let h1 = 0xdeadbeef ^ seed;
    let h2 = 0x41c6ce57 ^ seed;
    for (let i = 0; i < text.length; i++) {
      const ch = text.charCodeAt(i);
      h1 = Math.imul(h1 ^ ch, 2654435761);
      h2 = Math.imul(h2 ^ ch, 1597334677);
    }
    h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
    h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
    return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(36).padStart(11, "0");
  };
  return h(1) + h(2);
}

/**
 * The id of a record with a timestamp is derived from its content, so an exporter that retries a
 * request (the OTel SDK does on 429/502/503/504) resubmits the same ids and the aggregator's
 * idempotency drops the copies. Records with neither timeUnixNano nor observedTimeUnixNano get a
 * logger-assigned id: two identical ones are probably two real events.
 */
export function otlpRecordId(service: string, domain: string, record: OtlpLogRecord): string {
  return `otlp_${contentHash(`${domain}/${service}\n${JSON.stringify(record)}`)}`;
}

interface ResourceInfo {
  service: string;
  domain?: string;
  otelResource?: Record<string, unknown>;
  resourceDropped?: boolean;
}

function resourceInfo(attributes: OtlpKeyValue[] | undefined): ResourceInfo {
  const attrs: Record<string, unknown> = {};
  let dropped = false;
  let rawService: string | undefined;
  for (const kv of attributes ?? []) {
    if (kv.key === "service.name") {
      rawService = kv.value?.stringValue;
      continue;
    }
    try {
      put(attrs, kv.key, anyValueToJson(kv.value, 3)); // lands in metadata.otel.resource (depth 3)
    } catch {
      dropped = true; // nested too deep for metadata: left out, flagged
    }
  }
  const info: ResourceInfo = { service: toServiceName(rawService) };
  const ns = attrs["service.namespace"];
  if (typeof ns === "string" && DOMAIN_RE.test(ns)) info.domain = ns.toLowerCase();
  if (Object.keys(attrs).length > 0) {
    if (utf8Length(JSON.stringify(attrs)) <= MAX_RESOURCE_METADATA_BYTES) info.otelResource = attrs;
    else dropped = true;
  }
  if (dropped) info.resourceDropped = true;
  return info;
}

function firstIssue(error: { issues: { path: PropertyKey[]; message: string }[] }): string {
  const i = error.issues[0];
  return i ? `${i.path.map(String).join(".") || "record"}: ${i.message}` : "invalid record";
}

/** Maps one OTLP record; a string is the reason it was rejected. */
export function mapOtlpRecord(
  raw: unknown,
  resource: ResourceInfo,
  scope: { name?: string; version?: string } | undefined,
): Record<string, unknown> | string {
  const parsed = OtlpLogRecord.safeParse(raw);
  if (!parsed.success) return firstIssue(parsed.error);
  const r = parsed.data;

  let attrs: Record<string, unknown>;
  try {
    attrs = kvToObject(r.attributes, 1);
  } catch (e) {
    if (e instanceof TooDeep) return `attributes: nested deeper than ${LIMITS.metadataDepth} levels`;
    throw e;
  }
  const time = r.timeUnixNano ?? r.observedTimeUnixNano;
  const timestamp = unixNanoToMs(r.timeUnixNano) ?? unixNanoToMs(r.observedTimeUnixNano);
  if (timestamp !== undefined && timestamp < 1e11) {
    return `timeUnixNano: ${String(time)} is not nanoseconds since the epoch (too small; milliseconds or seconds?)`;
  }

  const excType = typeof attrs["exception.type"] === "string" ? (attrs["exception.type"] as string) : undefined;
  const excMessage =
    typeof attrs["exception.message"] === "string" ? (attrs["exception.message"] as string) : undefined;
  const stack = take(attrs, "exception.stacktrace");
  const excSummary = excType || excMessage ? [excType, excMessage].filter(Boolean).join(": ") : undefined;

  let message: string | undefined;
  if (r.body !== undefined) {
    // A structured body becomes JSON text; its depth is bounded by the request's JSON depth.
    const body = anyValueToJson(r.body, 0, Number.POSITIVE_INFINITY);
    if (typeof body === "string") message = body;
    else if (body !== null) message = JSON.stringify(body);
  }
  if (!message) message = r.eventName || excSummary;
  if (!message) return "body: is empty (and there is no eventName or exception.message to use instead)";

  const level = severityToLevel(r.severityNumber, r.severityText) ?? (excSummary || stack ? "error" : "info");

  const entry: Record<string, unknown> = { level, message, service: resource.service };
  if (resource.domain) entry.domain = resource.domain;
  if (timestamp !== undefined) {
    entry.timestamp = timestamp;
    entry.id = otlpRecordId(resource.service, resource.domain ?? "", r);
  }
  const traceId = r.traceId && !/^0+$/.test(r.traceId) ? r.traceId.toLowerCase() : undefined;
  const spanId = r.spanId && !/^0+$/.test(r.spanId) ? r.spanId.toLowerCase() : undefined;
  if (traceId) {
    entry.trace_id = traceId;
    entry.request_id = traceId; // kept from before trace_id existed: request_id searches still find it
  }
  if (spanId) entry.span_id = spanId;
  if (r.severityText) entry.severity = r.severityText;
  else if (r.severityNumber) entry.severity = String(r.severityNumber);
  const userId = take(attrs, "user.id", "enduser.id");
  if (userId) entry.user_id = userId;
  const sessionId = take(attrs, "session.id");
  if (sessionId) entry.session_id = sessionId;

  const url = take(attrs, "url.full", "http.url");
  const method = take(attrs, "http.request.method", "http.method");
  const ip = take(attrs, "client.address", "http.client_ip");
  if (url || method || ip) {
    const context: Record<string, string> = {};
    if (url) context.url = url.slice(0, LIMITS.urlChars);
    if (method) context.method = method.slice(0, 16);
    if (ip) context.ip = ip.slice(0, 64);
    entry.context = context;
  }
  if (stack) entry.stack_trace = truncateUtf8(stack, LIMITS.stackTraceBytes);
  else if (excSummary && level === "error") entry.stack_trace = excSummary;

  const otel: Record<string, unknown> = {};
  if (r.flags) otel.flags = r.flags;
  if (r.severityNumber) otel.severity_number = r.severityNumber;
  if (r.severityText) otel.severity_text = r.severityText;
  if (r.eventName) otel.event_name = r.eventName;
  if (r.droppedAttributesCount) otel.dropped_attributes_count = r.droppedAttributesCount;
  if (scope?.name) otel.scope = scope.version ? { name: scope.name, version: scope.version } : { name: scope.name };
  if (resource.otelResource) otel.resource = resource.otelResource;
  if (resource.resourceDropped) otel.resource_dropped = true;
  if (Object.keys(otel).length > 0 && !Object.hasOwn(attrs, "otel")) attrs.otel = otel;
  if (Object.keys(attrs).length > 0) entry.metadata = attrs;
  return entry;
}

export function mapOtlpLogs(req: OtlpLogsRequest): OtlpMapping {
  const out: OtlpMapping = { entries: [], rejected: [] };
  (req.resourceLogs ?? []).forEach((rl, ri) => {
    const resource = resourceInfo(rl.resource?.attributes);
    (rl.scopeLogs ?? []).forEach((sl, si) => {
      (sl.logRecords ?? []).forEach((raw, i) => {
        const path = `resourceLogs.${ri}.scopeLogs.${si}.logRecords.${i}`;
        const mapped = mapOtlpRecord(raw, resource, sl.scope);
        if (typeof mapped === "string") out.rejected.push({ path, reason: mapped });
        else out.entries.push({ path, entry: mapped });
      });
    });
  });
  return out;
}
