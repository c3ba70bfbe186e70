// POST /v1/logs with OTLP protobuf (the SDKs' default), gzip too; protobuf answers; and the
// other OTLP signals answer a clear JSON error.
import { describe, expect, it } from "vitest";
import { ProtoReader, ProtoWriter } from "../../src/core/protobuf.js";
import { call, getJson, KEYS, uniqueService } from "./helpers.js";

function request(service: string, records: ((w: ProtoWriter) => void)[]): Uint8Array<ArrayBuffer> {
  return new ProtoWriter()
    .message(1, (rl) => {
      rl.message(1, (res) =>
        res.message(1, (kv) => kv.string(1, "service.name").message(2, (v) => v.string(1, service))),
      );
      rl.message(2, (sl) => {
        sl.message(1, (scope) => scope.string(1, "lib").string(2, "1.0"));
        for (const r of records) sl.message(2, r);
      });
    })
    .finish();
}

const hex = (s: string) => Uint8Array.from(s.match(/../g)!.map((h) => Number.parseInt(h, 16)));

async function post(body: Uint8Array<ArrayBuffer>, headers: Record<string, string> = {}) {
  return call("/v1/logs", {
    method: "POST",
    key: KEYS.ingest,
    headers: { "content-type": "application/x-protobuf", ...headers },
    body,
  });
}

describe("POST /v1/logs (protobuf)", () => {
  it("stores protobuf records, gzip-compressed too, and answers an empty protobuf response", async () => {
    const service = uniqueService("otlp-pb");
    const body = request(service, [
      (r) =>
        r
          .fixed64(1, 1_790_000_000_001_000_000n)
          .varint(2, 13)
          .string(3, "WARN")
          .message(5, (b) => b.string(1, "pb warn"))
          .message(6, (kv) => kv.string(1, "http.route").message(2, (v) => v.string(1, "/pay")))
          .bytes(9, hex("4bf92f3577b34da6a3ce929d0e0e4736"))
          .bytes(10, hex("00f067aa0ba902b7"))
          .fixed32(8, 1),
    ]);
    const res = await post(body);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/x-protobuf");
    expect(new Uint8Array(await res.arrayBuffer())).toHaveLength(0);

    const gz = new Uint8Array(
      await new Response(
        new Blob([
          request(service, [(r) => r.fixed64(1, 1_790_000_000_002_000_000n).message(5, (b) => b.string(1, "pb gzip"))]),
        ])
          .stream()
          .pipeThrough(new CompressionStream("gzip")),
      ).arrayBuffer(),
    );
    expect((await post(gz, { "content-encoding": "gzip" })).status).toBe(200);

    const logs = (await getJson<{ logs: any[] }>(`/api/logs/search?service=${service}&order=asc`)).body.logs;
    expect(logs.map((l) => [l.level, l.message])).toEqual([
      ["warn", "pb warn"],
      ["info", "pb gzip"],
    ]);
    expect(logs[0]).toMatchObject({
      timestamp: 1_790_000_000_001,
      request_id: "4bf92f3577b34da6a3ce929d0e0e4736",
      metadata: {
        "http.route": "/pay",
        otel: { flags: 1, severity_number: 13, scope: { name: "lib", version: "1.0" } },
      },
    });
  });

  it("answers partial success as protobuf with the exact rejected count", async () => {
    const service = uniqueService("otlp-pb-partial");
    const res = await post(
      request(service, [
        (r) => r.fixed64(1, 1_790_000_000_001_000_000n).message(5, (b) => b.string(1, "kept")),
        (r) => r.fixed64(1, 1_790_000_000_002_000_000n), // no body, no event name: refused
      ]),
    );
    expect(res.status).toBe(200);
    const reader = new ProtoReader(new Uint8Array(await res.arrayBuffer()));
    expect(reader.tag().no).toBe(1);
    const partial = reader.message();
    expect(partial.tag().no).toBe(1);
    expect(partial.varint()).toBe(1n);
    expect(partial.tag().no).toBe(2);
    expect(partial.string()).toMatch(/^1 of 2 log records rejected: .*logRecords\.1: body: is empty/);
    const rejected = await getJson<{
      services: { service: string; counts: object; recent: { reason: string; path: string }[] }[];
    }>(`/api/admin/rejected?service=${service}`, KEYS.admin);
    expect(rejected.body.services).toEqual([
      expect.objectContaining({
        service,
        counts: { otlp_record: 1 },
        recent: [expect.objectContaining({ reason: "otlp_record", path: "resourceLogs.0.scopeLogs.0.logRecords.1" })],
      }),
    ]);
  });

  it("answers 400 for bytes that are not an ExportLogsServiceRequest, 413 past 1 MiB decoded", async () => {
    const bad = await post(new Uint8Array([0x0a, 0x05, 0x01]));
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { code: "invalid_request" } });
    const big = new ProtoWriter().string(99, "x".repeat(1024 * 1024 + 10)).finish();
    const gz = new Uint8Array(
      await new Response(new Blob([big]).stream().pipeThrough(new CompressionStream("gzip"))).arrayBuffer(),
    );
    const res = await post(gz, { "content-encoding": "gzip" });
    expect(res.status).toBe(413);
  });

  it("answers /v1/traces and /v1/metrics with a JSON error, not a 404 page", async () => {
    for (const signal of ["traces", "metrics"]) {
      const res = await call(`/v1/${signal}`, {
        method: "POST",
        key: KEYS.ingest,
        headers: { "content-type": "application/x-protobuf" },
        body: new Uint8Array(),
      });
      expect(res.status).toBe(404);
      expect(await res.json()).toMatchObject({
        error: { code: "not_found", message: expect.stringContaining("/v1/logs") },
      });
    }
  });
});
