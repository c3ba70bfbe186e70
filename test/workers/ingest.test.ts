// Ingest: round trip of every field, mixed batches, limits and the error contract.
import { describe, expect, it } from "vitest";
import { call, getJson, ingest, KEYS, uniqueService } from "./helpers.js";

describe("POST /api/logs/batch", () => {
  it("round-trips every field of an entry", async () => {
    const service = uniqueService("roundtrip");
    const entry = {
      id: "rt-1",
      timestamp: "2026-11-28T10:00:00.123Z",
      level: "WARNING",
      message: "disk almost full",
      service,
      domain: "Example.COM",
      user_id: "u-1",
      session_id: "s-1",
      request_id: "r-1",
      metadata: { disk: "/dev/sda1", used: 0.93, tags: ["a", "b"], nested: { ok: true } },
      context: { url: "https://example.com/x", method: "GET", ip: "10.0.0.1" },
      stack_trace: "Error: x\n    at y",
      category: "data",
      priority: 4,
    };
    const { status, body } = await ingest([entry]);
    expect(status).toBe(202);
    expect(body).toEqual({ accepted: 1, rejected: 0, results: [{ index: 0, id: "rt-1" }] });

    const got = await getJson("/api/logs/rt-1");
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({
      ...entry,
      level: "warn",
      domain: "example.com",
      timestamp: Date.parse("2026-11-28T10:00:00.123Z"),
    });
    expect(typeof got.body.received_at).toBe("number");
    expect(got.body.seq).toBe(1);
  });

  it("stores valid entries of a mixed batch and reports the invalid ones with index, code and path", async () => {
    const service = uniqueService("mixed");
    const { status, body } = await ingest([
      { level: "info", message: "ok 0", service, timestamp: 1_790_000_000_000 },
      { level: { loud: true }, message: "bad level", service },
      { level: "error", message: "ok 2", service, timestamp: 1_790_000_000_001 },
      { level: "info", message: "", service },
      { level: "info", message: "seconds", service, timestamp: 1_700_000_000 },
      { level: "info", message: "bad meta", service, metadata: JSON.parse('{"__proto__": {"x": 1}}') },
      { level: "info", message: "ok 6", service, priority: 3, timestamp: 1_790_000_000_002 },
    ]);
    expect(status).toBe(202);
    expect(body.accepted).toBe(3);
    expect(body.rejected).toBe(4);
    const errs = body.results.filter((r) => r.error).map((r) => [r.index, r.error!.code, r.error!.details?.[0]?.path]);
    expect(errs).toEqual([
      [1, "invalid_request", "logs.1.level"],
      [3, "invalid_request", "logs.3.message"],
      [4, "invalid_request", "logs.4.timestamp"],
      [5, "invalid_request", "logs.5.metadata.__proto__"],
    ]);
    const search = await getJson(`/api/logs/search?service=${service}&order=asc`);
    expect(search.body.logs.map((l: { message: string }) => l.message)).toEqual(["ok 0", "ok 2", "ok 6"]);
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });

  it("answers 400 with the error body when no entry is valid", async () => {
    const { status, body } = await ingest([{ level: "info", service: "x" }]);
    expect(status).toBe(400);
    expect((body as any).error.code).toBe("invalid_request");
    expect((body as any).error.details[0].path).toBe("logs.0.message");
  });

  it("is idempotent on client ids", async () => {
    const service = uniqueService("idem");
    const e = { id: "same-id-1", level: "info", message: "first", service };
    await ingest([e]);
    const again = await ingest([{ ...e, message: "second" }]);
    expect(again.status).toBe(202);
    expect(again.body.results).toEqual([{ index: 0, id: "same-id-1", duplicate: true }]);
    const got = await getJson("/api/logs/same-id-1");
    expect(got.body.message).toBe("first");
    const search = await getJson(`/api/logs/search?service=${service}`);
    expect(search.body.logs).toHaveLength(1);
    const stats = await getJson(`/api/services/${service}/stats`);
    expect(stats.body.windows["5m"].total).toBe(1);
  });

  it("truncates messages over 32 KiB and flags them", async () => {
    const service = uniqueService("trunc");
    const { body } = await ingest([{ id: "long-1", level: "info", message: "é".repeat(20000), service }]);
    expect(body.accepted).toBe(1);
    const got = await getJson("/api/logs/long-1");
    expect(got.body.truncated).toBe(true);
    expect(new TextEncoder().encode(got.body.message).length).toBe(32 * 1024);
  });

  it("accepts JSON that curl -d labels as a form body (the README's quick start)", async () => {
    const service = uniqueService("curl");
    const res = await call("/api/logs/batch", {
      method: "POST",
      key: KEYS.ingest,
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: JSON.stringify({ logs: [{ level: "info", message: "from curl", service }] }),
    });
    expect(res.status).toBe(202);
  });

  it("accepts a single entry on POST /api/logs", async () => {
    const service = uniqueService("single");
    const res = await call("/api/logs", {
      method: "POST",
      key: KEYS.ingest,
      json: { level: "debug", message: "one", service },
    });
    expect(res.status).toBe(202);
    const body = (await res.json()) as { accepted: number };
    expect(body.accepted).toBe(1);
  });

  it("rejects bodies by size, entry count, media type and JSON syntax", async () => {
    const huge = await call("/api/logs/batch", {
      method: "POST",
      key: KEYS.ingest,
      headers: { "content-type": "application/json" },
      body: "x".repeat(1024 * 1024 + 1),
    });
    expect(huge.status).toBe(413);
    expect(((await huge.json()) as any).error.code).toBe("payload_too_large");

    const many = await ingest(Array.from({ length: 1001 }, () => ({ level: "info", message: "m", service: "a" })));
    expect(many.status).toBe(413);

    const noType = await call("/api/logs/batch", { method: "POST", key: KEYS.ingest, body: "{}" });
    expect(noType.status).toBe(415);
    expect(((await noType.json()) as any).error.code).toBe("unsupported_media_type");

    const form = await call("/api/logs/batch", {
      method: "POST",
      key: KEYS.ingest,
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "a=1&b=2",
    });
    expect(form.status).toBe(415);

    const text = await call("/api/logs/batch", {
      method: "POST",
      key: KEYS.ingest,
      headers: { "content-type": "text/plain" },
      body: "{}",
    });
    expect(text.status).toBe(415);

    const broken = await call("/api/logs/batch", {
      method: "POST",
      key: KEYS.ingest,
      headers: { "content-type": "application/json" },
      body: '{"logs": [',
    });
    expect(broken.status).toBe(400);
    expect(((await broken.json()) as any).error.code).toBe("invalid_json");

    const notArray = await call("/api/logs/batch", { method: "POST", key: KEYS.ingest, json: { logs: 5 } });
    expect(notArray.status).toBe(400);
    expect(((await notArray.json()) as any).error).toMatchObject({
      code: "invalid_request",
      details: [{ path: "logs" }],
    });
  });
});
