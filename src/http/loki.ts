// POST /loki/api/v1/push: the Loki push API (src/core/loki.ts maps it), so Promtail, Grafana
// Alloy, Fluent Bit's loki output, Vector's loki sink, the Docker driver, winston-loki and
// pino-loki can ship here with only a URL and the key (Basic auth: any user, key as password).
// - application/x-protobuf: a Snappy-compressed logproto.PushRequest (Loki's default);
// - application/json: { streams: [...] }; either may also carry Content-Encoding gzip/deflate.
// The 1 MiB limit applies to the decoded (and un-snappied) bytes. Answers 204 like Loki when
// anything was stored; refused entries are counted and kept for GET /api/admin/rejected (a 204
// cannot say more; Loki itself answers 204 only when all were taken). 400 when nothing was
// valid, 413, 415, 429/503 (with Retry-After: retried by the clients, idempotent by content id).
import { Hono } from "hono";
import snappy from "snappyjs";
import { decodePushRequest, jsonPushRequest, LokiFormatError, type LokiStream, mapLokiStreams } from "../core/loki.js";
import { ProtobufError } from "../core/protobuf.js";
import { previewOf, type RejectionRecord } from "../core/rejections.js";
import { ApiError } from "../errors.js";
import { DEFAULT_DOMAIN } from "../schema/log-entry.js";
import { MAX_BATCH_ENTRIES } from "../schema/ingest.js";
import { MAX_BODY_BYTES, mimeOf, readBodyBytes, readJsonBody } from "./body.js";
import { type AppEnv, requireKey } from "./context.js";
import { ingestEntries } from "./ingest.js";

export const lokiRoutes = new Hono<AppEnv>();

/** Entries per push; one request is stored in chunks of MAX_BATCH_ENTRIES. */
export const MAX_LOKI_ENTRIES = 10_000;

lokiRoutes.post("/loki/api/v1/push", async (c) => {
  const principal = await requireKey(c, "ingest");
  const streams = await readStreams(c.req.raw);
  const total = streams.reduce((n, s) => n + s.entries.length, 0);
  if (total > MAX_LOKI_ENTRIES) {
    throw new ApiError("payload_too_large", 413, `a push holds at most ${MAX_LOKI_ENTRIES} entries (got ${total})`);
  }
  const mapped = mapLokiStreams(streams);
  const unmapped: RejectionRecord[] = mapped.rejected.map((r) => ({
    service: r.service,
    domain: DEFAULT_DOMAIN,
    reason: "loki_entry",
    path: r.path,
    message: r.reason,
    entry: previewOf(r.entry),
  }));
  let accepted = 0;
  let refused = unmapped.length;
  const errors: { code: string; message: string }[] = [];
  for (let i = 0; i < Math.max(1, mapped.entries.length); i += MAX_BATCH_ENTRIES) {
    const chunk = mapped.entries.slice(i, i + MAX_BATCH_ENTRIES);
    const [reply] = await ingestEntries(
      c.env,
      principal,
      chunk.map((m) => m.entry),
      "entry",
      {},
      i === 0 ? unmapped : [],
    );
    accepted += reply.accepted;
    refused += reply.results.length - reply.accepted;
    for (const r of reply.results) if ("error" in r) errors.push(r.error);
  }
  // Retryable failures make the client retry the push: stored entries come back as duplicates.
  const retryable = errors.find((e) => e.code === "upstream_unavailable" || e.code === "rate_limited");
  if (retryable) {
    throw new ApiError(
      retryable.code === "rate_limited" ? "rate_limited" : "upstream_unavailable",
      retryable.code === "rate_limited" ? 429 : 503,
      `${retryable.message} (${accepted} of ${total} entries stored; retry the push)`,
      undefined,
      { "Retry-After": "2" },
    );
  }
  if (accepted === 0 && refused > 0) {
    const first = errors[0]?.message ?? unmapped[0]?.message ?? "invalid entry";
    throw new ApiError(
      errors.every((e) => e.code === "forbidden") && errors.length > 0 ? "forbidden" : "invalid_request",
      errors.every((e) => e.code === "forbidden") && errors.length > 0 ? 403 : 400,
      `none of the ${total} entries was stored: ${first}`.slice(0, 1000),
    );
  }
  return c.body(null, 204);
});

async function readStreams(req: Request): Promise<LokiStream[]> {
  const mime = mimeOf(req);
  if (mime === "application/x-protobuf" || mime === "application/protobuf") {
    const compressed = await readBodyBytes(req, MAX_BODY_BYTES);
    let raw: Uint8Array;
    try {
      raw = snappy.uncompress(compressed, MAX_BODY_BYTES);
    } catch (err) {
      if (err instanceof Error && /too big/.test(err.message)) {
        throw new ApiError("payload_too_large", 413, `body is larger than ${MAX_BODY_BYTES} bytes once decompressed`);
      }
      throw new ApiError("invalid_request", 400, "body is not Snappy-compressed (Loki protobuf pushes are)");
    }
    try {
      return decodePushRequest(raw);
    } catch (err) {
      if (err instanceof ProtobufError || err instanceof LokiFormatError) {
        throw new ApiError("invalid_request", 400, `body is not a Loki PushRequest: ${err.message}`);
      }
      throw err;
    }
  }
  const body = await readJsonBody(req, MAX_BODY_BYTES);
  const streams = jsonPushRequest(body);
  if (typeof streams === "string") throw new ApiError("invalid_request", 400, streams);
  return streams;
}
