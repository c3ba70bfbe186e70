// Helpers for tests inside workerd: HTTP through the Worker's default export, dev keys.
import { runInDurableObject } from "cloudflare:test";
import { exports } from "cloudflare:workers";

export const KEYS = {
  ingest: "dev-ingest-key",
  read: "dev-read-key",
  admin: "dev-admin-key",
  apiOnly: "api-only-read-key",
  ingestApiOnly: "api-only-ingest-key",
} as const;

export async function call(path: string, init: RequestInit & { key?: string; json?: unknown } = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (init.key) headers.set("authorization", `Bearer ${init.key}`);
  let body = init.body;
  if (init.json !== undefined) {
    body = JSON.stringify(init.json);
    if (!headers.has("content-type")) headers.set("content-type", "application/json");
  }
  return (exports as unknown as { default: Fetcher }).default.fetch(
    new Request(`http://logger.test${path}`, { ...init, headers, body }),
  );
}

export async function ingest(logs: unknown[], key: string = KEYS.ingest) {
  const res = await call("/api/logs/batch", { method: "POST", key, json: { logs } });
  return {
    status: res.status,
    body: (await res.json()) as {
      accepted: number;
      rejected: number;
      results: { index: number; id?: string; error?: { code: string; details?: { path: string }[] } }[];
    },
  };
}

export async function getJson<T = any>(path: string, key: string = KEYS.read): Promise<{ status: number; body: T }> {
  const res = await call(path, { key });
  return { status: res.status, body: (await res.json()) as T };
}

let counter = 0;
/** A service name unique to this test run, so tests don't see each other's logs. */
export function uniqueService(prefix = "svc"): string {
  counter++;
  return `${prefix}-${counter}-${Math.random().toString(36).slice(2, 8)}`;
}

/**
 * Restarts one Durable Object: its memory is gone, its SQLite and alarm are kept, and the next
 * call gets a fresh instance. Unlike abortAllDurableObjects(), which also aborts the test runner's
 * own object and miniflare's KV object mid-write (after which a console line from an object's
 * alarm can leave vitest waiting for the test file forever), it touches nothing else.
 */
export async function restartObject(stub: DurableObjectStub): Promise<void> {
  const outcome = await runInDurableObject(stub, (_, state) => {
    state.abort("restarted by a test");
  }).then(
    () => "returned",
    (e: unknown) => String(e),
  );
  if (!outcome.includes("restarted by a test")) throw new Error(`restartObject: the object did not abort (${outcome})`);
}
