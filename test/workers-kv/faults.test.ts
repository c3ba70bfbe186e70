// Faults in the KV-only phase: KV writes failing, and an alarm run that throws. Either way the
// rows stay in SQLite, the error is visible, and a later run delivers everything once.
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, ingest, KEYS, uniqueService } from "../workers/helpers.js";

type Swappable = { env: Record<string, unknown> };

/** Replaces the aggregator's env with one where `override` wins; returns a restore function. */
async function swapEnv(service: string, override: (real: Record<string, unknown>) => Record<string, unknown>) {
  const stub = env.LOG_AGGREGATOR.getByName(`default/${service}`);
  await runInDurableObject(stub, (o) => {
    const real = (o as unknown as Swappable).env;
    (o as unknown as Swappable & { realEnv?: unknown }).realEnv = real;
    (o as unknown as Swappable).env = override(real);
  });
  return () =>
    runInDurableObject(stub, (o) => {
      (o as unknown as Swappable).env = (o as unknown as { realEnv: Record<string, unknown> }).realEnv;
    });
}

const health = (service: string) =>
  runInDurableObject(env.LOG_AGGREGATOR.getByName(`default/${service}`), (o) => o.health());

describe("faults in the KV-only phase", () => {
  it("keeps rows while KV writes fail, then writes each once", async () => {
    const service = uniqueService("kvfail");
    const logs = Array.from({ length: 30 }, (_, i) => ({ id: `kf-${i}`, level: "info", message: `m ${i}`, service }));
    await ingest(logs);
    const restore = await swapEnv(service, (real) => ({
      ...real,
      LOGS_KV: { put: () => Promise.reject(new Error("KV unavailable")), get: () => Promise.resolve(null) },
    }));
    const failed = (await (
      await call(`/api/admin/flush?service=${service}`, { method: "POST", key: KEYS.admin })
    ).json()) as { flushed: number; pending: number; last_error: string };
    expect(failed).toMatchObject({ flushed: 0, pending: 30 });
    expect(failed.last_error).toContain("KV unavailable");
    await restore();
    const ok = (await (
      await call(`/api/admin/flush?service=${service}`, { method: "POST", key: KEYS.admin })
    ).json()) as { flushed: number; pending: number; last_error: string | null };
    expect(ok).toMatchObject({ flushed: 30, pending: 0, last_error: null });
    const chunks = await env.LOGS_KV.list({ prefix: `logs/default/${service}/` });
    const stored = (
      await Promise.all(chunks.keys.map((k) => env.LOGS_KV.get<{ id: string }[]>(k.name, "json")))
    ).flat();
    expect(stored.map((e) => e!.id).sort()).toEqual(logs.map((l) => l.id).sort());
  });

  it("survives an alarm run that throws: rows kept, error recorded, alarm re-armed", async () => {
    const service = uniqueService("alarmthrow");
    await ingest(Array.from({ length: 10 }, (_, i) => ({ id: `at-${i}`, level: "error", message: `m ${i}`, service })));
    // a configuration read that throws makes the whole scheduled run throw
    const restore = await swapEnv(
      service,
      (real) =>
        new Proxy(real, {
          get(target, key) {
            if (key === "API_KEYS") throw new Error("secret store unavailable");
            return target[key as string];
          },
        }),
    );
    const stub = env.LOG_AGGREGATOR.getByName(`default/${service}`);
    await runDurableObjectAlarm(stub); // resolves: alarm() catches instead of throwing
    const h = await health(service);
    expect(h.pending).toBe(10);
    expect(h.last_error).toContain("secret store unavailable");
    expect(await runInDurableObject(stub, (_, s) => s.storage.getAlarm())).toBe(h.next_retry_at);
    await restore();
    await new Promise((r) => setTimeout(r, Math.max(0, h.next_retry_at - Date.now()) + 20)); // the backoff
    await runDurableObjectAlarm(stub);
    expect(await health(service)).toMatchObject({ pending: 0, failures: 0, last_error: null });
  });
});
