// The aggregator's flush: persisted rows leave the outbox (seq > persisted_seq) for the data
// service in batches of BULK_INSERT_SIZE, or, in the KV-only phase, for time-ordered KV chunks.
// Called only from the alarm (and the admin flush). Idempotent (ids; the data service dedupes),
// resumable (the cursor is in SQLite and moves only after an acknowledged write), and a failure
// is data, not a throw: the rows stay, the error is recorded, the next try is backed off.
import { backoffDelay } from "../src/core/backoff.js";
import { deliverWithSplit } from "../src/core/deliver.js";
import type { Config } from "../src/config.js";
import { DataServiceClient } from "../src/data-service-client.js";
import type { Env } from "../src/env.js";
import type { StoredLogEntry } from "../src/schema/log-entry.js";
import * as store from "./log-store.js";

/** At most this many batches per alarm run, to bound subrequests and time per invocation. */
export const MAX_BATCHES_PER_RUN = 20;
/** KV-only phase: rows per KV chunk (a chunk is one KV value, well under the 25 MiB cap). */
export const KV_CHUNK_ROWS = 500;

export interface FlushState {
  persistedSeq: number;
  failures: number;
  nextRetryAt: number;
  lastError: string | null;
  lastFlushAt: number;
  flushedTotal: number;
  flushFailedTotal: number;
  deadLetteredTotal: number;
}

export interface FlushReport {
  flushed: number;
  pending: number;
  dead_lettered: number;
  last_error: string | null;
}

const NUMERIC_KEYS = [
  "persistedSeq",
  "failures",
  "nextRetryAt",
  "lastFlushAt",
  "flushedTotal",
  "flushFailedTotal",
  "deadLetteredTotal",
] as const;

export function loadFlushState(sql: SqlStorage): FlushState {
  const raw = store.getMeta(sql, "flush_state");
  const base: FlushState = {
    persistedSeq: 0,
    failures: 0,
    nextRetryAt: 0,
    lastError: null,
    lastFlushAt: 0,
    flushedTotal: 0,
    flushFailedTotal: 0,
    deadLetteredTotal: 0,
  };
  if (!raw) return base;
  const parsed = JSON.parse(raw) as Partial<FlushState>;
  for (const k of NUMERIC_KEYS) if (typeof parsed[k] === "number") base[k] = parsed[k];
  base.lastError = typeof parsed.lastError === "string" ? parsed.lastError : null;
  return base;
}

export function saveFlushState(sql: SqlStorage, s: FlushState): void {
  store.setMeta(sql, "flush_state", JSON.stringify(s));
}

export class FlushPipeline {
  constructor(
    private readonly sql: SqlStorage,
    private readonly env: Env,
    private readonly identity: { service: string; domain: string },
    /** the outbox: entries after a seq, in seq order (the segment store) */
    private readonly pending: (afterSeq: number, limit: number) => StoredLogEntry[],
    private readonly alive: () => Promise<unknown> = async () => {},
  ) {}

  /**
   * One flush attempt. Skips a backed-off target unless forced. Returns what happened; the
   * state (cursor, failures, last error) is saved before returning.
   */
  async run(config: Config, state: FlushState, now: number, force: boolean): Promise<number> {
    if (!force && state.failures > 0 && now < state.nextRetryAt) return 0;
    let flushed = 0;
    let error: string | undefined;
    for (let batch = 0; batch < MAX_BATCHES_PER_RUN; batch++) {
      const size = config.persistenceEnabled ? config.bulkInsertSize : KV_CHUNK_ROWS;
      // Entries may come from memory (the segment cache): this storage call makes an object that
      // was reset meanwhile stop here (it throws) instead of sending on from a dead instance.
      if (batch > 0) {
        await this.alive();
        // A turn of the event loop between batches: without it, a run's chain of quick I/O
        // completions kept requests that arrived meanwhile waiting for the whole run (search
        // p99 of the slowest kind 100-140 ms while a 10k-log flush ran; 34-43 ms with this yield).
        await new Promise((r) => setTimeout(r, 0));
      }
      const entries = this.pending(state.persistedSeq, size);
      if (entries.length === 0) break;
      const step = config.persistenceEnabled
        ? await this.#toDataService(config, entries, now, state)
        : await this.#toKv(config, entries, now);
      flushed += step.done;
      state.persistedSeq = step.done > 0 ? entries[step.done - 1].seq! : state.persistedSeq;
      if (step.error) {
        error = step.error;
        break;
      }
      if (entries.length < size) break;
    }
    state.flushedTotal += flushed;
    if (error) {
      state.failures++;
      state.flushFailedTotal++;
      state.lastError = error;
      const base = config.backoffBaseMs;
      state.nextRetryAt =
        now + backoffDelay(state.failures - 1, { baseMs: base, capMs: config.backoffCapMs, floorMs: base / 2 });
    } else {
      state.failures = 0;
      state.nextRetryAt = 0;
      state.lastFlushAt = now;
      state.lastError = null;
    }
    // Saved once per run, not per batch (one row instead of up to MAX_BATCHES_PER_RUN): a crash
    // mid-run resends that run's delivered batches, which the data service dedupes by id.
    saveFlushState(this.sql, state);
    return flushed;
  }

  /** Entries handled (stored or dead-lettered) from the front of `entries`, and any error. */
  async #toDataService(
    config: Config,
    entries: StoredLogEntry[],
    now: number,
    state: FlushState,
  ): Promise<{ done: number; error?: string }> {
    const client = DataServiceClient.fromEnv(config, this.env)!;
    const d = await deliverWithSplit(entries, (b) => client.storeBatch(b));
    for (const r of d.refused) {
      store.addDeadLetter(this.sql, r.entry, r.error, now);
      state.deadLetteredTotal++;
    }
    return { done: d.delivered.length + d.refused.length, error: d.complete ? undefined : d.error };
  }

  async #toKv(config: Config, entries: StoredLogEntry[], now: number): Promise<{ done: number; error?: string }> {
    const first = entries[0].seq!;
    const last = entries[entries.length - 1].seq!;
    const key = `logs/${this.identity.domain}/${this.identity.service}/${String(first).padStart(12, "0")}`;
    const ttlSeconds = config.retentionDays * 86_400;
    try {
      await this.env.LOGS_KV.put(key, JSON.stringify(entries), { expirationTtl: ttlSeconds });
    } catch (err) {
      return { done: 0, error: `KV chunk write failed: ${err instanceof Error ? err.message : String(err)}` };
    }
    let minTs = Infinity;
    let maxTs = -Infinity;
    for (const e of entries) {
      minTs = Math.min(minTs, e.timestamp);
      maxTs = Math.max(maxTs, e.timestamp);
    }
    this.sql.exec(
      "INSERT OR REPLACE INTO kv_chunks(key, first_seq, last_seq, min_ts, max_ts, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
      key,
      first,
      last,
      minTs,
      maxTs,
      now + ttlSeconds * 1000,
    );
    return { done: entries.length };
  }
}
