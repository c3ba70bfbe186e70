// Why an entry was refused, as a small fixed set of reasons (a bounded label set for /metrics),
// and the record of one refusal that the aggregator keeps in its recent-rejections ring
// (objects/rejections.ts). Pure: used by the ingest routes to describe what they refused.

export const REJECTION_REASONS = [
  "entry", // not a JSON object
  "level",
  "message",
  "service",
  "timestamp",
  "metadata",
  "id",
  "domain",
  "context",
  "stack_trace",
  "category",
  "priority",
  "ref_field", // user_id, session_id, request_id
  "trace", // trace_id, span_id, severity
  "forbidden", // the key may not write to the service
  "otlp_record", // an OTLP record that could not be mapped to an entry
  "loki_entry", // a Loki line that could not be mapped to an entry
  "other",
] as const;
export type RejectionReason = (typeof REJECTION_REASONS)[number];
export type RejectionCounts = Record<RejectionReason, number>;

/** The recent-rejections ring keeps this many per aggregator; older ones are overwritten. */
export const REJECTION_RING_SIZE = 100;
/** Bytes of the refused entry kept in the ring (its JSON text, cut). */
export const REJECTION_PREVIEW_BYTES = 1024;
const MESSAGE_CHARS = 500;

/** One refused entry, attributed to the service it named (or unknown_service). */
export interface RejectionRecord {
  service: string;
  domain: string;
  reason: RejectionReason;
  /** Where in the request: logs.3.level, resourceLogs.0.scopeLogs.0.logRecords.2, streams.0.values.1 */
  path: string;
  message: string;
  /** The entry as sent, JSON text cut to REJECTION_PREVIEW_BYTES. */
  entry: string;
}

export function zeroCounts(): RejectionCounts {
  return Object.fromEntries(REJECTION_REASONS.map((r) => [r, 0])) as RejectionCounts;
}

const FIELD_REASONS: Record<string, RejectionReason> = {
  level: "level",
  message: "message",
  service: "service",
  timestamp: "timestamp",
  metadata: "metadata",
  id: "id",
  domain: "domain",
  context: "context",
  stack_trace: "stack_trace",
  category: "category",
  priority: "priority",
  user_id: "ref_field",
  session_id: "ref_field",
  request_id: "ref_field",
  trace_id: "trace",
  span_id: "trace",
  severity: "trace",
};

/** The reason for an entry-level error: its code, or the field its first detail names. */
export function reasonOf(code: string, field: string | undefined): RejectionReason {
  if (code === "forbidden") return "forbidden";
  if (field === undefined || field === "") return "entry";
  return FIELD_REASONS[field] ?? "other";
}

/** JSON text of a refused entry, cut to REJECTION_PREVIEW_BYTES (never throws). */
export function previewOf(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  const bytes = new TextEncoder().encode(text);
  if (bytes.length <= REJECTION_PREVIEW_BYTES) return text;
  const cut = new Uint8Array(REJECTION_PREVIEW_BYTES);
  const { read } = new TextEncoder().encodeInto(text, cut);
  return `${text.slice(0, read)}…`;
}

export function clampMessage(message: string): string {
  return message.length > MESSAGE_CHARS ? `${message.slice(0, MESSAGE_CHARS)}…` : message;
}
