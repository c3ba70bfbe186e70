// LoggerClient: the small client SDK for the logger's POST /api/logs/batch. Runs in Workers and
// Node alike (only fetch, timers and nanoid; no Node APIs). Reached by URL or by a service
// binding (`fetcher`).
//
// - Batching: an entry is sent when `maxBatch` are buffered, or `flushIntervalMs` after the
//   first entry of a batch arrived, whichever comes first. One request in flight at a time.
// - Bounded memory: at most `maxBuffer` entries wait (plus one batch in flight). When full the
//   oldest entry is dropped and counted in `stats().dropped`; memory never grows without bound.
// - Retries: 408, 429, 5xx, network errors and timeouts are retried with exponential backoff and
//   jitter (or the server's Retry-After), up to `maxRetries` times. Every entry gets its id
//   (nanoid) when it is logged, and a retry resends the same ids, so the server's idempotency
//   drops copies of entries that were stored before an answer was lost.
// - Entries the server refuses (400, 403, 413 for a single entry) are not retried: they are
//   counted in `stats().rejected` and passed to `onError`.
// - `flush()` resolves once every buffered entry is acknowledged (stored or refused), and
//   rejects if a batch still fails after its retries; such a batch goes back to the front of the
//   buffer for the next attempt. In a Worker, call `client.waitUntil(ctx)` before returning:
//   timers do not outlive the request there.
import { nanoid } from "nanoid";

export type LogLevel = "error" | "warn" | "info" | "debug";

export interface LogFields {
  timestamp?: number | string;
  domain?: string;
  user_id?: string;
  session_id?: string;
  request_id?: string;
  metadata?: Record<string, unknown>;
  context?: { url?: string; method?: string; ip?: string };
  stack_trace?: string;
  category?: "auth" | "data" | "api" | "ui";
  priority?: 1 | 2 | 3 | 4 | 5;
}

export interface ClientLogEntry extends LogFields {
  id: string;
  level: LogLevel;
  message: string;
  service: string;
  timestamp: number | string;
}

/** What a service binding or `fetch` offers; `Fetcher` from workers-types fits. */
export interface FetchLike {
  fetch(input: string, init: RequestInit): Promise<Response>;
}

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface LoggerClientOptions {
  /** Base URL of the logger, e.g. "https://logs.example.com". Give this or `fetcher`. */
  url?: string;
  /** A service binding to the logger (`env.LOGGER`), used instead of the network. */
  fetcher?: FetchLike;
  /** An ingest key. */
  apiKey: string;
  service: string;
  domain?: string;
  /** Entries per request, 1-1000 (the batch route's limit). Default 100. */
  maxBatch?: number;
  /** Longest wait before a partial batch is sent. Default 1000 ms; 0 = only by size/flush(). */
  flushIntervalMs?: number;
  /** Entries waiting at most; beyond it the oldest is dropped and counted. Default 10000. */
  maxBuffer?: number;
  /** Retries of one batch after the first attempt. Default 5. */
  maxRetries?: number;
  /** First backoff; doubles per retry, with jitter. Default 200 ms. */
  backoffBaseMs?: number;
  /** Cap of a backoff and of a Retry-After wait. Default 30000 ms. */
  backoffMaxMs?: number;
  /** Per-request timeout. Default 10000 ms. */
  requestTimeoutMs?: number;
  /** Called when entries are refused for good or a batch gives up after its retries. */
  onError?: (error: Error, entries: ClientLogEntry[]) => void;
  // Injection points for tests (and exotic runtimes).
  fetch?: (input: string, init: RequestInit) => Promise<Response>;
  timers?: Timers;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
  random?: () => number;
  makeId?: () => string;
}

export interface ClientStats {
  /** entries waiting to be sent */
  buffered: number;
  /** entries in the request in flight */
  inFlight: number;
  /** entries the server acknowledged (stored, or already stored: duplicates) */
  sent: number;
  /** entries the server refused (not retried) */
  rejected: number;
  /** entries dropped because the buffer was full, or logged after close() */
  dropped: number;
  /** requests repeated after a retryable failure */
  retries: number;
}

/** The server answered with something not worth retrying, or a batch gave up. */
export class LoggerClientError extends Error {
  constructor(
    message: string,
    readonly status?: number,
    /** entries not acknowledged when a batch gave up; they are buffered again */
    readonly unacknowledged: ClientLogEntry[] = [],
  ) {
    super(message);
    this.name = "LoggerClientError";
  }
}

export const MAX_BATCH = 1000;

interface BatchResult {
  index: number;
  id?: string;
  error?: { code: string; message: string };
}

type Outcome =
  | { kind: "done"; retry: ClientLogEntry[] }
  | { kind: "retry"; delayMs?: number; reason: string }
  | { kind: "split" };

const RETRYABLE = new Set([408, 429, 500, 502, 503, 504]);

export class LoggerClient {
  readonly #o: Required<
    Pick<
      LoggerClientOptions,
      | "maxBatch"
      | "flushIntervalMs"
      | "maxBuffer"
      | "maxRetries"
      | "backoffBaseMs"
      | "backoffMaxMs"
      | "requestTimeoutMs"
    >
  > &
    LoggerClientOptions;
  readonly #send: (input: string, init: RequestInit) => Promise<Response>;
  readonly #endpoint: string;
  readonly #timers: Timers;
  #buffer: ClientLogEntry[] = [];
  #inFlight = 0;
  #timer: unknown = undefined;
  #pumping: Promise<void> | undefined;
  #closed = false;
  #stats = { sent: 0, rejected: 0, dropped: 0, retries: 0 };

  constructor(options: LoggerClientOptions) {
    if (!options.url && !options.fetcher) throw new TypeError("LoggerClient: give `url` or `fetcher`");
    if (!options.apiKey) throw new TypeError("LoggerClient: `apiKey` is required");
    if (!/^[A-Za-z0-9._-]{1,128}$/.test(options.service ?? ""))
      throw new TypeError("LoggerClient: `service` must be 1-128 characters of [A-Za-z0-9._-]");
    const maxBatch = options.maxBatch ?? 100;
    if (!Number.isInteger(maxBatch) || maxBatch < 1 || maxBatch > MAX_BATCH)
      throw new RangeError(`LoggerClient: maxBatch must be 1-${MAX_BATCH}`);
    const maxBuffer = options.maxBuffer ?? 10_000;
    if (!Number.isInteger(maxBuffer) || maxBuffer < 1)
      throw new RangeError("LoggerClient: maxBuffer must be a positive integer");
    this.#o = {
      flushIntervalMs: 1000,
      maxRetries: 5,
      backoffBaseMs: 200,
      backoffMaxMs: 30_000,
      requestTimeoutMs: 10_000,
      ...options,
      maxBatch,
      maxBuffer,
    };
    if (options.fetcher) {
      const f = options.fetcher;
      this.#send = (input, init) => f.fetch(input, init);
      this.#endpoint = `${(options.url ?? "https://logger").replace(/\/+$/, "")}/api/logs/batch`;
    } else {
      const f = options.fetch ?? ((input: string, init: RequestInit) => fetch(input, init));
      this.#send = f;
      this.#endpoint = `${options.url!.replace(/\/+$/, "")}/api/logs/batch`;
    }
    this.#timers = options.timers ?? {
      setTimeout: (fn, ms) => {
        const t = setTimeout(fn, ms) as unknown as { unref?: () => void };
        t.unref?.(); // Node: a pending flush timer must not keep the process alive
        return t;
      },
      clearTimeout: (h) => clearTimeout(h as Parameters<typeof clearTimeout>[0]),
    };
  }

  /** Queues an entry and returns its id. Never throws for a full buffer: the oldest is dropped. */
  log(level: LogLevel, message: string, fields: LogFields = {}): string {
    const id = (this.#o.makeId ?? nanoid)();
    if (this.#closed) {
      this.#stats.dropped++;
      return id;
    }
    const entry: ClientLogEntry = {
      ...fields,
      id,
      level,
      message,
      service: this.#o.service,
      timestamp: fields.timestamp ?? (this.#o.now ?? Date.now)(),
    };
    const domain = fields.domain ?? this.#o.domain;
    if (domain !== undefined) entry.domain = domain;
    this.#buffer.push(entry);
    this.#trim();
    if (this.#buffer.length >= this.#o.maxBatch)
      this.#kick().catch(() => undefined); // reported via onError
    else this.#arm();
    return id;
  }

  debug(message: string, fields?: LogFields): string {
    return this.log("debug", message, fields);
  }
  info(message: string, fields?: LogFields): string {
    return this.log("info", message, fields);
  }
  warn(message: string, fields?: LogFields): string {
    return this.log("warn", message, fields);
  }
  /** `error("db down", err)` puts the Error's stack in stack_trace. */
  error(message: string, fieldsOrError?: LogFields | Error): string {
    if (fieldsOrError instanceof Error) {
      return this.log("error", message, {
        stack_trace: fieldsOrError.stack ?? `${fieldsOrError.name}: ${fieldsOrError.message}`,
        metadata: { error: fieldsOrError.name },
      });
    }
    return this.log("error", message, fieldsOrError);
  }

  stats(): ClientStats {
    return { buffered: this.#buffer.length, inFlight: this.#inFlight, ...this.#stats };
  }

  /** Sends everything buffered; resolves when all of it is acknowledged, rejects if a batch gave up. */
  async flush(): Promise<void> {
    this.#disarm();
    while (this.#buffer.length > 0 || this.#pumping) await this.#kick();
  }

  /** Flushes, then refuses new entries (they count as dropped). */
  async close(): Promise<void> {
    this.#closed = true;
    await this.flush();
  }

  /** Workers: keeps the invocation alive until the buffer is flushed. Errors go to onError only. */
  waitUntil(ctx: { waitUntil(promise: Promise<unknown>): void }): void {
    ctx.waitUntil(this.flush().catch(() => undefined));
  }

  #trim(): void {
    while (this.#buffer.length > this.#o.maxBuffer) {
      this.#buffer.shift();
      this.#stats.dropped++;
    }
  }

  #arm(): void {
    if (this.#timer !== undefined || this.#o.flushIntervalMs <= 0) return;
    this.#timer = this.#timers.setTimeout(() => {
      this.#timer = undefined;
      this.#kick().catch(() => undefined); // reported through onError; the entries stay buffered
    }, this.#o.flushIntervalMs);
  }

  #disarm(): void {
    if (this.#timer === undefined) return;
    this.#timers.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Starts the sender unless it runs; returns when it stops. */
  #kick(): Promise<void> {
    this.#pumping ??= this.#pump().finally(() => {
      this.#pumping = undefined;
      if (this.#buffer.length > 0 && !this.#closed) this.#arm();
    });
    return this.#pumping;
  }

  async #pump(): Promise<void> {
    this.#disarm();
    while (this.#buffer.length > 0) {
      const batch = this.#buffer.splice(0, this.#o.maxBatch);
      this.#inFlight = batch.length;
      try {
        await this.#deliver(batch);
      } catch (err) {
        // Gave up for now: what was not acknowledged goes back to the front, within the
        // buffer's bound; the timer (or the next flush) tries again with the same ids.
        this.#buffer.unshift(...(err instanceof LoggerClientError ? err.unacknowledged : batch));
        this.#trim();
        throw err;
      } finally {
        this.#inFlight = 0;
      }
    }
  }

  /** Delivers one batch; throws LoggerClientError when it still fails after the retries. */
  async #deliver(batch: ClientLogEntry[]): Promise<void> {
    let pending = batch;
    let attempt = 0;
    for (;;) {
      let outcome: Outcome;
      try {
        outcome = await this.#attempt(pending);
      } catch (err) {
        outcome = { kind: "retry", reason: err instanceof Error ? err.message : String(err) };
      }
      if (outcome.kind === "split") {
        if (pending.length === 1) {
          this.#refuse(pending, new LoggerClientError("entry larger than the server accepts (413)", 413));
          return;
        }
        const half = Math.ceil(pending.length / 2);
        const second = pending.slice(half);
        try {
          await this.#deliver(pending.slice(0, half));
        } catch (err) {
          if (err instanceof LoggerClientError)
            throw new LoggerClientError(err.message, err.status, [...err.unacknowledged, ...second]);
          throw err;
        }
        await this.#deliver(second);
        return;
      }
      if (outcome.kind === "done") {
        if (outcome.retry.length === 0) return;
        pending = outcome.retry; // some entries hit an unavailable or rate-limited shard: resend just those
      }
      if (attempt >= this.#o.maxRetries) {
        const reason = outcome.kind === "retry" ? outcome.reason : "storage unavailable";
        const error = new LoggerClientError(`gave up after ${attempt + 1} attempts: ${reason}`, undefined, pending);
        this.#o.onError?.(error, pending);
        throw error;
      }
      const delay =
        outcome.kind === "retry" && outcome.delayMs !== undefined
          ? Math.min(outcome.delayMs, this.#o.backoffMaxMs)
          : this.#backoff(attempt);
      attempt++;
      this.#stats.retries++;
      await (this.#o.sleep ?? ((ms: number) => new Promise<void>((ok) => this.#timers.setTimeout(ok, ms))))(delay);
    }
  }

  /** Exponential backoff with "equal jitter": half fixed, half random, capped. */
  #backoff(attempt: number): number {
    const exp = Math.min(this.#o.backoffMaxMs, this.#o.backoffBaseMs * 2 ** attempt);
    return Math.round(exp / 2 + (this.#o.random ?? Math.random)() * (exp / 2));
  }

  async #attempt(batch: ClientLogEntry[]): Promise<Outcome> {
    const signal =
      typeof AbortSignal !== "undefined" && "timeout" in AbortSignal
        ? AbortSignal.timeout(this.#o.requestTimeoutMs)
        : undefined;
    const res = await this.#send(this.#endpoint, {
      method: "POST",
      headers: { authorization: `Bearer ${this.#o.apiKey}`, "content-type": "application/json" },
      body: JSON.stringify({ logs: batch }),
      signal,
    });
    if (res.status === 413) {
      await res.body?.cancel();
      return { kind: "split" };
    }
    if (RETRYABLE.has(res.status)) {
      await res.body?.cancel();
      return {
        kind: "retry",
        delayMs: retryAfterMs(res.headers.get("retry-after"), (this.#o.now ?? Date.now)()),
        reason: `HTTP ${res.status}`,
      };
    }
    let body: { results?: BatchResult[]; error?: { code: string; message: string } } = {};
    try {
      body = (await res.json()) as typeof body;
    } catch {
      // not JSON: judged by status alone
    }
    if (res.status === 202 || (res.status === 400 && Array.isArray(body.results))) {
      const results = body.results ?? [];
      const retry: ClientLogEntry[] = [];
      const refused: ClientLogEntry[] = [];
      for (const r of results) {
        const entry = batch[r.index];
        if (!entry) continue;
        if (r.id !== undefined) this.#stats.sent++;
        else if (r.error?.code === "upstream_unavailable" || r.error?.code === "rate_limited") retry.push(entry);
        else refused.push(entry);
      }
      if (results.length === 0 && res.status === 202) this.#stats.sent += batch.length;
      if (refused.length > 0)
        this.#refuse(
          refused,
          new LoggerClientError(`${refused.length} entries refused: ${firstError(results)}`, res.status),
        );
      return { kind: "done", retry };
    }
    // 401, 403, 415, 400 without results…: the batch will never be taken as it is.
    this.#refuse(batch, new LoggerClientError(`HTTP ${res.status}: ${body.error?.message ?? "refused"}`, res.status));
    return { kind: "done", retry: [] };
  }

  #refuse(entries: ClientLogEntry[], error: LoggerClientError): void {
    this.#stats.rejected += entries.length;
    this.#o.onError?.(error, entries);
  }
}

function firstError(results: BatchResult[]): string {
  return results.find((r) => r.error)?.error?.message ?? "";
}

/** Retry-After: delta-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function retryAfterMs(value: string | null, now: number): number | undefined {
  if (!value) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isFinite(at) ? Math.max(0, at - now) : undefined;
}
