// restart_first_answer_ms_1m_logs: one aggregator holding 1M logs is restarted (workerd
// restarted with its persisted state: every object's memory gone) and the time until it
// answers a search is measured. The object rebuilds its segment headers, id table, counters
// and patterns in its constructor, so this is the cold start a user sees after an eviction.
import { Client } from "./load.js";
import { makeEntry, Rng } from "./messages.js";
import { INGEST_KEY, READ_KEY } from "./server.js";

/** Loads `total` logs into `service` in batches of `batch`, generating bodies as it goes. */
export async function loadStream(
  client: Client,
  service: string,
  total: number,
  batch: number,
  concurrency: number,
): Promise<{ logs: number; seconds: number; errors: number }> {
  const r = new Rng(4242);
  const headers = { authorization: `Bearer ${INGEST_KEY}`, "content-type": "application/json" };
  const now = Date.now();
  let sent = 0;
  let loaded = 0;
  let errors = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (sent < total) {
        const n = Math.min(batch, total - sent);
        sent += n;
        const logs = Array.from({ length: n }, () => makeEntry(r, service, { timestamp: now - r.int(3_600_000) }));
        const res = await client.send("POST", "/api/logs/batch", headers, Buffer.from(JSON.stringify({ logs })));
        if (res.status === 202) loaded += (JSON.parse(res.body) as { accepted: number }).accepted;
        else errors++;
      }
    }),
  );
  return { logs: loaded, seconds: (performance.now() - start) / 1000, errors };
}

/** Times the first search answered by `service` on a freshly started runtime at `url`. */
export async function firstAnswer(url: string, service: string): Promise<{ ms: number; status: number; rows: number }> {
  const client = new Client(url, 1);
  const t0 = performance.now();
  const res = await client.send("GET", `/api/logs/search?service=${service}&level=error&limit=100`, {
    authorization: `Bearer ${READ_KEY}`,
  });
  const ms = performance.now() - t0;
  client.close();
  const rows = res.status === 200 ? (JSON.parse(res.body) as { logs: unknown[] }).logs.length : 0;
  return { ms, status: res.status, rows };
}
