// Realistic log entries: ~200-byte messages from a couple of dozen templates (HTTP access, DB,
// cache, auth, queue, errors with ids, IPs, durations), deterministic from a seed.

export interface BenchEntry {
  level: string;
  message: string;
  service: string;
  timestamp?: number;
  request_id?: string;
  user_id?: string;
  metadata?: Record<string, unknown>;
}

export class Rng {
  constructor(private s: number) {}
  next(): number {
    this.s = (Math.imul(this.s, 1103515245) + 12345) >>> 0;
    return this.s;
  }
  int(n: number): number {
    return this.next() % n;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }
  hex(n: number): string {
    let s = "";
    while (s.length < n) s += this.next().toString(16).padStart(8, "0");
    return s.slice(0, n);
  }
}

const PATHS = [
  "/api/v1/users",
  "/api/v1/orders",
  "/api/v1/cart/items",
  "/api/v2/search",
  "/checkout/confirm",
  "/api/v1/products",
  "/auth/token",
  "/api/v1/invoices",
];
const METHODS = ["GET", "POST", "PUT", "DELETE"];
const TABLES = ["orders", "users", "sessions", "inventory", "payments"];
const HOSTS = ["db-primary-1.internal", "db-replica-2.internal", "cache-3.internal", "search-1.internal"];
const QUEUES = ["email-outbound", "billing-events", "thumbnail-jobs", "webhooks"];
const UAS = ["Mozilla/5.0 (X11; Linux x86_64)", "curl/8.5.0", "okhttp/4.12.0", "Go-http-client/2.0"];

const TEMPLATES: ((r: Rng) => [string, string])[] = [
  (r) => [
    "info",
    `${r.pick(METHODS)} ${r.pick(PATHS)}/${r.int(100000)} completed with status ${r.pick([200, 200, 201, 204, 304])} in ${r.int(900) + 3} ms for client 10.${r.int(256)}.${r.int(256)}.${r.int(256)} agent "${r.pick(UAS)}" bytes=${r.int(90000)}`,
  ],
  (r) => [
    "info",
    `user ${r.int(1_000_000)} signed in from 192.168.${r.int(256)}.${r.int(256)} using method ${r.pick(["password", "sso", "passkey", "magic-link"])} session=${r.hex(16)} region=${r.pick(["eu-west-1", "us-east-1", "ap-south-1"])}`,
  ],
  (r) => [
    "warn",
    `slow query on table ${r.pick(TABLES)} took ${r.int(5000) + 500} ms rows_examined=${r.int(1_000_000)} rows_returned=${r.int(500)} host=${r.pick(HOSTS)} plan=${r.pick(["index scan", "seq scan", "bitmap heap scan"])}`,
  ],
  (r) => [
    "error",
    `database connection to ${r.pick(HOSTS)}:5432 failed after ${r.int(5) + 1} retries: timeout after ${r.pick([1000, 3000, 5000])} ms (pool size ${r.int(50) + 10}, waiting ${r.int(200)})`,
  ],
  (r) => [
    "info",
    `cache ${r.pick(["hit", "miss", "miss", "stale"])} for key product:${r.int(100000)}:variant:${r.int(40)} on ${r.pick(HOSTS)} ttl=${r.int(3600)}s size=${r.int(60000)} bytes latency=${r.int(40)} ms`,
  ],
  (r) => [
    "debug",
    `job ${r.hex(12)} dequeued from ${r.pick(QUEUES)} attempt ${r.int(5) + 1} of 5 payload_bytes=${r.int(20000)} enqueued_at=${1_700_000_000_000 + r.int(1e9)} worker=w-${r.int(64)}`,
  ],
  (r) => [
    "error",
    `payment ${r.hex(10)} declined by provider ${r.pick(["stripe", "adyen", "braintree"])}: code ${r.pick(["card_declined", "insufficient_funds", "expired_card", "do_not_honor"])} amount=${r.int(100000) / 100} EUR customer=${r.int(500000)}`,
  ],
  (r) => [
    "warn",
    `rate limit approaching for api key ${r.hex(8)}: ${r.int(1000)} of 1000 requests in the current window, endpoint ${r.pick(PATHS)} tenant=${r.int(5000)} plan=${r.pick(["free", "pro", "enterprise"])}`,
  ],
  (r) => [
    "info",
    `order ${r.int(10_000_000)} state changed from ${r.pick(["pending", "paid", "packed"])} to ${r.pick(["paid", "packed", "shipped", "cancelled"])} by ${r.pick(["system", "admin", "customer"])} items=${r.int(12) + 1} total=${r.int(50000) / 100}`,
  ],
  (r) => [
    "error",
    `unhandled exception in ${r.pick(["OrderService.create", "CartController.update", "InvoiceRenderer.render"])}: TypeError: Cannot read properties of undefined (reading '${r.pick(["id", "price", "items", "address"])}') at line ${r.int(800)}`,
  ],
  (r) => [
    "debug",
    `feature flag ${r.pick(["new-checkout", "dark-mode", "search-v2", "bulk-export"])} evaluated to ${r.pick(["true", "false"])} for user ${r.int(1_000_000)} rule=${r.int(20)} cohort=${r.pick(["a", "b", "control"])} latency_us=${r.int(900)}`,
  ],
  (r) => [
    "warn",
    `webhook delivery to https://hooks.example-${r.int(500)}.com/events failed with status ${r.pick([500, 502, 503, 504])}, retry ${r.int(8) + 1} scheduled in ${r.int(600)} s event=${r.hex(8)}`,
  ],
];

export function makeEntry(r: Rng, service: string, extra?: Partial<BenchEntry>): BenchEntry {
  const [level, message] = TEMPLATES[r.int(TEMPLATES.length)](r);
  return {
    level,
    message,
    service,
    request_id: `req-${r.hex(12)}`,
    user_id: `u-${r.int(50_000)}`,
    ...extra,
  };
}

/** `count` prebuilt request bodies of `size` entries each, services chosen by `serviceOf(i, j)`. */
export function makeBodies(
  seed: number,
  count: number,
  size: number,
  serviceOf: (body: number, entry: number) => string,
): Buffer[] {
  const r = new Rng(seed);
  const out: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const logs: BenchEntry[] = [];
    for (let j = 0; j < size; j++) logs.push(makeEntry(r, serviceOf(i, j)));
    out.push(Buffer.from(JSON.stringify({ logs })));
  }
  return out;
}
