// Live tail subscribers of one aggregator, on the WebSocket Hibernation API. The runtime's socket
// list is the truth (ctx.getWebSockets("tail")); each socket's filter and last delivered seq are
// in its attachment, so subscribers survive hibernation. Logs are batched per subscriber and sent
// at most every TAIL_FLUSH_MS; a subscriber that falls more than TAIL_QUEUE_MAX entries behind in
// one tick gets `{type:"dropped", count}` instead of unbounded memory. Each subscriber also has a
// byte budget (TAIL_SUBSCRIBER_BYTES_PER_S, src/core/tail-flow.ts): workerd's `ws.send` buffers
// without limit for a client that stopped reading, so a frame over budget is not sent but counted
// as dropped (its entries stay stored: resuming from the last cursor fetches them).
import { matchesFilter } from "../src/core/log-filter.js";
import { type ByteBudget, DEFAULT_SUBSCRIBER_BYTES_PER_S, subscriberBudget } from "../src/core/tail-flow.js";
import type { StoredLogEntry } from "../src/schema/log-entry.js";
import { encodeTailCursor, type TailFilter, type TailSubscription } from "../src/schema/tail.js";

export const TAIL_TAG = "tail";
export const TAIL_FLUSH_MS = 100;
/**
 * Default per-subscriber queue bound (TAIL_QUEUE_MAX): 5000 entries between two sends (a tick is
 * 100 ms, longer when the object is busy). Queues hold references to the same entry objects, so
 * the cost is ~8 bytes per queued entry per subscriber plus at most 5000 shared entries.
 */
export const TAIL_QUEUE_MAX = 5000;
export const REPLAY_MAX = 10_000;

export interface TailAttachment {
  filter: TailFilter;
  /** highest seq delivered (or dropped): the resume point */
  lastSeq: number;
}

/** What a subscriber's replay reads: the newest stored seq and the entries after a seq. */
export interface ReplaySource {
  maxSeq(): number;
  entriesAfter(afterSeq: number, filter: TailFilter, limit: number): StoredLogEntry[];
}

interface Pending {
  logs: StoredLogEntry[];
  dropped: number;
}

export class TailSockets {
  readonly #pending = new Map<WebSocket, Pending>();
  /** per socket, in memory (a fresh budget after hibernation); bounded by the runtime's socket list */
  readonly #budgets = new Map<WebSocket, { budget: ByteBudget; carriedDrops: number }>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  droppedTotal = 0;

  constructor(
    private readonly ctx: DurableObjectState,
    private readonly sourceKey: () => string,
    private readonly maxQueue: number = TAIL_QUEUE_MAX,
    private readonly bytesPerSecond: number = DEFAULT_SUBSCRIBER_BYTES_PER_S,
    private readonly now: () => number = Date.now,
  ) {}

  count(): number {
    return this.ctx.getWebSockets(TAIL_TAG).length;
  }

  /**
   * Accepts a subscriber and answers the client's end of the socket: replays what it missed
   * since `sub.since` (at most REPLAY_MAX, then a `dropped` count), then it is live. One
   * synchronous step: no ingest runs in between, so the first live entry is exactly the one
   * after the last replayed (no gap, no duplicate).
   */
  open(sub: TailSubscription, source: ReplaySource, expand: (f: TailFilter) => TailFilter): WebSocket {
    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server, [TAIL_TAG]);
    const key = this.sourceKey();
    let lastSeq = source.maxSeq();
    if (sub.since !== undefined && sub.since < lastSeq) {
      const filter = expand(sub.filter);
      const rows = source.entriesAfter(sub.since, filter, REPLAY_MAX + 1);
      const replay = rows.slice(0, REPLAY_MAX);
      for (let i = 0; i < replay.length; i += 500) {
        const chunk = replay.slice(i, i + 500);
        const cursor = encodeTailCursor({ [key]: chunk[chunk.length - 1].seq ?? 0 });
        server.send(JSON.stringify({ type: "logs", logs: chunk, cursor }));
      }
      if (rows.length > REPLAY_MAX) {
        const rest = source.entriesAfter(replay[replay.length - 1].seq ?? 0, filter, Number.MAX_SAFE_INTEGER).length;
        server.send(JSON.stringify({ type: "dropped", count: rest }));
      }
    } else if (sub.since !== undefined) {
      lastSeq = sub.since;
    }
    server.serializeAttachment({ filter: sub.filter, lastSeq } satisfies TailAttachment);
    // The resume point as of now, so a client that reconnects before any log arrives (or a
    // fan-in over shards that stayed quiet) misses nothing.
    server.send(JSON.stringify({ type: "ready", cursor: encodeTailCursor({ [key]: lastSeq }) }));
    return client;
  }

  /** Queues freshly stored entries (in seq order) for every matching subscriber. */
  publish(entries: StoredLogEntry[], expand: (f: TailFilter) => TailFilter = (f) => f): void {
    const sockets = this.ctx.getWebSockets(TAIL_TAG);
    if (sockets.length === 0 || entries.length === 0) return;
    for (const ws of sockets) {
      const a = ws.deserializeAttachment() as TailAttachment | null;
      if (!a) continue; // still replaying: it reads from SQLite, then goes live
      const filter = expand(a.filter);
      let p = this.#pending.get(ws);
      for (const e of entries) {
        if ((e.seq ?? 0) <= a.lastSeq || !matchesFilter(e, filter)) continue;
        if (!p) this.#pending.set(ws, (p = { logs: [], dropped: 0 }));
        if (p.logs.length >= this.maxQueue) {
          p.dropped++;
          this.droppedTotal++;
        } else p.logs.push(e);
      }
    }
    if (this.#pending.size > 0 && !this.#timer) this.#timer = setTimeout(() => this.flush(), TAIL_FLUSH_MS);
  }

  /** Sends every queued batch now. */
  flush(): void {
    this.#timer = undefined;
    // Subscribers with the same filter get the same frame: serialise it once, not per socket.
    const frames = new Map<string, string>();
    const now = this.now();
    for (const [ws, p] of this.#pending) {
      this.#pending.delete(ws);
      const a = ws.deserializeAttachment() as TailAttachment | null;
      if (!a) continue;
      let b = this.#budgets.get(ws);
      if (!b) this.#budgets.set(ws, (b = { budget: subscriberBudget(this.bytesPerSecond, now), carriedDrops: 0 }));
      try {
        let dropped = p.dropped + b.carriedDrops;
        if (p.logs.length > 0) {
          const last = p.logs[p.logs.length - 1].seq ?? a.lastSeq;
          const key = `${JSON.stringify(a.filter)}|${p.logs[0].seq}|${last}|${p.logs.length}`;
          let frame = frames.get(key);
          if (frame === undefined) {
            frame = JSON.stringify({
              type: "logs",
              logs: p.logs,
              cursor: encodeTailCursor({ [this.sourceKey()]: last }),
            });
            frames.set(key, frame);
          }
          if (b.budget.take(frame.length, now)) {
            ws.send(frame);
            ws.serializeAttachment({ ...a, lastSeq: last } satisfies TailAttachment);
          } else {
            dropped += p.logs.length;
            this.droppedTotal += p.logs.length;
          }
        }
        // the drop report spends budget too, so a stalled client cannot grow even that
        if (dropped > 0 && b.budget.take(64, now)) {
          ws.send(JSON.stringify({ type: "dropped", count: dropped }));
          dropped = 0;
        }
        b.carriedDrops = dropped;
      } catch {
        // the socket closed between publish and flush: the runtime drops it from the list
      }
    }
  }

  forget(ws: WebSocket): void {
    this.#pending.delete(ws);
    this.#budgets.delete(ws);
  }
}
