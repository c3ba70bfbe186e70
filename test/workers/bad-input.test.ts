// The bad-input suite: distinct malformed requests across every endpoint, one table row each,
// each answered with the contract's status, error.code and (where one applies) the path of
// error.details[0] (spec/API.md §2). After the table the service must still be healthy and
// serve a valid request; batches that mix bad entries with good ones must store the good ones.
import { beforeAll, describe, expect, it } from "vitest";
import { call, getJson, ingest, KEYS, uniqueService } from "./helpers.js";

const SERVICE = uniqueService("bad-input");
const VALID = { level: "info", message: "a valid neighbour", service: SERVICE };
const KIB = 1024;

interface Row {
  name: string;
  method?: string;
  /** a function when the path needs state made in beforeAll (a real cursor) */
  path: string | (() => string);
  key?: string | null;
  /** sent as is; `json` is JSON.stringify'd */
  body?: string | Uint8Array;
  json?: unknown;
  /** default application/json when there is a body; null = no Content-Type at all */
  contentType?: string | null;
  headers?: Record<string, string>;
  status: number;
  code: string;
  /** error.details[0].path; a RegExp for deep paths; undefined = no details asserted */
  detail?: string | RegExp;
  /** a WebSocket upgrade: the error comes as the first frame, then close 1008 */
  ws?: true;
}

const entry = (patch: Record<string, unknown>) => ({ logs: [{ ...VALID, ...patch }] });
const deep = (levels: number): unknown => {
  let v: unknown = "leaf";
  for (let i = 0; i < levels; i++) v = { d: v };
  return v;
};
const utf8 = (s: string) => new TextEncoder().encode(s);
const concat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
};

let foreignCursor = "";

const ROWS: Row[] = [
  // ---- POST /api/logs/batch: the body ----
  {
    name: "broken JSON",
    method: "POST",
    path: "/api/logs/batch",
    body: '{"logs": [',
    status: 400,
    code: "invalid_json",
  },
  {
    name: "trailing comma",
    method: "POST",
    path: "/api/logs/batch",
    body: '{"logs": [{"level":"info","message":"m","service":"s"},]}',
    status: 400,
    code: "invalid_json",
  },
  { name: "empty body", method: "POST", path: "/api/logs/batch", body: "", status: 400, code: "invalid_json" },
  {
    name: "NaN literal",
    method: "POST",
    path: "/api/logs/batch",
    body: `{"logs":[{"level":"info","message":"m","service":"${SERVICE}","timestamp":NaN}]}`,
    status: 400,
    code: "invalid_json",
  },
  {
    name: "Infinity literal",
    method: "POST",
    path: "/api/logs/batch",
    body: `{"logs":[{"level":"info","message":"m","service":"${SERVICE}","priority":Infinity}]}`,
    status: 400,
    code: "invalid_json",
  },
  {
    name: "raw control character inside a string",
    method: "POST",
    path: "/api/logs/batch",
    body: `{"logs":[{"level":"info","message":"a\u0001b","service":"${SERVICE}"}]}`,
    status: 400,
    code: "invalid_json",
  },
  {
    name: "invalid UTF-8 (lone 0xff byte)",
    method: "POST",
    path: "/api/logs/batch",
    body: concat(
      utf8('{"logs":[{"level":"info","message":"'),
      new Uint8Array([0xff, 0xfe]),
      utf8(`","service":"${SERVICE}"}]}`),
    ),
    status: 400,
    code: "invalid_json",
  },
  {
    name: "invalid UTF-8 (overlong encoding of /)",
    method: "POST",
    path: "/api/logs/batch",
    body: concat(
      utf8('{"logs":[{"level":"info","message":"'),
      new Uint8Array([0xc0, 0xaf]),
      utf8(`","service":"${SERVICE}"}]}`),
    ),
    status: 400,
    code: "invalid_json",
  },
  {
    name: "body is null",
    method: "POST",
    path: "/api/logs/batch",
    body: "null",
    status: 400,
    code: "invalid_request",
    detail: "",
  },
  {
    name: "body is an empty array",
    method: "POST",
    path: "/api/logs/batch",
    json: [],
    status: 400,
    code: "invalid_request",
    detail: "",
  },
  {
    name: "body is a string",
    method: "POST",
    path: "/api/logs/batch",
    json: "logs",
    status: 400,
    code: "invalid_request",
    detail: "",
  },
  {
    name: "logs missing",
    method: "POST",
    path: "/api/logs/batch",
    json: { entries: [VALID] },
    status: 400,
    code: "invalid_request",
    detail: "logs",
  },
  {
    name: "logs is an object",
    method: "POST",
    path: "/api/logs/batch",
    json: { logs: VALID },
    status: 400,
    code: "invalid_request",
    detail: "logs",
  },
  {
    name: "logs is empty",
    method: "POST",
    path: "/api/logs/batch",
    json: { logs: [] },
    status: 400,
    code: "invalid_request",
    detail: "logs",
  },
  {
    name: "entry is null",
    method: "POST",
    path: "/api/logs/batch",
    json: { logs: [null] },
    status: 400,
    code: "invalid_request",
    detail: "logs.0",
  },
  {
    name: "entry is a number",
    method: "POST",
    path: "/api/logs/batch",
    json: { logs: [42] },
    status: 400,
    code: "invalid_request",
    detail: "logs.0",
  },
  {
    name: "more than 1000 entries",
    method: "POST",
    path: "/api/logs/batch",
    json: { logs: Array.from({ length: 1001 }, () => ({ level: "info", message: "m", service: "s" })) },
    status: 413,
    code: "payload_too_large",
  },
  {
    name: "body over 1 MiB",
    method: "POST",
    path: "/api/logs/batch",
    json: entry({ message: "x".repeat(1024 * KIB + 1) }),
    status: 413,
    code: "payload_too_large",
  },
  {
    name: "Content-Length header over 1 MiB",
    method: "POST",
    path: "/api/logs/batch",
    json: entry({}),
    headers: { "content-length": String(2 * 1024 * KIB) },
    status: 413,
    code: "payload_too_large",
  },
  {
    name: "Content-Type text/plain",
    method: "POST",
    path: "/api/logs/batch",
    json: entry({}),
    contentType: "text/plain",
    status: 415,
    code: "unsupported_media_type",
  },
  {
    name: "no Content-Type",
    method: "POST",
    path: "/api/logs/batch",
    body: utf8(JSON.stringify(entry({}))),
    contentType: null,
    status: 415,
    code: "unsupported_media_type",
  },
  {
    name: "form body that is not JSON",
    method: "POST",
    path: "/api/logs/batch",
    body: "level=info&message=m",
    contentType: "application/x-www-form-urlencoded",
    status: 415,
    code: "unsupported_media_type",
  },
  {
    name: "multipart body",
    method: "POST",
    path: "/api/logs/batch",
    body: "--x\r\n\r\n--x--",
    contentType: "multipart/form-data; boundary=x",
    status: 415,
    code: "unsupported_media_type",
  },
  {
    name: "XML body",
    method: "POST",
    path: "/api/logs/batch",
    body: "<logs/>",
    contentType: "application/xml",
    status: 415,
    code: "unsupported_media_type",
  },
  {
    name: "no API key",
    method: "POST",
    path: "/api/logs/batch",
    key: null,
    json: entry({}),
    status: 401,
    code: "unauthorized",
  },
  {
    name: "unknown API key",
    method: "POST",
    path: "/api/logs/batch",
    key: "not-a-key-at-all",
    json: entry({}),
    status: 401,
    code: "unauthorized",
  },
  {
    name: "read key on an ingest route",
    method: "POST",
    path: "/api/logs/batch",
    key: KEYS.read,
    json: entry({}),
    status: 403,
    code: "forbidden",
  },

  // ---- POST /api/logs/batch: one field of the entry ----
  {
    name: "level missing",
    method: "POST",
    path: "/api/logs/batch",
    json: { logs: [{ message: "m", service: SERVICE }] },
    status: 400,
    code: "invalid_request",
    detail: "logs.0.level",
  },
  {
    name: "level is an object",
    method: "POST",
    path: "/api/logs/batch",
    json: entry({ level: { name: "info" } }),
    status: 400,
    code: "invalid_request",
    detail: "logs.0.level",
  },
  {
    name: "timestamp on a day that does not exist",
    method: "POST",
    path: "/api/logs/batch",
    json: entry({ timestamp: "2026-02-30T00:00:00Z" }),
    status: 400,
    code: "invalid_request",
    detail: "logs.0.timestamp",
  },
  {
    name: "timestamp in year 275760",
    method: "POST",
    path: "/api/logs/batch",
    json: entry({ timestamp: 8.64e15 }),
    status: 400,
    code: "invalid_request",
    detail: "logs.0.timestamp",
  },
  {
    name: "service is a path segment",
    method: "POST",
    path: "/api/logs/batch",
    json: { logs: [{ level: "info", message: "m", service: ".." }] },
    status: 400,
    code: "invalid_request",
    detail: "logs.0.service",
  },
  {
    name: "NDJSON with a bad line",
    method: "POST",
    path: "/api/logs/batch",
    body: '{"level":"info","message":"m","service":"s"}\n{nope',
    contentType: "application/x-ndjson",
    status: 400,
    code: "invalid_json",
    detail: "line.2",
  },
  {
    name: "Content-Encoding br",
    method: "POST",
    path: "/api/logs/batch",
    json: { logs: [{ level: "info", message: "m", service: "s" }] },
    headers: { "content-encoding": "br" },
    status: 415,
    code: "unsupported_media_type",
  },
  {
    name: "message missing",
    method: "POST",
    path: "/api/logs/batch",
    json: { logs: [{ level: "info", service: SERVICE }] },
    status: 400,
    code: "invalid_request",
    detail: "logs.0.message",
  },
  {
    name: "service missing",
    method: "POST",
    path: "/api/logs/batch",
    json: { logs: [{ level: "info", message: "m" }] },
    status: 400,
    code: "invalid_request",
    detail: "logs.0.service",
  },
  {
    name: "message empty",
    method: "POST",
    path: "/api/logs/batch",
    json: entry({ message: "" }),
    status: 400,
    code: "invalid_request",
    detail: "logs.0.message",
  },
  {
    name: "message is null",
    method: "POST",
    path: "/api/logs/batch",
    json: entry({ message: null }),
    status: 400,
    code: "invalid_request",
    detail: "logs.0.message",
  },
  {
    name: "service with a slash",
    method: "POST",
    path: "/api/logs/batch",
    json: entry({ service: "a/b" }),
    status: 400,
    code: "invalid_request",
    detail: "logs.0.service",
  },
  {
    name: "service with a NUL",
    method: "POST",
    path: "/api/logs/batch",
    json: entry({ service: "api\u0000" }),
    status: 400,
    code: "invalid_request",
    detail: "logs.0.service",
  },
  {
    name: "service of 129 characters",
    method: "POST",
    path: "/api/logs/batch",
    json: entry({ service: "s".repeat(129) }),
    status: 400,
    code: "invalid_request",
    detail: "logs.0.service",
  },
  {
    name: "timestamp in seconds",
    method: "POST",
    path: "/api/logs/batch",
    json: entry({ timestamp: 1_700_000_000 }),
    status: 400,
    code: "invalid_request",
    detail: "logs.0.timestamp",
  },
  {
    name: "timestamp 1e400 (parses to Infinity)",
    method: "POST",
    path: "/api/logs/batch",
    body: `{"logs":[{"level":"info","message":"m","service":"${SERVICE}","timestamp":1e400}]}`,
    status: 400,
    code: "invalid_request",
    detail: "logs.0.timestamp",
  },
  {
    name: "timestamp negative",
    method: "POST",
    path: "/api/logs/batch",
    json: entry({ timestamp: -1_700_000_000_000 }),
    status: 400,
    code: "invalid_request",
    detail: "logs.0.timestamp",
  },
  {
    name: "timestamp past the largest Date",
    method: "POST",
    path: "/api/logs/batch",
    json: entry({ timestamp: 9e15 }),
    status: 400,
    code: "invalid_request",
    detail: "logs.0.timestamp",
  },
  {
    name: "timestamp as prose",
    method: "POST",
    path: "/api/logs/batch",
    json: entry({ timestamp: "yesterday" }),
    status: 400,
    code: "invalid_request",
    detail: "logs.0.timestamp",
  },
  {
    name: "timestamp as a boolean",
    method: "POST",
    path: "/api/logs/batch",
    json: entry({ timestamp: true }),
    status: 400,
    code: "invalid_request",
    detail: "logs.0.timestamp",
  },
  {
    name: "timestamp ISO with an impossible month",
    method: "POST",
    path: "/api/logs/batch",
    json: entry({ timestamp: "2026-13-01T00:00:00Z" }),
    status: 400,
    code: "invalid_request",
    detail: "logs.0.timestamp",
  },
  {
    name: "id with a slash",
    method: "POST",
    path: "/api/logs/batch",
    json: entry({ id: "a/b" }),
    status: 400,
    code: "invalid_request",
    detail: "logs.0.id",
  },
  {
    name: "id of 65 characters",
    method: "POST",
    path: "/api/logs/batch",
    json: entry({ id: "i".repeat(65) }),
    status: 400,
    code: "invalid_request",
    detail: "logs.0.id",
  },
  {
    name: "id is a number",
    method: "POST",
    path: "/api/logs/batch",
    json: entry({ id: 12345 }),
    status: 400,
    code: "invalid_request",
    detail: "logs.0.id",
  },
  {
    name: "domain not hostname-like",
    method: "POST",
    path: "/api/logs/batch",
    json: entry({ domain: "not a host!" }),
    status: 400,
    code: "invalid_request",
    detail: "logs.0.domain",
  },
  {
    name: "metadata is an array",
    method: "POST",
    path: "/api/logs/batch",
    json: entry({ metadata: [1, 2] }),
    status: 400,
    code: "invalid_request",
    detail: "logs.0.metadata",
  },
  {
    name: "metadata is a string",
    method: "POST",
    path: "/api/logs/batch",
    json: entry({ metadata: "k=v" }),
    status: 400,
    code: "invalid_request",
    detail: "logs.0.metadata",
  },
  {
    name: "metadata nested 9 deep",
    method: "POST",
    path: "/api/logs/batch",
    json: entry({ metadata: deep(9) }),
    status: 400,
    code: "invalid_request",
    detail: /^logs\.0\.metadata(\.d){8}$/,
  },
  {
    name: "metadata nested 50,000 deep",
    method: "POST",
    path: "/api/logs/batch",
    body: `{"logs":[{"level":"info","message":"m","service":"${SERVICE}","metadata":${'{"d":'.repeat(50_000)}1${"}".repeat(50_000)}}]}`,
    status: 400,
    code: "invalid_request",
    detail: /^logs\.0\.metadata(\.d){8}$/,
  },
  {
    name: "metadata __proto__ key",
    method: "POST",
    path: "/api/logs/batch",
    body: `{"logs":[{"level":"info","message":"m","service":"${SERVICE}","metadata":{"__proto__":{"polluted":1}}}]}`,
    status: 400,
    code: "invalid_request",
    detail: "logs.0.metadata.__proto__",
  },
  {
    name: "metadata nested constructor key",
    method: "POST",
    path: "/api/logs/batch",
    json: entry({ metadata: { a: { constructor: { prototype: 1 } } } }),
    status: 400,
    code: "invalid_request",
    detail: "logs.0.metadata.a.constructor",
  },
  {
    name: "metadata prototype key in an array",
    method: "POST",
    path: "/api/logs/batch",
    json: entry({ metadata: { list: [{ ok: 1 }, { prototype: 1 }] } }),
    status: 400,
    code: "invalid_request",
    detail: "logs.0.metadata.list.1.prototype",
  },
  {
    name: "metadata number 1e400",
    method: "POST",
    path: "/api/logs/batch",
    body: `{"logs":[{"level":"info","message":"m","service":"${SERVICE}","metadata":{"x":-1e400}}]}`,
    status: 400,
    code: "invalid_request",
    detail: "logs.0.metadata.x",
  },
  {
    name: "context is a string",
    method: "POST",
    path: "/api/logs/batch",
    json: entry({ context: "GET /" }),
    status: 400,
    code: "invalid_request",
    detail: "logs.0.context",
  },
  {
    name: "context.method is a number",
    method: "POST",
    path: "/api/logs/batch",
    json: entry({ context: { method: 1 } }),
    status: 400,
    code: "invalid_request",
    detail: "logs.0.context.method",
  },
  {
    name: "category unknown",
    method: "POST",
    path: "/api/logs/batch",
    json: entry({ category: "billing" }),
    status: 400,
    code: "invalid_request",
    detail: "logs.0.category",
  },
  {
    name: "priority 0",
    method: "POST",
    path: "/api/logs/batch",
    json: entry({ priority: 0 }),
    status: 400,
    code: "invalid_request",
    detail: "logs.0.priority",
  },
  {
    name: "priority 2.5",
    method: "POST",
    path: "/api/logs/batch",
    json: entry({ priority: 2.5 }),
    status: 400,
    code: "invalid_request",
    detail: "logs.0.priority",
  },
  {
    name: "priority as a string",
    method: "POST",
    path: "/api/logs/batch",
    json: entry({ priority: "3" }),
    status: 400,
    code: "invalid_request",
    detail: "logs.0.priority",
  },

  // ---- POST /api/logs (one entry or { logs }) ----
  {
    name: "single entry with a bad level (path without prefix)",
    method: "POST",
    path: "/api/logs",
    json: { ...VALID, level: [] },
    status: 400,
    code: "invalid_request",
    detail: "level",
  },
  {
    name: "single entry with logs as a string",
    method: "POST",
    path: "/api/logs",
    json: { logs: "all of them" },
    status: 400,
    code: "invalid_request",
    detail: "logs",
  },

  // ---- POST /v1/logs (OTLP/JSON) ----
  {
    name: "OTLP protobuf that is not a request",
    method: "POST",
    path: "/v1/logs",
    body: new Uint8Array([0x0a, 0x05, 0x01]),
    contentType: "application/x-protobuf",
    status: 400,
    code: "invalid_request",
  },
  {
    name: "OTLP broken JSON",
    method: "POST",
    path: "/v1/logs",
    body: '{"resourceLogs":',
    status: 400,
    code: "invalid_json",
  },
  {
    name: "OTLP resourceLogs is a string",
    method: "POST",
    path: "/v1/logs",
    json: { resourceLogs: "x" },
    status: 400,
    code: "invalid_request",
    detail: "resourceLogs",
  },

  // ---- GET /api/logs/search ----
  { name: "search limit=0", path: "/api/logs/search?limit=0", status: 400, code: "invalid_request", detail: "limit" },
  {
    name: "search limit=1001",
    path: "/api/logs/search?limit=1001",
    status: 400,
    code: "invalid_request",
    detail: "limit",
  },
  {
    name: "search limit=1.5",
    path: "/api/logs/search?limit=1.5",
    status: 400,
    code: "invalid_request",
    detail: "limit",
  },
  { name: "search limit=-5", path: "/api/logs/search?limit=-5", status: 400, code: "invalid_request", detail: "limit" },
  {
    name: "search limit=NaN",
    path: "/api/logs/search?limit=NaN",
    status: 400,
    code: "invalid_request",
    detail: "limit",
  },
  {
    name: "search limit given twice",
    path: "/api/logs/search?limit=1&limit=2",
    status: 400,
    code: "invalid_request",
    detail: "limit",
  },
  {
    name: "search order=sideways",
    path: "/api/logs/search?order=sideways",
    status: 400,
    code: "invalid_request",
    detail: "order",
  },
  {
    name: "search level=loud",
    path: "/api/logs/search?level=error,loud",
    status: 400,
    code: "invalid_request",
    detail: "level",
  },
  {
    name: "search service with a space",
    path: "/api/logs/search?service=a%20b",
    status: 400,
    code: "invalid_request",
    detail: "service",
  },
  {
    name: "search start_time in seconds",
    path: "/api/logs/search?start_time=1700000000",
    status: 400,
    code: "invalid_request",
    detail: "start_time",
  },
  {
    name: "search start_time=Infinity",
    path: "/api/logs/search?start_time=Infinity",
    status: 400,
    code: "invalid_request",
    detail: "start_time",
  },
  {
    name: "search end_time before start_time",
    path: "/api/logs/search?start_time=1800000000000&end_time=1700000000000",
    status: 400,
    code: "invalid_request",
    detail: "start_time",
  },
  {
    name: "search q over 1024 characters",
    path: `/api/logs/search?q=${"q".repeat(1025)}`,
    status: 400,
    code: "invalid_request",
    detail: "q",
  },
  {
    name: "search unknown parameter",
    path: "/api/logs/search?servcie=api",
    status: 400,
    code: "invalid_request",
    detail: "servcie",
  },
  {
    name: "search forged cursor",
    path: "/api/logs/search?cursor=eyJ0cyI6MX0.forged",
    status: 400,
    code: "invalid_request",
    detail: "cursor",
  },
  {
    name: "search cursor used with other filters",
    path: () => `/api/logs/search?service=${SERVICE}&level=error&limit=1&cursor=${encodeURIComponent(foreignCursor)}`,
    status: 400,
    code: "invalid_request",
    detail: "cursor",
  },
  {
    name: "search cursor used with the other order",
    path: () => `/api/logs/search?service=${SERVICE}&limit=1&order=asc&cursor=${encodeURIComponent(foreignCursor)}`,
    status: 400,
    code: "invalid_request",
    detail: "cursor",
  },

  // ---- GET /api/logs/:id ----
  {
    name: "log id with illegal characters",
    path: "/api/logs/a%20b!",
    status: 400,
    code: "invalid_request",
    detail: "id",
  },
  {
    name: "log id of 65 characters",
    path: `/api/logs/${"i".repeat(65)}`,
    status: 400,
    code: "invalid_request",
    detail: "id",
  },
  { name: "log id never stored", path: "/api/logs/never-stored-anywhere", status: 404, code: "not_found" },

  // ---- services ----
  {
    name: "stats for a malformed service",
    path: "/api/services/bad%20name/stats",
    status: 400,
    code: "invalid_request",
    detail: "service",
  },
  {
    name: "stats window=25h",
    path: `/api/services/${SERVICE}/stats?window=25h`,
    status: 400,
    code: "invalid_request",
    detail: "window",
  },
  {
    name: "stats window=5x",
    path: `/api/services/${SERVICE}/stats?window=5x`,
    status: 400,
    code: "invalid_request",
    detail: "window",
  },
  {
    name: "stats resolution=2s",
    path: `/api/services/${SERVICE}/stats?resolution=2s`,
    status: 400,
    code: "invalid_request",
    detail: "resolution",
  },
  {
    name: "error-rate threshold=1.5",
    path: `/api/services/${SERVICE}/error-rate?threshold=1.5`,
    status: 400,
    code: "invalid_request",
    detail: "threshold",
  },
  {
    name: "error-rate threshold=NaN",
    path: `/api/services/${SERVICE}/error-rate?threshold=NaN`,
    status: 400,
    code: "invalid_request",
    detail: "threshold",
  },
  {
    name: "error-rate min_events=-1",
    path: `/api/services/${SERVICE}/error-rate?min_events=-1`,
    status: 400,
    code: "invalid_request",
    detail: "min_events",
  },
  {
    name: "error-rate window=0m",
    path: `/api/services/${SERVICE}/error-rate?window=0m`,
    status: 400,
    code: "invalid_request",
    detail: "window",
  },

  // ---- analytics ----
  {
    name: "aggregate group_by=password",
    path: "/api/logs/aggregate?group_by=service,password",
    status: 400,
    code: "invalid_request",
    detail: "group_by",
  },
  {
    name: "aggregate time_bucket=2m",
    path: "/api/logs/aggregate?time_bucket=2m",
    status: 400,
    code: "invalid_request",
    detail: "time_bucket",
  },
  {
    name: "summary start_time as prose",
    path: "/api/logs/analytics/summary?start_time=last%20week",
    status: 400,
    code: "invalid_request",
    detail: "start_time",
  },
  {
    name: "custom query as raw SQL text",
    method: "POST",
    path: "/api/logs/analytics/custom",
    json: "SELECT * FROM logs; DROP TABLE logs",
    status: 400,
    code: "invalid_request",
    detail: "",
  },
  {
    name: "custom query with a sql key",
    method: "POST",
    path: "/api/logs/analytics/custom",
    json: { sql: "SELECT 1" },
    status: 400,
    code: "invalid_request",
    detail: "sql",
  },
  {
    name: "custom filter on a field not allow-listed",
    method: "POST",
    path: "/api/logs/analytics/custom",
    json: { filters: [{ field: "password", op: "eq", value: "x" }] },
    status: 400,
    code: "invalid_request",
    detail: "filters.0.field",
  },
  {
    name: "custom filter op unknown",
    method: "POST",
    path: "/api/logs/analytics/custom",
    json: { filters: [{ field: "service", op: "like", value: "%" }] },
    status: 400,
    code: "invalid_request",
    detail: "filters.0.op",
  },
  {
    name: "custom filter in with an empty list",
    method: "POST",
    path: "/api/logs/analytics/custom",
    json: { filters: [{ field: "service", op: "in", value: [] }] },
    status: 400,
    code: "invalid_request",
    detail: "filters.0.value",
  },
  {
    name: "custom metric op sum",
    method: "POST",
    path: "/api/logs/analytics/custom",
    json: { metrics: [{ op: "sum", field: "priority" }] },
    status: 400,
    code: "invalid_request",
    detail: "metrics.0.op",
  },
  {
    name: "custom limit 0",
    method: "POST",
    path: "/api/logs/analytics/custom",
    json: { limit: 0 },
    status: 400,
    code: "invalid_request",
    detail: "limit",
  },
  {
    name: "custom broken JSON",
    method: "POST",
    path: "/api/logs/analytics/custom",
    body: "{filters:[]}",
    status: 400,
    code: "invalid_json",
  },

  // ---- patterns ----
  {
    name: "patterns min_frequency=-1",
    path: "/api/logs/analytics/patterns?min_frequency=-1",
    status: 400,
    code: "invalid_request",
    detail: "min_frequency",
  },
  {
    name: "similar with neither message nor pattern_id",
    path: "/api/logs/patterns/similar",
    status: 400,
    code: "invalid_request",
    detail: "message",
  },
  {
    name: "similar min_similarity=2",
    path: "/api/logs/patterns/similar?message=x&min_similarity=2",
    status: 400,
    code: "invalid_request",
    detail: "min_similarity",
  },
  {
    name: "analyze time_range=forever",
    method: "POST",
    path: "/api/logs/analyze/patterns",
    json: { time_range: "forever" },
    status: 400,
    code: "invalid_request",
    detail: "time_range",
  },
  {
    name: "analyze buckets=2",
    method: "POST",
    path: "/api/logs/analyze/patterns",
    json: { buckets: 2 },
    status: 400,
    code: "invalid_request",
    detail: "buckets",
  },
  {
    name: "analyze a malformed service",
    method: "POST",
    path: "/api/logs/analyze/patterns",
    json: { services: ["ok", "not ok"] },
    status: 400,
    code: "invalid_request",
    detail: "services.1",
  },
  {
    name: "learn with no patterns",
    method: "POST",
    path: "/api/logs/patterns/learn",
    key: KEYS.admin,
    json: { patterns: [] },
    status: 400,
    code: "invalid_request",
    detail: "patterns",
  },
  {
    name: "learn a pattern of unknown type",
    method: "POST",
    path: "/api/logs/patterns/learn",
    key: KEYS.admin,
    json: { patterns: [{ pattern: "db timeout <*>", type: "fatal", severity: "high" }] },
    status: 400,
    code: "invalid_request",
    detail: "patterns.0.type",
  },

  // ---- admin ----
  {
    name: "cleanup with neither older_than nor before",
    method: "DELETE",
    path: "/api/logs/cleanup",
    key: KEYS.admin,
    status: 400,
    code: "invalid_request",
    detail: "older_than",
  },
  {
    name: "cleanup older_than=forever",
    method: "DELETE",
    path: "/api/logs/cleanup?older_than=forever",
    key: KEYS.admin,
    status: 400,
    code: "invalid_request",
    detail: "older_than",
  },
  {
    name: "cleanup by a read key",
    method: "DELETE",
    path: "/api/logs/cleanup?older_than=7d",
    key: KEYS.read,
    status: 403,
    code: "forbidden",
  },
  {
    name: "flush a malformed service",
    method: "POST",
    path: "/api/admin/flush?service=a%2Fb",
    key: KEYS.admin,
    status: 400,
    code: "invalid_request",
    detail: "service",
  },

  // ---- GET /api/tail ----
  {
    name: "tail without a WebSocket upgrade",
    path: `/api/tail?service=${SERVICE}`,
    status: 426,
    code: "invalid_request",
  },
  {
    name: "tail level=loud",
    path: `/api/tail?service=${SERVICE}&level=loud`,
    headers: { upgrade: "websocket" },
    status: 400,
    code: "invalid_request",
    detail: "level",
  },
  {
    name: "tail since=garbage",
    path: `/api/tail?service=${SERVICE}&since=%25%25%25`,
    headers: { upgrade: "websocket" },
    status: 400,
    code: "invalid_request",
    detail: "since",
  },
  {
    name: "tail numeric since across services",
    path: `/api/tail?service=${SERVICE},other-svc&since=5`,
    headers: { upgrade: "websocket" },
    status: 400,
    code: "invalid_request",
    detail: "since",
  },
  {
    name: "tail q over 256 characters",
    path: `/api/tail?service=${SERVICE}&q=${"q".repeat(257)}`,
    headers: { upgrade: "websocket" },
    status: 400,
    code: "invalid_request",
    detail: "q",
  },
  {
    name: "tail unknown parameter",
    path: `/api/tail?service=${SERVICE}&follow=1`,
    headers: { upgrade: "websocket" },
    status: 400,
    code: "invalid_request",
    detail: "follow",
  },
  {
    name: "tail service with a space",
    path: "/api/tail?service=a%20b",
    headers: { upgrade: "websocket" },
    status: 400,
    code: "invalid_request",
    detail: "service",
  },
  {
    name: "tail without a key",
    path: `/api/tail?service=${SERVICE}`,
    key: null,
    headers: { upgrade: "websocket" },
    status: 401,
    code: "unauthorized",
  },

  // ---- anything else ----
  { name: "unknown route", path: "/api/logz", status: 404, code: "not_found" },
];

async function send(row: Row): Promise<Response> {
  const headers = new Headers(row.headers);
  let body: BodyInit | undefined = row.body;
  if (row.json !== undefined) body = JSON.stringify(row.json);
  if (body !== undefined && row.contentType !== null)
    headers.set("content-type", row.contentType ?? "application/json");
  if (row.ws) headers.set("upgrade", "websocket");
  const key =
    row.key === undefined
      ? row.method === "POST" && !row.path.toString().includes("analy")
        ? KEYS.ingest
        : KEYS.read
      : row.key;
  return call(typeof row.path === "function" ? row.path() : row.path, {
    method: row.method ?? "GET",
    key: key ?? undefined,
    headers,
    body,
  });
}

/** The first frame of a WebSocket that the server opened only to report an error, and its close code. */
async function socketError(res: Response): Promise<{ frame: any; closeCode: number }> {
  const ws = res.webSocket!;
  let frame: any;
  const closed = new Promise<number>((ok) => ws.addEventListener("close", (e) => ok(e.code)));
  ws.addEventListener("message", (e) => {
    if (frame === undefined) frame = JSON.parse(e.data as string);
  });
  ws.accept();
  const closeCode = await Promise.race([closed, new Promise<number>((ok) => setTimeout(() => ok(-1), 3000))]);
  return { frame, closeCode };
}

describe("bad input: every malformed request gets the contract's status, code and path", () => {
  beforeAll(async () => {
    // a real cursor, issued for (service=SERVICE, order=desc, limit=1)
    const stored = await ingest([
      { ...VALID, id: `${SERVICE}-c1`, timestamp: 1_790_000_000_000 },
      { ...VALID, id: `${SERVICE}-c2`, timestamp: 1_790_000_000_001 },
    ]);
    expect(stored.status).toBe(202);
    const page = await getJson(`/api/logs/search?service=${SERVICE}&limit=1`);
    expect(page.body.next_cursor).toEqual(expect.any(String));
    foreignCursor = page.body.next_cursor;
  });

  it("has at least 60 distinct rows", () => {
    expect(ROWS.length).toBeGreaterThanOrEqual(60);
    expect(new Set(ROWS.map((r) => r.name)).size).toBe(ROWS.length);
    const signature = (r: Row) =>
      JSON.stringify([
        r.method ?? "GET",
        r.path.toString(),
        r.key === undefined ? "default" : r.key,
        r.json,
        r.body instanceof Uint8Array ? [...r.body] : r.body,
        r.contentType,
        r.headers,
        r.ws,
      ]);
    expect(new Set(ROWS.map(signature)).size).toBe(ROWS.length);
  });

  it.each(ROWS.map((r) => [r.name, r] as const))("%s", async (_name, row) => {
    const res = await send(row);
    expect(res.status).toBe(row.status);
    let error: { code: string; message: string; details?: { path: string; message: string }[] };
    if (row.ws) {
      const { frame, closeCode } = await socketError(res);
      expect(frame?.type).toBe("error");
      expect(closeCode).toBe(1008);
      error = frame.error;
    } else {
      expect(res.headers.get("content-type")).toMatch(/^application\/json/);
      error = ((await res.json()) as { error: typeof error }).error;
    }
    expect(error.code).toBe(row.code);
    expect(typeof error.message).toBe("string");
    expect(error.message.length).toBeGreaterThan(0);
    expect(error.message.length).toBeLessThan(2000); // never an echo of a huge input
    if (row.detail !== undefined) {
      const path = error.details?.[0]?.path;
      if (row.detail instanceof RegExp) expect(path).toMatch(row.detail);
      else expect(path).toBe(row.detail);
    }
  });

  it("is still healthy and serves a valid request after the table", async () => {
    const health = await call("/health");
    expect(health.status).toBe(200);
    const id = `${SERVICE}-after`;
    const { status, body } = await ingest([{ ...VALID, id, message: "still works" }]);
    expect(status).toBe(202);
    expect(body).toEqual({ accepted: 1, rejected: 0, results: [{ index: 0, id }] });
    const got = await getJson(`/api/logs/${id}`);
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({ id, message: "still works", service: SERVICE, level: "info" });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe("bad input: valid neighbours in the same batch are stored", () => {
  it("stores the valid entries around every kind of bad one and fetches them by id", async () => {
    const service = uniqueService("neighbours");
    const ok = (n: number) => ({
      id: `${service}-ok-${n}`,
      level: "info",
      message: `ok ${n}`,
      service,
      timestamp: 1_790_000_000_000 + n,
    });
    const batch = [
      ok(0),
      null,
      { ...ok(99), level: ["loud"] },
      ok(3),
      { level: "info", message: "seconds", service, timestamp: 1_700_000_000 },
      JSON.parse(`{"level":"info","message":"pollute","service":"${service}","metadata":{"__proto__":{"polluted":1}}}`),
      ok(6),
      { level: "info", message: "deep", service, metadata: deep(12) },
      { level: "info", message: "m", service: "no spaces allowed" },
      ok(9),
      { level: "info", message: "", service },
      { level: "info", message: "dots", service: ".." },
      ok(12),
    ];
    const res = await call("/api/logs/batch", {
      method: "POST",
      key: KEYS.ingest,
      body: JSON.stringify({ logs: batch }),
      headers: { "content-type": "application/json" },
    });
    expect(res.status).toBe(202);
    const body = (await res.json()) as {
      accepted: number;
      rejected: number;
      results: { index: number; id?: string; error?: { code: string; details?: { path: string }[] } }[];
    };
    expect(body.accepted).toBe(5);
    expect(body.rejected).toBe(8);
    expect(body.results.map((r) => r.index)).toEqual(batch.map((_, i) => i));
    expect(
      body.results.filter((r) => r.error).map((r) => [r.index, r.error!.code, r.error!.details?.[0]?.path]),
    ).toEqual([
      [1, "invalid_request", "logs.1"],
      [2, "invalid_request", "logs.2.level"],
      [4, "invalid_request", "logs.4.timestamp"],
      [5, "invalid_request", "logs.5.metadata.__proto__"],
      [7, "invalid_request", "logs.7.metadata.d.d.d.d.d.d.d.d"],
      [8, "invalid_request", "logs.8.service"],
      [10, "invalid_request", "logs.10.message"],
      [11, "invalid_request", "logs.11.service"],
    ]);
    for (const n of [0, 3, 6, 9, 12]) {
      const got = await getJson(`/api/logs/${service}-ok-${n}`);
      expect(got.status).toBe(200);
      expect(got.body).toMatchObject({ id: `${service}-ok-${n}`, message: `ok ${n}`, service });
    }
    const search = await getJson(`/api/logs/search?service=${service}&order=asc`);
    expect(search.body.logs.map((l: { message: string }) => l.message)).toEqual([
      "ok 0",
      "ok 3",
      "ok 6",
      "ok 9",
      "ok 12",
    ]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("stores an id given twice in one batch once, and answers the second as a duplicate", async () => {
    const service = uniqueService("twice");
    const id = `${service}-same`;
    const { status, body } = await ingest([
      { id, level: "info", message: "first", service },
      { id, level: "error", message: "second", service },
    ]);
    expect(status).toBe(202);
    expect(body.results).toEqual([
      { index: 0, id },
      { index: 1, id, duplicate: true },
    ]);
    const search = await getJson(`/api/logs/search?service=${service}`);
    expect(search.body.logs.map((l: { message: string }) => l.message)).toEqual(["first"]);
  });

  it("accepts escaped control characters and odd code points in text, and returns them as sent", async () => {
    const service = uniqueService("odd-text");
    const message = "nul\u0000 bell\u0007 esc\u001b[31m bom\ufeff rtl\u202e line\u2028 emoji 😀 ok";
    const { status, body } = await ingest([
      { id: `${service}-1`, level: "info", message, service, metadata: { k: "\u0000" } },
    ]);
    expect(status).toBe(202);
    expect(body.accepted).toBe(1);
    const got = await getJson(`/api/logs/${service}-1`);
    expect(got.body.message).toBe(message);
    expect(got.body.metadata).toEqual({ k: "\u0000" });
  });

  it("closes a tail socket that sends a message over 1 KiB with 1009", async () => {
    const service = uniqueService("ws-size");
    const res = await call(`/api/tail?service=${service}`, { key: KEYS.read, headers: { upgrade: "websocket" } });
    expect(res.status).toBe(101);
    const ws = res.webSocket!;
    const closed = new Promise<number>((ok) => ws.addEventListener("close", (e) => ok(e.code)));
    ws.accept();
    ws.send("x".repeat(2048));
    const code = await Promise.race([closed, new Promise<number>((ok) => setTimeout(() => ok(-1), 3000))]);
    expect(code).toBe(1009);
  });
});

describe("gaps found by this suite, now closed", () => {
  it("stores a lone surrogate as U+FFFD, identically for get-by-id and search", async () => {
    const service = uniqueService("lone");
    const message = `lone${String.fromCharCode(0xd800)} ok`;
    expect((await ingest([{ id: `${service}-1`, level: "info", message, service }])).status).toBe(202);
    const got = await getJson(`/api/logs/${service}-1`);
    expect(got.body.message).toBe("lone\ufffd ok");
    const found = await getJson(`/api/logs/search?service=${service}`);
    expect(found.body.logs[0].message).toBe("lone\ufffd ok");
  });

  it("rejects malformed domains on stats and error-rate instead of creating aggregators", async () => {
    for (const path of [
      "/api/services/api/stats?domain=a%2Fb",
      "/api/services/api/stats?domain=%20%20",
      "/api/services/api/error-rate?domain=..",
    ]) {
      const r = await getJson(path);
      expect(r.status, path).toBe(400);
      expect(r.body.error.details[0].path).toBe("domain");
    }
  });

  it("rejects out-of-range dead-letter limits and unknown parameters on /metrics and /api/services", async () => {
    for (const [path, param] of [
      ["/api/admin/dead-letters?limit=0", "limit"],
      ["/api/admin/dead-letters?limit=5000", "limit"],
      ["/metrics?bogus=1", "bogus"],
      ["/api/services?bogus=1", "bogus"],
    ]) {
      const r = await getJson(path, KEYS.admin);
      expect(r.status, path).toBe(400);
      expect(r.body.error.details[0].path, path).toBe(param);
    }
  });

  it("reports a forbidden single entry at path service", async () => {
    const r = await call("/api/logs", {
      method: "POST",
      key: KEYS.ingestApiOnly,
      json: { level: "info", message: "m", service: uniqueService("nope") },
    });
    expect(r.status).toBe(403);
    expect(((await r.json()) as { error: { details: { path: string }[] } }).error.details[0].path).toBe("service");
  });
});
