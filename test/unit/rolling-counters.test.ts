import { describe, expect, it } from "vitest";
import { RollingCounters } from "../../src/core/rolling-counters.js";
import { evaluateErrorRate } from "../../src/core/error-rate.js";

const NOW = Date.UTC(2026, 10, 28, 12, 0, 30, 500); // 12:00:30.5

describe("RollingCounters", () => {
  it("counts each event in exactly the windows that contain its timestamp", () => {
    const c = new RollingCounters();
    c.add("error", NOW - 10_000, NOW); // 10 s ago
    c.add("warn", NOW - 90_000, NOW); // 1.5 min ago
    c.add("info", NOW - 10 * 60_000, NOW); // 10 min ago
    c.add("debug", NOW - 2 * 3_600_000, NOW); // 2 h ago
    c.add("error", NOW - 23 * 3_600_000, NOW); // 23 h ago
    expect(c.add("error", NOW - 25 * 3_600_000, NOW)).toBe(false); // older than 24 h: not counted

    expect(c.count(60_000, NOW)).toEqual({ error: 1, warn: 0, info: 0, debug: 0, total: 1 });
    expect(c.count(5 * 60_000, NOW)).toEqual({ error: 1, warn: 1, info: 0, debug: 0, total: 2 });
    expect(c.count(15 * 60_000, NOW)).toEqual({ error: 1, warn: 1, info: 1, debug: 0, total: 3 });
    expect(c.count(3_600_000, NOW)).toEqual({ error: 1, warn: 1, info: 1, debug: 0, total: 3 });
    expect(c.count(86_400_000, NOW)).toEqual({ error: 2, warn: 1, info: 1, debug: 1, total: 5 });
  });

  it("uses one-second granularity up to 5 minutes", () => {
    const c = new RollingCounters();
    c.add("info", NOW - 1_000, NOW);
    c.add("info", NOW - 2_000, NOW);
    c.add("info", NOW - 3_000, NOW);
    expect(c.count(1_000, NOW).total).toBe(0); // only the current second
    expect(c.count(2_000, NOW).total).toBe(1); // seconds now-1 and now
    expect(c.count(3_000, NOW).total).toBe(2);
    expect(c.count(4_000, NOW).total).toBe(3);
  });

  it("counts future timestamps at now, so skewed clocks can't hide errors", () => {
    const c = new RollingCounters();
    c.add("error", NOW + 3_600_000, NOW);
    expect(c.count(1_000, NOW).error).toBe(1);
  });

  it("forgets buckets as time moves on, in constant memory", () => {
    const c = new RollingCounters();
    c.add("error", NOW, NOW);
    const later = NOW + 6 * 60_000;
    expect(c.count(5 * 60_000, later).total).toBe(0);
    expect(c.count(15 * 60_000, later).total).toBe(1);
    const muchLater = NOW + 25 * 3_600_000;
    c.add("info", muchLater, muchLater);
    expect(c.count(86_400_000, muchLater)).toEqual({ error: 0, warn: 0, info: 1, debug: 0, total: 1 });
  });

  it("returns a per-minute and per-second series ending now", () => {
    const c = new RollingCounters();
    c.add("error", NOW - 60_000, NOW);
    c.add("warn", NOW, NOW);
    const minutes = c.series(3 * 60_000, "1m", NOW);
    expect(minutes.map((p) => [p.time, p.error, p.warn])).toEqual([
      [Date.UTC(2026, 10, 28, 11, 58), 0, 0],
      [Date.UTC(2026, 10, 28, 11, 59), 1, 0],
      [Date.UTC(2026, 10, 28, 12, 0), 0, 1],
    ]);
    const seconds = c.series(5_000, "1s", NOW);
    expect(seconds).toHaveLength(5);
    expect(seconds[4]).toEqual({ time: Math.floor(NOW / 1000) * 1000, error: 0, warn: 1, info: 0, debug: 0 });
  });
});

describe("evaluateErrorRate", () => {
  it("is ok below min_events whatever the rate, and breached above the threshold", () => {
    const counts = { error: 5, warn: 0, info: 5, debug: 0, total: 10 };
    expect(evaluateErrorRate(counts, 0.05, 20)).toMatchObject({ rate: 0.5, ok: true });
    expect(evaluateErrorRate(counts, 0.05, 10)).toMatchObject({ rate: 0.5, errors: 5, total: 10, ok: false });
    expect(evaluateErrorRate(counts, 0.5, 10).ok).toBe(true);
    expect(evaluateErrorRate({ error: 0, warn: 0, info: 0, debug: 0, total: 0 }, 0, 0)).toMatchObject({
      rate: 0,
      ok: true,
    });
  });
});
