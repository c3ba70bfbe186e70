// src/core/redact.ts: exact outputs per rule, Luhn and shape negatives, no over-redaction of
// ordinary numbers, ids and timestamps, idempotence, linear time on hostile inputs, REDACT parsing.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  applySecretRules,
  DEFAULT_REDACTION,
  isSecretKey,
  luhnValid,
  NO_REDACTION,
  parseRedactSetting,
  redactEntry,
  redactSecrets,
  redactText,
  type RedactionOptions,
} from "../../src/core/redact.js";
import { buildConfig } from "../../src/config.js";
import type { Env } from "../../src/env.js";
import { LIMITS, utf8Length } from "../../src/schema/log-entry.js";
import { validateEntries } from "../../src/schema/ingest.js";

const ALL: RedactionOptions = { ...DEFAULT_REDACTION, ip: true };
const r = (s: string, o: RedactionOptions = DEFAULT_REDACTION) => redactText(s, o);

describe("redactText: exact outputs", () => {
  it.each([
    ["user alice@example.com logged in", "user [email] logged in"],
    ["mail to <bob.smith+tag@mail.example.co.uk>.", "mail to <[email]>."],
    ["two: a@b.io,c.d@e-f.org", "two: [email],[email]"],
    ["name='o'brien@example.ie'", "name='[email]'"],
    ["card 4111 1111 1111 1111 charged", "card [card] charged"],
    ["card 4111-1111-1111-1111 ok", "card [card] ok"],
    ["raw 4111111111111111.", "raw [card]."],
    ["amex 3782 822463 10005", "amex [card]"],
    ["mc 5555555555554444 visa13 4222222222222", "mc [card] visa13 [card]"],
    ["card then year 4111 1111 1111 1111 2024", "card then year [card] 2024"],
    ["order 4111111111111111 1", "order [card] 1"],
    [
      "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abcdefghijk",
      "Authorization: Bearer [secret]",
    ],
    ['headers {"authorization":"Basic dXNlcjpwYXNz","x":1}', 'headers {"authorization":"Basic [secret]","x":1}'],
    ["proxy-authorization=opaque-value-1", "proxy-authorization=[secret]"],
    ["sent Bearer abc123def456 upstream", "sent Bearer [secret] upstream"],
    ["jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.sig_nature-x here", "jwt [secret] here"],
    ["key sk_live_51HxyzABCDEFGH1234567 used", "key [secret] used"],
    ["aws AKIAIOSFODNN7EXAMPLE id", "aws [secret] id"],
    ["gh ghp_abcdefghijklmnopqrstuvwxyz0123456789 pushed", "gh [secret] pushed"],
    ["slack xoxb-123456789012-abcdefghijkl", "slack [secret]"],
    ["google AIzaSyA-1234567890abcdefghijklmnopqrstu", "google [secret]"],
    ["GET /cb?code=1&token=abc123&x=2", "GET /cb?code=1&token=[secret]&x=2"],
    ["login password=hunter2 user=bob", "login password=[secret] user=bob"],
    ["db_password: 'p4ss' csrf_token=zz", "db_password: '[secret]' csrf_token=[secret]"],
    [
      '{"password":"hunter2","api_key":"0123456789abcdef0123456789abcdef"}',
      '{"password":"[secret]","api_key":"[secret]"}',
    ],
    ["X-Api-Key: 9f86d081884c7d659a2feaa0", "X-Api-Key: [secret]"],
    ["Cookie: session=abc; theme=dark\nnext line", "Cookie: [secret]\nnext line"],
    ["-----BEGIN RSA PRIVATE KEY-----\nMIIabc\n-----END RSA PRIVATE KEY----- after", "[secret] after"],
    ["cut -----BEGIN PRIVATE KEY-----\nMIIabc", "cut [secret]"],
    ["db postgres://admin:s3cr3t@db.internal:5432/app", "db postgres://admin:[secret]@db.internal:5432/app"],
    ["redis://:pw@cache:6379 and amqp://u:p:q@mq/vh", "redis://:[secret]@cache:6379 and amqp://u:[secret]@mq/vh"],
  ])("%s", (input, expected) => {
    expect(r(input)).toBe(expected);
  });

  it("masks IPv4 and IPv6 only when ip is enabled", () => {
    const text = "from 192.168.1.20 and fe80::1 and 2001:db8:0:0:0:0:2:1 and ::ffff:10.0.0.1";
    expect(r(text)).toBe(text);
    expect(r(text, ALL)).toBe("from [ip] and [ip] and [ip] and ::ffff:[ip]");
  });

  it("applies only the enabled rules", () => {
    const text = "alice@example.com 4111111111111111 password=x https://u:p@h";
    expect(r(text, NO_REDACTION)).toBe(text);
    expect(r(text, { ...NO_REDACTION, email: true })).toBe("[email] 4111111111111111 password=x https://u:p@h");
    expect(r(text, { ...NO_REDACTION, card: true })).toBe("alice@example.com [card] password=x https://u:p@h");
    expect(r(text, { ...NO_REDACTION, secret: true })).toBe(
      "alice@example.com 4111111111111111 password=[secret] https://u:p@h",
    );
    expect(r(text, { ...NO_REDACTION, url_password: true })).toBe(
      "alice@example.com 4111111111111111 password=x https://u:[secret]@h",
    );
  });
});

describe("redactText: no over-redaction", () => {
  it.each([
    "bad card 4111111111111112 (Luhn fails)",
    "ms timestamp 1718000000000 and 1790000000123 and 17180000000001",
    "20 digits 41111111111111111111 is not a card",
    "12 digits 411111111111 is too short",
    "single digits 4 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1",
    "phone +1 555-123-4567, date 2024-06-10, time 12:30:45.123Z",
    "2024-06-10T12:30:45.123Z took 3000 ms on port 8080 ratio 0.4111111111111111",
    "uuid 550e8400-e29b-41d4-a716-446655440000",
    "sha 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "hex id a4111111111111111b and order #4111111111111111x",
    "user@localhost and foo@bar and @handle and a@b.c1",
    "missing Bearer token; Bearer undefined; basic configuration",
    "tokens: 5, max_tokens=100, token count 3, password reset requested",
    "https://host:8080/path?x=1 and mailto-less host:port@ nothing",
    "mac 00:1a:2b:3c:4d:5e std::vector Foo::Bar version 1.2.3",
  ])("%s", (text) => {
    expect(r(text, ALL)).toBe(text);
  });

  it("masks a card followed by a period and a digit (fast-check found it left whole)", () => {
    expect(r("4111 1111 1111 1111.0")).toBe("[card].0");
    expect(r("paid with 4111111111111111.5 today")).toBe("paid with [card].5 today");
    // a decimal fraction (a period before the digits) stays a number
    expect(r("ratio 0.4111111111111111")).toBe("ratio 0.4111111111111111");
  });

  it("knows Luhn", () => {
    expect(luhnValid("4111111111111111")).toBe(true);
    expect(luhnValid("4111111111111112")).toBe(false);
    expect(luhnValid("378282246310005")).toBe(true);
    expect(luhnValid("")).toBe(false);
    expect(luhnValid("12a4")).toBe(false);
  });

  it("classifies metadata keys", () => {
    for (const k of [
      "password",
      "DB_PASSWORD",
      "client-secret",
      "access_token",
      "apiKey",
      "X-API-Key",
      "Authorization",
      "cookie",
      "aws_secret_access_key",
      "private_key",
    ]) {
      expect(isSecretKey(k), k).toBe(true);
    }
    for (const k of ["tokens", "max_tokens", "user", "key_id", "passport", "author", "secretary"])
      expect(isSecretKey(k), k).toBe(false);
  });
});

describe("redactEntry", () => {
  const entry = {
    level: "error",
    service: "api",
    message: "charge failed for alice@example.com card 4111 1111 1111 1111",
    stack_trace: "Error: token=abc123\n  at pay (https://u:pw@pay.example.com/x.js:1:2)",
    user_id: "alice@example.com",
    session_id: "sess-4111111111111111",
    request_id: "r-1",
    context: { url: "https://api.example.com/cb?api_key=k123&x=1", method: "POST", ip: "203.0.113.9" },
    metadata: {
      headers: { Authorization: "Bearer abc", cookie: "a=b", "content-type": "application/json" },
      password: 1234,
      card: 4111111111111111,
      note: "ping bob@example.org",
      list: ["x@y.io", { token: "t0k", ok: true, n: null }],
      count: 3,
    },
  };

  it("redacts message, stack trace, user_id, context.url and metadata deeply", () => {
    const out = redactEntry(entry, DEFAULT_REDACTION);
    expect(out).toEqual({
      ...entry,
      message: "charge failed for [email] card [card]",
      stack_trace: "Error: token=[secret]\n  at pay (https://u:[secret]@pay.example.com/x.js:1:2)",
      user_id: "[email]",
      context: { url: "https://api.example.com/cb?api_key=[secret]&x=1", method: "POST", ip: "203.0.113.9" },
      metadata: {
        headers: { Authorization: "[secret]", cookie: "[secret]", "content-type": "application/json" },
        password: "[secret]",
        card: "[card]",
        note: "ping [email]",
        list: ["[email]", { token: "[secret]", ok: true, n: null }],
        count: 3,
      },
    });
    // session_id/request_id are correlation keys: untouched; the input is not modified
    expect(out.session_id).toBe(entry.session_id);
    expect(entry.message).toContain("alice@example.com");
  });

  it("masks context.ip wholesale with the ip rule and leaves everything alone with none", () => {
    expect(redactEntry(entry, ALL).context).toEqual({
      url: "https://api.example.com/cb?api_key=[secret]&x=1",
      method: "POST",
      ip: "[ip]",
    });
    expect(redactEntry(entry, NO_REDACTION)).toBe(entry);
  });

  it("is idempotent", () => {
    const once = redactEntry(entry, ALL);
    expect(redactEntry(once, ALL)).toEqual(once);
  });

  it("keeps fields within LIMITS when markers are longer than what they replace", () => {
    const stack = "pwd=x ".repeat(Math.floor(LIMITS.stackTraceBytes / 6));
    const meta = { s: "pwd=x ".repeat(2600) }; // ~15.6 KiB in, ~2.2x after redaction
    const out = redactEntry(
      {
        message: "m",
        stack_trace: stack,
        user_id: "a@b.co ".repeat(36),
        metadata: meta,
        context: { url: `https://x/?token=1&${"token=1&".repeat(250)}` },
      },
      DEFAULT_REDACTION,
    );
    expect(utf8Length(out.stack_trace!)).toBeLessThanOrEqual(LIMITS.stackTraceBytes);
    expect(out.user_id!.length).toBeLessThanOrEqual(LIMITS.refFieldChars);
    expect((out.context as { url: string }).url.length).toBeLessThanOrEqual(LIMITS.urlChars);
    expect(utf8Length(JSON.stringify(out.metadata))).toBeLessThanOrEqual(LIMITS.metadataBytes);
    expect(out.metadata).toEqual({ "[redacted]": "metadata too large after redaction" });
    expect(JSON.stringify(out)).not.toMatch(/pwd=x/);
  });

  it("copies a __proto__ key as data, never as the prototype", () => {
    const meta = JSON.parse('{"__proto__": {"polluted": "a@b.io"}}') as Record<string, unknown>;
    const out = redactEntry({ message: "m", metadata: meta }, DEFAULT_REDACTION);
    expect(Object.getPrototypeOf(out.metadata)).toBe(Object.prototype);
    expect(Object.keys(out.metadata as object)).toEqual(["__proto__"]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("runs before normalisation in validateEntries (a card across the 32 KiB cut is still hidden)", () => {
    const message = `${"x".repeat(LIMITS.messageBytes - 8)} 4111 1111 1111 1111`;
    const { valid } = validateEntries(
      [{ level: "info", message, service: "api" }],
      1,
      () => "id",
      "logs",
      DEFAULT_REDACTION,
    );
    expect(valid[0].entry.message).toBe(`${"x".repeat(LIMITS.messageBytes - 8)} [card]`);
    const plain = validateEntries([{ level: "info", message, service: "api" }], 1, () => "id");
    expect(plain.valid[0].entry.truncated).toBe(true);
  });
});

describe("bounded time on hostile inputs", () => {
  const ONE_MIB = 1024 * 1024;
  it.each([
    ["letters", "a".repeat(ONE_MIB)],
    ["local part then @", `${"a".repeat(ONE_MIB - 1)}@`],
    ["many @", "a@".repeat(ONE_MIB / 2)],
    ["digits", "4".repeat(ONE_MIB)],
    ["digit groups", "4111 ".repeat(ONE_MIB / 5)],
    ["dash-separated eyJ", "eyJa-".repeat(ONE_MIB / 5)],
    ["colons", "a:".repeat(ONE_MIB / 2)],
    ["dots and digits", "1.".repeat(ONE_MIB / 2)],
    ["BEGIN markers", "-----BEGIN ".repeat(ONE_MIB / 11)],
    ["schemes", "a://".repeat(ONE_MIB / 4)],
    ["secret keys", "password password ".repeat(ONE_MIB / 18)],
    ["spaces after key", `token${" ".repeat(ONE_MIB)}`],
    [
      "dense PII (every rule fires, two passes)",
      "alice@example.com 4111 1111 1111 1111 password=x 10.0.0.1 Bearer abc123def456 ".repeat(ONE_MIB / 80),
    ],
  ])("%s (1 MiB) in well under a second", (_name, text) => {
    const t0 = performance.now();
    const out = redactText(text, ALL);
    const ms = performance.now() - t0;
    expect(typeof out).toBe("string");
    expect(ms).toBeLessThan(1000);
  });
});

describe("REDACT setting", () => {
  it("parses the default, none and lists", () => {
    expect(parseRedactSetting(undefined)).toEqual(DEFAULT_REDACTION);
    expect(parseRedactSetting("")).toEqual(DEFAULT_REDACTION);
    expect(parseRedactSetting("none")).toEqual(NO_REDACTION);
    expect(parseRedactSetting(" Email , ip ")).toEqual({ ...NO_REDACTION, email: true, ip: true });
    expect(parseRedactSetting("email,card,secret,url_password,ip")).toEqual(ALL);
    expect(parseRedactSetting("email,phone")).toMatch(/REDACT.*"phone"/);
    expect(parseRedactSetting("none,email")).toMatch(/REDACT/);
    expect(parseRedactSetting("email,,card")).toMatch(/REDACT/);
  });

  it("is part of Config, and a bad value is invalid_config naming REDACT", async () => {
    const base = {
      API_KEYS: JSON.stringify([{ key: "k-12345678", scopes: ["read"], services: ["*"] }]),
    } as unknown as Env;
    expect((await buildConfig(base)).redaction).toEqual(DEFAULT_REDACTION);
    expect((await buildConfig({ ...base, REDACT: "none" })).redaction).toEqual(NO_REDACTION);
    await expect(buildConfig({ ...base, REDACT: "emails" })).rejects.toMatchObject({
      code: "invalid_config",
      status: 500,
      message: expect.stringMatching(/^REDACT/),
    });
  });
});

describe("redactSecrets: the trigger prefilter", () => {
  // Pieces of every secret rule's shape, glued with separators and random text: whatever the
  // prefilter lets through unchanged, the full rule set must leave unchanged too.
  const piece = fc.oneof(
    fc.constantFrom(
      "Authorization: ",
      "proxy-authorization=",
      "Cookie: ",
      "set-cookie:",
      "Bearer ",
      "basic ",
      "api_key=",
      "apikey:",
      "access-key=",
      "secret=",
      "SECRET_ACCESS_KEY=",
      "token=",
      "password:",
      "passwd=",
      "pwd=",
      "private_key=",
      "sig=",
      "signature=",
      "sk_live_",
      "pk_test_",
      "rk_live_",
      "sk-proj-",
      "sk-ant-",
      "AKIA",
      "ASIA",
      "ghp_",
      "gho_",
      "github_pat_",
      "glpat-",
      "xoxb-",
      "AIza",
      "npm_",
      "eyJhbGciOiJIUzI1NiJ9.",
      "eyJzdWIiOiIxMjM0NTY3ODkwIn0.",
      "-----BEGIN RSA PRIVATE KEY-----",
      "-----END RSA PRIVATE KEY-----",
      '"',
      "'",
      " ",
      "=",
      ":",
      ".",
    ),
    fc.string({ unit: fc.constantFrom(..."abcXYZ0189_-./+=".split("")), minLength: 1, maxLength: 40 }),
    // the key shapes need long alphanumeric runs (AWS 16, GitHub 30+, npm 36)
    fc.string({ unit: fc.constantFrom(..."aZ09KQ".split("")), minLength: 16, maxLength: 48 }),
  );
  const text = fc.array(piece, { maxLength: 8 }).map((p) => p.join(""));

  it("changes nothing the full rule set would change", () => {
    fc.assert(
      fc.property(text, (s) => {
        expect(redactSecrets(s)).toBe(applySecretRules(s));
      }),
      { numRuns: 5000 },
    );
  });

  it("still redacts each rule's shape", () => {
    expect(redactSecrets("key AKIAABCDEFGHIJKLMNOP used")).toBe("key [secret] used");
    expect(redactSecrets("with ghp_abcdefghijklmnopqrstuvwxyz0123456789")).toBe("with [secret]");
    expect(redactSecrets("db pwd=hunter22 ok")).toBe("db pwd=[secret] ok");
    expect(redactSecrets("plain text with nothing secret-looking in it 12345")).toBe(
      "plain text with nothing secret-looking in it 12345",
    );
  });
});
