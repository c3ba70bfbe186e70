import { describe, expect, it } from "vitest";
import { PatternBook, patternSeverity, patternType } from "../../src/core/pattern-stats.js";

const NOW = Date.UTC(2026, 10, 28, 12, 0, 30);
const MIN = 60_000;

describe("PatternBook", () => {
  it("counts per pattern with type and severity from the levels and priorities seen", () => {
    const b = new PatternBook();
    b.record("p1", "info", undefined, NOW - 5 * MIN);
    b.record("p1", "warn", 4, NOW - 2 * MIN);
    b.record("p2", "error", 5, NOW);
    expect(b.view("p1")).toMatchObject({
      total: 2,
      type: "warning",
      severity: "high",
      firstSeen: NOW - 5 * MIN,
      lastSeen: NOW - 2 * MIN,
    });
    expect(b.view("p2")).toMatchObject({ total: 1, type: "error", severity: "critical" });
    expect([patternType([0, 0, 3, 1]), patternSeverity([0, 0, 3, 1], 0)]).toEqual(["info", "low"]);
  });

  it("gives minute trends within the last hour and counts a range", () => {
    const b = new PatternBook();
    for (const ago of [0, 1, 1, 3]) b.record("p", "info", undefined, NOW - ago * MIN);
    const start = Math.floor((NOW - 3 * MIN) / MIN) * MIN;
    expect(b.trend("p", start, start + 4 * MIN, MIN, NOW).map((t) => t.count)).toEqual([1, 0, 2, 1]);
    expect(b.countIn("p", start + MIN, start + 4 * MIN, NOW)).toBe(3);
    expect(b.countIn("p", NOW - 2 * 3_600_000, NOW + 1, NOW)).toBe(4); // 15-minute buckets beyond the hour
  });

  it("folds merged ids into their survivor and drops evicted ones, and round-trips", () => {
    const b = new PatternBook();
    b.record("old", "info", undefined, NOW);
    b.record("alias", "error", 2, NOW - MIN);
    b.record("gone", "info", undefined, NOW);
    b.compact(
      (id) => (id === "alias" ? "old" : id),
      (id) => id !== "gone",
    );
    expect(b.size).toBe(1);
    expect(b.view("old")).toMatchObject({ total: 2, type: "error", firstSeen: NOW - MIN });
    const copy = PatternBook.fromJSON(JSON.parse(JSON.stringify(b.toJSON())));
    expect(copy.view("old")).toEqual(b.view("old"));
    expect(copy.trend("old", NOW - 2 * MIN, NOW + 1, MIN, NOW)).toEqual(
      b.trend("old", NOW - 2 * MIN, NOW + 1, MIN, NOW),
    );
  });
});
