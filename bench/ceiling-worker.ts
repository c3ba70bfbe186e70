// Bench-only worker (never deployed, not in wrangler.toml): served by the same Miniflare/workerd
// as the logger under /__bench/*, so its figures are the in-run reference points.
//   POST /__bench/parse      reads the body, JSON.parse-s it, answers 202 { accepted: n }: the ceiling
//   POST /__bench/do-noop    the same, plus one RPC carrying the parsed entries to a Durable Object
//                            that only counts them (the cost of the RPC hop and its payload)
//   POST /__bench/do-insert  the same, the object inserting each entry with one INSERT per row into
//                            a SQLite table with one index (the "naive DO path" of PLATFORM.md)
//   POST /__bench/do-store   the same, with the product's schema and statements (objects/log-store.ts:
//                            migrate, existingIds, then insertLog per row) and nothing else of ingest
//   POST /__bench/do-store-noexist  do-store without the existingIds lookup
//   POST /__bench/do-store-multirow the product's schema, rows inserted 6 per INSERT statement
//                            (90 bound parameters: under the 100-parameter limit)
//   POST /__bench/do-store-lean     one INSERT per row into the product's table without its five
//                            secondary indexes (only the PRIMARY KEY and UNIQUE(id))
// The object name is the first entry's service, so the 16-service spread can be mirrored.
import { DurableObject } from "cloudflare:workers";
import * as store from "../objects/log-store.js";
import type { NormalisedLogEntry } from "../src/schema/log-entry.js";

interface BenchEnv {
  BENCH_DO: DurableObjectNamespace<BenchObject>;
}

type Entry = { service?: string; level?: string; message?: string; metadata?: unknown; request_id?: string };

export class BenchObject extends DurableObject<BenchEnv> {
  #ready = false;
  #migrated = false;

  /** The product's storage statements only: existingIds (optional) + insertLog per row. */
  store(logs: Entry[], lookup: boolean): number {
    const sql = this.ctx.storage.sql;
    if (!this.#migrated) {
      store.migrate(sql);
      this.#migrated = true;
    }
    const now = Date.now();
    const entries = logs.map(
      (e) =>
        ({
          id: crypto.randomUUID().replace(/-/g, "").slice(0, 21),
          timestamp: now,
          received_at: now,
          level: (e.level ?? "info") as NormalisedLogEntry["level"],
          message: e.message ?? "",
          service: e.service ?? "default",
          domain: "default",
          request_id: e.request_id,
          user_id: (e as { user_id?: string }).user_id,
          metadata: e.metadata as NormalisedLogEntry["metadata"],
        }) as NormalisedLogEntry,
    );
    const existing = lookup
      ? store.existingIds(
          sql,
          entries.map((e) => e.id),
        )
      : new Set<string>();
    return store.insertLogs(
      sql,
      entries.filter((e) => !existing.has(e.id)).map((e) => ({ e, patternId: "p1" })),
    ).length;
  }

  storeLean(logs: Entry[]): number {
    const sql = this.ctx.storage.sql;
    if (!this.#migrated) {
      store.migrate(sql);
      for (const ix of ["logs_ts", "logs_level_ts", "logs_request", "logs_user", "logs_session", "logs_pattern"])
        sql.exec(`DROP INDEX IF EXISTS ${ix}`);
      this.#migrated = true;
    }
    return this.store(logs, false);
  }

  storeMultirow(logs: Entry[]): number {
    const sql = this.ctx.storage.sql;
    if (!this.#migrated) {
      store.migrate(sql);
      this.#migrated = true;
    }
    const now = Date.now();
    const cols = 15;
    const per = 6;
    for (let i = 0; i < logs.length; i += per) {
      const chunk = logs.slice(i, i + per);
      const params: (string | number | null)[] = [];
      for (const e of chunk) {
        params.push(
          crypto.randomUUID().replace(/-/g, "").slice(0, 21),
          now,
          now,
          e.level ?? "info",
          e.message ?? "",
          (e as { user_id?: string }).user_id ?? null,
          null,
          e.request_id ?? null,
          null,
          null,
          "p1",
          null,
          e.metadata === undefined ? null : JSON.stringify(e.metadata),
          null,
          null,
        );
      }
      const row = `(${Array.from({ length: cols }, () => "?").join(",")})`;
      sql.exec(
        `INSERT INTO logs (id, ts, received_at, level, message, user_id, session_id, request_id,
           category, priority, pattern_id, stack_trace, metadata, context, truncated)
         VALUES ${chunk.map(() => row).join(",")} ON CONFLICT(id) DO NOTHING`,
        ...params,
      );
    }
    return logs.length;
  }

  /** EXPLAIN QUERY PLAN of the product's existingIds statement, and `n` timed-by-profile runs of it. */
  explain(ids: string[], n: number): unknown {
    const sql = this.ctx.storage.sql;
    if (!this.#migrated) {
      store.migrate(sql);
      this.#migrated = true;
    }
    const q = `SELECT id FROM logs WHERE id IN (${ids.map(() => "?").join(",")})`;
    const plan = sql.exec(`EXPLAIN QUERY PLAN ${q}`, ...ids).toArray();
    const rows = sql.exec("SELECT count(*) AS n FROM logs").one();
    for (let i = 0; i < n; i++) store.existingIds(sql, ids);
    return { plan, rows };
  }

  take(logs: Entry[]): number {
    return logs.length;
  }

  insert(logs: Entry[]): number {
    const sql = this.ctx.storage.sql;
    if (!this.#ready) {
      sql.exec(`CREATE TABLE IF NOT EXISTS logs (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE,
        ts INTEGER NOT NULL, level TEXT NOT NULL, message TEXT NOT NULL, request_id TEXT, metadata TEXT);
        CREATE INDEX IF NOT EXISTS logs_ts ON logs(ts, seq);`);
      this.#ready = true;
    }
    const now = Date.now();
    for (const e of logs) {
      sql.exec(
        "INSERT INTO logs (id, ts, level, message, request_id, metadata) VALUES (?, ?, ?, ?, ?, ?)",
        crypto.randomUUID(),
        now,
        e.level ?? "info",
        e.message ?? "",
        e.request_id ?? null,
        e.metadata === undefined ? null : JSON.stringify(e.metadata),
      );
    }
    return logs.length;
  }
}

export default {
  async fetch(req: Request, env: BenchEnv): Promise<Response> {
    const url = new URL(req.url);
    const path = url.pathname;
    if (path === "/__bench/explain") {
      const ids = Array.from({ length: 100 }, (_, i) => `missing-${i}-${Math.random().toString(36).slice(2)}`);
      const stub = env.BENCH_DO.getByName(url.searchParams.get("name") ?? "/__bench/do-store/prof-svc-0");
      return Response.json(await stub.explain(ids, Number(url.searchParams.get("n") ?? 0)));
    }
    if (req.method !== "POST") return new Response("POST only", { status: 405 });
    const body = JSON.parse(await req.text()) as { logs?: Entry[] };
    const logs = Array.isArray(body.logs) ? body.logs : [];
    let accepted = logs.length;
    if (path.startsWith("/__bench/do-")) {
      const stub = env.BENCH_DO.getByName(`${path}/${logs[0]?.service ?? "default"}`);
      if (path === "/__bench/do-noop") accepted = await stub.take(logs);
      else if (path === "/__bench/do-insert") accepted = await stub.insert(logs);
      else if (path === "/__bench/do-store") accepted = await stub.store(logs, true);
      else if (path === "/__bench/do-store-noexist") accepted = await stub.store(logs, false);
      else if (path === "/__bench/do-store-multirow") accepted = await stub.storeMultirow(logs);
      else if (path === "/__bench/do-store-lean") accepted = await stub.storeLean(logs);
      else return new Response("not found", { status: 404 });
    } else if (path !== "/__bench/parse") {
      return new Response("not found", { status: 404 });
    }
    return Response.json({ accepted }, { status: 202 });
  },
} satisfies ExportedHandler<BenchEnv>;
