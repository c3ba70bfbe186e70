// A minimal protobuf wire-format reader (https://protobuf.dev/programming-guides/encoding/):
// enough to walk a message field by field, with no generated code and no eval (Workers forbid
// it). Used by src/core/otlp-proto.ts (OTLP logs) and src/core/loki.ts (Loki PushRequest).
// Every read is bounds-checked; a malformed message throws ProtobufError, never reads past the
// buffer and never loops forever.

export class ProtobufError extends Error {}

export const WIRE = { VARINT: 0, I64: 1, LEN: 2, SGROUP: 3, EGROUP: 4, I32: 5 } as const;

export interface Field {
  /** field number */
  no: number;
  wire: number;
}

export class ProtoReader {
  #pos: number;
  readonly #end: number;
  readonly #buf: Uint8Array;
  readonly #view: DataView;

  constructor(buf: Uint8Array, start = 0, end = buf.length) {
    this.#buf = buf;
    this.#pos = start;
    this.#end = end;
    this.#view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  get done(): boolean {
    return this.#pos >= this.#end;
  }

  /** The next field's number and wire type. */
  tag(): Field {
    const t = this.varint();
    const no = Number(t >> 3n);
    const wire = Number(t & 7n);
    if (no === 0) throw new ProtobufError("field number 0");
    return { no, wire };
  }

  /** An unsigned varint of up to 64 bits. */
  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.#pos >= this.#end) throw new ProtobufError("truncated varint");
      const b = this.#buf[this.#pos++];
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result & 0xffffffffffffffffn;
      shift += 7n;
    }
    throw new ProtobufError("varint longer than 10 bytes");
  }

  /** A varint that must fit a JS number (lengths, enums, small counts). */
  uint32(): number {
    const v = this.varint();
    if (v > 0xffffffffn) throw new ProtobufError("value does not fit 32 bits");
    return Number(v);
  }

  /** int64 as a decimal string (two's complement for negatives). */
  int64(): string {
    return BigInt.asIntN(64, this.varint()).toString();
  }

  bool(): boolean {
    return this.varint() !== 0n;
  }

  fixed64(): bigint {
    this.#need(8);
    const v = this.#view.getBigUint64(this.#pos, true);
    this.#pos += 8;
    return v;
  }

  double(): number {
    this.#need(8);
    const v = this.#view.getFloat64(this.#pos, true);
    this.#pos += 8;
    return v;
  }

  fixed32(): number {
    this.#need(4);
    const v = this.#view.getUint32(this.#pos, true);
    this.#pos += 4;
    return v;
  }

  /** A length-delimited field's bytes (a view, not a copy). */
  bytes(): Uint8Array {
    const len = this.uint32();
    this.#need(len);
    const out = this.#buf.subarray(this.#pos, this.#pos + len);
    this.#pos += len;
    return out;
  }

  string(): string {
    return new TextDecoder().decode(this.bytes());
  }

  /** A reader over an embedded message. */
  message(): ProtoReader {
    const b = this.bytes();
    return new ProtoReader(b);
  }

  /** Skips a field of the given wire type (unknown fields are ignored, as protobuf requires). */
  skip(wire: number): void {
    switch (wire) {
      case WIRE.VARINT:
        this.varint();
        return;
      case WIRE.I64:
        this.#need(8);
        this.#pos += 8;
        return;
      case WIRE.LEN:
        this.bytes();
        return;
      case WIRE.I32:
        this.#need(4);
        this.#pos += 4;
        return;
      default:
        throw new ProtobufError(`unsupported wire type ${wire}`);
    }
  }

  /** Checks the wire type a known field must have. */
  expect(field: Field, wire: number): void {
    if (field.wire !== wire) throw new ProtobufError(`field ${field.no} has wire type ${field.wire}, expected ${wire}`);
  }

  #need(n: number): void {
    if (n < 0 || this.#pos + n > this.#end) throw new ProtobufError("truncated message");
  }
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

export function toHex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += HEX[b];
  return s;
}

export function toBase64(bytes: Uint8Array): string {
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
}

// ---- writer: only what tests and fixtures need to build messages ------------------------------

/** Builds protobuf messages (tests, and the Loki/OTLP fixtures); the reader is what production uses. */
export class ProtoWriter {
  #parts: number[] = [];

  #varint(v: bigint): void {
    let x = BigInt.asUintN(64, v);
    while (x >= 0x80n) {
      this.#parts.push(Number((x & 0x7fn) | 0x80n));
      x >>= 7n;
    }
    this.#parts.push(Number(x));
  }

  #tag(no: number, wire: number): void {
    this.#varint(BigInt((no << 3) | wire));
  }

  varint(no: number, v: number | bigint): this {
    this.#tag(no, WIRE.VARINT);
    this.#varint(BigInt(v));
    return this;
  }

  fixed64(no: number, v: bigint): this {
    this.#tag(no, WIRE.I64);
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, v, true);
    this.#parts.push(...b);
    return this;
  }

  double(no: number, v: number): this {
    this.#tag(no, WIRE.I64);
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, v, true);
    this.#parts.push(...b);
    return this;
  }

  fixed32(no: number, v: number): this {
    this.#tag(no, WIRE.I32);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v, true);
    this.#parts.push(...b);
    return this;
  }

  bytes(no: number, b: Uint8Array): this {
    this.#tag(no, WIRE.LEN);
    this.#varint(BigInt(b.length));
    for (const x of b) this.#parts.push(x);
    return this;
  }

  string(no: number, s: string): this {
    return this.bytes(no, new TextEncoder().encode(s));
  }

  message(no: number, build: (w: ProtoWriter) => void): this {
    const w = new ProtoWriter();
    build(w);
    return this.bytes(no, w.finish());
  }

  finish(): Uint8Array<ArrayBuffer> {
    return Uint8Array.from(this.#parts);
  }
}
