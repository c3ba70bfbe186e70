// Configuration from wrangler vars and secrets, validated with zod. Invalid configuration fails
// loudly at the first request with `invalid_config` naming the variable (contract §5).
import { z } from "zod";
import { ApiError } from "./errors.js";
import { MAX_SHARDS, parseShardOverrides } from "./core/sharding.js";
import type { Env } from "./env.js";
import { parseRedactSetting, type RedactionOptions } from "./core/redact.js";

const Scope = z.enum(["ingest", "read", "admin"]);
export type Scope = z.infer<typeof Scope>;

const ApiKeyEntry = z
  .object({
    key: z.string().min(8).optional(),
    /** hex SHA-256 of the key, so the secret need not hold keys in clear text */
    key_sha256: z
      .string()
      .regex(/^[0-9a-f]{64}$/)
      .optional(),
    name: z.string().max(64).optional(),
    scopes: z.array(Scope).min(1),
    services: z.array(z.string().min(1)).min(1),
    /** this key's own NEW_SERVICES_PER_MINUTE */
    new_services_per_minute: z.number().int().min(0).max(100_000).optional(),
  })
  .refine((k) => (k.key === undefined) !== (k.key_sha256 === undefined), "give exactly one of key, key_sha256");

export interface ApiKey {
  name: string;
  hash: Uint8Array;
  scopes: ReadonlySet<Scope>;
  /** null = all services */
  services: ReadonlySet<string> | null;
  /** overrides NEW_SERVICES_PER_MINUTE for this key */
  newServicesPerMinute?: number;
}

export interface Config {
  apiKeys: ApiKey[];
  cursorSecret: string;
  dataServiceUrl?: string;
  dataServiceApiKey?: string;
  dataServiceTimeoutMs: number;
  persistenceEnabled: boolean;
  bulkInsertSize: number;
  flushIntervalMs: number;
  hotRetentionMs: number;
  hotMaxRows: number;
  retentionDays: number;
  /** least time between two KV snapshots of a service (written only when something changed) */
  snapshotIntervalMs: number;
  /** bytes of decoded segments an aggregator keeps in memory (newest first served from it) */
  segmentCacheBytes: number;
  backoffBaseMs: number;
  backoffCapMs: number;
  /** REDACT: which PII/secret rules run on ingest (src/core/redact.ts) */
  redaction: RedactionOptions;
  /** per-service ingest limit in logs/s (burst: twice that, at least 1000) */
  serviceLogsPerSecond: number;
  /** NEW_SERVICES_PER_MINUTE: new domain/service pairs per API key per minute; more are refused */
  newServicesPerMinute: number;
  /** aggregators per service (SHARDS_PER_SERVICE), and per-service overrides (SHARD_OVERRIDES) */
  shardsPerService: number;
  shardOverrides: ReadonlyMap<string, number>;
}

function intVar(env: Env, name: keyof Env, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (typeof raw !== "string" || !Number.isInteger(n) || n < min || n > max) {
    throw new ApiError("invalid_config", 500, `${name} must be an integer from ${min} to ${max}`);
  }
  return n;
}

function hexToBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

export async function sha256(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
}

async function parseApiKeys(raw: string | undefined): Promise<ApiKey[]> {
  if (!raw) throw new ApiError("invalid_config", 500, "API_KEYS is not set (see .dev.vars.example)");
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new ApiError("invalid_config", 500, "API_KEYS is not valid JSON");
  }
  const parsed = z.array(ApiKeyEntry).min(1).safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ApiError("invalid_config", 500, `API_KEYS: ${issue?.path.join(".")}: ${issue?.message}`);
  }
  return Promise.all(
    parsed.data.map(async (k, i) => ({
      name: k.name ?? `key${i}`,
      hash: k.key_sha256 ? hexToBytes(k.key_sha256) : await sha256(k.key!),
      scopes: new Set(k.scopes),
      services: k.services.includes("*") ? null : new Set(k.services),
      ...(k.new_services_per_minute === undefined ? {} : { newServicesPerMinute: k.new_services_per_minute }),
    })),
  );
}

// Built configs by env object (the Worker's and each object's): the value, never a pending
// promise, because a promise made in one request and awaited in another hangs the second in
// workerd when the first one's I/O context is gone. Concurrent first calls each build one.
// A failed load is not cached, so fixing a secret doesn't need a redeploy of code.
const built = new WeakMap<Env, Config>();

export async function loadConfig(env: Env): Promise<Config> {
  const hit = built.get(env);
  if (hit) return hit;
  const config = await buildConfig(env);
  built.set(env, config);
  return config;
}

export async function buildConfig(env: Env): Promise<Config> {
  const apiKeys = await parseApiKeys(env.API_KEYS);
  const shardOverrides = parseShardOverrides(env.SHARD_OVERRIDES);
  if (typeof shardOverrides === "string")
    throw new ApiError("invalid_config", 500, `SHARD_OVERRIDES: ${shardOverrides}`);
  if (env.DATA_SERVICE_URL !== undefined && env.DATA_SERVICE_URL !== "") {
    try {
      const u = new URL(env.DATA_SERVICE_URL);
      if (u.protocol !== "http:" && u.protocol !== "https:") throw new Error();
    } catch {
      throw new ApiError("invalid_config", 500, "DATA_SERVICE_URL must be an http(s) URL");
    }
  }
  const hasDataService = Boolean(env.DATA_SERVICE_URL) || env.DATA_SERVICE !== undefined;
  const pe = env.PERSISTENCE_ENABLED;
  if (pe !== undefined && pe !== "" && pe !== "true" && pe !== "false") {
    throw new ApiError("invalid_config", 500, "PERSISTENCE_ENABLED must be true or false");
  }
  const persistenceEnabled = pe === undefined || pe === "" ? hasDataService : pe === "true";
  if (persistenceEnabled && !hasDataService) {
    throw new ApiError(
      "invalid_config",
      500,
      "PERSISTENCE_ENABLED is true but neither DATA_SERVICE_URL nor the DATA_SERVICE binding is set",
    );
  }
  const redaction = parseRedactSetting(env.REDACT);
  if (typeof redaction === "string") throw new ApiError("invalid_config", 500, redaction);
  return {
    apiKeys,
    cursorSecret: env.CURSOR_SECRET || (env.API_KEYS ?? ""),
    dataServiceUrl: env.DATA_SERVICE_URL || undefined,
    dataServiceApiKey: env.DATA_SERVICE_API_KEY || undefined,
    dataServiceTimeoutMs: intVar(env, "DATA_SERVICE_TIMEOUT", 5000, 100, 120_000),
    persistenceEnabled,
    bulkInsertSize: intVar(env, "BULK_INSERT_SIZE", 50, 1, 100),
    flushIntervalMs: intVar(env, "FLUSH_INTERVAL_MS", 30_000, 100, 3_600_000),
    hotRetentionMs: intVar(env, "HOT_RETENTION_MS", 24 * 3_600_000, 60_000, 30 * 86_400_000),
    hotMaxRows: intVar(env, "HOT_MAX_ROWS", 1_000_000, 1000, 100_000_000),
    retentionDays: intVar(env, "RETENTION_DAYS", 30, 1, 3650),
    snapshotIntervalMs: intVar(env, "SNAPSHOT_INTERVAL_MS", 30_000, 1000, 3_600_000),
    segmentCacheBytes: intVar(env, "SEGMENT_CACHE_BYTES", 16_000_000, 0, 64_000_000),
    backoffBaseMs: intVar(env, "FLUSH_BACKOFF_BASE_MS", 1000, 10, 60_000),
    backoffCapMs: intVar(env, "FLUSH_BACKOFF_CAP_MS", 300_000, 100, 3_600_000),
    redaction,
    serviceLogsPerSecond: intVar(env, "RATE_LIMIT_SERVICE_LOGS_PER_S", 100_000, 1, 10_000_000),
    newServicesPerMinute: intVar(env, "NEW_SERVICES_PER_MINUTE", 100, 1, 100_000),
    shardsPerService: intVar(env, "SHARDS_PER_SERVICE", 1, 1, MAX_SHARDS),
    shardOverrides,
  };
}
