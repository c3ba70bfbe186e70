// The reference data service's Hono app (spec/API.md §4): bearer auth, routes, and one error
// handler producing the contract's JSON error body.
import { Hono } from "hono";
import { decodeCursor, encodeCursor, filterKeyOf } from "../../src/core/cursor.js";
import { ApiError, invalidRequest } from "../../src/errors.js";
import { readJsonBody } from "../../src/http/body.js";
import { installErrorHandlers } from "../../src/http/error-handlers.js";
import {
  AggregateQuery,
  AnalyzePatternsRequest,
  CustomAnalyticsQuery,
  PatternsAnalyticsQuery,
  SimilarPatternsQuery,
  SummaryQuery,
} from "../../src/schema/analytics.js";
import {
  CleanupQuery,
  MAX_STORE_BATCH,
  MAX_STORE_BODY_BYTES,
  StoreBatchRequest,
  StoreRequest,
} from "../../src/schema/data-service.js";
import { ID_RE, type StoredLogEntry } from "../../src/schema/log-entry.js";
import { LearnPatternsRequest } from "../../src/schema/pattern.js";
import { SearchQuery } from "../../src/schema/query.js";
import { runAggregate, runCustom, runSummary } from "./analytics.js";
import type { DataAppEnv, DataEnv } from "./env.js";
import { cleanupLogs, getLog, searchLogs, storeLogs } from "./logs.js";
import { analyzePatterns, learnPatterns, patternsAnalytics, similarPatterns } from "./patterns.js";
import type { z } from "zod";
import type { Context } from "hono";

type C = Context<DataAppEnv>;

const enc = new TextEncoder();

async function digest(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", enc.encode(text)));
}

/** Compares SHA-256 digests so the comparison time does not depend on the key's bytes. */
async function keyMatches(presented: string, expected: string): Promise<boolean> {
  const [a, b] = await Promise.all([digest(presented), digest(expected)]);
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

function apiKeyOf(env: DataEnv): string {
  const key = env.DATA_SERVICE_API_KEY;
  if (!key)
    throw new ApiError(
      "invalid_config",
      500,
      "DATA_SERVICE_API_KEY is not set (wrangler secret put DATA_SERVICE_API_KEY, or data-service/.dev.vars)",
    );
  return key;
}

function parseQuery<T extends z.ZodTypeAny>(c: C, schema: T): z.output<T> {
  const raw: Record<string, string> = {};
  for (const [k, v] of new URL(c.req.url).searchParams) {
    if (k in raw)
      throw new ApiError("invalid_request", 400, `${k}: given more than once`, [
        { path: k, message: "given more than once" },
      ]);
    raw[k] = v;
  }
  const r = schema.safeParse(raw);
  if (!r.success) throw invalidRequest(r.error);
  return r.data;
}

async function parseBody<T extends z.ZodTypeAny>(c: C, schema: T, maxBytes?: number): Promise<z.output<T>> {
  const body = await readJsonBody(c.req.raw, maxBytes);
  const r = schema.safeParse(body);
  if (!r.success) throw invalidRequest(r.error);
  return r.data;
}

function tooMany(count: number, path: string): ApiError {
  return new ApiError("payload_too_large", 413, `${path}: ${count} entries; at most ${MAX_STORE_BATCH} per request`, [
    { path, message: `at most ${MAX_STORE_BATCH} entries` },
  ]);
}

export function buildDataApp(): Hono<DataAppEnv> {
  const app = new Hono<DataAppEnv>();

  // Unauthenticated liveness + database check, for the logger's /health.
  app.get("/health", async (c) => {
    await c.env.DB.prepare("SELECT 1").first();
    return c.json({ status: "ok", time: Date.now() });
  });

  app.use("*", async (c, next) => {
    const expected = apiKeyOf(c.env);
    const header = c.req.header("authorization") ?? "";
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!m) throw new ApiError("unauthorized", 401, "missing Authorization: Bearer <DATA_SERVICE_API_KEY>");
    if (!(await keyMatches(m[1]!, expected))) throw new ApiError("unauthorized", 401, "invalid API key");
    await next();
  });

  // POST /api/logs/store: one entry or an array (≤ 100).
  app.post("/api/logs/store", async (c) => {
    const body = await readJsonBody(c.req.raw, MAX_STORE_BODY_BYTES);
    if (Array.isArray(body) && body.length > MAX_STORE_BATCH) throw tooMany(body.length, "body");
    const r = StoreRequest.safeParse(body);
    if (!r.success) {
      // Report against the shape the client meant, not the union's two branches.
      const meant = Array.isArray(body)
        ? StoreBatchRequest.shape.logs.safeParse(body)
        : StoreBatchRequest.shape.logs.element.safeParse(body);
      throw invalidRequest(meant.success ? r.error : meant.error);
    }
    const logs: StoredLogEntry[] = Array.isArray(r.data) ? r.data : [r.data];
    return c.json(await storeLogs(c.env.DB, logs));
  });

  // POST /api/logs/batch: { logs: [...] } (≤ 100) → { stored, duplicates }.
  app.post("/api/logs/batch", async (c) => {
    const body = await readJsonBody(c.req.raw, MAX_STORE_BODY_BYTES);
    const logs = (body as { logs?: unknown } | null)?.logs;
    if (Array.isArray(logs) && logs.length > MAX_STORE_BATCH) throw tooMany(logs.length, "logs");
    const r = StoreBatchRequest.safeParse(body);
    if (!r.success) throw invalidRequest(r.error);
    return c.json(await storeLogs(c.env.DB, r.data.logs));
  });

  app.get("/api/logs/search", async (c) => {
    const q = parseQuery(c, SearchQuery);
    const order = q.order ?? "desc";
    const limit = q.limit ?? 100;
    const secret = c.env.CURSOR_SECRET || apiKeyOf(c.env);
    const filterKey = filterKeyOf({ ...q, order: undefined });
    let after: { ts: number; id: string } | undefined;
    if (q.cursor) {
      const decoded = await decodeCursor(secret, q.cursor, order, filterKey);
      if (typeof decoded === "string")
        throw new ApiError("invalid_request", 400, `cursor: ${decoded}`, [{ path: "cursor", message: decoded }]);
      after = { ts: decoded.ts, id: decoded.k };
    }
    const rows = await searchLogs(c.env.DB, q, order, limit + 1, after);
    const logs = rows.slice(0, limit);
    const last = logs[logs.length - 1];
    // Cursor position: (timestamp, id); the shared helper's `k` carries the id, seq is unused.
    const next_cursor =
      rows.length > limit && last
        ? await encodeCursor(secret, order, filterKey, { ts: last.timestamp, k: last.id, seq: 0 })
        : null;
    return c.json({ logs, next_cursor });
  });

  app.delete("/api/logs/cleanup", async (c) => {
    const q = parseQuery(c, CleanupQuery);
    const before = q.before ?? Date.now() - q.older_than!;
    const deleted = await cleanupLogs(c.env.DB, before, q.service, q.level);
    return c.json({ deleted, before });
  });

  app.get("/api/logs/analytics/summary", async (c) =>
    c.json(await runSummary(c.env.DB, parseQuery(c, SummaryQuery), Date.now())),
  );
  app.get("/api/logs/analytics/patterns", async (c) =>
    c.json(await patternsAnalytics(c.env.DB, parseQuery(c, PatternsAnalyticsQuery), Date.now())),
  );
  app.post("/api/logs/analytics/custom", async (c) =>
    c.json(await runCustom(c.env.DB, await parseBody(c, CustomAnalyticsQuery))),
  );
  app.get("/api/logs/aggregate", async (c) => c.json(await runAggregate(c.env.DB, parseQuery(c, AggregateQuery))));
  app.post("/api/logs/patterns/learn", async (c) => {
    const req = await parseBody(c, LearnPatternsRequest, MAX_STORE_BODY_BYTES);
    return c.json(await learnPatterns(c.env.DB, req.patterns, Date.now()));
  });
  app.get("/api/logs/patterns/similar", async (c) =>
    c.json(await similarPatterns(c.env.DB, parseQuery(c, SimilarPatternsQuery))),
  );
  app.post("/api/logs/analyze/patterns", async (c) =>
    c.json(await analyzePatterns(c.env.DB, await parseBody(c, AnalyzePatternsRequest), Date.now())),
  );

  app.get("/api/logs/:id", async (c) => {
    const id = c.req.param("id");
    if (!ID_RE.test(id))
      throw new ApiError("invalid_request", 400, "id: must be 1-64 characters of [A-Za-z0-9_-]", [
        { path: "id", message: "malformed id" },
      ]);
    const entry = await getLog(c.env.DB, id);
    if (!entry) throw new ApiError("not_found", 404, `no log with id "${id}"`);
    return c.json(entry);
  });

  installErrorHandlers(app);
  return app;
}
