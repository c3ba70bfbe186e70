// The ingest request: `{ logs: [...] }` (or a single entry on POST /api/logs), validated entry
// by entry so one bad entry never costs its valid neighbours.
import type { ErrorBody, ErrorDetail } from "../errors.js";
import { errorBody, zodDetails } from "../errors.js";
import { LogEntryInput, type NormalisedLogEntry, normaliseEntry } from "./log-entry.js";
import { redactEntry, type RedactionOptions } from "../core/redact.js";

export const MAX_BATCH_ENTRIES = 1000;

export interface ValidEntry {
  index: number;
  entry: NormalisedLogEntry;
}

export interface RejectedEntry {
  index: number;
  error: ErrorBody["error"];
}

export type IngestResult = { index: number; id: string; duplicate?: true } | RejectedEntry;

export interface IngestResponse {
  accepted: number;
  rejected: number;
  results: IngestResult[];
}

/** Either the entries array of a batch, or a request-level error (path + message). */
export function entriesOf(body: unknown, allowSingle: boolean): unknown[] | ErrorDetail {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    return { path: "", message: "body must be a JSON object with a logs array" };
  }
  const logs = (body as { logs?: unknown }).logs;
  if (logs === undefined) {
    if (allowSingle) return [body];
    return { path: "logs", message: "is required (an array of log entries)" };
  }
  if (!Array.isArray(logs)) return { path: "logs", message: "must be an array" };
  if (logs.length === 0) return { path: "logs", message: "must hold at least one entry" };
  return logs;
}

/**
 * Validates, redacts (when `redaction` is given) and normalises each entry. Redaction runs
 * before normalisation, so a secret straddling the message size cut is still caught.
 */
export function validateEntries(
  raw: unknown[],
  receivedAt: number,
  makeId: () => string,
  pathPrefix = "logs",
  redaction?: RedactionOptions,
): {
  valid: ValidEntry[];
  rejected: RejectedEntry[];
} {
  const valid: ValidEntry[] = [];
  const rejected: RejectedEntry[] = [];
  raw.forEach((item, index) => {
    const r = LogEntryInput.safeParse(item);
    if (r.success) {
      valid.push({
        index,
        entry: normaliseEntry(redaction ? redactEntry(r.data, redaction) : r.data, receivedAt, makeId),
      });
      return;
    }
    // pathPrefix "" is POST /api/logs with one bare entry: its paths are the body's own ("level")
    const details = zodDetails(r.error, pathPrefix === "" ? "" : `${pathPrefix}.${index}`);
    rejected.push({
      index,
      error: errorBody(
        "invalid_request",
        details
          .map((d) => `${d.path}: ${d.message}`)
          .join("; ")
          .slice(0, 500),
        details,
      ).error,
    });
  });
  return { valid, rejected };
}
