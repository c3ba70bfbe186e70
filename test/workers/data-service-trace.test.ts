// The reference data service keeps trace_id, span_id and severity (migration 0002) and finds
// logs by trace id.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { searchLogs } from "../../data-service/src/logs.js";

const API_KEY = "test-data-service-key";

function dataService(): Fetcher {
  return (env as unknown as { DATA_SERVICE: Fetcher }).DATA_SERVICE;
}

describe("data service: trace ids and severity", () => {
  it("stores trace_id, span_id and severity, returns them by id and finds the entry by trace_id", async () => {
    const now = Date.now();
    const entry = {
      id: `trace-${now}`,
      timestamp: now,
      received_at: now,
      level: "warn",
      message: "slow",
      service: "trace-svc",
      domain: "default",
      trace_id: "4bf92f3577b34da6a3ce929d0e0e4736",
      span_id: "00f067aa0ba902b7",
      severity: "WARNING",
    };
    const stored = await dataService().fetch("http://data-service.test/api/logs/batch", {
      method: "POST",
      headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ logs: [entry] }),
    });
    expect(await stored.json()).toEqual({ stored: 1, duplicates: 0 });
    const got = await dataService().fetch(`http://data-service.test/api/logs/${entry.id}`, {
      headers: { authorization: `Bearer ${API_KEY}` },
    });
    expect(await got.json()).toMatchObject(entry);
    const db = (env as unknown as { DB: D1Database }).DB;
    const rows = await searchLogs(db, { trace_id: entry.trace_id }, "desc", 10);
    expect(rows.map((r) => r.id)).toEqual([entry.id]);
  });
});
