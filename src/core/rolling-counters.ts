// Rolling per-level counters for one service: one-second buckets for the last 5 minutes and
// one-minute buckets for the last 24 hours, in fixed rings (memory is constant: 300 + 1440
// buckets × 4 levels). The clock is an argument, so tests need no fake timers.
//
// Window semantics (documented in the README):
// - windows up to 5 minutes use second buckets: events with timestamp in (now - W, now],
//   at one-second granularity;
// - longer windows use minute buckets: the current minute plus the previous ceil(W/1m) - 1.
// - events older than 24 h are not counted; events from the future (clock skew) count in the
//   bucket of `now`, so a skewed client can't hide errors from the live error rate.
import { LEVELS, type Level } from "../schema/log-entry.js";
import { DAY_MS, MINUTE_MS, SECOND_MS } from "./duration.js";

export const SECOND_BUCKETS = 300;
export const MINUTE_BUCKETS = 1440;
export const MAX_WINDOW_MS = DAY_MS;

export type LevelCounts = Record<Level, number> & { total: number };

export interface SeriesPoint {
  time: number;
  error: number;
  warn: number;
  info: number;
  debug: number;
}

/** A level's slot in per-level arrays (the order of LEVELS); shared with pattern-stats.ts. */
export const LEVEL_INDEX: Record<Level, number> = { error: 0, warn: 1, info: 2, debug: 3 };

/**
 * A ring of time buckets, each holding `lanes` counts (4 levels here, 1 for a pattern's trend),
 * keyed by absolute bucket number so stale slots are recognised and reset on reuse.
 */
export class BucketRing {
  readonly #counts: Uint32Array;
  readonly #keys: Float64Array; // absolute bucket number held by each slot (-1 = empty)

  constructor(
    readonly size: number,
    readonly widthMs: number,
    readonly lanes = 4,
  ) {
    this.#counts = new Uint32Array(size * lanes);
    this.#keys = new Float64Array(size).fill(-1);
  }

  add(bucket: number, lane: number, n: number): void {
    const slot = bucket % this.size;
    if (this.#keys[slot] !== bucket) {
      if (this.#keys[slot] > bucket) return; // older than the ring covers
      this.#keys[slot] = bucket;
      this.#counts.fill(0, slot * this.lanes, slot * this.lanes + this.lanes);
    }
    this.#counts[slot * this.lanes + lane] += n;
  }

  /** Adds the counts of buckets in [from, to] into `out` (one number per lane). */
  sum(from: number, to: number, out: number[]): void {
    for (let b = Math.max(from, to - this.size + 1); b <= to; b++) {
      const slot = b % this.size;
      if (this.#keys[slot] !== b) continue;
      for (let l = 0; l < this.lanes; l++) out[l] += this.#counts[slot * this.lanes + l];
    }
  }

  get(bucket: number): number[] {
    const slot = bucket % this.size;
    if (this.#keys[slot] !== bucket) return new Array(this.lanes).fill(0);
    return Array.from(this.#counts.subarray(slot * this.lanes, slot * this.lanes + this.lanes));
  }

  /** Non-empty buckets as [bucket, ...lane counts], for checkpoints. */
  entries(): number[][] {
    const out: number[][] = [];
    for (let slot = 0; slot < this.size; slot++) {
      if (this.#keys[slot] >= 0)
        out.push([this.#keys[slot], ...this.#counts.subarray(slot * this.lanes, slot * this.lanes + this.lanes)]);
    }
    return out;
  }

  addEntries(entries: number[][]): void {
    for (const [bucket, ...counts] of entries) counts.forEach((n, lane) => n > 0 && this.add(bucket, lane, n));
  }
}

export class RollingCounters {
  readonly #seconds = new BucketRing(SECOND_BUCKETS, SECOND_MS);
  readonly #minutes = new BucketRing(MINUTE_BUCKETS, MINUTE_MS);

  /** Counts `n` events of `level` at event time `timestampMs`, as seen at `nowMs`. */
  add(level: Level, timestampMs: number, nowMs: number, n = 1): boolean {
    const ts = Math.min(timestampMs, nowMs);
    if (ts <= nowMs - MAX_WINDOW_MS) return false;
    const l = LEVEL_INDEX[level];
    this.#minutes.add(Math.floor(ts / MINUTE_MS), l, n);
    if (ts > nowMs - SECOND_BUCKETS * SECOND_MS) this.#seconds.add(Math.floor(ts / SECOND_MS), l, n);
    return true;
  }

  /** Restores minute buckets from a checkpoint (seconds are rebuilt from stored rows). */
  addMinute(level: Level, minute: number, nowMs: number, n: number): void {
    if (minute <= Math.floor(nowMs / MINUTE_MS) - MINUTE_BUCKETS) return;
    this.#minutes.add(minute, LEVEL_INDEX[level], n);
  }

  addSecond(level: Level, second: number, nowMs: number, n: number): void {
    if (second <= Math.floor(nowMs / SECOND_MS) - SECOND_BUCKETS) return;
    this.#seconds.add(second, LEVEL_INDEX[level], n);
  }

  count(windowMs: number, nowMs: number): LevelCounts {
    const out = [0, 0, 0, 0];
    const w = Math.min(windowMs, MAX_WINDOW_MS);
    if (w <= SECOND_BUCKETS * SECOND_MS) {
      const now = Math.floor(nowMs / SECOND_MS);
      this.#seconds.sum(now - Math.ceil(w / SECOND_MS) + 1, now, out);
    } else {
      const now = Math.floor(nowMs / MINUTE_MS);
      this.#minutes.sum(now - Math.ceil(w / MINUTE_MS) + 1, now, out);
    }
    return { error: out[0], warn: out[1], info: out[2], debug: out[3], total: out[0] + out[1] + out[2] + out[3] };
  }

  /** Per-bucket series, oldest first, ending with the bucket holding `nowMs`. */
  series(windowMs: number, resolution: "1s" | "1m", nowMs: number): SeriesPoint[] {
    const ring = resolution === "1s" ? this.#seconds : this.#minutes;
    const now = Math.floor(nowMs / ring.widthMs);
    const n = Math.min(Math.ceil(windowMs / ring.widthMs), ring.size);
    const points: SeriesPoint[] = [];
    for (let b = now - n + 1; b <= now; b++) {
      const [error, warn, info, debug] = ring.get(b);
      points.push({ time: b * ring.widthMs, error, warn, info, debug });
    }
    return points;
  }
}

export function emptyCounts(): LevelCounts {
  return { error: 0, warn: 0, info: 0, debug: 0, total: 0 };
}

export function addCounts(a: LevelCounts, b: LevelCounts): LevelCounts {
  const out = emptyCounts();
  for (const l of LEVELS) out[l] = a[l] + b[l];
  out.total = a.total + b.total;
  return out;
}
