// POST /v1/logs: OTLP/HTTP logs, protobuf (`application/x-protobuf`, the SDKs' default, decoded
// by src/core/otlp-proto.ts) or JSON (`application/json`), either one gzip/deflate compressed.
// Parse the envelope, map each record (src/core/otlp-mapping.ts), then store through the same
// `ingestEntries` as POST /api/logs/batch: one validator, one idempotency rule, one set of
// counters. The answer is OTLP's `ExportLogsServiceResponse`: `{}` when every record was
// stored, `partialSuccess: { rejectedLogRecords, errorMessage }` when some were refused
// (https://opentelemetry.io/docs/specs/otlp/#partial-success-1). Request-level failures use
// the contract's error body and the statuses the OTLP exporters understand: 400/401/403/413/415
// are final; 429 (a service over its ingest rate limit) and 503 (storage unavailable), both with
// Retry-After, are retried by the exporter, which is safe because timestamped records carry
// content-derived ids.
//
// The answer is JSON for a JSON request and protobuf for a protobuf one (the exporters read
// ExportLogsServiceResponse in the encoding they sent; an empty message is zero bytes).
// POST /v1/traces and /v1/metrics answer 404 with a JSON error saying only logs are taken.
import { Hono } from "hono";
import { countOtlpRecords, mapOtlpLogs, type RejectedRecord, toServiceName } from "../core/otlp-mapping.js";
import { previewOf, type RejectionRecord } from "../core/rejections.js";
import { DEFAULT_DOMAIN, DomainName } from "../schema/log-entry.js";
import { ApiError, invalidRequest } from "../errors.js";
import {
  jsonDepthExceeds,
  MAX_OTLP_JSON_DEPTH,
  MAX_OTLP_RECORDS,
  OtlpLogsRequest,
  type OtlpLogsResponse,
} from "../schema/otlp.js";
import { MAX_BODY_BYTES, mimeOf, readBodyBytes, readJsonBody } from "./body.js";
import { decodeOtlpLogsRequest } from "../core/otlp-proto.js";
import { ProtobufError, ProtoWriter } from "../core/protobuf.js";
import { type AppEnv, requireKey } from "./context.js";
import { ingestEntries } from "./ingest.js";

export const otlpRoutes = new Hono<AppEnv>();

/** Rejection reasons quoted in `errorMessage`; the count is always exact. */
const MAX_REASONS = 5;
const RETRY_AFTER_S = "2";

for (const signal of ["traces", "metrics"]) {
  otlpRoutes.post(`/v1/${signal}`, () => {
    throw new ApiError(
      "not_found",
      404,
      `this service takes OTLP logs only (POST /v1/logs); send ${signal} to a collector that stores them`,
    );
  });
}

const PROTOBUF_TYPES = new Set(["application/x-protobuf", "application/protobuf"]);

otlpRoutes.post("/v1/logs", async (c) => {
  const principal = await requireKey(c, "ingest");
  const protobuf = PROTOBUF_TYPES.has(mimeOf(c.req.raw) ?? "");
  let body: unknown;
  if (protobuf) {
    const bytes = await readBodyBytes(c.req.raw, MAX_BODY_BYTES);
    try {
      body = decodeOtlpLogsRequest(bytes);
    } catch (err) {
      if (!(err instanceof ProtobufError)) throw err;
      throw new ApiError("invalid_request", 400, `body is not an OTLP ExportLogsServiceRequest: ${err.message}`);
    }
  } else {
    body = await readJsonBody(c.req.raw, MAX_BODY_BYTES);
  }
  if (jsonDepthExceeds(body, MAX_OTLP_JSON_DEPTH)) {
    throw new ApiError("invalid_request", 400, `request is nested deeper than ${MAX_OTLP_JSON_DEPTH} JSON levels`);
  }
  const parsed = OtlpLogsRequest.safeParse(body);
  if (!parsed.success) throw invalidRequest(parsed.error);
  const total = countOtlpRecords(parsed.data);
  if (total > MAX_OTLP_RECORDS) {
    throw new ApiError(
      "payload_too_large",
      413,
      `a request holds at most ${MAX_OTLP_RECORDS} log records (got ${total}); lower the exporter's batch size`,
    );
  }

  const mapping = mapOtlpLogs(parsed.data);
  const rejected: RejectedRecord[] = [...mapping.rejected];
  if (mapping.entries.length > 0 || mapping.rejected.length > 0) {
    // Records the mapping refused are kept with the others (GET /api/admin/rejected, /metrics).
    const unmapped: RejectionRecord[] = mapping.rejected.map((r) => ({
      ...resourceOf(parsed.data, r.path),
      reason: "otlp_record",
      path: r.path,
      message: r.reason,
      entry: previewOf(recordAt(parsed.data, r.path)),
    }));
    const [reply] = await ingestEntries(
      c.env,
      principal,
      mapping.entries.map((m) => m.entry),
      "record",
      {},
      unmapped,
    );
    let unavailable = 0;
    let limited = 0;
    let forbidden = 0;
    for (const r of reply.results) {
      if (!("error" in r)) continue;
      if (r.error.code === "upstream_unavailable") unavailable++;
      if (r.error.code === "rate_limited") limited++;
      if (r.error.code === "forbidden") forbidden++;
      const path = mapping.entries[r.index].path;
      const detail = r.error.details?.[0];
      const field = detail?.path.replace(/^record\.\d+\.?/, "");
      rejected.push({ path, reason: detail ? `${field || "record"}: ${detail.message}` : r.error.message });
    }
    if (limited > 0) {
      // Retryable too (the exporters retry 429 after Retry-After); same ids, so idempotent.
      throw new ApiError(
        "rate_limited",
        429,
        `${limited} of ${total} records are over the service's ingest rate limit; retry later`,
        undefined,
        {
          "Retry-After": RETRY_AFTER_S,
        },
      );
    }
    if (unavailable > 0) {
      // The exporter retries the whole request; stored records come back with the same ids.
      throw new ApiError(
        "upstream_unavailable",
        503,
        `storage is unavailable for ${unavailable} of ${total} records; retry`,
        undefined,
        {
          "Retry-After": RETRY_AFTER_S,
        },
      );
    }
    if (forbidden === total) {
      throw new ApiError(
        "forbidden",
        403,
        `this key may not write to the service these records name ("${String(mapping.entries[0].entry.service)}")`,
      );
    }
  }

  const response: OtlpLogsResponse = {};
  if (rejected.length > 0) {
    rejected.sort((a, b) => comparePaths(a.path, b.path));
    const shown = rejected.slice(0, MAX_REASONS).map((r) => `${r.path}: ${r.reason}`);
    const more = rejected.length > MAX_REASONS ? `; and ${rejected.length - MAX_REASONS} more` : "";
    response.partialSuccess = {
      rejectedLogRecords: String(rejected.length),
      errorMessage: `${rejected.length} of ${total} log records rejected: ${shown.join("; ")}${more}`.slice(0, 2000),
    };
  }
  if (protobuf) {
    return c.body(encodeOtlpLogsResponse(response), 200, { "content-type": "application/x-protobuf" });
  }
  return c.json(response, 200);
});

/** ExportLogsServiceResponse { ExportLogsPartialSuccess partial_success = 1 { int64
 * rejected_log_records = 1; string error_message = 2; } } */
function encodeOtlpLogsResponse(response: OtlpLogsResponse): Uint8Array<ArrayBuffer> {
  const w = new ProtoWriter();
  const p = response.partialSuccess;
  if (p) w.message(1, (m) => m.varint(1, BigInt(p.rejectedLogRecords)).string(2, p.errorMessage));
  return w.finish();
}

/** The service and domain a record's resource names (as the mapping derives them). */
function resourceOf(req: OtlpLogsRequest, path: string): { service: string; domain: string } {
  const ri = Number(path.split(".")[1]);
  const attrs = req.resourceLogs?.[ri]?.resource?.attributes ?? [];
  const str = (key: string) => attrs.find((a) => a.key === key)?.value?.stringValue;
  const ns = str("service.namespace");
  const domain = ns !== undefined && DomainName.safeParse(ns).success ? ns.toLowerCase() : DEFAULT_DOMAIN;
  return { service: toServiceName(str("service.name")), domain };
}

function recordAt(req: OtlpLogsRequest, path: string): unknown {
  const [, ri, , si, , i] = path.split(".").map(Number);
  return req.resourceLogs?.[ri]?.scopeLogs?.[si]?.logRecords?.[i];
}

/** Numeric-aware order of `resourceLogs.R.scopeLogs.S.logRecords.I` paths. */
function comparePaths(a: string, b: string): number {
  const na = a.match(/\d+/g)!.map(Number);
  const nb = b.match(/\d+/g)!.map(Number);
  for (let i = 0; i < Math.min(na.length, nb.length); i++) if (na[i] !== nb[i]) return na[i] - nb[i];
  return na.length - nb.length;
}
