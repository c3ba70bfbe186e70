// KV-only phase: flushed logs become KV chunks; once the aggregator trims them from SQLite,
// search and get-by-id read them back from KV, merged with what is still hot.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, getJson, ingest, KEYS, uniqueService } from "../workers/helpers.js";

describe("KV-only phase", () => {
  it("serves trimmed logs from KV chunks for search and get-by-id", async () => {
    const service = uniqueService("kvonly");
    const old = Date.now() - 3 * 86_400_000; // older than the 24 h hot retention
    const oldLogs = Array.from({ length: 30 }, (_, i) => ({
      id: `kv-old-${i}`,
      level: i % 3 === 0 ? "error" : "info",
      message: `old ${i}`,
      service,
      timestamp: old + i * 1000,
    }));
    expect((await ingest(oldLogs)).body.accepted).toBe(30);

    const flush = await call(`/api/admin/flush?service=${service}`, { method: "POST", key: KEYS.admin });
    expect(await flush.json()).toMatchObject({ flushed: 30, pending: 0, dead_lettered: 0, last_error: null });

    // trimmed from SQLite, kept as one chunk in KV
    const stub = env.LOG_AGGREGATOR.getByName(`default/${service}`);
    const rows = await runInDurableObject(
      stub,
      (_, s) => s.storage.sql.exec<{ n: number }>("SELECT coalesce(sum(n), 0) AS n FROM segments").one().n,
    );
    expect(rows).toBe(0);
    const keys = await env.LOGS_KV.list({ prefix: `logs/default/${service}/` });
    expect(keys.keys).toHaveLength(1);

    const fresh = [{ id: "kv-new-1", level: "error", message: "new one", service }];
    await ingest(fresh);

    const got = await getJson(`/api/logs/kv-old-7`);
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({ id: "kv-old-7", message: "old 7", service });

    const all = await getJson<{ logs: { id: string }[] }>(`/api/logs/search?service=${service}&limit=1000`);
    expect(all.body.logs.map((l) => l.id)).toEqual(["kv-new-1", ...oldLogs.map((l) => l.id).reverse()]);

    const errors = await getJson<{ logs: { id: string }[] }>(
      `/api/logs/search?service=${service}&level=error&order=asc&limit=4`,
    );
    expect(errors.body.logs.map((l) => l.id)).toEqual(["kv-old-0", "kv-old-3", "kv-old-6", "kv-old-9"]);

    // pagination across hot rows and KV chunks: no duplicates, no gaps
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: { logs: { id: string }[]; next_cursor: string | null } } = await getJson(
        `/api/logs/search?service=${service}&limit=7${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
      );
      seen.push(...page.body.logs.map((l) => l.id));
      cursor = page.body.next_cursor;
    } while (cursor);
    expect(seen).toEqual(all.body.logs.map((l) => l.id));
  });

  it("writes a per-service snapshot to KV with live counters and recent errors", async () => {
    const service = uniqueService("snap");
    await ingest([
      { id: "sn-1", level: "error", message: "boom", service },
      { id: "sn-2", level: "info", message: "fine", service },
    ]);
    await call(`/api/admin/flush?service=${service}`, { method: "POST", key: KEYS.admin });
    const snap = await env.LOGS_KV.get<{
      windows: { "1m": { error: number; total: number } };
      recent_errors: { id: string }[];
    }>(`snapshot/default/${service}`, "json");
    expect(snap?.windows["1m"]).toMatchObject({ error: 1, total: 2 });
    expect(snap?.recent_errors.map((e) => e.id)).toEqual(["sn-1"]);
  });

  it("reports the KV-only mode in /health", async () => {
    const h = await getJson("/health");
    expect(h.body).toMatchObject({ status: "ok", mode: "kv-only", data_service: { configured: false } });
  });
});
