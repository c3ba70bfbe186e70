// Starts the logger and the ceiling worker in one Miniflare (one workerd process) on 127.0.0.1
// with an ephemeral port and a temporary persist dir. Bindings mirror wrangler.toml; the data
// service is left out (PERSISTENCE_ENABLED=false, the KV-only phase) so it doesn't interfere.
import { Miniflare } from "miniflare";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import type { Readable } from "node:stream";
import { join } from "node:path";
import type { Bundles } from "./build.js";

export const INGEST_KEY = "bench-ingest-key";
export const READ_KEY = "bench-read-key";

const API_KEYS = JSON.stringify([
  { name: "bench-ingest", key: INGEST_KEY, scopes: ["ingest"], services: ["*"] },
  { name: "bench-read", key: READ_KEY, scopes: ["read"], services: ["*"] },
]);

export interface BenchServer {
  url: string;
  mf: Miniflare;
  /** temporary Durable Object / KV state, removed by dispose() */
  persistDir: string;
  workerdPids: () => number[];
  rssMb: () => number | null;
  /** Restarts workerd with the same options and persisted state (memory gone); the new URL. */
  restart: () => Promise<string>;
  dispose: () => Promise<void>;
}

/** Children (recursively) of `pid` whose command name is workerd. */
function workerdChildren(pid: number): number[] {
  const out: number[] = [];
  const walk = (p: number) => {
    let kids: number[] = [];
    try {
      for (const t of readdirSync(`/proc/${p}/task`)) {
        kids.push(
          ...readFileSync(`/proc/${p}/task/${t}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number),
        );
      }
    } catch {
      return;
    }
    kids = [...new Set(kids)];
    for (const k of kids) {
      try {
        if (readFileSync(`/proc/${k}/comm`, "utf8").trim().startsWith("workerd")) out.push(k);
      } catch {
        // gone
      }
      walk(k);
    }
  };
  walk(pid);
  return out;
}

export function rssOf(pid: number): number | null {
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

export interface ServerOptions {
  /** V8 inspector port (bench/profile-ingest.ts) */
  inspectorPort?: number;
  /** false: Durable Object and KV storage in memory instead of the temp dir (diagnostics) */
  persist?: boolean;
}

export async function startServer(
  bundles: Bundles,
  extraBindings: Record<string, string> = {},
  opts: ServerOptions = {},
): Promise<BenchServer> {
  const persist = mkdtempSync(join(tmpdir(), "edge-logger-bench-state-"));
  const onDisk = opts.persist ?? true;
  const options: ConstructorParameters<typeof Miniflare>[0] = {
    host: "127.0.0.1",
    port: 0,
    ...(opts.inspectorPort !== undefined ? { inspectorPort: opts.inspectorPort } : {}),
    defaultPersistRoot: persist,
    durableObjectsPersist: onDisk ? join(persist, "do") : false,
    kvPersist: onDisk ? join(persist, "kv") : false,
    // workerd's output (worker console.*, runtime warnings) goes to stderr: stdout is for metrics.
    handleRuntimeStdio(stdout: Readable, stderr: Readable) {
      stdout.on("data", (d: Buffer) => process.stderr.write(`[workerd] ${d}`));
      stderr.on("data", (d: Buffer) => process.stderr.write(`[workerd] ${d}`));
    },
    handleStructuredLogs({ level, message }: { level: string; message: string }) {
      process.stderr.write(`[workerd ${level}] ${message}\n`);
    },
    workers: [
      {
        name: "edge-logger",
        modules: true,
        scriptPath: bundles.logger,
        modulesRoot: bundles.dir,
        compatibilityDate: "2026-04-01",
        compatibilityFlags: ["nodejs_compat"],
        durableObjects: {
          LOG_AGGREGATOR: { className: "LogAggregator", useSQLite: true },
          SERVICE_REGISTRY: { className: "ServiceRegistry", useSQLite: true },
          TAIL_HUB: { className: "TailHub", useSQLite: true },
        },
        kvNamespaces: { LOGS_KV: "00000000000000000000000000000000" },
        // wrangler.toml has 1000 requests / 10 s per key; the bench must not be throttled by it.
        ratelimits: { KEY_RATE_LIMITER: { simple: { limit: 1_000_000_000, period: 10 } } },
        bindings: {
          API_KEYS,
          PERSISTENCE_ENABLED: "false",
          FLUSH_INTERVAL_MS: "30000",
          BULK_INSERT_SIZE: "50",
          DATA_SERVICE_TIMEOUT: "5000",
          // the tail-all phase seeds 1,000 services from one key (production default: 100 a minute)
          NEW_SERVICES_PER_MINUTE: "100000",
          ...extraBindings,
        },
      },
      {
        name: "bench-ceiling",
        modules: true,
        scriptPath: bundles.ceiling,
        modulesRoot: bundles.dir,
        compatibilityDate: "2026-04-01",
        compatibilityFlags: ["nodejs_compat"],
        routes: ["*/__bench/*"],
        durableObjects: { BENCH_DO: { className: "BenchObject", useSQLite: true } },
      },
    ],
  };
  const mf = new Miniflare(options);
  const url = (await mf.ready).toString().replace(/\/$/, "");
  const workerdPids = () => workerdChildren(process.pid);
  return {
    url,
    mf,
    persistDir: persist,
    workerdPids,
    rssMb: () => {
      const pids = workerdPids();
      if (pids.length === 0) return null;
      return pids.reduce((s, p) => s + (rssOf(p) ?? 0), 0);
    },
    async restart() {
      await mf.setOptions(options);
      return (await mf.ready).toString().replace(/\/$/, "");
    },
    async dispose() {
      try {
        await mf.dispose();
      } finally {
        rmSync(persist, { recursive: true, force: true });
      }
    },
  };
}
