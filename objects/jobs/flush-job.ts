// The outbox job: the segments after persistedSeq go to the data service (or KV chunks) through
// FlushPipeline. Its state (cursor, failures, backoff, totals) is in SQLite meta; this job decides
// when the oldest unpersisted segment is due and keeps the state the facade reports.
import { backoffDelay } from "../../src/core/backoff.js";
import { phaseOf } from "../../src/core/phase.js";
import {
  FlushPipeline,
  type FlushReport,
  type FlushState,
  KV_CHUNK_ROWS,
  loadFlushState,
  saveFlushState,
} from "../flush-pipeline.js";
import * as store from "../log-store.js";
import type { ScheduledTask } from "../scheduler.js";
import type { AggregatorParts } from "./context.js";

/** Least time between two flushes triggered early by a full backlog. */
export const EARLY_FLUSH_GAP_MS = 1_000;
const ALARM_BACKOFF = { baseMs: 1_000, capMs: 5 * 60_000, floorMs: 500 };
/** Share of FLUSH_INTERVAL_MS the aggregator's phase may take off the wait (src/core/phase.ts). */
export const FLUSH_SPREAD = 0.5;

export class FlushJob implements ScheduledTask {
  readonly name = "flush";
  state!: FlushState;

  constructor(
    private readonly parts: AggregatorParts,
    private readonly getAlarm: () => Promise<number | null>,
  ) {}

  /** Reads the durable state (on start, after the schema migration). */
  load(): void {
    this.state = loadFlushState(this.parts.sql);
  }

  /** Logs stored but not yet persisted. */
  pending(): number {
    return this.parts.store.countAfter(this.state.persistedSeq);
  }

  /** "Several full batches" are waiting (batches of the active store: data service or KV chunks). */
  #backlogFull(): boolean {
    const c = this.parts.config();
    return this.pending() >= 4 * (c.persistenceEnabled ? c.bulkInsertSize : KV_CHUNK_ROWS);
  }

  /**
   * The oldest unpersisted segment waits at most FLUSH_INTERVAL_MS, less up to half of it by the
   * aggregator's phase (so a fleet started together does not flush together); failures wait
   * their backoff.
   */
  dueAt(): number | null {
    const oldest = this.parts.store.oldestReceivedAfter(this.state.persistedSeq);
    if (oldest === null || !this.parts.identity().service) return null;
    const f = this.state;
    if (f.failures > 0) return f.nextRetryAt;
    // A full backlog flushes early, but at most once per EARLY_FLUSH_GAP_MS: under a steady
    // flood, one flush a second moves 20 batches and leaves the isolate to ingest.
    if (this.#backlogFull()) return f.lastFlushAt + EARLY_FLUSH_GAP_MS;
    const interval = this.parts.config().flushIntervalMs;
    return oldest + Math.round(interval * (1 - FLUSH_SPREAD * phaseOf(this.parts.identity().name)));
  }

  async run(now: number, force: boolean): Promise<void> {
    const { service, domain } = this.parts.identity();
    if (!service || this.parts.store.oldestReceivedAfter(this.state.persistedSeq) === null) return;
    const pipeline = new FlushPipeline(
      this.parts.sql,
      this.parts.env,
      { service, domain },
      (after, limit) => this.parts.store.entriesAfter(after, {}, limit),
      this.getAlarm,
    );
    await pipeline.run(this.parts.config(), this.state, now, force);
  }

  /**
   * An alarm run threw. The platform would retry only six times and then drop the alarm, so the
   * error is recorded here and the answer is when to come back (backed off); rows stay in SQLite.
   */
  recordAlarmFailure(err: unknown, now: number): number {
    const f = this.state;
    f.failures++;
    f.lastError = `alarm failed: ${err instanceof Error ? err.message : String(err)}`.slice(0, 500);
    f.nextRetryAt = now + backoffDelay(f.failures - 1, ALARM_BACKOFF);
    saveFlushState(this.parts.sql, f);
    console.error(f.lastError);
    return f.nextRetryAt;
  }

  /** Moves up to `limit` dead letters back into the outbox with new seqs; answers how many. */
  replayDeadLetters(limit: number): number {
    const { sql, store: segments } = this.parts;
    const letters = store.listDeadLetters(sql, limit);
    if (letters.length === 0) return 0;
    const seqs = new Set(letters.map((l) => l.seq));
    // The original entries leave their segments; the copies are already counted (folded).
    segments.removeWhere(
      (s) => letters.some((l) => l.seq >= s.first && l.seq <= s.last),
      (e) => seqs.has(e.seq ?? 0),
    );
    let seq = segments.maxSeq();
    segments.append(
      letters.map((l) => ({ ...l.entry, seq: ++seq })),
      {},
      true,
    );
    store.deleteDeadLetters(
      sql,
      letters.map((l) => l.seq),
    );
    return letters.length;
  }

  /** What an admin flush reports, given flushedTotal before it. */
  report(flushedBefore: number): FlushReport {
    return {
      flushed: this.state.flushedTotal - flushedBefore,
      pending: this.pending(),
      dead_lettered: store.countDeadLetters(this.parts.sql),
      last_error: this.state.lastError,
    };
  }
}
