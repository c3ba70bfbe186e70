// The flush pipeline against a data service that fails: every acknowledged log arrives exactly
// once, in calls of at most BULK_INSERT_SIZE, whatever fails and for how long.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { call, getJson, ingest, KEYS, restartObject, uniqueService } from "../workers/helpers.js";
import { fake } from "./setup.js";

const stubOf = (service: string) => env.LOG_AGGREGATOR.getByName(`default/${service}`);

async function ingestMany(service: string, n: number, prefix: string): Promise<string[]> {
  const ids: string[] = [];
  for (let start = 0; start < n; start += 500) {
    const logs = Array.from({ length: Math.min(500, n - start) }, (_, i) => ({
      id: `${prefix}-${start + i}`,
      level: "info",
      message: `m ${start + i}`,
      service,
    }));
    const r = await ingest(logs);
    expect(r.body.accepted).toBe(logs.length);
    ids.push(...logs.map((l) => l.id));
  }
  return ids;
}

/** Lets the platform run alarms (backoff base 20 ms, flush interval 1 s here) until `done`. */
async function until<T>(probe: () => Promise<T>, done: (v: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (done(v) || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
}
const health = (service: string) => runInDurableObject(stubOf(service), (o) => o.health());
const drain = (service: string) =>
  until(
    () => health(service),
    (h) => h.pending === 0 && h.failures === 0,
  );

beforeEach(() => fake.reset());

describe("flush to the data service", () => {
  it("delivers 1,000 logs exactly once, in calls of at most BULK_INSERT_SIZE", async () => {
    const service = uniqueService("flush1000");
    const ids = await ingestMany(service, 1000, "k");
    const res = await call("/api/admin/flush", { method: "POST", key: KEYS.admin });
    expect(res.status).toBe(200);
    const report = (await res.json()) as { flushed: number; pending: number };
    // a full outbox arms the alarm at once, so the alarm may already have flushed part of it
    expect(report.pending).toBe(0);
    const mine = fake.calls.filter((ids) => ids.some((id) => id.startsWith("k-")));
    expect(mine).toHaveLength(20);
    expect(mine.every((ids) => ids.length === 50 && ids.every((id) => id.startsWith("k-")))).toBe(true);
    expect([...fake.stored.keys()].sort()).toEqual([...ids].sort());
  });

  for (const failure of ["503", "timeout", "refused"] as const) {
    it(`keeps every log through ${failure} failures over several alarm runs, then delivers each once`, async () => {
      const service = uniqueService(`fail-${failure}`);
      fake.failure = failure;
      // 250 pending rows arm the alarm at once; each failing run re-arms it with backoff
      const ids = await ingestMany(service, 250, `f${failure}`);
      const h = await until(
        () => health(service),
        (x) => x.failures >= 3,
      );
      expect(h.pending).toBe(250);
      expect(h.failures).toBeGreaterThanOrEqual(3);
      expect(h.last_error).toBeTruthy();
      expect(fake.stored.size).toBe(0);
      const healthRoute = await getJson("/health");
      expect(healthRoute.status).toBe(200);
      expect(healthRoute.body.flush_backlog).toBeGreaterThanOrEqual(1);

      fake.failure = "none";
      await drain(service);
      expect([...fake.stored.keys()].filter((id) => id.startsWith(`f${failure}-`)).sort()).toEqual([...ids].sort());
      const after = await runInDurableObject(stubOf(service), (o) => o.health());
      expect(after).toMatchObject({ pending: 0, failures: 0, last_error: null });
    });
  }

  it("counts a slow acknowledgement as a retry, and the retry stores nothing twice", async () => {
    const service = uniqueService("slow");
    const ids = await ingestMany(service, 30, "sl");
    fake.failure = "slow-accept";
    await call(`/api/admin/flush?service=${service}`, { method: "POST", key: KEYS.admin });
    expect((await runInDurableObject(stubOf(service), (o) => o.health())).pending).toBe(30);
    fake.failure = "none";
    await drain(service);
    expect([...fake.stored.keys()].filter((id) => id.startsWith("sl-")).sort()).toEqual([...ids].sort());
  });

  it("loses nothing when the Durable Object restarts between ingest and flush", async () => {
    const service = uniqueService("restart");
    const ids = await ingestMany(service, 75, "rs");
    await restartObject(stubOf(service));
    expect(fake.stored.size).toBe(0);
    // the restarted object re-arms its alarm from SQLite
    const alarm = await runInDurableObject(stubOf(service), (_, s) => s.storage.getAlarm());
    expect(alarm).not.toBeNull();
    await drain(service);
    expect([...fake.stored.keys()].filter((id) => id.startsWith("rs-")).sort()).toEqual([...ids].sort());
  });

  it("loses nothing and stores nothing twice when the Durable Object restarts mid-flush", async () => {
    const service = uniqueService("midflush");
    const ids = await ingestMany(service, 150, "mf");
    fake.failure = "hold"; // each batch is stored, then answered 250 ms later
    const flushing = call(`/api/admin/flush?service=${service}`, { method: "POST", key: KEYS.admin }).catch(() => null);
    await new Promise((r) => setTimeout(r, 100)); // the first batch is stored, its answer not yet read
    await restartObject(stubOf(service));
    await flushing;
    expect(fake.stored.size).toBeGreaterThan(0);
    expect(fake.stored.size).toBeLessThan(150);
    fake.failure = "none";
    await drain(service);
    const mine = [...fake.stored.keys()].filter((id) => id.startsWith("mf-")).sort();
    expect(mine).toEqual([...ids].sort()); // every id once in the store (the map dedupes a resend)
    // the batch in flight at the restart was sent again: at-least-once on the wire, once in the store
    const sends = fake.calls.flat().filter((id) => id.startsWith("mf-")).length;
    expect(sends).toBeGreaterThan(150);
  });

  it("dead-letters entries the data service refuses for good, without blocking the others", async () => {
    const service = uniqueService("dead");
    const ids = await ingestMany(service, 50, "dl");
    fake.refuseIds.add("dl-7");
    fake.refuseIds.add("dl-31");
    const res = await call(`/api/admin/flush?service=${service}`, { method: "POST", key: KEYS.admin });
    const report = (await res.json()) as { flushed: number; dead_lettered: number; pending: number };
    expect(report).toMatchObject({ flushed: 50, dead_lettered: 2, pending: 0 });
    expect([...fake.stored.keys()].filter((id) => id.startsWith("dl-")).sort()).toEqual(
      ids.filter((id) => id !== "dl-7" && id !== "dl-31").sort(),
    );
    const dead = await getJson<{ dead_letters: { id: string }[] }>(
      `/api/admin/dead-letters?service=${service}`,
      KEYS.admin,
    );
    expect(dead.body.dead_letters.map((d) => d.id)).toEqual(["dl-7", "dl-31"]);
    const healthRoute = await getJson("/health");
    expect(healthRoute.body.dead_letters).toBeGreaterThanOrEqual(2);

    // once the service takes them, a replay delivers them and empties the dead-letter table
    fake.refuseIds.clear();
    const replay = await call(`/api/admin/dead-letters/replay?service=${service}`, { method: "POST", key: KEYS.admin });
    expect(await replay.json()).toEqual({ replayed: 2 });
    await call(`/api/admin/flush?service=${service}`, { method: "POST", key: KEYS.admin });
    expect(fake.stored.has("dl-7") && fake.stored.has("dl-31")).toBe(true);
    expect(
      (await getJson<{ dead_letters: unknown[] }>(`/api/admin/dead-letters?service=${service}`, KEYS.admin)).body
        .dead_letters,
    ).toEqual([]);
  });

  it("stores nothing twice when the same ids are resubmitted after a flush", async () => {
    const service = uniqueService("resubmit");
    const logs = Array.from({ length: 20 }, (_, i) => ({ id: `rsb-${i}`, level: "info", message: "x", service }));
    await ingest(logs);
    await call(`/api/admin/flush?service=${service}`, { method: "POST", key: KEYS.admin });
    const again = await ingest(logs);
    expect(again.body.results.every((r) => (r as { duplicate?: boolean }).duplicate)).toBe(true);
    const report = (await (
      await call(`/api/admin/flush?service=${service}`, { method: "POST", key: KEYS.admin })
    ).json()) as { flushed: number };
    expect(report.flushed).toBe(0);
    expect(fake.calls.flat().filter((id) => id.startsWith("rsb-"))).toHaveLength(20);
  });
});
