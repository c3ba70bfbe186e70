// GET /openapi.json (no key): an OpenAPI 3.1 document generated from the zod schemas in
// src/schema with zod v4's `z.toJSONSchema()`, so the document cannot drift from the validators.
// Request bodies and query parameters are described as the client sends them (`io: "input"`),
// responses as the Worker produces them. Only the route table (method, path, scope, summary) is
// written here. `buildOpenApiDocument()` is pure: test/unit/openapi.test.ts validates it in Node
// (the validator compiles JSON Schema with `new Function`, which workerd forbids).
import { Hono } from "hono";
import { z } from "zod";
import { type Check, CheckInput } from "../schema/checks.js";
import type { ErrorBody } from "../errors.js";
import {
  AggregateQuery,
  AnalyzePatternsRequest,
  CustomAnalyticsQuery,
  PatternsAnalyticsQuery,
  SimilarPatternsQuery,
  SummaryQuery,
} from "../schema/analytics.js";
import {
  AggregateResponse,
  AnalyzePatternsResponse,
  CleanupQuery,
  CleanupResponse,
  CustomAnalyticsResponse,
  PatternsAnalyticsResponse,
  SearchResponse,
  SimilarPatternsResponse,
  SummaryResponse,
} from "../schema/data-service.js";
import type { IngestResponse } from "../schema/ingest.js";
import { LogEntryInput, Metadata, MetadataInput, StoredLogEntry, Timestamp } from "../schema/log-entry.js";
import { OtlpAnyValue, OtlpKeyValue, OtlpLogsRequestDocument, OtlpLogsResponse } from "../schema/otlp.js";
import { LearnPatternsRequest } from "../schema/pattern.js";
import type { LearnedPattern } from "../core/learned-patterns.js";
import { ErrorRateQuery, SearchQuery, StatsQuery } from "../schema/query.js";
import { TailQuery } from "../schema/tail.js";
import type { AppEnv } from "./context.js";

export const openapiRoutes = new Hono<AppEnv>();

let cached: string | undefined;
openapiRoutes.get("/openapi.json", (c) => {
  cached ??= JSON.stringify(buildOpenApiDocument());
  return c.body(cached, 200, { "content-type": "application/json; charset=utf-8", "access-control-allow-origin": "*" });
});

// The error body and the ingest answer are TypeScript interfaces in src/errors.ts and
// src/schema/ingest.ts; these schemas describe them, and the type checks below fail to compile
// if the two ever differ.
const ErrorCodeSchema = z.enum([
  "unauthorized",
  "forbidden",
  "invalid_json",
  "invalid_request",
  "not_found",
  "payload_too_large",
  "unsupported_media_type",
  "rate_limited",
  "upstream_unavailable",
  "invalid_config",
  "internal",
]);
const ErrorObject = z.object({
  code: ErrorCodeSchema,
  message: z.string(),
  details: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});
export const ErrorBodySchema = z.object({ error: ErrorObject });
export const IngestResponseSchema = z.object({
  accepted: z.number().int().min(0),
  rejected: z.number().int().min(0),
  results: z.array(
    z.union([
      z.object({ index: z.number().int(), id: z.string(), duplicate: z.literal(true).optional() }),
      z.object({ index: z.number().int(), error: ErrorObject }),
    ]),
  ),
});
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const sameError: Same<z.infer<typeof ErrorBodySchema>, ErrorBody> = true;
const sameIngest: Same<z.infer<typeof IngestResponseSchema>, IngestResponse> = true;
void sameError;
void sameIngest;

const Scope = z.enum(["ingest", "read", "admin"]);
type Scope = z.infer<typeof Scope>;

interface Route {
  method: "get" | "post" | "delete";
  path: string;
  scope: Scope | null;
  summary: string;
  query?: z.ZodType;
  body?: z.ZodType;
  /** status → schema (undefined: no JSON schema, e.g. text) */
  ok?: [number, z.ZodType | "text" | "html" | "empty"];
  tokenQuery?: boolean;
  /** further statuses the route really answers (each with the error body), beyond 400/401/403/413/415/429/500 */
  also?: number[];
  /** the body may also be this protobuf message (Content-Type application/x-protobuf) */
  protobuf?: string;
  /** ingest: 400/403/503 when no entry was accepted carry the per-entry results too */
  errorsWithResults?: boolean;
}

/** What POST /api/logs/patterns/learn answers (the logger's shape, not the data service's). */
export const LearnedPatternSchema = z.object({
  id: z.string(),
  pattern: z.string(),
  name: z.string().optional(),
  type: z.enum(["error", "warning", "info"]),
  severity: z.enum(["low", "medium", "high", "critical"]),
  category: z.enum(["auth", "data", "api", "ui"]).optional(),
  services: z.array(z.string()).optional(),
});
export const LearnRouteResponse = z.object({
  learned: z.number().int().min(0),
  total: z.number().int().min(0),
  patterns: z.array(LearnedPatternSchema),
});
const sameLearned: Same<z.infer<typeof LearnedPatternSchema>, LearnedPattern> = true;
void sameLearned;

/** A stored check as GET/POST /api/checks answer it (webhook_url masked for read keys). */
const CheckSchema = z.object({
  id: z.string(),
  name: z.string().optional(),
  service: z.string(),
  domain: z.string(),
  window: z.string(),
  threshold: z.number(),
  min_events: z.number().int(),
  webhook_url: z.string(),
  created_at: z.number().int(),
  state: z.enum(["ok", "breached"]),
  state_since: z.number().int(),
  last: z.object({ rate: z.number(), errors: z.number(), total: z.number(), at: z.number() }).nullable(),
});
const sameCheck: Same<z.infer<typeof CheckSchema>, Check> = true;
void sameCheck;

/**
 * Query parameters arrive as strings and are parsed by the schemas' transforms, which JSON Schema
 * can't show: these say what each parameter really takes (integers, ms-or-ISO times, durations,
 * comma lists), so generated clients and fuzzers send what the routes parse.
 */
const TIME_PARAM = {
  anyOf: [
    { type: "integer", minimum: 100_000_000_000, maximum: 8_640_000_000_000, description: "ms since epoch" },
    { type: "string", format: "date-time" },
  ],
};
const NAME_LIST = (name: string) => ({
  type: "string",
  pattern: `^${name}(,${name})*$`,
  description: "comma-separated list",
});
const SERVICE_RE_SRC = "[A-Za-z0-9._-]{1,128}";
const QUERY_PARAM_TYPES: Record<string, JsonSchema> = {
  limit: { type: "integer", minimum: 1, maximum: 1000 },
  start_time: TIME_PARAM,
  end_time: TIME_PARAM,
  before: TIME_PARAM,
  older_than: { type: "string", pattern: "^[1-9][0-9]{0,5}[smhd]$", description: "<n>s|m|h|d" },
  window: { type: "string", pattern: "^[1-9][0-9]{0,4}[smhd]$", description: "<n>s|m|h|d, at most 24h" },
  service: NAME_LIST(SERVICE_RE_SRC),
  domain: NAME_LIST("[a-z0-9][a-z0-9.-]{0,62}"),
  level: NAME_LIST("(error|warn|info|debug)"),
  group_by: NAME_LIST("(service|domain|level|category|pattern_id)"),
  min_frequency: { type: "integer", minimum: 0 },
  min_events: { type: "integer", minimum: 0 },
  threshold: { type: "number", minimum: 0, maximum: 1 },
  min_similarity: { type: "number", minimum: 0, maximum: 1 },
};
const PATH_PARAM_TYPES: Record<string, JsonSchema> = {
  service: { type: "string", pattern: `^${SERVICE_RE_SRC}$` },
  id: { type: "string", pattern: "^[A-Za-z0-9_-]{1,64}$" },
};

/** Status → what it means, for the statuses routes add with `also`. */
const ALSO_DESCRIPTIONS: Record<number, string> = {
  404: "not_found",
  426: "invalid_request: GET /api/tail needs a WebSocket upgrade",
  502: "upstream_unavailable: the data service failed or timed out (DATA_SERVICE_TIMEOUT)",
  503: "upstream_unavailable (no data service in this deployment, or storage unavailable)",
};

const BatchRequest = z.object({ logs: z.array(LogEntryInput).min(1).max(1000) });

/**
 * The Loki push body in its JSON form (src/core/loki.ts reads it, and the protobuf+snappy form,
 * liberally: a malformed value is refused and counted, not fatal to its stream).
 */
const LokiPushRequest = z.object({
  streams: z.array(
    z.object({
      stream: z.record(z.string(), z.string()).describe("labels; service_name, service, app or job name the service"),
      values: z.array(
        z.union([
          z.tuple([z.string().describe("ns since epoch"), z.string().describe("the line")]),
          z.tuple([z.string(), z.string(), z.record(z.string(), z.string()).describe("structured metadata")]),
        ]),
      ),
    }),
  ),
});

const ROUTES: Route[] = [
  {
    method: "post",
    path: "/api/logs",
    scope: "ingest",
    summary: "Ingest one entry, or { logs: [...] }",
    body: z.union([LogEntryInput, BatchRequest]),
    ok: [202, IngestResponseSchema],
    also: [503],
    errorsWithResults: true,
  },
  {
    method: "post",
    path: "/api/logs/batch",
    scope: "ingest",
    summary: "Ingest up to 1000 entries / 1 MiB; valid entries are stored even when others fail",
    body: BatchRequest,
    ok: [202, IngestResponseSchema],
    also: [503],
    errorsWithResults: true,
  },
  {
    method: "post",
    path: "/v1/logs",
    scope: "ingest",
    summary: "OTLP/HTTP logs, JSON or protobuf encoding (see README, OpenTelemetry)",
    body: OtlpLogsRequestDocument,
    protobuf: "opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest (gzip allowed)",
    ok: [200, OtlpLogsResponse],
    also: [503],
  },
  {
    method: "post",
    path: "/loki/api/v1/push",
    scope: "ingest",
    summary: "Loki push API, JSON or protobuf+snappy (Basic auth: any user, the key as password)",
    body: LokiPushRequest,
    protobuf: "logproto.PushRequest, snappy-compressed (block format)",
    ok: [204, "empty"],
    also: [503],
  },
  {
    method: "get",
    path: "/api/logs/search",
    scope: "read",
    summary: "Search logs (recent from the aggregators, older from the data service)",
    query: SearchQuery,
    ok: [200, SearchResponse],
    also: [502],
  },
  {
    method: "get",
    path: "/api/logs/{id}",
    scope: "read",
    summary: "One stored entry, hot or persisted",
    ok: [200, StoredLogEntry],
    also: [404, 502],
  },
  {
    method: "delete",
    path: "/api/logs/cleanup",
    scope: "admin",
    summary: "Retention: delete logs older than a bound",
    query: CleanupQuery,
    ok: [200, CleanupResponse],
    also: [502],
  },
  {
    method: "get",
    path: "/api/logs/analytics/summary",
    scope: "read",
    summary: "Counts by level, service, category and time bucket",
    query: SummaryQuery,
    ok: [200, SummaryResponse],
    also: [502, 503],
  },
  {
    method: "get",
    path: "/api/logs/aggregate",
    scope: "read",
    summary: "Counts grouped by fields and time bucket",
    query: AggregateQuery,
    ok: [200, AggregateResponse],
    also: [502, 503],
  },
  {
    method: "post",
    path: "/api/logs/analytics/custom",
    scope: "read",
    summary: "Custom analytics query (never raw SQL)",
    body: CustomAnalyticsQuery,
    ok: [200, CustomAnalyticsResponse],
    also: [502, 503],
  },
  {
    method: "get",
    path: "/api/logs/analytics/patterns",
    scope: "read",
    summary: "Patterns with frequencies and trends",
    query: PatternsAnalyticsQuery,
    ok: [200, PatternsAnalyticsResponse],
    also: [502],
  },
  {
    method: "post",
    path: "/api/logs/patterns/learn",
    scope: "admin",
    summary: "Teach named patterns",
    body: LearnPatternsRequest,
    ok: [200, LearnRouteResponse],
    also: [502],
  },
  {
    method: "get",
    path: "/api/logs/patterns/similar",
    scope: "read",
    summary: "Patterns similar to a message or pattern",
    query: SimilarPatternsQuery,
    ok: [200, SimilarPatternsResponse],
    also: [404],
  },
  {
    method: "post",
    path: "/api/logs/analyze/patterns",
    scope: "read",
    summary: "Patterns with new/spiking flags",
    body: AnalyzePatternsRequest,
    ok: [200, AnalyzePatternsResponse],
    also: [502],
  },
  {
    method: "get",
    path: "/api/services",
    scope: "read",
    summary: "Known services/domains with last_seen and live counts",
  },
  {
    method: "get",
    path: "/api/services/{service}/stats",
    scope: "read",
    summary: "Rolling per-level counters and series",
    query: StatsQuery,
  },
  {
    method: "get",
    path: "/api/services/{service}/error-rate",
    scope: "read",
    summary: "Error rate over a window: 200 when ok, 503 when breached",
    query: ErrorRateQuery,
    also: [503],
  },
  {
    method: "get",
    path: "/api/tail",
    scope: "read",
    summary: "Live tail (WebSocket upgrade)",
    query: TailQuery,
    tokenQuery: true,
    also: [426],
  },
  { method: "post", path: "/api/admin/flush", scope: "admin", summary: "Flush now to KV and the data service" },
  {
    method: "get",
    path: "/api/admin/dead-letters",
    scope: "admin",
    summary: "Entries the data service refused for good",
  },
  {
    method: "post",
    path: "/api/admin/dead-letters/replay",
    scope: "admin",
    summary: "Move dead letters back into the outbox",
  },
  {
    method: "get",
    path: "/api/admin/rejected",
    scope: "admin",
    summary: "Refused entries per service: counts by reason and the newest ones with their paths",
  },
  {
    method: "post",
    path: "/api/checks",
    scope: "admin",
    summary: "Store an error-rate check with a webhook (public http(s) host names only)",
    body: CheckInput,
    ok: [201, CheckSchema],
  },
  { method: "get", path: "/api/checks", scope: "read", summary: "Stored checks with their state" },
  {
    method: "get",
    path: "/api/checks/{id}",
    scope: "read",
    summary: "One stored check",
    ok: [200, CheckSchema],
    also: [404],
  },
  { method: "delete", path: "/api/checks/{id}", scope: "admin", summary: "Delete a stored check", also: [404] },
  { method: "get", path: "/metrics", scope: "read", summary: "Prometheus text format", ok: [200, "text"] },
  {
    method: "get",
    path: "/health",
    scope: null,
    summary: "200 whenever the Worker runs; reports the data service, backlog and dead letters",
  },
  { method: "get", path: "/openapi.json", scope: null, summary: "This document" },
  { method: "get", path: "/", scope: null, summary: "Live dashboard (asks for a read key)", ok: [200, "html"] },
];

type JsonSchema = Record<string, unknown>;

/** zod → JSON Schema (2020-12, which OpenAPI 3.1 uses): one registry per direction, every
 * schema a component, references as #/components/schemas/<id>. */
function generate(entries: Map<z.ZodType, string>, io: "input" | "output"): Record<string, JsonSchema> {
  const reg = z.registry<{ id: string }>();
  for (const [s, id] of entries) reg.add(s, { id });
  const out = z.toJSONSchema(reg, {
    io,
    unrepresentable: "any",
    uri: (id) => `#/components/schemas/${id}`,
    override: (ctx) => {
      // Transforms have no JSON Schema of their own; say what they accept.
      if (ctx.zodSchema === Timestamp)
        Object.assign(ctx.jsonSchema, {
          anyOf: [
            { type: "integer", description: "ms since epoch (>= 1e11)" },
            { type: "string", format: "date-time" },
          ],
        });
      if (ctx.zodSchema === Metadata)
        Object.assign(ctx.jsonSchema, {
          type: "object",
          description: "≤ 16 KiB serialised, depth ≤ 8; keys __proto__, constructor, prototype are refused",
        });
      if (ctx.zodSchema === MetadataInput)
        Object.assign(ctx.jsonSchema, {
          type: "object",
          description: "depth ≤ 8; keys __proto__, constructor, prototype are refused; over 16 KiB is cut and flagged",
        });
    },
  }) as unknown as { schemas: Record<string, JsonSchema> };
  for (const schema of Object.values(out.schemas)) {
    delete schema.$schema;
    delete schema.$id;
  }
  return out.schemas;
}

const ref = (id: string) => ({ $ref: `#/components/schemas/${id}` });
const operationId = (r: Route) =>
  `${r.method}${r.path.replace(/[^A-Za-z0-9]+(.)?/g, (_, ch: string | undefined) => (ch ? ch.toUpperCase() : ""))}`;

export function buildOpenApiDocument(): Record<string, unknown> {
  // Shared schemas keep readable names; a route's own query/body/response is named after it.
  const inputs = new Map<z.ZodType, string>([
    [OtlpAnyValue, "OtlpAnyValue"],
    [OtlpKeyValue, "OtlpKeyValue"],
    [LogEntryInput, "LogEntryInput"],
    [OtlpLogsRequestDocument, "OtlpLogsRequest"],
  ]);
  const outputs = new Map<z.ZodType, string>([
    [StoredLogEntry, "StoredLogEntry"],
    [ErrorBodySchema, "Error"],
    [IngestResponseSchema, "IngestResponse"],
    [OtlpLogsResponse, "OtlpLogsResponse"],
  ]);
  const cap = (id: string) => id[0].toUpperCase() + id.slice(1);
  for (const r of ROUTES) {
    const id = cap(operationId(r));
    if (r.query && !inputs.has(r.query)) inputs.set(r.query, `${id}Query`);
    if (r.body && !inputs.has(r.body)) inputs.set(r.body, `${id}Request`);
    const ok = r.ok?.[1];
    if (ok && typeof ok !== "string" && !outputs.has(ok)) outputs.set(ok, `${id}Response`);
  }
  const schemas = { ...generate(inputs, "input"), ...generate(outputs, "output") };

  const errorResponse = (description: string) => ({
    description,
    content: { "application/json": { schema: ref("Error") } },
  });
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of ROUTES) {
    const parameters: unknown[] = [];
    for (const m of r.path.matchAll(/\{(\w+)\}/g))
      parameters.push({ name: m[1], in: "path", required: true, schema: PATH_PARAM_TYPES[m[1]] ?? { type: "string" } });
    if (r.query) {
      // Query parameters are the properties of the query schema, each described by it, with the
      // real type where the schema parses a string (QUERY_PARAM_TYPES).
      const qs = schemas[inputs.get(r.query)!];
      const required = new Set((qs.required ?? []) as string[]);
      for (const [name, schema] of Object.entries((qs.properties ?? {}) as Record<string, JsonSchema>)) {
        const plainString = schema.type === "string" && schema.enum === undefined && schema.pattern === undefined;
        const typed = plainString && QUERY_PARAM_TYPES[name] ? QUERY_PARAM_TYPES[name] : schema;
        parameters.push({ name, in: "query", required: required.has(name), schema: typed });
      }
    }
    const responses: Record<string, unknown> = {};
    const [status, ok] = r.ok ?? [200, undefined];
    if (ok === "text")
      responses[status] = { description: "OK", content: { "text/plain": { schema: { type: "string" } } } };
    else if (ok === "html")
      responses[status] = { description: "OK", content: { "text/html": { schema: { type: "string" } } } };
    else if (ok === "empty") responses[status] = { description: "OK, no body" };
    else if (ok)
      responses[status] = { description: "OK", content: { "application/json": { schema: ref(outputs.get(ok)!) } } };
    else responses[status] = { description: "OK", content: { "application/json": { schema: { type: "object" } } } };
    // Ingest answers 400/403/503 with the error AND the per-entry results when nothing was stored.
    const failure = (description: string) =>
      r.errorsWithResults
        ? {
            description,
            content: { "application/json": { schema: { allOf: [ref("Error"), ref("IngestResponse")] } } },
          }
        : errorResponse(description);
    if (r.scope) {
      // a query (fan-out past MAX_FANOUT aggregators asks for service=) or a body can be refused
      responses["400"] = failure("invalid_request or invalid_json; details name each failing path");
      responses["401"] = errorResponse("missing or unknown key");
      responses["403"] = failure(`the key lacks the "${r.scope}" scope or may not touch the service`);
      responses["429"] = errorResponse(
        "rate_limited (per key, per service, or new services per minute); see Retry-After",
      );
    }
    if (r.body) {
      responses["413"] = errorResponse("payload_too_large");
      responses["415"] = errorResponse(
        `unsupported_media_type (Content-Type must be application/json${r.protobuf ? " or application/x-protobuf" : ""})`,
      );
    }
    for (const s of r.also ?? []) {
      if (s === 503 && r.path.endsWith("/error-rate"))
        responses["503"] = {
          description: "the check is breached (same body as 200)",
          content: { "application/json": { schema: { type: "object" } } },
        };
      else responses[String(s)] = failure(ALSO_DESCRIPTIONS[s] ?? "error");
    }
    // any route that asks the aggregators: one that does not answer within FANOUT_DEADLINE_MS
    if (r.scope && !responses["503"])
      responses["503"] = errorResponse(
        "upstream_unavailable: an aggregator did not answer within FANOUT_DEADLINE_MS (30 s); see Retry-After",
      );
    responses["500"] = errorResponse("invalid_config or internal");
    const op: Record<string, unknown> = { operationId: operationId(r), summary: r.summary, responses };
    op.security = !r.scope
      ? []
      : r.tokenQuery
        ? [{ bearer: [] }, { apiKey: [] }, { token: [] }]
        : [{ bearer: [] }, { apiKey: [] }];
    if (r.scope) op["x-scope"] = r.scope;
    if (parameters.length > 0) op.parameters = parameters;
    if (r.body)
      op.requestBody = {
        required: true,
        content: {
          "application/json": { schema: ref(inputs.get(r.body)!) },
          ...(r.protobuf && {
            "application/x-protobuf": { schema: { type: "string", format: "binary", description: r.protobuf } },
          }),
        },
      };
    (paths[r.path] ??= {})[r.method] = op;
  }

  return {
    openapi: "3.1.0",
    info: {
      title: "edge-logger",
      version: "0.1.0",
      description:
        "Log ingest, search, live counters, patterns and tail on Cloudflare Workers. Errors are always { error: { code, message, details } }.",
    },
    servers: [{ url: "/" }],
    security: [{ bearer: [] }, { apiKey: [] }],
    components: {
      schemas,
      securitySchemes: {
        bearer: {
          type: "http",
          scheme: "bearer",
          description: "Authorization: Bearer <key> (scopes ingest, read, admin)",
        },
        apiKey: { type: "apiKey", in: "header", name: "X-API-Key" },
        token: {
          type: "apiKey",
          in: "query",
          name: "token",
          description: "read key for browsers and WebSocket clients",
        },
      },
    },
    paths,
  };
}
