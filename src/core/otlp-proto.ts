// OTLP/HTTP protobuf (`application/x-protobuf`, the SDKs' default) → the OTLP JSON shape that
// src/schema/otlp.ts validates and src/core/otlp-mapping.ts maps, so both encodings share one
// mapping. Hand-written over src/core/protobuf.ts for the messages of
// opentelemetry/proto/collector/logs/v1/logs_service.proto (and the logs, common and resource
// protos it uses); unknown fields are skipped. 64-bit integers become decimal strings and ids
// hex, as in OTLP JSON; bytes values become base64.
import { ProtobufError, ProtoReader, toBase64, toHex, WIRE } from "./protobuf.js";
import type { OtlpAnyValue, OtlpKeyValue } from "../schema/otlp.js";

/** AnyValue nesting deeper than this is refused (metadata keeps 8 levels anyway). */
export const MAX_ANY_VALUE_DEPTH = 32;

type Json = Record<string, unknown>;

/** Decodes ExportLogsServiceRequest; throws ProtobufError when the bytes are not one. */
export function decodeOtlpLogsRequest(buf: Uint8Array): Json {
  const r = new ProtoReader(buf);
  const resourceLogs: Json[] = [];
  while (!r.done) {
    const f = r.tag();
    if (f.no === 1) {
      r.expect(f, WIRE.LEN);
      resourceLogs.push(resourceLogsOf(r.message()));
    } else r.skip(f.wire);
  }
  return { resourceLogs };
}

function resourceLogsOf(r: ProtoReader): Json {
  const out: Json = {};
  const scopeLogs: Json[] = [];
  while (!r.done) {
    const f = r.tag();
    if (f.no === 1 && f.wire === WIRE.LEN) out.resource = resourceOf(r.message());
    else if (f.no === 2 && f.wire === WIRE.LEN) scopeLogs.push(scopeLogsOf(r.message()));
    else if (f.no === 3 && f.wire === WIRE.LEN) out.schemaUrl = r.string();
    else r.skip(f.wire);
  }
  out.scopeLogs = scopeLogs;
  return out;
}

function resourceOf(r: ProtoReader): Json {
  const attributes: OtlpKeyValue[] = [];
  const out: Json = { attributes };
  while (!r.done) {
    const f = r.tag();
    if (f.no === 1 && f.wire === WIRE.LEN) attributes.push(keyValueOf(r.message(), 0));
    else if (f.no === 2 && f.wire === WIRE.VARINT) out.droppedAttributesCount = r.uint32();
    else r.skip(f.wire);
  }
  return out;
}

function scopeLogsOf(r: ProtoReader): Json {
  const out: Json = {};
  const logRecords: Json[] = [];
  while (!r.done) {
    const f = r.tag();
    if (f.no === 1 && f.wire === WIRE.LEN) out.scope = scopeOf(r.message());
    else if (f.no === 2 && f.wire === WIRE.LEN) logRecords.push(logRecordOf(r.message()));
    else if (f.no === 3 && f.wire === WIRE.LEN) out.schemaUrl = r.string();
    else r.skip(f.wire);
  }
  out.logRecords = logRecords;
  return out;
}

function scopeOf(r: ProtoReader): Json {
  const out: Json = {};
  const attributes: OtlpKeyValue[] = [];
  while (!r.done) {
    const f = r.tag();
    if (f.no === 1 && f.wire === WIRE.LEN) out.name = r.string();
    else if (f.no === 2 && f.wire === WIRE.LEN) out.version = r.string();
    else if (f.no === 3 && f.wire === WIRE.LEN) attributes.push(keyValueOf(r.message(), 0));
    else r.skip(f.wire);
  }
  if (attributes.length > 0) out.attributes = attributes;
  return out;
}

function logRecordOf(r: ProtoReader): Json {
  const out: Json = {};
  const attributes: OtlpKeyValue[] = [];
  while (!r.done) {
    const f = r.tag();
    switch (f.no) {
      case 1:
        r.expect(f, WIRE.I64);
        out.timeUnixNano = r.fixed64().toString();
        break;
      case 11:
        r.expect(f, WIRE.I64);
        out.observedTimeUnixNano = r.fixed64().toString();
        break;
      case 2:
        r.expect(f, WIRE.VARINT);
        out.severityNumber = r.uint32();
        break;
      case 3:
        r.expect(f, WIRE.LEN);
        out.severityText = r.string();
        break;
      case 5:
        r.expect(f, WIRE.LEN);
        out.body = anyValueOf(r.message(), 0);
        break;
      case 6:
        r.expect(f, WIRE.LEN);
        attributes.push(keyValueOf(r.message(), 0));
        break;
      case 7:
        r.expect(f, WIRE.VARINT);
        out.droppedAttributesCount = r.uint32();
        break;
      case 8:
        r.expect(f, WIRE.I32);
        out.flags = r.fixed32();
        break;
      case 9:
        r.expect(f, WIRE.LEN);
        out.traceId = toHex(r.bytes());
        break;
      case 10:
        r.expect(f, WIRE.LEN);
        out.spanId = toHex(r.bytes());
        break;
      case 12:
        r.expect(f, WIRE.LEN);
        out.eventName = r.string();
        break;
      default:
        r.skip(f.wire);
    }
  }
  if (attributes.length > 0) out.attributes = attributes;
  return out;
}

function keyValueOf(r: ProtoReader, depth: number): OtlpKeyValue {
  let key = "";
  let value: OtlpAnyValue | undefined;
  while (!r.done) {
    const f = r.tag();
    if (f.no === 1 && f.wire === WIRE.LEN) key = r.string();
    else if (f.no === 2 && f.wire === WIRE.LEN) value = anyValueOf(r.message(), depth);
    else r.skip(f.wire);
  }
  return value === undefined ? { key } : { key, value };
}

function anyValueOf(r: ProtoReader, depth: number): OtlpAnyValue {
  if (depth > MAX_ANY_VALUE_DEPTH) throw new ProtobufError(`AnyValue nested deeper than ${MAX_ANY_VALUE_DEPTH}`);
  let out: OtlpAnyValue = {};
  while (!r.done) {
    const f = r.tag();
    switch (f.no) {
      case 1:
        r.expect(f, WIRE.LEN);
        out = { stringValue: r.string() };
        break;
      case 2:
        r.expect(f, WIRE.VARINT);
        out = { boolValue: r.bool() };
        break;
      case 3:
        r.expect(f, WIRE.VARINT);
        out = { intValue: r.int64() };
        break;
      case 4: {
        r.expect(f, WIRE.I64);
        const d = r.double();
        out = { doubleValue: Number.isFinite(d) ? d : String(d) };
        break;
      }
      case 5: {
        r.expect(f, WIRE.LEN);
        const a = r.message();
        const values: OtlpAnyValue[] = [];
        while (!a.done) {
          const g = a.tag();
          if (g.no === 1 && g.wire === WIRE.LEN) values.push(anyValueOf(a.message(), depth + 1));
          else a.skip(g.wire);
        }
        out = { arrayValue: { values } };
        break;
      }
      case 6: {
        r.expect(f, WIRE.LEN);
        const k = r.message();
        const values: OtlpKeyValue[] = [];
        while (!k.done) {
          const g = k.tag();
          if (g.no === 1 && g.wire === WIRE.LEN) values.push(keyValueOf(k.message(), depth + 1));
          else k.skip(g.wire);
        }
        out = { kvlistValue: { values } };
        break;
      }
      case 7:
        r.expect(f, WIRE.LEN);
        out = { bytesValue: toBase64(r.bytes()) };
        break;
      default:
        r.skip(f.wire);
    }
  }
  return out;
}
