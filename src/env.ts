// Bindings and variables of the logger Worker (see wrangler.toml and README "Configuration").
import type { LogAggregator } from "../objects/log-aggregator.js";
import type { ServiceRegistry } from "../objects/service-registry.js";

export interface Env {
  LOG_AGGREGATOR: DurableObjectNamespace<LogAggregator>;
  SERVICE_REGISTRY: DurableObjectNamespace<ServiceRegistry>;
  LOGS_KV: KVNamespace;
  DATA_SERVICE?: Fetcher;
  API_KEYS?: string;
  CURSOR_SECRET?: string;
  DATA_SERVICE_URL?: string;
  DATA_SERVICE_API_KEY?: string;
  DATA_SERVICE_TIMEOUT?: string;
  PERSISTENCE_ENABLED?: string;
  BULK_INSERT_SIZE?: string;
  FLUSH_INTERVAL_MS?: string;
  HOT_RETENTION_MS?: string;
  HOT_MAX_ROWS?: string;
  SNAPSHOT_INTERVAL_MS?: string;
  SEGMENT_CACHE_BYTES?: string;
  RETENTION_DAYS?: string;
  FLUSH_BACKOFF_BASE_MS?: string;
  TAIL_QUEUE_MAX?: string;
  RATE_LIMIT_SERVICE_LOGS_PER_S?: string;
  SHARDS_PER_SERVICE?: string;
  SHARD_OVERRIDES?: string;
  /** Workers Rate Limiting binding: requests per key (wrangler.toml [[ratelimits]]) */
  KEY_RATE_LIMITER?: RateLimit;
  FLUSH_BACKOFF_CAP_MS?: string;
  /** comma list of redaction rules (email, card, secret, url_password, ip) or "none" */
  REDACT?: string;
}

type LoggerEnv = Env;
declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Cloudflare {
    interface Env extends LoggerEnv {}
  }
}
