/**
 * A protobuf wire-format reader, just what Kubernetes' messages need: varints (int32, int64, bool, enum
 * as int), length-delimited fields (strings, bytes, sub-messages, packed repeated numbers) and skipping
 * of 32- and 64-bit fixed fields and groups we do not know. No zigzag (Kubernetes uses no sint types).
 *
 * Cost model: one pass, no copies. A `WireReader` is a cursor over a window [pos, end) of one shared
 * buffer; a sub-message gets a new reader over a sub-window, so offsets in errors are always relative to
 * the start of the whole buffer.
 */
import { ProtobufError } from './errors.js';

export const WireType = {
  Varint: 0,
  Fixed64: 1,
  LengthDelimited: 2,
  StartGroup: 3,
  EndGroup: 4,
  Fixed32: 5,
} as const;

export interface Tag {
  readonly field: number;
  readonly wireType: number;
  /** Offset of the tag itself, for error messages. */
  readonly offset: number;
}

/** A non-negative integer (up to 2^53) as a protobuf varint: what the few encoders in production need. */
export function varintBytes(n: number): number[] {
  const out: number[] = [];
  let v = n;
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

export class WireReader {
  private pos: number;

  constructor(
    readonly buf: Uint8Array,
    start = 0,
    readonly end = buf.length,
    /** JSON path of the message being read, for error messages. */
    readonly path = '',
  ) {
    if (start < 0 || end > buf.length || start > end) throw new RangeError(`bad window [${start}, ${end}) over ${buf.length} bytes`);
    this.pos = start;
  }

  get offset(): number {
    return this.pos;
  }

  done(): boolean {
    return this.pos >= this.end;
  }

  fail(code: ConstructorParameters<typeof ProtobufError>[0], detail: string, path = this.path, offset = this.pos): never {
    throw new ProtobufError(code, offset, path, detail);
  }

  /** Reads a field tag (field number and wire type). */
  tag(): Tag {
    const offset = this.pos;
    const v = this.varint(this.path);
    const field = Number(v >> 3n);
    const wireType = Number(v & 7n);
    if (field === 0 || field > 0x1fffffff) this.fail('ERR_PROTOBUF_MALFORMED', `invalid field number ${field}`, this.path, offset);
    return { field, wireType, offset };
  }

  /** A raw varint as an unsigned 64-bit value (more than 10 bytes is malformed). */
  varint(path = this.path): bigint {
    const start = this.pos;
    // fast path: up to 4 bytes (28 bits) in plain numbers, which covers tags, lengths and small ints
    let small = 0;
    for (let i = 0; i < 4; i++) {
      if (this.pos >= this.end) this.fail('ERR_PROTOBUF_TRUNCATED', 'truncated varint', path, start);
      const b = this.buf[this.pos++] as number;
      small |= (b & 0x7f) << (7 * i);
      if (b < 0x80) return BigInt(small >>> 0);
    }
    let result = BigInt(small >>> 0);
    for (let shift = 28n; shift < 70n; shift += 7n) {
      if (this.pos >= this.end) this.fail('ERR_PROTOBUF_TRUNCATED', 'truncated varint', path, start);
      const b = this.buf[this.pos++] as number;
      result |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return BigInt.asUintN(64, result);
    }
    return this.fail('ERR_PROTOBUF_MALFORMED', 'varint longer than 10 bytes', path, start);
  }

  /** int32: negative values arrive sign-extended to 64 bits. */
  int32(path = this.path): number {
    return Number(BigInt.asIntN(32, this.varint(path)));
  }

  /** int64 as a JS number: exact up to 2^53, which covers every count, size and timestamp Kubernetes sends. */
  int64(path = this.path): number {
    const v = BigInt.asIntN(64, this.varint(path));
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
      this.fail('ERR_PROTOBUF_BAD_VALUE', `int64 ${v} does not fit a JSON number exactly`, path);
    }
    return Number(v);
  }

  bool(path = this.path): boolean {
    return this.varint(path) !== 0n;
  }

  /** The window of a length-delimited field: [start, end) in the shared buffer. */
  lengthDelimited(path = this.path): { readonly start: number; readonly end: number } {
    const at = this.pos;
    const len = this.varint(path);
    if (len > BigInt(this.end - this.pos)) {
      this.fail('ERR_PROTOBUF_TRUNCATED', `length ${len} runs past the end of the message (${this.end - this.pos} bytes left)`, path, at);
    }
    const start = this.pos;
    this.pos += Number(len);
    return { start, end: this.pos };
  }

  bytes(path = this.path): Uint8Array {
    const { start, end } = this.lengthDelimited(path);
    return this.buf.subarray(start, end);
  }

  string(path = this.path): string {
    const at = this.pos;
    const b = this.bytes(path);
    try {
      return utf8.decode(b);
    } catch {
      return this.fail('ERR_PROTOBUF_BAD_VALUE', 'string is not valid UTF-8', path, at);
    }
  }

  /** A reader over the next length-delimited field (a sub-message). */
  sub(path: string): WireReader {
    const { start, end } = this.lengthDelimited(path);
    return new WireReader(this.buf, start, end, path);
  }

  /** Skips a field we do not know, by its wire type (forward compatibility). */
  skip(tag: Tag): void {
    switch (tag.wireType) {
      case WireType.Varint:
        this.varint();
        return;
      case WireType.Fixed64:
        this.advance(8, tag);
        return;
      case WireType.LengthDelimited:
        this.lengthDelimited();
        return;
      case WireType.Fixed32:
        this.advance(4, tag);
        return;
      case WireType.StartGroup:
        this.skipGroup(tag);
        return;
      default:
        this.fail('ERR_PROTOBUF_MALFORMED', `field ${tag.field} has invalid wire type ${tag.wireType}`, this.path, tag.offset);
    }
  }

  private advance(n: number, tag: Tag): void {
    if (this.end - this.pos < n) this.fail('ERR_PROTOBUF_TRUNCATED', `field ${tag.field} needs ${n} bytes, ${this.end - this.pos} left`);
    this.pos += n;
  }

  private skipGroup(start: Tag): void {
    for (;;) {
      if (this.done()) this.fail('ERR_PROTOBUF_TRUNCATED', `group ${start.field} is not closed`, this.path, start.offset);
      const t = this.tag();
      if (t.wireType === WireType.EndGroup) {
        if (t.field !== start.field) this.fail('ERR_PROTOBUF_MALFORMED', `group ${start.field} closed by ${t.field}`, this.path, t.offset);
        return;
      }
      this.skip(t);
    }
  }
}
