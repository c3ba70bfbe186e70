// GET /api/logs/search and GET /api/logs/:id. Search fans out to the aggregators the query and
// the key allow, asks each for one more row than the page, merge-sorts by (timestamp, source,
// seq) and signs a cursor at the last row, so pages never overlap or skip across sources.
import { aggregator } from "./aggregators.js";
import { Hono } from "hono";
import { firstFound } from "../core/concurrency.js";
import {
  boundFor,
  comparePositions,
  type CursorPosition,
  decodeCursor,
  encodeCursor,
  filterKeyOf,
} from "../core/cursor.js";
import { ApiError } from "../errors.js";
import { ID_RE, type StoredLogEntry } from "../schema/log-entry.js";
import { SearchQuery, toLogFilter } from "../schema/query.js";
import { DataServiceClient } from "../data-service-client.js";
import { type AppEnv, parseQuery, requireKey } from "./context.js";
import { FANOUT_CONCURRENCY, fanOut, resolveTargets, type Target, withinDeadline } from "./targets.js";

export const logRoutes = new Hono<AppEnv>();

/**
 * The data service's rows for this page: the same filters, restricted to the targets' services,
 * and bounded by the cursor's timestamp (its own cursor can't follow ours). It is asked for
 * twice the page so rows sharing the cursor's timestamp don't crowd out the next ones.
 */
async function coldSearch(
  client: DataServiceClient,
  q: SearchQuery,
  targets: Target[],
  order: "asc" | "desc",
  limit: number,
  after?: CursorPosition,
): Promise<Row[]> {
  const p = new URLSearchParams();
  const services = [...new Set(targets.map((t) => t.service))];
  if (services.length <= 100) p.set("service", services.join(","));
  const domains = [...new Set(targets.map((t) => t.domain))];
  if (domains.length <= 100) p.set("domain", domains.join(","));
  if (q.level) p.set("level", q.level.join(","));
  let start = q.start_time;
  let end = q.end_time;
  if (after && order === "desc") end = end === undefined ? after.ts : Math.min(end, after.ts);
  if (after && order === "asc") start = start === undefined ? after.ts : Math.max(start, after.ts);
  if (start !== undefined) p.set("start_time", String(start));
  if (end !== undefined) p.set("end_time", String(end));
  for (const k of ["user_id", "session_id", "request_id", "category", "pattern_id", "q"] as const)
    if (q[k]) p.set(k, q[k]!);
  p.set("order", order);
  p.set("limit", String(Math.min(1000, limit * 2 + 1)));
  let res: Awaited<ReturnType<typeof client.search>>;
  try {
    res = await client.search(p);
  } catch (err) {
    throw new ApiError("upstream_unavailable", 502, `data service search failed: ${(err as Error).message}`);
  }
  const allowed = new Set(targets.map((t) => `${t.domain}/${t.service}`));
  return res.logs
    .filter((e) => allowed.has(`${e.domain}/${e.service}`))
    .map(coldRow)
    .filter((r) => !after || comparePositions(r.pos, after, order) > 0);
}

/**
 * A row's place in the merged order: (timestamp, source, seq). The source of a hot row is its
 * aggregator (shard) name; rows from the data service get `<domain>/<service>~` so they never
 * compare equal to a hot source.
 */
interface Row {
  e: StoredLogEntry;
  pos: CursorPosition;
}
const hotRow = (e: StoredLogEntry, source: string): Row => ({
  e,
  pos: { ts: e.timestamp, k: source, seq: e.seq ?? 0 },
});
const coldRow = (e: StoredLogEntry): Row => ({
  e,
  pos: { ts: e.timestamp, k: `${e.domain}/${e.service}~`, seq: e.seq ?? 0 },
});

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
    if (typeof decoded === "string")
      throw new ApiError("invalid_request", 400, `cursor: ${decoded}`, [{ path: "cursor", message: decoded }]);
    after = decoded;
  }
  const targets = await resolveTargets(c.env, principal, { services: q.service, domains: q.domain });
  const filter = toLogFilter(q);
  const pages = await fanOut(targets, async (t) => {
    const bound = after ? boundFor(after, t.name, order) : undefined;
    return aggregator(c.env, t.name).search({ filter, order, limit: limit + 1, after: bound });
  });
  let rows = pages.flatMap((p, i) => p.logs.map((e) => hotRow(e, targets[i].name)));
  // Older rows trimmed from the aggregators live in the data service: ask it too when the
  // query reaches back past what some aggregator trimmed, then merge and drop duplicates.
  const trimmedThrough = Math.max(0, ...pages.map((p) => p.trimmedThroughTs));
  const client = DataServiceClient.fromEnv(config, c.env);
  if (
    client &&
    trimmedThrough > 0 &&
    (q.start_time === undefined || q.start_time <= trimmedThrough) &&
    targets.length > 0
  ) {
    const cold = await coldSearch(client, q, targets, order, limit, after);
    const seen = new Set(rows.map((r) => r.e.id));
    rows = rows.concat(cold.filter((r) => !seen.has(r.e.id)));
  }
  const merged = rows.sort((a, b) => comparePositions(a.pos, b.pos, order));
  // A text search that hit its scan budget somewhere is only complete up to the earliest such
  // point: the page stops there (it may be short, even empty) and the cursor continues from it.
  const edges = pages.flatMap((p, i) =>
    p.scannedThrough ? [{ ts: p.scannedThrough.ts, k: targets[i].name, seq: p.scannedThrough.seq }] : [],
  );
  const edge = edges.sort((a, b) => comparePositions(a, b, order))[0];
  const complete = edge ? merged.filter((r) => comparePositions(r.pos, edge, order) <= 0) : merged;
  const page = complete.slice(0, limit);
  const last = page[page.length - 1];
  const next: CursorPosition | undefined = complete.length > limit && last ? last.pos : edge;
  const next_cursor = next ? await encodeCursor(config.cursorSecret, order, filterKey, next) : null;
  return c.json({ logs: page.map((r) => r.e), next_cursor });
});

logRoutes.get("/api/logs/:id", async (c) => {
  const principal = await requireKey(c, "read");
  const id = c.req.param("id");
  if (!ID_RE.test(id))
    throw new ApiError("invalid_request", 400, "id: must be 1-64 characters of [A-Za-z0-9_-]", [
      { path: "id", message: "malformed id" },
    ]);
  // Every aggregator the key may read, until one has it: an acknowledged log is never a 404
  // because of how many services exist. The most recently active are asked first (the logs
  // people open are mostly recent ones), and the answer comes as soon as one has it.
  const targets = await resolveTargets(c.env, principal, {}, { uncapped: true });
  targets.sort((a, b) => b.last_seen - a.last_seen);
  let entry = await firstFound(targets, FANOUT_CONCURRENCY, (t) =>
    withinDeadline(t, aggregator(c.env, t.name).getLog(id)),
  );
  const client = DataServiceClient.fromEnv(c.get("config"), c.env);
  if (!entry && client) {
    const cold = await client.getLog(id).catch((err: Error) => {
      throw new ApiError("upstream_unavailable", 502, `data service: ${err.message}`);
    });
    if (cold && principal.canAccess(cold.service)) entry = cold;
  }
  if (!entry) throw new ApiError("not_found", 404, `no log with id "${id}"`);
  return c.json(entry);
});
