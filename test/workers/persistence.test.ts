// Full phase against the reference data service (auxiliary worker on D1): flushed logs are in
// D1 exactly once, and once the aggregator trims them, search and get-by-id read them there.
import {
  createExecutionContext,
  createScheduledController,
  runInDurableObject,
  waitOnExecutionContext,
} from "cloudflare:test";
import worker from "../../src/index.js";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, getJson, ingest, KEYS, uniqueService } from "./helpers.js";

const d1 = (env as unknown as { DB: D1Database }).DB;

describe("flush to the reference data service", () => {
  it("stores 1,000 ingested logs in D1 exactly once", async () => {
    const service = uniqueService("d1flush");
    const ids: string[] = [];
    for (let b = 0; b < 2; b++) {
      const logs = Array.from({ length: 500 }, (_, i) => ({
        id: `d1-${b * 500 + i}`,
        level: "info",
        message: `m ${i}`,
        service,
      }));
      expect((await ingest(logs)).body.accepted).toBe(500);
      ids.push(...logs.map((l) => l.id));
    }
    const res = await call(`/api/admin/flush?service=${service}`, { method: "POST", key: KEYS.admin });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ pending: 0, dead_lettered: 0, last_error: null });
    const rows = await d1
      .prepare("SELECT id, count(*) AS n FROM logs WHERE service = ? GROUP BY id")
      .bind(service)
      .all<{ id: string; n: number }>();
    expect(rows.results.map((r) => r.id).sort()).toEqual(ids.sort());
    expect(rows.results.every((r) => r.n === 1)).toBe(true);
  });

  it("finds logs the aggregator trimmed through the data service, merged with hot ones", async () => {
    const service = uniqueService("d1trim");
    const old = Date.now() - 3 * 86_400_000;
    const oldLogs = Array.from({ length: 12 }, (_, i) => ({
      id: `d1old-${i}`,
      level: "warn",
      message: `old ${i}`,
      service,
      timestamp: old + i,
    }));
    await ingest(oldLogs);
    await call(`/api/admin/flush?service=${service}`, { method: "POST", key: KEYS.admin });
    const hot = await runInDurableObject(
      env.LOG_AGGREGATOR.getByName(`default/${service}`),
      (_, s) => s.storage.sql.exec<{ n: number }>("SELECT coalesce(sum(n), 0) AS n FROM segments").one().n,
    );
    expect(hot).toBe(0);
    await ingest([{ id: "d1new-1", level: "warn", message: "new", service }]);

    expect((await getJson(`/api/logs/d1old-5`)).body).toMatchObject({ id: "d1old-5", message: "old 5", service });
    const all = await getJson<{ logs: { id: string }[] }>(`/api/logs/search?service=${service}&limit=100`);
    expect(all.body.logs.map((l) => l.id)).toEqual(["d1new-1", ...oldLogs.map((l) => l.id).reverse()]);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: { logs: { id: string }[]; next_cursor: string | null } } = await getJson(
        `/api/logs/search?service=${service}&limit=5${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
      );
      seen.push(...page.body.logs.map((l) => l.id));
      cursor = page.body.next_cursor;
    } while (cursor);
    expect(seen).toEqual(all.body.logs.map((l) => l.id));
  });

  it("applies retention to the aggregators and the data service, counting each log once", async () => {
    const service = uniqueService("d1clean");
    const old = Date.now() - 10 * 86_400_000;
    await ingest(
      Array.from({ length: 6 }, (_, i) => ({
        id: `cl-${i}`,
        level: "info",
        message: "x",
        service,
        timestamp: old + i,
      })),
    );
    await call(`/api/admin/flush?service=${service}`, { method: "POST", key: KEYS.admin });
    await ingest([{ id: "cl-unflushed", level: "info", message: "x", service, timestamp: old }]);
    await ingest([{ id: "cl-recent", level: "info", message: "x", service }]);
    const res = await call(`/api/logs/cleanup?older_than=7d&service=${service}`, { method: "DELETE", key: KEYS.admin });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ deleted: 7 });
    const left = await getJson<{ logs: { id: string }[] }>(`/api/logs/search?service=${service}`);
    expect(left.body.logs.map((l) => l.id)).toEqual(["cl-recent"]);
    expect((await call(`/api/logs/cleanup?older_than=7d`, { method: "DELETE", key: KEYS.read })).status).toBe(403);
  });

  it("runs retention from the cron trigger with RETENTION_DAYS", async () => {
    const service = uniqueService("cron");
    await ingest([
      { id: "cron-old", level: "info", message: "x", service, timestamp: Date.now() - 40 * 86_400_000 },
      { id: "cron-new", level: "info", message: "x", service },
    ]);
    const ctx = createExecutionContext();
    await worker.scheduled!(createScheduledController({ cron: "17 3 * * *", scheduledTime: Date.now() }), env, ctx);
    await waitOnExecutionContext(ctx);
    const left = await getJson<{ logs: { id: string }[] }>(`/api/logs/search?service=${service}`);
    expect(left.body.logs.map((l) => l.id)).toEqual(["cron-new"]);
  });

  it("reports the data service as reachable in /health", async () => {
    const h = await getJson("/health");
    expect(h.body).toMatchObject({ mode: "data-service", data_service: { configured: true, reachable: true } });
  });
});

describe("historical analytics through the logger", () => {
  it("aggregates flushed logs by service and level, narrowed to the key's services", async () => {
    const service = uniqueService("agg");
    const t0 = Date.now() - 3_600_000;
    await ingest([
      { level: "error", message: "a", service, timestamp: t0 },
      { level: "error", message: "b", service, timestamp: t0 + 1 },
      { level: "info", message: "c", service, timestamp: t0 + 2 },
      { level: "info", message: "api row", service: "api", timestamp: t0 },
    ]);
    await call(`/api/admin/flush`, { method: "POST", key: KEYS.admin });
    const r = await getJson<{ buckets: { service: string; level: string; count: number }[] }>(
      `/api/logs/aggregate?group_by=service,level&service=${service}&start_time=${t0 - 1}&end_time=${t0 + 10}`,
    );
    expect(r.status).toBe(200);
    expect(r.body.buckets.map((b) => [b.service, b.level, b.count]).sort()).toEqual([
      [service, "error", 2],
      [service, "info", 1],
    ]);
    const limited = await getJson<{ buckets: { service: string }[] }>(
      `/api/logs/aggregate?group_by=service&start_time=${t0 - 1}&end_time=${t0 + 10}`,
      KEYS.apiOnly,
    );
    expect(limited.status).toBe(200);
    expect(new Set(limited.body.buckets.map((b) => b.service))).toEqual(new Set(["api"]));
    expect((await getJson(`/api/logs/aggregate?service=${service}`, KEYS.apiOnly)).status).toBe(403);
    const custom = await call("/api/logs/analytics/custom", {
      method: "POST",
      key: KEYS.apiOnly,
      json: {
        filters: [
          { field: "timestamp", op: "gte", value: t0 - 1 },
          { field: "timestamp", op: "lte", value: t0 + 10 },
        ],
        group_by: ["service"],
        metrics: [{ op: "count" }],
      },
    });
    expect(custom.status).toBe(200);
    const rows = ((await custom.json()) as { rows: { service: string }[] }).rows;
    expect(rows.map((r) => r.service)).toEqual(["api"]);
    const bad = await call("/api/logs/analytics/custom", {
      method: "POST",
      key: KEYS.read,
      json: { metrics: [{ op: "drop_table", field: "x" }] },
    });
    expect(bad.status).toBe(400);
  });
});
