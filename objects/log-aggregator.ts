// LogAggregator: the Durable Object for one domain/service. Storage (SQLite) holds the truth;
// counters are an in-memory cache rebuilt exactly from storage after eviction or restart.
// Wiring only: SQL lives in log-store.ts, arithmetic in src/core.
import { DurableObject } from "cloudflare:workers";
import { evaluateErrorRate, type ErrorRate } from "../src/core/error-rate.js";
import { addCounts, type LevelCounts, RollingCounters, type SeriesPoint } from "../src/core/rolling-counters.js";
import { shardCount, shardNames } from "../src/core/sharding.js";
import { MINUTE_MS, SECOND_MS, DAY_MS } from "../src/core/duration.js";
import type { Env } from "../src/env.js";
import type { Level, NormalisedLogEntry, StoredLogEntry } from "../src/schema/log-entry.js";
import type { AggregatorSearch } from "../src/schema/query.js";
import { loadConfig, type Config } from "../src/config.js";
import { TokenBucket } from "../src/core/token-bucket.js";
import { backoffDelay } from "../src/core/backoff.js";
import { DataServiceClient } from "../src/data-service-client.js";
import {
  FlushPipeline,
  KV_CHUNK_ROWS,
  type FlushReport,
  type FlushState,
  loadFlushState,
  saveFlushState,
} from "./flush-pipeline.js";
import * as store from "./log-store.js";
import { searchKvChunks } from "./kv-archive.js";
import { CHECK_INTERVAL_MS, CheckRunner } from "./check-runner.js";
import { type Check, MAX_CHECKS_PER_SERVICE } from "../src/schema/checks.js";
import { PatternEngine, type PatternQuery } from "./pattern-engine.js";
import { LEARNED_KEY, type LearnedPattern } from "../src/core/learned-patterns.js";
import type { Pattern } from "../src/schema/pattern.js";
import { REGISTRY_NAME } from "./service-registry.js";
import { recentRejections, recordRejections, rejectionCounts, type RejectionReport } from "./rejections.js";
import type { RejectionCounts, RejectionRecord } from "../src/core/rejections.js";
import { errorBody } from "../src/errors.js";
import { encodeTailCursor, TailSubscription } from "../src/schema/tail.js";
import { REPLAY_MAX, TAIL_TAG, type TailAttachment, TailSockets } from "./tail-sockets.js";
import { HUB_NAME } from "./tail-hub.js";
import { TailPublisher } from "./tail-publisher.js";
import { parseBytesPerSecond } from "../src/core/tail-flow.js";

export interface IngestedEntry {
  id: string;
  seq: number;
  /** true when the id was already stored: the first entry stays (idempotent retry). */
  duplicate: boolean;
}

export interface IngestOutcome {
  entries: IngestedEntry[];
  /** set when the service's rate limit refused the whole batch: nothing was stored */
  rateLimited?: { retryAfterMs: number };
}

export interface SearchPage {
  logs: StoredLogEntry[];
  /** newest timestamp among rows trimmed from this aggregator (0 = none): older rows may live only in the data service */
  trimmedThroughTs: number;
  /** a text search stopped at its scan budget here: rows beyond were not examined */
  scannedThrough?: { ts: number; seq: number };
}

/** What the aggregator reports to /health, /metrics and the admin API. */
export interface AggregatorHealth {
  pending: number;
  dead_letters: number;
  failures: number;
  last_error: string | null;
  next_retry_at: number;
  flushed_total: number;
  flush_failed_total: number;
  rejected: RejectionCounts;
}

/** KV snapshot: live numbers for dashboards and global reads, at most one write per second. */
export interface ServiceSnapshot {
  service: string;
  domain: string;
  updated_at: number;
  windows: StatsSnapshot["windows"];
  series: SeriesPoint[];
  recent_errors: StoredLogEntry[];
  /** the 10 most frequent patterns of the last hour, with per-minute trends */
  top_patterns: Pattern[];
  pending: number;
  dead_letters: number;
}

/** Entries the Worker rejected for this service, by the level they claimed ("unknown" if none). */
export interface RejectedCounts {
  error: number;
  warn: number;
  info: number;
  debug: number;
  unknown: number;
}

/** Monotonic counters for GET /metrics. */
export interface AggregatorMetrics {
  service: string;
  domain: string;
  received: { error: number; warn: number; info: number; debug: number };
  rejected: RejectedCounts;
  rejected_by_reason?: RejectionCounts;
  duplicates: number;
  rate_limited: number;
  flushed_total: number;
  flush_failed_total: number;
  dead_lettered_total: number;
  pending: number;
  dead_letters: number;
  tail_subscribers: number;
  tail_dropped_total: number;
  patterns: number;
  patterns_evicted_total: number;
}

export const SNAPSHOT_INTERVAL_MS = 5_000;
/** Least time between two flushes triggered early by a full backlog. */
export const EARLY_FLUSH_GAP_MS = 1_000;
/** How often the alarm trims hot rows when nothing else is due. */
export const TRIM_INTERVAL_MS = 10 * 60_000;
export const snapshotKey = (domain: string, service: string) => `snapshot/${domain}/${service}`;

export interface StatsSnapshot {
  windows: { "1m": LevelCounts; "5m": LevelCounts; "15m": LevelCounts; "1h": LevelCounts; "24h": LevelCounts };
  series: SeriesPoint[];
  now: number;
}

const REGISTRY_TOUCH_MS = 60_000;

export class LogAggregator extends DurableObject<Env> {
  #counters = new RollingCounters();
  #service = "";
  #domain = "";
  #lastRegistryTouch = 0;
  #flush!: FlushState;
  #pending = 0; // rows with seq > persistedSeq, kept in memory to arm the alarm without a query
  #pendingSince = 0; // when the oldest pending row arrived: it waits at most FLUSH_INTERVAL_MS
  #dirtySince = 0; // first ingest since the last KV snapshot (0 = clean)
  #lastSnapshotAt = 0;
  #lastTrimAt = 0;
  #lastPatternPushAt = 0;
  #patternsPushedSeq = 0;
  #alarmAt: number | null = null;
  readonly #tails: TailSockets;
  readonly #publisher: TailPublisher; // tails through the hub (objects/tail-publisher.ts)
  readonly #patterns: PatternEngine;
  #checks!: CheckRunner;
  #lastIngestAt = 0;
  #bucket: TokenBucket | undefined; // per-service ingest limit (RATE_LIMIT_SERVICE_LOGS_PER_S)

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const maxQueue = Number(env.TAIL_QUEUE_MAX);
    // The tail cursor is keyed by aggregator name: a shard's seqs are its own.
    this.#tails = new TailSockets(
      ctx,
      () => this.#name,
      Number.isInteger(maxQueue) && maxQueue > 0 ? maxQueue : undefined,
      parseBytesPerSecond(env.TAIL_SUBSCRIBER_BYTES_PER_S),
    );
    this.#patterns = new PatternEngine(ctx.storage.sql);
    this.#publisher = new TailPublisher(
      () => env.TAIL_HUB.getByName(HUB_NAME),
      () => this.#name,
      (after, limit) =>
        store
          .rowsAfterSeq(ctx.storage.sql, after, {}, limit)
          .map((r) => store.rowToEntry(r, this.#service, this.#domain)),
    );
    // Answered by the runtime without waking a hibernated object.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("ping", "pong"));
    void ctx.blockConcurrencyWhile(async () => {
      const sql = ctx.storage.sql;
      store.migrate(sql);
      this.#service = store.getMeta(sql, "service") ?? "";
      this.#domain = store.getMeta(sql, "domain") ?? "";
      this.#flush = loadFlushState(sql);
      this.#pending = store.countAfter(sql, this.#flush.persistedSeq);
      this.#rebuildCounters(Date.now());
      this.#patterns.restore();
      this.#checks = new CheckRunner(sql);
      if (this.#checks.count > 0) this.#lastIngestAt = Date.now(); // rates may still move: watch
      if (!this.#patterns.hasLearned) {
        const learned = await env.LOGS_KV.get<LearnedPattern[]>(LEARNED_KEY, "json").catch(() => null);
        if (learned) this.#patterns.setLearned(learned);
      }
      // Re-arm from persisted rows: the SQLite rows survive a restart, an in-memory plan does not.
      this.#alarmAt = await ctx.storage.getAlarm();
      if (this.#pending > 0) this.#dirtySince = this.#pendingSince = Date.now();
      await this.#armAlarm();
    });
  }

  /** The aggregator's name: "<domain>/<service>" or "<domain>/<service>#<shard>". */
  get #name(): string {
    return this.ctx.id.name ?? `${this.#domain}/${this.#service}`;
  }

  #config(): Promise<Config> {
    return loadConfig(this.env);
  }

  /** Stores entries (all of one domain/service). Resolves once they are in SQLite. */
  async ingest(
    entries: NormalisedLogEntry[],
    rejected?: RejectedCounts,
    rejections?: RejectionRecord[],
  ): Promise<IngestOutcome> {
    const sql = this.ctx.storage.sql;
    const now = Date.now();
    if (rejections) recordRejections(sql, rejections, now);
    if (entries.length > 0) {
      const config = await this.#config();
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
    const minuteCounts = new Map<string, number>();
    const out: IngestedEntry[] = [];
    const fresh: StoredLogEntry[] = [];
    // Duplicates are found before mining, so the miner sees each stored row exactly once (a
    // restart replays stored rows; the live miner must have seen the same sequence).
    const existing = store.existingIds(
      sql,
      entries.map((e) => e.id),
    );
    const accepted: { e: NormalisedLogEntry; patternId: string }[] = [];
    for (const e of entries) {
      if (existing.has(e.id)) continue;
      existing.add(e.id);
      const entry = { ...e };
      accepted.push({ e: entry, patternId: this.#patterns.assign(entry) });
    }
    const seqs = store.insertLogs(sql, accepted);
    if (seqs.length > 0) this.#patterns.advance(seqs[seqs.length - 1]);
    const seqById = new Map(accepted.map((a, i) => [a.e.id, seqs[i]]));
    for (const e of entries) {
      const seq = seqById.get(e.id);
      if (seq === undefined) {
        out.push({ id: e.id, seq: store.seqOfId(sql, e.id) ?? 0, duplicate: true });
        continue;
      }
      seqById.delete(e.id); // a second copy of the id in this batch is a duplicate
      out.push({ id: e.id, seq, duplicate: false });
    }
    accepted.forEach(({ e, patternId }, i) => {
      fresh.push({ ...e, seq: seqs[i], pattern_id: patternId });
      const countedAt = Math.min(e.timestamp, e.received_at);
      if (this.#counters.add(e.level, countedAt, now)) {
        const key = `${Math.floor(countedAt / MINUTE_MS)}:${e.level}`;
        minuteCounts.set(key, (minuteCounts.get(key) ?? 0) + 1);
      }
    });
    store.bumpMinuteCounters(sql, minuteCounts);
    const totals = new Map<string, number>([["duplicates", out.length - fresh.length]]);
    for (const e of fresh) totals.set(`received_${e.level}`, (totals.get(`received_${e.level}`) ?? 0) + 1);
    if (rejected) for (const [level, n] of Object.entries(rejected)) totals.set(`rejected_${level}`, n);
    store.bumpTotals(sql, totals);
    this.#tails.publish(fresh, (f) => this.#patterns.expandFilter(f));
    this.#publisher.publish(fresh);
    const added = fresh.length;
    if (added > 0 && this.#checks.count > 0) {
      this.#lastIngestAt = now;
      // a sharded service's checks need every shard's counts: evaluated on the alarm instead
      if (!(await this.#sharded())) this.#checks.evaluate(now, (w) => this.#counters.count(w, now));
    }
    if (added > 0) {
      if (this.#pending === 0) this.#pendingSince = now;
      this.#pending += added;
      if (this.#dirtySince === 0) this.#dirtySince = now;
      await this.#armAlarm();
    }
    if (now - this.#lastRegistryTouch > REGISTRY_TOUCH_MS && this.#service) {
      await this.env.SERVICE_REGISTRY.getByName(REGISTRY_NAME).touch(this.#domain, this.#service, now);
      this.#lastRegistryTouch = now;
    }
    return { entries: out };
  }

  async search(request: AggregatorSearch): Promise<SearchPage> {
    const sql = this.ctx.storage.sql;
    const search = { ...request, filter: this.#patterns.expandFilter(request.filter) };
    const found = store.searchLogs(sql, search);
    const logs = found.rows.map((r) => store.rowToEntry(r, this.#service, this.#domain));
    const trimmedThroughTs = Number(store.getMeta(sql, "trimmed_through_ts") ?? 0);
    const config = await this.#config();
    if (found.scannedThrough) return { logs, trimmedThroughTs, scannedThrough: found.scannedThrough };
    if (trimmedThroughTs === 0 || config.persistenceEnabled) return { logs, trimmedThroughTs };
    // KV-only phase: rows trimmed from SQLite live in KV chunks; read the chunks that can hold
    // rows of this page, newest (or oldest) first, and stop once no further chunk can compete.
    return { logs: await searchKvChunks(sql, this.env.LOGS_KV, this.#name, search, logs), trimmedThroughTs };
  }

  async getLog(id: string): Promise<StoredLogEntry | null> {
    const sql = this.ctx.storage.sql;
    const row = store.getLogById(sql, id);
    if (row) return store.rowToEntry(row, this.#service, this.#domain);
    const archived = sql.exec<{ chunk: string }>("SELECT chunk FROM archived_ids WHERE id = ?", id).toArray()[0];
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
    const sql = this.ctx.storage.sql;
    const key = this.#name;
    let lastSeq = store.maxSeq(sql);
    if (sub.since !== undefined && sub.since < lastSeq) {
      const rows = store.rowsAfterSeq(sql, sub.since, this.#patterns.expandFilter(sub.filter), REPLAY_MAX + 1);
      const replay = rows.slice(0, REPLAY_MAX).map((r) => store.rowToEntry(r, this.#service, this.#domain));
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
        const rest = store.rowsAfterSeq(
          sql,
          replay[replay.length - 1].seq!,
          this.#patterns.expandFilter(sub.filter),
          Number.MAX_SAFE_INTEGER,
        ).length;
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

  tailSubscribers(): number {
    return this.#tails.count();
  }

  // ---- flush, snapshots, trimming: the alarm is the only scheduler ----

  override async alarm(): Promise<void> {
    this.#alarmAt = null;
    try {
      await this.#runScheduled(false);
    } catch (err) {
      // Never hand the retry to the platform (it gives up after 6 tries and drops the alarm):
      // rows stay in SQLite, the error is recorded, and we come back with backoff.
      const f = this.#flush;
      f.failures++;
      f.lastError = `alarm failed: ${err instanceof Error ? err.message : String(err)}`.slice(0, 500);
      f.nextRetryAt = Date.now() + backoffDelay(f.failures - 1, { baseMs: 1_000, capMs: 5 * 60_000, floorMs: 500 });
      saveFlushState(this.ctx.storage.sql, f);
      console.error(f.lastError);
      await this.ctx.storage.setAlarm(f.nextRetryAt);
      this.#alarmAt = f.nextRetryAt;
      return;
    }
    await this.#armAlarm();
  }

  /** POST /api/admin/flush: flush now, ignoring backoff, and answer after the attempt. */
  async flushNow(): Promise<FlushReport> {
    const flushed = await this.#runScheduled(true);
    await this.#armAlarm();
    return {
      flushed,
      pending: this.#pending,
      dead_lettered: store.countDeadLetters(this.ctx.storage.sql),
      last_error: this.#flush.lastError,
    };
  }

  // ---- stored error-rate checks ----

  async addCheck(check: Check): Promise<Check> {
    if (this.#checks.count >= MAX_CHECKS_PER_SERVICE)
      throw new Error(`at most ${MAX_CHECKS_PER_SERVICE} checks per service`);
    this.#checks.add(check);
    const now = Date.now();
    this.#checks.evaluate(now, await this.#checkCounts(await this.#config(), now));
    await this.#armAlarm();
    return this.#checks.list().find((c) => c.id === check.id)!;
  }

  /** Live counts for several windows at once: a sharded service's checks sum these over shards. */
  countsFor(windowsMs: number[]): LevelCounts[] {
    const now = Date.now();
    return windowsMs.map((w) => this.#counters.count(w, now));
  }

  async #sharded(): Promise<boolean> {
    return shardCount(await this.#config(), this.#service) > 1;
  }

  /** Counts for check windows: this aggregator's, or the sum over the service's shards. */
  async #checkCounts(config: Config, now: number): Promise<(windowMs: number) => LevelCounts> {
    const names = shardNames(config, this.#domain, this.#service);
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
    const t = store.readTotals(this.ctx.storage.sql);
    const n = (k: string) => t.get(k) ?? 0;
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
      rejected_by_reason: rejectionCounts(this.ctx.storage.sql),
      duplicates: n("duplicates"),
      rate_limited: n("rate_limited"),
      flushed_total: f.flushedTotal,
      flush_failed_total: f.flushFailedTotal,
      dead_lettered_total: f.deadLetteredTotal,
      pending: this.#pending,
      dead_letters: store.countDeadLetters(this.ctx.storage.sql),
      tail_subscribers: this.#tails.count(),
      tail_dropped_total: this.#tails.droppedTotal,
      patterns: this.#patterns.size,
      patterns_evicted_total: this.#patterns.evictedTotal,
    };
  }

  health(): AggregatorHealth {
    const f = this.#flush;
    return {
      pending: this.#pending,
      dead_letters: store.countDeadLetters(this.ctx.storage.sql),
      failures: f.failures,
      last_error: f.lastError,
      next_retry_at: f.nextRetryAt,
      flushed_total: f.flushedTotal,
      flush_failed_total: f.flushFailedTotal,
      rejected: rejectionCounts(this.ctx.storage.sql),
    };
  }

  /** The rejection counts and the newest `limit` refused entries (GET /api/admin/rejected). */
  getRejections(limit: number): RejectionReport {
    const sql = this.ctx.storage.sql;
    return {
      service: this.#service,
      domain: this.#domain,
      counts: rejectionCounts(sql),
      recent: recentRejections(sql, limit),
    };
  }

  /** Retention: deletes rows older than `beforeTs` (optionally of some levels). */
  async cleanup(beforeTs: number, levels?: Level[]): Promise<{ deleted: number; unpersisted: number }> {
    const sql = this.ctx.storage.sql;
    const lv = levels?.length ? ` AND level IN (${levels.map(() => "?").join(",")})` : "";
    const params = [beforeTs, ...(levels ?? [])];
    const unpersisted = sql
      .exec<{ n: number }>(
        `SELECT count(*) AS n FROM logs WHERE ts < ?${lv} AND seq > ?`,
        ...params,
        this.#flush.persistedSeq,
      )
      .one().n;
    const deleted = sql.exec<{ n: number }>(`SELECT count(*) AS n FROM logs WHERE ts < ?${lv}`, ...params).one().n;
    sql.exec(`DELETE FROM logs WHERE ts < ?${lv}`, ...params);
    this.#pending = store.countAfter(sql, this.#flush.persistedSeq);
    await this.#armAlarm();
    return { deleted, unpersisted };
  }

  listDeadLetters(limit: number) {
    return store.listDeadLetters(this.ctx.storage.sql, limit);
  }

  /** Moves dead letters back into the outbox: they get new seqs and are flushed again. */
  async replayDeadLetters(limit: number): Promise<{ replayed: number }> {
    const sql = this.ctx.storage.sql;
    const letters = store.listDeadLetters(sql, limit);
    for (const l of letters) sql.exec("DELETE FROM logs WHERE id = ?", l.id);
    store.insertLogs(
      sql,
      letters.map((l) => ({ e: l.entry, patternId: l.entry.pattern_id ?? null })),
    );
    store.deleteDeadLetters(
      sql,
      letters.map((l) => l.seq),
    );
    this.#pending = store.countAfter(sql, this.#flush.persistedSeq);
    await this.#armAlarm();
    return { replayed: letters.length };
  }

  async #runScheduled(force: boolean): Promise<number> {
    const now = Date.now();
    const config = await this.#config();
    const sql = this.ctx.storage.sql;
    let flushed = 0;
    if (this.#pending > 0 && this.#service) {
      const due =
        force ||
        this.#backlogFull(config) ||
        now - this.#pendingSince >= config.flushIntervalMs ||
        this.#flush.failures > 0;
      if (due) {
        flushed = await new FlushPipeline(sql, this.env, { service: this.#service, domain: this.#domain }).run(
          config,
          this.#flush,
          now,
          force,
        );
        this.#pending = store.countAfter(sql, this.#flush.persistedSeq);
        if (this.#pending > 0 && flushed > 0) this.#pendingSince = now;
      }
    }
    this.#patterns.checkpoint();
    if (this.#checks.count > 0) {
      this.#checks.evaluate(now, await this.#checkCounts(config, now));
      await this.#checks.deliver(now);
    }
    if (
      config.persistenceEnabled &&
      this.#service &&
      (force || now - this.#lastPatternPushAt >= config.flushIntervalMs)
    )
      await this.#pushPatterns(config, now);
    if (this.#dirtySince > 0 && (force || now - this.#lastSnapshotAt >= SNAPSHOT_INTERVAL_MS))
      await this.#writeSnapshot(now);
    if (force || now - this.#lastTrimAt >= TRIM_INTERVAL_MS) this.#trim(config, now);
    return flushed;
  }

  /** Upserts mined patterns with cumulative counts (the data service keeps the max: retries are harmless). */
  async #pushPatterns(config: Config, now: number): Promise<void> {
    this.#lastPatternPushAt = now;
    const seq = store.maxSeq(this.ctx.storage.sql);
    if (seq === this.#patternsPushedSeq) return;
    const patterns = this.#patterns.list(
      this.#service,
      { start: 0, end: Number.MAX_SAFE_INTEGER, bucketMs: DAY_MS, minFrequency: 1, limit: 1000, withTrend: false },
      now,
    );
    if (patterns.length === 0) return;
    const client = DataServiceClient.fromEnv(config, this.env);
    try {
      const res = await client!.forward("POST", "/api/logs/patterns/learn", {
        patterns: patterns.map(
          ({ id, pattern, name, type, severity, category, frequency, first_seen, last_seen, services }) => ({
            id,
            pattern,
            name,
            type,
            severity,
            category,
            frequency,
            first_seen,
            last_seen,
            services,
          }),
        ),
      });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      this.#patternsPushedSeq = seq;
    } catch (err) {
      // Patterns are derived data: the next run sends them again.
      console.error("pattern push failed", err instanceof Error ? err.message : String(err));
    }
  }

  async #writeSnapshot(now: number): Promise<void> {
    const sql = this.ctx.storage.sql;
    const snapshot: ServiceSnapshot = {
      service: this.#service,
      domain: this.#domain,
      updated_at: now,
      windows: this.stats(60 * MINUTE_MS, "1m").windows,
      series: this.#counters.series(60 * MINUTE_MS, "1m", now),
      recent_errors: store.recentErrors(sql, 20).map((r) => store.rowToEntry(r, this.#service, this.#domain)),
      top_patterns: this.#patterns.list(
        this.#service,
        { start: now - 60 * MINUTE_MS, end: now + 1, bucketMs: MINUTE_MS, minFrequency: 1, limit: 10, withTrend: true },
        now,
      ),
      pending: this.#pending,
      dead_letters: store.countDeadLetters(sql),
    };
    try {
      // One key per service, written at most every SNAPSHOT_INTERVAL_MS (KV allows 1 write/s per key).
      await this.env.LOGS_KV.put(snapshotKey(this.#domain, this.#service), JSON.stringify(snapshot));
      this.#lastSnapshotAt = now;
      this.#dirtySince = 0;
    } catch (err) {
      // A snapshot is derived data: log, keep dirty, try on the next run.
      console.error("snapshot write failed", err instanceof Error ? err.message : String(err));
      this.#lastSnapshotAt = now;
    }
  }

  #trim(config: Config, now: number): void {
    const sql = this.ctx.storage.sql;
    this.#lastTrimAt = now;
    const { deleted, maxTs } = store.trimPersisted(
      sql,
      this.#flush.persistedSeq,
      now - config.hotRetentionMs,
      config.hotMaxRows,
      !config.persistenceEnabled,
    );
    if (deleted > 0) {
      const prev = Number(store.getMeta(sql, "trimmed_through_ts") ?? 0);
      store.setMeta(sql, "trimmed_through_ts", String(Math.max(prev, maxTs)));
    }
    sql.exec("DELETE FROM counter_minutes WHERE minute <= ?", Math.floor((now - DAY_MS) / MINUTE_MS));
    const expired = sql.exec<{ key: string }>("SELECT key FROM kv_chunks WHERE expires_at <= ?", now).toArray();
    for (const { key } of expired) {
      sql.exec("DELETE FROM archived_ids WHERE chunk = ?", key);
      sql.exec("DELETE FROM kv_chunks WHERE key = ?", key);
    }
  }

  /** "Several full batches" are waiting (batches of the active store: data service or KV chunks). */
  #backlogFull(config: Config): boolean {
    return this.#pending >= 4 * (config.persistenceEnabled ? config.bulkInsertSize : KV_CHUNK_ROWS);
  }

  /** The single place that sets the alarm: the earliest of flush, retry, snapshot and trim. */
  async #armAlarm(): Promise<void> {
    const now = Date.now();
    const config = await this.#config().catch(() => undefined);
    if (!config) return;
    const f = this.#flush;
    const due: number[] = [];
    if (this.#pending > 0) {
      if (f.failures > 0) due.push(f.nextRetryAt);
      // A full backlog flushes early, but at most once per EARLY_FLUSH_GAP_MS: under a steady
      // flood, one flush a second moves 20 batches and leaves the isolate to ingest.
      else if (this.#backlogFull(config)) due.push(this.#flush.lastFlushAt + EARLY_FLUSH_GAP_MS);
      else due.push(this.#pendingSince + config.flushIntervalMs);
    }
    if (this.#dirtySince > 0) due.push(this.#lastSnapshotAt + SNAPSHOT_INTERVAL_MS);
    if (f.persistedSeq > 0) due.push(this.#lastTrimAt + TRIM_INTERVAL_MS);
    const notifyAt = this.#checks.nextNotificationAt();
    if (notifyAt !== null) due.push(notifyAt);
    // Rates move as time passes (errors age out): re-evaluate while a check is breached or
    // logs inside the longest check window exist.
    const sharded = this.#service !== "" && shardCount(config, this.#service) > 1;
    if (
      this.#checks.count > 0 &&
      (sharded || this.#checks.anyBreached || now - this.#lastIngestAt <= this.#checks.longestWindowMs)
    ) {
      due.push(now + CHECK_INTERVAL_MS);
    }
    const next = due.length ? Math.max(Math.min(...due), now) : null;
    if (next === null) {
      if (this.#alarmAt !== null) await this.ctx.storage.deleteAlarm();
      this.#alarmAt = null;
    } else if (this.#alarmAt === null || next < this.#alarmAt || this.#alarmAt < now) {
      await this.ctx.storage.setAlarm(next);
      this.#alarmAt = next;
    }
  }

  stats(seriesWindowMs: number, resolution: "1s" | "1m"): StatsSnapshot {
    const now = Date.now();
    const c = this.#counters;
    return {
      windows: {
        "1m": c.count(MINUTE_MS, now),
        "5m": c.count(5 * MINUTE_MS, now),
        "15m": c.count(15 * MINUTE_MS, now),
        "1h": c.count(60 * MINUTE_MS, now),
        "24h": c.count(DAY_MS, now),
      },
      series: c.series(seriesWindowMs, resolution, now),
      now,
    };
  }

  counts(windowMs: number): LevelCounts {
    return this.#counters.count(windowMs, Date.now());
  }

  errorRate(windowMs: number, threshold: number, minEvents: number): ErrorRate {
    return evaluateErrorRate(this.#counters.count(windowMs, Date.now()), threshold, minEvents);
  }

  /** Minute buckets come from counter_minutes; second buckets from the rows of the last 5 min. */
  #rebuildCounters(now: number): void {
    const sql = this.ctx.storage.sql;
    const counters = new RollingCounters();
    const fromMinute = Math.floor((now - DAY_MS) / MINUTE_MS);
    for (const r of sql.exec<{ minute: number; level: Level; n: number }>(
      "SELECT minute, level, n FROM counter_minutes WHERE minute > ?",
      fromMinute,
    )) {
      counters.addMinute(r.level, r.minute, now, r.n);
    }
    for (const r of sql.exec<{ second: number; level: Level; n: number }>(
      `SELECT min(ts, received_at) / 1000 AS second, level, count(*) AS n FROM logs
       WHERE received_at > ? GROUP BY second, level`,
      now - 5 * MINUTE_MS - SECOND_MS,
    )) {
      counters.addSecond(r.level, r.second, now, r.n);
    }
    this.#counters = counters;
  }
}
