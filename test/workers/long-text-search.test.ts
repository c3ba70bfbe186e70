// Text search never depends on SQLite LIKE's 50-byte pattern limit (issue 16, item 2): a 1024-byte
// `q` on the data service's search and a 1024-byte `contains` in custom analytics answer 200 with
// exact, literal (wildcard-free), ASCII-case-insensitive matches.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, KEYS, uniqueService } from "./helpers.js";

const API_KEY = "test-data-service-key";

function dataService(path: string, init: RequestInit = {}): Promise<Response> {
  const binding = (env as unknown as { DATA_SERVICE: Fetcher }).DATA_SERVICE;
  const headers = new Headers(init.headers);
  headers.set("authorization", `Bearer ${API_KEY}`);
  if (init.body) headers.set("content-type", "application/json");
  return binding.fetch(new Request(`http://data-service.test${path}`, { ...init, headers }));
}

const long = "x".repeat(1002); // with the 22-byte prefixes below: needles of 1024 bytes
async function store(service: string): Promise<Record<string, string>> {
  const now = Date.now();
  const messages: Record<string, string> = {
    exact: `needle-%_\\-prefix-abc:${long} tail`,
    upper: `NEEDLE-%_\\-PREFIX-ABC:${long.toUpperCase()}`,
    wildcardLookalike: `needle-ab\\-prefix-abc:${long}`, // % and _ must not act as wildcards
    short: `needle-%_\\-prefix-abc:${"x".repeat(1001)}`, // one byte short of the needle
  };
  const logs = Object.entries(messages).map(([id, message], i) => ({
    id: `${service}-${id}`,
    timestamp: now - i,
    received_at: now,
    level: "info",
    message,
    service,
    domain: "default",
    pattern_id: null,
  }));
  const res = await dataService("/api/logs/batch", { method: "POST", body: JSON.stringify({ logs }) });
  expect(res.status).toBe(200);
  return messages;
}

describe("text search longer than LIKE's pattern limit", () => {
  it("data service search: a 1024-byte q matches literally and case-insensitively", async () => {
    const service = uniqueService("longq");
    await store(service);
    const q = `needle-%_\\-prefix-abc:${long}`;
    expect(new TextEncoder().encode(q).length).toBe(1024);
    const res = await dataService(`/api/logs/search?service=${service}&q=${encodeURIComponent(q)}&order=asc`);
    expect(res.status).toBe(200);
    const ids = ((await res.json()) as { logs: { id: string }[] }).logs.map((l) => l.id).sort();
    expect(ids).toEqual([`${service}-exact`, `${service}-upper`].sort());
  });

  it("custom analytics: contains and prefix with a 1024-byte value answer 200 with exact counts", async () => {
    const service = uniqueService("longc");
    await store(service);
    const value = `needle-%_\\-prefix-abc:${long}`;
    const query = (op: "contains" | "prefix", v: string) =>
      call("/api/logs/analytics/custom", {
        method: "POST",
        key: KEYS.read,
        json: {
          filters: [
            { field: "service", op: "eq", value: service },
            { field: "message", op, value: v },
          ],
          metrics: [{ op: "count", as: "n" }],
        },
      });
    const contains = await query("contains", value);
    expect(contains.status).toBe(200);
    expect(((await contains.json()) as { rows: { n: number }[] }).rows).toEqual([{ n: 2 }]);
    const mid = await query("contains", `prefix-abc:${long} TAIL`);
    expect(((await mid.json()) as { rows: { n: number }[] }).rows).toEqual([{ n: 1 }]);
    // prefix: only where the value starts the message
    const prefix = await query("prefix", `PREFIX-abc:${long}`);
    expect(prefix.status).toBe(200);
    expect(((await prefix.json()) as { rows: { n: number }[] }).rows).toEqual([{ n: 0 }]);
    const prefix2 = await query("prefix", value);
    expect(((await prefix2.json()) as { rows: { n: number }[] }).rows).toEqual([{ n: 2 }]);
  });
});
