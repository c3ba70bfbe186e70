// Sharding: "shard-one" has 1 aggregator, "shard-four" 4 (SHARD_OVERRIDES in vitest.config.ts).
// The same logs into both must read back identically: pages, counters, error-rate, patterns,
// get-by-id and tail.
import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { call, getJson, ingest, KEYS } from "./helpers.js";

const ONE = "shard-one";
const FOUR = "shard-four";
const T0 = Date.now() - 10 * 60_000;
const LEVELS = ["error", "warn", "info", "info", "debug"];

function logsFor(service: string, prefix: string, from: number, n: number) {
  return Array.from({ length: n }, (_, j) => {
    const i = from + j;
    return {
      id: `${prefix}-${i}`,
      service,
      level: LEVELS[i % LEVELS.length],
      timestamp: T0 + i * 1000,
      message: i % 3 === 0 ? `Order ${1000 + i} failed with code ${i % 7}` : `GET /items/${i} took ${i % 50} ms`,
      request_id: `req-${i % 9}`,
    };
  });
}

const strip = (id: string) => id.replace(/^s[14]-/, "");

beforeAll(async () => {
  for (const [service, prefix] of [
    [ONE, "s1"],
    [FOUR, "s4"],
  ]) {
    for (let b = 0; b < 3; b++) expect((await ingest(logsFor(service, prefix, b * 100, 100))).body.accepted).toBe(100);
  }
});

async function allPages(service: string, query: string): Promise<string[]> {
  const out: string[] = [];
  let cursor: string | null = null;
  do {
    const r: { body: { logs: { id: string }[]; next_cursor: string | null } } = await getJson(
      `/api/logs/search?service=${service}&${query}&limit=7${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
    );
    out.push(...r.body.logs.map((l) => strip(l.id)));
    cursor = r.body.next_cursor;
  } while (cursor);
  return out;
}

describe("sharded services read exactly like unsharded ones", () => {
  it("spreads the logs over 4 aggregators", async () => {
    const counts = await Promise.all(
      ["", "#1", "#2", "#3"].map((s) =>
        runInDurableObject(
          env.LOG_AGGREGATOR.getByName(`default/${FOUR}${s}`),
          (_, st) => st.storage.sql.exec<{ n: number }>("SELECT coalesce(sum(n), 0) AS n FROM segments").one().n,
        ),
      ),
    );
    expect(counts.reduce((a, b) => a + b, 0)).toBe(300);
    expect(Math.min(...counts)).toBeGreaterThan(30);
  });

  it("pages identically in both orders, with and without filters", async () => {
    for (const q of ["order=desc", "order=asc", "level=error,warn", "q=failed&order=asc", "request_id=req-4"]) {
      const one = await allPages(ONE, q);
      expect(one.length).toBeGreaterThan(0);
      expect(await allPages(FOUR, q)).toEqual(one);
    }
  });

  it("sums counters, error rates and merges patterns identically", async () => {
    const [s1, s4] = await Promise.all([getJson(`/api/services/${ONE}/stats`), getJson(`/api/services/${FOUR}/stats`)]);
    expect(s4.body.windows).toEqual(s1.body.windows);
    expect(s4.body.series).toEqual(s1.body.series);
    const [e1, e4] = await Promise.all([
      getJson(`/api/services/${ONE}/error-rate?window=1h&min_events=1`),
      getJson(`/api/services/${FOUR}/error-rate?window=1h&min_events=1`),
    ]);
    expect({ ...e4.body, service: "x" }).toEqual({ ...e1.body, service: "x" });
    expect(e4.status).toBe(e1.status);
    const shape = (b: { patterns: { pattern: string; frequency: number; type: string }[] }) =>
      b.patterns.map((p) => [p.pattern, p.frequency, p.type]);
    const [p1, p4] = await Promise.all([
      getJson(`/api/logs/analytics/patterns?service=${ONE}`),
      getJson(`/api/logs/analytics/patterns?service=${FOUR}`),
    ]);
    expect(shape(p4.body)).toEqual(shape(p1.body));
    const services = await getJson<{ services: { service: string; counts: unknown }[] }>(`/api/services`);
    const row = (s: string) => services.body.services.filter((x) => x.service === s);
    expect(row(FOUR)).toHaveLength(1);
    expect(row(FOUR)[0].counts).toEqual(row(ONE)[0].counts);
  });

  it("gets every log by id, and keeps ids idempotent across shards", async () => {
    for (const i of [0, 77, 299])
      expect((await getJson(`/api/logs/s4-${i}`)).body.message).toBe((await getJson(`/api/logs/s1-${i}`)).body.message);
    const again = await ingest(logsFor(FOUR, "s4", 0, 50));
    expect(again.body.results.every((r) => (r as { duplicate?: boolean }).duplicate)).toBe(true);
  });

  it("tails all shards of a service with one merged cursor", async () => {
    const res = await call(`/api/tail?service=${FOUR}&level=error`, {
      key: KEYS.read,
      headers: { upgrade: "websocket" },
    });
    const ws = res.webSocket!;
    ws.accept();
    const got: string[] = [];
    let cursor = "";
    ws.addEventListener("message", (e) => {
      const f = JSON.parse(e.data as string) as { type: string; logs?: { id: string }[]; cursor?: string };
      if (f.type === "logs") got.push(...f.logs!.map((l) => l.id));
      if (f.cursor) cursor = f.cursor;
    });
    const fresh = logsFor(FOUR, "s4", 300, 40);
    await ingest(fresh);
    const expected = fresh
      .filter((l) => l.level === "error")
      .map((l) => l.id)
      .sort();
    for (let i = 0; i < 100 && got.length < expected.length; i++) await new Promise((r) => setTimeout(r, 20));
    expect(got.sort()).toEqual(expected);
    ws.close(1000, "done");
    // resuming from the merged cursor replays nothing old and everything new
    await ingest(logsFor(FOUR, "s4", 340, 20));
    const resumed = await call(`/api/tail?service=${FOUR}&level=error&since=${encodeURIComponent(cursor)}`, {
      key: KEYS.read,
      headers: { upgrade: "websocket" },
    });
    const ws2 = resumed.webSocket!;
    ws2.accept();
    const got2: string[] = [];
    ws2.addEventListener("message", (e) => {
      const f = JSON.parse(e.data as string) as { type: string; logs?: { id: string }[] };
      if (f.type === "logs") got2.push(...f.logs!.map((l) => l.id));
    });
    const expected2 = logsFor(FOUR, "s4", 340, 20)
      .filter((l) => l.level === "error")
      .map((l) => l.id)
      .sort();
    for (let i = 0; i < 100 && got2.length < expected2.length; i++) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 100));
    expect(got2.sort()).toEqual(expected2);
    ws2.close(1000, "done");
  });
});
