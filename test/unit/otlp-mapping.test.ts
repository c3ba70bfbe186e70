// OTLP JSON → log entries: every mapped field, the tolerant encodings, the bounds, and the
// reasons for records that cannot be mapped. The payload shapes follow what
// @opentelemetry/exporter-logs-otlp-http sends (string timeUnixNano, number intValue, hex ids).
import { describe, expect, it } from "vitest";
import {
  anyValueToJson,
  countOtlpRecords,
  mapOtlpLogs,
  otlpRecordId,
  severityToLevel,
  toServiceName,
  unixNanoToMs,
} from "../../src/core/otlp-mapping.js";
import { validateEntries } from "../../src/schema/ingest.js";
import { jsonDepthExceeds, OtlpLogsRequest } from "../../src/schema/otlp.js";

const str = (stringValue: string) => ({ stringValue });
const kv = (key: string, value: object) => ({ key, value });

function request(
  records: unknown[],
  resourceAttrs: unknown[] = [kv("service.name", str("checkout"))],
  scope: object = { name: "my-lib", version: "1.2.3" },
) {
  return OtlpLogsRequest.parse({
    resourceLogs: [{ resource: { attributes: resourceAttrs }, scopeLogs: [{ scope, logRecords: records }] }],
  });
}

const T_NS = "1790000000123456789"; // 2026-09-21T…; ms = 1790000000123

describe("mapOtlpLogs", () => {
  it("maps every field of a record", () => {
    const m = mapOtlpLogs(
      request(
        [
          {
            timeUnixNano: T_NS,
            observedTimeUnixNano: "1790000000200000000",
            severityNumber: 17,
            severityText: "ERROR",
            body: str("payment failed"),
            traceId: "5B8EFFF798038103D269B633813FC60C",
            spanId: "EEE19B7EC3C1B174",
            flags: 1,
            attributes: [
              kv("url.full", str("https://shop.example.com/pay?x=1")),
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
                    kv("total", { doubleValue: 9.5 }),
                    kv("tags", { arrayValue: { values: [str("a"), { boolValue: true }] } }),
                  ],
                },
              }),
            ],
          },
        ],
        [
          kv("service.name", str("checkout")),
          kv("service.namespace", str("Shop.Example.com")),
          kv("host.name", str("web-1")),
        ],
      ),
    );
    expect(m.rejected).toEqual([]);
    expect(m.entries).toHaveLength(1);
    const { path, entry } = m.entries[0];
    expect(path).toBe("resourceLogs.0.scopeLogs.0.logRecords.0");
    expect(entry).toEqual({
      id: expect.stringMatching(/^otlp_[0-9a-z]{22}$/),
      level: "error",
      message: "payment failed",
      service: "checkout",
      domain: "shop.example.com",
      timestamp: 1790000000123,
      request_id: "5b8efff798038103d269b633813fc60c",
      trace_id: "5b8efff798038103d269b633813fc60c",
      span_id: "eee19b7ec3c1b174",
      severity: "ERROR",
      user_id: "u-7",
      session_id: "s-9",
      context: { url: "https://shop.example.com/pay?x=1", method: "POST", ip: "203.0.113.9" },
      stack_trace: "TimeoutError: upstream took 3000 ms\n    at pay (pay.js:1:1)",
      metadata: {
        "http.response.status_code": 502,
        "exception.type": "TimeoutError",
        "exception.message": "upstream took 3000 ms",
        cart: { items: 3, total: 9.5, tags: ["a", true] },
        otel: {
          flags: 1,
          severity_number: 17,
          severity_text: "ERROR",
          scope: { name: "my-lib", version: "1.2.3" },
          resource: { "service.namespace": "Shop.Example.com", "host.name": "web-1" },
        },
      },
    });
    // ...and the entry passes the same validator as POST /api/logs/batch
    const v = validateEntries([entry], Date.now(), () => "x");
    expect(v.rejected).toEqual([]);
    expect(v.valid[0].entry.level).toBe("error");
  });

  it("maps severityNumber ranges, then severityText, then defaults to info (error with an exception)", () => {
    expect([1, 4, 5, 8, 9, 12, 13, 16, 17, 20, 21, 24].map((n) => severityToLevel(n, undefined))).toEqual([
      "debug",
      "debug",
      "debug",
      "debug",
      "info",
      "info",
      "warn",
      "warn",
      "error",
      "error",
      "error",
      "error",
    ]);
    expect(severityToLevel(0, "WARNING")).toBe("warn");
    expect(severityToLevel(undefined, "FATAL")).toBe("error");
    expect(severityToLevel(undefined, "WARN2")).toBe("warn");
    expect(severityToLevel(undefined, "TRACE")).toBe("debug");
    expect(severityToLevel(9, "ERROR")).toBe("info"); // the number is canonical
    expect(severityToLevel(undefined, "loud")).toBe("info"); // never refused for its name
    expect(severityToLevel(undefined, undefined)).toBeUndefined();

    const m = mapOtlpLogs(
      request([
        { body: str("no severity") },
        { body: str("odd text"), severityText: "loud" },
        { attributes: [kv("exception.type", str("TypeError")), kv("exception.message", str("x is undefined"))] },
      ]),
    );
    expect(m.entries.map((e) => e.entry.level)).toEqual(["info", "info", "error"]);
    // no body: the exception becomes the message, and the stack trace
    expect(m.entries[2].entry).toMatchObject({
      message: "TypeError: x is undefined",
      stack_trace: "TypeError: x is undefined",
    });
  });

  it("accepts timeUnixNano and intValue as strings or numbers, and falls back to observedTimeUnixNano", () => {
    expect(unixNanoToMs("1790000000123456789")).toBe(1790000000123);
    // biome-ignore lint/correctness/noPrecisionLoss: producers send nanoseconds as imprecise JSON numbers; that is the case tested
    expect(unixNanoToMs(1790000000123456789)).toBe(1790000000123);
    expect(unixNanoToMs("0")).toBeUndefined();
    expect(unixNanoToMs(0)).toBeUndefined();
    const m = mapOtlpLogs(
      request([
        {
          // biome-ignore lint/correctness/noPrecisionLoss: producers send nanoseconds as imprecise JSON numbers; that is the case tested
          timeUnixNano: 1790000000123456789,
          body: str("number time"),
          attributes: [kv("n", { intValue: 5 }), kv("s", { intValue: "6" })],
        },
        { timeUnixNano: "0", observedTimeUnixNano: "1790000000999000000", body: str("observed") },
        { body: str("no time at all") },
      ]),
    );
    expect(m.entries.map((e) => e.entry.timestamp)).toEqual([1790000000123, 1790000000999, undefined]);
    expect(m.entries[0].entry.metadata).toMatchObject({ n: 5, s: 6 });
    // without any timestamp the logger assigns the id (identical untimed records are distinct events)
    expect(m.entries[2].entry.id).toBeUndefined();
  });

  it("keeps int64 beyond 2^53 as digits, non-finite doubles and bytes as text", () => {
    expect(anyValueToJson({ intValue: "9223372036854775807" })).toBe("9223372036854775807");
    expect(anyValueToJson({ doubleValue: "NaN" })).toBe("NaN");
    expect(anyValueToJson({ bytesValue: "AQID" })).toBe("AQID");
    expect(anyValueToJson({})).toBeNull();
    expect(anyValueToJson({ kvlistValue: {} })).toEqual({});
  });

  it("renders a structured body as JSON text", () => {
    const m = mapOtlpLogs(
      request([{ body: { kvlistValue: { values: [kv("event", str("login")), kv("ok", { boolValue: true })] } } }]),
    );
    expect(m.entries[0].entry.message).toBe('{"event":"login","ok":true}');
  });

  it("gives a retried record the same id, and different records different ids", () => {
    const rec = { timeUnixNano: T_NS, body: str("same"), attributes: [kv("a", str("1"))] };
    const a = mapOtlpLogs(request([rec, { ...rec, body: str("other") }]));
    const b = mapOtlpLogs(request([rec]));
    expect(a.entries[0].entry.id).toBe(b.entries[0].entry.id);
    expect(a.entries[1].entry.id).not.toBe(a.entries[0].entry.id);
    // the same record from another service is another entry
    const c = mapOtlpLogs(request([rec], [kv("service.name", str("billing"))]));
    expect(c.entries[0].entry.id).not.toBe(a.entries[0].entry.id);
    expect(otlpRecordId("s", "d", { body: str("x") })).toMatch(/^otlp_[0-9a-z]{22}$/);
  });

  it("names services the logger accepts and falls back to unknown_service", () => {
    expect(toServiceName("unknown_service:node")).toBe("unknown_service_node");
    expect(toServiceName("my service/v2")).toBe("my_service_v2");
    expect(toServiceName("x".repeat(200))).toHaveLength(128);
    expect(toServiceName(undefined)).toBe("unknown_service");
    expect(mapOtlpLogs(request([{ body: str("x") }], [])).entries[0].entry.service).toBe("unknown_service");
  });

  it("ignores a service.namespace that is not hostname-like (it stays in metadata.otel.resource)", () => {
    const m = mapOtlpLogs(
      request([{ body: str("x") }], [kv("service.name", str("a")), kv("service.namespace", str("not a host"))]),
    );
    expect(m.entries[0].entry.domain).toBeUndefined();
    expect((m.entries[0].entry.metadata as { otel: { resource: object } }).otel.resource).toEqual({
      "service.namespace": "not a host",
    });
  });

  it("rejects, with a reason and the record's path, what cannot be mapped, and maps the rest", () => {
    let deep: object = str("leaf");
    for (let i = 0; i < 9; i++) deep = { kvlistValue: { values: [kv("d", deep)] } };
    const m = mapOtlpLogs(
      request([
        { body: str("ok") },
        { severityNumber: 9 },
        { body: str("ms, not ns"), timeUnixNano: "1790000000123" },
        { body: str("bad trace"), traceId: "xyz" },
        { body: str("too deep"), attributes: [kv("deep", deep)] },
        { body: { intValue: 1.5 } },
      ]),
    );
    expect(m.entries.map((e) => e.path)).toEqual(["resourceLogs.0.scopeLogs.0.logRecords.0"]);
    expect(m.rejected).toEqual([
      { path: "resourceLogs.0.scopeLogs.0.logRecords.1", reason: expect.stringContaining("body: is empty") },
      {
        path: "resourceLogs.0.scopeLogs.0.logRecords.2",
        reason: expect.stringContaining("is not nanoseconds since the epoch"),
      },
      {
        path: "resourceLogs.0.scopeLogs.0.logRecords.3",
        reason: "traceId: must be 32 hex characters (or 16 bytes in base64)",
      },
      { path: "resourceLogs.0.scopeLogs.0.logRecords.4", reason: "attributes: nested deeper than 8 levels" },
      { path: "resourceLogs.0.scopeLogs.0.logRecords.5", reason: expect.stringMatching(/^body\.intValue/) },
    ]);
  });

  it("accepts attributes nested exactly to the metadata depth limit", () => {
    let deep: object = str("leaf");
    for (let i = 0; i < 7; i++) deep = { kvlistValue: { values: [kv("d", deep)] } };
    const m = mapOtlpLogs(request([{ body: str("7 levels below the top"), attributes: [kv("deep", deep)] }]));
    expect(m.rejected).toEqual([]);
    expect(validateEntries([m.entries[0].entry], 1, () => "x").rejected).toEqual([]);
  });

  it("keeps __proto__ attributes as own keys so the entry validator refuses them", () => {
    const m = mapOtlpLogs(
      request([
        {
          body: str("x"),
          attributes: [kv("__proto__", { kvlistValue: { values: [kv("polluted", { boolValue: true })] } })],
        },
      ]),
    );
    const entry = m.entries[0].entry;
    expect(Object.keys(entry.metadata as object)).toContain("__proto__");
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const v = validateEntries([entry], 1, () => "x", "record");
    expect(v.rejected[0].error.details?.[0].path).toBe("record.0.metadata.__proto__");
  });

  it("treats empty and all-zero trace ids as absent", () => {
    const m = mapOtlpLogs(
      request([
        { body: str("a"), traceId: "", spanId: "" },
        { body: str("b"), traceId: "0".repeat(32), spanId: "0".repeat(16) },
      ]),
    );
    expect(m.entries.map((e) => e.entry.request_id)).toEqual([undefined, undefined]);
  });

  it("counts records across resources and scopes, and tolerates absent arrays", () => {
    const req = OtlpLogsRequest.parse({
      resourceLogs: [{ scopeLogs: [{ logRecords: [{}, {}] }, {}] }, {}, { scopeLogs: [{ logRecords: [{}] }] }],
    });
    expect(countOtlpRecords(req)).toBe(3);
    expect(countOtlpRecords(OtlpLogsRequest.parse({}))).toBe(0);
    expect(mapOtlpLogs(OtlpLogsRequest.parse({}))).toEqual({ entries: [], rejected: [] });
  });

  it("bounds the request's JSON depth without recursion", () => {
    let deep: unknown = 1;
    for (let i = 0; i < 10_000; i++) deep = [deep];
    expect(jsonDepthExceeds(deep, 128)).toBe(true);
    expect(jsonDepthExceeds({ a: [{ b: 1 }] }, 3)).toBe(false);
    expect(jsonDepthExceeds({ a: [{ b: {} }] }, 3)).toBe(true);
  });
});
