// HTTP load from Node: keep-alive sockets (one per client), closed-loop clients, percentiles.
import { Agent, request } from "node:http";

export interface Reply {
  status: number;
  body: string;
}

export class Client {
  readonly agent: Agent;
  readonly host: string;
  readonly port: number;

  constructor(baseUrl: string, sockets: number) {
    const u = new URL(baseUrl);
    this.host = u.hostname;
    this.port = Number(u.port);
    this.agent = new Agent({ keepAlive: true, maxSockets: sockets, maxFreeSockets: sockets });
  }

  /**
   * One request. A GET that fails on a reused keep-alive socket before any answer is sent again
   * once: the server closed that idle socket as Node picked it (Node's documented keep-alive
   * race, seen as "socket hang up" / ECONNRESET on the first request after a long one).
   */
  async send(method: string, path: string, headers: Record<string, string>, body?: Buffer | string): Promise<Reply> {
    try {
      return await this.#send(method, path, headers, body);
    } catch (err) {
      const stale = (err as { reusedSocket?: boolean }).reusedSocket === true;
      const reset = (err as NodeJS.ErrnoException).code === "ECONNRESET";
      if (method !== "GET" || !stale || !reset) throw err;
      return this.#send(method, path, headers, body);
    }
  }

  #send(method: string, path: string, headers: Record<string, string>, body?: Buffer | string): Promise<Reply> {
    return new Promise((ok, fail) => {
      const req = request(
        {
          host: this.host,
          port: this.port,
          method,
          path,
          headers: body !== undefined ? { ...headers, "content-length": String(Buffer.byteLength(body)) } : headers,
          agent: this.agent,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => ok({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
          res.on("error", fail);
        },
      );
      req.setTimeout(30_000, () => req.destroy(new Error(`timeout: ${method} ${path}`)));
      req.on("error", (err) => fail(Object.assign(err, { reusedSocket: req.reusedSocket })));
      if (body !== undefined) req.end(body);
      else req.end();
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

export const median = (xs: number[]) =>
  percentile(
    [...xs].sort((a, b) => a - b),
    50,
  );

export interface LoadResult {
  requests: number;
  entries: number;
  seconds: number;
  logsPerSec: number;
  p50: number;
  p99: number;
  errors: number;
  statuses: Record<string, number>;
  firstError?: string;
}

export interface LoadSpec {
  client: Client;
  path: string;
  headers: Record<string, string>;
  /** the i-th request's body and how many entries it carries */
  body: (i: number) => { body: Buffer; entries: number };
  concurrency: number;
  warmupMs: number;
  durationMs: number;
  /** accepted entries in a reply (default: the request's entry count on 2xx) */
  expectStatus?: number;
}

/**
 * Closed loop: `concurrency` clients each send the next request as soon as the previous one is
 * answered. Warm-up requests are not counted; the window counts requests answered inside it.
 */
export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  let i = 0;
  let stop = false;
  let counting = false;
  const lat: number[] = [];
  let entries = 0;
  let errors = 0;
  let firstError: string | undefined;
  const statuses: Record<string, number> = {};
  const expect = spec.expectStatus ?? 202;
  let windowStart = 0;
  const worker = async () => {
    while (!stop) {
      const { body, entries: n } = spec.body(i++);
      const t0 = performance.now();
      let status = 0;
      try {
        const r = await spec.client.send("POST", spec.path, spec.headers, body);
        status = r.status;
        if (status !== expect && !firstError) firstError = `HTTP ${status}: ${r.body.slice(0, 300)}`;
      } catch (err) {
        if (!firstError) firstError = String(err);
      }
      const t1 = performance.now();
      if (counting && !stop) {
        lat.push(t1 - t0);
        statuses[status] = (statuses[status] ?? 0) + 1;
        if (status === expect) entries += n;
        else errors++;
      }
    }
  };
  const workers = Array.from({ length: spec.concurrency }, worker);
  await new Promise((r) => setTimeout(r, spec.warmupMs));
  counting = true;
  windowStart = performance.now();
  await new Promise((r) => setTimeout(r, spec.durationMs));
  const seconds = (performance.now() - windowStart) / 1000;
  stop = true;
  counting = false;
  await Promise.all(workers);
  lat.sort((a, b) => a - b);
  return {
    requests: lat.length,
    entries,
    seconds,
    logsPerSec: entries / seconds,
    p50: percentile(lat, 50),
    p99: percentile(lat, 99),
    errors,
    statuses,
    firstError,
  };
}

/** Sequential requests, one at a time: the latency of a single request with nothing queued. */
export async function sequentialLatency(
  client: Client,
  path: string,
  headers: Record<string, string>,
  body: () => Buffer,
  n: number,
  expect: number,
): Promise<{ p50: number; p99: number; bad: number }> {
  const lat: number[] = [];
  let bad = 0;
  for (let k = 0; k < n; k++) {
    const t0 = performance.now();
    const r = await client.send("POST", path, headers, body());
    lat.push(performance.now() - t0);
    if (r.status !== expect) bad++;
  }
  lat.sort((a, b) => a - b);
  return { p50: percentile(lat, 50), p99: percentile(lat, 99), bad };
}
