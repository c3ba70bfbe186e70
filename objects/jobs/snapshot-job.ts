// The KV snapshot: a service's live numbers (windows, series, newest errors, top patterns) as one
// KV value that dashboards and global reads fetch without waking the object. Written only when
// something new was stored, at most every SNAPSHOT_INTERVAL_MS (KV allows one write a second per
// key, and at fleet scale these writes are a cost line: docs/SCALING.md).
import { MINUTE_MS } from "../../src/core/duration.js";
import { phaseOf } from "../../src/core/phase.js";
import type { ServiceSnapshot } from "../aggregator-types.js";
import * as store from "../log-store.js";
import type { ScheduledTask } from "../scheduler.js";
import type { AggregatorParts } from "./context.js";

/** Share of SNAPSHOT_INTERVAL_MS a first snapshot may wait for its phase (6 s of the default 30 s). */
export const FIRST_SNAPSHOT_SPREAD = 0.2;

export const snapshotKey = (domain: string, service: string) => `snapshot/${domain}/${service}`;

export class SnapshotJob implements ScheduledTask {
  readonly name = "snapshot";
  /** the last snapshot written: the seq it covered and when (meta, so a fresh instance knows it) */
  #written = { seq: 0, at: 0 };
  #triedAt = 0;

  constructor(
    private readonly parts: AggregatorParts,
    private readonly outbox: { pending(): number },
  ) {}

  load(): void {
    this.#written = JSON.parse(store.getMeta(this.parts.sql, "snapshot") ?? '{"seq":0,"at":0}');
  }

  dueAt(now: number): number | null {
    const { store: segments } = this.parts;
    const { service, name } = this.parts.identity();
    if (!service || segments.maxSeq() <= this.#written.seq) return null;
    const interval = this.parts.config().snapshotIntervalMs;
    const last = Math.max(this.#written.at, this.#triedAt);
    if (last > 0) return last + interval;
    // The first snapshot waits for the aggregator's phase (at most FIRST_SNAPSHOT_SPREAD of the
    // interval after its first log), and later ones keep that offset: a fleet started together
    // spreads its KV writes instead of making them all in the same second.
    const first = segments.oldestReceivedAfter(0) ?? now;
    return first + Math.round(interval * FIRST_SNAPSHOT_SPREAD * phaseOf(name));
  }

  async run(now: number): Promise<void> {
    const { sql, env, counters, patterns, store: segments } = this.parts;
    const { service, domain } = this.parts.identity();
    const seq = segments.maxSeq();
    const hour = 60 * MINUTE_MS;
    const snapshot: ServiceSnapshot = {
      service,
      domain,
      updated_at: now,
      windows: counters.stats(hour, "1m", now).windows,
      series: counters.series(hour, "1m", now),
      recent_errors: segments.search(
        { filter: { levels: ["error"] }, order: "desc", limit: 20 },
        Number.MAX_SAFE_INTEGER,
      ).logs,
      top_patterns: patterns.list(
        service,
        { start: now - hour, end: now + 1, bucketMs: MINUTE_MS, minFrequency: 1, limit: 10, withTrend: true },
        now,
      ),
      pending: this.outbox.pending(),
      dead_letters: store.countDeadLetters(sql),
    };
    this.#triedAt = now;
    try {
      await env.LOGS_KV.put(snapshotKey(domain, service), JSON.stringify(snapshot));
      this.#written = { seq, at: now };
      store.setMeta(sql, "snapshot", JSON.stringify(this.#written));
    } catch (err) {
      // A snapshot is derived data: log, try again after the interval.
      console.error("snapshot write failed", err instanceof Error ? err.message : String(err));
    }
  }
}
