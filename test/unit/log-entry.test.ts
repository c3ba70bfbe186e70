import { describe, expect, it } from "vitest";
import { LogEntryInput, normaliseEntry, parseTimestamp, truncateUtf8, utf8Length } from "../../src/schema/log-entry.js";
import { buildConfig } from "../../src/config.js";
import type { Env } from "../../src/env.js";

describe("lone surrogates", () => {
  it("become U+FFFD without marking the entry truncated (fast-check's counterexample)", () => {
    const e = normaliseEntry(LogEntryInput.parse({ level: "error", message: "\ud800", service: "A" }), 5e12, () => "g");
    expect(e.message).toBe("\ufffd");
    expect(e.truncated).toBeUndefined();
  });
});

describe("log entry normalisation", () => {
  it("maps level aliases case-insensitively", () => {
    const levels = ["ERROR", "Warning", "fatal", "CRITICAL", "trace", "Info", "debug"].map(
      (level) => LogEntryInput.parse({ level, message: "m", service: "s" }).level,
    );
    expect(levels).toEqual(["error", "warn", "error", "error", "debug", "info", "debug"]);
  });

  it("rejects seconds, NaN-like and malformed timestamps but takes ms and ISO", () => {
    expect(parseTimestamp(1_700_000_000)).toMatch(/seconds/);
    expect(parseTimestamp(Number.POSITIVE_INFINITY)).toMatch(/finite/);
    expect(parseTimestamp("next tuesday")).toMatch(/ISO-8601/);
    expect(parseTimestamp(1_700_000_000_123)).toBe(1_700_000_000_123);
    expect(parseTimestamp("2026-11-28T10:00:00Z")).toBe(Date.UTC(2026, 10, 28, 10));
  });

  it("rejects forbidden metadata keys and deep nesting with a path", () => {
    const bad = (metadata: unknown) => {
      const r = LogEntryInput.safeParse({ level: "info", message: "m", service: "s", metadata });
      return r.success ? "ok" : r.error.issues[0].path.join(".");
    };
    expect(bad(JSON.parse('{"a": {"constructor": 1}}'))).toBe("metadata.a.constructor");
    let deep: Record<string, unknown> = { leaf: 1 };
    for (let i = 0; i < 9; i++) deep = { d: deep };
    expect(bad(deep)).toMatch(/^metadata(\.d)+$/);
    expect(bad({ big: "x".repeat(17 * 1024) })).toBe("ok"); // cut and flagged later, not refused
    expect(bad([1, 2])).toBe("metadata");
    expect(bad({ fine: { nested: [1, { ok: true }] } })).toBe("ok");
  });

  it("truncates by UTF-8 bytes without splitting a character, and flags it", () => {
    const s = `a${"€".repeat(20_000)}`; // 1 + 60000 bytes
    const cut = truncateUtf8(s, 32 * 1024);
    expect(utf8Length(cut)).toBeLessThanOrEqual(32 * 1024);
    expect(utf8Length(cut)).toBeGreaterThan(32 * 1024 - 3);
    const e = normaliseEntry(LogEntryInput.parse({ level: "info", message: s, service: "s" }), 5e12, () => "gen");
    expect(e).toMatchObject({ id: "gen", truncated: true, timestamp: 5e12, received_at: 5e12, domain: "default" });
  });
});

describe("configuration", () => {
  const keys = JSON.stringify([{ key: "dev-read-key", scopes: ["read"], services: ["*"] }]);
  it("fails loudly, naming the variable", async () => {
    const cases: [Partial<Env>, RegExp][] = [
      [{}, /API_KEYS/],
      [{ API_KEYS: "not json" }, /API_KEYS/],
      [{ API_KEYS: JSON.stringify([{ key: "k", scopes: ["read"], services: ["*"] }]) }, /API_KEYS/],
      [{ API_KEYS: keys, BULK_INSERT_SIZE: "500" }, /BULK_INSERT_SIZE/],
      [{ API_KEYS: keys, DATA_SERVICE_URL: "ftp://x" }, /DATA_SERVICE_URL/],
      [{ API_KEYS: keys, PERSISTENCE_ENABLED: "yes" }, /PERSISTENCE_ENABLED/],
      [{ API_KEYS: keys, PERSISTENCE_ENABLED: "true" }, /PERSISTENCE_ENABLED/],
    ];
    for (const [env, re] of cases) {
      await expect(buildConfig(env as Env)).rejects.toMatchObject({
        code: "invalid_config",
        message: expect.stringMatching(re),
      });
    }
  });

  it("defaults to KV-only without a data service and to persistence with one", async () => {
    expect((await buildConfig({ API_KEYS: keys } as Env)).persistenceEnabled).toBe(false);
    const withUrl = await buildConfig({ API_KEYS: keys, DATA_SERVICE_URL: "https://data.example" } as Env);
    expect(withUrl).toMatchObject({
      persistenceEnabled: true,
      bulkInsertSize: 50,
      flushIntervalMs: 30_000,
      dataServiceTimeoutMs: 5000,
    });
  });
});
