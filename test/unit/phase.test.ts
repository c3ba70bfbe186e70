// src/core/phase.ts: aggregators started together get different phases (their flushes and first
// snapshots spread over the interval), and one name always gets the same phase (due times are
// derived again from durable state after an eviction).
import { describe, expect, it } from "vitest";
import { phaseOf } from "../../src/core/phase.js";

describe("phaseOf", () => {
  it("is the same for the same name and within [0, 1)", () => {
    expect(phaseOf("default/api")).toBe(phaseOf("default/api"));
    for (let i = 0; i < 1000; i++) {
      const p = phaseOf(`default/svc-${i}`);
      expect(p).toBeGreaterThanOrEqual(0);
      expect(p).toBeLessThan(1);
    }
  });

  it("spreads a fleet of similar names evenly over ten buckets", () => {
    const buckets = new Array<number>(10).fill(0);
    for (let i = 0; i < 2000; i++) buckets[Math.floor(phaseOf(`default/svc-${i}`) * 10)]++;
    // 200 expected per bucket; a hash that clumps similar names fails this by far
    for (const n of buckets) {
      expect(n).toBeGreaterThan(140);
      expect(n).toBeLessThan(260);
    }
    expect(phaseOf("default/svc-1")).not.toBe(phaseOf("default/svc-2"));
    expect(phaseOf("default/api#0")).not.toBe(phaseOf("default/api#1"));
  });
});
