// The aggregator's side of the tail hub (objects/tail-hub.ts): after each ingest the aggregator
// calls `publish(fresh)`; this module decides whether anyone listens and sends to the hub.
//
// - One publish RPC in flight per aggregator: entries that arrive meanwhile queue and go in the
//   next call, so the hub sees each source in seq order and a slow hub gets fewer, larger calls.
// - The hub answers `listening: false` when nobody is subscribed; then the publisher stays quiet
//   (no RPC at all) for the time the hub says: PUBLISH_QUIET_MS, longer when many aggregators
//   ask (objects/tail-hub.ts keeps a fleet nobody tails near HUB_IDLE_ASKS_PER_S asks in all).
// - No gap across the quiet time: the next publish after it first reads the rows stored while
//   quiet (at most CATCH_UP_MAX) from SQLite and sends them ahead, so a tail that connected during
//   the quiet second still gets them. An aggregator that is new (or was evicted) starts by asking.
// - Bounded: the queue holds PUBLISH_QUEUE_MAX entries; beyond it entries are counted and the
//   count reaches subscribers as `dropped`.
import type { StoredLogEntry } from "../src/schema/log-entry.js";
import type { PublishReply } from "./tail-hub.js";

export const PUBLISH_QUIET_MS = 1000;
export const PUBLISH_QUEUE_MAX = 5000;
export const PUBLISH_BATCH_MAX = 500;
export const CATCH_UP_MAX = 5000;

export interface HubPort {
  publish(source: string, entries: StoredLogEntry[], dropped: number): Promise<PublishReply>;
}

export class TailPublisher {
  #queue: StoredLogEntry[] = [];
  #dropped = 0;
  #draining = false;
  #quietUntil = 0;
  /** the hub declined entries up to this seq; later ones were not offered while quiet */
  #declinedThrough: number | undefined;
  publishedTotal = 0;

  constructor(
    private readonly hub: () => HubPort,
    private readonly source: () => string,
    /** stored entries with seq > after, in seq order, at most `limit` */
    private readonly rowsAfter: (after: number, limit: number) => StoredLogEntry[],
    private readonly now: () => number = Date.now,
  ) {}

  /** Offers freshly stored entries (in seq order). Never throws, never waits. */
  publish(entries: StoredLogEntry[]): void {
    if (entries.length === 0 || this.now() < this.#quietUntil) return;
    let batch = entries;
    const firstSeq = entries[0].seq ?? 0;
    if (this.#declinedThrough !== undefined && firstSeq > this.#declinedThrough + 1) {
      const from = Math.max(this.#declinedThrough, firstSeq - 1 - CATCH_UP_MAX);
      this.#dropped += from - this.#declinedThrough;
      const missed = this.rowsAfter(from, firstSeq - 1 - from).filter((e) => (e.seq ?? 0) < firstSeq);
      batch = [...missed, ...entries];
    }
    this.#declinedThrough = undefined;
    const room = PUBLISH_QUEUE_MAX - this.#queue.length;
    if (batch.length > room) {
      this.#dropped += batch.length - Math.max(0, room);
      batch = batch.slice(0, Math.max(0, room));
    }
    for (const e of batch) this.#queue.push(e);
    if (!this.#draining) void this.#drain();
  }

  async #drain(): Promise<void> {
    this.#draining = true;
    try {
      while (this.#queue.length > 0) {
        const batch = this.#queue.splice(0, PUBLISH_BATCH_MAX);
        const dropped = this.#dropped;
        this.#dropped = 0;
        let listening = false;
        let failed = false;
        let quietMs = PUBLISH_QUIET_MS;
        try {
          const reply = await this.hub().publish(this.source(), batch, dropped);
          listening = reply.listening;
          if (reply.quietMs !== undefined) quietMs = Math.min(60_000, Math.max(PUBLISH_QUIET_MS, reply.quietMs));
          if (listening) this.publishedTotal += batch.length;
          else this.#dropped = 0; // nobody listens: nobody to tell
        } catch {
          // hub unreachable: the catch-up after the quiet time resends these rows; keep the count
          this.#dropped += dropped;
          failed = true;
        }
        if (!listening) {
          const rest = this.#queue.splice(0);
          this.#declinedThrough = failed
            ? (batch[0].seq ?? 1) - 1
            : ((rest.at(-1) ?? batch[batch.length - 1]).seq ?? 0);
          this.#quietUntil = this.now() + quietMs;
        }
      }
    } finally {
      this.#draining = false;
    }
  }
}
