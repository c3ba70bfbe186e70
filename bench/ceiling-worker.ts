// Bench-only worker (never deployed, not in wrangler.toml): served by the same Miniflare/workerd
// as the logger under /__bench/*, so its figures are the in-run reference points.
//   POST /__bench/parse      reads the body, JSON.parse-s it, answers 202 { accepted: n }: the ceiling
//   POST /__bench/do-noop    the same, plus one RPC carrying the parsed entries to a Durable Object
//                            that only counts them (the cost of the RPC hop and its payload)
//   POST /__bench/do-insert  the same, the object inserting each entry with one INSERT per row into
//                            a SQLite table with one index (the "naive DO path" of PLATFORM.md)
//   POST /__bench/do-store   the same, with the product's storage (objects/segment-store.ts: an id
//                            lookup per entry, then one segment row per batch), nothing else of ingest
//   POST /__bench/do-store-noexist  do-store without the id lookups
// The object name is the first entry's service, so the 16-service spread can be mirrored.
import { DurableObject } from "cloudflare:workers";
import * as store from "../objects/log-store.js";
import { SegmentStore } from "../objects/segment-store.js";
import type { StoredLogEntry } from "../src/schema/log-entry.js";

interface BenchEnv {
  BENCH_DO: DurableObjectNamespace<BenchObject>;
}

type Entry = { service?: string; level?: string; message?: string; metadata?: unknown; request_id?: string };

export class BenchObject extends DurableObject<BenchEnv> {
  #ready = false;
  #segments: SegmentStore | undefined;

  /** The product's storage only: the segment store's id lookups (optional) and one append. */
  store(logs: Entry[], lookup: boolean): number {
    const sql = this.ctx.storage.sql;
    if (!this.#segments) {
      store.migrate(sql);
      this.#segments = new SegmentStore(sql, () => ({ service: "bench", domain: "default" }), 16_000_000);
      this.#segments.load();
    }
    const segments = this.#segments;
    const now = Date.now();
    let seq = segments.maxSeq();
    const entries: StoredLogEntry[] = [];
    for (const e of logs) {
      const id = crypto.randomUUID().replace(/-/g, "").slice(0, 21);
      if (lookup && segments.findById(id)) continue;
      entries.push({
        id,
        timestamp: now,
        received_at: now,
        level: (e.level ?? "info") as StoredLogEntry["level"],
        message: e.message ?? "",
        service: e.service ?? "default",
        domain: "default",
        request_id: e.request_id,
        user_id: (e as { user_id?: string }).user_id,
        metadata: e.metadata as StoredLogEntry["metadata"],
        pattern_id: "p1",
        seq: ++seq,
      });
    }
    segments.append(entries, {});
    return entries.length;
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
      else return new Response("not found", { status: 404 });
    } else if (path !== "/__bench/parse") {
      return new Response("not found", { status: 404 });
    }
    return Response.json({ accepted }, { status: 202 });
  },
} satisfies ExportedHandler<BenchEnv>;
