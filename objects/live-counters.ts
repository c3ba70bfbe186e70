// The aggregator's live counters: per-level rolling windows (src/core/rolling-counters.ts) held
// in memory, rebuilt exactly from storage after a restart: minute buckets from counter_minutes
// (segments already folded) plus the per-second counts in every other segment's header, second
// buckets from the segments that arrived within the second ring's span. Nothing is written per
// log: the counts travel in the segment row.
import { DAY_MS, MINUTE_MS, SECOND_MS } from "../src/core/duration.js";
import { type LevelCounts, RollingCounters, type SeriesPoint } from "../src/core/rolling-counters.js";
import type { Level } from "../src/schema/log-entry.js";
import type { SegmentStore } from "./segment-store.js";

export interface StatsSnapshot {
  windows: { "1m": LevelCounts; "5m": LevelCounts; "15m": LevelCounts; "1h": LevelCounts; "24h": LevelCounts };
  series: SeriesPoint[];
  now: number;
}

export class LiveCounters {
  #counters = new RollingCounters();

  constructor(
    private readonly sql: SqlStorage,
    private readonly segments: SegmentStore,
  ) {}

  rebuild(now: number): void {
    const counters = new RollingCounters();
    const fromMinute = Math.floor((now - DAY_MS) / MINUTE_MS);
    for (const r of this.sql.exec<{ minute: number; level: Level; n: number }>(
      "SELECT minute, level, n FROM counter_minutes WHERE minute > ?",
      fromMinute,
    ))
      counters.addMinute(r.level, r.minute, now, r.n);
    this.segments.forEachCount(
      (second, level, n, into) => {
        if (into.minute) counters.addMinute(level, Math.floor(second / 60), now, n);
        if (into.second) counters.addSecond(level, second, now, n);
      },
      now - 5 * MINUTE_MS - SECOND_MS,
    );
    // Rows still in the old layout (a migration in progress): their minutes are in
    // counter_minutes already; seconds come from the rows.
    const legacy = this.segments.legacyRange();
    if (legacy) {
      for (const r of this.sql.exec<{ second: number; level: Level; n: number }>(
        `SELECT min(ts, received_at) / 1000 AS second, level, count(*) AS n FROM logs
         WHERE received_at > ? GROUP BY second, level`,
        now - 5 * MINUTE_MS - SECOND_MS,
      ))
        counters.addSecond(r.level, r.second, now, r.n);
    }
    this.#counters = counters;
  }

  add(level: Level, countedAt: number, now: number): void {
    this.#counters.add(level, countedAt, now);
  }

  count(windowMs: number, now: number): LevelCounts {
    return this.#counters.count(windowMs, now);
  }

  series(windowMs: number, resolution: "1s" | "1m", now: number): SeriesPoint[] {
    return this.#counters.series(windowMs, resolution, now);
  }

  stats(seriesWindowMs: number, resolution: "1s" | "1m", now: number): StatsSnapshot {
    const c = this.#counters;
    return {
      windows: {
        "1m": c.count(MINUTE_MS, now),
        "5m": c.count(5 * MINUTE_MS, now),
        "15m": c.count(15 * MINUTE_MS, now),
        "1h": c.count(60 * MINUTE_MS, now),
        "24h": c.count(DAY_MS, now),
      },
      series: c.series(seriesWindowMs, resolution, now),
      now,
    };
  }
}
