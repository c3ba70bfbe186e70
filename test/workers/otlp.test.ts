// POST /v1/logs through the Worker: OTLP/HTTP JSON as the OpenTelemetry exporters send it
// (string timeUnixNano, number intValue, hex ids), every mapped field found again through
// /api/logs/search, partial success with the exact rejected count, idempotent retries, and the
// request-level errors (401/403/400/413/415).
import { describe, expect, it } from "vitest";
import { call, getJson, KEYS, uniqueService } from "./helpers.js";

const str = (stringValue: string) => ({ stringValue });
const kv = (key: string, value: object) => ({ key, value });

function otlp(service: string, records: object[], extraResource: object[] = []) {
  return {
    resourceLogs: [
      {
        resource: {
          attributes: [kv("service.name", str(service)), kv("telemetry.sdk.language", str("nodejs")), ...extraResource],
          droppedAttributesCount: 0,
        },
        scopeLogs: [{ scope: { name: "checkout-lib", version: "2.0.0" }, logRecords: records }],
      },
    ],
  };
}

async function post(body: unknown, init: { key?: string; headers?: Record<string, string> } = {}) {
  const res = await call("/v1/logs", {
    method: "POST",
    key: init.key ?? KEYS.ingest,
    json: body,
    headers: init.headers,
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as any };
}

const search = async (service: string) =>
  (await getJson<{ logs: any[] }>(`/api/logs/search?service=${service}&order=asc`)).body.logs;

describe("POST /v1/logs", () => {
  it("stores a record with every field mapped", async () => {
    const service = uniqueService("otlp");
    const res = await post(
      otlp(
        service,
        [
          {
            timeUnixNano: "1790000000123456789",
            observedTimeUnixNano: "1790000000200000000",
            severityNumber: 17,
            severityText: "ERROR",
            body: str("payment failed"),
            traceId: "5b8efff798038103d269b633813fc60c",
            spanId: "eee19b7ec3c1b174",
            flags: 1,
            attributes: [
              kv("url.full", str("https://shop.example.com/pay")),
              kv("http.request.method", str("POST")),
              kv("client.address", str("203.0.113.9")),
              kv("http.response.status_code", { intValue: 502 }),
              kv("user.id", str("u-7")),
              kv("session.id", str("s-9")),
              kv("exception.type", str("TimeoutError")),
              kv("exception.message", str("upstream took 3000 ms")),
              kv("exception.stacktrace", str("TimeoutError: upstream took 3000 ms\n    at pay (pay.js:1:1)")),
              kv("cart", {
                kvlistValue: {
                  values: [
                    kv("items", { intValue: "3" }),
                    kv("tags", { arrayValue: { values: [str("a"), { boolValue: true }] } }),
                  ],
                },
              }),
            ],
          },
        ],
        [kv("service.namespace", str("shop.example.com"))],
      ),
    );
    expect(res.status).toBe(200);
    expect(res.body).toEqual({});

    const logs = (await getJson<{ logs: any[] }>(`/api/logs/search?service=${service}&domain=shop.example.com`)).body
      .logs;
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatchObject({
      id: expect.stringMatching(/^otlp_/),
      level: "error",
      message: "payment failed",
      service,
      domain: "shop.example.com",
      timestamp: 1790000000123,
      request_id: "5b8efff798038103d269b633813fc60c",
      user_id: "u-7",
      session_id: "s-9",
      context: { url: "https://shop.example.com/pay", method: "POST", ip: "203.0.113.9" },
      stack_trace: "TimeoutError: upstream took 3000 ms\n    at pay (pay.js:1:1)",
      metadata: {
        "http.response.status_code": 502,
        "exception.type": "TimeoutError",
        "exception.message": "upstream took 3000 ms",
        cart: { items: 3, tags: ["a", true] },
        otel: {
          flags: 1,
          severity_number: 17,
          severity_text: "ERROR",
          scope: { name: "checkout-lib", version: "2.0.0" },
          resource: { "telemetry.sdk.language": "nodejs", "service.namespace": "shop.example.com" },
        },
      },
    });
    // the trace id finds it, like any request_id
    const byTrace = await getJson<{ logs: any[] }>(
      `/api/logs/search?request_id=5b8efff798038103d269b633813fc60c&service=${service}`,
    );
    expect(byTrace.body.logs).toHaveLength(1);
  });

  it("answers partialSuccess with the exact rejected count and the reasons, storing the rest", async () => {
    const service = uniqueService("otlp-partial");
    const res = await post(
      otlp(service, [
        { timeUnixNano: "1790000000000000001", severityText: "INFO", body: str("kept 0") },
        { timeUnixNano: "1790000000000000002", severityNumber: 9 }, // no body
        { timeUnixNano: "1790000000000000003", body: str("kept 2"), severityNumber: 13 },
        {
          timeUnixNano: "1790000000000000004",
          body: str("huge attrs"),
          attributes: [kv("blob", str("x".repeat(17_000)))],
        },
        { timeUnixNano: "1790000000000000005", body: str("bad trace"), traceId: "not-hex" },
      ]),
    );
    expect(res.status).toBe(200);
    expect(res.body.partialSuccess.rejectedLogRecords).toBe("2");
    const msg: string = res.body.partialSuccess.errorMessage;
    expect(msg).toMatch(/^2 of 5 log records rejected: /);
    expect(msg).toContain("resourceLogs.0.scopeLogs.0.logRecords.1: body: is empty");
    expect(msg).toContain(
      "resourceLogs.0.scopeLogs.0.logRecords.4: traceId: must be 32 hex characters (or 16 bytes in base64)",
    );
    // a 17 KB attribute is cut and flagged, not refused
    const stored = await search(service);
    expect(stored.map((l) => [l.level, l.message, l.truncated ?? false])).toEqual([
      ["info", "kept 0", false],
      ["warn", "kept 2", false],
      ["info", "huge attrs", true],
    ]);
  });

  it("rejects every record with partialSuccess (not an error) when none can be mapped", async () => {
    const res = await post(
      otlp(uniqueService("otlp-none"), [{ severityNumber: 9 }, { body: str("ms"), timeUnixNano: 1790000000000 }]),
    );
    expect(res.status).toBe(200);
    expect(res.body.partialSuccess.rejectedLogRecords).toBe("2");
  });

  it("is idempotent when an exporter retries the same request", async () => {
    const service = uniqueService("otlp-retry");
    const body = otlp(service, [
      { timeUnixNano: "1790000000000000001", body: str("once") },
      { timeUnixNano: "1790000000000000002", body: str("twice") },
    ]);
    expect((await post(body)).status).toBe(200);
    expect((await post(body)).body).toEqual({});
    expect((await search(service)).map((l) => l.message)).toEqual(["once", "twice"]);
  });

  it("accepts an empty request and a gzip-compressed body", async () => {
    expect((await post({})).body).toEqual({});
    const service = uniqueService("otlp-gzip");
    const json = new TextEncoder().encode(JSON.stringify(otlp(service, [{ body: str("compressed") }])));
    const gz = await new Response(new Blob([json]).stream().pipeThrough(new CompressionStream("gzip"))).arrayBuffer();
    const res = await call("/v1/logs", {
      method: "POST",
      key: KEYS.ingest,
      headers: { "content-type": "application/json", "content-encoding": "gzip" },
      body: gz,
    });
    expect(res.status).toBe(200);
    expect((await search(service)).map((l) => l.message)).toEqual(["compressed"]);
    const broken = await call("/v1/logs", {
      method: "POST",
      key: KEYS.ingest,
      headers: { "content-type": "application/json", "content-encoding": "gzip" },
      body: "not gzip",
    });
    expect(broken.status).toBe(400);
    expect(((await broken.json()) as any).error.code).toBe("invalid_request");
  });

  it("answers 415 for another type or a missing Content-Type", async () => {
    for (const headers of [{ "content-type": "text/plain" }, {}] as Record<string, string>[]) {
      const res = await call("/v1/logs", { method: "POST", key: KEYS.ingest, headers, body: new Uint8Array([10, 0]) });
      expect(res.status).toBe(415);
      expect(((await res.json()) as any).error.code).toBe("unsupported_media_type");
    }
  });

  it("answers 400 for malformed JSON and for a request of the wrong shape", async () => {
    const bad = await call("/v1/logs", {
      method: "POST",
      key: KEYS.ingest,
      headers: { "content-type": "application/json" },
      body: "{",
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as any).error.code).toBe("invalid_json");
    const shape = await post({ resourceLogs: { not: "an array" } });
    expect(shape.status).toBe(400);
    expect(shape.body.error).toMatchObject({ code: "invalid_request", details: [{ path: "resourceLogs" }] });
    let deep: unknown = {};
    for (let i = 0; i < 200; i++) deep = { kvlistValue: { values: [{ key: "d", value: deep }] } };
    const tooDeep = await post({ resourceLogs: [{ scopeLogs: [{ logRecords: [{ body: deep }] }] }] });
    expect(tooDeep.status).toBe(400);
    expect(tooDeep.body.error.message).toContain("nested deeper than 128");
  });

  it("answers 413 above 1000 records", async () => {
    const records = Array.from({ length: 1001 }, () => ({ body: str("x") }));
    const res = await post(otlp(uniqueService("otlp-big"), records));
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe("payload_too_large");
  });

  it("needs an ingest key that may write the service", async () => {
    expect((await post({}, { key: "" })).status).toBe(401);
    expect((await post({}, { key: KEYS.read })).status).toBe(403);
    const denied = await post(otlp("not-api", [{ body: str("x") }]), { key: KEYS.ingestApiOnly });
    expect(denied.status).toBe(403);
    expect(denied.body.error.code).toBe("forbidden");
    const allowed = await post(otlp("api", [{ body: str("x") }]), { key: KEYS.ingestApiOnly });
    expect(allowed.status).toBe(200);
  });
});
