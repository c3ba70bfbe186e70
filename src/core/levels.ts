// Every common level spelling → one of the four stored levels. Pure; used by the entry
// normaliser (src/schema/log-entry.ts), the OTLP mapping and the Loki mapping. A level is never a
// reason to reject a log: an unknown name is stored as `info`, and the caller keeps the original
// text as `severity`. The README's "Levels" table is the user-facing copy of this one.
//
// | stored | names (any case; a trailing digit as in OTel's WARN2 is ignored)                   |
// |--------|-------------------------------------------------------------------------------------|
// | error  | error err fatal critical crit emerg emergency alert panic dpanic severe e f a       |
// | warn   | warn warning w                                                                      |
// | info   | info information informational notice http config log i n + anything unknown        |
// | debug  | debug trace verbose silly fine finer finest all d v t                               |
//
// Numbers (or digit strings) in the `level` field:
// - 0-7 are syslog severities: 0-3 (emerg, alert, crit, err) error, 4 warn, 5-6 info, 7 debug.
// - 10 and above are pino/Bunyan levels: <30 (trace 10, debug 20) debug, <40 info, <50 warn,
//   50 (error) and 60 (fatal) and above error.
// - 8 and 9 fall between the two scales and are taken as info.
// OTLP's `severityNumber` (1-24) is a separate field with its own scale: see otelSeverityToLevel.
import type { Level } from "../schema/log-entry.js";

const NAMES: Record<string, Level> = {
  error: "error",
  err: "error",
  fatal: "error",
  critical: "error",
  crit: "error",
  emerg: "error",
  emergency: "error",
  alert: "error",
  panic: "error",
  dpanic: "error",
  severe: "error",
  e: "error",
  f: "error",
  a: "error",
  warn: "warn",
  warning: "warn",
  w: "warn",
  info: "info",
  information: "info",
  informational: "info",
  notice: "info",
  http: "info",
  config: "info",
  log: "info",
  i: "info",
  n: "info",
  debug: "debug",
  trace: "debug",
  verbose: "debug",
  silly: "debug",
  fine: "debug",
  finer: "debug",
  finest: "debug",
  all: "debug",
  d: "debug",
  v: "debug",
  t: "debug",
};

/** A known level name → its stored level; undefined when the name is not in the table. */
export function knownLevel(value: string): Level | undefined {
  let s = value.trim().toLowerCase();
  if (s.startsWith("severity_number_")) s = s.slice("severity_number_".length); // OTLP JSON enum names
  if (/^\d+$/.test(s)) return numericLevel(Number(s));
  return NAMES[s] ?? NAMES[s.replace(/[\d+-]+$/, "")]; // WARN2, ERROR+2 (slog)
}

/** syslog 0-7 or pino/Bunyan 10-60 (see the table above). */
export function numericLevel(n: number): Level {
  if (!Number.isFinite(n)) return "info";
  if (n >= 10) {
    if (n < 30) return "debug";
    if (n < 40) return "info";
    if (n < 50) return "warn";
    return "error";
  }
  if (n < 0) return "info";
  if (n <= 3) return "error";
  if (n < 4.5) return "warn";
  if (n < 7) return "info";
  if (n < 8) return "debug";
  return "info";
}

/** Any level value a client sends → a stored level. Never fails: unknown names are info. */
export function toLevel(value: unknown): Level {
  if (typeof value === "number") return numericLevel(value);
  if (typeof value === "string") return knownLevel(value) ?? "info";
  return "info";
}

/** OTLP SeverityNumber (logs data model): TRACE 1-4, DEBUG 5-8, INFO 9-12, WARN 13-16, ERROR 17-20, FATAL 21-24. */
export function otelSeverityToLevel(n: number): Level | undefined {
  if (!(n > 0)) return undefined;
  if (n <= 8) return "debug";
  if (n <= 12) return "info";
  if (n <= 16) return "warn";
  return "error";
}

const OTEL_SEVERITY_NAMES = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"];

/** "SEVERITY_NUMBER_WARN3" (the OTLP JSON enum name) → 15; undefined when it is not one. */
export function otelSeverityFromName(name: string): number | undefined {
  if (name === "SEVERITY_NUMBER_UNSPECIFIED") return 0;
  const m = /^SEVERITY_NUMBER_([A-Z]+)([234]?)$/.exec(name);
  if (!m) return undefined;
  const i = OTEL_SEVERITY_NAMES.indexOf(m[1]);
  if (i < 0) return undefined;
  return i * 4 + (m[2] ? Number(m[2]) : 1);
}
