// LogAggregator: the Durable Object for one domain/service. Storage (SQLite) holds the truth;
// counters are an in-memory cache rebuilt exactly from storage after eviction or restart.
// Wiring only: SQL lives in log-store.ts, arithmetic in src/core.
import { DurableObject } from "cloudflare:workers";
import { evaluateErrorRate, type ErrorRate } from "../src/core/error-rate.js";
import { type LevelCounts, RollingCounters, type SeriesPoint } from "../src/core/rolling-counters.js";
import { MINUTE_MS, SECOND_MS, DAY_MS } from "../src/core/duration.js";
import type { Env } from "../src/env.js";
import type { Level, NormalisedLogEntry, StoredLogEntry } from "../src/schema/log-entry.js";
import type { AggregatorSearch } from "../src/schema/query.js";
import * as store from "./log-store.js";
import { REGISTRY_NAME } from "./service-registry.js";

export interface IngestedEntry {
  id: string;
  seq: number;
  /** true when the id was already stored: the first entry stays (idempotent retry). */
  duplicate: boolean;
}

export interface IngestOutcome {
  entries: IngestedEntry[];
}

export interface SearchPage {
  logs: StoredLogEntry[];
}

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

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    void ctx.blockConcurrencyWhile(async () => {
      store.migrate(ctx.storage.sql);
      this.#service = store.getMeta(ctx.storage.sql, "service") ?? "";
      this.#domain = store.getMeta(ctx.storage.sql, "domain") ?? "";
      this.#rebuildCounters(Date.now());
    });
  }

  /** Stores entries (all of one domain/service). Resolves once they are in SQLite. */
  async ingest(entries: NormalisedLogEntry[]): Promise<IngestOutcome> {
    const sql = this.ctx.storage.sql;
    const now = Date.now();
    const first = entries[0];
    if (first && !this.#service) {
      this.#service = first.service;
      this.#domain = first.domain;
      store.setMeta(sql, "service", first.service);
      store.setMeta(sql, "domain", first.domain);
    }
    const minuteCounts = new Map<string, number>();
    const out: IngestedEntry[] = [];
    for (const e of entries) {
      const seq = store.insertLog(sql, e, null);
      if (seq === undefined) {
        out.push({ id: e.id, seq: store.seqOfId(sql, e.id) ?? 0, duplicate: true });
        continue;
      }
      out.push({ id: e.id, seq, duplicate: false });
      const countedAt = Math.min(e.timestamp, e.received_at);
      if (this.#counters.add(e.level, countedAt, now)) {
        const key = `${Math.floor(countedAt / MINUTE_MS)}:${e.level}`;
        minuteCounts.set(key, (minuteCounts.get(key) ?? 0) + 1);
      }
    }
    store.bumpMinuteCounters(sql, minuteCounts);
    if (now - this.#lastRegistryTouch > REGISTRY_TOUCH_MS && this.#service) {
      await this.env.SERVICE_REGISTRY.getByName(REGISTRY_NAME).touch(this.#domain, this.#service, now);
      this.#lastRegistryTouch = now;
    }
    return { entries: out };
  }

  search(search: AggregatorSearch): SearchPage {
    return { logs: store.searchLogs(this.ctx.storage.sql, search).map((r) => store.rowToEntry(r, this.#service, this.#domain)) };
  }

  getLog(id: string): StoredLogEntry | null {
    const row = store.getLogById(this.ctx.storage.sql, id);
    return row ? store.rowToEntry(row, this.#service, this.#domain) : null;
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
