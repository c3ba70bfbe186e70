// LogAggregator: the Durable Object for one domain/service (or one shard of it). A facade of RPC
// methods and platform hooks; the work lives in its modules: segment-store.ts (the log store:
// one SQLite row per ingested batch), live-counters.ts, scheduler.ts (the alarm's tasks, each due
// from durable state), flush-pipeline.ts, kv-archive.ts, pattern-engine.ts, check-runner.ts and
// tail-sockets.ts. Storage holds the truth; memory is a cache rebuilt exactly after eviction.
import { DurableObject } from "cloudflare:workers";
import { addCounts, type LevelCounts } from "../src/core/rolling-counters.js";
import { shardCount, shardNames } from "../src/core/sharding.js";
import { MINUTE_MS } from "../src/core/duration.js";
import type { Env } from "../src/env.js";
import { LEVELS, type Level, type NormalisedLogEntry, type StoredLogEntry } from "../src/schema/log-entry.js";
import type { AggregatorSearch } from "../src/schema/query.js";
import { loadConfig, type Config } from "../src/config.js";
import { TokenBucket } from "../src/core/token-bucket.js";
import { backoffDelay } from "../src/core/backoff.js";
import { TEXT_SCAN_BUDGET } from "../src/core/segment-search.js";
import {
  FlushPipeline,
  KV_CHUNK_ROWS,
  type FlushReport,
  type FlushState,
  loadFlushState,
  saveFlushState,
} from "./flush-pipeline.js";
import * as store from "./log-store.js";
import { SegmentStore } from "./segment-store.js";
import { LiveCounters, type StatsSnapshot } from "./live-counters.js";
import { type ScheduledTask, Scheduler } from "./scheduler.js";
import { searchKvChunks } from "./kv-archive.js";
import { CHECK_INTERVAL_MS, CheckRunner } from "./check-runner.js";
import { type Check, MAX_CHECKS_PER_SERVICE } from "../src/schema/checks.js";
import { PatternEngine, type PatternQuery } from "./pattern-engine.js";
import { LEARNED_KEY, type LearnedPattern } from "../src/core/learned-patterns.js";
import type { Pattern } from "../src/schema/pattern.js";
import { REGISTRY_NAME } from "./service-registry.js";
import { recentRejections, recordRejections, rejectionCounts, type RejectionReport } from "./rejections.js";
import type { RejectionRecord } from "../src/core/rejections.js";
import { errorBody } from "../src/errors.js";
import { encodeTailCursor, TailSubscription } from "../src/schema/tail.js";
import { REPLAY_MAX, TAIL_TAG, type TailAttachment, TailSockets } from "./tail-sockets.js";
import { HUB_NAME } from "./tail-hub.js";
import { TailPublisher } from "./tail-publisher.js";
import { parseBytesPerSecond } from "../src/core/tail-flow.js";
import { meteredSql } from "./metered-sql.js";
import { pushPatterns, trimHot } from "./maintenance.js";
import type {
  AggregatorHealth,
  AggregatorMetrics,
  IngestedEntry,
  IngestOutcome,
  RejectedCounts,
  SearchPage,
  ServiceSnapshot,
} from "./aggregator-types.js";

export type { StatsSnapshot } from "./live-counters.js";

export type * from "./aggregator-types.js";

/** Least time between two flushes triggered early by a full backlog. */
export const EARLY_FLUSH_GAP_MS = 1_000;
/** How often the alarm trims hot segments when nothing else is due. */
export const TRIM_INTERVAL_MS = 10 * 60_000;
/** Legacy (row-per-log) segments converted per alarm run: 20 × 1000 rows. */
export const MIGRATE_SEGMENTS_PER_RUN = 20;
export const snapshotKey = (domain: string, service: string) => `snapshot/${domain}/${service}`;

const REGISTRY_TOUCH_MS = 60_000;

export class LogAggregator extends DurableObject<Env> {
  readonly #meter = { rowsWritten: 0 };
  readonly #sql: SqlStorage;
  #service = "";
  #domain = "";
  #lastRegistryTouch = 0;
  #flush!: FlushState;
  /** last KV snapshot: seq it covered and when (meta, so a fresh instance knows it) */
  #snapshot = { seq: 0, at: 0 };
  #snapshotTriedAt = 0;
  /** last trim (meta "trimmed_at"), read once at start */
  #trimmedAt = 0;
  #lastPatternPushAt = 0;
  #patternsPushedSeq = 0;
  readonly #store: SegmentStore;
  readonly #counters: LiveCounters;
  readonly #tails: TailSockets;
  readonly #publisher: TailPublisher; // tails through the hub (objects/tail-publisher.ts)
  readonly #patterns: PatternEngine;
  readonly #scheduler: Scheduler;
  #checks!: CheckRunner;
  #lastIngestAt = 0;
  #bucket: TokenBucket | undefined; // per-service ingest limit (RATE_LIMIT_SERVICE_LOGS_PER_S)
  #config!: Config;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#sql = meteredSql(ctx.storage.sql, this.#meter);
    const maxQueue = Number(env.TAIL_QUEUE_MAX);
    // The tail cursor is keyed by aggregator name: a shard's seqs are its own.
    this.#tails = new TailSockets(
      ctx,
      () => this.#name,
      Number.isInteger(maxQueue) && maxQueue > 0 ? maxQueue : undefined,
      parseBytesPerSecond(env.TAIL_SUBSCRIBER_BYTES_PER_S),
    );
    this.#patterns = new PatternEngine(this.#sql);
    this.#store = new SegmentStore(this.#sql, () => ({ service: this.#service, domain: this.#domain }), 16_000_000);
    this.#counters = new LiveCounters(this.#sql, this.#store);
    this.#publisher = new TailPublisher(
      () => env.TAIL_HUB.getByName(HUB_NAME),
      () => this.#name,
      (after, limit) => this.#store.entriesAfter(after, {}, limit),
    );
    this.#scheduler = new Scheduler(ctx.storage, this.#tasks());
    // Answered by the runtime without waking a hibernated object.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("ping", "pong"));
    void ctx.blockConcurrencyWhile(async () => {
      const sql = this.#sql;
      this.#config = await loadConfig(env);
      store.migrate(sql);
      this.#service = store.getMeta(sql, "service") ?? "";
      this.#domain = store.getMeta(sql, "domain") ?? "";
      this.#flush = loadFlushState(sql);
      this.#snapshot = JSON.parse(store.getMeta(sql, "snapshot") ?? '{"seq":0,"at":0}');
      this.#trimmedAt = Number(store.getMeta(sql, "trimmed_at") ?? 0);
      this.#store.setCacheBytes(this.#config.segmentCacheBytes);
      this.#store.load();
      this.#counters.rebuild(Date.now());
      this.#patterns.restore((seq) => this.#store.iterateAfter(seq));
      this.#checks = new CheckRunner(sql);
      if (this.#checks.count > 0) this.#lastIngestAt = Date.now(); // rates may still move: watch
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
    return this.ctx.id.name ?? `${this.#domain}/${this.#service}`;
  }

  /** Stores entries (all of one domain/service). Resolves once they are in SQLite. */
  async ingest(
    entries: NormalisedLogEntry[],
    rejected?: RejectedCounts,
    rejections?: RejectionRecord[],
  ): Promise<IngestOutcome> {
    const sql = this.#sql;
    const now = Date.now();
    const config = (this.#config = await loadConfig(this.env));
    // Refusals are rare; each is one row in the bounded rejections ring (objects/rejections.ts).
    if (rejections) recordRejections(sql, rejections, now);
    if (entries.length > 0) {
      this.#bucket ??= new TokenBucket(
        config.serviceLogsPerSecond,
        Math.max(1000, 2 * config.serviceLogsPerSecond),
        now,
      );
      const allowed = this.#bucket.take(entries.length, now);
      if (!allowed.ok) {
        store.bumpTotals(sql, new Map([["rate_limited", entries.length]]));
        return { entries: [], rateLimited: { retryAfterMs: allowed.retryAfterMs } };
      }
    }
    const first = entries[0] ?? rejections?.[0];
    if (first && !this.#service) {
      this.#service = first.service;
      this.#domain = first.domain;
      store.setMeta(sql, "service", first.service);
      store.setMeta(sql, "domain", first.domain);
    }
    // Duplicates (stored before, or twice in this batch) are found before mining, so the miner
    // sees each stored entry exactly once: a restart replays stored entries in seq order.
    const out: IngestedEntry[] = [];
    const fresh: StoredLogEntry[] = [];
    const batchSeqs = new Map<string, number>();
    let seq = this.#store.maxSeq();
    for (const e of entries) {
      const known = batchSeqs.get(e.id) ?? this.#store.findById(e.id)?.seq;
      if (known !== undefined) {
        out.push({ id: e.id, seq: known, duplicate: true });
        continue;
      }
      const entry = e as StoredLogEntry; // ours: the RPC argument is a copy
      entry.pattern_id = this.#patterns.assign(entry);
      entry.seq = ++seq;
      batchSeqs.set(e.id, seq);
      fresh.push(entry);
      out.push({ id: e.id, seq, duplicate: false });
    }
    const rejectedCounts = Object.fromEntries(Object.entries(rejected ?? {}).filter(([, n]) => n > 0));
    const dup = out.length - fresh.length;
    if (fresh.length > 0) {
      // One segment row holds the batch and its counts: the only row this call writes.
      this.#store.append(fresh, { dup: dup || undefined, rejected: rejectedCounts });
      this.#patterns.advance(seq);
      for (const e of fresh) this.#counters.add(e.level, Math.min(e.timestamp, e.received_at), now);
    } else {
      const totals = new Map<string, number>([["duplicates", dup]]);
      for (const [level, n] of Object.entries(rejectedCounts)) totals.set(`rejected_${level}`, n);
      store.bumpTotals(sql, totals);
    }
    // Tail delivery: the accepted entries, with their seqs, now durably stored.
    this.#tails.publish(fresh, (f) => this.#patterns.expandFilter(f));
    this.#publisher.publish(fresh);
    if (fresh.length > 0 && this.#checks.count > 0) {
      this.#lastIngestAt = now;
      // a sharded service's checks need every shard's counts: evaluated on the alarm instead
      if (!this.#sharded()) this.#checks.evaluate(now, (w) => this.#counters.count(w, now));
    }
    if (fresh.length > 0) await this.#scheduler.arm(now);
    if (now - this.#lastRegistryTouch > REGISTRY_TOUCH_MS && this.#service) {
      await this.env.SERVICE_REGISTRY.getByName(REGISTRY_NAME).touch(this.#domain, this.#service, now);
      this.#lastRegistryTouch = now;
    }
    return { entries: out };
  }

  async search(request: AggregatorSearch): Promise<SearchPage> {
    const search = { ...request, filter: this.#patterns.expandFilter(request.filter) };
    const found = this.#store.search(search, TEXT_SCAN_BUDGET);
    const trimmedThroughTs = Number(store.getMeta(this.#sql, "trimmed_through_ts") ?? 0);
    const logs = found.logs;
    if (found.scannedThrough) return { logs, trimmedThroughTs, scannedThrough: found.scannedThrough };
    if (trimmedThroughTs === 0 || this.#config.persistenceEnabled) return { logs, trimmedThroughTs };
    // KV-only phase: rows trimmed from SQLite live in KV chunks; read the chunks that can hold
    // rows of this page, newest (or oldest) first, and stop once no further chunk can compete.
    return {
      logs: await searchKvChunks(this.#sql, this.env.LOGS_KV, this.#name, search, [...logs]),
      trimmedThroughTs,
    };
  }

  async getLog(id: string): Promise<StoredLogEntry | null> {
    const found = this.#store.findById(id);
    if (found) return found;
    const archived = this.#sql.exec<{ chunk: string }>("SELECT chunk FROM archived_ids WHERE id = ?", id).toArray()[0];
    if (!archived) return null;
    const chunk = await this.env.LOGS_KV.get<StoredLogEntry[]>(archived.chunk, "json");
    return chunk?.find((e) => e.id === id) ?? null;
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
    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server, [TAIL_TAG]);
    // Replay and go live in one synchronous step: no ingest can run in between, so the first
    // live entry is exactly the one after the last replayed (no gap, no duplicate).
    const key = this.#name;
    let lastSeq = this.#store.maxSeq();
    if (sub.since !== undefined && sub.since < lastSeq) {
      const filter = this.#patterns.expandFilter(sub.filter);
      const rows = this.#store.entriesAfter(sub.since, filter, REPLAY_MAX + 1);
      const replay = rows.slice(0, REPLAY_MAX);
      for (let i = 0; i < replay.length; i += 500) {
        const chunk = replay.slice(i, i + 500);
        server.send(
          JSON.stringify({
            type: "logs",
            logs: chunk,
            cursor: encodeTailCursor({ [key]: chunk[chunk.length - 1].seq! }),
          }),
        );
      }
      if (rows.length > REPLAY_MAX) {
        const rest = this.#store.entriesAfter(replay[replay.length - 1].seq!, filter, Number.MAX_SAFE_INTEGER).length;
        server.send(JSON.stringify({ type: "dropped", count: rest }));
      }
    } else if (sub.since !== undefined) {
      lastSeq = sub.since;
    }
    server.serializeAttachment({ filter: sub.filter, lastSeq } satisfies TailAttachment);
    // The resume point as of now, so a client that reconnects before any log arrives (or a
    // fan-in over shards that stayed quiet) misses nothing.
    server.send(JSON.stringify({ type: "ready", cursor: encodeTailCursor({ [key]: lastSeq }) }));
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
      // Never hand the retry to the platform (it gives up after 6 tries and drops the alarm):
      // rows stay in SQLite, the error is recorded, and we come back with backoff.
      const f = this.#flush;
      f.failures++;
      f.lastError = `alarm failed: ${err instanceof Error ? err.message : String(err)}`.slice(0, 500);
      f.nextRetryAt = Date.now() + backoffDelay(f.failures - 1, { baseMs: 1_000, capMs: 5 * 60_000, floorMs: 500 });
      saveFlushState(this.#sql, f);
      console.error(f.lastError);
      await this.#scheduler.armAt(f.nextRetryAt, Date.now());
      return;
    }
    await this.#scheduler.arm(Date.now());
  }

  /** POST /api/admin/flush: flush now, ignoring backoff, and answer after the attempt. */
  async flushNow(): Promise<FlushReport> {
    const before = this.#flush.flushedTotal;
    this.#config = await loadConfig(this.env);
    await this.#scheduler.runDue(Date.now(), true);
    await this.#scheduler.arm(Date.now());
    return {
      flushed: this.#flush.flushedTotal - before,
      pending: this.#pending(),
      dead_lettered: store.countDeadLetters(this.#sql),
      last_error: this.#flush.lastError,
    };
  }

  #pending(): number {
    return this.#store.countAfter(this.#flush.persistedSeq);
  }

  /** "Several full batches" are waiting (batches of the active store: data service or KV chunks). */
  #backlogFull(): boolean {
    const c = this.#config;
    return this.#pending() >= 4 * (c.persistenceEnabled ? c.bulkInsertSize : KV_CHUNK_ROWS);
  }

  #tasks(): ScheduledTask[] {
    return [
      {
        // Rows of the old layout become segments, 20k rows per run, until none are left.
        name: "migrate",
        dueAt: (now) => (this.#store.hasLegacy ? now : null),
        run: async () => {
          this.#store.migrateStep(MIGRATE_SEGMENTS_PER_RUN);
        },
      },
      {
        // The outbox is the segments after persistedSeq; its oldest waits at most FLUSH_INTERVAL_MS.
        name: "flush",
        dueAt: () => {
          const oldest = this.#store.oldestReceivedAfter(this.#flush.persistedSeq);
          if (oldest === null || !this.#service) return null;
          const f = this.#flush;
          if (f.failures > 0) return f.nextRetryAt;
          // A full backlog flushes early, but at most once per EARLY_FLUSH_GAP_MS: under a steady
          // flood, one flush a second moves 20 batches and leaves the isolate to ingest.
          if (this.#backlogFull()) return f.lastFlushAt + EARLY_FLUSH_GAP_MS;
          return oldest + this.#config.flushIntervalMs;
        },
        run: async (now, force) => {
          if (!this.#service || this.#store.oldestReceivedAfter(this.#flush.persistedSeq) === null) return;
          const pipeline = new FlushPipeline(
            this.#sql,
            this.env,
            { service: this.#service, domain: this.#domain },
            (after, limit) => this.#store.entriesAfter(after, {}, limit),
            () => this.ctx.storage.getAlarm(),
          );
          await pipeline.run(this.#config, this.#flush, now, force);
        },
      },
      {
        name: "patterns",
        everyRun: true,
        dueAt: () => null,
        run: async (now, force) => {
          this.#patterns.checkpoint();
          if (
            this.#config.persistenceEnabled &&
            this.#service &&
            (force || now - this.#lastPatternPushAt >= this.#config.flushIntervalMs)
          )
            await this.#pushPatterns(this.#config, now);
        },
      },
      {
        name: "checks",
        everyRun: true,
        dueAt: (now) => {
          if (this.#checks === undefined || this.#checks.count === 0) return null;
          const notifyAt = this.#checks.nextNotificationAt();
          // Rates move as time passes (errors age out): re-evaluate while a check is breached or
          // logs inside the longest check window exist.
          const watching =
            this.#sharded() || this.#checks.anyBreached || now - this.#lastIngestAt <= this.#checks.longestWindowMs;
          const next = watching ? now + CHECK_INTERVAL_MS : null;
          return notifyAt === null ? next : next === null ? notifyAt : Math.min(notifyAt, next);
        },
        run: async (now) => {
          if (this.#checks.count === 0) return;
          this.#checks.evaluate(now, await this.#checkCounts(now));
          await this.#checks.deliver(now);
        },
      },
      {
        // Only when something new was stored, at most every SNAPSHOT_INTERVAL_MS.
        name: "snapshot",
        dueAt: () =>
          this.#service && this.#store.maxSeq() > this.#snapshot.seq
            ? Math.max(this.#snapshot.at, this.#snapshotTriedAt) + this.#config.snapshotIntervalMs
            : null,
        run: (now) => this.#writeSnapshot(now),
      },
      {
        name: "trim",
        dueAt: () =>
          this.#flush.persistedSeq > 0 && this.#store.segmentCount > 0 ? this.#trimmedAt + TRIM_INTERVAL_MS : null,
        run: async (now) => {
          trimHot(this.#sql, this.#store, this.#flush.persistedSeq, this.#config, now);
          this.#trimmedAt = now;
        },
      },
    ];
  }

  // ---- stored error-rate checks ----

  async addCheck(check: Check): Promise<Check> {
    if (this.#checks.count >= MAX_CHECKS_PER_SERVICE)
      throw new Error(`at most ${MAX_CHECKS_PER_SERVICE} checks per service`);
    this.#checks.add(check);
    const now = Date.now();
    this.#checks.evaluate(now, await this.#checkCounts(now));
    await this.#scheduler.arm(now);
    return this.#checks.list().find((c) => c.id === check.id)!;
  }

  /** Live counts for several windows at once: a sharded service's checks sum these over shards. */
  countsFor(windowsMs: number[]): LevelCounts[] {
    const now = Date.now();
    return windowsMs.map((w) => this.#counters.count(w, now));
  }

  #sharded(): boolean {
    return this.#service !== "" && shardCount(this.#config, this.#service) > 1;
  }

  /** Counts for check windows: this aggregator's, or the sum over the service's shards. */
  async #checkCounts(now: number): Promise<(windowMs: number) => LevelCounts> {
    const names = shardNames(this.#config, this.#domain, this.#service);
    if (names.length <= 1) return (w) => this.#counters.count(w, now);
    const windows = this.#checks.windowsMs();
    const sums = windows.map((w) => this.#counters.count(w, now));
    for (const name of names.filter((n) => n !== this.#name)) {
      const stub = this.env.LOG_AGGREGATOR.getByName(name) as unknown as {
        countsFor(w: number[]): Promise<LevelCounts[]>;
      };
      const theirs = await stub.countsFor(windows);
      theirs.forEach((c, i) => (sums[i] = addCounts(sums[i], c)));
    }
    return (w) => sums[windows.indexOf(w)] ?? this.#counters.count(w, now);
  }

  listChecks(): Check[] {
    return this.#checks.list();
  }

  removeCheck(id: string): boolean {
    return this.#checks.remove(id);
  }

  // ---- patterns ----

  patterns(q: PatternQuery): Pattern[] {
    return this.#patterns.list(this.#service, q, Date.now());
  }

  pattern(id: string): Pattern | null {
    return this.#patterns.get(id, this.#service, Date.now());
  }

  setLearnedPatterns(patterns: LearnedPattern[]): void {
    this.#patterns.setLearned(patterns);
  }

  metrics(): AggregatorMetrics {
    const t = store.readTotals(this.#sql);
    const live = this.#store.liveTotals();
    const n = (k: string) => (t.get(k) ?? 0) + (live.get(k) ?? 0);
    const f = this.#flush;
    return {
      service: this.#service,
      domain: this.#domain,
      received: {
        error: n("received_error"),
        warn: n("received_warn"),
        info: n("received_info"),
        debug: n("received_debug"),
      },
      rejected: {
        error: n("rejected_error"),
        warn: n("rejected_warn"),
        info: n("rejected_info"),
        debug: n("rejected_debug"),
        unknown: n("rejected_unknown"),
      },
      rejected_by_reason: rejectionCounts(this.#sql),
      duplicates: n("duplicates"),
      rate_limited: n("rate_limited"),
      flushed_total: f.flushedTotal,
      flush_failed_total: f.flushFailedTotal,
      dead_lettered_total: f.deadLetteredTotal,
      pending: this.#pending(),
      dead_letters: store.countDeadLetters(this.#sql),
      tail_subscribers: this.#tails.count(),
      tail_dropped_total: this.#tails.droppedTotal,
      patterns: this.#patterns.size,
      patterns_evicted_total: this.#patterns.evictedTotal,
      rows_written_total: this.#meter.rowsWritten,
      segments: this.#store.segmentCount,
    };
  }

  health(): AggregatorHealth {
    const f = this.#flush;
    return {
      pending: this.#pending(),
      dead_letters: store.countDeadLetters(this.#sql),
      failures: f.failures,
      last_error: f.lastError,
      next_retry_at: f.nextRetryAt,
      flushed_total: f.flushedTotal,
      flush_failed_total: f.flushFailedTotal,
      rejected: rejectionCounts(this.#sql),
    };
  }

  /** The rejection counts and the newest `limit` refused entries (GET /api/admin/rejected). */
  getRejections(limit: number): RejectionReport {
    const sql = this.#sql;
    return {
      service: this.#service,
      domain: this.#domain,
      counts: rejectionCounts(sql),
      recent: recentRejections(sql, limit),
    };
  }

  /** Retention: deletes entries older than `beforeTs` (optionally of some levels). */
  async cleanup(beforeTs: number, levels?: Level[]): Promise<{ deleted: number; unpersisted: number }> {
    const only = levels?.length ? new Set<Level>(levels) : null;
    const lanes = only ? LEVELS.map((l, i) => (only.has(l) ? i : -1)).filter((i) => i >= 0) : null;
    const removed = this.#store.removeWhere(
      (s) => s.minTs < beforeTs && (!lanes || lanes.some((i) => s.levels[i] > 0)),
      (e) => e.timestamp < beforeTs && (!only || only.has(e.level)),
    );
    const persisted = this.#flush.persistedSeq;
    await this.#scheduler.arm(Date.now());
    return { deleted: removed.length, unpersisted: removed.filter((e) => (e.seq ?? 0) > persisted).length };
  }

  listDeadLetters(limit: number) {
    return store.listDeadLetters(this.#sql, limit);
  }

  /** Moves dead letters back into the outbox: they get new seqs and are flushed again. */
  async replayDeadLetters(limit: number): Promise<{ replayed: number }> {
    const sql = this.#sql;
    const letters = store.listDeadLetters(sql, limit);
    if (letters.length === 0) return { replayed: 0 };
    const seqs = new Set(letters.map((l) => l.seq));
    // The original entries leave their segments; the copies are already counted (folded).
    this.#store.removeWhere(
      (s) => letters.some((l) => l.seq >= s.first && l.seq <= s.last),
      (e) => seqs.has(e.seq ?? 0),
    );
    let seq = this.#store.maxSeq();
    this.#store.append(
      letters.map((l) => ({ ...l.entry, seq: ++seq })),
      {},
      true,
    );
    store.deleteDeadLetters(
      sql,
      letters.map((l) => l.seq),
    );
    await this.#scheduler.arm(Date.now());
    return { replayed: letters.length };
  }

  async #pushPatterns(config: Config, now: number): Promise<void> {
    this.#lastPatternPushAt = now;
    const seq = this.#store.maxSeq();
    if (seq === this.#patternsPushedSeq) return;
    if (await pushPatterns(this.#patterns, this.#service, config, this.env, now)) this.#patternsPushedSeq = seq;
  }

  async #writeSnapshot(now: number): Promise<void> {
    const sql = this.#sql;
    const seq = this.#store.maxSeq();
    const snapshot: ServiceSnapshot = {
      service: this.#service,
      domain: this.#domain,
      updated_at: now,
      windows: this.#counters.stats(60 * MINUTE_MS, "1m", now).windows,
      series: this.#counters.series(60 * MINUTE_MS, "1m", now),
      recent_errors: this.#store.search(
        { filter: { levels: ["error"] }, order: "desc", limit: 20 },
        Number.MAX_SAFE_INTEGER,
      ).logs,
      top_patterns: this.#patterns.list(
        this.#service,
        { start: now - 60 * MINUTE_MS, end: now + 1, bucketMs: MINUTE_MS, minFrequency: 1, limit: 10, withTrend: true },
        now,
      ),
      pending: this.#pending(),
      dead_letters: store.countDeadLetters(sql),
    };
    this.#snapshotTriedAt = now;
    try {
      // One key per service, written at most every SNAPSHOT_INTERVAL_MS (KV allows 1 write/s per key).
      await this.env.LOGS_KV.put(snapshotKey(this.#domain, this.#service), JSON.stringify(snapshot));
      this.#snapshot = { seq, at: now };
      store.setMeta(sql, "snapshot", JSON.stringify(this.#snapshot));
    } catch (err) {
      // A snapshot is derived data: log, try again after the interval.
      console.error("snapshot write failed", err instanceof Error ? err.message : String(err));
    }
  }

  stats(seriesWindowMs: number, resolution: "1s" | "1m"): StatsSnapshot {
    return this.#counters.stats(seriesWindowMs, resolution, Date.now());
  }

  counts(windowMs: number): LevelCounts {
    return this.#counters.count(windowMs, Date.now());
  }
}
