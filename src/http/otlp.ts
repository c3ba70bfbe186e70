// POST /v1/logs: OTLP/HTTP logs, JSON encoding (the OpenTelemetry SDKs' `http/json` protocol).
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
// Protobuf (`application/x-protobuf`) is not supported: 415 says to use `http/json`.
import { Hono } from "hono";
import { countOtlpRecords, mapOtlpLogs, type RejectedRecord } from "../core/otlp-mapping.js";
import { ApiError, invalidRequest } from "../errors.js";
import {
  jsonDepthExceeds,
  MAX_OTLP_JSON_DEPTH,
  MAX_OTLP_RECORDS,
  OtlpLogsRequest,
  type OtlpLogsResponse,
} from "../schema/otlp.js";
import { MAX_BODY_BYTES, readJsonBody } from "./body.js";
import { type AppEnv, requireKey } from "./context.js";
import { ingestEntries } from "./ingest.js";

export const otlpRoutes = new Hono<AppEnv>();

/** Rejection reasons quoted in `errorMessage`; the count is always exact. */
const MAX_REASONS = 5;
const RETRY_AFTER_S = "2";

otlpRoutes.post("/v1/logs", async (c) => {
  const principal = await requireKey(c, "ingest");
  const body = await readJsonBody(decoded(c.req.raw), MAX_BODY_BYTES).catch((err: unknown) => {
    if (err instanceof ApiError) throw err;
    throw new ApiError("invalid_json", 400, "body could not be decompressed (Content-Encoding: gzip)");
  });
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
  if (mapping.entries.length > 0) {
    const [reply] = await ingestEntries(
      c.env,
      principal,
      mapping.entries.map((m) => m.entry),
      "record",
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
  return c.json(response, 200);
});

/** Numeric-aware order of `resourceLogs.R.scopeLogs.S.logRecords.I` paths. */
function comparePaths(a: string, b: string): number {
  const na = a.match(/\d+/g)!.map(Number);
  const nb = b.match(/\d+/g)!.map(Number);
  for (let i = 0; i < Math.min(na.length, nb.length); i++) if (na[i] !== nb[i]) return na[i] - nb[i];
  return na.length - nb.length;
}

/** Protobuf gets a clear 415; a gzip body (the exporters' `compression: "gzip"`) is inflated
 * as a stream, so readJsonBody's size cap applies to the inflated bytes. */
function decoded(req: Request): Request {
  const mime = req.headers.get("content-type")?.split(";")[0]?.trim().toLowerCase();
  if (mime === "application/x-protobuf" || mime === "application/protobuf") {
    throw new ApiError(
      "unsupported_media_type",
      415,
      "only the OTLP/HTTP JSON encoding is supported: configure the exporter with protocol http/json (Content-Type: application/json)",
    );
  }
  const encoding = req.headers.get("content-encoding")?.trim().toLowerCase();
  if (!encoding || encoding === "identity") return req;
  if (encoding !== "gzip" || !req.body) {
    throw new ApiError(
      "unsupported_media_type",
      415,
      `Content-Encoding "${encoding.slice(0, 32)}" is not supported (use gzip or none)`,
    );
  }
  const headers = new Headers(req.headers);
  headers.delete("content-encoding");
  headers.delete("content-length");
  return new Request(req.url, {
    method: req.method,
    headers,
    body: req.body.pipeThrough(new DecompressionStream("gzip")),
  });
}
