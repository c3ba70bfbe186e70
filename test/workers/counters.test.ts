// Live counters, stats and error-rate: exact values across windows, 200/503 with min_events,
// and the same numbers after the Durable Object restarts (memory gone, SQLite intact).
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { getJson, ingest, restartObject, uniqueService } from "./helpers.js";

type Windows = Record<
  "1m" | "5m" | "15m" | "1h" | "24h",
  { error: number; warn: number; info: number; debug: number; total: number }
>;

async function seed(service: string) {
  const now = Date.now();
  const at = (agoMs: number, level: string, n: number) =>
    Array.from({ length: n }, (_, i) => ({ service, level, message: `m ${agoMs} ${i}`, timestamp: now - agoMs }));
  const res = await ingest([
    ...at(5_000, "error", 3), // inside every window
    ...at(5_000, "info", 7),
    ...at(3 * 60_000, "warn", 2), // 5m and longer
    ...at(10 * 60_000, "debug", 4), // 15m and longer
    ...at(2 * 3_600_000, "error", 5), // 24h only
    ...at(25 * 3_600_000, "error", 6), // too old: stored, not counted
  ]);
  expect(res.body.accepted).toBe(27);
}

const expected: Windows = {
  "1m": { error: 3, warn: 0, info: 7, debug: 0, total: 10 },
  "5m": { error: 3, warn: 2, info: 7, debug: 0, total: 12 },
  "15m": { error: 3, warn: 2, info: 7, debug: 4, total: 16 },
  "1h": { error: 3, warn: 2, info: 7, debug: 4, total: 16 },
  "24h": { error: 8, warn: 2, info: 7, debug: 4, total: 21 },
};

describe("live counters", () => {
  it("counts exactly per window, and rebuilds the same counters after a restart", async () => {
    const service = uniqueService("counters");
    await seed(service);
    const before = await getJson<{ windows: Windows; series: unknown[] }>(`/api/services/${service}/stats`);
    expect(before.status).toBe(200);
    expect(before.body.windows).toEqual(expected);
    expect(before.body.series).toHaveLength(60);

    const mark = (o: object) => ((o as { marker?: number }).marker = 1);
    const marked = (o: object) => (o as { marker?: number }).marker;
    await runInDurableObject(env.LOG_AGGREGATOR.getByName(`default/${service}`), mark);
    await restartObject(env.LOG_AGGREGATOR.getByName(`default/${service}`));
    // a new instance: memory is gone, SQLite is not
    expect(await runInDurableObject(env.LOG_AGGREGATOR.getByName(`default/${service}`), marked)).toBeUndefined();

    const after = await getJson<{ windows: Windows; series: unknown[] }>(`/api/services/${service}/stats`);
    expect(after.body.windows).toEqual(expected);
    expect(after.body.series).toEqual(before.body.series);
    const perSecond = await getJson<{ series: { error: number; info: number }[] }>(
      `/api/services/${service}/stats?resolution=1s`,
    );
    expect(perSecond.body.series).toHaveLength(300);
    expect(perSecond.body.series.reduce((a, p) => a + p.error + p.info, 0)).toBe(10);

    const search = await getJson<{ logs: unknown[] }>(`/api/logs/search?service=${service}&limit=1000`);
    expect(search.body.logs).toHaveLength(27);
  });

  it("answers error-rate with 200 when ok, 503 when breached, and ok below min_events", async () => {
    const service = uniqueService("rate");
    await seed(service);
    // 5m: 3 errors of 12 = 0.25
    const breached = await getJson(`/api/services/${service}/error-rate?window=5m&threshold=0.2&min_events=10`);
    expect(breached.status).toBe(503);
    expect(breached.body).toMatchObject({ rate: 0.25, errors: 3, total: 12, threshold: 0.2, ok: false });
    const ok = await getJson(`/api/services/${service}/error-rate?window=5m&threshold=0.3&min_events=10`);
    expect(ok.status).toBe(200);
    expect(ok.body.ok).toBe(true);
    const few = await getJson(`/api/services/${service}/error-rate?window=5m&threshold=0.2`); // default min_events 20 > 12
    expect(few.status).toBe(200);
    expect(few.body).toMatchObject({ ok: true, total: 12 });
    const day = await getJson(`/api/services/${service}/error-rate?window=24h&threshold=0.1&min_events=0`);
    expect(day.status).toBe(503);
    expect(day.body).toMatchObject({ errors: 8, total: 21 });
  });

  it("answers zero counts for a well-formed unknown service and 400 for a malformed one", async () => {
    const unknown = await getJson<{ windows: Windows }>(`/api/services/never-seen-service/stats`);
    expect(unknown.status).toBe(200);
    expect(unknown.body.windows["24h"].total).toBe(0);
    const rate = await getJson(`/api/services/never-seen-service/error-rate`);
    expect(rate.status).toBe(200);
    expect(rate.body).toMatchObject({ rate: 0, total: 0, ok: true });
    for (const q of ["window=25h", "window=5x", "threshold=1.5", "threshold=-0.1", "min_events=-1", "min_events=abc"]) {
      const r = await getJson(`/api/services/x/error-rate?${q}`);
      expect(r.status, q).toBe(400);
      expect(r.body.error.details[0].path, q).toBe(q.split("=")[0]);
    }
    const bad = await getJson(`/api/services/bad%20name/stats`);
    expect(bad.status).toBe(400);
  });

  it("lists known services with live counts", async () => {
    const service = uniqueService("listed");
    await seed(service);
    const { body } = await getJson<{
      services: { service: string; domain: string; counts: Windows; last_seen: number }[];
    }>(`/api/services`);
    const mine = body.services.find((s) => s.service === service);
    expect(mine).toMatchObject({ domain: "default", counts: expected });
  });
});
