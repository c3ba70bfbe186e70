// The data-access service contract (spec/API.md §4), written once and run twice: inside workerd
// against the reference service (test/workers/data-service.test.ts) and from Node against any
// URL (test/contract/remote.test.ts, DATA_SERVICE_URL + DATA_SERVICE_API_KEY).
//
// Every test writes under service names and ids unique to this run, and every read filters by
// them, so the suite can run against a shared, persistent deployment. Response bodies are also
// checked against the wire schemas in src/schema/data-service.ts, which the logger's client uses.
import { beforeAll, describe, expect, it } from "vitest";
import {
  AggregateResponse,
  AnalyzePatternsResponse,
  CleanupResponse,
  CustomAnalyticsResponse,
  LearnPatternsResponse,
  PatternsAnalyticsResponse,
  SearchResponse,
  SimilarPatternsResponse,
  StoreBatchResponse,
  SummaryResponse,
} from "../../src/schema/data-service.js";
import { ID_RE, type StoredLogEntry } from "../../src/schema/log-entry.js";

export type DataServiceFetch = (path: string, init?: RequestInit) => Promise<Response>;

const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
/** A fixed UTC midnight in the past: bucket boundaries below are exact. */
const T0 = Date.UTC(2025, 0, 6);

type Entry = StoredLogEntry;

export function defineDataServiceContract(getFetch: () => DataServiceFetch, apiKey: string): void {
  const RUN = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const svc = (name: string) => `ct-${RUN}-${name}`;
  const rid = (name: string) => `${RUN}-${name}`;

  async function call(
    method: string,
    path: string,
    opts: { json?: unknown; body?: string; contentType?: string | null; key?: string | null } = {},
  ) {
    const headers = new Headers();
    const key = opts.key === undefined ? apiKey : opts.key;
    if (key !== null) headers.set("authorization", `Bearer ${key}`);
    let body: string | undefined = opts.body;
    if (opts.json !== undefined) body = JSON.stringify(opts.json);
    if (body !== undefined && opts.contentType !== null)
      headers.set("content-type", opts.contentType ?? "application/json");
    const res = await getFetch()(path, { method, headers, body });
    const text = await res.text();
    let json: any;
    try {
      json = text === "" ? undefined : JSON.parse(text);
    } catch {
      json = { unparsable: text.slice(0, 200) };
    }
    return { status: res.status, body: json, headers: res.headers };
  }
  const get = (path: string) => call("GET", path);
  const post = (path: string, json: unknown) => call("POST", path, { json });
  const qs = (params: Record<string, string | number | undefined>) =>
    new URLSearchParams(
      Object.entries(params)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => [k, String(v)]),
    ).toString();

  function entry(e: Partial<Entry> & Pick<Entry, "id" | "service" | "timestamp">): Entry {
    return { received_at: e.timestamp + 5, level: "info", message: `message of ${e.id}`, domain: "default", ...e };
  }
  async function store(logs: Entry[]) {
    for (let i = 0; i < logs.length; i += 100) {
      const r = await post("/api/logs/batch", { logs: logs.slice(i, i + 100) });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
    }
  }
  function expectError(r: { status: number; body: any }, status: number | number[], code?: string | string[]) {
    const statuses = Array.isArray(status) ? status : [status];
    expect(statuses, JSON.stringify(r.body)).toContain(r.status);
    expect(typeof r.body?.error?.code).toBe("string");
    expect(typeof r.body?.error?.message).toBe("string");
    if (code) expect(Array.isArray(code) ? code : [code]).toContain(r.body.error.code);
  }
  const paths = (r: { body: any }): string[] => (r.body?.error?.details ?? []).map((d: { path: string }) => d.path);
  async function allIds(query: Record<string, string | number | undefined>): Promise<string[]> {
    const r = await get(`/api/logs/search?${qs({ limit: 1000, order: "asc", ...query })}`);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    return r.body.logs.map((l: Entry) => l.id);
  }

  describe("data service contract (spec/API.md §4)", () => {
    describe("auth", () => {
      const routes: [string, string, unknown?][] = [
        ["POST", "/api/logs/store", {}],
        ["POST", "/api/logs/batch", { logs: [] }],
        ["GET", "/api/logs/search"],
        ["GET", "/api/logs/some-id"],
        ["DELETE", "/api/logs/cleanup?older_than=7d"],
        ["GET", "/api/logs/analytics/summary"],
        ["GET", "/api/logs/analytics/patterns"],
        ["POST", "/api/logs/analytics/custom", {}],
        ["POST", "/api/logs/patterns/learn", { patterns: [] }],
        ["GET", "/api/logs/patterns/similar?message=x"],
        ["GET", "/api/logs/aggregate"],
        ["POST", "/api/logs/analyze/patterns", {}],
      ];
      it("answers 401 unauthorized with the JSON error on every route without a key", async () => {
        for (const [method, path, json] of routes) {
          const r = await call(method, path, { json, key: null });
          expect(r.status, `${method} ${path}`).toBe(401);
          expectError(r, 401, "unauthorized");
        }
      });
      it("answers 401 to a wrong key and to a non-Bearer scheme", async () => {
        expectError(await call("GET", "/api/logs/search", { key: `${apiKey}x` }), 401, "unauthorized");
        const res = await getFetch()("/api/logs/search", { headers: { authorization: `Basic ${apiKey}` } });
        expect(res.status).toBe(401);
        expect(((await res.json()) as any).error.code).toBe("unauthorized");
      });
    });

    describe("POST /api/logs/batch and /api/logs/store", () => {
      const S = svc("store");
      const full: Entry = {
        id: rid("full"),
        timestamp: T0 + 123,
        received_at: T0 + 456,
        level: "warn",
        message: "disk almost full",
        service: S,
        domain: "example.com",
        user_id: "u-1",
        session_id: "s-1",
        request_id: "r-1",
        metadata: { disk: "/dev/sda1", used: 0.93, tags: ["a", "b"], nested: { ok: true } },
        context: { url: "https://example.com/x", method: "GET", ip: "10.0.0.1" },
        stack_trace: "Error: x\n    at y",
        category: "data",
        priority: 4,
        pattern_id: rid("pat-full"),
        truncated: true,
        seq: 7,
      };

      it("stores a batch, then counts every resubmitted entry as a duplicate and stores nothing twice", async () => {
        const logs = [
          full,
          entry({ id: rid("b2"), service: S, timestamp: T0 + 1 }),
          entry({ id: rid("b3"), service: S, timestamp: T0 + 2, level: "error" }),
        ];
        const first = await post("/api/logs/batch", { logs });
        expect(first.status).toBe(200);
        expect(first.body).toEqual({ stored: 3, duplicates: 0 });
        expect(StoreBatchResponse.parse(first.body)).toEqual({ stored: 3, duplicates: 0 });

        const again = await post("/api/logs/batch", { logs });
        expect(again.status).toBe(200);
        expect(again.body).toEqual({ stored: 0, duplicates: 3 });

        const mixed = await post("/api/logs/batch", {
          logs: [logs[0], entry({ id: rid("b4"), service: S, timestamp: T0 + 3 }), logs[2]],
        });
        expect(mixed.body).toEqual({ stored: 1, duplicates: 2 });

        expect(await allIds({ service: S })).toEqual([rid("b2"), rid("b3"), rid("b4"), full.id]);
      });

      it("keeps the first entry of an id and counts a repeat inside one batch as a duplicate", async () => {
        const a = entry({ id: rid("dup"), service: S, timestamp: T0 + 10, message: "first" });
        const r = await post("/api/logs/batch", { logs: [a, { ...a, message: "second" }] });
        expect(r.body).toEqual({ stored: 1, duplicates: 1 });
        expect((await get(`/api/logs/${a.id}`)).body.message).toBe("first");
      });

      it("round-trips every field of a stored entry through GET /api/logs/:id", async () => {
        const r = await get(`/api/logs/${full.id}`);
        expect(r.status).toBe(200);
        expect(r.body).toEqual(full);
      });

      it("returns a minimal entry with the fields it was given", async () => {
        const r = await get(`/api/logs/${rid("b2")}`);
        expect(r.status).toBe(200);
        expect(r.body).toMatchObject(entry({ id: rid("b2"), service: S, timestamp: T0 + 1 }));
        expect(r.body.pattern_id ?? null).toBeNull();
      });

      it("answers 404 not_found for an unknown id", async () => {
        expectError(await get(`/api/logs/${rid("never-stored")}`), 404, "not_found");
      });

      it("takes exactly 100 entries and refuses 101 with a JSON error, storing none of them", async () => {
        const S100 = svc("cap100");
        const logs = Array.from({ length: 100 }, (_, i) =>
          entry({ id: rid(`c100-${i}`), service: S100, timestamp: T0 + i }),
        );
        const ok = await post("/api/logs/batch", { logs });
        expect(ok.status).toBe(200);
        expect(ok.body).toEqual({ stored: 100, duplicates: 0 });

        const S101 = svc("cap101");
        const over = Array.from({ length: 101 }, (_, i) =>
          entry({ id: rid(`c101-${i}`), service: S101, timestamp: T0 + i }),
        );
        const r = await post("/api/logs/batch", { logs: over });
        expectError(r, [400, 413], ["payload_too_large", "invalid_request"]);
        expect(await allIds({ service: S101 })).toEqual([]);
      });

      it("refuses a batch with invalid entries: 400 invalid_request with a path per problem, nothing stored", async () => {
        const SI = svc("invalid");
        const good = entry({ id: rid("inv-good"), service: SI, timestamp: T0 });
        const r = await post("/api/logs/batch", {
          logs: [
            good,
            { ...good, id: rid("inv-1"), level: "loud" },
            { ...good, id: rid("inv-2"), timestamp: "yesterday" },
            { ...good, id: "bad id!" },
          ],
        });
        expectError(r, 400, "invalid_request");
        expect(paths(r)).toEqual(expect.arrayContaining(["logs.1.level", "logs.2.timestamp", "logs.3.id"]));
        expect(await allIds({ service: SI })).toEqual([]);
      });

      it("refuses an empty batch, a body without logs, bad JSON and a wrong or missing content type", async () => {
        expectError(await post("/api/logs/batch", { logs: [] }), 400, "invalid_request");
        expectError(await post("/api/logs/batch", { entries: [] }), 400, "invalid_request");
        expectError(await call("POST", "/api/logs/batch", { body: '{"logs": [' }), 400, "invalid_json");
        expectError(
          await call("POST", "/api/logs/batch", { body: JSON.stringify({ logs: [] }), contentType: "text/plain" }),
          415,
          "unsupported_media_type",
        );
        expectError(
          await call("POST", "/api/logs/batch", { body: JSON.stringify({ logs: [] }), contentType: null }),
          415,
          "unsupported_media_type",
        );
      });

      it("POST /api/logs/store takes one entry or an array, idempotently", async () => {
        const SS = svc("store-one");
        const one = entry({ id: rid("one"), service: SS, timestamp: T0 + 1 });
        expect((await post("/api/logs/store", one)).body).toEqual({ stored: 1, duplicates: 0 });
        expect((await post("/api/logs/store", one)).body).toEqual({ stored: 0, duplicates: 1 });
        const two = [entry({ id: rid("two-a"), service: SS, timestamp: T0 + 2 }), one];
        const r = await post("/api/logs/store", two);
        expect(r.status).toBe(200);
        expect(r.body).toEqual({ stored: 1, duplicates: 1 });
        expect(await allIds({ service: SS })).toEqual([rid("one"), rid("two-a")]);
        const bad = await post("/api/logs/store", { ...one, id: rid("one-bad"), level: "nope" });
        expectError(bad, 400, "invalid_request");
        expect(paths(bad)).toContain("level");
      });
    });

    describe("GET /api/logs/search", () => {
      const A = svc("search-a");
      const B = svc("search-b");
      const CATS = ["auth", "data", "api", "ui", undefined] as const;
      const LEVELS = ["error", "warn", "info", "debug"] as const;
      const data: Entry[] = Array.from({ length: 30 }, (_, i) => {
        const e = entry({
          id: rid(`s-${String(29 - i).padStart(2, "0")}`),
          service: i % 3 === 2 ? B : A,
          timestamp: T0 + Math.floor(i / 3) * 1000, // triples share a timestamp: the id breaks ties
          level: LEVELS[i % 4],
          domain: i % 4 === 0 ? "shop.example.com" : "default",
          message: `order ${i} ${i % 2 ? "FAILED" : "ok"} ${i % 10 === 0 ? "promo 50%_off" : "promo 50 off"}`,
          session_id: `sess-${i % 2}`,
          request_id: `req-${i}`,
        });
        if (i % 7 !== 0) e.user_id = i % 5 === 0 ? "u-1" : "u-2";
        const cat = CATS[i % 5];
        if (cat) e.category = cat;
        if (i % 6 === 0) e.pattern_id = rid("srch");
        return e;
      });
      const both = `${A},${B}`;
      const sorted = (rows: Entry[], order: "asc" | "desc") => {
        const out = [...rows].sort((x, y) => x.timestamp - y.timestamp || (x.id < y.id ? -1 : x.id > y.id ? 1 : 0));
        return (order === "asc" ? out : out.reverse()).map((e) => e.id);
      };

      beforeAll(async () => {
        await store(data);
      });

      it("applies every filter exactly, in both orders", async () => {
        const cases: [Record<string, string | number>, (e: Entry) => boolean][] = [
          [{ service: A }, (e) => e.service === A],
          [{ service: both }, () => true],
          [{ service: both, domain: "shop.example.com" }, (e) => e.domain === "shop.example.com"],
          [{ service: both, level: "error,warn" }, (e) => e.level === "error" || e.level === "warn"],
          [
            { service: both, start_time: T0 + 2000, end_time: T0 + 5000 },
            (e) => e.timestamp >= T0 + 2000 && e.timestamp <= T0 + 5000,
          ],
          [
            {
              service: both,
              start_time: new Date(T0 + 2000).toISOString(),
              end_time: new Date(T0 + 5000).toISOString(),
            },
            (e) => e.timestamp >= T0 + 2000 && e.timestamp <= T0 + 5000,
          ],
          [{ service: both, user_id: "u-1" }, (e) => e.user_id === "u-1"],
          [{ service: both, session_id: "sess-1" }, (e) => e.session_id === "sess-1"],
          [{ service: both, request_id: "req-7" }, (e) => e.request_id === "req-7"],
          [{ service: both, category: "api" }, (e) => e.category === "api"],
          [{ service: both, pattern_id: rid("srch") }, (e) => e.pattern_id === rid("srch")],
          [{ service: both, q: "failed" }, (e) => e.message.toLowerCase().includes("failed")],
          [{ service: both, q: "50%_off" }, (e) => e.message.includes("50%_off")],
          [
            { service: A, level: "info,debug", category: "auth", start_time: T0 + 1000 },
            (e) =>
              e.service === A &&
              (e.level === "info" || e.level === "debug") &&
              e.category === "auth" &&
              e.timestamp >= T0 + 1000,
          ],
        ];
        for (const [query, keep] of cases) {
          const expected = data.filter(keep);
          expect(expected.length, JSON.stringify(query)).toBeGreaterThan(0);
          for (const order of ["asc", "desc"] as const) {
            const r = await get(`/api/logs/search?${qs({ ...query, order, limit: 1000 })}`);
            expect(r.status, JSON.stringify(r.body)).toBe(200);
            expect(
              r.body.logs.map((l: Entry) => l.id),
              `${JSON.stringify(query)} ${order}`,
            ).toEqual(sorted(expected, order));
            expect(r.body.next_cursor).toBeNull();
          }
        }
      });

      it("returns full entries and orders by timestamp descending by default", async () => {
        const r = await get(`/api/logs/search?${qs({ service: both, limit: 3 })}`);
        expect(r.status).toBe(200);
        const parsed = SearchResponse.parse(r.body);
        expect(parsed.logs.map((l) => l.id)).toEqual(sorted(data, "desc").slice(0, 3));
        expect(r.body.logs[0]).toMatchObject(data.find((e) => e.id === r.body.logs[0].id)!);
        expect(typeof r.body.next_cursor).toBe("string");
      });

      it("pages with a cursor without duplicates or gaps, in both orders", async () => {
        for (const [query, keep] of [
          [{ service: both }, () => true],
          [{ service: both, level: "info,debug" }, (e: Entry) => e.level === "info" || e.level === "debug"],
        ] as const) {
          for (const order of ["asc", "desc"] as const) {
            for (const limit of [1, 4, 7]) {
              const seen: string[] = [];
              let cursor: string | undefined;
              for (let page = 0; page < 100; page++) {
                const r = await get(`/api/logs/search?${qs({ ...query, order, limit, cursor })}`);
                expect(r.status, JSON.stringify(r.body)).toBe(200);
                expect(r.body.logs.length).toBeLessThanOrEqual(limit);
                seen.push(...r.body.logs.map((l: Entry) => l.id));
                if (r.body.next_cursor === null) break;
                expect(r.body.logs.length).toBe(limit);
                cursor = r.body.next_cursor;
              }
              expect(seen, `${JSON.stringify(query)} ${order} limit ${limit}`).toEqual(
                sorted(data.filter(keep), order),
              );
            }
          }
        }
      });

      it("answers 400 invalid_request to a forged cursor, or one reused with other filters or another order", async () => {
        const first = await get(`/api/logs/search?${qs({ service: both, order: "asc", limit: 5 })}`);
        const cursor: string = first.body.next_cursor;
        expect(typeof cursor).toBe("string");
        const bad = [
          qs({ service: both, order: "asc", limit: 5, cursor: "not-a-cursor" }),
          qs({ service: both, order: "asc", limit: 5, cursor: `${cursor}x` }),
          qs({ service: both, order: "asc", limit: 5, cursor: `x${cursor}` }),
          qs({ service: both, order: "desc", limit: 5, cursor }),
          qs({ service: A, order: "asc", limit: 5, cursor }),
          qs({ service: both, level: "error", order: "asc", limit: 5, cursor }),
        ];
        for (const q of bad) expectError(await get(`/api/logs/search?${q}`), 400, "invalid_request");
        // the same cursor with another limit continues the same query
        const next = await get(`/api/logs/search?${qs({ service: both, order: "asc", limit: 2, cursor })}`);
        expect(next.body.logs.map((l: Entry) => l.id)).toEqual(sorted(data, "asc").slice(5, 7));
      });

      it("accepts limit 1..1000 and refuses anything else with 400", async () => {
        expect((await get(`/api/logs/search?${qs({ service: both, limit: 1000 })}`)).status).toBe(200);
        for (const limit of ["0", "1001", "abc", "1.5", "-1", ""]) {
          const r = await get(`/api/logs/search?${qs({ service: both, limit })}`);
          expectError(r, 400, "invalid_request");
          expect(paths(r)).toContain("limit");
        }
      });

      it("refuses a malformed service name, level, time and start after end", async () => {
        for (const q of [
          { service: "bad name!" },
          { level: "loud" },
          { start_time: "yesterday" },
          { start_time: 1_700_000_000 },
          { start_time: T0 + 10, end_time: T0 },
        ]) {
          expectError(await get(`/api/logs/search?${qs(q)}`), 400, "invalid_request");
        }
      });
    });

    describe("DELETE /api/logs/cleanup", () => {
      it("deletes by older_than with a service, counting exactly, and is idempotent", async () => {
        const S = svc("clean-age");
        const now = Date.now();
        await store([
          entry({ id: rid("ca-1"), service: S, timestamp: now - 10 * DAY, level: "error" }),
          entry({ id: rid("ca-2"), service: S, timestamp: now - 10 * DAY, level: "error" }),
          entry({ id: rid("ca-3"), service: S, timestamp: now - 10 * DAY, level: "info" }),
          entry({ id: rid("ca-4"), service: S, timestamp: now - 8 * DAY, level: "warn" }),
          entry({ id: rid("ca-5"), service: S, timestamp: now - 1 * DAY, level: "error" }),
          entry({ id: rid("ca-6"), service: S, timestamp: now - 1 * HOUR, level: "error" }),
        ]);
        const r = await call("DELETE", `/api/logs/cleanup?${qs({ older_than: "7d", service: S })}`);
        expect(r.status).toBe(200);
        expect(r.body.deleted).toBe(4);
        CleanupResponse.parse(r.body);
        expect((await call("DELETE", `/api/logs/cleanup?${qs({ older_than: "7d", service: S })}`)).body.deleted).toBe(
          0,
        );
        expect(await allIds({ service: S })).toEqual([rid("ca-5"), rid("ca-6")]);
        expectError(await get(`/api/logs/${rid("ca-1")}`), 404, "not_found");
      });

      it("deletes by before=<ms> with service and level lists, exactly", async () => {
        const S = svc("clean-before");
        const other = svc("clean-other");
        const cut = T0 + HOUR;
        await store([
          entry({ id: rid("cb-1"), service: S, timestamp: cut - 3, level: "error" }),
          entry({ id: rid("cb-2"), service: S, timestamp: cut - 2, level: "warn" }),
          entry({ id: rid("cb-3"), service: S, timestamp: cut - 1, level: "info" }),
          entry({ id: rid("cb-4"), service: S, timestamp: cut, level: "error" }), // not strictly before
          entry({ id: rid("cb-5"), service: other, timestamp: cut - 1, level: "error" }),
        ]);
        const r = await call("DELETE", `/api/logs/cleanup?${qs({ before: cut, service: S, level: "error" })}`);
        expect(r.status).toBe(200);
        expect(r.body.deleted).toBe(1);
        expect(
          (await call("DELETE", `/api/logs/cleanup?${qs({ before: cut, service: S, level: "warn,info" })}`)).body
            .deleted,
        ).toBe(2);
        expect(await allIds({ service: `${S},${other}` })).toEqual([rid("cb-5"), rid("cb-4")]);
      });

      it("refuses a request without exactly one of older_than and before, or with bad values", async () => {
        for (const q of [
          {},
          { older_than: "7d", before: T0 },
          { older_than: "7 days" },
          { before: "soon" },
          { older_than: "7d", service: "bad name!" },
          { older_than: "7d", level: "loud" },
        ]) {
          expectError(await call("DELETE", `/api/logs/cleanup?${qs(q)}`), 400, "invalid_request");
        }
      });
    });

    describe("summary and aggregate", () => {
      const S = svc("sum");
      const S2 = svc("sum2");
      const T1 = T0 + DAY;
      const range = { start_time: T1, end_time: T1 + 3 * HOUR - 1 };
      beforeAll(async () => {
        let n = 0;
        const e = (service: string, timestamp: number, level: Entry["level"], category?: Entry["category"]) => {
          const x = entry({ id: rid(`sum-${n++}`), service, timestamp, level });
          if (category) x.category = category;
          return x;
        };
        await store([
          e(S, T1 - 1, "error", "auth"), // before the range
          e(S, T1 + 10 * MIN, "error", "auth"),
          e(S, T1 + 11 * MIN, "error", "auth"),
          e(S, T1 + 12 * MIN, "info"),
          e(S, T1 + HOUR + 5 * MIN, "warn", "data"),
          e(S, T1 + HOUR + 6 * MIN, "info", "api"),
          e(S, T1 + HOUR + 7 * MIN, "info", "api"),
          e(S, T1 + 2 * HOUR + 59 * MIN, "debug", "ui"),
          e(S, T1 + 3 * HOUR - 1, "error", "api"), // last ms of the range
          e(S, T1 + 3 * HOUR, "error", "api"), // after the range
          e(S2, T1 + 30 * MIN, "error", "api"),
          e(S2, T1 + 2 * HOUR, "info"),
        ]);
      });

      it("GET /api/logs/analytics/summary counts by level, service, category and hour", async () => {
        const r = await get(`/api/logs/analytics/summary?${qs({ ...range, service: S, time_bucket: "1h" })}`);
        expect(r.status, JSON.stringify(r.body)).toBe(200);
        expect(SummaryResponse.parse(r.body)).toEqual({
          start_time: T1,
          end_time: T1 + 3 * HOUR - 1,
          time_bucket: "1h",
          total: 8,
          by_level: { error: 3, warn: 1, info: 3, debug: 1 },
          by_service: { [S]: 8 },
          by_category: { auth: 2, data: 1, api: 3, ui: 1 },
          series: [
            { time: T1, count: 3, error: 2, warn: 0, info: 1, debug: 0 },
            { time: T1 + HOUR, count: 3, error: 0, warn: 1, info: 2, debug: 0 },
            { time: T1 + 2 * HOUR, count: 2, error: 1, warn: 0, info: 0, debug: 1 },
          ],
        });
        const two = await get(`/api/logs/analytics/summary?${qs({ ...range, service: `${S},${S2}` })}`);
        expect(two.body.total).toBe(10);
        expect(two.body.by_service).toEqual({ [S]: 8, [S2]: 2 });
        expect(two.body.by_level).toEqual({ error: 4, warn: 1, info: 4, debug: 1 });
      });

      it("summary refuses a bad time_bucket and start after end", async () => {
        expectError(
          await get(`/api/logs/analytics/summary?${qs({ ...range, time_bucket: "2h" })}`),
          400,
          "invalid_request",
        );
        expectError(
          await get(`/api/logs/analytics/summary?${qs({ start_time: T1 + 1, end_time: T1 })}`),
          400,
          "invalid_request",
        );
      });

      it("GET /api/logs/aggregate groups by time bucket and fields exactly", async () => {
        const r = await get(
          `/api/logs/aggregate?${qs({ ...range, service: S, group_by: "level", time_bucket: "1h" })}`,
        );
        expect(r.status, JSON.stringify(r.body)).toBe(200);
        AggregateResponse.parse(r.body);
        expect(r.body.buckets).toEqual([
          { time: T1, level: "error", count: 2 },
          { time: T1, level: "info", count: 1 },
          { time: T1 + HOUR, level: "info", count: 2 },
          { time: T1 + HOUR, level: "warn", count: 1 },
          { time: T1 + 2 * HOUR, level: "debug", count: 1 },
          { time: T1 + 2 * HOUR, level: "error", count: 1 },
        ]);
        const byTime = await get(`/api/logs/aggregate?${qs({ ...range, service: S, time_bucket: "15m" })}`);
        expect(byTime.body.buckets).toEqual([
          { time: T1, count: 3 },
          { time: T1 + HOUR, count: 3 },
          { time: T1 + 2 * HOUR + 45 * MIN, count: 2 },
        ]);
      });

      it("aggregate without a time bucket counts per group, null for a missing field", async () => {
        const key = (b: Record<string, unknown>) => JSON.stringify(Object.entries(b).sort());
        const canon = (rows: Record<string, unknown>[]) => rows.map(key).sort();
        const r = await get(`/api/logs/aggregate?${qs({ ...range, service: S, group_by: "category" })}`);
        expect(r.status).toBe(200);
        expect(canon(r.body.buckets)).toEqual(
          canon([
            { category: "api", count: 3 },
            { category: "auth", count: 2 },
            { category: "data", count: 1 },
            { category: "ui", count: 1 },
            { category: null, count: 1 },
          ]),
        );
        const r2 = await get(
          `/api/logs/aggregate?${qs({ ...range, service: `${S},${S2}`, group_by: "service,level" })}`,
        );
        expect(canon(r2.body.buckets)).toEqual(
          canon([
            { service: S, level: "error", count: 3 },
            { service: S, level: "warn", count: 1 },
            { service: S, level: "info", count: 3 },
            { service: S, level: "debug", count: 1 },
            { service: S2, level: "error", count: 1 },
            { service: S2, level: "info", count: 1 },
          ]),
        );
      });

      it("aggregate refuses unknown group_by fields and time buckets with the parameter's path", async () => {
        const r = await get(`/api/logs/aggregate?${qs({ group_by: "service,message" })}`);
        expectError(r, 400, "invalid_request");
        expect(paths(r)).toContain("group_by");
        const r2 = await get(`/api/logs/aggregate?${qs({ time_bucket: "7m" })}`);
        expectError(r2, 400, "invalid_request");
        expect(paths(r2)).toContain("time_bucket");
      });
    });

    describe("POST /api/logs/analytics/custom", () => {
      const F = svc("custom");
      const F2 = svc("custom2");
      const T2 = T0 + 2 * DAY;
      beforeAll(async () => {
        const e = (
          id: string,
          service: string,
          timestamp: number,
          level: Entry["level"],
          message: string,
          extra: Partial<Entry>,
        ) => ({
          ...entry({ id: rid(id), service, timestamp, level, message }),
          ...extra,
        });
        await store([
          e("f1", F, T2, "error", "Payment declined for card", { user_id: "u1", priority: 5, category: "api" }),
          e("f2", F, T2 + MIN, "error", "payment TIMEOUT upstream", { user_id: "u2", priority: 4, category: "api" }),
          e("f3", F, T2 + 2 * MIN, "warn", "Slow query on orders", { user_id: "u1", priority: 3, category: "data" }),
          e("f4", F, T2 + HOUR, "info", "User login ok", { user_id: "u3", priority: 1, category: "auth" }),
          e("f5", F, T2 + HOUR + MIN, "info", "User logout", { category: "auth" }),
          e("f6", F, T2 + 2 * HOUR, "debug", "cache hit ratio", { user_id: "u2", priority: 2 }),
          e("g1", F2, T2 + 10, "error", "payment failed", { user_id: "u9", priority: 5, category: "api" }),
        ]);
      });
      const inF = { field: "service", op: "eq", value: F };
      const custom = async (q: unknown) => {
        const r = await post("/api/logs/analytics/custom", q);
        expect(r.status, JSON.stringify(r.body)).toBe(200);
        CustomAnalyticsResponse.parse(r.body);
        return r.body.rows as Record<string, unknown>[];
      };

      it("counts per group, ordered by order_by", async () => {
        expect(
          await custom({
            filters: [inF],
            group_by: ["level"],
            metrics: [{ op: "count" }],
            order_by: [
              { field: "count", direction: "desc" },
              { field: "level", direction: "asc" },
            ],
          }),
        ).toEqual([
          { level: "error", count: 2 },
          { level: "info", count: 2 },
          { level: "debug", count: 1 },
          { level: "warn", count: 1 },
        ]);
      });

      it("computes count, count_distinct, min, max and avg", async () => {
        expect(
          await custom({
            filters: [inF],
            metrics: [
              { op: "count" },
              { op: "count", field: "priority", as: "with_priority" },
              { op: "count_distinct", field: "user_id" },
              { op: "min", field: "priority" },
              { op: "max", field: "priority" },
              { op: "avg", field: "priority" },
              { op: "min", field: "timestamp" },
              { op: "max", field: "timestamp" },
            ],
          }),
        ).toEqual([
          {
            count: 6,
            with_priority: 5,
            count_distinct_user_id: 3,
            min_priority: 1,
            max_priority: 5,
            avg_priority: 3,
            min_timestamp: T2,
            max_timestamp: T2 + 2 * HOUR,
          },
        ]);
      });

      it("applies eq, neq, in, gt, gte, lt, lte, contains and prefix filters", async () => {
        const count = async (filters: unknown[]) => (await custom({ filters, metrics: [{ op: "count" }] }))[0]!.count;
        expect(
          await count([
            { field: "service", op: "in", value: [F, F2] },
            { field: "level", op: "in", value: ["error"] },
          ]),
        ).toBe(3);
        expect(await count([inF, { field: "category", op: "neq", value: "auth" }])).toBe(4); // a missing category is "not auth"
        expect(await count([inF, { field: "category", op: "eq", value: null }])).toBe(1);
        expect(
          await count([
            inF,
            { field: "timestamp", op: "gte", value: new Date(T2 + MIN).toISOString() },
            { field: "timestamp", op: "lt", value: T2 + HOUR + MIN },
          ]),
        ).toBe(3);
        expect(await count([inF, { field: "priority", op: "gt", value: 2 }])).toBe(3);
        expect(await count([inF, { field: "priority", op: "lte", value: 2 }])).toBe(2);
        expect(await count([inF, { field: "message", op: "contains", value: "PAYMENT" }])).toBe(2);
        expect(await count([inF, { field: "message", op: "contains", value: "%" }])).toBe(0);
        expect(await count([inF, { field: "message", op: "prefix", value: "User" }])).toBe(2);
        expect(await count([inF, { field: "user_id", op: "eq", value: "u1" }])).toBe(2);
        expect(await count([inF, { field: "message", op: "eq", value: "x' OR 1=1 --" }])).toBe(0);
      });

      it("groups by field with limit, and by time bucket", async () => {
        expect(
          await custom({
            filters: [inF],
            group_by: ["user_id"],
            metrics: [{ op: "count" }],
            order_by: [
              { field: "count", direction: "desc" },
              { field: "user_id", direction: "asc" },
            ],
            limit: 2,
          }),
        ).toEqual([
          { user_id: "u1", count: 2 },
          { user_id: "u2", count: 2 },
        ]);
        expect(
          await custom({
            filters: [inF],
            group_by: ["level"],
            time_bucket: "1h",
            metrics: [{ op: "count" }],
            order_by: [{ field: "time" }, { field: "level" }],
          }),
        ).toEqual([
          { time: T2, level: "error", count: 2 },
          { time: T2, level: "warn", count: 1 },
          { time: T2 + HOUR, level: "info", count: 2 },
          { time: T2 + 2 * HOUR, level: "debug", count: 1 },
        ]);
      });

      it("refuses fields, ops and metrics outside the allow-lists with 400 and the path", async () => {
        const cases: [unknown, string][] = [
          [{ filters: [{ field: "password", op: "eq", value: "x" }] }, "filters.0.field"],
          [{ filters: [inF, { field: "level", op: "like", value: "x" }] }, "filters.1.op"],
          [{ filters: [{ field: "priority", op: "eq", value: "high" }] }, "filters.0.value"],
          [{ filters: [{ field: "level", op: "in", value: "error" }] }, "filters.0.value"],
          [{ filters: [{ field: "priority", op: "contains", value: "1" }] }, "filters.0.op"],
          [{ metrics: [{ op: "sum", field: "priority" }] }, "metrics.0.op"],
          [{ metrics: [{ op: "avg", field: "level" }] }, "metrics.0.field"],
          [{ metrics: [{ op: "count", field: "1; DROP TABLE logs" }] }, "metrics.0.field"],
          [{ group_by: ["message"] }, "group_by.0"],
          [{ order_by: [{ field: "nope" }] }, "order_by.0.field"],
          [{ time_bucket: "2h" }, "time_bucket"],
          [{ limit: 0 }, "limit"],
          [{ limit: 1001 }, "limit"],
        ];
        for (const [q, path] of cases) {
          const r = await post("/api/logs/analytics/custom", q);
          expectError(r, 400, "invalid_request");
          expect(paths(r), JSON.stringify(q)).toContain(path);
        }
        expectError(await post("/api/logs/analytics/custom", { sql: "SELECT * FROM logs" }), 400, "invalid_request");
        expectError(await call("POST", "/api/logs/analytics/custom", { body: "{" }), 400, "invalid_json");
        expectError(
          await call("POST", "/api/logs/analytics/custom", { body: "{}", contentType: "text/plain" }),
          415,
          "unsupported_media_type",
        );
      });
    });

    describe("patterns", () => {
      const G = svc("pat");
      const G2 = svc("pat2");
      const T3 = T0 + 3 * DAY;
      const T4 = T0 + 4 * DAY;
      const loginText = `ct${RUN} user <*> logged in from <*>`;
      const logoutText = `ct${RUN} user <*> logged out from <*>`;
      const dbText = `ct${RUN} database connection to <*> failed after <*> retries`;
      const cacheText = `ct${RUN} cache miss for key <*>`;
      let cacheId = "";

      it("learn creates patterns, deriving a stable id when none is given", async () => {
        const r = await post("/api/logs/patterns/learn", {
          patterns: [
            {
              id: rid("login"),
              pattern: loginText,
              name: "login",
              type: "info",
              severity: "low",
              category: "auth",
              frequency: 10,
              first_seen: T3,
              last_seen: T3 + 1000,
              services: [G],
            },
            {
              id: rid("dbfail"),
              pattern: dbText,
              type: "error",
              severity: "high",
              frequency: 3,
              first_seen: T3,
              last_seen: T3,
              services: [G],
            },
            { pattern: cacheText, type: "warning", severity: "medium" },
          ],
        });
        expect(r.status, JSON.stringify(r.body)).toBe(200);
        LearnPatternsResponse.parse(r.body);
        expect(r.body.created).toBe(3);
        expect(r.body.updated).toBe(0);
        expect(r.body.patterns[0]).toEqual({
          id: rid("login"),
          pattern: loginText,
          name: "login",
          type: "info",
          severity: "low",
          category: "auth",
          frequency: 10,
          first_seen: T3,
          last_seen: T3 + 1000,
          services: [G],
        });
        cacheId = r.body.patterns[2].id;
        expect(cacheId).toMatch(ID_RE);
        expect(r.body.patterns[2]).toMatchObject({
          pattern: cacheText,
          type: "warning",
          severity: "medium",
          frequency: 0,
          services: [],
        });
      });

      it("learn upserts by id: new labels win, counts never go down, seen times widen, services merge", async () => {
        const r = await post("/api/logs/patterns/learn", {
          patterns: [
            {
              id: rid("login"),
              pattern: loginText,
              type: "info",
              severity: "medium",
              frequency: 4,
              first_seen: T3 - 5000,
              last_seen: T3 + 500,
              services: [G2],
            },
            { pattern: cacheText, type: "warning", severity: "high" },
            { id: rid("logout"), pattern: logoutText, type: "info", severity: "low", services: [G] },
          ],
        });
        expect(r.status, JSON.stringify(r.body)).toBe(200);
        expect(r.body.created).toBe(1);
        expect(r.body.updated).toBe(2);
        expect(r.body.patterns[0]).toEqual({
          id: rid("login"),
          pattern: loginText,
          name: "login",
          type: "info",
          severity: "medium",
          category: "auth",
          frequency: 10,
          first_seen: T3 - 5000,
          last_seen: T3 + 1000,
          services: [G, G2].sort(),
        });
        expect(r.body.patterns[1]).toMatchObject({ id: cacheId, severity: "high" });
      });

      it("learn refuses bad patterns with paths", async () => {
        const r = await post("/api/logs/patterns/learn", {
          patterns: [
            { pattern: "x", type: "fatal", severity: "low" },
            { pattern: "", type: "info", severity: "low" },
          ],
        });
        expectError(r, 400, "invalid_request");
        expect(paths(r)).toEqual(expect.arrayContaining(["patterns.0.type", "patterns.1.pattern"]));
        expectError(await post("/api/logs/patterns/learn", { patterns: [] }), 400, "invalid_request");
        expectError(
          await post("/api/logs/patterns/learn", {
            patterns: [{ id: "bad id!", pattern: "x", type: "info", severity: "low" }],
          }),
          400,
          "invalid_request",
        );
      });

      it("GET /api/logs/analytics/patterns counts frequencies in range with zero-filled trends", async () => {
        let n = 0;
        const e = (service: string, timestamp: number, pattern_id: string, level: Entry["level"] = "info") =>
          entry({ id: rid(`pl-${n++}`), service, timestamp, level, pattern_id, message: `ct${RUN} event ${n}` });
        await store([
          e(G, T4 + 10 * MIN, rid("login")),
          e(G, T4 + 20 * MIN, rid("login")),
          e(G, T4 + HOUR + 5 * MIN, rid("login")),
          e(G2, T4 + 30 * MIN, rid("login")),
          e(G, T4 + 2 * HOUR + 1, rid("dbfail"), "error"),
          e(G, T4 + 2 * HOUR + 2, rid("dbfail"), "error"),
          e(G, T4 + 5 * MIN, rid("unlearned"), "warn"),
          e(G, T4 + 6 * MIN, rid("unlearned"), "warn"),
          e(G, T4 + 3 * HOUR, rid("login")), // after the range
        ]);
        const q = { service: G, start_time: T4, end_time: T4 + 3 * HOUR - 1, time_bucket: "1h" };
        const r = await get(`/api/logs/analytics/patterns?${qs({ ...q, min_frequency: 2 })}`);
        expect(r.status, JSON.stringify(r.body)).toBe(200);
        PatternsAnalyticsResponse.parse(r.body);
        const ps = r.body.patterns;
        expect(ps.map((p: { id: string }) => p.id)).toEqual([rid("login"), rid("dbfail"), rid("unlearned")]);
        expect(ps[0]).toMatchObject({
          id: rid("login"),
          pattern: loginText,
          name: "login",
          type: "info",
          severity: "medium",
          frequency: 3,
          // Filtered by service, a pattern shows only those services, and first/last seen in them
          // (the learned row also names G2, so its all-time first_seen doesn't speak for G).
          first_seen: T4 + 10 * MIN,
          services: [G],
          trend: [
            { time: T4, count: 2 },
            { time: T4 + HOUR, count: 1 },
            { time: T4 + 2 * HOUR, count: 0 },
          ],
        });
        expect(ps[0].last_seen).toBeGreaterThanOrEqual(T4 + HOUR + 5 * MIN);
        expect(ps[1]).toMatchObject({
          frequency: 2,
          type: "error",
          trend: [
            { time: T4, count: 0 },
            { time: T4 + HOUR, count: 0 },
            { time: T4 + 2 * HOUR, count: 2 },
          ],
        });
        expect(ps[2]).toMatchObject({
          frequency: 2,
          trend: [
            { time: T4, count: 2 },
            { time: T4 + HOUR, count: 0 },
            { time: T4 + 2 * HOUR, count: 0 },
          ],
        });

        const top = await get(`/api/logs/analytics/patterns?${qs({ ...q, min_frequency: 3 })}`);
        expect(top.body.patterns.map((p: { id: string }) => p.id)).toEqual([rid("login")]);
        const one = await get(`/api/logs/analytics/patterns?${qs({ ...q, limit: 1 })}`);
        expect(one.body.patterns.map((p: { id: string }) => p.id)).toEqual([rid("login")]);
        for (const bad of [{ min_frequency: "-1" }, { limit: "0" }, { service: "bad name!" }, { time_bucket: "3m" }]) {
          expectError(await get(`/api/logs/analytics/patterns?${qs({ ...q, ...bad })}`), 400, "invalid_request");
        }
      });

      it("GET /api/logs/patterns/similar ranks learned patterns by similarity", async () => {
        const mine = new Set([rid("login"), rid("logout"), rid("dbfail"), cacheId]);
        const r = await get(
          `/api/logs/patterns/similar?${qs({ message: `ct${RUN} user 42 logged in from 10.0.0.1`, limit: 1000, min_similarity: 0 })}`,
        );
        expect(r.status, JSON.stringify(r.body)).toBe(200);
        SimilarPatternsResponse.parse(r.body);
        const ours = r.body.patterns.filter((p: { id: string }) => mine.has(p.id));
        expect(ours[0]).toMatchObject({ id: rid("login"), pattern: loginText, similarity: 1 });
        expect(ours[1].id).toBe(rid("logout"));
        expect(ours[1].similarity).toBeGreaterThan(0.5);
        expect(ours[1].similarity).toBeLessThan(1);
        const sims: number[] = r.body.patterns.map((p: { similarity: number }) => p.similarity);
        expect([...sims].sort((a, b) => b - a)).toEqual(sims);

        const byId = await get(`/api/logs/patterns/similar?${qs({ pattern_id: rid("login"), limit: 1000 })}`);
        expect(byId.status).toBe(200);
        const ids = byId.body.patterns.map((p: { id: string }) => p.id);
        expect(ids).not.toContain(rid("login"));
        expect(ids).toContain(rid("logout"));

        const few = await get(
          `/api/logs/patterns/similar?${qs({ message: `ct${RUN} user 42 logged in from 10.0.0.1`, limit: 1 })}`,
        );
        expect(few.body.patterns.length).toBe(1);
        expect(few.body.patterns[0].similarity).toBe(1);

        expectError(
          await get(`/api/logs/patterns/similar?${qs({ pattern_id: rid("no-such-pattern") })}`),
          404,
          "not_found",
        );
        expectError(
          await get(`/api/logs/patterns/similar?${qs({ message: "x", pattern_id: rid("login") })}`),
          400,
          "invalid_request",
        );
        expectError(await get(`/api/logs/patterns/similar`), 400, "invalid_request");
        expectError(await get(`/api/logs/patterns/similar?${qs({ message: "x", limit: 0 })}`), 400, "invalid_request");
      });

      it("POST /api/logs/analyze/patterns flags new and spiking patterns", async () => {
        const H = svc("analyze");
        const E = T0 + 5 * DAY; // end of the analysed range: [E - 12h, E), 12 buckets of 1h
        const start = E - 12 * HOUR;
        let n = 0;
        const logs: Entry[] = [];
        const add = (pattern: string, timestamp: number) =>
          logs.push(entry({ id: rid(`az-${n++}`), service: H, timestamp, pattern_id: rid(pattern) }));
        for (let b = 0; b < 12; b++) {
          add("steady", start + b * HOUR + MIN);
          add("steady", start + b * HOUR + 2 * MIN);
        }
        add("steady", E); // the end is exclusive
        for (let i = 0; i < 8; i++) add("burst", E - 30 * MIN + i * 1000);
        for (let b = 0; b < 11; b++) add("spike", start + b * HOUR + 30 * MIN);
        for (let i = 0; i < 6; i++) add("spike", E - 10 * MIN + i);
        add("old", E - 2 * DAY);
        for (let i = 0; i < 6; i++) add("old", E - 2 * HOUR + i);
        for (let i = 0; i < 5; i++) add("fresh", E - 2 * HOUR - 30 * MIN + i);
        for (let i = 0; i < 3; i++) add("rare", E - HOUR + i);
        await store(logs);

        const r = await post("/api/logs/analyze/patterns", {
          time_range: "12h",
          services: [H],
          min_frequency: 5,
          end_time: E,
        });
        expect(r.status, JSON.stringify(r.body)).toBe(200);
        AnalyzePatternsResponse.parse(r.body);
        const got = r.body.patterns.map((p: { id: string; frequency: number; new: boolean; spiking: boolean }) => [
          p.id,
          p.frequency,
          p.new,
          p.spiking,
        ]);
        expect(got).toEqual([
          [rid("steady"), 24, false, false],
          [rid("spike"), 17, false, true],
          [rid("burst"), 8, true, true],
          [rid("old"), 6, false, false],
          [rid("fresh"), 5, true, false],
        ]);
        const burst = r.body.patterns[2];
        expect(burst.trend).toEqual(
          Array.from({ length: 12 }, (_, b) => ({ time: start + b * HOUR, count: b === 11 ? 8 : 0 })),
        );
        expect(r.body.patterns[0].trend.map((t: { count: number }) => t.count)).toEqual(Array(12).fill(2));
        expect(r.body.patterns[3].first_seen).toBe(E - 2 * DAY);

        const all = await post("/api/logs/analyze/patterns", {
          time_range: "12h",
          services: [H],
          min_frequency: 0,
          end_time: E,
        });
        expect(all.body.patterns.map((p: { id: string }) => p.id)).toContain(rid("rare"));

        for (const bad of [
          { time_range: "2x" },
          { time_range: "12h", min_frequency: -1 },
          { services: ["bad name!"] },
          { time_range: "12h", extra: 1 },
        ]) {
          expectError(await post("/api/logs/analyze/patterns", bad), 400, "invalid_request");
        }
        const p = await post("/api/logs/analyze/patterns", { time_range: "2x" });
        expect(paths(p)).toContain("time_range");
      });
    });
  });
}
