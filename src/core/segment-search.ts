// Search over segments, pure: which segments can hold a match (header pruning: time range, page
// position, levels, pattern ids, bloom filters for exact keys) and the page itself, in the
// contract's order (timestamp, then seq). Segments overlap in time (client timestamps), so they
// are visited by their newest (desc) or oldest (asc) timestamp and the walk stops once no
// remaining segment can beat the page's last entry. The aggregator supplies `load`: a segment's
// rows (SegmentRows: decoded entries, or columns that decode only the entries a page returns),
// or null when its raw text can't hold `q`.
import type { StoredLogEntry } from "../schema/log-entry.js";
import type { AggregatorSearch, LogFilter } from "../schema/query.js";
import { bloomHas, hashPair } from "./bloom.js";
import { matchesFilter } from "./log-filter.js";
import { type ExactField, exactKey, NO_PATTERN, type SegmentColumns } from "./segment-codec.js";

/**
 * A text search (`q`) examines at most this many entries per aggregator and page, so one page's
 * cost is bounded; when the budget runs out the page may be short and the caller continues
 * from `scannedThrough`.
 */
export const TEXT_SCAN_BUDGET = 20_000;

export interface SegmentView {
  first: number;
  last: number;
  count: number;
  minTs: number;
  maxTs: number;
  /** entries per level: error, warn, info, debug */
  levels: readonly number[];
  /** pattern ids present; null = unknown (may hold any) */
  patterns: readonly string[] | null;
  /** bloom over exact keys; null = unknown (may hold any) */
  bloom: Uint8Array | null;
}

const LEVEL_INDEX = { error: 0, warn: 1, info: 2, debug: 3 } as const;

/** The exact-match filters a segment's bloom can rule out. */
function exactProbes(f: LogFilter): [number, number][] {
  const probes: [number, number][] = [];
  const add = (field: ExactField, v: string | undefined) => {
    if (v !== undefined) probes.push(hashPair(exactKey(field, v)));
  };
  add("user_id", f.userId);
  add("session_id", f.sessionId);
  add("request_id", f.requestId);
  add("trace_id", f.traceId);
  return probes;
}

/** A predicate over segment headers: false = the segment holds no match. */
export function segmentPruner(f: LogFilter): (s: SegmentView) => boolean {
  const probes = exactProbes(f);
  const levels = f.levels?.map((l) => LEVEL_INDEX[l]);
  const patternIds = f.patternIds ?? (f.patternId !== undefined ? [f.patternId] : undefined);
  return (s) => {
    if (s.count === 0) return false;
    if (f.startTime !== undefined && s.maxTs < f.startTime) return false;
    if (f.endTime !== undefined && s.minTs > f.endTime) return false;
    if (levels && !levels.some((l) => s.levels[l] > 0)) return false;
    if (patternIds && s.patterns && !patternIds.some((p) => s.patterns!.includes(p))) return false;
    if (s.bloom) for (const h of probes) if (!bloomHas(s.bloom, h)) return false;
    return true;
  };
}

export interface SegmentPage {
  logs: StoredLogEntry[];
  /** set when a text search stopped at its budget: entries after this position were not examined */
  scannedThrough?: { ts: number; seq: number };
}

/** A segment's entries as a search sees them, by position. */
export interface SegmentRows {
  readonly count: number;
  ts(i: number): number;
  seq(i: number): number;
  /** whether entry i matches the whole filter */
  matches(i: number): boolean;
  entry(i: number): StoredLogEntry;
}

/** The seq of a segment's entry i. */
export function seqAt(seg: { first: number; seqs?: readonly number[] | null }, i: number): number {
  return seg.seqs ? seg.seqs[i] : seg.first + i;
}

/** Rows of decoded entries. */
export function entryRows(entries: readonly StoredLogEntry[], f: LogFilter): SegmentRows {
  return {
    count: entries.length,
    ts: (i) => entries[i].timestamp,
    seq: (i) => entries[i].seq ?? 0,
    matches: (i) => matchesFilter(entries[i], f),
    entry: (i) => entries[i],
  };
}

/** Whether columns alone decide the filter (levels, time range, pattern ids). */
export function columnsDecide(f: LogFilter): boolean {
  return (
    f.userId === undefined &&
    f.sessionId === undefined &&
    f.requestId === undefined &&
    f.traceId === undefined &&
    f.category === undefined &&
    f.q === undefined
  );
}

/**
 * Rows of a segment's columns, for a filter columnsDecide() accepts: `entry` decodes one entry
 * (the aggregator slices it out of the stored body).
 */
export function columnRows(
  seg: { first: number; seqs?: readonly number[] | null },
  cols: SegmentColumns,
  f: LogFilter,
  entry: (i: number) => StoredLogEntry,
): SegmentRows {
  const levels = f.levels ? new Set<number>(f.levels.map((l) => LEVEL_INDEX[l])) : null;
  const wanted = f.patternIds ?? (f.patternId !== undefined ? [f.patternId] : null);
  const patterns = wanted ? new Set(wanted.map((p) => cols.patternIds.indexOf(p)).filter((k) => k >= 0)) : null;
  const { ts, levels: lv, patterns: pt } = cols;
  return {
    count: ts.length,
    ts: (i) => ts[i],
    seq: (i) => seqAt(seg, i),
    matches: (i) =>
      (levels === null || levels.has(lv[i])) &&
      (f.startTime === undefined || ts[i] >= f.startTime) &&
      (f.endTime === undefined || ts[i] <= f.endTime) &&
      (patterns === null || (pt[i] !== NO_PATTERN && patterns.has(pt[i]))),
    entry,
  };
}

interface Hit {
  ts: number;
  seq: number;
  rows: SegmentRows;
  i: number;
}

const compare = (a: Hit, b: Hit, desc: boolean): number => {
  const c = a.ts - b.ts || a.seq - b.seq;
  return desc ? -c : c;
};

/**
 * One page. `textBudget` bounds the entries a `q` search examines (segments skipped by the raw
 * text prefilter count too: their text was read); when it runs out the page holds only entries
 * strictly before the next unvisited segment's edge, and `scannedThrough` says where to go on.
 * Each page either advances past `search.after` or is complete, so paging always terminates.
 * Only the page's own entries are decoded (SegmentRows.entry), once each.
 */
export function searchSegments<S extends SegmentView>(
  segments: readonly S[],
  search: AggregatorSearch,
  load: (s: S) => SegmentRows | null,
  textBudget: number,
): SegmentPage {
  const desc = search.order === "desc";
  const f = search.filter;
  const after = search.after;
  const limit = search.limit;
  const prune = segmentPruner(f);
  const candidates = segments.filter((s) => {
    if (after && (desc ? s.minTs > after.ts : s.maxTs < after.ts)) return false;
    return prune(s);
  });
  candidates.sort((a, b) => (desc ? b.maxTs - a.maxTs || b.last - a.last : a.minTs - b.minTs || a.first - b.first));
  /** (ts, seq) comes strictly before (ts2, seq2) in the page's order */
  const before = (ts: number, seq: number, ts2: number, seq2: number) =>
    desc ? ts > ts2 || (ts === ts2 && seq > seq2) : ts < ts2 || (ts === ts2 && seq < seq2);
  const decode = (hits: Hit[]) => hits.map((h) => h.rows.entry(h.i));
  let page: Hit[] = [];
  let examined = 0;
  for (const s of candidates) {
    if (page.length >= limit) {
      const worst = page[limit - 1];
      if (desc ? s.maxTs < worst.ts : s.minTs > worst.ts) break;
    }
    if (f.q !== undefined && examined >= textBudget) {
      // Everything strictly beyond this segment's edge was examined; keep only that part. When
      // segments overlap so much that the edge doesn't move past the page's start (a backfill
      // spread over one time range), the budget is dropped for this page: a cursor that doesn't
      // advance would repeat forever.
      const edge = desc ? s.maxTs : s.minTs;
      const advances = !after || (desc ? edge < after.ts : edge > after.ts);
      if (advances) {
        page = page.filter((h) => (desc ? h.ts > edge : h.ts < edge));
        if (page.length >= limit) return { logs: decode(page.slice(0, limit)) };
        return { logs: decode(page), scannedThrough: { ts: edge, seq: desc ? Number.MAX_SAFE_INTEGER : 0 } };
      }
      textBudget = Number.POSITIVE_INFINITY;
    }
    examined += s.count;
    const rows = load(s);
    if (!rows) continue;
    // the page's last entry when this segment began: an entry that doesn't come before it can't enter
    const worst = page.length >= limit ? page[limit - 1] : null;
    let added = false;
    for (let i = 0; i < rows.count; i++) {
      const ts = rows.ts(i);
      const seq = rows.seq(i);
      if (after && !before(after.ts, after.seq, ts, seq)) continue;
      if (worst && !before(ts, seq, worst.ts, worst.seq)) continue;
      if (!rows.matches(i)) continue;
      page.push({ ts, seq, rows, i });
      added = true;
    }
    if (added) {
      page.sort((a, b) => compare(a, b, desc));
      if (page.length > limit) page.length = limit;
    }
  }
  return { logs: decode(page) };
}
