// The ingest request: `{ logs: [...] }` (or a single entry on POST /api/logs), validated entry
// by entry so one bad entry never costs its valid neighbours.
import type { ErrorBody, ErrorDetail } from "../errors.js";
import { errorBody, zodDetails } from "../errors.js";
import {
  boundMetadata,
  liberalEntry,
  LogEntryInput,
  MAX_FUTURE_MS,
  type NormalisedLogEntry,
  normaliseEntry,
} from "./log-entry.js";
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

/** Either the entries array of a batch, or a request-level error (path + message). A bare JSON
 * array is a batch (winston's Http transport with `batch: true`, NDJSON bodies). */
export function entriesOf(body: unknown, allowSingle: boolean): unknown[] | ErrorDetail {
  if (Array.isArray(body)) {
    if (body.length === 0) return { path: "", message: "must hold at least one entry" };
    return body;
  }
  if (typeof body !== "object" || body === null) {
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
  defaults: { service?: string } = {},
): {
  valid: ValidEntry[];
  rejected: RejectedEntry[];
} {
  const valid: ValidEntry[] = [];
  const rejected: RejectedEntry[] = [];
  raw.forEach((item, index) => {
    const lifted = liberalEntry(item, defaults);
    const r = LogEntryInput.safeParse(lifted.raw);
    // pathPrefix "" is POST /api/logs with one bare entry: its paths are the body's own ("level")
    const prefix = pathPrefix === "" ? "" : `${pathPrefix}.${index}`;
    if (r.success && r.data.timestamp !== undefined && r.data.timestamp > receivedAt + MAX_FUTURE_MS) {
      const path = prefix ? `${prefix}.timestamp` : "timestamp";
      const message = `is more than 24 hours after the time it was received (${new Date(receivedAt).toISOString()})`;
      rejected.push({
        index,
        error: errorBody("invalid_request", `${path}: ${message}`, [{ path, message }]).error,
      });
      return;
    }
    if (r.success) {
      let input = r.data;
      let truncated = lifted.truncated;
      if (input.metadata !== undefined) {
        // Cut before redaction too, which would otherwise replace oversized metadata wholesale.
        const bounded = boundMetadata(input.metadata);
        if (bounded.truncated) {
          input = { ...input, metadata: bounded.metadata };
          truncated = true;
        }
      }
      valid.push({
        index,
        entry: normaliseEntry(redaction ? redactEntry(input, redaction) : input, receivedAt, makeId, truncated),
      });
      return;
    }
    const details = zodDetails(r.error, prefix);
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
