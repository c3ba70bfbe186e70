// Reads a JSON request body under the contract's rules: JSON content type (415 otherwise, also
// when missing), at most `maxBytes` (413, checked while streaming, not only by Content-Length),
// valid UTF-8 and JSON (400 invalid_json).
//
// One exception, documented in the README: `curl -d @batch.json` labels its body
// application/x-www-form-urlencoded. Such a body is accepted when it is JSON, because form
// fields mean nothing to this API and the quick-start command should just work; a form body
// that isn't JSON is 415.
import { ApiError } from "../errors.js";

export const MAX_BODY_BYTES = 1024 * 1024;

export async function readJsonBody(req: Request, maxBytes = MAX_BODY_BYTES): Promise<unknown> {
  const type = req.headers.get("content-type");
  const mime = type?.split(";")[0]?.trim().toLowerCase();
  const curlDefault = mime === "application/x-www-form-urlencoded";
  if (!mime || !(mime === "application/json" || mime.endsWith("+json") || curlDefault)) {
    throw new ApiError("unsupported_media_type", 415, "Content-Type must be application/json");
  }
  const declared = Number(req.headers.get("content-length") ?? "NaN");
  if (Number.isFinite(declared) && declared > maxBytes) {
    throw new ApiError("payload_too_large", 413, `body is larger than ${maxBytes} bytes`);
  }
  const bytes = await readCapped(req, maxBytes);
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new ApiError("invalid_json", 400, "body is not valid UTF-8");
  }
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

async function readCapped(req: Request, maxBytes: number): Promise<Uint8Array> {
  if (!req.body) return new Uint8Array();
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw new ApiError("payload_too_large", 413, `body is larger than ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(size);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.byteLength;
  }
  return out;
}
