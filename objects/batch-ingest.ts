// One ingest RPC: a batch of validated, redacted entries of one service becomes at most one
// segment row. Here: the per-service rate limit, the first ingest naming the aggregator,
// duplicates (found before mining, so the miner sees each stored entry exactly once and a
// restart replays stored entries in seq order), pattern assignment, seqs, the append, live
// counters, tail delivery of what was stored, and the checks that react to an ingest.
import type { RejectionRecord } from "../src/core/rejections.js";
import { TokenBucket } from "../src/core/token-bucket.js";
import type { NormalisedLogEntry, StoredLogEntry } from "../src/schema/log-entry.js";
import type { IngestedEntry, IngestOutcome, RejectedCounts } from "./aggregator-types.js";
import type { ChecksJob } from "./jobs/checks-job.js";
import type { AggregatorParts } from "./jobs/context.js";
import * as store from "./log-store.js";
import { recordRejections } from "./rejections.js";
import { REGISTRY_NAME } from "./service-registry.js";
import type { TailPublisher } from "./tail-publisher.js";
import type { TailSockets } from "./tail-sockets.js";

/** The registry learns that a service is alive at most this often (one RPC, not one per batch). */
const REGISTRY_TOUCH_MS = 60_000;

/** Who the aggregator is: empty until its first entry (or rejection) names it; kept in meta. */
export class ServiceIdentity {
  service = "";
  domain = "";

  load(sql: SqlStorage): void {
    this.service = store.getMeta(sql, "service") ?? "";
    this.domain = store.getMeta(sql, "domain") ?? "";
  }

  claim(sql: SqlStorage, first: { service: string; domain: string }): void {
    if (this.service) return;
    this.service = first.service;
    this.domain = first.domain;
    store.setMeta(sql, "service", first.service);
    store.setMeta(sql, "domain", first.domain);
  }
}

export class BatchIngest {
  #bucket: TokenBucket | undefined; // RATE_LIMIT_SERVICE_LOGS_PER_S
  #lastRegistryTouch = 0;

  constructor(
    private readonly parts: AggregatorParts,
    private readonly who: ServiceIdentity,
    private readonly tails: TailSockets,
    private readonly publisher: TailPublisher,
    private readonly checks: ChecksJob,
  ) {}

  /**
   * Stores the batch. Synchronous on purpose: no other event runs between the duplicate checks
   * and the write. `stored` is how many entries are new (the caller re-arms the alarm for them).
   */
  ingest(
    entries: NormalisedLogEntry[],
    rejected: RejectedCounts | undefined,
    rejections: RejectionRecord[] | undefined,
    now: number,
  ): { outcome: IngestOutcome; stored: number } {
    const { sql, store: segments, patterns, counters } = this.parts;
    // Refusals are rare; each is one row in the bounded rejections ring (objects/rejections.ts).
    if (rejections) recordRejections(sql, rejections, now);
    if (entries.length > 0) {
      const perSecond = this.parts.config().serviceLogsPerSecond;
      this.#bucket ??= new TokenBucket(perSecond, Math.max(1000, 2 * perSecond), now);
      const allowed = this.#bucket.take(entries.length, now);
      if (!allowed.ok) {
        store.bumpTotals(sql, new Map([["rate_limited", entries.length]]));
        return { outcome: { entries: [], rateLimited: { retryAfterMs: allowed.retryAfterMs } }, stored: 0 };
      }
    }
    const first = entries[0] ?? rejections?.[0];
    if (first) this.who.claim(sql, first);
    const out: IngestedEntry[] = [];
    const fresh: StoredLogEntry[] = [];
    const batchSeqs = new Map<string, number>();
    let seq = segments.maxSeq();
    for (const e of entries) {
      const known = batchSeqs.get(e.id) ?? segments.findById(e.id)?.seq;
      if (known !== undefined) {
        out.push({ id: e.id, seq: known, duplicate: true });
        continue;
      }
      const entry = e as StoredLogEntry; // ours: the RPC argument is a copy
      entry.pattern_id = patterns.assign(entry);
      entry.seq = ++seq;
      batchSeqs.set(e.id, seq);
      fresh.push(entry);
      out.push({ id: e.id, seq, duplicate: false });
    }
    const rejectedCounts = Object.fromEntries(Object.entries(rejected ?? {}).filter(([, n]) => n > 0));
    const dup = out.length - fresh.length;
    if (fresh.length > 0) {
      // One segment row holds the batch and its counts: the only row this call writes.
      segments.append(fresh, { dup: dup || undefined, rejected: rejectedCounts });
      patterns.advance(seq);
      for (const e of fresh) counters.add(e.level, Math.min(e.timestamp, e.received_at), now);
    } else {
      const totals = new Map<string, number>([["duplicates", dup]]);
      for (const [level, n] of Object.entries(rejectedCounts)) totals.set(`rejected_${level}`, n);
      store.bumpTotals(sql, totals);
    }
    // Tail delivery: the accepted entries, with their seqs, now durably stored.
    this.tails.publish(fresh, (f) => patterns.expandFilter(f));
    this.publisher.publish(fresh);
    if (fresh.length > 0) this.checks.onIngest(now);
    return { outcome: { entries: out }, stored: fresh.length };
  }

  /** Tells the service registry this service is alive (GET /api/services lists it). */
  async touchRegistry(now: number): Promise<void> {
    if (now - this.#lastRegistryTouch <= REGISTRY_TOUCH_MS || !this.who.service) return;
    await this.parts.env.SERVICE_REGISTRY.getByName(REGISTRY_NAME).touch(this.who.domain, this.who.service, now);
    this.#lastRegistryTouch = now;
  }
}
