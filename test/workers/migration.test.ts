// The migration from the row-per-log layout (schema_version 1) to segments: an object populated
// through the old layout's own statements answers exactly the same before, during and after the
// conversion, which runs in bounded steps across alarm runs and loses or duplicates nothing.
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { REGISTRY_NAME } from "../../objects/service-registry.js";
import { getJson, ingest, restartObject, uniqueService } from "./helpers.js";

// The old layout's DDL and insert, verbatim from objects/log-store.ts before segments.
const OLD_DDL = `
  CREATE TABLE IF NOT EXISTS logs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    ts INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    level TEXT NOT NULL,
    message TEXT NOT NULL,
    user_id TEXT, session_id TEXT, request_id TEXT,
    category TEXT, priority INTEGER, pattern_id TEXT,
    stack_trace TEXT, metadata TEXT, context TEXT, truncated INTEGER
  );
  CREATE INDEX IF NOT EXISTS logs_ts ON logs(ts, seq);
  CREATE INDEX IF NOT EXISTS logs_level_ts ON logs(level, ts, seq);
  CREATE INDEX IF NOT EXISTS logs_request ON logs(request_id) WHERE request_id IS NOT NULL;
  CREATE INDEX IF NOT EXISTS logs_user ON logs(user_id) WHERE user_id IS NOT NULL;
  CREATE INDEX IF NOT EXISTS logs_session ON logs(session_id) WHERE session_id IS NOT NULL;
  CREATE INDEX IF NOT EXISTS logs_pattern ON logs(pattern_id, ts);`;
const OLD_INSERT = `INSERT INTO logs (id, ts, received_at, level, message, user_id, session_id, request_id,
     category, priority, pattern_id, stack_trace, metadata, context, truncated)
   SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5, value->>6, value->>7,
     value->>8, value->>9, value->>10, value->>11, value->>12, value->>13, value->>14
   FROM json_each(?) ORDER BY key`;

const ROWS = 25_000; // 25 legacy segments of 1000: more than one alarm run converts (20)
const LEVELS = ["error", "warn", "info", "debug"] as const;

describe("migration from the row-per-log layout", () => {
  it("converts in bounded steps, answering identically throughout, losing and duplicating nothing", {
    timeout: 60_000,
  }, async () => {
    const service = uniqueService("migrate");
    // a fresh stub for every call: a stub to an aborted instance stays broken
    const stub = () => env.LOG_AGGREGATOR.getByName(`default/${service}`);
    const now = Date.now();
    await runInDurableObject(stub(), (_, state) => {
      const sql = state.storage.sql;
      // what the old code left behind: rows, minute counters and totals written with each ingest
      sql.exec("DROP TABLE IF EXISTS segments");
      sql.exec("DELETE FROM meta WHERE key = 'schema_version'");
      sql.exec(OLD_DDL);
      for (let start = 0; start < ROWS; start += 5000) {
        const rows = Array.from({ length: 5000 }, (_, k) => {
          const i = start + k;
          return JSON.stringify([
            `old-${i}`,
            now - 60_000 + (i % 600) * 100,
            now - 1000,
            LEVELS[i % 4],
            `legacy message ${i} ${i % 7 === 0 ? "needle" : "hay"}`,
            `u-${i % 13}`,
            null,
            `req-${i}`,
            i % 2 ? "api" : null,
            null,
            "p-old",
            null,
            i % 100 === 0 ? JSON.stringify({ k: i }) : null,
            null,
            null,
          ]);
        });
        sql.exec(OLD_INSERT, `[${rows.join(",")}]`);
      }
      sql.exec("DELETE FROM logs WHERE seq BETWEEN 500 AND 509"); // gaps, as retention leaves them
      const counts = new Map<string, number>();
      for (const r of sql.exec<{ minute: number; level: string; n: number }>(
        "SELECT min(ts, received_at) / 60000 AS minute, level, count(*) AS n FROM logs GROUP BY minute, level",
      ))
        counts.set(`${r.minute}:${r.level}`, r.n);
      for (const [k, n] of counts) {
        const [minute, level] = k.split(":");
        sql.exec("INSERT INTO counter_minutes(minute, level, n) VALUES (?, ?, ?)", Number(minute), level, n);
      }
      for (const l of LEVELS)
        sql.exec(
          "INSERT INTO totals(name, n) VALUES (?, (SELECT count(*) FROM logs WHERE level = ?))",
          `received_${l}`,
          l,
        );
      sql.exec("INSERT OR REPLACE INTO meta(key, value) VALUES ('service', ?), ('domain', 'default')", service);
      sql.exec(
        "INSERT OR REPLACE INTO meta(key, value) VALUES ('flush_state', ?)",
        JSON.stringify({ persistedSeq: ROWS, flushedTotal: ROWS - 10 }),
      );
    });
    await env.SERVICE_REGISTRY.getByName(REGISTRY_NAME).touch("default", service, now);
    await restartObject(stub()); // the next instance finds the old layout

    const kept = ROWS - 10;
    const observe = async () => {
      const metrics = await stub().metrics();
      const stats = await stub().stats(3_600_000, "1m");
      const byId = await getJson(`/api/logs/old-777`);
      const byRequest = await getJson(`/api/logs/search?service=${service}&request_id=req-24999`);
      const needles: string[] = [];
      let next: string | null = null;
      do {
        const page: { body: { logs: { id: string }[]; next_cursor: string | null } } = await getJson(
          `/api/logs/search?service=${service}&q=NEEDLE&limit=1000&level=error${next ? `&cursor=${encodeURIComponent(next)}` : ""}`,
        );
        needles.push(...page.body.logs.map((l) => l.id));
        next = page.body.next_cursor;
      } while (next);
      const ids: string[] = [];
      let cursor: string | null = null;
      do {
        const page: { body: { logs: { id: string }[]; next_cursor: string | null } } = await getJson(
          `/api/logs/search?service=${service}&order=asc&limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
        );
        ids.push(...page.body.logs.map((l) => l.id));
        cursor = page.body.next_cursor;
      } while (cursor);
      return {
        received: metrics.received,
        h1: stats.windows["1h"].total,
        byId: byId.body.id,
        byRequest: byRequest.body.logs.map((l: { id: string }) => l.id),
        needles: new Set(needles).size === needles.length ? needles.length : -1,
        ids: ids.length,
        unique: new Set(ids).size,
      };
    };
    const keptIndexes = Array.from({ length: ROWS }, (_, i) => i).filter((i) => i < 499 || i > 508);
    const perLevel = (l: number) => keptIndexes.filter((i) => i % 4 === l).length;
    const want = {
      received: { error: perLevel(0), warn: perLevel(1), info: perLevel(2), debug: perLevel(3) },
      h1: kept,
      byId: "old-777",
      byRequest: ["old-24999"],
      needles: keptIndexes.filter((i) => i % 7 === 0 && i % 4 === 0).length,
      ids: kept,
      unique: kept,
    };
    const schema = () =>
      runInDurableObject(stub(), (_, s) => ({
        version: s.storage.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'schema_version'").one()
          .value,
        legacyRows: s.storage.sql
          .exec<{ n: number }>("SELECT count(*) AS n FROM sqlite_master WHERE name = 'logs'")
          .one().n
          ? s.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM logs").one().n
          : 0,
        segmentLogs: s.storage.sql.exec<{ n: number }>("SELECT coalesce(sum(n), 0) AS n FROM segments").one().n,
      }));

    // The platform may run the alarm on its own at any point (the migration is due at once), so
    // each observation checks invariants of whatever state it finds.
    const first = await schema();
    expect(first.version).toBe("1");
    expect(first.legacyRows + first.segmentLogs).toBe(kept);
    expect(await observe()).toEqual(want);
    const seen = [first];
    for (let run = 0; run < 5; run++) {
      await runDurableObjectAlarm(stub());
      const state = await schema();
      seen.push(state);
      expect(state.legacyRows + state.segmentLogs).toBe(kept);
      expect(await observe()).toEqual(want);
      if (state.version === "3") break;
      await restartObject(stub()); // a restart in the middle of the migration
      expect(await observe()).toEqual(want);
    }
    expect(seen[seen.length - 1]).toEqual({ version: "3", legacyRows: 0, segmentLogs: kept });

    // New logs continue after the old layout's highest seq, and nothing old is taken for new.
    const fresh = await ingest([{ id: "new-1", level: "info", message: "after migration", service }]);
    expect(fresh.body.accepted).toBe(1);
    const resent = await ingest([{ id: "old-5", level: "info", message: "resent old id", service }]);
    expect(resent.body.accepted).toBe(1);
    const m = await stub().metrics();
    expect(m.duplicates).toBe(1);
    expect(m.received.info).toBe(perLevel(2) + 1);
    const newest = await runInDurableObject(stub(), (o) => o.getLog("new-1"));
    expect(newest?.seq).toBe(ROWS + 1);
  });
});
