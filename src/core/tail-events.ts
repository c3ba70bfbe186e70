// Cloudflare Tail Worker events (`TraceItem[]`, one per invocation of a producer Worker) → raw
// log entries for `ingestEntries`. Pure: no Workers APIs; the shapes are declared structurally so
// the unit tests can feed the objects the runtime delivers. Used by src/tail-consumer.ts.
//
// Per invocation:
//   - every console call → one entry: console level → level (log/info → info, debug/trace →
//     debug, warn → warn, error → error), arguments joined like the console → message. A single
//     object argument (or a JSON-object string) carrying `message`/`msg` is a structured log:
//     its `level` wins and its other fields go to metadata.
//   - every uncaught exception → one `error` entry, `name: message`, `stack` → stack_trace.
//   - the outcome → one entry: `GET https://host/path → 500`; level error for a failed outcome
//     (exception, exceededCpu, …) or a 5xx, warn for a 4xx or a cancelled request, else info.
// All entries of an invocation carry its request URL/method (and `cf-connecting-ip`) as context
// and, on Cloudflare, the `cf-ray` header as request_id.
//
// Service name: `scriptName` (set on Cloudflare). Locally `wrangler dev`/Miniflare deliver
// `scriptName: null`, so the fallback is the request URL's host name, then `tail-unknown`.
// `dispatchNamespace` (Workers for Platforms), `entrypoint` and the script version are kept in
// metadata.tail; the namespace does not change the service name, so a user Worker is found under
// the name it was uploaded with.
import { LIMITS, Metadata, normaliseLevel, type Level, truncateUtf8 } from "../schema/log-entry.js";
import { toServiceName } from "./otlp-mapping.js";

export const TAIL_UNKNOWN_SERVICE = "tail-unknown";
/** Entries per tail() call; beyond it entries are dropped and counted (one invocation rarely
 * logs this much: Cloudflare caps console output per invocation and flags `truncated`). */
export const MAX_TAIL_ENTRIES = 1000;

/** The parts of a TraceItem this module reads (workers-types `TraceItem` is assignable). */
export interface TailItem {
  readonly scriptName: string | null;
  readonly entrypoint?: string;
  readonly dispatchNamespace?: string;
  readonly scriptVersion?: { id?: string; tag?: string };
  readonly outcome: string;
  readonly eventTimestamp: number | null;
  readonly event: unknown;
  readonly logs: readonly { readonly timestamp: number; readonly level: string; readonly message: unknown }[];
  readonly exceptions: readonly {
    readonly timestamp: number;
    readonly name: string;
    readonly message: string;
    readonly stack?: string;
  }[];
  readonly truncated?: boolean;
  readonly cpuTime?: number;
  readonly wallTime?: number;
}

export interface TailMapping {
  entries: Record<string, unknown>[];
  /** entries left out because the call produced more than MAX_TAIL_ENTRIES */
  dropped: number;
  /** console calls with nothing to say (empty message) */
  skipped: number;
}

interface Invocation {
  service: string;
  kind: string;
  summary: string;
  context?: { url?: string; method?: string; ip?: string };
  requestId?: string;
  status?: number;
  tail: Record<string, unknown>;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function header(headers: unknown, name: string): string | undefined {
  if (!isObject(headers)) return undefined;
  const v = headers[name] ?? headers[name.toLowerCase()];
  return typeof v === "string" && v.length > 0 ? v : undefined;
}

function describe(item: TailItem): Invocation {
  const ev = item.event;
  const tail: Record<string, unknown> = { outcome: item.outcome };
  if (item.entrypoint) tail.entrypoint = item.entrypoint;
  if (item.dispatchNamespace) tail.dispatch_namespace = item.dispatchNamespace;
  if (item.scriptVersion?.id) tail.script_version = item.scriptVersion.id;
  if (item.truncated) tail.truncated = true;
  let kind = "unknown";
  let summary = "invocation";
  let host: string | undefined;
  const inv: Omit<Invocation, "service"> = { kind, summary, tail };
  if (isObject(ev) && isObject(ev.request)) {
    kind = "fetch";
    const req = ev.request;
    const url = typeof req.url === "string" ? req.url : undefined;
    const method = typeof req.method === "string" ? req.method : undefined;
    try {
      if (url) host = new URL(url).hostname;
    } catch {
      // not a URL: no host fallback
    }
    const ip = header(req.headers, "cf-connecting-ip");
    inv.context = {};
    if (url) inv.context.url = url.slice(0, LIMITS.urlChars);
    if (method) inv.context.method = method.slice(0, 16);
    if (ip) inv.context.ip = ip.slice(0, 64);
    inv.requestId = header(req.headers, "cf-ray")?.slice(0, LIMITS.refFieldChars);
    const status = isObject(ev.response) && typeof ev.response.status === "number" ? ev.response.status : undefined;
    inv.status = status;
    summary = `${method ?? "?"} ${url ?? "?"}${status !== undefined ? ` → ${status}` : ""}`;
  } else if (isObject(ev) && typeof ev.cron === "string") {
    kind = "scheduled";
    summary = `scheduled "${ev.cron}"`;
  } else if (isObject(ev) && typeof ev.queue === "string") {
    kind = "queue";
    summary = `queue ${ev.queue}${typeof ev.batchSize === "number" ? ` (${ev.batchSize} messages)` : ""}`;
  } else if (isObject(ev) && typeof ev.rpcMethod === "string") {
    kind = "rpc";
    summary = `rpc ${ev.rpcMethod}()`;
  } else if (isObject(ev) && "scheduledTime" in ev) {
    kind = "alarm";
    summary = "alarm";
  } else if (isObject(ev) && typeof ev.mailFrom === "string") {
    kind = "email";
    summary = "email";
  } else if (isObject(ev) && Array.isArray(ev.consumedEvents)) {
    kind = "tail";
    summary = `tail (${ev.consumedEvents.length} events)`;
  }
  tail.event = kind;
  const service = item.scriptName
    ? toServiceName(item.scriptName, TAIL_UNKNOWN_SERVICE)
    : host
      ? toServiceName(host, TAIL_UNKNOWN_SERVICE)
      : TAIL_UNKNOWN_SERVICE;
  return { ...inv, kind, summary, service };
}

/** Outcome → level; `ok` looks at the HTTP status. */
export function outcomeLevel(outcome: string, status: number | undefined): Level {
  if (outcome === "ok" || outcome === "unknown") {
    if (status !== undefined && status >= 500) return "error";
    if (status !== undefined && status >= 400) return "warn";
    return "info";
  }
  if (outcome === "canceled" || outcome === "responseStreamDisconnected") return "warn";
  return "error"; // exception, exceededCpu, exceededMemory, scriptNotFound, loadShed, …
}

/** Console method → level. `log` is info; unknown methods are info too. */
export function consoleLevel(level: string): Level {
  if (level === "log") return "info";
  return normaliseLevel(level) ?? "info";
}

function formatArg(arg: unknown): string {
  if (typeof arg === "string") return arg;
  if (arg === undefined) return "undefined";
  if (typeof arg !== "object" || arg === null) return String(arg);
  try {
    return JSON.stringify(arg) ?? String(arg);
  } catch {
    return String(arg);
  }
}

/** The structured form of a console call, when it is one: { message, level?, fields }. */
function structured(args: unknown[]): { message: string; level?: Level; fields: Record<string, unknown> } | undefined {
  if (args.length !== 1) return undefined;
  let obj: unknown = args[0];
  if (typeof obj === "string" && obj.startsWith("{") && obj.endsWith("}")) {
    try {
      obj = JSON.parse(obj);
    } catch {
      return undefined;
    }
  }
  if (!isObject(obj)) return undefined;
  const msg = typeof obj.message === "string" ? obj.message : typeof obj.msg === "string" ? obj.msg : undefined;
  if (!msg) return undefined;
  const fields: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) if (k !== "message" && k !== "msg" && k !== "level") fields[k] = v;
  const level = typeof obj.level === "string" ? normaliseLevel(obj.level) : undefined;
  return { message: msg, level, fields };
}

function baseEntry(inv: Invocation, level: Level, message: string, timestamp: number): Record<string, unknown> {
  const e: Record<string, unknown> = { level, message, service: inv.service, timestamp };
  if (inv.context && Object.keys(inv.context).length > 0) e.context = inv.context;
  if (inv.requestId) e.request_id = inv.requestId;
  return e;
}

/** Timestamps must be ms since the epoch; anything else (0, seconds) becomes `now`. */
const ms = (t: number | null | undefined, now: number): number =>
  typeof t === "number" && Number.isFinite(t) && t >= 1e11 ? Math.floor(t) : now;

export function traceItemsToEntries(items: readonly TailItem[], now: number): TailMapping {
  const out: TailMapping = { entries: [], dropped: 0, skipped: 0 };
  const push = (e: Record<string, unknown>) => {
    if (out.entries.length < MAX_TAIL_ENTRIES) out.entries.push(e);
    else out.dropped++;
  };
  for (const item of items) {
    const inv = describe(item);
    const eventTs = ms(item.eventTimestamp, now);

    for (const log of item.logs ?? []) {
      const args = Array.isArray(log.message) ? log.message : [log.message];
      const s = structured(args);
      const text = s ? s.message : args.map(formatArg).join(" ");
      if (text.trim().length === 0) {
        out.skipped++;
        continue;
      }
      const e = baseEntry(inv, s?.level ?? consoleLevel(log.level), text, ms(log.timestamp, eventTs));
      const meta: Record<string, unknown> = { ...(s?.fields ?? {}), tail: { ...inv.tail, console: log.level } };
      if (Metadata.safeParse(meta).success) e.metadata = meta;
      else {
        // fields too large/deep/unsafe for metadata: keep them readable in the message instead
        e.message = truncateUtf8(args.map(formatArg).join(" "), LIMITS.messageBytes);
        e.metadata = { tail: { ...inv.tail, console: log.level } };
      }
      push(e);
    }

    for (const ex of item.exceptions ?? []) {
      const head = `${ex.name || "Error"}: ${ex.message}`;
      const e = baseEntry(inv, "error", head, ms(ex.timestamp, eventTs));
      // The runtime's `stack` holds only the frames ("    at Object.fetch (…)"): put the
      // usual first line back so the trace reads like a V8 stack.
      const stack =
        ex.stack && ex.stack.length > 0 ? (ex.stack.startsWith(head) ? ex.stack : `${head}\n${ex.stack}`) : head;
      e.stack_trace = truncateUtf8(stack, LIMITS.stackTraceBytes);
      e.metadata = { tail: inv.tail, exception: ex.name || "Error" };
      push(e);
    }

    const level = outcomeLevel(item.outcome, inv.status);
    const failed = item.outcome !== "ok" && item.outcome !== "unknown";
    const e = baseEntry(inv, level, failed ? `${inv.summary} (${item.outcome})` : inv.summary, eventTs);
    const meta: Record<string, unknown> = { tail: inv.tail };
    if (inv.status !== undefined) meta.status = inv.status;
    if (typeof item.cpuTime === "number" && item.cpuTime > 0) meta.cpu_time_ms = item.cpuTime;
    if (typeof item.wallTime === "number" && item.wallTime > 0) meta.wall_time_ms = item.wallTime;
    e.metadata = meta;
    push(e);
  }
  return out;
}
