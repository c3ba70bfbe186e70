// PatternBook: what the aggregator knows about each mined pattern beyond its template — levels
// and priorities seen (→ type and severity), totals, first/last seen, and a bounded trend (one-
// minute buckets for the last hour, 15-minute buckets for 24 h: at most 156 numbers a pattern).
// Pure; the PatternMiner decides ids, this book follows its merges (resolve) and evictions.
import type { Level } from "../schema/log-entry.js";
import type { PatternType, Severity } from "../schema/pattern.js";
import { BucketRing, LEVEL_INDEX } from "./rolling-counters.js";
import { HOUR_MS, MINUTE_MS } from "./duration.js";

const QUARTER_MS = 15 * MINUTE_MS;

interface Stat {
  levels: number[]; // error, warn, info, debug
  maxPriority: number;
  total: number;
  firstSeen: number;
  lastSeen: number;
  minutes: BucketRing; // 60 × 1 min
  quarters: BucketRing; // 96 × 15 min
}

export interface PatternStatView {
  id: string;
  total: number;
  levels: number[];
  maxPriority: number;
  firstSeen: number;
  lastSeen: number;
  type: PatternType;
  severity: Severity;
}

export interface TrendPoint {
  time: number;
  count: number;
}

export interface PatternBookSnapshot {
  version: 1;
  stats: [
    string,
    {
      levels: number[];
      maxPriority: number;
      total: number;
      firstSeen: number;
      lastSeen: number;
      minutes: number[][];
      quarters: number[][];
    },
  ][];
}

/** type: error if it ever logged at error, warning if at warn, else info. */
export function patternType(levels: number[]): PatternType {
  return levels[0] > 0 ? "error" : levels[1] > 0 ? "warning" : "info";
}

/**
 * severity: critical for errors at priority 5, high for other errors (or warnings at priority
 * ≥ 4), medium for warnings, low otherwise. A learned pattern's severity overrides this.
 */
export function patternSeverity(levels: number[], maxPriority: number): Severity {
  if (levels[0] > 0) return maxPriority >= 5 ? "critical" : "high";
  if (levels[1] > 0) return maxPriority >= 4 ? "high" : "medium";
  return "low";
}

const newStat = (): Stat => ({
  levels: [0, 0, 0, 0],
  maxPriority: 0,
  total: 0,
  firstSeen: Number.POSITIVE_INFINITY,
  lastSeen: 0,
  minutes: new BucketRing(60, MINUTE_MS, 1),
  quarters: new BucketRing(96, QUARTER_MS, 1),
});

export class PatternBook {
  readonly #stats = new Map<string, Stat>();

  get size(): number {
    return this.#stats.size;
  }

  /** Counts one log of `level` at event time `ts` (already clamped to receive time). */
  record(id: string, level: Level, priority: number | undefined, ts: number): void {
    let s = this.#stats.get(id);
    if (!s) this.#stats.set(id, (s = newStat()));
    s.levels[LEVEL_INDEX[level]]++;
    s.total++;
    if (priority !== undefined && priority > s.maxPriority) s.maxPriority = priority;
    if (ts < s.firstSeen) s.firstSeen = ts;
    if (ts > s.lastSeen) s.lastSeen = ts;
    s.minutes.add(Math.floor(ts / MINUTE_MS), 0, 1);
    s.quarters.add(Math.floor(ts / QUARTER_MS), 0, 1);
  }

  /**
   * Folds stats of merged ids into their survivors and drops stats of evicted patterns, so the
   * book never outgrows the miner. `resolve` maps an id to its surviving id; `live` says whether
   * a surviving id is still in the miner.
   */
  compact(resolve: (id: string) => string, live: (id: string) => boolean): void {
    for (const [id, s] of [...this.#stats]) {
      const to = resolve(id);
      if (!live(to)) {
        this.#stats.delete(id);
        continue;
      }
      if (to === id) continue;
      this.#stats.delete(id);
      const t = this.#stats.get(to);
      if (!t) {
        this.#stats.set(to, s);
        continue;
      }
      for (let l = 0; l < 4; l++) t.levels[l] += s.levels[l];
      t.total += s.total;
      t.maxPriority = Math.max(t.maxPriority, s.maxPriority);
      t.firstSeen = Math.min(t.firstSeen, s.firstSeen);
      t.lastSeen = Math.max(t.lastSeen, s.lastSeen);
      t.minutes.addEntries(s.minutes.entries());
      t.quarters.addEntries(s.quarters.entries());
    }
  }

  view(id: string): PatternStatView | undefined {
    const s = this.#stats.get(id);
    if (!s) return undefined;
    return {
      id,
      total: s.total,
      levels: [...s.levels],
      maxPriority: s.maxPriority,
      firstSeen: s.firstSeen,
      lastSeen: s.lastSeen,
      type: patternType(s.levels),
      severity: patternSeverity(s.levels, s.maxPriority),
    };
  }

  /**
   * Counts in [start, end) cut into buckets of `bucketMs`, from minute buckets when the range
   * lies within the last hour, else 15-minute buckets (each fine bucket lands in the bucket that
   * holds its start).
   */
  trend(id: string, start: number, end: number, bucketMs: number, nowMs: number): TrendPoint[] {
    const n = Math.max(1, Math.ceil((end - start) / bucketMs));
    const points: TrendPoint[] = Array.from({ length: n }, (_, i) => ({ time: start + i * bucketMs, count: 0 }));
    const s = this.#stats.get(id);
    if (!s) return points;
    const fine = start >= nowMs - HOUR_MS ? s.minutes : s.quarters;
    for (const [bucket, count] of fine.entries()) {
      const t = bucket * fine.widthMs;
      if (t + fine.widthMs <= start || t >= end) continue;
      const i = Math.min(n - 1, Math.max(0, Math.floor((t - start) / bucketMs)));
      points[i].count += count;
    }
    return points;
  }

  /** Logs of the pattern in the fine buckets overlapping [start, end) (the trend's resolution). */
  countIn(id: string, start: number, end: number, nowMs: number): number {
    const s = this.#stats.get(id);
    if (!s || end <= start) return 0;
    const fine = start >= nowMs - HOUR_MS ? s.minutes : s.quarters;
    const out = [0];
    fine.sum(Math.floor(start / fine.widthMs), Math.floor((end - 1) / fine.widthMs), out);
    return out[0];
  }

  toJSON(): PatternBookSnapshot {
    return {
      version: 1,
      stats: [...this.#stats].map(([id, s]) => [
        id,
        {
          levels: s.levels,
          maxPriority: s.maxPriority,
          total: s.total,
          firstSeen: s.firstSeen,
          lastSeen: s.lastSeen,
          minutes: s.minutes.entries(),
          quarters: s.quarters.entries(),
        },
      ]),
    };
  }

  static fromJSON(snapshot: PatternBookSnapshot): PatternBook {
    const book = new PatternBook();
    for (const [id, x] of snapshot.stats) {
      const s = newStat();
      s.levels = [...x.levels];
      s.maxPriority = x.maxPriority;
      s.total = x.total;
      s.firstSeen = x.firstSeen;
      s.lastSeen = x.lastSeen;
      s.minutes.addEntries(x.minutes);
      s.quarters.addEntries(x.quarters);
      book.#stats.set(id, s);
    }
    return book;
  }
}
