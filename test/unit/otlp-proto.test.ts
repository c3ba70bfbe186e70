// The hand-written OTLP protobuf reader against what the real OpenTelemetry JS exporter sends:
// records made by the SDK are serialised with the exporter's own serialisers
// (@opentelemetry/otlp-transformer, used by exporter-logs-otlp-proto and -http), and the
// protobuf and JSON encodings of the same records must map to the same entries.
import { ROOT_CONTEXT, trace, TraceFlags } from "@opentelemetry/api";
import { SeverityNumber } from "@opentelemetry/api-logs";
import { JsonLogsSerializer, ProtobufLogsSerializer } from "@opentelemetry/otlp-transformer";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from "@opentelemetry/sdk-logs";
import { describe, expect, it } from "vitest";
import { mapOtlpLogs } from "../../src/core/otlp-mapping.js";
import { decodeOtlpLogsRequest, MAX_ANY_VALUE_DEPTH } from "../../src/core/otlp-proto.js";
import { ProtobufError, ProtoReader, ProtoWriter } from "../../src/core/protobuf.js";
import { OtlpLogsRequest } from "../../src/schema/otlp.js";

function sdkRecords() {
  const exporter = new InMemoryLogRecordExporter();
  const provider = new LoggerProvider({
    resource: resourceFromAttributes({ "service.name": "proto-unit", "service.namespace": "shop.example.com" }),
    processors: [new SimpleLogRecordProcessor({ exporter })],
  });
  const logger = provider.getLogger("lib", "1.0.0");
  const spanCtx = trace.setSpanContext(ROOT_CONTEXT, {
    traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
    spanId: "00f067aa0ba902b7",
    traceFlags: TraceFlags.SAMPLED,
  });
  logger.emit({
    timestamp: new Date(1_790_000_000_123),
    severityNumber: SeverityNumber.WARN2,
    severityText: "WARNING",
    body: "disk almost full",
    context: spanCtx,
    attributes: {
      "user.id": "u-1",
      count: 42,
      big: -9_007_199_254_740_990,
      ratio: 0.25,
      ok: true,
      tags: ["a", "b"],
      nested: { deep: { deeper: "x" } } as never,
    },
  });
  logger.emit({ timestamp: new Date(1_790_000_000_124), body: { structured: 1, list: [1, "two"] } as never });
  logger.emit({ severityNumber: SeverityNumber.FATAL, body: "no timestamp" });
  return exporter.getFinishedLogRecords();
}

function withoutIds(entries: { entry: Record<string, unknown> }[]) {
  return entries.map(({ entry }) => {
    const { id: _id, ...rest } = entry;
    return rest;
  });
}

describe("OTLP protobuf reader", () => {
  it("maps the exporter's protobuf exactly as its JSON encoding of the same records", () => {
    const records = sdkRecords();
    const proto = ProtobufLogsSerializer.serializeRequest(records)!;
    const json = JSON.parse(new TextDecoder().decode(JsonLogsSerializer.serializeRequest(records)!));
    const fromProto = mapOtlpLogs(OtlpLogsRequest.parse(decodeOtlpLogsRequest(proto)));
    const fromJson = mapOtlpLogs(OtlpLogsRequest.parse(json));
    expect(fromProto.rejected).toEqual([]);
    expect(fromProto.entries).toHaveLength(3);
    expect(withoutIds(fromProto.entries)).toEqual(withoutIds(fromJson.entries));
    expect(fromProto.entries[0].entry).toMatchObject({
      service: "proto-unit",
      domain: "shop.example.com",
      level: "warn",
      severity: "WARNING",
      message: "disk almost full",
      timestamp: 1_790_000_000_123,
      trace_id: "4bf92f3577b34da6a3ce929d0e0e4736",
      span_id: "00f067aa0ba902b7",
      user_id: "u-1",
      metadata: {
        count: 42,
        big: -9_007_199_254_740_990,
        ratio: 0.25,
        ok: true,
        tags: ["a", "b"],
        nested: { deep: { deeper: "x" } },
        otel: { flags: 1, severity_number: 14 },
      },
    });
    expect(fromProto.entries[1].entry.message).toBe('{"structured":1,"list":[1,"two"]}');
    expect(fromProto.entries[2].entry).toMatchObject({ level: "error", message: "no timestamp" });
  });

  it("skips unknown fields and reads negative int64 and every scalar kind", () => {
    const buf = new ProtoWriter()
      .message(1, (rl) =>
        rl
          .message(1, (res) =>
            res.message(1, (kv) => kv.string(1, "service.name").message(2, (v) => v.string(1, "svc"))),
          )
          .message(2, (sl) =>
            sl.message(2, (lr) =>
              lr
                .fixed64(1, 1_790_000_000_000_000_000n)
                .varint(2, 17)
                .message(5, (b) => b.string(1, "hello"))
                .message(6, (kv) => kv.string(1, "neg").message(2, (v) => v.varint(3, -5n)))
                .message(6, (kv) => kv.string(1, "flag").message(2, (v) => v.varint(2, 1)))
                .message(6, (kv) => kv.string(1, "d").message(2, (v) => v.double(4, 1.5)))
                .message(6, (kv) => kv.string(1, "raw").message(2, (v) => v.bytes(7, new Uint8Array([1, 2, 3]))))
                .fixed32(8, 1)
                .varint(99, 7) // unknown field
                .string(100, "unknown too"),
            ),
          ),
      )
      .finish();
    const decoded = decodeOtlpLogsRequest(buf);
    const m = mapOtlpLogs(OtlpLogsRequest.parse(decoded));
    expect(m.rejected).toEqual([]);
    expect(m.entries[0].entry).toMatchObject({
      service: "svc",
      level: "error",
      message: "hello",
      timestamp: 1_790_000_000_000,
      metadata: { neg: -5, flag: true, d: 1.5, raw: "AQID" },
    });
  });

  it("refuses truncated messages, bad wire types and nesting past the limit with ProtobufError", () => {
    const good = new ProtoWriter().message(1, (rl) => rl.string(3, "schema")).finish();
    expect(() => decodeOtlpLogsRequest(good.subarray(0, good.length - 2))).toThrow(ProtobufError);
    expect(() => decodeOtlpLogsRequest(new Uint8Array([0x0b]))).toThrow(ProtobufError); // start group
    expect(() =>
      decodeOtlpLogsRequest(new Uint8Array([0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01])),
    ).toThrow(ProtobufError);
    let value = (w: ProtoWriter) => void w.string(1, "leaf");
    for (let i = 0; i <= MAX_ANY_VALUE_DEPTH + 1; i++) {
      const inner = value;
      value = (w: ProtoWriter) => void w.message(5, (arr) => arr.message(1, inner));
    }
    const deep = new ProtoWriter()
      .message(1, (rl) => rl.message(2, (sl) => sl.message(2, (lr) => lr.message(5, value))))
      .finish();
    expect(() => decodeOtlpLogsRequest(deep)).toThrow(/deeper than/);
    expect(decodeOtlpLogsRequest(new Uint8Array())).toEqual({ resourceLogs: [] });
  });

  it("reads varints up to 64 bits", () => {
    const buf = new ProtoWriter().varint(1, 2n ** 64n - 1n).finish();
    const r = new ProtoReader(buf);
    r.tag();
    expect(r.varint()).toBe(2n ** 64n - 1n);
  });
});

describe("OTLP JSON beyond the OTLP JSON rules", () => {
  const record = (extra: object) => ({
    resourceLogs: [
      {
        resource: { attributes: [{ key: "service.name", value: { stringValue: "json-unit" } }] },
        scopeLogs: [{ logRecords: [{ timeUnixNano: "1790000000000000000", body: { stringValue: "m" }, ...extra }] }],
      },
    ],
  });

  it("takes enum names, uint32 as strings, base64 ids and a bare-array kvlistValue", () => {
    const m = mapOtlpLogs(
      OtlpLogsRequest.parse(
        record({
          severityNumber: "SEVERITY_NUMBER_WARN",
          flags: "01",
          droppedAttributesCount: "0",
          traceId: btoa(String.fromCharCode(...Array.from({ length: 16 }, (_, i) => i + 1))),
          spanId: btoa(String.fromCharCode(...Array.from({ length: 8 }, (_, i) => 0xa0 + i))),
          attributes: [
            { key: "page", value: { kvlistValue: [{ key: "url", value: { stringValue: "/x" } }] } },
            { key: "list", value: { arrayValue: [{ intValue: "1" }, { doubleValue: "2.5" }] } },
          ],
        }),
      ),
    );
    expect(m.rejected).toEqual([]);
    expect(m.entries[0].entry).toMatchObject({
      level: "warn",
      trace_id: "0102030405060708090a0b0c0d0e0f10",
      span_id: "a0a1a2a3a4a5a6a7",
      metadata: { page: { url: "/x" }, list: [1, 2.5], otel: { flags: 1 } },
    });
  });

  it("maps a body written as a bare kvlistValue array (as opentelemetry-proto's events example does)", () => {
    const m = mapOtlpLogs(
      OtlpLogsRequest.parse(
        record({
          severityNumber: 9,
          body: {
            kvlistValue: [
              { key: "type", value: { intValue: "0" } },
              { key: "title", value: { stringValue: "Free Online GUID Generator" } },
            ],
          },
          attributes: [{ key: "event.name", value: { stringValue: "browser.page_view" } }],
        }),
      ),
    );
    expect(m.rejected).toEqual([]);
    expect(m.entries[0].entry).toMatchObject({
      level: "info",
      message: '{"type":0,"title":"Free Online GUID Generator"}',
      metadata: { "event.name": "browser.page_view" },
    });
  });
});
