// GET /api/tail: the live tail WebSocket. The key and the filter are checked before the upgrade,
// so a refused tail is an HTTP 400/401/403 with the JSON error body, never a 101.
//
// Where a tail reads from:
// - sources it can name for sure (a service in explicit domains, or in the domains it was seen in,
//   at most MAX_DIRECT_SOURCES aggregators) are tailed directly at their aggregators: exact,
//   resumable by seq, no extra hop;
// - everything else it could match (every service, or a named service in a domain it has not
//   logged in yet) comes through the tail hub (objects/tail-hub.ts), which aggregators publish to
//   while someone listens. So a tail's sources follow the registry while it is open.
// One upstream is handed to the client as is (the Durable Object keeps the hibernating socket);
// several are merged here with one cursor: aggregator name → seq, plus "*" → hub seq.
import { Hono } from "hono";
import { ApiError } from "../errors.js";
import { DEFAULT_DOMAIN, LEVELS, type Level, SERVICE_NAME_RE } from "../schema/log-entry.js";
import { shardNames } from "../core/sharding.js";
import {
  decodeTailCursor,
  encodeTailCursor,
  HUB_CURSOR_KEY,
  type HubSubscription,
  type TailCursor,
  type TailFilter,
  TailQuery,
  type TailSubscription,
} from "../schema/tail.js";
import { HUB_NAME } from "../../objects/tail-hub.js";
import { type AppContext, type AppEnv, parseQuery, requireKey } from "./context.js";
import { knownServices } from "./targets.js";

export const tailRoutes = new Hono<AppEnv>();

/** Aggregators a tail reads directly at most; a wider tail reads everything through the hub. */
export const MAX_DIRECT_SOURCES = 16;

function list(value: string | undefined, path: string, check: (s: string) => boolean): string[] | undefined {
  if (value === undefined) return undefined;
  const items = [
    ...new Set(
      value
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean),
    ),
  ];
  if (items.length === 0 || !items.every(check))
    throw new ApiError("invalid_request", 400, `${path}: invalid value`, [{ path, message: "invalid value" }]);
  return items;
}

export interface TailPlan {
  /** aggregator names tailed directly */
  direct: string[];
  /** the hub subscription for everything else, when there is anything else */
  hub?: HubSubscription;
  filter: TailFilter;
  cursor: TailCursor;
}

async function plan(c: AppContext): Promise<TailPlan> {
  const principal = await requireKey(c, "read", true);
  const q = parseQuery(c, TailQuery);
  const services = list(q.service, "service", (s) => SERVICE_NAME_RE.test(s));
  const domains = list(q.domain, "domain", (d) => /^[a-z0-9_.-]{1,253}$/i.test(d))?.map((d) => d.toLowerCase());
  const levels = list(q.level, "level", (l) => (LEVELS as readonly string[]).includes(l)) as Level[] | undefined;
  if (services) for (const s of services) principal.assertService(s);
  if (services && services.length > 100)
    throw new ApiError("invalid_request", 400, "service: at most 100 services; omit service= to tail all", [
      { path: "service", message: "too many services" },
    ]);
  if (domains && domains.length > 20)
    throw new ApiError("invalid_request", 400, "domain: at most 20 domains", [
      { path: "domain", message: "too many domains" },
    ]);
  const filter: TailFilter = {};
  if (levels) filter.levels = levels;
  if (q.q) filter.q = q.q;
  if (q.pattern_id) filter.patternId = q.pattern_id;

  let direct: string[] = [];
  let hub: HubSubscription | undefined;
  const config = c.get("config");
  if (services) {
    // Named services are tailed even before their first log (their aggregator starts on demand).
    const known = domains ? [] : await knownServices(c.env);
    direct = services.flatMap((s) => {
      const ds = domains ?? [
        ...new Set([DEFAULT_DOMAIN, ...known.filter((k) => k.service === s).map((k) => k.domain)]),
      ];
      return ds.flatMap((d) => shardNames(config, d, s));
    });
    if (direct.length > MAX_DIRECT_SOURCES) {
      direct = [];
      hub = { filter, services, ...(domains ? { domains } : {}) };
    } else if (!domains) {
      // a domain the service has not logged in yet: through the hub, minus what is tailed directly
      hub = { filter, services, exclude: direct };
    }
  } else {
    const allowed = principal.key.services === null ? undefined : [...principal.key.services];
    if (allowed && allowed.length > 1000)
      throw new ApiError("invalid_request", 400, "service: this key names too many services; name them with service=", [
        { path: "service", message: "too many services" },
      ]);
    hub = { filter, ...(allowed ? { allowed } : {}), ...(domains ? { domains } : {}) };
  }

  let cursor: TailCursor = {};
  if (q.since !== undefined) {
    if (/^\d{1,15}$/.test(q.since)) {
      // a bare seq belongs to one aggregator; new domains (through the hub) then start live
      if (direct.length !== 1)
        throw new ApiError(
          "invalid_request",
          400,
          "since: a numeric since needs exactly one unsharded service; use a cursor",
          [{ path: "since", message: "ambiguous" }],
        );
      cursor = { [direct[0]]: Number(q.since) };
    } else {
      const decoded = decodeTailCursor(q.since);
      if (!decoded)
        throw new ApiError("invalid_request", 400, "since: not a sequence number or tail cursor", [
          { path: "since", message: "malformed" },
        ]);
      cursor = decoded;
    }
  }
  if (hub && cursor[HUB_CURSOR_KEY] !== undefined) hub.since = cursor[HUB_CURSOR_KEY];
  return { direct, hub, filter, cursor };
}

function subscribeDirect(c: AppContext, name: string, sub: TailSubscription): Promise<Response> {
  return c.env.LOG_AGGREGATOR.getByName(name).fetch("http://aggregator/tail", {
    headers: { upgrade: "websocket", "x-tail-subscription": JSON.stringify(sub) },
  });
}

function subscribeHub(c: AppContext, sub: HubSubscription): Promise<Response> {
  return c.env.TAIL_HUB.getByName(HUB_NAME).fetch("http://hub/tail", {
    headers: { upgrade: "websocket", "x-hub-subscription": JSON.stringify(sub) },
  });
}

const RESERVED_CLOSE = [1005, 1006, 1015];

/** Merges several upstream tails into one client socket with one cursor. */
function fanIn(upstreams: Response[], start: TailCursor): Response {
  const { 0: client, 1: server } = new WebSocketPair();
  server.accept();
  const cursor: TailCursor = { ...start };
  const sockets: WebSocket[] = [];
  let waitingReady = 0;
  let clientClosed = false;
  const closeAll = (code = 1000, reason = "closed") => {
    for (const u of sockets) {
      try {
        u.close(code, reason);
      } catch {
        // already closed
      }
    }
  };
  server.addEventListener("message", (e) => {
    if (e.data === "ping") server.send("pong");
    // the same bound as a single-source tail: clients only ping
    else if (typeof e.data !== "string" || e.data.length > 1024) server.close(1009, "message too large");
  });
  server.addEventListener("close", (e) => {
    clientClosed = true;
    closeAll();
    // answer the client's close with its own code (1005/1006/1015 may not be sent)
    try {
      server.close(RESERVED_CLOSE.includes(e.code) ? 1000 : e.code, "bye");
    } catch {
      // already closed
    }
  });
  for (const res of upstreams) {
    const ws = res.webSocket;
    if (!ws) continue;
    ws.accept();
    sockets.push(ws);
    waitingReady++;
    ws.addEventListener("message", (e) => {
      if (typeof e.data !== "string" || e.data === "pong") return;
      const frame = JSON.parse(e.data) as { type: string; cursor?: string };
      if ((frame.type === "logs" || frame.type === "ready") && frame.cursor)
        Object.assign(cursor, decodeTailCursor(frame.cursor));
      try {
        // one "ready" for the client, once every upstream has said where it stands
        if (frame.type === "ready") {
          if (--waitingReady === 0) server.send(JSON.stringify({ type: "ready", cursor: encodeTailCursor(cursor) }));
          return;
        }
        server.send(frame.type === "logs" ? JSON.stringify({ ...frame, cursor: encodeTailCursor(cursor) }) : e.data);
      } catch {
        closeAll();
      }
    });
    ws.addEventListener("close", () => {
      if (clientClosed) return; // we closed the upstreams ourselves
      try {
        server.close(1011, "upstream closed");
      } catch {
        // already closed
      }
      closeAll();
    });
  }
  // nothing to wait for: the client still learns that the tail is live, and where it stands
  if (waitingReady === 0) server.send(JSON.stringify({ type: "ready", cursor: encodeTailCursor(cursor) }));
  return new Response(null, { status: 101, webSocket: client });
}

tailRoutes.get("/api/tail", async (c) => {
  // Validated first: a plain GET with the same query answers what the upgrade would be refused
  // with (browsers hide the body of a refused upgrade; the dashboard asks this way).
  const p = await plan(c);
  if (c.req.header("upgrade")?.toLowerCase() !== "websocket")
    throw new ApiError("invalid_request", 426, "GET /api/tail needs a WebSocket upgrade");
  const sub = (name: string): TailSubscription => ({
    filter: p.filter,
    ...(p.cursor[name] !== undefined ? { since: p.cursor[name] } : {}),
  });
  if (p.direct.length === 1 && !p.hub) return subscribeDirect(c, p.direct[0], sub(p.direct[0]));
  if (p.direct.length === 0 && p.hub) return subscribeHub(c, p.hub);
  const upstreams = await Promise.all([
    ...p.direct.map((name) => subscribeDirect(c, name, sub(name))),
    ...(p.hub ? [subscribeHub(c, p.hub)] : []),
  ]);
  return fanIn(upstreams, p.cursor);
});
