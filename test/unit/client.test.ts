// The client SDK against a fake fetch that answers like POST /api/logs/batch. Time is injected:
// a manual timer queue for the flush interval, a recording sleep for the backoff, so nothing
// waits for real.
import { describe, expect, it } from "vitest";
import { type ClientLogEntry, LoggerClient, type LoggerClientOptions, retryAfterMs } from "../../src/client/index.js";

interface Call {
  url: string;
  headers: Record<string, string>;
  logs: ClientLogEntry[];
}

type Answer = number | "network" | ((logs: ClientLogEntry[]) => Response);

/** A fake logger: records every request, answers from a script (then 202 for everything). */
function fakeServer(script: Answer[] = []) {
  const calls: Call[] = [];
  const stored = new Map<string, ClientLogEntry>();
  const fetch = async (url: string, init: RequestInit): Promise<Response> => {
    const logs = (JSON.parse(init.body as string) as { logs: ClientLogEntry[] }).logs;
    calls.push({ url, headers: init.headers as Record<string, string>, logs });
    const answer = script.shift() ?? 202;
    if (answer === "network") throw new TypeError("fetch failed: ECONNRESET");
    if (typeof answer === "function") return answer(logs);
    if (answer !== 202)
      return Response.json({ error: { code: "upstream_unavailable", message: "down" } }, { status: answer });
    const results = logs.map((l, index) => {
      const duplicate = stored.has(l.id);
      if (!duplicate) stored.set(l.id, l);
      return duplicate ? { index, id: l.id, duplicate: true } : { index, id: l.id };
    });
    return Response.json({ accepted: logs.length, rejected: 0, results }, { status: 202 });
  };
  return { calls, stored, fetch };
}

function manualTimers() {
  let next = 1;
  const pending = new Map<number, { fn: () => void; ms: number }>();
  return {
    pending,
    setTimeout: (fn: () => void, ms: number) => {
      const id = next++;
      pending.set(id, { fn, ms });
      return id;
    },
    clearTimeout: (id: unknown) => void pending.delete(id as number),
    /** Fires every pending timer once (the flush interval elapsing). */
    fire() {
      const all = [...pending.values()];
      pending.clear();
      for (const t of all) t.fn();
    },
  };
}

let idn = 0;
function client(server: ReturnType<typeof fakeServer>, over: Partial<LoggerClientOptions> = {}) {
  const timers = manualTimers();
  const sleeps: number[] = [];
  const c = new LoggerClient({
    url: "https://logs.example.com/",
    apiKey: "k-ingest",
    service: "shop",
    fetch: server.fetch,
    timers,
    sleep: async (ms) => void sleeps.push(ms),
    random: () => 0.5,
    now: () => 1_790_000_000_000,
    makeId: () => `id-${++idn}`,
    ...over,
  });
  return { c, timers, sleeps };
}

const settle = () => new Promise((r) => setTimeout(r, 0));

describe("LoggerClient", () => {
  it("sends a batch as soon as maxBatch entries are buffered", async () => {
    const server = fakeServer();
    const { c } = client(server, { maxBatch: 3 });
    c.info("a");
    c.warn("b");
    await settle();
    expect(server.calls).toHaveLength(0);
    c.error("c", { request_id: "r-1" });
    await settle();
    expect(server.calls).toHaveLength(1);
    const call = server.calls[0];
    expect(call.url).toBe("https://logs.example.com/api/logs/batch");
    expect(call.headers).toMatchObject({ authorization: "Bearer k-ingest", "content-type": "application/json" });
    expect(call.logs.map((l) => [l.level, l.message, l.service])).toEqual([
      ["info", "a", "shop"],
      ["warn", "b", "shop"],
      ["error", "c", "shop"],
    ]);
    expect(call.logs[2]).toMatchObject({
      request_id: "r-1",
      timestamp: 1_790_000_000_000,
      id: expect.stringMatching(/^id-/),
    });
    expect(c.stats()).toMatchObject({ buffered: 0, sent: 3 });
  });

  it("sends a partial batch when the flush interval elapses", async () => {
    const server = fakeServer();
    const { c, timers } = client(server, { maxBatch: 100, flushIntervalMs: 250 });
    c.info("one");
    c.info("two");
    expect([...timers.pending.values()].map((t) => t.ms)).toEqual([250]); // one timer per batch, not per entry
    await settle();
    expect(server.calls).toHaveLength(0);
    timers.fire();
    await settle();
    expect(server.calls.map((x) => x.logs.map((l) => l.message))).toEqual([["one", "two"]]);
  });

  it("retries after a 503 with the same ids and honours Retry-After", async () => {
    const server = fakeServer([(_logs) => new Response("busy", { status: 503, headers: { "retry-after": "3" } }), 202]);
    const { c, sleeps } = client(server, { maxBatch: 2 });
    c.info("x");
    c.info("y");
    await c.flush();
    expect(server.calls).toHaveLength(2);
    expect(server.calls[1].logs.map((l) => l.id)).toEqual(server.calls[0].logs.map((l) => l.id));
    expect(sleeps).toEqual([3000]);
    expect(c.stats()).toMatchObject({ sent: 2, retries: 1, buffered: 0, rejected: 0, dropped: 0 });
  });

  it("retries after a network error with exponential backoff and jitter", async () => {
    const server = fakeServer(["network", "network", 500, 202]);
    const { c, sleeps } = client(server, { backoffBaseMs: 100 });
    c.info("survives");
    await c.flush();
    expect(server.calls).toHaveLength(4);
    expect(new Set(server.calls.map((x) => x.logs[0].id)).size).toBe(1);
    // equal jitter with random() = 0.5: 3/4 of 100, 200, 400
    expect(sleeps).toEqual([75, 150, 300]);
    expect(server.stored.size).toBe(1);
  });

  it("does not duplicate an entry whose first answer was lost: the server dedupes the retried id", async () => {
    const server = fakeServer();
    let first = true;
    const lossy = async (url: string, init: RequestInit) => {
      const res = await server.fetch(url, init); // stored...
      if (first) {
        first = false;
        throw new TypeError("socket hang up"); // ...but the answer never arrived
      }
      return res;
    };
    const { c } = client(server, { fetch: lossy });
    c.info("once");
    await c.flush();
    expect(server.calls).toHaveLength(2);
    expect(server.stored.size).toBe(1);
    expect(c.stats().sent).toBe(1);
  });

  it("resolves flush() only when every entry is acknowledged, across several batches", async () => {
    const server = fakeServer([503, 202, 503, 503, 202]);
    const { c } = client(server, { maxBatch: 2, flushIntervalMs: 0 });
    for (let i = 0; i < 5; i++) c.info(`m${i}`);
    await c.flush();
    expect([...server.stored.values()].map((l) => l.message).sort()).toEqual(["m0", "m1", "m2", "m3", "m4"]);
    expect(c.stats()).toMatchObject({ buffered: 0, inFlight: 0, sent: 5 });
  });

  it("rejects flush() after the retries, keeps the batch, and delivers it on the next flush", async () => {
    const server = fakeServer([503, 503, 503]);
    const errors: string[] = [];
    const { c } = client(server, { maxRetries: 2, onError: (e) => errors.push(e.message) });
    c.info("kept");
    await expect(c.flush()).rejects.toThrow(/gave up after 3 attempts: HTTP 503/);
    expect(c.stats()).toMatchObject({ buffered: 1, sent: 0, dropped: 0 });
    expect(errors).toHaveLength(1);
    await c.flush();
    expect(c.stats()).toMatchObject({ buffered: 0, sent: 1 });
    expect(new Set(server.calls.map((x) => x.logs[0].id)).size).toBe(1);
  });

  it("resends only the entries the server could not store (upstream_unavailable), not the stored ones", async () => {
    const partial = (logs: ClientLogEntry[]) =>
      Response.json(
        {
          accepted: 1,
          rejected: 1,
          results: [
            { index: 0, id: logs[0].id },
            { index: 1, error: { code: "upstream_unavailable", message: "retry" } },
          ],
        },
        { status: 202 },
      );
    const server = fakeServer([partial, 202]);
    const { c } = client(server);
    c.info("stored");
    c.info("retried");
    await c.flush();
    expect(server.calls.map((x) => x.logs.map((l) => l.message))).toEqual([["stored", "retried"], ["retried"]]);
    expect(c.stats()).toMatchObject({ sent: 2, rejected: 0 });
  });

  it("resends entries refused as rate_limited once the backoff has passed", async () => {
    const limited = (_logs: ClientLogEntry[]) =>
      Response.json(
        {
          accepted: 0,
          rejected: 1,
          results: [{ index: 0, error: { code: "rate_limited", message: "over the limit" } }],
        },
        { status: 202 },
      );
    const server = fakeServer([
      limited,
      (_logs) => new Response("slow down", { status: 429, headers: { "retry-after": "1" } }),
      202,
    ]);
    const { c, sleeps } = client(server, { backoffBaseMs: 100 });
    c.info("later");
    await c.flush();
    expect(server.calls).toHaveLength(3);
    expect(sleeps).toEqual([75, 1000]);
    expect(c.stats()).toMatchObject({ sent: 1, rejected: 0, retries: 2 });
  });

  it("does not retry entries the server refuses, and reports them", async () => {
    const refused = (logs: ClientLogEntry[]) =>
      Response.json(
        {
          accepted: 1,
          rejected: 1,
          results: [
            { index: 0, id: logs[0].id },
            { index: 1, error: { code: "invalid_request", message: "logs.1.message: must not be empty" } },
          ],
        },
        { status: 202 },
      );
    const server = fakeServer([refused, 401]);
    const seen: [string, number][] = [];
    const { c } = client(server, { onError: (e, entries) => seen.push([e.message, entries.length]) });
    c.info("fine");
    c.info("");
    await c.flush();
    c.info("bad key");
    await c.flush();
    expect(server.calls).toHaveLength(2);
    expect(c.stats()).toMatchObject({ sent: 1, rejected: 2, retries: 0 });
    expect(seen).toEqual([
      ["1 entries refused: logs.1.message: must not be empty", 1],
      ["HTTP 401: down", 1],
    ]);
  });

  it("splits a batch the server finds too large (413)", async () => {
    const server = fakeServer([413]);
    const { c } = client(server);
    for (let i = 0; i < 4; i++) c.info(`m${i}`);
    await c.flush();
    expect(server.calls.map((x) => x.logs.length)).toEqual([4, 2, 2]);
    expect(c.stats().sent).toBe(4);
  });

  it("bounds the buffer: drops the oldest entries and counts exactly how many", async () => {
    const server = fakeServer();
    const { c } = client(server, { maxBuffer: 5, maxBatch: 100, flushIntervalMs: 0 });
    for (let i = 0; i < 12; i++) c.info(`m${i}`);
    expect(c.stats()).toMatchObject({ buffered: 5, dropped: 7 });
    await c.flush();
    expect(server.calls[0].logs.map((l) => l.message)).toEqual(["m7", "m8", "m9", "m10", "m11"]);
  });

  it("keeps the buffer bounded while the server is down, dropping the oldest", async () => {
    const server = fakeServer([503, 503]);
    const { c } = client(server, { maxBuffer: 3, maxBatch: 2, maxRetries: 1, flushIntervalMs: 0 });
    c.info("a");
    c.info("b"); // full batch: sending starts, fails twice, comes back
    c.info("c");
    c.info("d");
    await expect(c.flush()).rejects.toThrow(/gave up/);
    // a+b returned to the front of [c, d]: 4 > 3, so the oldest (a) is dropped
    expect(c.stats()).toMatchObject({ buffered: 3, dropped: 1 });
    await c.flush();
    expect([...server.stored.values()].map((l) => l.message)).toEqual(["b", "c", "d"]);
  });

  it("counts entries logged after close() as dropped", async () => {
    const server = fakeServer();
    const { c } = client(server);
    c.info("before");
    await c.close();
    c.info("after");
    expect(c.stats()).toMatchObject({ sent: 1, dropped: 1, buffered: 0 });
  });

  it("works through a service binding and hands the flush to ctx.waitUntil", async () => {
    const server = fakeServer();
    const binding = { fetch: server.fetch };
    const waited: Promise<unknown>[] = [];
    const c = new LoggerClient({
      fetcher: binding,
      apiKey: "k",
      service: "edge",
      domain: "example.com",
      flushIntervalMs: 0,
    });
    c.error("boom", new TypeError("bad input"));
    c.waitUntil({ waitUntil: (p) => waited.push(p) });
    await Promise.all(waited);
    expect(server.calls[0].url).toBe("https://logger/api/logs/batch");
    expect(server.calls[0].logs[0]).toMatchObject({
      level: "error",
      message: "boom",
      domain: "example.com",
      metadata: { error: "TypeError" },
    });
    expect(server.calls[0].logs[0].stack_trace).toContain("TypeError: bad input");
    expect(server.calls[0].logs[0].id).toMatch(/^[A-Za-z0-9_-]{21}$/); // nanoid
  });

  it("validates its options", () => {
    expect(() => new LoggerClient({ apiKey: "k", service: "s" })).toThrow(/url/);
    expect(() => new LoggerClient({ url: "http://x", apiKey: "k", service: "bad name" })).toThrow(/service/);
    expect(() => new LoggerClient({ url: "http://x", apiKey: "k", service: "s", maxBatch: 1001 })).toThrow(/maxBatch/);
  });

  it("parses Retry-After as seconds or an HTTP date", () => {
    expect(retryAfterMs("7", 0)).toBe(7000);
    expect(retryAfterMs("Thu, 01 Jan 1970 00:00:10 GMT", 4000)).toBe(6000);
    expect(retryAfterMs("soon", 0)).toBeUndefined();
    expect(retryAfterMs(null, 0)).toBeUndefined();
  });
});
