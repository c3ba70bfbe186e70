// The OTLP/HTTP logs request in its JSON encoding (opentelemetry-proto `ExportLogsServiceRequest`,
// https://opentelemetry.io/docs/specs/otlp/#json-protobuf-encoding), for POST /v1/logs.
//
// Tolerant where the spec says receivers must be: 64-bit integers (`timeUnixNano`, `intValue`)
// come as decimal strings or numbers; unknown fields are ignored; every repeated field may be
// absent. Everything proto3's JSON mapping allows is taken: enum names for severityNumber,
// uint32/fixed32 as strings, ids in hex (the OTLP JSON rule) or base64 (proto3's bytes rule);
// and `kvlistValue`/`arrayValue` written as a bare array (opentelemetry-proto examples/events.json).
//
// The envelope is validated here; each log record is validated on its own (`OtlpLogRecord`) so
// one malformed record is reported in `partialSuccess` instead of failing its neighbours.
// Pure zod: used by src/core/otlp-mapping.ts, src/http/otlp.ts and the OpenAPI document.
import { z } from "zod";
import { otelSeverityFromName } from "../core/levels.js";

/** Records per request. The OTel SDK's BatchLogRecordProcessor sends at most 512; a Collector
 * needs `send_batch_max_size: 1000` (its default batch is 8192). More is 413. */
export const MAX_OTLP_RECORDS = 1000;
/** JSON nesting of the whole request. An AnyValue level costs about 4 JSON levels (value →
 * kvlistValue → values → [i]), so 128 leaves room for the 8 metadata levels and keeps the
 * recursive parse far from the stack limit. Deeper is 400. */
export const MAX_OTLP_JSON_DEPTH = 128;

/** int64 in OTLP JSON: a decimal string (proto3 JSON) or a JSON number. A number beyond 2^53
 * has already lost digits in JSON.parse; it is still an integer, so it is taken as it is. */
export const OtlpInt64 = z.union([
  z.number().refine((n) => Number.isInteger(n), "must be an integer"),
  z.string().regex(/^-?\d{1,20}$/, "must be a decimal integer"),
]);
/** fixed64 nanoseconds since the epoch, string or number (a number is ~1.8e18: not a safe
 * integer, but still precise to well under a millisecond). */
export const OtlpUnixNano = z.union([
  z.number().refine((n) => Number.isInteger(n) && n >= 0, "must be non-negative integer nanoseconds since the epoch"),
  z.string().regex(/^\d{1,20}$/, "must be decimal nanoseconds since the epoch"),
]);
/** double: a number, a numeric string (proto3 JSON allows both), or the non-finite spellings. */
const OtlpDouble = z.union([
  z.number(),
  z.enum(["NaN", "Infinity", "-Infinity"]),
  z
    .string()
    .regex(/^-?\d+(\.\d+)?([eE][+-]?\d+)?$/, "must be a number")
    .transform(Number),
]);

/** uint32 counts and fixed32 flags: a number, or a decimal string (as some producers send). */
const OtlpUint32 = z.union([
  z.number().int().min(0),
  z
    .string()
    .regex(/^\d{1,10}$/, "must be a non-negative integer")
    .transform(Number),
]);

/** SeverityNumber: 0-24, its decimal string, or the enum name ("SEVERITY_NUMBER_WARN"). */
const OtlpSeverityNumber = z.union([
  z.number().int().min(0).max(24),
  z.string().transform((v, ctx) => {
    const n = /^\d{1,2}$/.test(v) ? Number(v) : otelSeverityFromName(v);
    if (n === undefined || n > 24) {
      ctx.addIssue({ code: "custom", message: "must be 0-24 or a SEVERITY_NUMBER_* name" });
      return z.NEVER;
    }
    return n;
  }),
]);

export interface OtlpAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: number | string;
  doubleValue?: number | string;
  bytesValue?: string;
  arrayValue?: { values?: OtlpAnyValue[] };
  kvlistValue?: { values?: OtlpKeyValue[] };
}
/** What a producer may send for AnyValue: also `kvlistValue`/`arrayValue` as a bare array, as
 * opentelemetry-proto's own examples/events.json does. */
export interface OtlpAnyValueInput {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: number | string;
  doubleValue?: number | string;
  bytesValue?: string;
  arrayValue?: { values?: OtlpAnyValueInput[] } | OtlpAnyValueInput[];
  kvlistValue?: { values?: OtlpKeyValueInput[] } | OtlpKeyValueInput[];
}
export interface OtlpKeyValueInput {
  key: string;
  value?: OtlpAnyValueInput;
}
export interface OtlpKeyValue {
  key: string;
  value?: OtlpAnyValue;
}

/** `AnyValue`: at most one of the kinds is set; none set means an empty value. */
export const OtlpAnyValue: z.ZodType<OtlpAnyValue, OtlpAnyValueInput> = z.lazy(() =>
  z.object({
    stringValue: z.string().optional(),
    boolValue: z.boolean().optional(),
    intValue: OtlpInt64.optional(),
    doubleValue: OtlpDouble.optional(),
    bytesValue: z.string().optional(),
    arrayValue: z
      .union([z.object({ values: z.array(OtlpAnyValue).optional() }), z.array(OtlpAnyValue)])
      .transform((v) => (Array.isArray(v) ? { values: v } : v))
      .optional(),
    kvlistValue: z
      .union([z.object({ values: z.array(OtlpKeyValue).optional() }), z.array(OtlpKeyValue)])
      .transform((v) => (Array.isArray(v) ? { values: v } : v))
      .optional(),
  }),
);
export const OtlpKeyValue: z.ZodType<OtlpKeyValue, OtlpKeyValueInput> = z.lazy(() =>
  z.object({ key: z.string(), value: OtlpAnyValue.optional() }),
);

const Attributes = z.array(OtlpKeyValue).optional();

/** Ids: hex (the OTLP JSON rule) or base64 (proto3's JSON rule for bytes), returned as hex.
 * Empty means "not set" (the spec's all-zero/empty id is invalid, i.e. absent). */
const HexId = (hexChars: number) =>
  z.string().transform((v, ctx) => {
    if (v === "" || new RegExp(`^[0-9a-fA-F]{${hexChars}}$`).test(v)) return v;
    const bytes = base64Bytes(v);
    if (bytes && bytes.length * 2 === hexChars) return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
    ctx.addIssue({
      code: "custom",
      message: `must be ${hexChars} hex characters (or ${hexChars / 2} bytes in base64)`,
    });
    return z.NEVER;
  });

function base64Bytes(v: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(v)) return undefined;
  try {
    const bin = atob(v.replace(/-/g, "+").replace(/_/g, "/"));
    return Uint8Array.from(bin, (c) => c.charCodeAt(0));
  } catch {
    return undefined;
  }
}

export const OtlpLogRecord = z.object({
  timeUnixNano: OtlpUnixNano.optional(),
  observedTimeUnixNano: OtlpUnixNano.optional(),
  severityNumber: OtlpSeverityNumber.optional(),
  severityText: z.string().max(64).optional(),
  body: OtlpAnyValue.optional(),
  attributes: Attributes,
  droppedAttributesCount: OtlpUint32.optional(),
  flags: OtlpUint32.optional(),
  traceId: HexId(32).optional(),
  spanId: HexId(16).optional(),
  eventName: z.string().max(256).optional(),
});
export type OtlpLogRecord = z.infer<typeof OtlpLogRecord>;

export const OtlpResource = z.object({
  attributes: Attributes,
  droppedAttributesCount: OtlpUint32.optional(),
});
export const OtlpScope = z.object({
  name: z.string().optional(),
  version: z.string().optional(),
  attributes: Attributes,
});

/** The request envelope. `logRecords` items stay unparsed here: each is checked on its own. */
export const OtlpLogsRequest = z.object({
  resourceLogs: z
    .array(
      z.object({
        resource: OtlpResource.optional(),
        scopeLogs: z
          .array(
            z.object({
              scope: OtlpScope.optional(),
              logRecords: z.array(z.unknown()).optional(),
              schemaUrl: z.string().optional(),
            }),
          )
          .optional(),
        schemaUrl: z.string().optional(),
      }),
    )
    .optional(),
});
export type OtlpLogsRequest = z.infer<typeof OtlpLogsRequest>;

/** The same request fully typed, records included: what the OpenAPI document describes. */
export const OtlpLogsRequestDocument = z.object({
  resourceLogs: z
    .array(
      z.object({
        resource: OtlpResource.optional(),
        scopeLogs: z
          .array(
            z.object({
              scope: OtlpScope.optional(),
              logRecords: z.array(OtlpLogRecord).optional(),
              schemaUrl: z.string().optional(),
            }),
          )
          .optional(),
        schemaUrl: z.string().optional(),
      }),
    )
    .optional(),
});

/** `ExportLogsServiceResponse`. `partialSuccess` is left out when every record was accepted. */
export const OtlpLogsResponse = z.object({
  partialSuccess: z
    .object({
      /** int64, so a decimal string in proto3 JSON */
      rejectedLogRecords: z.string().regex(/^\d+$/),
      errorMessage: z.string(),
    })
    .optional(),
});
export type OtlpLogsResponse = z.infer<typeof OtlpLogsResponse>;

/** Depth of a parsed JSON value, stopping once it passes `max` (iterative: no recursion). */
export function jsonDepthExceeds(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (typeof node !== "object" || node === null) continue;
    if (depth > max) return true;
    for (const child of Array.isArray(node) ? node : Object.values(node)) {
      if (typeof child === "object" && child !== null) stack.push([child, depth + 1]);
    }
  }
  return false;
}
