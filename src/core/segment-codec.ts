// The segment: one SQLite row per ingested batch (or a few, each well under SQLite's 2 MB value
// limit). This module turns stored entries into a segment's columns and back. Pure: no Workers
// APIs, so it is unit-tested in Node and shared by the aggregator's store and the bench.
//
// Body: a JSON array of the entries in seq order, each stored generically (every field it has,
// whatever the schema adds), one JSON.stringify per entry so each entry's offset is known (a
// search parses only the entries it returns): service, domain and seq stay in it (about 45
// bytes a log) because stripping them costs more CPU on the hot path than the bytes cost. A
// single entry larger than the bound still gets its own segment (entries are capped far below:
// 32 KB message, 16 KB metadata, 64 KB stack).
// Header: seq range, time ranges, per-level counts, the pattern ids present, per-second counts
// (for counter rebuilds), a bloom filter over the exact-match keys and the 32-bit id hashes.
import { LEVELS, type Level, type StoredLogEntry } from "../schema/log-entry.js";
import { buildBloom, hashPair } from "./bloom.js";

/**
 * Body characters per segment (at most 384 KB of UTF-8, far under SQLite's 2 MB value limit). A
 * batch of 100 typical logs (~20k chars) is one row; bigger batches become a few rows. Kept
 * small because a search reads an entry with substr(), which loads its whole segment body.
 */
export const SEGMENT_BODY_MAX_CHARS = 128_000;

const LEVEL_INDEX: Record<Level, number> = { error: 0, warn: 1, info: 2, debug: 3 };

/** Exact-match fields kept in the bloom filter, with the tag that prefixes each key. */
export const EXACT_KEYS = [
  ["id", "i"],
  ["request_id", "r"],
  ["user_id", "u"],
  ["session_id", "s"],
  ["trace_id", "t"],
] as const;
export type ExactField = (typeof EXACT_KEYS)[number][0];

const TAG: Record<ExactField, string> = Object.fromEntries(EXACT_KEYS) as Record<ExactField, string>;

/** The bloom key for one exact-match value. */
export function exactKey(field: ExactField, value: string): string {
  return `${TAG[field]}:${value}`;
}

/** The 32-bit hash of an id, as stored in the segment's `ids` column and the IdTable. */
export function idHash(id: string): number {
  return hashPair(exactKey("id", id))[0];
}

export interface SegmentHead {
  /** entries per level: error, warn, info, debug */
  levels: [number, number, number, number];
  /** distinct pattern ids present */
  patterns: string[];
  /** [second, level index, n] by counted time min(timestamp, received_at) */
  seconds: [number, number, number][];
}

export interface EncodedSegment {
  first: number;
  last: number;
  /** the entries' seqs when they are not first..last contiguous, else null */
  seqs: number[] | null;
  count: number;
  minTs: number;
  maxTs: number;
  minReceived: number;
  maxReceived: number;
  head: SegmentHead;
  bloom: Uint8Array;
  ids: Uint32Array;
  body: string;
  /** what a search needs of each entry (its offsets in `body` included), stored in the row too */
  columns: SegmentColumns;
}

/** Splits entries (seq order, seq set) into segments of at most maxChars of body each. */
export function encodeSegments(entries: StoredLogEntry[], maxChars = SEGMENT_BODY_MAX_CHARS): EncodedSegment[] {
  // One JSON.stringify per entry (the hot path: ~1.6 µs per log in Node, ~0.45 µs more than one
  // per batch): the entries' offsets in the body let a search parse only the entries it returns.
  const parts = entries.map((e) => JSON.stringify(e));
  const out: EncodedSegment[] = [];
  let from = 0;
  let chars = 1;
  for (let i = 0; i < parts.length; i++) {
    if (i > from && chars + parts[i].length + 1 > maxChars) {
      out.push(encodeOne(entries.slice(from, i), parts.slice(from, i)));
      from = i;
      chars = 1;
    }
    chars += parts[i].length + 1;
  }
  if (parts.length > from) out.push(encodeOne(from === 0 ? entries : entries.slice(from), parts.slice(from)));
  return out;
}

/** Offsets of each part in `[` + parts.join(",") + `]` (see SegmentColumns.starts). */
function startsOf(parts: readonly string[]): Uint32Array {
  const starts = new Uint32Array(parts.length + 1);
  let at = 1;
  for (let i = 0; i < parts.length; i++) {
    starts[i] = at;
    at += parts[i].length + 1;
  }
  starts[parts.length] = at;
  return starts;
}

function encodeOne(entries: StoredLogEntry[], parts: string[]): EncodedSegment {
  const body = `[${parts.join(",")}]`;
  const levels: [number, number, number, number] = [0, 0, 0, 0];
  const patterns = new Set<string>();
  const seconds = new Map<number, number>();
  const keys: string[] = [];
  const ids = new Uint32Array(entries.length);
  let minTs = Infinity;
  let maxTs = -Infinity;
  let minReceived = Infinity;
  let maxReceived = -Infinity;
  let contiguous = true;
  const first = entries[0].seq ?? 0;
  entries.forEach((e, i) => {
    if (e.seq !== first + i) contiguous = false;
    const l = LEVEL_INDEX[e.level];
    levels[l]++;
    if (e.pattern_id) patterns.add(e.pattern_id);
    const sec = Math.floor(Math.min(e.timestamp, e.received_at) / 1000);
    seconds.set(sec * 4 + l, (seconds.get(sec * 4 + l) ?? 0) + 1);
    if (e.timestamp < minTs) minTs = e.timestamp;
    if (e.timestamp > maxTs) maxTs = e.timestamp;
    if (e.received_at < minReceived) minReceived = e.received_at;
    if (e.received_at > maxReceived) maxReceived = e.received_at;
    const record = e as Record<string, unknown>;
    for (const [field] of EXACT_KEYS) {
      const v = record[field];
      if (typeof v === "string") keys.push(exactKey(field, v));
    }
    ids[i] = idHash(e.id);
  });
  return {
    first,
    last: entries[entries.length - 1].seq ?? first,
    seqs: contiguous ? null : entries.map((e) => e.seq ?? 0),
    count: entries.length,
    minTs,
    maxTs,
    minReceived,
    maxReceived,
    head: {
      levels,
      patterns: [...patterns],
      seconds: [...seconds].map(([k, n]) => [Math.floor(k / 4), k % 4, n]),
    },
    bloom: buildBloom(keys),
    ids,
    body,
    columns: columnsOf(entries, startsOf(parts)),
  };
}

/** The entries of a segment body (service and domain set to the aggregator's, seq checked). */
export function decodeSegment(
  body: string,
  first: number,
  seqs: number[] | null,
  service: string,
  domain: string,
): StoredLogEntry[] {
  const entries = JSON.parse(body) as StoredLogEntry[];
  for (let i = 0; i < entries.length; i++) stamp(entries[i], seqs ? seqs[i] : first + i, service, domain);
  return entries;
}

/** One entry's JSON text (a slice of a body at its `starts`), decoded like decodeSegment's. */
export function decodeEntry(text: string, seq: number, service: string, domain: string): StoredLogEntry {
  return stamp(JSON.parse(text) as StoredLogEntry, seq, service, domain);
}

function stamp(e: StoredLogEntry, seq: number, service: string, domain: string): StoredLogEntry {
  e.service = service;
  e.domain = domain;
  e.seq = seq;
  return e;
}

/** No pattern id, in SegmentColumns.patterns. */
export const NO_PATTERN = 0xffffffff;

/**
 * What a search needs of each entry without decoding it: timestamp, level, pattern and where
 * its JSON is in the body. About 17 bytes an entry, so many more segments stay in memory this
 * way than decoded.
 */
export interface SegmentColumns {
  ts: Float64Array;
  levels: Uint8Array;
  /** index into patternIds, or NO_PATTERN */
  patterns: Uint32Array;
  patternIds: string[];
  /** entry i's JSON is body.slice(starts[i], starts[i + 1] - 1) (n + 1 offsets); null when unknown */
  starts: Uint32Array | null;
  bytes: number;
}

function columnsOf(entries: readonly StoredLogEntry[], starts: Uint32Array | null): SegmentColumns {
  const n = entries.length;
  const ts = new Float64Array(n);
  const levels = new Uint8Array(n);
  const patterns = new Uint32Array(n);
  const patternIds: string[] = [];
  const index = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const e = entries[i];
    ts[i] = e.timestamp;
    levels[i] = LEVEL_INDEX[e.level];
    const p = e.pattern_id;
    // first-appearance order, falsy ids skipped: the same list as the header's `patterns`
    if (!p) patterns[i] = NO_PATTERN;
    else {
      let k = index.get(p);
      if (k === undefined) {
        k = patternIds.push(p) - 1;
        index.set(p, k);
      }
      patterns[i] = k;
    }
  }
  return { ts, levels, patterns, patternIds, starts, bytes: n * (starts ? 17 : 13) + idsBytes(patternIds) };
}

/**
 * The columns as stored in the segment row (12 bytes, then 17 an entry): n, then timestamps,
 * offsets, pattern indexes and levels. Pattern ids are the header's `patterns`, in the same order.
 */
export function packColumns(c: SegmentColumns): ArrayBuffer {
  const n = c.ts.length;
  const buf = new ArrayBuffer(8 + 8 * n + 4 * (n + 1) + 4 * n + n);
  new Uint32Array(buf, 0, 1)[0] = n;
  new Float64Array(buf, 8, n).set(c.ts);
  if (c.starts) new Uint32Array(buf, 8 + 8 * n, n + 1).set(c.starts);
  new Uint32Array(buf, 8 + 12 * n + 4, n).set(c.patterns);
  new Uint8Array(buf, 8 + 16 * n + 4, n).set(c.levels);
  return buf;
}

export function unpackColumns(buf: ArrayBuffer, patternIds: string[]): SegmentColumns {
  const n = new Uint32Array(buf, 0, 1)[0];
  const starts = new Uint32Array(buf, 8 + 8 * n, n + 1);
  return {
    ts: new Float64Array(buf, 8, n),
    starts: starts[n] === 0 ? null : starts,
    patterns: new Uint32Array(buf, 8 + 12 * n + 4, n),
    levels: new Uint8Array(buf, 8 + 16 * n + 4, n),
    patternIds,
    bytes: buf.byteLength + idsBytes(patternIds),
  };
}

/** Rough memory of a pattern id list, for the column cache's bound. */
const idsBytes = (ids: readonly string[]) => ids.reduce((b, p) => b + p.length + 16, 64);

/**
 * Columns of a stored body: one parse, and the offsets from re-serialising each entry (bodies
 * are written by encodeSegments, whose JSON.stringify round-trips); null offsets if they don't add up.
 */
export function columnsOfBody(body: string): SegmentColumns {
  const raw = JSON.parse(body) as StoredLogEntry[];
  const starts = startsOf(raw.map((e) => JSON.stringify(e)));
  return columnsOf(raw, starts[raw.length] === body.length ? starts : null);
}

/**
 * Whether a body can hold an entry whose message contains `q` (case-insensitive, as the search
 * filter): JSON escaping works character by character, so an escaped substring of a message is a
 * substring of the escaped body. False means no entry matches; true means decode and check.
 */
export function bodyMayContain(lowerBody: string, q: string): boolean {
  return lowerBody.includes(escapedLower(q));
}

/** `q` lowercased as it appears inside a JSON string. */
const escapedLower = (q: string) => JSON.stringify(q.toLowerCase()).slice(1, -1);

/**
 * The positions of the entries whose JSON text holds `q` (case-insensitive, escaped as in
 * bodyMayContain), given the body lowercased and the entries' offsets: a text search decodes
 * only these. Null when lowercasing changed the body's length (some non-ASCII letters do), so
 * the offsets no longer line up: decode the segment instead.
 */
export function entriesContaining(
  lowerBody: string,
  bodyLength: number,
  starts: Uint32Array,
  q: string,
): Set<number> | null {
  if (lowerBody.length !== bodyLength) return null;
  const n = starts.length - 1;
  const needle = escapedLower(q);
  if (needle === "") return new Set(Array.from({ length: n }, (_, i) => i));
  const found = new Set<number>();
  let at = lowerBody.indexOf(needle);
  while (at >= 0 && at < starts[n]) {
    // the entry holding position `at`: the last start at or before it
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= at) lo = mid;
      else hi = mid - 1;
    }
    found.add(lo);
    // a match inside an entry lies wholly inside it: go on from the next entry
    at = lowerBody.indexOf(needle, starts[lo + 1]);
  }
  return found;
}

export function levelIndex(level: Level): number {
  return LEVEL_INDEX[level];
}

export { LEVELS };
