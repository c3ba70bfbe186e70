// firstInChunks: a lookup over any number of items is never cut at a fixed count (get-by-id
// over the aggregators, issue 16 item 3), and stops after the chunk that found the item.
import { describe, expect, it } from "vitest";
import { firstInChunks, mapLimit } from "../../src/core/concurrency.js";

describe("firstInChunks", () => {
  const items = Array.from({ length: 2_500 }, (_, i) => i);

  it("finds an item past the first chunks and asks no chunk after it", async () => {
    const asked: number[] = [];
    const r = await firstInChunks(items, 1000, 8, async (i) => {
      asked.push(i);
      return i === 2_345 ? `item ${i}` : null;
    });
    expect(r).toEqual({ found: "item 2345", asked: 2_500 });
    expect(asked).toHaveLength(2_500);

    const early: number[] = [];
    const r2 = await firstInChunks(items, 1000, 8, async (i) => {
      early.push(i);
      return i === 1_001 ? i : null;
    });
    expect(r2).toEqual({ found: 1_001, asked: 2_000 });
    expect(early).toHaveLength(2_000); // the third chunk was never asked
  });

  it("answers null after asking every item once when nothing matches", async () => {
    const seen = new Set<number>();
    const r = await firstInChunks(items, 1000, 8, async (i) => {
      seen.add(i);
      return null;
    });
    expect(r).toEqual({ found: null, asked: 2_500 });
    expect(seen.size).toBe(2_500);
  });

  it("keeps mapLimit's order and bound", async () => {
    let inFlight = 0;
    let peak = 0;
    const out = await mapLimit(items.slice(0, 100), 4, async (i) => {
      peak = Math.max(peak, ++inFlight);
      await new Promise((r) => setTimeout(r, 1));
      inFlight--;
      return i * 2;
    });
    expect(out).toEqual(items.slice(0, 100).map((i) => i * 2));
    expect(peak).toBe(4);
  });
});
