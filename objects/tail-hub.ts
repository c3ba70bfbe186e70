// TailHub: the publish/subscribe hub behind tails that are not pinned to known aggregators (a tail
// over all services, or a named service in domains it has not logged in yet). One instance
// ("global"). Aggregators publish their freshly stored entries here only while someone listens
// (objects/tail-publisher.ts asks, and caches a "no" for a second); the hub numbers what it gets
// (hub seq: one ordered stream, the resume cursor `{"*": n}`), keeps it for a while in SQLite so
// `since=` can replay, filters per subscriber and fans out on hibernatable sockets.
//
// Bounds: per subscriber, a queue of HUB_QUEUE_MAX entries per send tick and a byte budget
// (TAIL_SUBSCRIBER_BYTES_PER_S); when the matching stream is faster than the budget the hub
// samples it and says so (`{type:"sampled", rate}`), and what still does not fit is `dropped`.
// Retained entries: at most HUB_RETAIN_ENTRIES and HUB_RETAIN_MS. docs/SCALING.md has the numbers.
import { DurableObject } from "cloudflare:workers";
import { matchesFilter } from "../src/core/log-filter.js";
import {
  type ByteBudget,
  hubSeesSource,
  parseBytesPerSecond,
  subscriberBudget,
  TailSampler,
} from "../src/core/tail-flow.js";
import type { Env } from "../src/env.js";
import { errorBody } from "../src/errors.js";
import type { StoredLogEntry } from "../src/schema/log-entry.js";
import { encodeTailCursor, HUB_CURSOR_KEY, HubSubscription } from "../src/schema/tail.js";

export const HUB_NAME = "global";
export const HUB_TAG = "hub";
/** Frames go out at most this often per subscriber (latency floor vs. frames per second). */
export const HUB_FLUSH_MS = 50;
/** Entries queued per subscriber between two sends; beyond it they are `dropped`. */
export const HUB_QUEUE_MAX = 5000;
/** After a subscriber leaves, keep collecting what it could see this long: a reconnect with `since=` resumes gap-free. */
export const HUB_LINGER_MS = 60_000;
/** Scopes of recently closed subscribers kept for that; beyond it the oldest is forgotten. */
export const HUB_LINGER_MAX = 1000;
/** Entries kept for replay, newest first: whichever bound is hit first. */
export const HUB_RETAIN_ENTRIES = 100_000;
export const HUB_RETAIN_MS = 10 * 60_000;
export const HUB_REPLAY_MAX = 10_000;
const TRIM_EVERY_PUBLISHES = 256;

export interface HubAttachment {
  sub: Omit<HubSubscription, "since">;
  /** highest hub seq handled (sent, sampled out or dropped): the resume point */
  lastSeq: number;
}

export interface PublishReply {
  /** false: nobody listens; the publisher stays quiet for `quietMs` */
  listening: boolean;
  quietMs?: number;
}

/**
 * While nobody listens, busy aggregators still ask about once per quiet time. The hub stretches
 * the quiet time so that these asks stay near HUB_IDLE_ASKS_PER_S fleet-wide: 1 s up to ~200
 * busy aggregators, 30 s at most (10,000 busy aggregators → ~333 asks/s). The cost of a longer
 * quiet time is latency, not loss: a publisher catches up from SQLite when it asks again.
 */
export const HUB_IDLE_ASKS_PER_S = 200;
export const HUB_QUIET_MIN_MS = 1000;
export const HUB_QUIET_MAX_MS = 30_000;

interface Pending {
  parts: string[];
  lastSeq: number;
  dropped: number;
}

/** In-memory flow state per socket: lost on hibernation (a fresh budget then), never the truth. */
interface Flow {
  budget: ByteBudget;
  sampler: TailSampler;
  announcedRate: number;
  carriedDrops: number;
}

/** "<domain>/<service>" or "<domain>/<service>#<shard>" → its domain and service. */
function sourceParts(source: string): { domain: string; service: string } {
  const slash = source.indexOf("/");
  return { domain: source.slice(0, slash), service: source.slice(slash + 1).replace(/#\d+$/, "") };
}

export class TailHub extends DurableObject<Env> {
  #nextSeq: number;
  /** scopes of subscribers that left less than HUB_LINGER_MS ago (memory only, bounded) */
  #lingering: { scope: HubAttachment["sub"]; until: number }[] = [];
  #publishes = 0;
  #declinedWindowStart = 0;
  #declinedInWindow = 0;
  #quietMs = HUB_QUIET_MIN_MS;
  readonly #pending = new Map<WebSocket, Pending>();
  readonly #flows = new Map<WebSocket, Flow>();
  readonly #bytesPerSecond: number;
  #timer: ReturnType<typeof setTimeout> | undefined;
  droppedTotal = 0;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const sql = ctx.storage.sql;
    // One row per published batch (one source, consecutive hub seqs): one row write per publish.
    sql.exec(`CREATE TABLE IF NOT EXISTS batches (
      first_seq INTEGER PRIMARY KEY, last_seq INTEGER NOT NULL, at INTEGER NOT NULL,
      source TEXT NOT NULL, entries TEXT NOT NULL
    )`);
    this.#nextSeq = (sql.exec<{ s: number | null }>("SELECT max(last_seq) AS s FROM batches").one().s ?? 0) + 1;
    this.#bytesPerSecond = parseBytesPerSecond(env.TAIL_SUBSCRIBER_BYTES_PER_S);
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("ping", "pong"));
  }

  /** Takes one aggregator's freshly stored entries (in its seq order) and fans them out. */
  publish(source: string, entries: StoredLogEntry[], dropped = 0): PublishReply {
    const now = Date.now();
    const { domain, service } = sourceParts(source);
    // Only sources some subscriber may see are published: a one-service tail does not make the
    // whole fleet publish.
    const sockets = this.ctx.getWebSockets(HUB_TAG).flatMap((ws) => {
      const a = ws.deserializeAttachment() as HubAttachment | null;
      return a && hubSeesSource(a.sub, source, domain, service) ? [{ ws, a }] : [];
    });
    if (sockets.length === 0 && !this.#lingerWants(source, domain, service, now))
      return { listening: false, quietMs: this.#declined(now) };
    if (entries.length === 0 && dropped === 0) return { listening: true };

    const first = this.#nextSeq;
    const parts = entries.map((e) => JSON.stringify(e));
    if (entries.length > 0) {
      this.#nextSeq += entries.length;
      this.ctx.storage.sql.exec(
        "INSERT INTO batches(first_seq, last_seq, at, source, entries) VALUES (?, ?, ?, ?, ?)",
        first,
        this.#nextSeq - 1,
        now,
        source,
        `[${parts.join(",")}]`,
      );
      if (++this.#publishes % TRIM_EVERY_PUBLISHES === 0) this.#trim(now);
    }
    for (const { ws, a } of sockets) {
      const flow = this.#flowOf(ws, now);
      let p: Pending | undefined;
      for (let i = 0; i < entries.length; i++) {
        const seq = first + i;
        if (seq <= a.lastSeq || !matchesFilter(entries[i], a.sub.filter)) continue;
        p ??= this.#queueFor(ws);
        p.lastSeq = seq;
        if (!flow.sampler.keep(parts[i].length, now)) continue; // sampled out, announced at the flush
        if (p.parts.length >= HUB_QUEUE_MAX) p.dropped++;
        else p.parts.push(parts[i]);
      }
      // entries the publisher lost before they reached us: told to everyone who may have wanted them
      if (dropped > 0) (p ??= this.#queueFor(ws)).dropped += dropped;
    }
    if (this.#pending.size > 0 && !this.#timer) this.#timer = setTimeout(() => this.#flush(), HUB_FLUSH_MS);
    return { listening: true };
  }

  #lingerWants(source: string, domain: string, service: string, now: number): boolean {
    if (this.#lingering.length > 0 && this.#lingering[0].until <= now)
      this.#lingering = this.#lingering.filter((l) => l.until > now);
    return this.#lingering.some((l) => hubSeesSource(l.scope, source, domain, service));
  }

  /** Counts an ask nobody wanted and answers the quiet time for it (from the last second's asks). */
  #declined(now: number): number {
    if (now - this.#declinedWindowStart >= 1000) {
      const perSecond = (this.#declinedInWindow * 1000) / Math.max(1000, now - this.#declinedWindowStart);
      // each busy aggregator asks once per quiet time: asks/s × quiet = busy aggregators
      const busy = perSecond * (this.#quietMs / 1000);
      this.#quietMs = Math.min(HUB_QUIET_MAX_MS, Math.max(HUB_QUIET_MIN_MS, (busy / HUB_IDLE_ASKS_PER_S) * 1000));
      this.#declinedWindowStart = now;
      this.#declinedInWindow = 0;
    }
    this.#declinedInWindow++;
    return Math.round(this.#quietMs);
  }

  #queueFor(ws: WebSocket): Pending {
    let p = this.#pending.get(ws);
    if (!p) {
      const a = ws.deserializeAttachment() as HubAttachment | null;
      this.#pending.set(ws, (p = { parts: [], lastSeq: a?.lastSeq ?? 0, dropped: 0 }));
    }
    return p;
  }

  #flowOf(ws: WebSocket, now: number): Flow {
    let f = this.#flows.get(ws);
    if (!f) {
      f = {
        budget: subscriberBudget(this.#bytesPerSecond, now),
        sampler: new TailSampler(this.#bytesPerSecond, now),
        announcedRate: 1,
        carriedDrops: 0,
      };
      this.#flows.set(ws, f);
    }
    return f;
  }

  /** Sends each subscriber's queued frame, within its byte budget. */
  #flush(): void {
    this.#timer = undefined;
    const now = Date.now();
    for (const [ws, p] of this.#pending) {
      this.#pending.delete(ws);
      const a = ws.deserializeAttachment() as HubAttachment | null;
      if (!a) continue;
      const flow = this.#flowOf(ws, now);
      try {
        if (flow.sampler.rate !== flow.announcedRate) {
          flow.announcedRate = flow.sampler.rate;
          ws.send(JSON.stringify({ type: "sampled", rate: flow.announcedRate }));
        }
        let dropped = p.dropped + flow.carriedDrops;
        if (p.parts.length > 0) {
          const frame = `{"type":"logs","logs":[${p.parts.join(",")}],"cursor":"${encodeTailCursor({ [HUB_CURSOR_KEY]: p.lastSeq })}"}`;
          if (flow.budget.take(frame.length, now)) ws.send(frame);
          else dropped += p.parts.length;
        }
        // a drop report is small but still spends budget, so a stalled client cannot grow it either
        if (dropped > 0 && flow.budget.take(64, now)) {
          ws.send(JSON.stringify({ type: "dropped", count: dropped }));
          this.droppedTotal += dropped;
          dropped = 0;
        }
        flow.carriedDrops = dropped;
        if (p.lastSeq > a.lastSeq) ws.serializeAttachment({ ...a, lastSeq: p.lastSeq } satisfies HubAttachment);
      } catch {
        // closed between publish and flush: the runtime drops it from the list
      }
    }
  }

  #trim(now: number): void {
    const sql = this.ctx.storage.sql;
    const byCount = this.#nextSeq - HUB_RETAIN_ENTRIES;
    // batches are in hub-seq order and in time order, so the oldest young batch bounds the rest
    const young = sql
      .exec<{ f: number }>(
        "SELECT first_seq AS f FROM batches WHERE at >= ? ORDER BY first_seq LIMIT 1",
        now - HUB_RETAIN_MS,
      )
      .toArray()[0];
    const bound = Math.max(byCount, young ? young.f : this.#nextSeq);
    sql.exec("DELETE FROM batches WHERE last_seq < ?", bound);
  }

  // ---- subscribers: fetch() only upgrades; the Worker validated the key and the filter ----

  override async fetch(request: Request): Promise<Response> {
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket")
      return Response.json(errorBody("invalid_request", "WebSocket upgrade required"), { status: 426 });
    let sub: HubSubscription;
    try {
      sub = HubSubscription.parse(JSON.parse(request.headers.get("x-hub-subscription") ?? "{}"));
    } catch {
      return Response.json(errorBody("invalid_request", "bad hub subscription"), { status: 400 });
    }
    const now = Date.now();
    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server, [HUB_TAG]);
    const { since, ...scope } = sub;
    const head = this.#nextSeq - 1;
    // Replay and go live in one synchronous step: no publish runs in between (no gap, no duplicate).
    if (since !== undefined && since < head) this.#replay(server, scope, since);
    server.serializeAttachment({ sub: scope, lastSeq: head } satisfies HubAttachment);
    this.#flowOf(server, now);
    server.send(JSON.stringify({ type: "ready", cursor: encodeTailCursor({ [HUB_CURSOR_KEY]: head }) }));
    return new Response(null, { status: 101, webSocket: client });
  }

  #replay(ws: WebSocket, scope: HubAttachment["sub"], since: number): void {
    const rows = this.ctx.storage.sql
      .exec<{ first_seq: number; source: string; entries: string }>(
        "SELECT first_seq, source, entries FROM batches WHERE last_seq > ? ORDER BY first_seq",
        since,
      )
      .toArray();
    // Entries published before the oldest retained batch are gone: say how many hub seqs that is.
    const oldest = rows[0]?.first_seq ?? this.#nextSeq;
    let dropped = Math.max(0, oldest - since - 1);
    let parts: string[] = [];
    let sent = 0;
    const send = (lastSeq: number) => {
      ws.send(
        `{"type":"logs","logs":[${parts.join(",")}],"cursor":"${encodeTailCursor({ [HUB_CURSOR_KEY]: lastSeq })}"}`,
      );
      parts = [];
    };
    for (const row of rows) {
      const { domain, service } = sourceParts(row.source);
      if (!hubSeesSource(scope, row.source, domain, service)) continue;
      const entries = JSON.parse(row.entries) as StoredLogEntry[];
      entries.forEach((e, i) => {
        const seq = row.first_seq + i;
        if (seq <= since || !matchesFilter(e, scope.filter)) return;
        if (sent >= HUB_REPLAY_MAX) {
          dropped++;
          return;
        }
        parts.push(JSON.stringify(e));
        sent++;
        if (parts.length === 500) send(seq);
      });
    }
    if (parts.length > 0) send(this.#nextSeq - 1);
    if (dropped > 0) ws.send(JSON.stringify({ type: "dropped", count: dropped }));
  }

  override webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): void {
    // Clients only ping (answered by the auto-response); anything else large is refused.
    if (typeof message !== "string" || message.length > 1024) ws.close(1009, "message too large");
  }

  override webSocketClose(ws: WebSocket, code: number): void {
    this.#forget(ws);
    // 1005/1006/1015 are reserved: they may not be sent in a close frame.
    try {
      ws.close(code === 1005 || code === 1006 || code === 1015 ? 1000 : code, "bye");
    } catch {
      // already closed
    }
  }

  override webSocketError(ws: WebSocket): void {
    this.#forget(ws);
  }

  #forget(ws: WebSocket): void {
    let a: HubAttachment | null = null;
    try {
      a = ws.deserializeAttachment() as HubAttachment | null;
    } catch {
      // a socket in error may have nothing to read: nothing to linger for
    }
    if (a) {
      this.#lingering.push({ scope: a.sub, until: Date.now() + HUB_LINGER_MS });
      if (this.#lingering.length > HUB_LINGER_MAX) this.#lingering.shift();
    }
    this.#pending.delete(ws);
    this.#flows.delete(ws);
  }

  /** For /metrics and tests: live subscribers and entries dropped for them. */
  stats(): { subscribers: number; dropped_total: number; next_seq: number } {
    return {
      subscribers: this.ctx.getWebSockets(HUB_TAG).length,
      dropped_total: this.droppedTotal,
      next_seq: this.#nextSeq,
    };
  }
}
