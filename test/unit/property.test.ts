// Property-based tests (fast-check) for the pure code every log goes through: input validation
// and normalisation, redaction and the pattern miner. Each property must hold for any input:
// never throw, stay within the documented bounds, and be deterministic.
import fc from "fast-check";
import { describe, expect, it, vi } from "vitest";
import { PatternMiner } from "../../src/core/pattern-miner.js";
import {
  DEFAULT_REDACTION,
  redactEntry,
  redactText,
  REDACT_RULES,
  type RedactionOptions,
} from "../../src/core/redact.js";
import { validateEntries } from "../../src/schema/ingest.js";
import {
  CATEGORIES,
  ID_RE,
  LEVELS,
  LIMITS,
  LogEntryInput,
  normaliseEntry,
  SERVICE_NAME_RE,
  utf8Length,
} from "../../src/schema/log-entry.js";

const RUNS = { numRuns: 300 };
// a few hundred runs each, some with 100 KiB strings: give a slow CI machine room
vi.setConfig({ testTimeout: 60_000 });

// ---- arbitraries ------------------------------------------------------------------------------

/** Strings that stress encoders: ASCII, any code point, lone surrogates, control characters. */
const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c));
const control = fc.integer({ min: 0, max: 0x1f }).map((c) => String.fromCharCode(c));
const anyChar = fc.oneof(
  fc.string({ unit: "binary", minLength: 1, maxLength: 1 }),
  loneSurrogate,
  control,
  fc.constantFrom("é", "😀", "\u2028", "\ufeff"),
);
const weirdString = fc.oneof(fc.string(), fc.string({ unit: anyChar, maxLength: 64 }));
/** Occasionally far over every limit (up to ~120 KiB of 4-byte characters). */
const bigString = fc
  .tuple(
    fc.constantFrom("a", "é", "😀", "\ud800", "ab@x.io 4111 1111 1111 1111 "),
    fc.integer({ min: 1000, max: 30_000 }),
  )
  .map(([s, n]) => s.repeat(n));
const stringish = fc.oneof({ weight: 6, arbitrary: weirdString }, { weight: 1, arbitrary: bigString });

/** Values of every JSON type plus what JSON can't carry (NaN, ±Infinity, -0, undefined). */
const scalar = fc.oneof(
  stringish,
  fc.double(),
  fc.integer(),
  fc.constantFrom(
    Number.NaN,
    Number.POSITIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
    -0,
    1e11,
    1_700_000_000,
    1_700_000_000_000,
    8.64e15 + 1,
  ),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
);
const pollutingKey = fc.constantFrom("__proto__", "constructor", "prototype", "toString", "hasOwnProperty");
const { tree: anyValue } = fc.letrec((tie) => ({
  tree: fc.oneof({ depthSize: "small", withCrossShrink: true }, scalar, tie("array"), tie("object")),
  array: fc.array(tie("tree"), { maxLength: 4 }),
  object: fc.dictionary(fc.oneof(fc.string({ maxLength: 8 }), pollutingKey), tie("tree"), { maxKeys: 4 }),
}));
/** Nested objects deeper than LIMITS.metadataDepth. */
const deepObject = fc.integer({ min: 1, max: 40 }).map((n) => {
  let v: unknown = "leaf";
  for (let i = 0; i < n; i++) v = { d: v };
  return v;
});

/** An entry-shaped object: each field valid, invalid, or absent. */
const entryish = fc.record(
  {
    id: fc.oneof(fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/), stringish, scalar),
    timestamp: fc.oneof(
      fc.integer({ min: 100_000_000_000, max: 8_640_000_000_000_000 }),
      fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
      scalar,
    ),
    level: fc.oneof(fc.constantFrom(...LEVELS, "WARNING", "fatal", "Trace", "critical", "nope", ""), scalar),
    message: fc.oneof(stringish, scalar),
    service: fc.oneof(fc.stringMatching(/^[A-Za-z0-9._-]{1,128}$/), stringish, scalar),
    domain: fc.oneof(fc.domain(), stringish, scalar),
    user_id: fc.oneof(stringish, scalar),
    session_id: fc.oneof(stringish, scalar),
    request_id: fc.oneof(stringish, scalar),
    metadata: fc.oneof(anyValue, deepObject, fc.dictionary(fc.string({ maxLength: 8 }), bigString, { maxKeys: 2 })),
    context: fc.oneof(fc.record({ url: stringish, method: stringish, ip: stringish }, { requiredKeys: [] }), anyValue),
    stack_trace: fc.oneof(stringish, scalar),
    category: fc.oneof(fc.constantFrom(...CATEGORIES), scalar),
    priority: fc.oneof(fc.integer({ min: 0, max: 6 }), scalar),
    extra: anyValue,
  },
  { requiredKeys: [] },
);

/** Whether a field other than the message is over its limit in what was sent. */
function otherFieldOverLimit(raw: Record<string, unknown>): boolean {
  const chars = (v: unknown, max: number) => typeof v === "string" && v.length > max;
  let metaBytes = 0;
  try {
    metaBytes = utf8Length(JSON.stringify(raw.metadata) ?? "");
  } catch {
    metaBytes = Number.POSITIVE_INFINITY;
  }
  const ctx = (typeof raw.context === "object" && raw.context !== null ? raw.context : {}) as Record<string, unknown>;
  return (
    metaBytes > LIMITS.metadataBytes ||
    (typeof raw.stack_trace === "string" && utf8Length(raw.stack_trace) > LIMITS.stackTraceBytes) ||
    ["user_id", "session_id", "request_id"].some((f) => chars(raw[f], LIMITS.refFieldChars)) ||
    chars(ctx.url, LIMITS.urlChars) ||
    chars(ctx.method, 16) ||
    chars(ctx.ip, 64)
  );
}

function depthOf(v: unknown): number {
  if (typeof v !== "object" || v === null) return 0;
  const children = Object.values(v as object);
  return 1 + (children.length ? Math.max(...children.map(depthOf)) : 0);
}

// ---- validation + normalisation ---------------------------------------------------------------

describe("LogEntryInput.safeParse + normaliseEntry", () => {
  it("never throw on arbitrary values and keep every accepted entry within LIMITS", () => {
    fc.assert(
      fc.property(fc.oneof({ weight: 4, arbitrary: entryish }, { weight: 1, arbitrary: anyValue }), (raw) => {
        const r = LogEntryInput.safeParse(raw);
        if (!r.success) {
          expect(r.error.issues.length).toBeGreaterThan(0);
          return;
        }
        let n = 0;
        const e = normaliseEntry(r.data, 1_800_000_000_000, () => `gen${n++}`);
        expect(e.id).toMatch(ID_RE);
        expect(e.service).toMatch(SERVICE_NAME_RE);
        expect(LEVELS).toContain(e.level);
        expect(Number.isSafeInteger(e.timestamp) && e.timestamp >= 1e11 && e.timestamp <= 8.64e15).toBe(true);
        expect(e.message.length).toBeGreaterThan(0);
        expect(utf8Length(e.message)).toBeLessThanOrEqual(LIMITS.messageBytes);
        // lone surrogates become U+FFFD (not a truncation): compare with the well-formed input.
        // `truncated` flags any field that was cut: a cut message always, otherwise another
        // field over its limit (fast-check found a 16 KiB+ metadata value beside a short message)
        const sent = (raw as { message: unknown }).message;
        const messageCut = e.message !== (typeof sent === "string" ? sent.toWellFormed() : sent);
        if (messageCut) expect(e.truncated).toBe(true);
        else if (e.truncated) expect(otherFieldOverLimit(raw as Record<string, unknown>)).toBe(true);
        if (e.stack_trace !== undefined) expect(utf8Length(e.stack_trace)).toBeLessThanOrEqual(LIMITS.stackTraceBytes);
        for (const f of ["user_id", "session_id", "request_id"] as const)
          if (e[f] !== undefined) expect(e[f]!.length).toBeLessThanOrEqual(LIMITS.refFieldChars);
        if (e.context?.url !== undefined) expect(e.context.url.length).toBeLessThanOrEqual(LIMITS.urlChars);
        if (e.metadata !== undefined) {
          expect(utf8Length(JSON.stringify(e.metadata))).toBeLessThanOrEqual(LIMITS.metadataBytes);
          expect(depthOf(e.metadata)).toBeLessThanOrEqual(LIMITS.metadataDepth);
          expect(JSON.stringify(e.metadata)).not.toMatch(/"(__proto__|constructor|prototype)":/);
        }
        if (e.priority !== undefined)
          expect(Number.isInteger(e.priority) && e.priority >= 1 && e.priority <= 5).toBe(true);
      }),
      RUNS,
    );
  });

  it("validateEntries answers every index exactly once, with redaction on or off", () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(entryish, anyValue), { maxLength: 8 }), fc.boolean(), (raw, redact) => {
        const { valid, rejected } = validateEntries(
          raw,
          1_800_000_000_000,
          () => "id",
          "logs",
          redact ? DEFAULT_REDACTION : undefined,
        );
        const indexes = [...valid.map((v) => v.index), ...rejected.map((r) => r.index)].sort((a, b) => a - b);
        expect(indexes).toEqual(raw.map((_, i) => i));
        for (const r of rejected) {
          expect(r.error.code).toBe("invalid_request");
          expect(r.error.details?.[0]?.path.startsWith(`logs.${r.index}`)).toBe(true);
        }
      }),
      { numRuns: 150 },
    );
  });

  it("is deterministic: the same input normalises to the same entry", () => {
    fc.assert(
      fc.property(entryish, (raw) => {
        const a = LogEntryInput.safeParse(raw);
        const b = LogEntryInput.safeParse(structuredClone(raw));
        expect(a.success).toBe(b.success);
        if (a.success && b.success)
          expect(normaliseEntry(a.data, 1, () => "x")).toEqual(normaliseEntry(b.data, 1, () => "x"));
      }),
      { numRuns: 150 },
    );
  });
});

// ---- redaction --------------------------------------------------------------------------------

/** Text built from PII-ish fragments, so the rules actually fire and interact. */
const fragment = fc.oneof(
  fc.constantFrom(
    "alice@example.com",
    "a@b.co",
    "@",
    ".",
    "-",
    " ",
    ":",
    "::",
    "/",
    "=",
    "&",
    '"',
    "'",
    "\n",
    "4111 1111 1111 1111",
    "4111111111111111",
    "378282246310005",
    "4111-1111-",
    "1718000000000",
    "0",
    "9",
    "4111",
    "Bearer ",
    "Basic ",
    "Authorization: ",
    'authorization":"',
    "Cookie: ",
    "token=",
    "password: ",
    "api_key=",
    "[secret]",
    "[card]",
    "[email]",
    "sk_live_abcdefgh1234",
    "AKIAIOSFODNN7EXAMPLE",
    "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
    "eyJhbGciOiJIUzI1NiJ9",
    "eyJzdWIiOiIxMjM0NTY3ODkwIn0",
    "https://",
    "postgres://u:p@h",
    "-----BEGIN PRIVATE KEY-----",
    "-----END PRIVATE KEY-----",
    "192.168.0.1",
    "10.0.0.",
    "fe80::1",
    "2001:db8::",
    "::ffff:",
    "abc",
    "XYZ",
  ),
  fc.string({ maxLength: 6 }),
  fc.string({ unit: anyChar, maxLength: 4 }),
);
const piiText = fc.array(fragment, { maxLength: 24 }).map((parts) => parts.join(""));
const options = fc
  .subarray([...REDACT_RULES])
  .map((rules) => Object.fromEntries(REDACT_RULES.map((r) => [r, rules.includes(r)])) as unknown as RedactionOptions);
const piiValue = fc.letrec((tie) => ({
  tree: fc.oneof({ depthSize: "small" }, piiText, scalar, tie("array"), tie("object")),
  array: fc.array(tie("tree"), { maxLength: 4 }),
  object: fc.dictionary(
    fc.oneof(
      fc.constantFrom("password", "token", "Authorization", "note", "x-api-key", "ip"),
      fc.string({ maxLength: 6 }),
      pollutingKey,
    ),
    tie("tree"),
    { maxKeys: 4 },
  ),
})).tree;

describe("redaction", () => {
  it("redactText never throws and is idempotent under any rule set", () => {
    fc.assert(
      fc.property(fc.oneof(piiText, stringish), options, (text, o) => {
        const once = redactText(text, o);
        expect(redactText(once, o)).toBe(once);
      }),
      { numRuns: 2000 },
    );
  });

  it("redactEntry never throws, is idempotent, and leaves no enabled shape behind", () => {
    fc.assert(
      fc.property(
        fc.record(
          {
            message: fc.oneof(piiText, scalar),
            stack_trace: fc.oneof(piiText, scalar),
            user_id: piiText,
            metadata: piiValue,
            context: fc.oneof(fc.record({ url: piiText, ip: piiText }), piiValue),
          },
          { requiredKeys: [] },
        ),
        options,
        (entry, o) => {
          const once = redactEntry(entry, o);
          expect(redactEntry(once, o)).toEqual(once);
          const text = JSON.stringify(once) ?? "";
          if (o.email) expect(text).not.toContain("alice@example.com");
          if (o.card) expect(text).not.toMatch(/(?<![0-9A-Za-z_.])4111 1111 1111 1111(?![0-9A-Za-z_]|[ -]\d)/);
          if (o.secret) expect(text).not.toMatch(/(?<![0-9A-Za-z_])AKIAIOSFODNN7EXAMPLE(?![0-9A-Za-z_])/);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it("redactEntry never throws on arbitrary values", () => {
    fc.assert(
      fc.property(fc.oneof(entryish, anyValue), options, (raw, o) => {
        redactEntry(raw as object, o);
      }),
      RUNS,
    );
  });
});

// ---- pattern miner ----------------------------------------------------------------------------

/** Log-like lines: a few templates with variable slots, plus arbitrary and huge strings. */
const logLine = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .tuple(
        fc.constantFrom(
          "GET /users/{} returned {} in {} ms",
          "user {} logged in from {}",
          "db timeout after {} ms on {}",
          "job {} state {} -> {}",
          "{} {} {}",
        ),
        fc.array(
          fc.oneof(
            fc.nat().map(String),
            fc.stringMatching(/^[0-9a-f]{1,12}$/),
            fc.constantFrom("a", "b", "c", "d", "e", "f", "g"),
          ),
          { minLength: 3, maxLength: 3 },
        ),
      )
      .map(([t, vs]) => t.replace(/\{\}/g, () => vs.shift() ?? "")),
  },
  { weight: 2, arbitrary: weirdString },
  {
    weight: 1,
    arbitrary: fc
      .array(fc.constantFrom("a", "b", "c", "1", "2", "x y", "<*>", "\u0001"), { maxLength: 300 })
      .map((t) => t.join(" ")),
  },
  { weight: 1, arbitrary: bigString },
);
const minerOptions = fc.record(
  {
    maxPatterns: fc.integer({ min: 1, max: 20 }),
    maxLineBytes: fc.integer({ min: 1, max: 5000 }),
    maxTokens: fc.integer({ min: 1, max: 64 }),
  },
  { requiredKeys: [] },
);

describe("PatternMiner", () => {
  it("add never throws, size stays within maxPatterns, and the same sequence gives the same ids", () => {
    fc.assert(
      fc.property(fc.array(logLine, { maxLength: 60 }), minerOptions, (lines, opts) => {
        const a = new PatternMiner(opts);
        const b = new PatternMiner(opts);
        const max = opts.maxPatterns ?? 1000;
        lines.forEach((line, i) => {
          const ra = a.add(line, 1000 + i);
          const rb = b.add(line, 1000 + i);
          expect(ra).toEqual(rb);
          expect(typeof ra.id).toBe("string");
          expect(a.size).toBeLessThanOrEqual(max);
          // the id a line got resolves to a live pattern or stays as is (evicted)
          expect(typeof a.resolve(ra.id)).toBe("string");
        });
        expect(a.toJSON()).toEqual(b.toJSON());
        expect(a.patterns().length).toBe(a.size);
      }),
      { numRuns: 200 },
    );
  });

  it("toJSON/fromJSON round-trips, and the restored miner continues exactly like the original", () => {
    fc.assert(
      fc.property(
        fc.array(logLine, { maxLength: 40 }),
        fc.array(logLine, { maxLength: 20 }),
        minerOptions,
        (first, then, opts) => {
          const original = new PatternMiner(opts);
          first.forEach((l, i) => original.add(l, i));
          const snapshot = JSON.parse(JSON.stringify(original.toJSON()));
          const restored = PatternMiner.fromJSON(snapshot, opts);
          expect(restored.toJSON()).toEqual(original.toJSON());
          expect(restored.patterns()).toEqual(original.patterns());
          then.forEach((l, i) => expect(restored.add(l, 100 + i)).toEqual(original.add(l, 100 + i)));
          expect(restored.toJSON()).toEqual(original.toJSON());
          expect(restored.size).toBeLessThanOrEqual(opts.maxPatterns ?? 1000);
        },
      ),
      { numRuns: 150 },
    );
  });
});
