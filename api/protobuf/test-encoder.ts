/**
 * Test-only protobuf writer. Two layers:
 *  - `pb`: hand-built messages by field number (`pb.msg(pb.str(1, 'x'), pb.int(3, 0))`), so tests state
 *    upstream's field numbers themselves and catch a wrong number in the tables;
 *  - `encodeByTable`: JSON -> protobuf through our own tables, for round-trip tests of the decoder's
 *    rules over whole objects (it cannot catch a wrong number, the hand-built tests do).
 * Written the way Go's marshaller writes: fields in table order, non-pointer zero values included.
 * Not used by production code.
 */
import type { FieldSpec, MessageTable, ValueType } from './types.js';
import { PROTOBUF_MAGIC } from './object.js';

type Part = Uint8Array;

function varint(v: bigint): Uint8Array {
  let u = BigInt.asUintN(64, v);
  const out: number[] = [];
  do {
    let b = Number(u & 0x7fn);
    u >>= 7n;
    if (u !== 0n) b |= 0x80;
    out.push(b);
  } while (u !== 0n);
  return Uint8Array.from(out);
}

const concat = (parts: readonly Uint8Array[]): Uint8Array => Uint8Array.from(Buffer.concat(parts));
const tag = (field: number, wireType: number): Uint8Array => varint(BigInt((field << 3) | wireType));
const lengthDelimited = (field: number, body: Uint8Array): Part => concat([tag(field, 2), varint(BigInt(body.length)), body]);

export const pb = {
  varint,
  tag,
  /** A varint field (int32, int64, bool, enum); negative numbers are sign-extended like Go does. */
  int: (field: number, v: number | bigint): Part => concat([tag(field, 0), varint(BigInt(v))]),
  bool: (field: number, v: boolean): Part => concat([tag(field, 0), varint(v ? 1n : 0n)]),
  str: (field: number, v: string): Part => lengthDelimited(field, Buffer.from(v, 'utf8')),
  bytes: (field: number, v: Uint8Array): Part => lengthDelimited(field, v),
  /** A sub-message field made of parts. */
  sub: (field: number, ...parts: Part[]): Part => lengthDelimited(field, concat(parts)),
  /** A whole message (no tag): the parts one after the other. */
  msg: (...parts: Part[]): Uint8Array => concat(parts),
  /** A map<string, string> entry. */
  entry: (field: number, key: string, value: string): Part => lengthDelimited(field, concat([pb.str(1, key), pb.str(2, value)])),
  /** A map<string, bytes> entry. */
  bytesEntry: (field: number, key: string, value: Uint8Array): Part => lengthDelimited(field, concat([pb.str(1, key), pb.bytes(2, value)])),
  /** A map<string, Quantity> entry. */
  quantityEntry: (field: number, key: string, value: string): Part => lengthDelimited(field, concat([pb.str(1, key), pb.sub(2, pb.str(1, value))])),
  /** meta/v1 Time/MicroTime. */
  time: (field: number, seconds: number, nanos = 0): Part => pb.sub(field, pb.int(1, seconds), pb.int(2, nanos)),
  quantity: (field: number, v: string): Part => pb.sub(field, pb.str(1, v)),
  intOrInt: (field: number, v: number): Part => pb.sub(field, pb.int(1, 0), pb.int(2, v), pb.str(3, '')),
  intOrStr: (field: number, v: string): Part => pb.sub(field, pb.int(1, 1), pb.int(2, 0), pb.str(3, v)),
  /** The full body: magic + runtime.Unknown{typeMeta, raw, contentEncoding, contentType}. */
  envelope: (apiVersion: string, kind: string, raw: Uint8Array, extra: readonly Part[] = []): Buffer =>
    Buffer.concat([PROTOBUF_MAGIC, pb.sub(1, pb.str(1, apiVersion), pb.str(2, kind)), pb.bytes(2, raw), pb.str(3, ''), pb.str(4, ''), ...extra]),
};

// ---- JSON -> protobuf through the tables ----------------------------------------------------------

/** Encodes a JSON object as message `name`. Fields the table lacks are left out (as Go would drop them). */
export function encodeByTable(table: MessageTable, name: string, json: Readonly<Record<string, unknown>>): Uint8Array {
  const spec = table[name];
  if (spec === undefined) throw new Error(`no table for ${name}`);
  const parts: Part[] = [];
  for (const [num, field] of Object.entries(spec).sort((a, b) => Number(a[0]) - Number(b[0]))) {
    const n = Number(num);
    if (field.inline) {
      if (field.type.kind !== 'message') throw new Error(`inline ${field.json} is not a message`);
      parts.push(pb.bytes(n, encodeByTable(table, field.type.message, json)));
      continue;
    }
    const v = json[field.json];
    if (v === undefined || v === null) continue;
    if (field.repeated) {
      for (const item of v as unknown[]) parts.push(encodeOne(table, field, n, item));
    } else if (field.type.kind === 'map') {
      for (const [k, mv] of Object.entries(v as Record<string, unknown>)) {
        const value =
          field.type.values === 'Quantity'
            ? pb.sub(2, pb.str(1, String(mv)))
            : field.type.values === 'bytes'
              ? pb.bytes(2, Buffer.from(String(mv), 'base64'))
              : field.type.values === 'Time'
                ? pb.time(2, Math.floor(Date.parse(String(mv)) / 1000))
                : field.type.values === 'StringList'
                  ? pb.sub(2, ...(mv as string[]).map((item) => pb.str(1, item)))
                  : pb.str(2, String(mv));
        parts.push(lengthDelimited(n, concat([pb.str(1, k), value])));
      }
    } else {
      parts.push(encodeOne(table, field, n, v));
    }
  }
  return concat(parts);
}

function encodeOne(table: MessageTable, field: FieldSpec, n: number, v: unknown): Part {
  const t = field.type;
  switch (t.kind) {
    case 'scalar':
      switch (t.scalar) {
        case 'string':
          return pb.str(n, String(v));
        case 'bytes':
          return pb.bytes(n, Buffer.from(String(v), 'base64'));
        case 'bool':
          return pb.bool(n, v === true);
        case 'int32':
        case 'int64':
          return pb.int(n, Number(v));
        default:
          throw new Error(`unexpected scalar ${String(t.scalar)}`);
      }
    case 'value':
      return encodeValue(t.value, n, v);
    case 'message':
      return pb.bytes(n, encodeByTable(table, t.message, v as Record<string, unknown>));
    case 'opaque':
      return pb.bytes(n, new Uint8Array());
    case 'map':
      throw new Error('maps are encoded by encodeByTable');
    default: {
      const never: never = t;
      return never;
    }
  }
}

function encodeValue(value: ValueType, n: number, v: unknown): Part {
  switch (value) {
    case 'Time':
    case 'MicroTime': {
      const ms = Date.parse(String(v));
      const micros = /\.(\d{6})Z$/.exec(String(v))?.[1];
      return pb.time(n, Math.floor(ms / 1000), micros === undefined ? 0 : Number(micros) * 1000);
    }
    case 'Quantity':
      return pb.quantity(n, String(v));
    case 'IntOrString':
      return typeof v === 'number' ? pb.intOrInt(n, v) : pb.intOrStr(n, String(v));
    case 'FieldsV1':
      return pb.sub(n, pb.bytes(1, Buffer.from(JSON.stringify(v), 'utf8')));
    case 'Duration':
      throw new Error('Duration is not used by any served kind');
    default: {
      const never: never = value;
      return never;
    }
  }
}
