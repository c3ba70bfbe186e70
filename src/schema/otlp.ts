// The OTLP/HTTP logs request in its JSON encoding (opentelemetry-proto `ExportLogsServiceRequest`,
// https://opentelemetry.io/docs/specs/otlp/#json-protobuf-encoding), for POST /v1/logs.
//
// Tolerant where the spec says receivers must be: 64-bit integers (`timeUnixNano`, `intValue`)
// come as decimal strings or numbers; unknown fields are ignored; every repeated field may be
// absent. Trace and span ids are hex strings (the OTLP JSON rule, not proto3's base64).
//
// The envelope is validated here; each log record is validated on its own (`OtlpLogRecord`) so
// one malformed record is reported in `partialSuccess` instead of failing its neighbours.
// Pure zod: used by src/core/otlp-mapping.ts, src/http/otlp.ts and the OpenAPI document.
import { z } from "zod";

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
/** double: a number, or the proto3 JSON spellings of the non-finite values. */
const OtlpDouble = z.union([z.number(), z.enum(["NaN", "Infinity", "-Infinity"])]);

export interface OtlpAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: number | string;
  doubleValue?: number | string;
  bytesValue?: string;
  arrayValue?: { values?: OtlpAnyValue[] };
  kvlistValue?: { values?: OtlpKeyValue[] };
}
export interface OtlpKeyValue {
  key: string;
  value?: OtlpAnyValue;
}

/** `AnyValue`: at most one of the kinds is set; none set means an empty value. */
export const OtlpAnyValue: z.ZodType<OtlpAnyValue> = z.lazy(() =>
  z.object({
    stringValue: z.string().optional(),
    boolValue: z.boolean().optional(),
    intValue: OtlpInt64.optional(),
    doubleValue: OtlpDouble.optional(),
    bytesValue: z.string().optional(),
    arrayValue: z.object({ values: z.array(OtlpAnyValue).optional() }).optional(),
    kvlistValue: z.object({ values: z.array(OtlpKeyValue).optional() }).optional(),
  }),
);
export const OtlpKeyValue: z.ZodType<OtlpKeyValue> = z.lazy(() =>
  z.object({ key: z.string(), value: OtlpAnyValue.optional() }),
);

const Attributes = z.array(OtlpKeyValue).optional();

/** Hex ids: empty means "not set" (the spec's all-zero/empty id is invalid, i.e. absent). */
const HexId = (hexChars: number) =>
  z.string().regex(new RegExp(`^(|[0-9a-fA-F]{${hexChars}})$`), `must be ${hexChars} hex characters`);

export const OtlpLogRecord = z.object({
  timeUnixNano: OtlpUnixNano.optional(),
  observedTimeUnixNano: OtlpUnixNano.optional(),
  severityNumber: z.number().int().min(0).max(24).optional(),
  severityText: z.string().max(64).optional(),
  body: OtlpAnyValue.optional(),
  attributes: Attributes,
  droppedAttributesCount: z.number().int().min(0).optional(),
  flags: z.number().int().min(0).optional(),
  traceId: HexId(32).optional(),
  spanId: HexId(16).optional(),
  eventName: z.string().max(256).optional(),
});
export type OtlpLogRecord = z.infer<typeof OtlpLogRecord>;

export const OtlpResource = z.object({
  attributes: Attributes,
  droppedAttributesCount: z.number().int().min(0).optional(),
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
