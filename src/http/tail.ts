// GET /api/tail: the live tail WebSocket. One service: the request goes straight to that
// aggregator, which holds the socket with the Hibernation API. Several services (or all the key
// may read): this Worker fans in from each aggregator's socket and merges the resume cursor, so
// aggregators nobody listens to do no tail work at all.
import { Hono } from "hono";
import { ApiError } from "../errors.js";
import { DEFAULT_DOMAIN, LEVELS, type Level, SERVICE_NAME_RE } from "../schema/log-entry.js";
import { shardNames } from "../core/sharding.js";
import {
  decodeTailCursor,
  encodeTailCursor,
  type TailCursor,
  type TailFilter,
  TailQuery,
  type TailSubscription,
} from "../schema/tail.js";
import { type AppContext, type AppEnv, parseQuery, requireKey } from "./context.js";
import { knownServices } from "./targets.js";

export const tailRoutes = new Hono<AppEnv>();

/** A multi-service tail fans in from at most this many aggregators; narrow with service=. */
export const MAX_TAIL_FANIN = 100;

/** Browsers hide HTTP bodies on failed upgrades: accept, send one error frame, close. */
function socketError(err: ApiError): Response {
  const { 0: client, 1: server } = new WebSocketPair();
  server.accept();
  server.send(JSON.stringify({ type: "error", ...err.toBody() }));
  server.close(err.status >= 500 ? 1011 : 1008, err.code);
  return new Response(null, { status: 101, webSocket: client });
}

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

interface TailPlan {
  targets: string[];
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

  // Named services are tailed even before their first log (their aggregator starts on demand).
  const known = await knownServices(c.env);
  let targets: string[];
  if (services) {
    targets = services.flatMap((s) => {
      const seen = known.filter((k) => k.service === s).map((k) => k.domain);
      const ds = domains ?? [...new Set([DEFAULT_DOMAIN, ...seen])];
      return ds.flatMap((d) => shardNames(c.get("config"), d, s));
    });
  } else {
    const visible = known.filter((k) => principal.canAccess(k.service) && (!domains || domains.includes(k.domain)));
    targets = visible.flatMap((k) => shardNames(c.get("config"), k.domain, k.service));
  }
  if (targets.length > MAX_TAIL_FANIN) {
    throw new ApiError(
      "invalid_request",
      400,
      `service: a tail spans at most ${MAX_TAIL_FANIN} services; name them with service=`,
      [{ path: "service", message: "too many services" }],
    );
  }

  let cursor: TailCursor = {};
  if (q.since !== undefined) {
    if (/^\d{1,15}$/.test(q.since)) {
      if (targets.length !== 1)
        throw new ApiError(
          "invalid_request",
          400,
          "since: a numeric since needs exactly one unsharded service; use a cursor",
          [{ path: "since", message: "ambiguous" }],
        );
      cursor = { [targets[0]]: Number(q.since) };
    } else {
      const decoded = decodeTailCursor(q.since);
      if (!decoded)
        throw new ApiError("invalid_request", 400, "since: not a sequence number or tail cursor", [
          { path: "since", message: "malformed" },
        ]);
      cursor = decoded;
    }
  }
  const filter: TailFilter = {};
  if (levels) filter.levels = levels;
  if (q.q) filter.q = q.q;
  if (q.pattern_id) filter.patternId = q.pattern_id;
  return { targets, filter, cursor };
}

function subscribe(c: AppContext, name: string, sub: TailSubscription): Promise<Response> {
  return c.env.LOG_AGGREGATOR.getByName(name).fetch("http://aggregator/tail", {
    headers: { upgrade: "websocket", "x-tail-subscription": JSON.stringify(sub) },
  });
}

tailRoutes.get("/api/tail", async (c) => {
  const upgrade = c.req.header("upgrade")?.toLowerCase() === "websocket";
  if (!upgrade) throw new ApiError("invalid_request", 426, "GET /api/tail needs a WebSocket upgrade");
  let p: TailPlan;
  try {
    p = await plan(c);
  } catch (err) {
    if (err instanceof ApiError) return socketError(err);
    throw err;
  }
  const sub = (name: string): TailSubscription => ({
    filter: p.filter,
    ...(p.cursor[name] !== undefined ? { since: p.cursor[name] } : {}),
  });
  if (p.targets.length === 1) return subscribe(c, p.targets[0], sub(p.targets[0]));

  // Fan-in: one upstream socket per aggregator, frames re-sent with the merged cursor.
  const { 0: client, 1: server } = new WebSocketPair();
  server.accept();
  const cursor: TailCursor = { ...p.cursor };
  const upstreams: WebSocket[] = [];
  let waitingReady = p.targets.length;
  const closeAll = (code = 1000, reason = "closed") => {
    for (const u of upstreams) {
      try {
        u.close(code, reason);
      } catch {
        // already closed
      }
    }
  };
  let clientClosed = false;
  server.addEventListener("message", (e) => {
    if (e.data === "ping") server.send("pong");
    // the same bound as a single-service tail: clients only ping
    else if (typeof e.data !== "string" || e.data.length > 1024) server.close(1009, "message too large");
  });
  server.addEventListener("close", (e) => {
    clientClosed = true;
    closeAll();
    // answer the client's close with its own code (1005/1006/1015 may not be sent)
    try {
      server.close([1005, 1006, 1015].includes(e.code) ? 1000 : e.code, "bye");
    } catch {
      // already closed
    }
  });
  for (const name of p.targets) {
    const res = await subscribe(c, name, sub(name));
    const ws = res.webSocket;
    if (!ws) continue;
    ws.accept();
    upstreams.push(ws);
    ws.addEventListener("message", (e) => {
      if (typeof e.data !== "string" || e.data === "pong") return;
      const frame = JSON.parse(e.data) as { type: string; cursor?: string };
      if ((frame.type === "logs" || frame.type === "ready") && frame.cursor)
        Object.assign(cursor, decodeTailCursor(frame.cursor));
      try {
        // one "ready" for the client, once every aggregator has said where it stands
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
  return new Response(null, { status: 101, webSocket: client });
});
