// `npm run soak [-- --seconds 30 --ingest 4 --search 2 --tail 2 --batch 100 --services 4]`
//
// Starts the logger with the reference data service under `wrangler dev` on a free 127.0.0.1 port
// with its own temporary state (test/e2e/harness.ts), then for a bounded time runs together:
//   - ingest clients posting batches with client-chosen ids to POST /api/logs/batch,
//   - search clients (GET /api/logs/search with filters, GET /api/logs/:id of acknowledged ids),
//   - tail subscribers (WebSockets, `ws`): half follow every soak service through the Worker's
//     fan-in, half one service straight from its aggregator.
// Then it reconciles exactly: every acknowledged id is found exactly once by paging through
// /api/logs/search with cursors per service, nothing was stored that wasn't acknowledged, every
// id a tail subscriber saw was acknowledged and none twice, and every acknowledged id a
// subscriber should have seen either arrived or is covered by a `dropped` notice. Prints JSON
// figures and exits 1 on any loss, duplicate, 5xx or unexplained tail gap. Only 127.0.0.1 is
// contacted, every loop stops at the deadline, and the server's process group is killed at the end.
import { parseArgs } from "node:util";
import WebSocket from "ws";
import { INGEST_KEY, READ_KEY, startDevServer, type DevServer } from "../test/e2e/harness.js";

const { values: args } = parseArgs({
  options: {
    seconds: { type: "string", default: "30" },
    ingest: { type: "string", default: "4" },
    search: { type: "string", default: "2" },
    tail: { type: "string", default: "2" },
    batch: { type: "string", default: "100" },
    services: { type: "string", default: "4" },
  },
  allowPositionals: false,
});
const num = (name: keyof typeof args, min: number, max: number): number => {
  const n = Number(args[name]);
  if (!Number.isInteger(n) || n < min || n > max) {
    console.error(`--${name} must be an integer from ${min} to ${max}`);
    process.exit(2);
  }
  return n;
};
const SECONDS = num("seconds", 1, 3600);
const INGEST_CLIENTS = num("ingest", 1, 64);
const SEARCH_CLIENTS = num("search", 0, 64);
const TAIL_CLIENTS = num("tail", 0, 64);
const BATCH = num("batch", 1, 1000);
const SERVICE_COUNT = num("services", 1, 50);

const RUN = `soak${Date.now().toString(36)}`;
const SERVICES = Array.from({ length: SERVICE_COUNT }, (_, i) => `${RUN}-svc${i}`);
const LEVELS = ["error", "warn", "info", "info", "info", "debug"];
const log = (msg: string) => process.stderr.write(`[soak] ${msg}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---- counters ----
const stats = {
  requests: { ingest: 0, search: 0, get: 0, reconcile: 0 },
  status: {} as Record<string, number>,
  server_errors: 0,
  rate_limited: 0,
  network_errors: 0,
  unexpected: [] as string[],
};
const ackLatencyMs: number[] = [];
/** id → service, for every id the logger acknowledged (stored or duplicate of a stored one) */
const acked = new Map<string, string>();
const ackedAt = new Map<string, number>();

function count(status: number): void {
  stats.status[status] = (stats.status[status] ?? 0) + 1;
  if (status >= 500) stats.server_errors++;
  if (status === 429) stats.rate_limited++;
}

/** One HTTP call with bounded retries for 429 (after Retry-After) and network errors; 5xx is returned, not retried. */
async function request(url: string, init: RequestInit, deadline: number): Promise<Response | undefined> {
  for (let attempt = 0; attempt < 20; attempt++) {
    let res: Response;
    try {
      res = await fetch(url, { ...init, signal: AbortSignal.timeout(30_000) });
    } catch (_err) {
      stats.network_errors++;
      if (Date.now() > deadline) return undefined;
      await sleep(200);
      continue;
    }
    count(res.status);
    if (res.status !== 429) return res;
    await res.arrayBuffer();
    const wait = Math.min(10, Number(res.headers.get("retry-after") ?? "1") || 1) * 1000;
    if (Date.now() + wait > deadline) return undefined;
    await sleep(wait);
  }
  return undefined;
}

// ---- ingest ----
async function ingestClient(base: string, client: number, until: number): Promise<void> {
  let n = 0;
  while (Date.now() < until) {
    const logs = Array.from({ length: BATCH }, () => {
      const i = n++;
      const service = SERVICES[(client + i) % SERVICES.length];
      const level = LEVELS[i % LEVELS.length];
      return {
        id: `${RUN}-c${client}-${i}`,
        level,
        service,
        timestamp: Date.now(),
        message: `${level} request ${i % 50} for user u${i % 997}@example.com took ${(i * 7) % 3000} ms`,
        request_id: `r-${client}-${i}`,
        metadata: { client, i, shard: i % 8 },
      };
    });
    const body = JSON.stringify({ logs });
    // retried with the same ids until acknowledged (idempotent), for at most 60 s past the end
    for (let attempt = 0; ; attempt++) {
      const t0 = performance.now();
      stats.requests.ingest++;
      const res = await request(
        `${base}/api/logs/batch`,
        {
          method: "POST",
          headers: { authorization: `Bearer ${INGEST_KEY}`, "content-type": "application/json" },
          body,
        },
        until + 60_000,
      );
      if (!res) {
        if (Date.now() > until + 60_000) {
          stats.unexpected.push(`ingest client ${client}: gave up on a batch`);
          return;
        }
        continue;
      }
      const reply = (await res.json()) as { results?: { index: number; id?: string; error?: { code: string } }[] };
      if (res.status === 202 && reply.results) {
        ackLatencyMs.push(performance.now() - t0);
        const now = Date.now();
        for (const r of reply.results) {
          if (r.id) {
            acked.set(r.id, logs[r.index].service);
            if (!ackedAt.has(r.id)) ackedAt.set(r.id, now);
          } else stats.unexpected.push(`ingest: entry ${logs[r.index].id} rejected: ${r.error?.code}`);
        }
        if (reply.results.every((r) => r.id)) break;
      } else {
        stats.unexpected.push(`ingest: HTTP ${res.status} ${JSON.stringify(reply).slice(0, 200)}`);
      }
      if (attempt >= 5) break;
      await sleep(200);
    }
  }
}

// ---- search ----
async function searchClient(base: string, client: number, until: number): Promise<void> {
  let i = 0;
  const headers = { authorization: `Bearer ${READ_KEY}` };
  while (Date.now() < until) {
    i++;
    const service = SERVICES[(client + i) % SERVICES.length];
    const ids = [...ackedAt.keys()];
    if (i % 3 === 0 && ids.length > 0) {
      const id = ids[Math.floor(Math.random() * ids.length)];
      stats.requests.get++;
      const res = await request(`${base}/api/logs/${id}`, { headers }, until);
      if (res && res.status !== 200) stats.unexpected.push(`GET /api/logs/${id}: HTTP ${res.status}`);
      await res?.arrayBuffer();
      continue;
    }
    const queries = [
      `service=${service}&limit=100`,
      `service=${service}&level=error,warn&limit=50`,
      `q=request%2013&limit=20`,
      `service=${service}&order=asc&limit=10`,
    ];
    stats.requests.search++;
    const res = await request(`${base}/api/logs/search?${queries[i % queries.length]}`, { headers }, until);
    if (res && res.status !== 200)
      stats.unexpected.push(`search: HTTP ${res.status} ${(await res.text()).slice(0, 200)}`);
    else await res?.arrayBuffer();
  }
}

// ---- tail ----
interface TailSub {
  name: string;
  services: string[];
  seen: Map<string, number>;
  dropped: number;
  frames: number;
  errors: string[];
  openedAt: number;
  ws: WebSocket;
  /** set when we close: the code the server answers with is then reported, not an error */
  closing: boolean;
  closeCode?: number;
}

async function openTail(base: string, index: number): Promise<TailSub> {
  const services = index % 2 === 0 ? SERVICES : [SERVICES[Math.floor(index / 2) % SERVICES.length]];
  const url = `${base.replace(/^http/, "ws")}/api/tail?service=${services.join(",")}`;
  const ws = new WebSocket(url, { headers: { authorization: `Bearer ${READ_KEY}` }, maxPayload: 64 * 1024 * 1024 });
  const sub: TailSub = {
    name: `tail${index}(${services.length === 1 ? services[0] : "all"})`,
    services,
    seen: new Map(),
    dropped: 0,
    frames: 0,
    errors: [],
    openedAt: 0,
    ws,
    closing: false,
  };
  ws.on("message", (data) => {
    const text = data.toString();
    if (text === "pong") return;
    const frame = JSON.parse(text) as {
      type: string;
      logs?: { id: string }[];
      count?: number;
      error?: { code: string };
    };
    sub.frames++;
    if (frame.type === "logs") for (const l of frame.logs ?? []) sub.seen.set(l.id, (sub.seen.get(l.id) ?? 0) + 1);
    else if (frame.type === "dropped") sub.dropped += frame.count ?? 0;
    else if (frame.type === "error") sub.errors.push(JSON.stringify(frame.error));
  });
  ws.on("close", (code) => {
    sub.closeCode = code;
    if (!sub.closing) sub.errors.push(`closed by the server with ${code} before the end`);
  });
  ws.on("error", (err) => sub.errors.push(err.message));
  await new Promise<void>((ok, fail) => {
    ws.once("open", () => ok());
    ws.once("error", fail);
  });
  sub.openedAt = Date.now();
  return sub;
}

// ---- reconciliation ----
async function searchAll(base: string, service: string): Promise<Map<string, number>> {
  const found = new Map<string, number>();
  let cursor: string | null = null;
  const deadline = Date.now() + 300_000;
  do {
    const q = new URLSearchParams({ service, limit: "1000", order: "asc" });
    if (cursor) q.set("cursor", cursor);
    stats.requests.reconcile++;
    const res = await request(
      `${base}/api/logs/search?${q}`,
      { headers: { authorization: `Bearer ${READ_KEY}` } },
      deadline,
    );
    if (res?.status !== 200) throw new Error(`reconcile search for ${service}: HTTP ${res?.status ?? "none"}`);
    const page = (await res.json()) as { logs: { id: string }[]; next_cursor: string | null };
    for (const l of page.logs) found.set(l.id, (found.get(l.id) ?? 0) + 1);
    cursor = page.next_cursor;
  } while (cursor);
  return found;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] * 10) / 10;
}

async function main(): Promise<number> {
  log(`starting wrangler dev (logger + reference data service) on 127.0.0.1 …`);
  const t0 = Date.now();
  let server: DevServer | undefined;
  const stop = async () => {
    const s = server;
    server = undefined;
    await s?.stop();
  };
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    process.once(sig, () => {
      void stop().finally(() => process.exit(130));
    });
  }
  try {
    server = await startDevServer();
    const base = server.url;
    log(
      `up at ${base} in ${((Date.now() - t0) / 1000).toFixed(1)} s; run ${RUN}: ${SECONDS} s, ${INGEST_CLIENTS} ingest × ${BATCH}/batch, ${SEARCH_CLIENTS} search, ${TAIL_CLIENTS} tail, ${SERVICE_COUNT} services`,
    );

    const tails = await Promise.all(Array.from({ length: TAIL_CLIENTS }, (_, i) => openTail(base, i)));
    await sleep(300); // subscriptions are in place before the first log

    const start = Date.now();
    const until = start + SECONDS * 1000;
    await Promise.all([
      ...Array.from({ length: INGEST_CLIENTS }, (_, c) => ingestClient(base, c, until)),
      ...Array.from({ length: SEARCH_CLIENTS }, (_, c) => searchClient(base, c, until)),
    ]);
    const ingestSeconds = (Date.now() - start) / 1000;
    log(`load phase done: ${acked.size} logs acknowledged in ${ingestSeconds.toFixed(1)} s; letting tails drain …`);

    // tails: wait until every subscriber has seen (or been told it missed) what it should see
    const expectedFor = (t: TailSub) => [...acked].filter(([, s]) => t.services.includes(s)).map(([id]) => id);
    const drainUntil = Date.now() + 15_000;
    while (
      Date.now() < drainUntil &&
      tails.some((t) => expectedFor(t).filter((id) => !t.seen.has(id)).length > t.dropped)
    )
      await sleep(200);
    await Promise.all(
      tails.map((t) => {
        t.closing = true;
        const closed = new Promise<void>((ok) =>
          t.ws.readyState === WebSocket.CLOSED ? ok() : t.ws.once("close", () => ok()),
        );
        t.ws.close(1000, "soak done");
        return Promise.race([closed, sleep(3000)]);
      }),
    );

    log(`reconciling ${SERVICES.length} services through /api/logs/search …`);
    const found = new Map<string, number>();
    for (const s of SERVICES) for (const [id, n] of await searchAll(base, s)) found.set(id, (found.get(id) ?? 0) + n);
    const missing = [...acked.keys()].filter((id) => !found.has(id));
    const duplicates = [...found].filter(([, n]) => n > 1).map(([id]) => id);
    const unacked = [...found.keys()].filter((id) => !acked.has(id));

    const tailFigures = tails.map((t) => {
      const expected = expectedFor(t);
      const missed = expected.filter((id) => !t.seen.has(id));
      return {
        subscriber: t.name,
        delivered: [...t.seen.values()].reduce((a, b) => a + b, 0),
        expected: expected.length,
        dropped: t.dropped,
        missed_without_notice: Math.max(0, missed.length - t.dropped),
        duplicates: [...t.seen].filter(([, n]) => n > 1).length,
        unacknowledged: [...t.seen.keys()].filter((id) => !acked.has(id)).length,
        errors: t.errors.slice(0, 5),
        close_code_answered_to_our_1000: t.closeCode ?? null,
      };
    });

    const lat = [...ackLatencyMs].sort((a, b) => a - b);
    const figures = {
      run: RUN,
      seconds: Math.round(ingestSeconds * 10) / 10,
      clients: {
        ingest: INGEST_CLIENTS,
        search: SEARCH_CLIENTS,
        tail: TAIL_CLIENTS,
        batch: BATCH,
        services: SERVICE_COUNT,
      },
      requests: { ...stats.requests, total: Object.values(stats.requests).reduce((a, b) => a + b, 0) },
      status_counts: stats.status,
      acked_logs: acked.size,
      logs_per_second: Math.round(acked.size / ingestSeconds),
      ack_latency_ms: {
        p50: percentile(lat, 50),
        p99: percentile(lat, 99),
        max: percentile(lat, 100),
        batches: lat.length,
      },
      server_errors_5xx: stats.server_errors,
      rate_limited_429: stats.rate_limited,
      network_errors: stats.network_errors,
      reconciliation: {
        searched_ids: found.size,
        missing_ids: missing.length,
        duplicate_ids: duplicates.length,
        stored_but_unacknowledged: unacked.length,
        examples: { missing: missing.slice(0, 5), duplicates: duplicates.slice(0, 5) },
      },
      tail: {
        delivered: tailFigures.reduce((a, t) => a + t.delivered, 0),
        dropped: tailFigures.reduce((a, t) => a + t.dropped, 0),
        subscribers: tailFigures,
      },
      unexpected: stats.unexpected.slice(0, 10),
      unexpected_count: stats.unexpected.length,
    };
    const failures = [
      missing.length > 0 && `${missing.length} acknowledged ids missing from search`,
      duplicates.length > 0 && `${duplicates.length} ids found more than once`,
      stats.server_errors > 0 && `${stats.server_errors} responses were 5xx`,
      acked.size === 0 && "nothing was acknowledged",
      tailFigures.some((t) => t.duplicates > 0) && "a tail subscriber got an id twice",
      tailFigures.some((t) => t.unacknowledged > 0) && "a tail subscriber got an id that was never acknowledged",
      tailFigures.some((t) => t.missed_without_notice > 0) && "a tail subscriber missed logs without a dropped notice",
      tailFigures.some((t) => t.errors.length > 0) && "a tail subscriber saw an error",
      stats.unexpected.length > 0 && `${stats.unexpected.length} unexpected answers`,
    ].filter((f): f is string => typeof f === "string");
    console.log(JSON.stringify({ ...figures, ok: failures.length === 0, failures }, null, 2));
    return failures.length === 0 ? 0 : 1;
  } catch (err) {
    console.error(`[soak] failed: ${err instanceof Error ? err.message : String(err)}`);
    if (server) console.error(server.output());
    return 1;
  } finally {
    log("stopping the server (process group) …");
    await stop();
  }
}

process.exitCode = await main();
