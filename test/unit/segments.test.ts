// The pure parts of the segment store: codec round trip, blooms, the raw-text prefilter, the id
// table and segment search (against a plain filter + sort reference, paging included).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { bloomHas, buildBloom, hashPair } from "../../src/core/bloom.js";
import { IdTable } from "../../src/core/id-table.js";
import { matchesFilter } from "../../src/core/log-filter.js";
import {
  bodyMayContain,
  columnsOfBody,
  decodeEntry,
  decodeSegment,
  encodeSegments,
  entriesContaining,
  exactKey,
  idHash,
  NO_PATTERN,
  packColumns,
  type SegmentColumns,
  unpackColumns,
} from "../../src/core/segment-codec.js";
import {
  columnRows,
  columnsDecide,
  entryRows,
  type SegmentRows,
  type SegmentView,
  searchSegments,
} from "../../src/core/segment-search.js";
import { LEVELS, type StoredLogEntry } from "../../src/schema/log-entry.js";
import type { AggregatorSearch, LogFilter } from "../../src/schema/query.js";

const T0 = 1_790_000_000_000;

function entry(seq: number, over: Partial<StoredLogEntry> & Record<string, unknown> = {}): StoredLogEntry {
  return {
    id: `id-${seq}`,
    timestamp: T0 + seq * 10,
    received_at: T0 + seq * 10 + 5,
    level: LEVELS[seq % 4],
    message: `message ${seq}`,
    service: "svc",
    domain: "default",
    pattern_id: `p${seq % 3}`,
    seq,
    ...over,
  } as StoredLogEntry;
}

describe("segment codec", () => {
  it("round-trips every field, including ones the schema doesn't name, and gaps in seqs", () => {
    const entries = [
      entry(1, { trace_id: "t1", span_id: "s1", severity: "WARNING", metadata: { a: { b: [1, "x"] } } }),
      entry(2, { message: 'quote " backslash \\ newline \n emoji 🎉', request_id: "r2", truncated: true }),
      entry(5, { context: { url: "https://x.test/a", method: "GET" }, priority: 3, category: "api" }),
    ];
    const [seg] = encodeSegments(entries);
    expect(seg).toMatchObject({ first: 1, last: 5, seqs: [1, 2, 5], count: 3 });
    expect(seg.head.levels).toEqual([0, 2, 1, 0]); // warn, info, warn
    expect(decodeSegment(seg.body, seg.first, seg.seqs, "svc", "default")).toEqual(entries);
  });

  it("splits a batch into segments under the size bound, keeping order and seqs", () => {
    const entries = Array.from({ length: 50 }, (_, i) => entry(i + 1, { message: "x".repeat(1000) }));
    const segs = encodeSegments(entries, 10_000);
    expect(segs.length).toBeGreaterThan(4);
    for (const s of segs) expect(s.body.length).toBeLessThanOrEqual(10_000);
    const back = segs.flatMap((s) => decodeSegment(s.body, s.first, s.seqs, "svc", "default"));
    expect(back).toEqual(entries);
    expect(segs.every((s) => s.seqs === null)).toBe(true);
  });

  it("knows where each entry's JSON is in the body, and finds the same offsets in a stored body", () => {
    const entries = [
      entry(1, { message: "emoji 🎉 outside the BMP", metadata: { nested: [{ a: 1 }, { b: "},{" }] } }),
      entry(2, { message: 'quote " and \\ and \n', pattern_id: null } as Partial<StoredLogEntry>),
      entry(4),
    ];
    const [seg] = encodeSegments(entries);
    entries.forEach((e, i) => {
      const text = seg.body.slice(seg.columns.starts![i], seg.columns.starts![i + 1] - 1);
      expect(decodeEntry(text, e.seq!, "svc", "default")).toEqual(e);
    });
    const cols = columnsOfBody(seg.body);
    expect([...cols.starts!]).toEqual([...seg.columns.starts!]);
    expect([...cols.ts]).toEqual(entries.map((e) => e.timestamp));
    expect([...cols.levels]).toEqual([1, 2, 0]); // warn, info, error
    expect([...cols.patterns]).toEqual([0, NO_PATTERN, 0]); // p1, none, p1
    expect(cols.patternIds).toEqual(["p1"]);
    // as stored in the row: the same columns back, pattern ids from the header (same order)
    expect(seg.head.patterns).toEqual(seg.columns.patternIds);
    const back = unpackColumns(packColumns(seg.columns), seg.head.patterns);
    expect([...back.ts]).toEqual([...cols.ts]);
    expect([...back.levels]).toEqual([...cols.levels]);
    expect([...back.patterns]).toEqual([...cols.patterns]);
    expect([...back.starts!]).toEqual([...seg.columns.starts!]);
  });

  it("finds which entries' text holds q, case-insensitively, and gives up when lowercasing moves offsets", () => {
    const entries = [
      entry(1, { message: "Payment DECLINED 🎉" }),
      entry(2, { message: "all fine" }),
      entry(3, { message: 'said "declined" twice: declined' }),
      entry(4, { message: "ok", metadata: { note: "declined" } }),
    ];
    const [seg] = encodeSegments(entries);
    const lower = seg.body.toLowerCase();
    expect([...entriesContaining(lower, seg.body.length, seg.columns.starts!, "declined")!]).toEqual([0, 2, 3]);
    expect([...entriesContaining(lower, seg.body.length, seg.columns.starts!, '"declined"')!]).toEqual([2]);
    expect([...entriesContaining(lower, seg.body.length, seg.columns.starts!, "absent")!]).toEqual([]);
    const [turkish] = encodeSegments([entry(1, { message: "İstanbul declined" })]);
    const tl = turkish.body.toLowerCase();
    expect(tl.length).not.toBe(turkish.body.length);
    expect(entriesContaining(tl, turkish.body.length, turkish.columns.starts!, "declined")).toBeNull();
  });

  it("indexes id, request_id, user_id, session_id and trace_id in the bloom", () => {
    const [seg] = encodeSegments([
      entry(1, { request_id: "r", user_id: "u", session_id: "s", trace_id: "t" } as Partial<StoredLogEntry>),
    ]);
    for (const [field, v] of [
      ["id", "id-1"],
      ["request_id", "r"],
      ["user_id", "u"],
      ["session_id", "s"],
      ["trace_id", "t"],
    ] as const)
      expect(bloomHas(seg.bloom, hashPair(exactKey(field, v)))).toBe(true);
    expect(seg.ids[0]).toBe(idHash("id-1"));
  });
});

describe("bloom", () => {
  it("never answers absent for a key it holds", () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.string({ minLength: 1, maxLength: 40 }), { maxLength: 300 }), (keys) => {
        const bits = buildBloom(keys);
        return keys.every((k) => bloomHas(bits, hashPair(k)));
      }),
    );
  });

  it("answers present for under 3% of absent keys at 10 bits per key", () => {
    const bits = buildBloom(Array.from({ length: 500 }, (_, i) => `r:req-${i}`));
    let hits = 0;
    for (let i = 0; i < 10_000; i++) if (bloomHas(bits, hashPair(`r:other-${i}`))) hits++;
    expect(hits).toBeLessThan(300);
  });
});

describe("raw-text prefilter", () => {
  it("never rules out a body whose message contains q (case-insensitive)", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), fc.string({ minLength: 1, maxLength: 8 }), fc.string(), (a, q, b) => {
        const message = `${a}${q}${b}`;
        fc.pre(message.toLowerCase().includes(q.toLowerCase()));
        const [seg] = encodeSegments([entry(1, { message })]);
        return bodyMayContain(seg.body.toLowerCase(), q);
      }),
      { numRuns: 500 },
    );
  });
});

describe("id table", () => {
  it("finds every seq stored under a hash, through growth, and nothing else", () => {
    const t = new IdTable(16);
    for (let i = 1; i <= 5000; i++) t.add(idHash(`id-${i}`), i);
    t.add(idHash("id-7"), 9999); // a second seq under one hash (a collision or a rewrite)
    expect(t.size).toBe(5001);
    expect(t.lookup(idHash("id-4321"))).toEqual([4321]);
    expect(t.lookup(idHash("id-7")).sort((a, b) => a - b)).toEqual([7, 9999]);
    expect(t.lookup(idHash("absent"))).toEqual([]);
  });
});

describe("segment search", () => {
  /** Segments cut from entries whose timestamps are shuffled within a band (overlapping ranges). */
  function build(n: number, per: number, jitter: number) {
    const all: StoredLogEntry[] = [];
    for (let seq = 1; seq <= n; seq++)
      all.push(
        entry(seq, {
          timestamp: T0 + seq * 10 + (((seq * 7919) % jitter) - jitter / 2) * 10,
          message: seq % 11 === 0 ? `Needle ${seq}` : `hay ${seq}`,
          request_id: `r${seq % 17}`,
        }),
      );
    const segs: (SegmentView & { entries: StoredLogEntry[]; body: string; columns: SegmentColumns })[] = [];
    for (let i = 0; i < n; i += per) {
      const part = all.slice(i, i + per);
      const [enc] = encodeSegments(part);
      segs.push({ ...enc, levels: enc.head.levels, patterns: enc.head.patterns, entries: part });
    }
    return { all, segs };
  }
  type Seg = ReturnType<typeof build>["segs"][number];
  /** Decoded entries, or columns that decode only the page's entries from the body (counted). */
  const loaders = {
    entries: (f: LogFilter) => (s: Seg) => entryRows(s.entries, f),
    columns: (f: LogFilter, decoded: number[]) => (s: Seg) =>
      columnRows(s, s.columns, f, (i) => {
        decoded.push(s.first + i);
        return decodeEntry(
          s.body.slice(s.columns.starts![i], s.columns.starts![i + 1] - 1),
          s.first + i,
          "svc",
          "default",
        );
      }),
  };
  const reference = (all: StoredLogEntry[], f: LogFilter, desc: boolean) =>
    all
      .filter((e) => matchesFilter(e, f))
      .sort((a, b) => (desc ? -1 : 1) * (a.timestamp - b.timestamp || a.seq! - b.seq!));

  const filters: LogFilter[] = [
    {},
    { levels: ["error"] },
    { q: "needle" },
    { requestId: "r5" },
    { patternId: "p1", startTime: T0 + 500, endTime: T0 + 3000 },
    { levels: ["warn", "debug"], q: "NEEDLE" },
  ];

  for (const f of filters)
    for (const order of ["asc", "desc"] as const)
      for (const mode of columnsDecide(f) ? (["entries", "columns"] as const) : (["entries"] as const))
        it(`pages ${JSON.stringify(f)} ${order} from ${mode} exactly like filter + sort, every match once`, () => {
          const { all, segs } = build(600, 40, 30);
          const want = reference(all, f, order === "desc").map((e) => e.seq);
          const got: number[] = [];
          const decoded: number[] = [];
          const load: (s: Seg) => SegmentRows = mode === "columns" ? loaders.columns(f, decoded) : loaders.entries(f);
          let after: AggregatorSearch["after"];
          for (let pages = 0; pages < 200; pages++) {
            const page = searchSegments(segs, { filter: f, order, limit: 7, after }, load, 100);
            got.push(...page.logs.map((e) => e.seq!));
            expect(page.logs).toEqual(page.logs.map((e) => all[e.seq! - 1]));
            const last = page.logs[page.logs.length - 1];
            if (page.scannedThrough) after = page.scannedThrough;
            else if (page.logs.length === 7) after = { ts: last.timestamp, seq: last.seq! };
            else break;
          }
          expect(got).toEqual(want);
          // columns decode exactly the entries they return, each once
          if (mode === "columns") expect(decoded).toEqual(got);
        });

  it("stops at the text budget with a short page and a position that advances", () => {
    const { segs } = build(600, 40, 1);
    const f = { q: "needle" };
    const page = searchSegments(segs, { filter: f, order: "desc", limit: 100 }, loaders.entries(f), 100);
    expect(page.scannedThrough).toBeDefined();
    expect(page.logs.length).toBeLessThan(100);
    expect(page.logs.every((e) => e.timestamp > page.scannedThrough!.ts)).toBe(true);
  });
});
