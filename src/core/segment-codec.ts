// The segment: one SQLite row per ingested batch (or a few, each well under SQLite's 2 MB value
// limit). This module turns stored entries into a segment's columns and back. Pure: no Workers
// APIs, so it is unit-tested in Node and shared by the aggregator's store and the bench.
//
// Body: a JSON array of the entries in seq order, each stored generically (every field it has,
// whatever the schema adds), serialised with one JSON.stringify per batch: service, domain and
// seq stay in it (about 45 bytes a log) because stripping them costs more CPU on the hot path
// than the bytes cost. A single entry larger than the bound still gets its own segment (entries
// are capped far below: 32 KB message, 16 KB metadata, 64 KB stack).
// Header: seq range, time ranges, per-level counts, the pattern ids present, per-second counts
// (for counter rebuilds), a bloom filter over the exact-match keys and the 32-bit id hashes.
import { LEVELS, type Level, type StoredLogEntry } from "../schema/log-entry.js";
import { buildBloom, hashPair } from "./bloom.js";

/** Body characters per segment: 600k chars are at most 1.8 MB of UTF-8, under the 2 MB limit. */
export const SEGMENT_BODY_MAX_CHARS = 600_000;

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
}

/** Splits entries (seq order, seq set) into segments of at most maxChars of body each. */
export function encodeSegments(entries: StoredLogEntry[], maxChars = SEGMENT_BODY_MAX_CHARS): EncodedSegment[] {
  if (entries.length === 0) return [];
  // One JSON.stringify of the whole batch (the hot path: ~0.5 µs per log), halved until it fits.
  const body = JSON.stringify(entries);
  if (body.length <= maxChars || entries.length === 1) return [encodeOne(entries, body)];
  const mid = entries.length >> 1;
  return [...encodeSegments(entries.slice(0, mid), maxChars), ...encodeSegments(entries.slice(mid), maxChars)];
}

function encodeOne(entries: StoredLogEntry[], body: string): EncodedSegment {
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
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i];
    e.service = service;
    e.domain = domain;
    e.seq = seqs ? seqs[i] : first + i;
  }
  return entries;
}

/**
 * Whether a body can hold an entry whose message contains `q` (case-insensitive, as the search
 * filter): JSON escaping works character by character, so an escaped substring of a message is a
 * substring of the escaped body. False means no entry matches; true means decode and check.
 */
export function bodyMayContain(lowerBody: string, q: string): boolean {
  return lowerBody.includes(JSON.stringify(q.toLowerCase()).slice(1, -1));
}

export function levelIndex(level: Level): number {
  return LEVEL_INDEX[level];
}

export { LEVELS };
