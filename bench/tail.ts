// Tail delivery latency: `subscribers` WebSocket clients on one service, ingest paced at `rate`
// logs/s (batches of 100) for `durationMs`. Every log carries its send time (performance.now()
// of this process) in metadata.bench_sent; latency = receive time − send time, same clock.
import WebSocket from "ws";
import { type Client, percentile } from "./load.js";
import { makeEntry, Rng } from "./messages.js";
import { INGEST_KEY, READ_KEY } from "./server.js";

export interface TailResult {
  sentLogs: number;
  acceptedLogs: number;
  expected: number;
  delivered: number;
  dropped: number;
  p50: number;
  p99: number;
  max: number;
  achievedRate: number;
  ingestErrors: number;
  lateSends: number;
}

export async function runTail(
  url: string,
  client: Client,
  opts: { service: string; subscribers: number; rate: number; durationMs: number; batch: number },
): Promise<TailResult> {
  const wsUrl = `${url.replace(/^http/, "ws")}/api/tail?service=${opts.service}&token=${READ_KEY}`;
  const latencies: number[] = [];
  let delivered = 0;
  let dropped = 0;
  let otherFrames = "";
  let ready = 0;
  const sockets: WebSocket[] = [];
  // Open the subscribers (the aggregator starts on demand for a named service).
  await Promise.all(
    Array.from(
      { length: opts.subscribers },
      () =>
        new Promise<void>((ok, fail) => {
          const ws = new WebSocket(wsUrl, { perMessageDeflate: false });
          sockets.push(ws);
          const timer = setTimeout(() => fail(new Error("tail socket did not open within 10 s")), 10_000);
          ws.on("open", () => {
            clearTimeout(timer);
            ok();
          });
          ws.on("error", (e) => {
            clearTimeout(timer);
            fail(e);
          });
          ws.on("message", (data) => {
            const now = performance.now();
            const frame = JSON.parse(data.toString()) as {
              type: string;
              logs?: { metadata?: { bench_sent?: number } }[];
              count?: number;
            };
            if (frame.type === "logs" && frame.logs) {
              for (const l of frame.logs) {
                const sent = l.metadata?.bench_sent;
                if (typeof sent === "number") latencies.push(now - sent);
                delivered++;
              }
            } else if (frame.type === "dropped") {
              dropped += frame.count ?? 0;
            } else if (frame.type === "ready") {
              ready++; // the subscription is live (servers that send it)
            } else if (otherFrames.length < 500) {
              otherFrames += data.toString().slice(0, 200);
            }
          });
        }),
    ),
  );
  // Wait until every subscription is live ("ready" frame), or 1 s for servers that don't send one.
  const readyBy = performance.now() + 1000;
  while (ready < opts.subscribers && performance.now() < readyBy) await new Promise((r) => setTimeout(r, 20));

  const r = new Rng(4242);
  const headers = { authorization: `Bearer ${INGEST_KEY}`, "content-type": "application/json" };
  const intervalMs = (opts.batch / opts.rate) * 1000;
  const total = Math.round((opts.durationMs / 1000) * (opts.rate / opts.batch));
  let sentLogs = 0;
  let acceptedLogs = 0;
  let ingestErrors = 0;
  let lateSends = 0;
  const inflight = new Set<Promise<void>>();
  const t0 = performance.now();
  for (let i = 0; i < total; i++) {
    const due = t0 + i * intervalMs;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((res) => setTimeout(res, wait));
    else if (wait < -intervalMs) lateSends++;
    const sent = performance.now();
    const logs = Array.from({ length: opts.batch }, () =>
      makeEntry(r, opts.service, { metadata: { bench_sent: sent } }),
    );
    sentLogs += logs.length;
    const p = client
      .send("POST", "/api/logs/batch", headers, JSON.stringify({ logs }))
      .then((res) => {
        if (res.status === 202) acceptedLogs += (JSON.parse(res.body) as { accepted: number }).accepted;
        else ingestErrors++;
      })
      .catch(() => {
        ingestErrors++;
      })
      .finally(() => inflight.delete(p));
    inflight.add(p);
  }
  await Promise.all(inflight);
  const achievedRate = sentLogs / ((performance.now() - t0) / 1000);
  // Drain: wait until every accepted log arrived at every subscriber (or was reported dropped), at most 10 s.
  const expected = acceptedLogs * opts.subscribers;
  const deadline = performance.now() + 10_000;
  while (delivered + dropped < expected && performance.now() < deadline)
    await new Promise((res) => setTimeout(res, 50));
  for (const ws of sockets) ws.close();
  if (otherFrames) process.stderr.write(`tail: unexpected frames: ${otherFrames}\n`);
  latencies.sort((a, b) => a - b);
  return {
    sentLogs,
    acceptedLogs,
    expected,
    delivered,
    dropped,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    max: latencies[latencies.length - 1] ?? NaN,
    achievedRate,
    ingestErrors,
    lateSends,
  };
}
