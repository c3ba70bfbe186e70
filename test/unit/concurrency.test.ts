// firstInChunks: a lookup over any number of items is never cut at a fixed count (get-by-id
// over the aggregators, issue 16 item 3), and stops after the chunk that found the item.
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { DeadlineExceeded, firstInChunks, mapLimit, withDeadline } from "../../src/core/concurrency.js";
import { installErrorHandlers } from "../../src/http/error-handlers.js";

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

// Issue 16, item 8: a fan-out waits on objects; one that never answers must not hold the request.
describe("withDeadline", () => {
  it("passes a result that comes in time through, and its rejection too", async () => {
    await expect(withDeadline(Promise.resolve(7), 50, "fast")).resolves.toBe(7);
    await expect(withDeadline(Promise.reject(new Error("boom")), 50, "failing")).rejects.toThrow("boom");
  });

  it("rejects with DeadlineExceeded, naming the call, when the promise never settles", async () => {
    const never = new Promise<number>(() => {});
    const err = await withDeadline(never, 20, "aggregator default/api").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeadlineExceeded);
    expect((err as DeadlineExceeded).message).toBe("aggregator default/api did not answer within 20 ms");
  });

  it("answers 503 upstream_unavailable with Retry-After when a route misses a deadline", async () => {
    const app = new Hono();
    installErrorHandlers(app);
    app.get("/stuck", () => withDeadline(new Promise<Response>(() => {}), 10, "aggregator default/stuck"));
    const res = await app.request("/stuck");
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("5");
    expect(await res.json()).toEqual({
      error: {
        code: "upstream_unavailable",
        message: "aggregator default/stuck did not answer within 10 ms; try again",
      },
    });
  });
});
