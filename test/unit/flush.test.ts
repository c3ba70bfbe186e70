import { describe, expect, it } from "vitest";
import { backoffDelay } from "../../src/core/backoff.js";
import { deliverWithSplit, type SendResult } from "../../src/core/deliver.js";

describe("backoffDelay", () => {
  const opts = { baseMs: 1000, capMs: 60_000, floorMs: 500 };
  it("grows exponentially up to the cap, with full jitter above the floor", () => {
    expect([0, 1, 2, 3, 10].map((a) => backoffDelay(a, opts, () => 0.999999))).toEqual([999, 1999, 3999, 7999, 59_999]);
    expect(backoffDelay(5, opts, () => 0)).toBe(500);
    expect(backoffDelay(3, opts, () => 0.5)).toBe(4000);
  });
});

describe("deliverWithSplit", () => {
  const refusing =
    (bad: Set<number>, log: number[][]) =>
    async (batch: number[]): Promise<SendResult> => {
      log.push(batch);
      return batch.some((x) => bad.has(x)) ? { kind: "refused", error: "400" } : { kind: "ok" };
    };

  it("isolates refused entries and delivers all the others, in order", async () => {
    const log: number[][] = [];
    const entries = Array.from({ length: 50 }, (_, i) => i);
    const d = await deliverWithSplit(entries, refusing(new Set([7, 31]), log));
    expect(d.complete).toBe(true);
    expect(d.refused.map((r) => r.entry)).toEqual([7, 31]);
    expect(d.delivered).toEqual(entries.filter((x) => x !== 7 && x !== 31));
    expect(d.calls).toBeLessThanOrEqual(2 * 2 * Math.ceil(Math.log2(50)) + 1);
  });

  it("stops at a retryable error, reporting only the handled prefix", async () => {
    let n = 0;
    const d = await deliverWithSplit([1, 2, 3, 4], async (b): Promise<SendResult> => {
      n++;
      if (n === 1) return { kind: "refused", error: "400" }; // split
      if (b[0] === 1) return { kind: "ok" };
      return { kind: "retry", error: "503" };
    });
    expect(d).toMatchObject({ complete: false, delivered: [1, 2], refused: [], error: "503" });
  });
});
