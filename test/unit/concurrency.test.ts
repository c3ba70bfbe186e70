// firstFound: a lookup over any number of items is never cut at a fixed count (get-by-id over
// the aggregators, issue 16 item 3); it answers as soon as one item has it and asks no more.
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { DeadlineExceeded, firstFound, mapLimit, withDeadline } from "../../src/core/concurrency.js";
import { installErrorHandlers } from "../../src/http/error-handlers.js";

describe("firstFound", () => {
  const items = Array.from({ length: 2_500 }, (_, i) => i);

  it("finds an item far down the list, asking in order and at most `limit` at once", async () => {
    const asked: number[] = [];
    let inFlight = 0;
    let peak = 0;
    const r = await firstFound(items, 8, async (i) => {
      asked.push(i);
      peak = Math.max(peak, ++inFlight);
      await new Promise((res) => setTimeout(res, 0));
      inFlight--;
      return i === 2_345 ? `item ${i}` : null;
    });
    expect(r).toBe("item 2345");
    expect(asked).toEqual(items.slice(0, asked.length)); // in order, each once
    expect(asked.length).toBeGreaterThanOrEqual(2_346);
    expect(asked.length).toBeLessThanOrEqual(2_346 + 7); // at most the calls in flight beside it
    expect(peak).toBe(8);
  });

  it("answers when one item has it, without waiting for calls still in flight", async () => {
    const asked: number[] = [];
    const r = await firstFound(items, 4, (i) => {
      asked.push(i);
      // every other call never settles (an aggregator that hangs): only item 2 answers
      return i === 2 ? Promise.resolve(i) : new Promise<number | null>(() => {});
    });
    expect(r).toBe(2);
    expect(asked).toEqual([0, 1, 2, 3]);
  });

  it("answers null after asking every item once when nothing matches", async () => {
    const seen: number[] = [];
    const r = await firstFound(items, 8, async (i) => {
      seen.push(i);
      return null;
    });
    expect(r).toBeNull();
    expect(seen).toEqual(items);
    expect(await firstFound([], 8, async () => 1)).toBeNull();
  });

  it("rejects with the first error when nothing was found before it", async () => {
    await expect(
      firstFound(items, 8, async (i) => {
        if (i === 5) throw new Error("aggregator down");
        return null;
      }),
    ).rejects.toThrow("aggregator down");
    const late: number[] = [];
    const r = await firstFound(items, 1, async (i) => {
      late.push(i);
      if (i === 5) throw new Error("too late to matter");
      return i === 3 ? "three" : null;
    });
    expect(r).toBe("three");
    expect(late).toEqual([0, 1, 2, 3]); // nothing asked after the hit
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
