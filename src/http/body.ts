// Reads ingest request bodies under the contract's rules:
// - Content-Encoding gzip (also x-gzip) and deflate are decoded as a stream; the size cap
//   (`maxBytes`, 413) applies to the DECODED bytes and is checked while decoding, so a gzip bomb
//   stops at the cap. Another encoding is 415; a body that does not decode is 400.
// - JSON bodies: application/json (or any +json), or application/x-ndjson / application/jsonl
//   (one JSON value per line, returned as an array). A missing or other Content-Type is 415.
// - Valid UTF-8 and JSON, else 400 invalid_json.
//
// One exception, documented in the README: `curl -d @batch.json` labels its body
// application/x-www-form-urlencoded. Such a body is accepted when it is JSON, because form
// fields mean nothing to this API and the quick-start command should just work; a form body
// that isn't JSON is 415.
import { ApiError } from "../errors.js";

export const MAX_BODY_BYTES = 1024 * 1024;

const NDJSON_TYPES = new Set([
  "application/x-ndjson",
  "application/ndjson",
  "application/jsonl",
  "application/x-jsonl",
]);

export function mimeOf(req: Request): string | undefined {
  return req.headers.get("content-type")?.split(";")[0]?.trim().toLowerCase() || undefined;
}

export async function readJsonBody(req: Request, maxBytes = MAX_BODY_BYTES): Promise<unknown> {
  const mime = mimeOf(req);
  const curlDefault = mime === "application/x-www-form-urlencoded";
  const ndjson = mime !== undefined && NDJSON_TYPES.has(mime);
  if (!mime || !(mime === "application/json" || mime.endsWith("+json") || curlDefault || ndjson)) {
    throw new ApiError("unsupported_media_type", 415, "Content-Type must be application/json or application/x-ndjson");
  }
  const bytes = await readBodyBytes(req, maxBytes);
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new ApiError("invalid_json", 400, "body is not valid UTF-8");
  }
  if (ndjson) return parseNdjson(text);
  try {
    return JSON.parse(text);
  } catch (err) {
    if (curlDefault) throw new ApiError("unsupported_media_type", 415, "Content-Type must be application/json");
    throw new ApiError(
      "invalid_json",
      400,
      `body is not valid JSON${err instanceof SyntaxError ? `: ${err.message.slice(0, 120)}` : ""}`,
    );
  }
}

/** One JSON value per non-blank line → an array. A bad line is 400 naming its line number. */
export function parseNdjson(text: string): unknown[] {
  const out: unknown[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === "") continue;
    try {
      out.push(JSON.parse(line));
    } catch (err) {
      throw new ApiError(
        "invalid_json",
        400,
        `line ${i + 1} is not valid JSON${err instanceof SyntaxError ? `: ${err.message.slice(0, 120)}` : ""}`,
        [{ path: `line.${i + 1}`, message: "is not valid JSON" }],
      );
    }
  }
  return out;
}

/** The body's bytes after Content-Encoding, at most `maxBytes` of them (413 past that). */
export async function readBodyBytes(req: Request, maxBytes = MAX_BODY_BYTES): Promise<Uint8Array> {
  const declared = Number(req.headers.get("content-length") ?? "NaN");
  if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge(maxBytes, false);
  const encoding = req.headers.get("content-encoding")?.trim().toLowerCase();
  if (!req.body) return new Uint8Array();
  if (!encoding || encoding === "identity") {
    // A declared length within the cap is read in one native call (the stream loop cost ~0.2 ms
    // a request); the length is checked again in case the header and the body disagree.
    if (Number.isFinite(declared)) {
      const bytes = new Uint8Array(await req.arrayBuffer().catch(() => unreadable()));
      if (bytes.byteLength > maxBytes) throw tooLarge(maxBytes, false);
      return bytes;
    }
    return readCapped(req.body, maxBytes, false);
  }
  const format = encoding === "gzip" || encoding === "x-gzip" ? "gzip" : encoding === "deflate" ? "deflate" : undefined;
  if (!format) {
    throw new ApiError(
      "unsupported_media_type",
      415,
      `Content-Encoding "${encoding.slice(0, 32)}" is not supported (use gzip, deflate or none)`,
    );
  }
  return readCapped(req.body.pipeThrough(new DecompressionStream(format)), maxBytes, true);
}

function unreadable(): never {
  throw new ApiError("invalid_request", 400, "the request body could not be read");
}

function tooLarge(maxBytes: number, decoded: boolean): ApiError {
  return new ApiError(
    "payload_too_large",
    413,
    `body is larger than ${maxBytes} bytes${decoded ? " once decompressed" : ""}`,
  );
}

async function readCapped(body: ReadableStream<Uint8Array>, maxBytes: number, decoding: boolean): Promise<Uint8Array> {
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    let next: ReadableStreamReadResult<Uint8Array>;
    try {
      next = await reader.read();
    } catch {
      if (!decoding) unreadable();
      throw new ApiError("invalid_request", 400, "the body could not be decompressed (check Content-Encoding)");
    }
    if (next.done) break;
    size += next.value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => {});
      throw tooLarge(maxBytes, decoding);
    }
    chunks.push(next.value);
  }
  const out = new Uint8Array(size);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.byteLength;
  }
  return out;
}
