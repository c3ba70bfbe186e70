// Search over segments, pure: which segments can hold a match (header pruning: time range, page
// position, levels, pattern ids, bloom filters for exact keys) and the page itself, in the
// contract's order (timestamp, then seq). Segments overlap in time (client timestamps), so they
// are visited by their newest (desc) or oldest (asc) timestamp and the walk stops once no
// remaining segment can beat the page's last entry. The aggregator supplies `load`, which
// decodes (or serves from cache) a segment, or answers null when its raw text can't hold `q`.
import type { StoredLogEntry } from "../schema/log-entry.js";
import type { AggregatorSearch, LogFilter } from "../schema/query.js";
import { bloomHas, hashPair } from "./bloom.js";
import { matchesFilter } from "./log-filter.js";
import { type ExactField, exactKey } from "./segment-codec.js";

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

const compare = (a: StoredLogEntry, b: StoredLogEntry, desc: boolean): number => {
  const c = a.timestamp - b.timestamp || (a.seq ?? 0) - (b.seq ?? 0);
  return desc ? -c : c;
};

/**
 * One page. `textBudget` bounds the entries a `q` search examines (segments skipped by the raw
 * text prefilter count too: their text was read); when it runs out the page holds only entries
 * strictly before the next unvisited segment's edge, and `scannedThrough` says where to go on.
 * Each page either advances past `search.after` or is complete, so paging always terminates.
 */
export function searchSegments<S extends SegmentView>(
  segments: readonly S[],
  search: AggregatorSearch,
  load: (s: S) => StoredLogEntry[] | null,
  textBudget: number,
): SegmentPage {
  const desc = search.order === "desc";
  const f = search.filter;
  const after = search.after;
  const prune = segmentPruner(f);
  const candidates = segments.filter((s) => {
    if (after && (desc ? s.minTs > after.ts : s.maxTs < after.ts)) return false;
    return prune(s);
  });
  candidates.sort((a, b) => (desc ? b.maxTs - a.maxTs || b.last - a.last : a.minTs - b.minTs || a.first - b.first));
  const isAfter = (e: StoredLogEntry) => {
    if (!after) return true;
    const seq = e.seq ?? 0;
    return desc
      ? e.timestamp < after.ts || (e.timestamp === after.ts && seq < after.seq)
      : e.timestamp > after.ts || (e.timestamp === after.ts && seq > after.seq);
  };
  let page: StoredLogEntry[] = [];
  let examined = 0;
  for (const s of candidates) {
    if (page.length >= search.limit) {
      const worst = page[search.limit - 1];
      if (desc ? s.maxTs < worst.timestamp : s.minTs > worst.timestamp) break;
    }
    if (f.q !== undefined && examined >= textBudget) {
      // Everything strictly beyond this segment's edge was examined; keep only that part. When
      // segments overlap so much that the edge doesn't move past the page's start (a backfill
      // spread over one time range), the budget is dropped for this page: a cursor that doesn't
      // advance would repeat forever.
      const edge = desc ? s.maxTs : s.minTs;
      const advances = !after || (desc ? edge < after.ts : edge > after.ts);
      if (advances) {
        page = page.filter((e) => (desc ? e.timestamp > edge : e.timestamp < edge));
        if (page.length >= search.limit) return { logs: page.slice(0, search.limit) };
        return { logs: page, scannedThrough: { ts: edge, seq: desc ? Number.MAX_SAFE_INTEGER : 0 } };
      }
      textBudget = Number.POSITIVE_INFINITY;
    }
    examined += s.count;
    const entries = load(s);
    if (!entries) continue;
    let added = false;
    for (const e of entries) {
      if (isAfter(e) && matchesFilter(e, f)) {
        page.push(e);
        added = true;
      }
    }
    if (added) {
      page.sort((a, b) => compare(a, b, desc));
      if (page.length > search.limit) page.length = search.limit;
    }
  }
  return { logs: page };
}
