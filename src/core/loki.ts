// The Loki push API (POST /loki/api/v1/push), as Promtail, Grafana Alloy, Fluent Bit, Vector,
// winston-loki and pino-loki send it, decoded and mapped to raw log entries for ingestEntries.
// Pure: the HTTP route (src/http/loki.ts) un-snappies / un-gzips the body first.
//
// Two encodings (https://grafana.com/docs/loki/latest/reference/loki-http-api/#ingest-logs):
// - JSON: { streams: [{ stream: { label: value }, values: [[ "<unix ns>", "<line>", { structured metadata }? ]] }] }
// - protobuf (logproto.PushRequest): streams = 1 { labels = 1 ('{a="b", c="d"}'), entries = 2
//   { timestamp = 1 { seconds = 1, nanos = 2 }, line = 2, structuredMetadata = 3 { name = 1, value = 2 } } }
//
// | Loki                                                  | log entry                               |
// |-------------------------------------------------------|-----------------------------------------|
// | first of labels service_name, service, app, job       | service (else unknown_service)          |
// | label level / detected_level, else a level in the line | level (src/core/levels.ts), severity   |
// | the line                                              | message                                 |
// | the entry's timestamp (ns)                            | timestamp (ms)                          |
// | structured metadata trace_id / span_id (hex)          | trace_id / span_id                      |
// | other labels, then structured metadata                | metadata                                |
// The id is derived from service, timestamp and line, so a client retrying a push stores nothing twice.
import { type Level, LEVELS } from "../schema/log-entry.js";
import { knownLevel } from "./levels.js";
import { contentHash, toServiceName, UNKNOWN_SERVICE } from "./otlp-mapping.js";
import { ProtoReader, WIRE } from "./protobuf.js";

export interface LokiEntry {
  /** nanoseconds since the epoch, decimal */
  ns: string;
  line: string;
  structured: Record<string, string>;
}
export interface LokiStream {
  labels: Record<string, string>;
  entries: LokiEntry[];
}

export class LokiFormatError extends Error {}

const SERVICE_LABELS = ["service_name", "service", "app", "job"];
const LEVEL_LABELS = ["level", "detected_level", "severity", "lvl"];

/** `{app="web", env="prod"}` (Prometheus label syntax, `\"` `\\` `\n` escapes) → an object. */
export function parseLabels(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const s = text.trim();
  if (s === "" || s === "{}") return out;
  if (!s.startsWith("{") || !s.endsWith("}")) throw new LokiFormatError(`labels must be {name="value", …}`);
  let i = 1;
  const end = s.length - 1;
  const skipSpace = () => {
    while (i < end && /[\s,]/.test(s[i])) i++;
  };
  for (skipSpace(); i < end; skipSpace()) {
    const m = /^[A-Za-z_][A-Za-z0-9_.]*/.exec(s.slice(i, end));
    if (!m) throw new LokiFormatError(`bad label name at ${i}`);
    const name = m[0];
    i += name.length;
    while (i < end && s[i] === " ") i++;
    if (s[i] !== "=" || s[i + 1] !== '"') throw new LokiFormatError(`label ${name}: expected ="value"`);
    i += 2;
    let value = "";
    for (;;) {
      if (i >= end) throw new LokiFormatError(`label ${name}: unterminated value`);
      const ch = s[i++];
      if (ch === '"') break;
      if (ch === "\\") {
        const next = s[i++];
        value += next === "n" ? "\n" : next === "t" ? "\t" : next;
      } else value += ch;
    }
    out[name] = value;
  }
  return out;
}

/** logproto.PushRequest → streams. Throws ProtobufError / LokiFormatError. */
export function decodePushRequest(buf: Uint8Array): LokiStream[] {
  const r = new ProtoReader(buf);
  const streams: LokiStream[] = [];
  while (!r.done) {
    const f = r.tag();
    if (f.no !== 1 || f.wire !== WIRE.LEN) {
      r.skip(f.wire);
      continue;
    }
    const s = r.message();
    const stream: LokiStream = { labels: {}, entries: [] };
    while (!s.done) {
      const g = s.tag();
      if (g.no === 1 && g.wire === WIRE.LEN) stream.labels = parseLabels(s.string());
      else if (g.no === 2 && g.wire === WIRE.LEN) stream.entries.push(entryOf(s.message()));
      else s.skip(g.wire);
    }
    streams.push(stream);
  }
  return streams;
}

function entryOf(r: ProtoReader): LokiEntry {
  let seconds = 0n;
  let nanos = 0n;
  let line = "";
  const structured: Record<string, string> = {};
  while (!r.done) {
    const f = r.tag();
    if (f.no === 1 && f.wire === WIRE.LEN) {
      const t = r.message();
      while (!t.done) {
        const g = t.tag();
        if (g.no === 1 && g.wire === WIRE.VARINT) seconds = BigInt.asIntN(64, t.varint());
        else if (g.no === 2 && g.wire === WIRE.VARINT) nanos = BigInt.asIntN(32, t.varint());
        else t.skip(g.wire);
      }
    } else if (f.no === 2 && f.wire === WIRE.LEN) line = r.string();
    else if (f.no === 3 && f.wire === WIRE.LEN) {
      const p = r.message();
      let name = "";
      let value = "";
      while (!p.done) {
        const g = p.tag();
        if (g.no === 1 && g.wire === WIRE.LEN) name = p.string();
        else if (g.no === 2 && g.wire === WIRE.LEN) value = p.string();
        else p.skip(g.wire);
      }
      if (name) structured[name] = value;
    } else r.skip(f.wire);
  }
  return { ns: (seconds * 1_000_000_000n + nanos).toString(), line, structured };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** The JSON push body → streams; a string is what is wrong with it. */
export function jsonPushRequest(body: unknown): LokiStream[] | string {
  if (!isObject(body) || !Array.isArray(body.streams)) return "body must be { streams: [...] }";
  const streams: LokiStream[] = [];
  for (const [si, s] of body.streams.entries()) {
    if (!isObject(s) || !Array.isArray(s.values))
      return `streams.${si}: must be { stream: {…}, values: [[ts, line], …] }`;
    const labels: Record<string, string> = {};
    if (isObject(s.stream)) for (const [k, v] of Object.entries(s.stream)) labels[k] = String(v);
    const entries: LokiEntry[] = [];
    for (const [vi, v] of s.values.entries()) {
      // a malformed value is kept as an entry with an empty line, so it is refused and counted
      if (!Array.isArray(v)) {
        entries.push({ ns: "", line: "", structured: { _invalid: `streams.${si}.values.${vi} is not an array` } });
        continue;
      }
      const structured: Record<string, string> = {};
      if (isObject(v[2])) for (const [k, x] of Object.entries(v[2])) structured[k] = String(x);
      entries.push({
        ns: typeof v[0] === "string" || typeof v[0] === "number" ? String(v[0]) : "",
        line: typeof v[1] === "string" ? v[1] : "",
        structured,
      });
    }
    streams.push({ labels, entries });
  }
  return streams;
}

const HEX_RE = /^[0-9a-fA-F]{1,64}$/;

/** A level named in the line: a JSON `level`, logfmt `level=`, or a leading level word. */
export function levelInLine(line: string): { level: Level; written: string } | undefined {
  const head = line.slice(0, 2048);
  if (head.startsWith("{")) {
    try {
      const o = JSON.parse(line) as Record<string, unknown>;
      for (const k of ["level", "severity", "lvl", "levelname"]) {
        const v = o?.[k];
        if (typeof v === "string" || typeof v === "number") {
          const level = knownLevel(String(v));
          if (level) return { level, written: String(v) };
        }
      }
    } catch {
      // not JSON after all: look for words below
    }
  }
  const kv = /\b(?:level|lvl|severity)=["']?([A-Za-z]+)/i.exec(head);
  if (kv && knownLevel(kv[1])) return { level: knownLevel(kv[1])!, written: kv[1] };
  const word = /(?:^|[\s[(|])(FATAL|CRITICAL|CRIT|ERROR|ERR|WARNING|WARN|NOTICE|INFO|DEBUG|TRACE)(?=[\s\]):|]|$)/.exec(
    head,
  );
  if (word) return { level: knownLevel(word[1])!, written: word[1] };
  return undefined;
}

/**
 * A structured line's fields, `message` set from its message; undefined for other lines:
 * - a JSON object with msg/message (pino-loki, Bunyan, JSON loggers);
 * - `text {json object}`, winston-loki's default line (the message, then the log's meta).
 */
export function jsonLineFields(line: string): Record<string, unknown> | undefined {
  let o: unknown;
  let text: string | undefined;
  if (line.startsWith("{")) o = parseJson(line);
  else {
    const cut = line.indexOf(" {");
    if (cut > 0 && line.endsWith("}")) {
      o = parseJson(line.slice(cut + 1));
      text = line.slice(0, cut);
    }
  }
  if (!isObject(o)) return undefined;
  const message = text ?? (typeof o.msg === "string" ? o.msg : typeof o.message === "string" ? o.message : undefined);
  if (message === undefined || message === "") return undefined;
  const fields: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) {
    if (["msg", "message", "level", "time", "timestamp", "service", "id", "severity"].includes(k)) continue;
    Object.defineProperty(fields, k, { value: v, enumerable: true, writable: true, configurable: true });
  }
  fields.message = message;
  return fields;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export interface LokiMapped {
  path: string;
  entry: Record<string, unknown>;
}
export interface LokiRejected {
  path: string;
  service: string;
  reason: string;
  entry: unknown;
}

/** Streams → raw entries (validated later by ingestEntries like any other), or reasons. */
export function mapLokiStreams(streams: LokiStream[]): { entries: LokiMapped[]; rejected: LokiRejected[] } {
  const out: { entries: LokiMapped[]; rejected: LokiRejected[] } = { entries: [], rejected: [] };
  streams.forEach((stream, si) => {
    const labels = { ...stream.labels };
    const serviceLabel = SERVICE_LABELS.find((l) => labels[l] !== undefined && labels[l] !== "");
    const service = serviceLabel ? toServiceName(labels[serviceLabel]) : UNKNOWN_SERVICE;
    if (serviceLabel) delete labels[serviceLabel];
    const levelLabel = LEVEL_LABELS.find((l) => labels[l] !== undefined && labels[l] !== "");
    const labelLevel = levelLabel ? labels[levelLabel] : undefined;
    if (levelLabel) delete labels[levelLabel];
    stream.entries.forEach((e, ei) => {
      const path = `streams.${si}.values.${ei}`;
      const ms = /^\d{1,20}$/.test(e.ns) ? Number(e.ns.length > 6 ? e.ns.slice(0, -6) : "0") : Number.NaN;
      if (!Number.isFinite(ms) || ms <= 0) {
        out.rejected.push({ path, service, reason: "timestamp: must be nanoseconds since the epoch", entry: e });
        return;
      }
      const structured = { ...e.structured };
      const written = labelLevel ?? structured.level ?? structured.detected_level;
      const found = written === undefined ? levelInLine(e.line) : undefined;
      const level: Level = written !== undefined ? (knownLevel(written) ?? "info") : (found?.level ?? "info");
      const severity = written ?? found?.written;
      delete structured.level;
      delete structured.detected_level;
      // A JSON line with msg/message (pino-loki, Bunyan, structured loggers): its message is the
      // message and its other fields are kept (entry validation moves them into metadata).
      const fields = jsonLineFields(e.line);
      const entry: Record<string, unknown> = {
        ...(fields ?? {}),
        id: `loki_${contentHash(`${service}\n${e.ns}\n${e.line}`)}`,
        level,
        message: fields ? fields.message : e.line,
        service,
        timestamp: ms,
      };
      if (severity !== undefined && !(LEVELS as readonly string[]).includes(severity)) entry.severity = severity;
      for (const key of ["trace_id", "span_id"]) {
        if (structured[key] !== undefined && HEX_RE.test(structured[key])) {
          entry[key] = structured[key];
          delete structured[key];
        }
      }
      const metadata = { ...labels, ...structured };
      if (Object.keys(metadata).length > 0) entry.metadata = metadata;
      out.entries.push({ path, entry });
    });
  });
  return out;
}
