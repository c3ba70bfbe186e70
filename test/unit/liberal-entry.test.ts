import { describe, expect, it } from "vitest";
import {
  LIMITS,
  LogEntryInput,
  liberalEntry,
  normaliseEntry,
  parseTimestamp,
  SERVICE_NAME_RE,
  utf8Length,
} from "../../src/schema/log-entry.js";
import { validateEntries } from "../../src/schema/ingest.js";

const RECEIVED = Date.UTC(2026, 11, 2, 12);

function store(raw: unknown, defaults: { service?: string } = {}) {
  const { valid, rejected } = validateEntries([raw], RECEIVED, () => "gen", "logs", undefined, defaults);
  if (rejected.length > 0) throw new Error(JSON.stringify(rejected[0].error));
  return valid[0].entry;
}

describe("liberal entries", () => {
  it("stores a pino line: msg, numeric level, time, err, and keeps hostname/pid in metadata", () => {
    const err = { type: "TypeError", message: "boom", stack: "TypeError: boom\n    at x (a.js:1:1)" };
    const e = store(
      { level: 50, time: RECEIVED - 5, pid: 42, hostname: "h1", msg: "failed", err, v: 1 },
      { service: "api" },
    );
    expect(e).toMatchObject({
      level: "error",
      severity: "50",
      message: "failed",
      timestamp: RECEIVED - 5,
      service: "api",
      stack_trace: err.stack,
      metadata: { pid: 42, hostname: "h1", v: 1, err: { type: "TypeError", message: "boom" } },
    });
  });

  it("stores a Bunyan record with its name as the service", () => {
    const e = store({ name: "billing", level: 40, msg: "slow", time: "2026-12-02T11:00:00.000Z", hostname: "h" });
    expect(e).toMatchObject({
      service: "billing",
      level: "warn",
      message: "slow",
      timestamp: Date.UTC(2026, 11, 2, 11),
    });
  });

  it("keeps syslog and winston level names as severity and never refuses a level name", () => {
    for (const [level, stored] of [
      ["notice", "info"],
      ["emerg", "error"],
      ["http", "info"],
      ["silly", "debug"],
      ["no-such-level", "info"],
    ]) {
      const e = store({ level, message: "m", service: "s" });
      expect([e.level, e.severity]).toEqual([stored, level]);
    }
    expect(store({ level: "warn", message: "m", service: "s" }).severity).toBeUndefined();
  });

  it("moves unknown top-level fields into metadata; metadata's own keys win a clash", () => {
    const e = store({
      level: "info",
      message: "m",
      service: "s",
      hostname: "h",
      region: "eu",
      metadata: { region: "us" },
    });
    expect(e.metadata).toEqual({ hostname: "h", _region: "eu", region: "us" });
  });

  it("stores hex trace and span ids lower-cased, and keeps a non-hex trace id in metadata", () => {
    const e = store({
      level: "info",
      message: "m",
      service: "s",
      trace_id: "ABCDEF0123456789ABCDEF0123456789",
      spanId: "0123456789abcdef",
    });
    expect([e.trace_id, e.span_id]).toEqual(["abcdef0123456789abcdef0123456789", "0123456789abcdef"]);
    const x = store({ level: "info", message: "m", service: "s", trace_id: "1-5759e988-bd862e3f" });
    expect(x.trace_id).toBeUndefined();
    expect(x.metadata).toEqual({ trace_id: "1-5759e988-bd862e3f" });
  });

  it("truncates and flags oversized metadata, ref fields and context instead of refusing", () => {
    const e = store({ level: "info", message: "m", service: "s", metadata: { big: "x".repeat(20_000), keep: 1 } });
    expect(e.truncated).toBe(true);
    expect(e.metadata).toMatchObject({ keep: 1 });
    expect(String(e.metadata?.big)).toHaveLength(1024);
    const many = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`k${i}`, "y".repeat(1000)]));
    const m = store({ level: "info", message: "m", service: "s", metadata: many });
    expect(m.truncated).toBe(true);
    expect(utf8Length(JSON.stringify(m.metadata))).toBeLessThanOrEqual(LIMITS.metadataBytes);
    const r = store({
      level: "info",
      message: "m",
      service: "s",
      user_id: "u".repeat(300),
      context: { url: `/${"p".repeat(3000)}` },
    });
    expect(r.truncated).toBe(true);
    expect(r.user_id).toHaveLength(256);
    expect(r.context?.url).toHaveLength(LIMITS.urlChars);
  });

  it("turns a non-string message into its JSON text", () => {
    expect(store({ level: "info", message: { a: 1 }, service: "s" }).message).toBe('{"a":1}');
    expect(store({ level: "info", message: 42, service: "s" }).message).toBe("42");
  });

  it("leaves non-objects to the validator", () => {
    expect(liberalEntry("text").raw).toBe("text");
    expect(LogEntryInput.safeParse(liberalEntry([1]).raw).success).toBe(false);
  });

  it("still refuses a __proto__ key moved into metadata", () => {
    const raw = JSON.parse('{"level":"info","message":"m","service":"s","__proto__":{"x":1}}');
    const { rejected } = validateEntries([raw], RECEIVED, () => "gen");
    expect(rejected[0].error.details?.[0].path).toBe("logs.0.metadata.__proto__");
  });
});

describe("dates and names (issue 16 item 8)", () => {
  it("refuses impossible calendar dates like it refuses month 13", () => {
    expect(parseTimestamp("2026-02-30T00:00:00Z")).toMatch(/does not exist/);
    expect(parseTimestamp("2026-13-01T00:00:00Z")).toMatch(/ISO-8601/);
    expect(parseTimestamp("2024-02-29T00:00:00Z")).toBe(Date.UTC(2024, 1, 29));
  });

  it("refuses a timestamp more than a day after receive time, accepts one within the day", () => {
    const { valid, rejected } = validateEntries(
      [
        { level: "info", message: "m", service: "s", timestamp: RECEIVED + 25 * 3600_000 },
        { level: "info", message: "m", service: "s", timestamp: "+275760-09-13T00:00:00.000Z" },
        { level: "info", message: "m", service: "s", timestamp: RECEIVED + 23 * 3600_000 },
      ],
      RECEIVED,
      () => "gen",
    );
    expect(rejected.map((r) => [r.index, r.error.details?.[0].path])).toEqual([
      [0, "logs.0.timestamp"],
      [1, "logs.1.timestamp"],
    ]);
    expect(valid.map((v) => v.index)).toEqual([2]);
  });

  it("refuses the service names . and .. but not names containing dots", () => {
    expect([".", "..", "...", "a.b", ".env"].map((s) => SERVICE_NAME_RE.test(s))).toEqual([
      false,
      false,
      true,
      true,
      true,
    ]);
    const { rejected } = validateEntries([{ level: "info", message: "m", service: ".." }], RECEIVED, () => "g");
    expect(rejected[0].error.details?.[0].path).toBe("logs.0.service");
  });

  it("normaliseEntry copies trace/span/severity", () => {
    const input = LogEntryInput.parse({
      level: "info",
      message: "m",
      service: "s",
      trace_id: "ab",
      span_id: "cd",
      severity: "INFO2",
    });
    expect(normaliseEntry(input, RECEIVED, () => "g")).toMatchObject({
      trace_id: "ab",
      span_id: "cd",
      severity: "INFO2",
    });
  });
});
