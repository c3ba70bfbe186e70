// Search: every filter, cursor pagination in both orders (no duplicates, no gaps), fan-out
// across services, and cursors that the server did not issue.
import { beforeAll, describe, expect, it } from "vitest";
import { getJson, ingest, uniqueService } from "./helpers.js";

const T0 = 1_790_000_000_000;
const svcA = uniqueService("search-a");
const svcB = uniqueService("search-b");

beforeAll(async () => {
  const levels = ["error", "warn", "info", "debug"] as const;
  const logs = [];
  for (let i = 0; i < 60; i++) {
    logs.push({
      id: `sa-${i}`,
      service: i % 3 === 0 ? svcB : svcA,
      level: levels[i % 4],
      // pairs share a timestamp, to exercise the tie-break across pages and services
      timestamp: T0 + Math.floor(i / 2) * 1000,
      message: i % 5 === 0 ? `payment failed for order ${i}` : `request handled ${i}`,
      user_id: `user-${i % 6}`,
      session_id: `sess-${i % 7}`,
      request_id: `req-${i}`,
      category: i % 2 === 0 ? "api" : "data",
      domain: i % 10 === 0 ? "shop.example" : undefined,
    });
  }
  const res = await ingest(logs);
  expect(res.body.accepted).toBe(60);
});

type Page = { logs: { id: string; timestamp: number }[]; next_cursor: string | null };

async function ids(query: string): Promise<string[]> {
  const { status, body } = await getJson<Page>(`/api/logs/search?${query}&limit=1000`);
  expect(status).toBe(200);
  return body.logs.map((l) => l.id);
}

const both = `service=${svcA},${svcB}`;
const expectIds = (pred: (i: number) => boolean) =>
  Array.from({ length: 60 }, (_, i) => i)
    .filter(pred)
    .map((i) => `sa-${i}`)
    .sort();

describe("GET /api/logs/search", () => {
  it("filters by each field", async () => {
    expect((await ids(`service=${svcB}`)).sort()).toEqual(expectIds((i) => i % 3 === 0));
    expect((await ids(`${both}&level=error,debug`)).sort()).toEqual(expectIds((i) => i % 4 === 0 || i % 4 === 3));
    expect((await ids(`${both}&user_id=user-1`)).sort()).toEqual(expectIds((i) => i % 6 === 1));
    expect((await ids(`${both}&session_id=sess-2`)).sort()).toEqual(expectIds((i) => i % 7 === 2));
    expect(await ids(`${both}&request_id=req-17`)).toEqual(["sa-17"]);
    expect((await ids(`${both}&category=data`)).sort()).toEqual(expectIds((i) => i % 2 === 1));
    expect((await ids(`${both}&q=PAYMENT%20failed`)).sort()).toEqual(expectIds((i) => i % 5 === 0));
    expect((await ids(`${both}&domain=shop.example`)).sort()).toEqual(expectIds((i) => i % 10 === 0));
    const start = new Date(T0 + 10_000).toISOString();
    expect((await ids(`${both}&start_time=${start}&end_time=${T0 + 12_000}`)).sort()).toEqual(
      expectIds((i) => i >= 20 && i <= 25),
    );
  });

  it("fans out over every service the key can read when no service is given", async () => {
    const all = await ids(`q=request%20handled&start_time=${T0}&end_time=${T0 + 60_000}`);
    expect(all.sort()).toEqual(expectIds((i) => i % 5 !== 0));
  });

  for (const order of ["desc", "asc"] as const) {
    it(`pages through everything in ${order} order without duplicates or gaps`, async () => {
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      let lastTs = order === "desc" ? Infinity : -Infinity;
      do {
        const { status, body }: { status: number; body: Page } = await getJson<Page>(
          `/api/logs/search?${both}&order=${order}&limit=7${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
        );
        expect(status).toBe(200);
        for (const l of body.logs) {
          expect(order === "desc" ? l.timestamp <= lastTs : l.timestamp >= lastTs).toBe(true);
          lastTs = l.timestamp;
          seen.push(l.id);
        }
        cursor = body.next_cursor;
        pages++;
      } while (cursor && pages < 20);
      expect(pages).toBe(9); // 60 logs / 7 per page
      expect(seen).toHaveLength(60);
      expect(new Set(seen).size).toBe(60);
    });
  }

  it("rejects cursors it did not issue, or used with other filters or order", async () => {
    const { body } = await getJson<Page>(`/api/logs/search?${both}&limit=5`);
    const cursor = encodeURIComponent(body.next_cursor!);
    for (const q of [
      `${both}&limit=5&cursor=garbage`,
      `${both}&limit=5&order=asc&cursor=${cursor}`,
      `service=${svcA}&limit=5&cursor=${cursor}`,
      `${both}&limit=5&cursor=${cursor}x`,
    ]) {
      const r = await getJson(`/api/logs/search?${q}`);
      expect(r.status).toBe(400);
      expect(r.body.error.code).toBe("invalid_request");
      expect(r.body.error.details[0].path).toBe("cursor");
    }
    // the same cursor with another limit is fine: limit is not a filter
    expect((await getJson(`/api/logs/search?${both}&limit=9&cursor=${cursor}`)).status).toBe(200);
  });

  it("rejects out-of-range and malformed parameters with the parameter's path", async () => {
    for (const [q, path] of [
      ["limit=0", "limit"],
      ["limit=1001", "limit"],
      ["limit=abc", "limit"],
      ["limit=5.5", "limit"],
      ["level=fatal", "level"],
      ["start_time=1700000000", "start_time"],
      ["start_time=yesterday", "start_time"],
      ["order=sideways", "order"],
      ["service=bad%20name", "service"],
      ["category=other", "category"],
      ["bogus=1", "bogus"],
    ]) {
      const r = await getJson(`/api/logs/search?${q}`);
      expect(r.status, q).toBe(400);
      expect(r.body.error.code).toBe("invalid_request");
      expect(r.body.error.details[0].path, q).toBe(path);
    }
  });

  it("gets one log by id and 404s for an unknown one", async () => {
    const got = await getJson("/api/logs/sa-17");
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({ id: "sa-17", request_id: "req-17", service: svcA });
    const missing = await getJson("/api/logs/does-not-exist");
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe("not_found");
  });
});

describe("text search over more rows than its scan budget", () => {
  it("pages through every match, with short pages where the budget ran out", { timeout: 60_000 }, async () => {
    const service = uniqueService("scan");
    // 45,000 rows, 1 in 3,000 matching: a page of 10 matches would need 30,000 rows, more than
    // the 20,000 a page may examine (TEXT_SCAN_BUDGET), so pages come back short with a cursor
    for (let b = 0; b < 45; b++) {
      const logs = Array.from({ length: 1000 }, (_, i) => {
        const n = b * 1000 + i;
        return {
          id: `scan-${n}`,
          level: "info",
          service,
          timestamp: T0 + n,
          message: n % 3000 === 7 ? `needle found in row ${n}` : `hay ${n}`,
        };
      });
      expect((await ingest(logs)).body.accepted).toBe(1000);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    let shortPagesWithCursor = 0;
    do {
      const r: { status: number; body: Page } = await getJson<Page>(
        `/api/logs/search?service=${service}&q=NEEDLE&limit=10${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
      );
      expect(r.status).toBe(200);
      seen.push(...r.body.logs.map((l) => l.id));
      cursor = r.body.next_cursor;
      if (cursor && r.body.logs.length < 10) shortPagesWithCursor++;
      pages++;
    } while (cursor && pages < 20);
    expect(seen).toEqual(Array.from({ length: 15 }, (_, i) => `scan-${(14 - i) * 3000 + 7}`));
    expect(shortPagesWithCursor).toBeGreaterThanOrEqual(2);
  });
});
