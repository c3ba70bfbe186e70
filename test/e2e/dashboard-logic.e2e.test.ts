// The dashboard's pure modules (src/dashboard/*.js, plain browser ES modules without DOM at import
// time) run in Node here: how the services panel filters and sorts a fleet, how the text box
// becomes searches, how several cursored searches merge into one page stream, and what the URL
// keeps. The browser test (dashboard.e2e.test.ts) shows the same behaviour end to end.
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { ROOT } from "./harness.js";

// Imported by URL: to tsc these files are text (src/dashboard/modules.d.ts), since the Worker
// bundles them as strings.
const load = (name: string): Promise<any> => import(pathToFileURL(join(ROOT, "src/dashboard", name)).href);
let table: any;
let search: any;
let viewState: any;

beforeAll(async () => {
  [table, search, viewState] = await Promise.all([
    load("services-table.js"),
    load("history-search.js"),
    load("view-state.js"),
  ]);
});

const counts = (total: number, error: number) => ({ error, warn: 0, info: total - error, debug: 0, total });

/** A /api/services row: `h` logs in the hour with `he` errors, `f` in 5 minutes with `fe` errors. */
function svc(service: string, h: number, he: number, f: number, fe: number, domain = "default") {
  return { service, domain, counts: { "1m": counts(0, 0), "5m": counts(f, fe), "1h": counts(h, he) } };
}

describe("services panel", () => {
  const fleet = () =>
    table
      .groupServices([
        svc("api", 500, 5, 100, 1),
        svc("billing", 40, 30, 30, 25), // breached: 25/30 over 20 events
        svc("auth", 10, 10, 3, 3), // 100% but below min_events: not breached
        svc("api", 100, 0, 0, 0, "eu.example"), // a second domain of api: summed
        svc("zeta", 0, 0, 0, 0),
      ])
      .map((g: any) => table.withMetrics(g, 0.05, 20));

  it("sums a service over its domains and flags a breach only above min_events", () => {
    const api = fleet().find((s: any) => s.service === "api");
    expect(api.domains).toEqual(["default", "eu.example"]);
    expect([api.volume1h, api.errors1h, api.total5m]).toEqual([600, 5, 100]);
    expect(
      fleet()
        .filter((s: any) => s.breached)
        .map((s: any) => s.service),
    ).toEqual(["billing"]);
  });

  it("sorts worst first by default when anything is breached, by name otherwise", () => {
    const list = fleet();
    expect(table.effectiveSort("", list)).toBe("rate");
    expect(table.sortServices(list, "rate").map((s: any) => s.service)).toEqual(["billing", "auth", "api", "zeta"]);
    const calm = list.map((s: any) => ({ ...s, breached: false }));
    expect(table.effectiveSort("", calm)).toBe("name");
    expect(table.effectiveSort("volume", list)).toBe("volume");
    expect(table.sortServices(list, "volume").map((s: any) => s.service)).toEqual(["api", "billing", "auth", "zeta"]);
    expect(table.sortServices(list, "errors").map((s: any) => s.service)).toEqual(["billing", "auth", "api", "zeta"]);
    expect(table.sortServices(list, "name").map((s: any) => s.service)).toEqual(["api", "auth", "billing", "zeta"]);
  });

  it("filters by a substring of the name or a domain, case-insensitively", () => {
    expect(table.filterServices(fleet(), "BILL").map((s: any) => s.service)).toEqual(["billing"]);
    expect(table.filterServices(fleet(), "eu.ex").map((s: any) => s.service)).toEqual(["api"]);
    expect(table.filterServices(fleet(), "  ")).toHaveLength(4); // api, billing, auth, zeta
    expect(table.filterServices(fleet(), "nothing")).toEqual([]);
  });

  it("renders only the rows in view plus the overscan, at any fleet size", () => {
    expect(table.visibleRange(0, 600, 10_000, 30, 8)).toEqual({ start: 0, end: 29 });
    expect(table.visibleRange(30_000, 600, 10_000, 30, 8)).toEqual({ start: 992, end: 1029 });
    expect(table.visibleRange(299_700, 600, 10_000, 30, 8)).toEqual({ start: 9982, end: 10_000 });
    expect(table.visibleRange(0, 600, 0, 30, 8)).toEqual({ start: 0, end: 0 });
  });
});

describe("history search text", () => {
  it("turns an id-like token into a message search plus one exact search per id field", () => {
    expect(search.planSearches("req-42").map((p: any) => [p.field, p.params, p.optional])).toEqual([
      ["message", { q: "req-42" }, false],
      ["request_id", { request_id: "req-42" }, true],
      ["user_id", { user_id: "req-42" }, true],
      ["session_id", { session_id: "req-42" }, true],
      ["trace_id", { trace_id: "req-42" }, true],
    ]);
  });

  it("searches only the named field for field:value, and only messages for plain words", () => {
    expect(search.planSearches("trace_id:4bf92f35")).toEqual([
      { field: "trace_id", params: { trace_id: "4bf92f35" }, optional: false },
    ]);
    expect(search.planSearches("db timeout")).toEqual([
      { field: "message", params: { q: "db timeout" }, optional: false },
    ]);
    expect(search.planSearches("timeout")).toHaveLength(1); // a word without digits or - _ is not an id
    expect(search.planSearches("  ")).toEqual([{ field: "", params: {}, optional: false }]);
  });

  it("matches the same way in the browser for the live tail", () => {
    const log = { message: "charge failed", request_id: "req-42", user_id: "u-1" };
    expect(search.matchFields(log, "req-42")).toEqual(["request_id"]);
    expect(search.matchFields(log, "user_id:u-1")).toEqual(["user_id"]);
    expect(search.matchFields(log, "user_id:u-2")).toEqual([]);
    expect(search.matchFields(log, "charge")).toEqual(["message"]);
    expect(search.matchFields(log, "refund")).toEqual([]);
  });
});

describe("merged search pages", () => {
  type Log = { id: string; timestamp: number };
  const logs = (ids: [string, number][]): Log[] => ids.map(([id, timestamp]) => ({ id, timestamp }));

  /** A fake search API: each field's results in pages of `size`, cursor = next offset. */
  function api(byField: Record<string, Log[]>, size: number, refused: string[] = []) {
    const calls: string[] = [];
    const fetchPage = async (params: Record<string, string>, cursor: string | null) => {
      const field = Object.keys(params)[0] ?? "";
      calls.push(`${field}@${cursor ?? 0}`);
      if (refused.includes(field))
        throw new search.SearchError(400, { error: { code: "invalid_request", message: `${field}: unknown` } });
      const all = byField[field] ?? [];
      const from = Number(cursor ?? 0);
      const next = from + size < all.length ? String(from + size) : null;
      return { logs: all.slice(from, from + size), next_cursor: next };
    };
    return { fetchPage, calls };
  }

  it("merges newest first across cursors, once per entry, with every field that matched", async () => {
    const { fetchPage } = api(
      {
        q: logs([
          ["m1", 900],
          ["both", 500],
          ["m2", 100],
        ]),
        request_id: logs([
          ["r1", 700],
          ["both", 500],
          ["r2", 300],
        ]),
      },
      1,
    );
    const plans = [
      { field: "message", params: { q: "x" }, optional: false },
      { field: "request_id", params: { request_id: "x" }, optional: false },
    ];
    const merged = new search.MergedSearch(plans, fetchPage, { pageSize: 3 });
    const first = await merged.next();
    expect(first.rows.map((r: any) => [r.log.id, r.matched])).toEqual([
      ["m1", ["message"]],
      ["r1", ["request_id"]],
      ["both", ["message"]],
    ]);
    expect(merged.done).toBe(false);
    const second = await merged.next();
    expect(second.rows.map((r: any) => r.log.id)).toEqual(["r2", "m2"]);
    // "both" came through request_id too: the row already shown gets the field added
    expect(second.updated.map((r: any) => [r.log.id, r.matched])).toEqual([["both", ["message", "request_id"]]]);
    expect(merged.done).toBe(true);
    expect((await merged.next()).rows).toEqual([]);
  });

  it("skips an optional id search the server refuses with 400, and reports it", async () => {
    const { fetchPage } = api({ q: logs([["m1", 1]]) }, 10, ["trace_id"]);
    const merged = new search.MergedSearch(search.planSearches("abc-123"), fetchPage, { pageSize: 10 });
    const page = await merged.next();
    expect(page.rows.map((r: any) => r.log.id)).toEqual(["m1"]);
    expect(merged.skipped).toEqual([{ field: "trace_id", message: "trace_id: unknown" }]);
    expect(merged.done).toBe(true);
  });

  it("fails an explicit field:value search the server refuses", async () => {
    const { fetchPage } = api({}, 10, ["trace_id"]);
    const merged = new search.MergedSearch(search.planSearches("trace_id:abc"), fetchPage, { pageSize: 10 });
    await expect(merged.next()).rejects.toMatchObject({ status: 400, code: "invalid_request" });
  });

  it("stops at maxRows and says so", async () => {
    const many = Array.from({ length: 50 }, (_, i): [string, number] => [`id${i}`, 1000 - i]);
    const { fetchPage } = api({ q: logs(many) }, 7);
    const merged = new search.MergedSearch([{ field: "message", params: { q: "x" }, optional: false }], fetchPage, {
      pageSize: 100,
      maxRows: 20,
    });
    const page = await merged.next();
    expect(page.rows).toHaveLength(20);
    expect(merged.capped).toBe(true);
    expect(merged.done).toBe(true);
  });
});

describe("view in the URL", () => {
  it("round-trips the view and leaves out defaults", () => {
    const view = {
      ...viewState.DEFAULT_VIEW,
      service: "billing",
      svc: "bill",
      sort: "rate",
      tab: "search",
      logService: "api",
      levels: ["error", "warn"],
      q: "request_id:req-1",
      pattern: "p_12",
      range: "custom",
      from: 1_700_000_000_000,
      to: 1_700_000_600_000,
    };
    const qs = viewState.writeView(view);
    expect(qs).toBe(
      "?service=billing&svc=bill&sort=rate&tab=search&log_service=api&level=error%2Cwarn&q=request_id%3Areq-1&pattern=p_12&range=custom&from=1700000000000&to=1700000600000",
    );
    expect(viewState.readView(qs)).toEqual(view);
    expect(viewState.writeView(viewState.DEFAULT_VIEW)).toBe("");
  });

  it("drops a key or token pasted into the URL, and falls back on invalid values", () => {
    const view = viewState.readView("?token=dev-read-key&key=x&service=../etc&level=bogus&range=9y&sort=evil");
    expect(view).toEqual(viewState.DEFAULT_VIEW);
    expect(viewState.writeView(view)).toBe("");
    // a custom range needs both ends in order
    expect(viewState.readView("?range=custom&from=20&to=10").range).toBe("1h");
  });

  it("turns presets and custom ranges into start/end", () => {
    const now = 10 * 86_400_000;
    expect(viewState.rangeBounds({ ...viewState.DEFAULT_VIEW, range: "15m" }, now)).toEqual({
      start: now - 900_000,
      end: now,
    });
    expect(viewState.rangeBounds({ ...viewState.DEFAULT_VIEW, range: "custom", from: 5, to: 9 }, now)).toEqual({
      start: 5,
      end: 9,
    });
  });
});
