// `tail_all_services_latency_p99`: one tail over all services (through the tail hub) while
// 1,000 services are known and 500 logs/s are spread across them (every 100 ms a batch of 50
// logs for 50 different services, round robin). Every log carries its send time
// (performance.now() of this process) in metadata.bench_sent; latency = receive − send, one clock.
// Undelivered logs count as infinitely late, so p99 is only met with ≥ 99% delivered.
//
// Called by bench/run.ts (phase `tailall`); alone: `npx tsx bench/tail-all.ts` (own Miniflare).
import { pathToFileURL } from "node:url";
import WebSocket from "ws";
import { buildBundles } from "./build.js";
import { Client, percentile } from "./load.js";
import { makeEntry, Rng } from "./messages.js";
import { INGEST_KEY, READ_KEY, startServer } from "./server.js";

export interface TailAllOptions {
  services: number;
  rate: number;
  durationMs: number;
  batch: number;
}

export interface TailAllResult {
  knownServicesMs: number;
  sent: number;
  accepted: number;
  delivered: number;
  duplicates: number;
  dropped: number;
  sampledFrames: number;
  p50: number;
  p99: number;
  max: number;
  achievedRate: number;
  ingestErrors: number;
}

const DEFAULTS: TailAllOptions = { services: 1000, rate: 500, durationMs: 10_000, batch: 50 };

export async function runTailAll(
  url: string,
  client: Client,
  log: (msg: string) => void,
  opts: TailAllOptions = DEFAULTS,
): Promise<TailAllResult> {
  const run = Math.random().toString(36).slice(2, 8);
  const services = Array.from({ length: opts.services }, (_, i) => `tailall-${run}-${i}`);
  const headers = { authorization: `Bearer ${INGEST_KEY}`, "content-type": "application/json" };
  const r = new Rng(7171);

  // 1. every service known (one log each: its aggregator exists and is in the registry)
  const t0 = performance.now();
  for (let i = 0; i < services.length; i += 250) {
    const logs = services.slice(i, i + 250).map((s) => makeEntry(r, s, { level: "debug" }));
    const res = await client.send("POST", "/api/logs/batch", headers, JSON.stringify({ logs }));
    if (res.status !== 202) throw new Error(`seeding services: HTTP ${res.status} ${res.body.slice(0, 200)}`);
  }
  const knownServicesMs = performance.now() - t0;
  log(`tail-all: ${services.length} services known after ${Math.round(knownServicesMs)} ms`);

  // 2. one tail over all services, for this run's logs only (the bench's other phases log too)
  const wsUrl = `${url.replace(/^http/, "ws")}/api/tail?q=${encodeURIComponent(`run=${run}`)}&token=${READ_KEY}`;
  const ws = new WebSocket(wsUrl, { perMessageDeflate: false });
  const latencies: number[] = [];
  const seen = new Set<string>();
  let duplicates = 0;
  let dropped = 0;
  let sampledFrames = 0;
  let ready = false;
  ws.on("message", (data) => {
    const now = performance.now();
    const frame = JSON.parse(data.toString()) as {
      type: string;
      logs?: { id: string; metadata?: { bench_sent?: number } }[];
      count?: number;
    };
    if (frame.type === "ready") ready = true;
    else if (frame.type === "dropped") dropped += frame.count ?? 0;
    else if (frame.type === "sampled") sampledFrames++;
    else if (frame.type === "logs")
      for (const l of frame.logs ?? []) {
        if (seen.has(l.id)) duplicates++;
        seen.add(l.id);
        const sent = l.metadata?.bench_sent;
        if (typeof sent === "number") latencies.push(now - sent);
      }
  });
  await new Promise<void>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error("tail-all: no ready frame within 10 s")), 10_000);
    ws.on("error", fail);
    const check = setInterval(() => {
      if (ready) {
        clearTimeout(timer);
        clearInterval(check);
        ok();
      }
    }, 10);
  });

  // 3. paced ingest, spread round robin over every service
  const intervalMs = (opts.batch / opts.rate) * 1000;
  const rounds = Math.round(((opts.durationMs / 1000) * opts.rate) / opts.batch);
  let sent = 0;
  let accepted = 0;
  let ingestErrors = 0;
  let firstError = "";
  const ackLatencies: number[] = [];
  let next = 0;
  const inflight = new Set<Promise<void>>();
  const start = performance.now();
  for (let i = 0; i < rounds; i++) {
    const wait = start + i * intervalMs - performance.now();
    if (wait > 0) await new Promise((res) => setTimeout(res, wait));
    const at = performance.now();
    const logs = Array.from({ length: opts.batch }, (_, j) => {
      const e = makeEntry(r, services[next++ % services.length], { metadata: { bench_sent: at } });
      return { ...e, id: `ta-${run}-${i}-${j}`, message: `${e.message} run=${run}` };
    });
    sent += logs.length;
    const p = client
      .send("POST", "/api/logs/batch", headers, JSON.stringify({ logs }))
      .then((res) => {
        ackLatencies.push(performance.now() - at);
        if (res.status === 202) accepted += (JSON.parse(res.body) as { accepted: number }).accepted;
        else {
          ingestErrors++;
          if (!firstError) firstError = `HTTP ${res.status} ${res.body.slice(0, 200)}`;
        }
      })
      .catch(() => {
        ingestErrors++;
      })
      .finally(() => inflight.delete(p));
    inflight.add(p);
  }
  await Promise.all(inflight);
  const achievedRate = sent / ((performance.now() - start) / 1000);
  const deadline = performance.now() + 10_000;
  while (seen.size + dropped < accepted && performance.now() < deadline)
    await new Promise((res) => setTimeout(res, 50));
  ws.close();
  ackLatencies.sort((a, b) => a - b);
  log(
    `tail-all: ingest ack p50 ${percentile(ackLatencies, 50).toFixed(1)} ms, p99 ${percentile(ackLatencies, 99).toFixed(1)} ms${firstError ? `, first error: ${firstError}` : ""}`,
  );
  latencies.sort((a, b) => a - b);
  // undelivered logs are infinitely late
  while (latencies.length < accepted) latencies.push(Number.POSITIVE_INFINITY);
  return {
    knownServicesMs,
    sent,
    accepted,
    delivered: seen.size,
    duplicates,
    dropped,
    sampledFrames,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    max: latencies[latencies.length - 1] ?? Number.NaN,
    achievedRate,
    ingestErrors,
  };
}

/** The bench/run.ts phase: runs the scenario and shapes its one metric line. */
export async function tailAllMetric(url: string, client: Client, log: (msg: string) => void) {
  const x = await runTailAll(url, client, log);
  log(
    `tail-all: sent ${x.sent} (accepted ${x.accepted}) at ${Math.round(x.achievedRate)} logs/s over ${DEFAULTS.services} services, ` +
      `delivered ${x.delivered}, duplicates ${x.duplicates}, dropped ${x.dropped}, sampled frames ${x.sampledFrames}, ` +
      `p50 ${x.p50.toFixed(1)} ms, p99 ${x.p99.toFixed(1)} ms, max ${x.max.toFixed(1)} ms, ingest errors ${x.ingestErrors}`,
  );
  return {
    name: "tail_all_services_latency_p99",
    value: Number.isFinite(x.p99) ? x.p99 : -1,
    unit: "ms (ingest send → receive on one tail over all services; -1: under 99% delivered)",
    target: "≤ 500 ms with 1,000 services known and 500 logs/s spread across them, every log delivered",
    met: Number.isFinite(x.p99) && x.p99 <= 500 && x.delivered === x.accepted && x.duplicates === 0,
    delivered: x.delivered,
    accepted: x.accepted,
    p50: Math.round(x.p50 * 10) / 10,
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const log = (msg: string) => process.stderr.write(`[tail-all] ${msg}\n`);
  const bundles = await buildBundles();
  const server = await startServer(bundles);
  const client = new Client(server.url, 8);
  try {
    process.stdout.write(`${JSON.stringify(await tailAllMetric(server.url, client, log))}\n`);
  } finally {
    client.close();
    await server.dispose();
  }
}
