// The segment store (issue 11): one SQLite row per ingested batch, every field of an entry kept,
// exact lookups through blooms and the id table, idempotency and counts exact after a restart,
// and `q` matched in JS with no pattern-length limit (issue 16, item 2).
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { LogEntryInput, type NormalisedLogEntry, normaliseEntry } from "../../src/schema/log-entry.js";
import { getJson, ingest, restartObject, uniqueService } from "./helpers.js";

const stubOf = (service: string) => env.LOG_AGGREGATOR.getByName(`default/${service}`);
function batch(service: string, prefix: string, n: number) {
  return Array.from({ length: n }, (_, i) => ({
    id: `${prefix}-${i}`,
    level: i % 10 === 0 ? "error" : "info",
    message: `request ${i} handled in ${i % 37} ms`,
    service,
    request_id: `${prefix}-req-${i}`,
    user_id: `u-${i % 5}`,
  }));
}

describe("segment storage", () => {
  it("writes exactly one SQLite row for a batch of 100 logs", async () => {
    const service = uniqueService("rows");
    expect((await ingest(batch(service, "r1", 100))).body.accepted).toBe(100);
    // The second batch's own writes, read inside the object around the ingest call: a job that
    // comes due meanwhile (a slow machine) runs on the alarm, never inside this call.
    const normalised = batch(service, "r2", 100).map((e) =>
      normaliseEntry(LogEntryInput.parse(e), Date.now(), () => ""),
    );
    const written = await runInDurableObject(stubOf(service), async (o) => {
      const before = o.metrics().rows_written_total ?? Number.NaN;
      const outcome = await o.ingest(normalised);
      expect(outcome.entries.filter((e) => !e.duplicate)).toHaveLength(100);
      return (o.metrics().rows_written_total ?? Number.NaN) - before;
    });
    expect(written).toBe(1);
    const segments = await runInDurableObject(stubOf(service), (_, s) =>
      s.storage.sql.exec<{ n: number; logs: number }>("SELECT count(*) AS n, sum(n) AS logs FROM segments").one(),
    );
    expect(segments).toEqual({ n: 2, logs: 200 });
    // a resent batch writes no log row: only its duplicate count
    const resend = await ingest(batch(service, "r2", 100));
    expect(resend.body.accepted).toBe(100);
    const after = await runInDurableObject(stubOf(service), (o) => o.metrics());
    expect(after.received).toEqual({ error: 20, warn: 0, info: 180, debug: 0 });
    expect(after.duplicates).toBe(100);
  });

  it("finds by request_id, user_id and id through the blooms, exactly", async () => {
    const service = uniqueService("exact");
    for (let b = 0; b < 5; b++) expect((await ingest(batch(service, `e${b}`, 100))).body.accepted).toBe(100);
    const byRequest = await getJson(`/api/logs/search?service=${service}&request_id=e3-req-42`);
    expect(byRequest.body.logs.map((l: { id: string }) => l.id)).toEqual(["e3-42"]);
    const byUser = await getJson(`/api/logs/search?service=${service}&user_id=u-2&limit=1000`);
    expect(byUser.body.logs).toHaveLength(100);
    const one = await getJson(`/api/logs/e4-99`);
    expect(one.body).toMatchObject({ id: "e4-99", request_id: "e4-req-99", service });
    expect((await getJson(`/api/logs/search?service=${service}&request_id=nope`)).body.logs).toEqual([]);
  });

  it("stores every field of an entry, and filters by trace_id", async () => {
    const service = uniqueService("fields");
    const now = Date.now();
    const entry = {
      id: "f-1",
      timestamp: now,
      received_at: now,
      level: "warn",
      message: "with extras",
      service,
      domain: "default",
      trace_id: "4bf92f3577b34da6a3ce929d0e0e4736",
      span_id: "00f067aa0ba902b7",
      severity: "WARNING",
      metadata: { nested: { a: [1, 2, "three"] }, quote: 'say "hi" \\ there' },
    } as NormalisedLogEntry;
    const other = { ...entry, id: "f-2", trace_id: "another-trace" } as NormalisedLogEntry;
    const out = await stubOf(service).ingest([entry, other]);
    expect(out.entries.map((e) => e.duplicate)).toEqual([false, false]);
    const got = await runInDurableObject(stubOf(service), (o) => o.getLog("f-1"));
    expect(got).toMatchObject({ ...entry, seq: out.entries[0].seq });
    const page = await runInDurableObject(stubOf(service), (o) =>
      o.search({ filter: { traceId: "4bf92f3577b34da6a3ce929d0e0e4736" }, order: "desc", limit: 10 }),
    );
    expect(page.logs.map((l) => l.id)).toEqual(["f-1"]);
  });

  it("stays idempotent and exact after a restart: same seqs for resent ids, counts unchanged", async () => {
    const service = uniqueService("restart");
    const first = await ingest(batch(service, "ir", 50));
    expect(first.body.accepted).toBe(50);
    const seqs = await runInDurableObject(stubOf(service), (o) => o.search({ filter: {}, order: "asc", limit: 100 }));
    await restartObject(stubOf(service));
    const again = await stubOf(service).ingest(
      batch(service, "ir", 50).map((l) => ({
        ...l,
        level: l.level as "info",
        timestamp: Date.now(),
        received_at: Date.now(),
        domain: "default",
      })),
    );
    expect(again.entries.every((e) => e.duplicate)).toBe(true);
    expect(again.entries.map((e) => e.seq)).toEqual(seqs.logs.map((l) => l.seq));
    const m = await stubOf(service).metrics();
    expect(m.received).toEqual({ error: 5, warn: 0, info: 45, debug: 0 });
    expect(m.duplicates).toBe(50);
    const stats = await stubOf(service).stats(60_000, "1s");
    expect(stats.windows["1m"]).toMatchObject({ error: 5, info: 45, total: 50 });
  });
});

describe("searches over segment columns", () => {
  it("returns exactly the stored entries after a restart, characters outside the BMP included", async () => {
    const service = uniqueService("columns");
    const base = Date.now() - 60_000;
    const sent: { id: string; level: string; message: string; timestamp: number }[] = [];
    // three batches whose timestamps interleave, so every page takes entries from each segment
    for (let b = 0; b < 3; b++) {
      const logs = Array.from({ length: 40 }, (_, i) => ({
        id: `col-${b}-${i}`,
        level: ["error", "info", "warn"][(i + b) % 3],
        message: i % 4 === 1 ? `payment ${i} 🎉 déjà vu 𝄞 batch ${b}` : `plain ${i} batch ${b}`,
        timestamp: base + i * 300 + b * 100,
        service,
      }));
      expect((await ingest(logs)).body.accepted).toBe(40);
      sent.push(...logs);
    }
    await restartObject(stubOf(service)); // nothing decoded in memory: pages come from the stored bodies
    const want = (level: string) =>
      sent
        .filter((l) => l.level === level)
        .sort((a, b) => b.timestamp - a.timestamp)
        .map((l) => [l.id, l.message]);
    for (const level of ["error", "warn"]) {
      const all = await getJson(`/api/logs/search?service=${service}&level=${level}&limit=1000`);
      expect(all.body.logs.map((l: { id: string; message: string }) => [l.id, l.message])).toEqual(want(level));
      const top = await getJson(`/api/logs/search?service=${service}&level=${level}&limit=5`);
      expect(top.body.logs.map((l: { id: string }) => l.id)).toEqual(
        want(level)
          .slice(0, 5)
          .map(([id]) => id),
      );
    }
    // q decodes only the entries whose text holds it, also after characters outside the BMP
    const q = await getJson(`/api/logs/search?service=${service}&q=${encodeURIComponent("DÉJÀ VU")}&limit=1000`);
    expect(q.body.logs.map((l: { id: string }) => l.id)).toEqual(
      sent
        .filter((l) => l.message.includes("déjà vu"))
        .sort((a, b) => b.timestamp - a.timestamp)
        .map((l) => l.id),
    );
    const range = await getJson(
      `/api/logs/search?service=${service}&start_time=${base + 3000}&end_time=${base + 3600}&order=asc`,
    );
    expect(range.body.logs.map((l: { id: string }) => l.id)).toEqual(
      sent
        .filter((l) => l.timestamp >= base + 3000 && l.timestamp <= base + 3600)
        .sort((a, b) => a.timestamp - b.timestamp)
        .map((l) => l.id),
    );
  });
});

describe("schema 2 to 3: segment columns in the row", () => {
  it("adds the column to a schema-2 table and answers from bodies for rows written before", async () => {
    const service = uniqueService("schema2");
    const base = Date.now() - 30_000;
    const logs = Array.from({ length: 30 }, (_, i) => ({
      id: `s2-${i}`,
      level: i % 3 === 0 ? "error" : "info",
      message: `old ${i}`,
      timestamp: base + i * 100,
      service,
    }));
    expect((await ingest(logs)).body.accepted).toBe(30);
    // what a schema-2 object holds: no cols column
    await runInDurableObject(stubOf(service), (_, s) => {
      s.storage.sql.exec("ALTER TABLE segments DROP COLUMN cols");
      s.storage.sql.exec("UPDATE meta SET value = '2' WHERE key = 'schema_version'");
    });
    await restartObject(stubOf(service));
    const errors = await getJson(`/api/logs/search?service=${service}&level=error&limit=5`);
    expect(errors.body.logs.map((l: { id: string }) => l.id)).toEqual(["s2-27", "s2-24", "s2-21", "s2-18", "s2-15"]);
    expect((await ingest([{ id: "s3-0", level: "error", message: "new", service }])).body.accepted).toBe(1);
    const state = await runInDurableObject(stubOf(service), (_, s) => ({
      version: s.storage.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'schema_version'").one().value,
      cols: s.storage.sql
        .exec<{ has: number }>("SELECT cols IS NOT NULL AS has FROM segments ORDER BY first_seq")
        .toArray()
        .map((r) => r.has),
    }));
    expect(state).toEqual({ version: "3", cols: [0, 1] });
    const after = await getJson(`/api/logs/search?service=${service}&level=error&limit=3`);
    expect(after.body.logs.map((l: { id: string }) => l.id)).toEqual(["s3-0", "s2-27", "s2-24"]);
  });
});

describe("text search without a pattern-length limit (issue 16, item 2)", () => {
  it("answers a 49-byte and a 1024-byte q with exactly the matching logs", async () => {
    const service = uniqueService("longq");
    const q49 = "a".repeat(49);
    const q1024 = `${"Zz-".repeat(341)}end`.slice(0, 1024);
    expect(q1024).toHaveLength(1024);
    const logs = [
      { id: "lq-1", level: "info", service, message: `prefix ${q49} suffix` },
      { id: "lq-2", level: "info", service, message: `${"a".repeat(48)} only 48` },
      { id: "lq-3", level: "error", service, message: `x ${q1024.toUpperCase()} y` },
      { id: "lq-4", level: "error", service, message: `x ${q1024.slice(0, 1023)}` },
    ];
    expect((await ingest(logs)).body.accepted).toBe(4);
    const a = await getJson(`/api/logs/search?service=${service}&q=${q49}`);
    expect(a.status).toBe(200);
    expect(a.body.logs.map((l: { id: string }) => l.id)).toEqual(["lq-1"]);
    const b = await getJson(`/api/logs/search?service=${service}&q=${encodeURIComponent(q1024)}`);
    expect(b.status).toBe(200);
    expect(b.body.logs.map((l: { id: string }) => l.id)).toEqual(["lq-3"]);
  });
});
