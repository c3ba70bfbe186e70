// What real shippers send to the JSON ingest routes: compressed bodies, NDJSON, bare arrays,
// pino/winston objects, and the auth headers they use (issue 13; issue 16 item 8).
import { describe, expect, it } from "vitest";
import { call, getJson, KEYS, uniqueService } from "./helpers.js";

async function compress(text: string, format: "gzip" | "deflate"): Promise<Uint8Array> {
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream(format));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

async function messagesOf(service: string): Promise<string[]> {
  const r = await getJson<{ logs: { message: string }[] }>(`/api/logs/search?service=${service}&order=asc`);
  return r.body.logs.map((l) => l.message);
}

describe("ingest bodies", () => {
  it("stores gzip and deflate bodies on /api/logs/batch and /api/logs", async () => {
    const service = uniqueService("gz");
    for (const [path, format, body] of [
      ["/api/logs/batch", "gzip", { logs: [{ level: "info", message: "gz-batch", service }] }],
      ["/api/logs/batch", "deflate", { logs: [{ level: "info", message: "deflate-batch", service }] }],
      ["/api/logs", "gzip", { level: "info", message: "gz-single", service }],
    ] as const) {
      const res = await call(path, {
        method: "POST",
        key: KEYS.ingest,
        headers: { "content-type": "application/json", "content-encoding": format },
        body: await compress(JSON.stringify(body), format),
      });
      expect([path, format, res.status]).toEqual([path, format, 202]);
    }
    expect(await messagesOf(service)).toEqual(["gz-batch", "deflate-batch", "gz-single"]);
  });

  it("answers 413 for a gzip bomb (the limit is on the decoded size) and 400 for a corrupt body", async () => {
    const service = uniqueService("bomb");
    const padded = JSON.stringify({ logs: [{ level: "info", message: "x".repeat(2 * 1024 * 1024), service }] });
    const bomb = await compress(padded, "gzip");
    expect(bomb.byteLength).toBeLessThan(64 * 1024);
    const res = await call("/api/logs/batch", {
      method: "POST",
      key: KEYS.ingest,
      headers: { "content-type": "application/json", "content-encoding": "gzip" },
      body: bomb,
    });
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ error: { code: "payload_too_large" } });
    const corrupt = await call("/api/logs/batch", {
      method: "POST",
      key: KEYS.ingest,
      headers: { "content-type": "application/json", "content-encoding": "gzip" },
      body: "not gzip at all",
    });
    expect(corrupt.status).toBe(400);
    const br = await call("/api/logs/batch", {
      method: "POST",
      key: KEYS.ingest,
      headers: { "content-type": "application/json", "content-encoding": "br" },
      body: "x",
    });
    expect(br.status).toBe(415);
  });

  it("takes application/x-ndjson and a bare JSON array as batches", async () => {
    const service = uniqueService("nd");
    const nd = await call("/api/logs/batch", {
      method: "POST",
      key: KEYS.ingest,
      headers: { "content-type": "application/x-ndjson" },
      body: `{"level":"info","message":"nd-1","service":"${service}"}\n\n{"level":"notice","message":"nd-2","service":"${service}"}\n`,
    });
    expect(nd.status).toBe(202);
    expect(await nd.json()).toMatchObject({ accepted: 2, rejected: 0 });
    const arr = await call("/api/logs", {
      method: "POST",
      key: KEYS.ingest,
      json: [
        { level: "http", message: "arr-1", service },
        { level: "silly", message: "arr-2", service },
      ],
    });
    expect(arr.status).toBe(202);
    expect(await arr.json()).toMatchObject({ accepted: 2, rejected: 0 });
    const badLine = await call("/api/logs/batch", {
      method: "POST",
      key: KEYS.ingest,
      headers: { "content-type": "application/x-ndjson" },
      body: `{"level":"info","message":"ok","service":"${service}"}\n{oops\n`,
    });
    expect(badLine.status).toBe(400);
    expect(await badLine.json()).toMatchObject({ error: { code: "invalid_json", details: [{ path: "line.2" }] } });
    const got = await getJson<{ logs: { message: string; level: string }[] }>(
      `/api/logs/search?service=${service}&order=asc`,
    );
    expect(got.body.logs.map((l) => [l.message, l.level])).toEqual([
      ["nd-1", "info"],
      ["nd-2", "info"],
      ["arr-1", "info"],
      ["arr-2", "debug"],
    ]);
  });

  it("stores pino objects (numeric level, msg, time, err) with ?service= and keeps other fields in metadata", async () => {
    const service = uniqueService("pino");
    const time = Date.now() - 1000;
    const res = await call(`/api/logs?service=${service}`, {
      method: "POST",
      key: KEYS.ingest,
      json: {
        level: 50,
        time,
        pid: 7,
        hostname: "web-1",
        msg: "charge failed",
        err: { type: "Error", message: "card", stack: "Error: card\n    at pay" },
      },
    });
    expect(res.status).toBe(202);
    const { results } = (await res.json()) as { results: { id: string }[] };
    const got = await getJson(`/api/logs/${results[0].id}`);
    expect(got.body).toMatchObject({
      service,
      level: "error",
      message: "charge failed",
      timestamp: time,
      stack_trace: "Error: card\n    at pay",
      metadata: { pid: 7, hostname: "web-1", err: { type: "Error", message: "card" } },
    });
  });
});

describe("ingest refusals (issue 16 item 8)", () => {
  it("refuses 2026-02-30 like 2026-13-01, a timestamp over a day ahead, and the services . and ..", async () => {
    const service = uniqueService("dates");
    const res = await call("/api/logs/batch", {
      method: "POST",
      key: KEYS.ingest,
      json: {
        logs: [
          { level: "info", message: "a", service, timestamp: "2026-02-30T00:00:00Z" },
          { level: "info", message: "b", service, timestamp: "2026-13-01T00:00:00Z" },
          { level: "info", message: "c", service, timestamp: Date.now() + 2 * 86_400_000 },
          { level: "info", message: "d", service: "." },
          { level: "info", message: "e", service: ".." },
          { level: "info", message: "f", service, timestamp: Date.now() + 3_600_000 },
        ],
      },
    });
    expect(res.status).toBe(202);
    const body = (await res.json()) as {
      results: { index: number; id?: string; error?: { details: { path: string }[] } }[];
    };
    expect(body.results.map((r) => (r.id ? "ok" : r.error?.details[0].path))).toEqual([
      "logs.0.timestamp",
      "logs.1.timestamp",
      "logs.2.timestamp",
      "logs.3.service",
      "logs.4.service",
      "ok",
    ]);
  });
});

describe("auth headers shippers use", () => {
  it("takes X-API-Key even when another Authorization header is present", async () => {
    const r = await call("/api/services", {
      headers: { "x-api-key": KEYS.read, authorization: "Bearer some-proxy-token" },
    });
    expect(r.status).toBe(200);
  });

  it("takes HTTP Basic with the key as password and any user name", async () => {
    for (const user of ["loki", "", "tenant-1"]) {
      const r = await call("/api/services", { headers: { authorization: `Basic ${btoa(`${user}:${KEYS.read}`)}` } });
      expect([user, r.status]).toEqual([user, 200]);
    }
    const wrong = await call("/api/services", { headers: { authorization: `Basic ${btoa("loki:nope")}` } });
    expect(wrong.status).toBe(401);
  });
});
