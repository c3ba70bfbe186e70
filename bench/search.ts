// Search latency: 100k logs loaded into one service (big batches, timestamps spread over the
// last 50 minutes), then a few hundred filtered queries (level, request_id, q, time range,
// pattern_id, combinations; limit 100), one at a time, each timed end to end.
import { type Client, percentile } from "./load.js";
import { type BenchEntry, makeEntry, Rng } from "./messages.js";
import { INGEST_KEY, READ_KEY } from "./server.js";

export interface SearchLoad {
  logs: number;
  seconds: number;
  logsPerSec: number;
  errors: number;
  requestIds: string[];
  userIds: string[];
  /** client-chosen ids of 1 in 500 entries, for get-by-id */
  ids: string[];
  t0: number;
  t1: number;
}

const SPAN_MS = 50 * 60_000;

export async function loadSearchData(
  client: Client,
  service: string,
  total: number,
  batch: number,
  concurrency: number,
): Promise<SearchLoad> {
  const r = new Rng(777);
  const now = Date.now();
  const t0 = now - SPAN_MS;
  const requestIds: string[] = [];
  const userIds: string[] = [];
  const ids: string[] = [];
  const bodies: Buffer[] = [];
  for (let done = 0; done < total; done += batch) {
    const logs: BenchEntry[] = [];
    for (let j = 0; j < batch && done + j < total; j++) {
      const e: BenchEntry & { id?: string } = makeEntry(r, service, { timestamp: t0 + r.int(SPAN_MS) });
      if (r.int(500) === 0) ids.push((e.id = `bench-id-${done + j}`));
      if (r.int(500) === 0) requestIds.push(e.request_id!);
      if (r.int(500) === 0) userIds.push(e.user_id!);
      logs.push(e);
    }
    bodies.push(Buffer.from(JSON.stringify({ logs })));
  }
  const headers = { authorization: `Bearer ${INGEST_KEY}`, "content-type": "application/json" };
  let next = 0;
  let loaded = 0;
  let errors = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < bodies.length) {
        const b = bodies[next++];
        const res = await client.send("POST", "/api/logs/batch", headers, b);
        if (res.status === 202) loaded += (JSON.parse(res.body) as { accepted: number }).accepted;
        else errors++;
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  return { logs: loaded, seconds, logsPerSec: loaded / seconds, errors, requestIds, userIds, ids, t0, t1: now };
}

export interface SearchResult {
  queries: number;
  p50: number;
  p99: number;
  max: number;
  errors: number;
  firstError?: string;
  byKind: Record<string, { n: number; p50: number; p99: number; rows: number }>;
}

export async function runSearches(client: Client, service: string, data: SearchLoad, n: number): Promise<SearchResult> {
  const headers = { authorization: `Bearer ${READ_KEY}` };
  const get = async (qs: string) => {
    const t = performance.now();
    const res = await new Promise<{ status: number; body: string }>((ok, fail) => {
      client.send("GET", `/api/logs/search?service=${service}&limit=100&${qs}`, headers).then(ok, fail);
    });
    return { ms: performance.now() - t, status: res.status, body: res.body };
  };
  // Pattern ids as stored on the logs: taken from a first page of each level.
  const patternIds = new Set<string>();
  for (const level of ["error", "warn", "info", "debug"]) {
    const res = await get(`level=${level}`);
    if (res.status === 200)
      for (const l of (JSON.parse(res.body) as { logs: { pattern_id?: string }[] }).logs)
        if (l.pattern_id) patternIds.add(l.pattern_id);
  }
  const pids = [...patternIds];
  const r = new Rng(99);
  const span = data.t1 - data.t0;
  const range = () => {
    const a = data.t0 + r.int(span - 600_000);
    return `start_time=${a}&end_time=${a + 60_000 + r.int(540_000)}`;
  };
  const words = [
    "timeout",
    "declined",
    "slow query",
    "cache miss",
    "webhook",
    "signed in",
    "TypeError",
    "status 503",
    "rate limit",
    "dequeued",
  ];
  const kinds: [string, () => string][] = [
    ["level", () => `level=${r.pick(["error", "warn", "debug", "error,warn"])}`],
    ["request_id", () => `request_id=${encodeURIComponent(r.pick(data.requestIds))}`],
    ["user_id", () => `user_id=${encodeURIComponent(r.pick(data.userIds))}`],
    ["q", () => `q=${encodeURIComponent(r.pick(words))}`],
    ["q_rare", () => `q=${encodeURIComponent(`payment ${r.hex(3)}`)}`],
    ["time_range", () => range()],
    ["pattern_id", () => `pattern_id=${encodeURIComponent(r.pick(pids))}`],
    ["level+time_range", () => `level=error&${range()}`],
    ["level+q", () => `level=${r.pick(["info", "warn"])}&q=${encodeURIComponent(r.pick(words))}`],
    ["pattern_id+time_range", () => `pattern_id=${encodeURIComponent(r.pick(pids))}&${range()}`],
  ];
  const usable = kinds.filter(([k]) => !(k.startsWith("pattern_id") && pids.length === 0));
  const all: number[] = [];
  const by: Record<string, { lat: number[]; rows: number }> = {};
  let errors = 0;
  let firstError: string | undefined;
  for (let i = 0; i < n; i++) {
    const [kind, make] = usable[i % usable.length];
    const res = await get(make());
    if (res.status !== 200) {
      errors++;
      firstError ??= `HTTP ${res.status}: ${res.body.slice(0, 300)}`;
      continue;
    }
    all.push(res.ms);
    const k = (by[kind] ??= { lat: [], rows: 0 });
    k.lat.push(res.ms);
    k.rows += (JSON.parse(res.body) as { logs: unknown[] }).logs.length;
  }
  all.sort((a, b) => a - b);
  const byKind: SearchResult["byKind"] = {};
  for (const [k, v] of Object.entries(by)) {
    v.lat.sort((a, b) => a - b);
    byKind[k] = {
      n: v.lat.length,
      p50: percentile(v.lat, 50),
      p99: percentile(v.lat, 99),
      rows: Math.round(v.rows / v.lat.length),
    };
  }
  return {
    queries: all.length,
    p50: percentile(all, 50),
    p99: percentile(all, 99),
    max: all[all.length - 1] ?? NaN,
    errors,
    firstError,
    byKind,
  };
}

/** GET /api/logs/:id for `n` known ids, one at a time: p50/p99 in ms and how many were found. */
export async function runGetById(
  client: Client,
  ids: string[],
  n: number,
): Promise<{ p50: number; p99: number; found: number; n: number }> {
  const headers = { authorization: `Bearer ${READ_KEY}` };
  const lat: number[] = [];
  let found = 0;
  for (let i = 0; i < n && ids.length > 0; i++) {
    const t0 = performance.now();
    const res = await client.send("GET", `/api/logs/${encodeURIComponent(ids[(i * 7919) % ids.length])}`, headers);
    lat.push(performance.now() - t0);
    if (res.status === 200) found++;
  }
  lat.sort((a, b) => a - b);
  return { p50: percentile(lat, 50), p99: percentile(lat, 99), found, n: lat.length };
}
