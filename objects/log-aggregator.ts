// LogAggregator: the Durable Object for one domain/service (or one shard of it). A facade of RPC
// methods and platform hooks; the work lives in its modules: batch-ingest.ts (one ingest call),
// segment-store.ts (the log store: one SQLite row per ingested batch), live-counters.ts,
// pattern-engine.ts, tail-sockets.ts, kv-archive.ts, aggregator-report.ts (/metrics, /health)
// and the alarm's jobs in jobs/ (migrate, flush, pattern push, checks, snapshot,
// trim), which scheduler.ts runs when each says it is due. Storage holds the truth; memory is a
// cache rebuilt exactly after eviction.
import { DurableObject } from "cloudflare:workers";
import type { LevelCounts } from "../src/core/rolling-counters.js";
import type { Env } from "../src/env.js";
import type { Level, NormalisedLogEntry, StoredLogEntry } from "../src/schema/log-entry.js";
import type { AggregatorSearch } from "../src/schema/query.js";
import { loadConfig, type Config } from "../src/config.js";
import { TEXT_SCAN_BUDGET } from "../src/core/segment-search.js";
import type { FlushReport } from "./flush-pipeline.js";
import * as store from "./log-store.js";
import { SegmentStore } from "./segment-store.js";
import { LiveCounters, type StatsSnapshot } from "./live-counters.js";
import { Scheduler } from "./scheduler.js";
import { findArchived, searchKvChunks } from "./kv-archive.js";
import type { Check } from "../src/schema/checks.js";
import { PatternEngine, type PatternQuery } from "./pattern-engine.js";
import { LEARNED_KEY, type LearnedPattern } from "../src/core/learned-patterns.js";
import type { Pattern } from "../src/schema/pattern.js";
import { recentRejections, rejectionCounts, type RejectionReport } from "./rejections.js";
import { BatchIngest, ServiceIdentity } from "./batch-ingest.js";
import { aggregatorHealth, aggregatorMetrics } from "./aggregator-report.js";
import type { RejectionRecord } from "../src/core/rejections.js";
import { errorBody } from "../src/errors.js";
import { TailSubscription } from "../src/schema/tail.js";
import { TailSockets } from "./tail-sockets.js";
import { HUB_NAME } from "./tail-hub.js";
import { TailPublisher } from "./tail-publisher.js";
import { parseBytesPerSecond } from "../src/core/tail-flow.js";
import { meteredSql } from "./metered-sql.js";
import type { AggregatorParts } from "./jobs/context.js";
import { MigrateJob } from "./jobs/migrate-job.js";
import { FlushJob } from "./jobs/flush-job.js";
import { PatternPushJob } from "./jobs/pattern-push-job.js";
import { ChecksJob } from "./jobs/checks-job.js";
import { SnapshotJob } from "./jobs/snapshot-job.js";
import { TrimJob } from "./jobs/trim-job.js";
import type {
  AggregatorHealth,
  AggregatorMetrics,
  IngestOutcome,
  RejectedCounts,
  SearchPage,
} from "./aggregator-types.js";

export type { StatsSnapshot } from "./live-counters.js";

export type * from "./aggregator-types.js";

export class LogAggregator extends DurableObject<Env> {
  readonly #meter = { rowsWritten: 0 };
  readonly #who = new ServiceIdentity();
  readonly #parts: AggregatorParts;
  readonly #store: SegmentStore;
  readonly #counters: LiveCounters;
  readonly #tails: TailSockets;
  readonly #patterns: PatternEngine;
  readonly #ingest: BatchIngest;
  readonly #scheduler: Scheduler;
  readonly #flush: FlushJob;
  readonly #checks: ChecksJob;
  readonly #snapshot: SnapshotJob;
  readonly #trim: TrimJob;
  #config!: Config;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const sql = meteredSql(ctx.storage.sql, this.#meter);
    const maxQueue = Number(env.TAIL_QUEUE_MAX);
    // The tail cursor is keyed by aggregator name: a shard's seqs are its own.
    this.#tails = new TailSockets(
      ctx,
      () => this.#name,
      Number.isInteger(maxQueue) && maxQueue > 0 ? maxQueue : undefined,
      parseBytesPerSecond(env.TAIL_SUBSCRIBER_BYTES_PER_S),
    );
    this.#patterns = new PatternEngine(sql);
    this.#store = new SegmentStore(sql, () => this.#who, 16_000_000);
    this.#counters = new LiveCounters(sql, this.#store);
    const self = this;
    const parts: AggregatorParts = (this.#parts = {
      sql,
      // read on each use: env is the object's (tests swap it to inject faults)
      get env() {
        return self.env;
      },
      store: this.#store,
      counters: this.#counters,
      patterns: this.#patterns,
      config: () => this.#config,
      identity: () => ({ service: this.#who.service, domain: this.#who.domain, name: this.#name }),
    });
    this.#flush = new FlushJob(parts, () => ctx.storage.getAlarm());
    this.#checks = new ChecksJob(parts);
    this.#snapshot = new SnapshotJob(parts, this.#flush);
    this.#trim = new TrimJob(parts, () => this.#flush.state.persistedSeq);
    // Tails through the hub (objects/tail-publisher.ts) for subscribers of many services.
    const publisher = new TailPublisher(
      () => env.TAIL_HUB.getByName(HUB_NAME),
      () => this.#name,
      (after, limit) => this.#store.entriesAfter(after, {}, limit),
    );
    this.#ingest = new BatchIngest(parts, this.#who, this.#tails, publisher, this.#checks);
    // The alarm's jobs, in the order a run does them; each says when it is next due.
    this.#scheduler = new Scheduler(ctx.storage, [
      new MigrateJob(this.#store),
      this.#flush,
      new PatternPushJob(parts),
      this.#checks,
      this.#snapshot,
      this.#trim,
    ]);
    // Answered by the runtime without waking a hibernated object.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("ping", "pong"));
    void ctx.blockConcurrencyWhile(async () => {
      this.#config = await loadConfig(env);
      store.migrate(sql);
      this.#who.load(sql);
      this.#flush.load();
      this.#snapshot.load();
      this.#trim.load();
      this.#store.setCacheBytes(this.#config.segmentCacheBytes);
      this.#store.load();
      this.#counters.rebuild(Date.now());
      this.#patterns.restore((seq) => this.#store.iterateAfter(seq));
      this.#checks.load();
      if (!this.#patterns.hasLearned) {
        const learned = await env.LOGS_KV.get<LearnedPattern[]>(LEARNED_KEY, "json").catch(() => null);
        if (learned) this.#patterns.setLearned(learned);
      }
      // Re-arm from durable state: the pending alarm survives eviction, memory does not.
      await this.#scheduler.restore();
      await this.#scheduler.arm(Date.now());
    });
  }

  /** The aggregator's name: "<domain>/<service>" or "<domain>/<service>#<shard>". */
  get #name(): string {
    return this.ctx.id.name ?? `${this.#who.domain}/${this.#who.service}`;
  }

  /** Stores entries (all of one domain/service). Resolves once they are in SQLite. */
  async ingest(
    entries: NormalisedLogEntry[],
    rejected?: RejectedCounts,
    rejections?: RejectionRecord[],
  ): Promise<IngestOutcome> {
    const now = Date.now();
    this.#config = await loadConfig(this.env);
    const { outcome, stored } = this.#ingest.ingest(entries, rejected, rejections, now);
    if (stored > 0) await this.#scheduler.arm(now);
    await this.#ingest.touchRegistry(now);
    return outcome;
  }

  async search(request: AggregatorSearch): Promise<SearchPage> {
    const search = { ...request, filter: this.#patterns.expandFilter(request.filter) };
    const found = this.#store.search(search, TEXT_SCAN_BUDGET);
    const trimmedThroughTs = Number(store.getMeta(this.#parts.sql, "trimmed_through_ts") ?? 0);
    const logs = found.logs;
    if (found.scannedThrough) return { logs, trimmedThroughTs, scannedThrough: found.scannedThrough };
    if (trimmedThroughTs === 0 || this.#config.persistenceEnabled) return { logs, trimmedThroughTs };
    // KV-only phase: rows trimmed from SQLite live in KV chunks; read the chunks that can hold
    // rows of this page, newest (or oldest) first, and stop once no further chunk can compete.
    return {
      logs: await searchKvChunks(this.#parts.sql, this.env.LOGS_KV, this.#name, search, [...logs]),
      trimmedThroughTs,
    };
  }

  async getLog(id: string): Promise<StoredLogEntry | null> {
    return this.#store.findById(id) ?? (await findArchived(this.#parts.sql, this.env.LOGS_KV, id));
  }

  // ---- live tail: fetch() only upgrades WebSockets; everything else is RPC ----

  override async fetch(request: Request): Promise<Response> {
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return Response.json(errorBody("invalid_request", "WebSocket upgrade required"), { status: 426 });
    }
    let sub: TailSubscription;
    try {
      sub = TailSubscription.parse(JSON.parse(request.headers.get("x-tail-subscription") ?? "{}"));
    } catch {
      return Response.json(errorBody("invalid_request", "bad tail subscription"), { status: 400 });
    }
    const client = this.#tails.open(sub, this.#store, (f) => this.#patterns.expandFilter(f));
    return new Response(null, { status: 101, webSocket: client });
  }

  override webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): void {
    // Clients only ping (answered by the auto-response); anything else large is refused.
    if (typeof message !== "string" || message.length > 1024) ws.close(1009, "message too large");
  }

  override webSocketClose(ws: WebSocket, code: number): void {
    this.#tails.forget(ws);
    // 1005/1006/1015 are reserved: they may not be sent in a close frame.
    if (code !== 1005 && code !== 1006 && code !== 1015) {
      try {
        ws.close(code, "bye");
      } catch {
        // already closed
      }
    }
  }

  override webSocketError(ws: WebSocket): void {
    this.#tails.forget(ws);
  }

  // ---- the alarm: one scheduler, tasks due from durable state ----

  override async alarm(): Promise<void> {
    this.#scheduler.fired();
    const now = Date.now();
    try {
      this.#config = await loadConfig(this.env);
      await this.#scheduler.runDue(now, false);
    } catch (err) {
      // Never hand the retry to the platform: the flush job records it and backs off.
      await this.#scheduler.armAt(this.#flush.recordAlarmFailure(err, Date.now()), Date.now());
      return;
    }
    await this.#scheduler.arm(Date.now());
  }

  /** POST /api/admin/flush: flush now, ignoring backoff, and answer after the attempt. */
  async flushNow(): Promise<FlushReport> {
    const before = this.#flush.state.flushedTotal;
    this.#config = await loadConfig(this.env);
    await this.#scheduler.runDue(Date.now(), true);
    await this.#scheduler.arm(Date.now());
    return this.#flush.report(before);
  }

  // ---- stored error-rate checks ----

  async addCheck(check: Check): Promise<Check> {
    const now = Date.now();
    const added = await this.#checks.add(check, now);
    await this.#scheduler.arm(now);
    return added;
  }

  /** Live counts for several windows at once: a sharded service's checks sum these over shards. */
  countsFor(windowsMs: number[]): LevelCounts[] {
    const now = Date.now();
    return windowsMs.map((w) => this.#counters.count(w, now));
  }

  listChecks(): Check[] {
    return this.#checks.list();
  }

  removeCheck(id: string): boolean {
    return this.#checks.remove(id);
  }

  // ---- patterns ----

  patterns(q: PatternQuery): Pattern[] {
    return this.#patterns.list(this.#who.service, q, Date.now());
  }

  pattern(id: string): Pattern | null {
    return this.#patterns.get(id, this.#who.service, Date.now());
  }

  setLearnedPatterns(patterns: LearnedPattern[]): void {
    this.#patterns.setLearned(patterns);
  }

  metrics(): AggregatorMetrics {
    return aggregatorMetrics(this.#parts, this.#flush, this.#tails, this.#meter);
  }

  health(): AggregatorHealth {
    return aggregatorHealth(this.#parts, this.#flush);
  }

  /** The rejection counts and the newest `limit` refused entries (GET /api/admin/rejected). */
  getRejections(limit: number): RejectionReport {
    const sql = this.#parts.sql;
    return {
      service: this.#who.service,
      domain: this.#who.domain,
      counts: rejectionCounts(sql),
      recent: recentRejections(sql, limit),
    };
  }

  /** Retention: deletes entries older than `beforeTs` (optionally of some levels). */
  async cleanup(beforeTs: number, levels?: Level[]): Promise<{ deleted: number; unpersisted: number }> {
    const removed = this.#trim.removeBefore(beforeTs, levels);
    await this.#scheduler.arm(Date.now());
    return removed;
  }

  listDeadLetters(limit: number) {
    return store.listDeadLetters(this.#parts.sql, limit);
  }

  /** Moves dead letters back into the outbox: they get new seqs and are flushed again. */
  async replayDeadLetters(limit: number): Promise<{ replayed: number }> {
    const replayed = this.#flush.replayDeadLetters(limit);
    await this.#scheduler.arm(Date.now());
    return { replayed };
  }

  stats(seriesWindowMs: number, resolution: "1s" | "1m"): StatsSnapshot {
    return this.#counters.stats(seriesWindowMs, resolution, Date.now());
  }

  counts(windowMs: number): LevelCounts {
    return this.#counters.count(windowMs, Date.now());
  }
}
