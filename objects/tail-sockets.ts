// Live tail subscribers of one aggregator, on the WebSocket Hibernation API. The runtime's socket
// list is the truth (ctx.getWebSockets("tail")); each socket's filter and last delivered seq are
// in its attachment, so subscribers survive hibernation. Logs are batched per subscriber and sent
// at most every TAIL_FLUSH_MS; a subscriber that falls more than TAIL_QUEUE_MAX entries behind in
// one tick gets `{type:"dropped", count}` instead of unbounded memory.
import { matchesFilter } from "../src/core/log-filter.js";
import type { StoredLogEntry } from "../src/schema/log-entry.js";
import { encodeTailCursor, type TailFilter } from "../src/schema/tail.js";

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

interface Pending {
  logs: StoredLogEntry[];
  dropped: number;
}

export class TailSockets {
  readonly #pending = new Map<WebSocket, Pending>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  droppedTotal = 0;

  constructor(
    private readonly ctx: DurableObjectState,
    private readonly sourceKey: () => string,
    private readonly maxQueue: number = TAIL_QUEUE_MAX,
  ) {}

  count(): number {
    return this.ctx.getWebSockets(TAIL_TAG).length;
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
    for (const [ws, p] of this.#pending) {
      this.#pending.delete(ws);
      const a = ws.deserializeAttachment() as TailAttachment | null;
      if (!a) continue;
      try {
        if (p.dropped > 0) ws.send(JSON.stringify({ type: "dropped", count: p.dropped }));
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
          ws.send(frame);
          ws.serializeAttachment({ ...a, lastSeq: last } satisfies TailAttachment);
        }
      } catch {
        // the socket closed between publish and flush: the runtime drops it from the list
      }
    }
  }

  forget(ws: WebSocket): void {
    this.#pending.delete(ws);
  }
}
