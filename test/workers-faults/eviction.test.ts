// Issue 16, item 1: a quiet service's logs must reach the data service although its object is
// evicted before the alarm. The alarm wakes a fresh instance; what is due must come from durable
// state (the outbox's oldest segment), not from a field the constructor sets to "now".
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { ingest, restartObject, uniqueService } from "../workers/helpers.js";
import { fake } from "./setup.js";

const FLUSH_INTERVAL_MS = 1000; // vitest.config.ts, workers-faults
const stubOf = (service: string) => env.LOG_AGGREGATOR.getByName(`default/${service}`);
const sleepUntil = (t: number) => new Promise((r) => setTimeout(r, Math.max(0, t - Date.now())));

beforeEach(() => fake.reset());

async function alarmSeenWithin(stub: DurableObjectStub, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if ((await runInDurableObject(stub, (_, s) => s.storage.getAlarm())) !== null) return true;
    await sleepUntil(Date.now() + 5);
  }
  return false;
}

describe("a quiet service whose object is evicted before its alarm", () => {
  it("flushes its one log when the alarm wakes a fresh instance", async () => {
    const service = uniqueService("quiet");
    const ingestedAt = Date.now();
    expect((await ingest([{ id: "quiet-1", level: "info", message: "only one", service }])).body.accepted).toBe(1);
    await restartObject(stubOf(service)); // evicted: memory gone, SQLite and the alarm kept
    // The alarm is due no later than the log's arrival + FLUSH_INTERVAL_MS.
    const alarm = await runInDurableObject(stubOf(service), (_, s) => s.storage.getAlarm());
    expect(alarm).not.toBeNull();
    expect(alarm!).toBeLessThanOrEqual(Date.now() + FLUSH_INTERVAL_MS);
    await restartObject(stubOf(service)); // and evicted again before the alarm
    await sleepUntil(ingestedAt + FLUSH_INTERVAL_MS + 100);
    // The alarm runs on a fresh instance (the platform may already have run it: then it's done).
    await runDurableObjectAlarm(stubOf(service));
    expect(fake.stored.get("quiet-1")).toBe(1);
    const health = await runInDurableObject(stubOf(service), (o) => o.health());
    expect(health.pending).toBe(0);
  });

  it("keeps the log through a failed flush on a fresh instance, then delivers it once", async () => {
    const service = uniqueService("quiet-down");
    expect((await ingest([{ id: "quiet-2", level: "warn", message: "one", service }])).body.accepted).toBe(1);
    fake.failure = "503";
    await restartObject(stubOf(service));
    await sleepUntil(Date.now() + FLUSH_INTERVAL_MS + 100);
    await runDurableObjectAlarm(stubOf(service));
    const h = await runInDurableObject(stubOf(service), (o) => o.health());
    expect(h.pending).toBe(1);
    expect(h.failures).toBeGreaterThan(0);
    // The retry is armed. With a 20 ms backoff the platform may be running that retry right now
    // (getAlarm answers null while an alarm runs), and a retry that fails again re-arms: so look
    // a few times rather than once.
    expect(await alarmSeenWithin(stubOf(service), 5_000)).toBe(true);
    fake.failure = "none";
    await restartObject(stubOf(service));
    // the retry alarm (backoff from 20 ms here) runs on yet another fresh instance
    const deadline = Date.now() + 10_000;
    while (!fake.stored.has("quiet-2") && Date.now() < deadline) await sleepUntil(Date.now() + 50);
    expect(fake.stored.get("quiet-2")).toBe(1);
  });
});
