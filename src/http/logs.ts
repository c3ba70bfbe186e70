// GET /api/logs/search and GET /api/logs/:id. Search fans out to the aggregators the query and
// the key allow, asks each for one more row than the page, merge-sorts by (timestamp, source,
// seq) and signs a cursor at the last row, so pages never overlap or skip across sources.
import { aggregator } from "./aggregators.js";
import { Hono } from "hono";
import { mapLimit } from "../core/concurrency.js";
import { boundFor, comparePositions, type CursorPosition, decodeCursor, encodeCursor, filterKeyOf } from "../core/cursor.js";
import { ApiError } from "../errors.js";
import { ID_RE, type StoredLogEntry } from "../schema/log-entry.js";
import { SearchQuery, toLogFilter } from "../schema/query.js";
import { type AppEnv, parseQuery, requireKey } from "./context.js";
import { FANOUT_CONCURRENCY, resolveTargets } from "./targets.js";

export const logRoutes = new Hono<AppEnv>();

const positionOf = (e: StoredLogEntry): CursorPosition => ({ ts: e.timestamp, k: `${e.domain}/${e.service}`, seq: e.seq ?? 0 });

logRoutes.get("/api/logs/search", async (c) => {
  const principal = await requireKey(c, "read");
  const q = parseQuery(c, SearchQuery);
  const config = c.get("config");
  const order = q.order ?? "desc";
  const limit = q.limit ?? 100;
  const filterKey = filterKeyOf({ ...q, order: undefined });
  let after: CursorPosition | undefined;
  if (q.cursor) {
    const decoded = await decodeCursor(config.cursorSecret, q.cursor, order, filterKey);
    if (typeof decoded === "string") throw new ApiError("invalid_request", 400, `cursor: ${decoded}`, [{ path: "cursor", message: decoded }]);
    after = decoded;
  }
  const targets = await resolveTargets(c.env, principal, { services: q.service, domains: q.domain });
  const filter = toLogFilter(q);
  const pages = await mapLimit(targets, FANOUT_CONCURRENCY, async (t) => {
    const bound = after ? boundFor(after, t.name, order) : undefined;
    const page = await aggregator(c.env, t.name).search({ filter, order, limit: limit + 1, after: bound });
    return page.logs;
  });
  const merged = pages.flat().sort((a, b) => comparePositions(positionOf(a), positionOf(b), order));
  const logs = merged.slice(0, limit);
  const last = logs[logs.length - 1];
  const next_cursor = merged.length > limit && last ? await encodeCursor(config.cursorSecret, order, filterKey, positionOf(last)) : null;
  return c.json({ logs, next_cursor });
});

logRoutes.get("/api/logs/:id", async (c) => {
  const principal = await requireKey(c, "read");
  const id = c.req.param("id");
  if (!ID_RE.test(id)) throw new ApiError("invalid_request", 400, "id: must be 1-64 characters of [A-Za-z0-9_-]", [{ path: "id", message: "malformed id" }]);
  const targets = await resolveTargets(c.env, principal, {});
  const found = await mapLimit(targets, FANOUT_CONCURRENCY, (t) => aggregator(c.env, t.name).getLog(id));
  const entry = found.find((e) => e !== null);
  if (!entry) throw new ApiError("not_found", 404, `no log with id "${id}"`);
  return c.json(entry);
});
