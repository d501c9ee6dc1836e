/**
 * Turns a protobuf message into the JSON object upstream's JSON encoding of the same Go struct would
 * give, driven by the message tables (./types.ts). Rules, all following from how Go's generated
 * marshallers and encoding/json treat the same struct:
 *  - unknown field numbers are skipped (newer clients may send fields we do not know);
 *  - non-pointer fields are always on the wire, so their zero values ("", 0, false, empty struct) are
 *    dropped, as `omitempty` JSON drops them; pointer fields keep zero values (`replicas: 0`, `emptyDir: {}`);
 *  - repeated fields and map entries keep every element, zero or not (a label may be empty);
 *  - inline (embedded) structs spread their fields into the parent;
 *  - value types become JSON scalars: Time/MicroTime -> RFC 3339, Quantity -> string, IntOrString ->
 *    number or string, bytes -> base64, FieldsV1 -> its JSON.
 *
 * Cost model: one pass over the bytes, no intermediate copies; depth is bounded by the tables (no
 * message contains itself), so hostile input cannot recurse deeper than the schema.
 */
import { ProtobufError } from './errors.js';
import type { FieldSpec, MapValueType, MessageTable, ScalarType, ValueType } from './types.js';
import { WireReader, WireType } from './wire.js';
import type { Tag } from './wire.js';

type Json = unknown;
type JsonObject = Record<string, Json>;

/** Decodes the message `name` from `r` (which spans exactly that message). */
export function decodeMessage(table: MessageTable, name: string, r: WireReader): JsonObject {
  return new Decoder(table).message(name, r);
}

const join = (path: string, field: string): string => (path === '' ? field : `${path}.${field}`);

const isVarintScalar = (s: ScalarType): boolean => s === 'bool' || s === 'int32' || s === 'int64';

class Decoder {
  constructor(private readonly table: MessageTable) {}

  message(name: string, r: WireReader): JsonObject {
    const spec = this.table[name];
    if (spec === undefined) return r.fail('ERR_PROTOBUF_UNKNOWN_MESSAGE', `no message table for ${name}`);
    const out: JsonObject = {};
    const singles = new Map<number, { field: FieldSpec; value: Json }>();
    while (!r.done()) {
      const tag = r.tag();
      const field = spec[tag.field];
      if (field === undefined) {
        r.skip(tag);
        continue;
      }
      const path = field.inline ? r.path : join(r.path, field.json);
      if (field.repeated) this.repeated(field, tag, r, path, out);
      else if (field.type.kind === 'map') this.mapEntry(field.type.values, tag, r, path, out, field.json);
      else singles.set(tag.field, { field, value: this.single(field, tag, r, path) });
    }
    // zero-dropping and inlining happen once per field, after the last occurrence has won
    for (const { field, value } of singles.values()) {
      if (value === undefined) continue;
      if (field.inline) {
        for (const [k, v] of Object.entries(value as JsonObject)) if (!(k in out)) out[k] = v;
        continue;
      }
      if (!field.pointer && isZero(field, value)) continue;
      out[field.json] = value;
    }
    return out;
  }

  private expectWire(tag: Tag, r: WireReader, path: string, wanted: number): void {
    if (tag.wireType === wanted) return;
    const names = ['varint', 'fixed64', 'length-delimited', 'start-group', 'end-group', 'fixed32'];
    r.fail('ERR_PROTOBUF_WIRE_TYPE', `field ${tag.field} has wire type ${names[tag.wireType] ?? tag.wireType}, expected ${names[wanted] ?? wanted}`, path, tag.offset);
  }

  /** A non-repeated field; undefined means "Go zero value that JSON prints as null" (zero Time). */
  private single(field: FieldSpec, tag: Tag, r: WireReader, path: string): Json {
    const t = field.type;
    switch (t.kind) {
      case 'scalar':
        this.expectWire(tag, r, path, isVarintScalar(t.scalar) ? WireType.Varint : WireType.LengthDelimited);
        return this.scalar(t.scalar, r, path);
      case 'value':
        this.expectWire(tag, r, path, WireType.LengthDelimited);
        return this.value(t.value, r.sub(path), path);
      case 'message':
        this.expectWire(tag, r, path, WireType.LengthDelimited);
        return this.message(t.message, r.sub(path));
      case 'opaque':
        this.expectWire(tag, r, path, WireType.LengthDelimited);
        r.lengthDelimited(path);
        return {};
      case 'map':
        // maps are handled by mapEntry; a table marking a map as single is a programming error
        throw new Error(`map field ${field.json} reached single()`);
      default: {
        const never: never = t;
        return never;
      }
    }
  }

  private repeated(field: FieldSpec, tag: Tag, r: WireReader, path: string, out: JsonObject): void {
    const list = (out[field.json] ??= []) as Json[];
    const at = `${path}[${list.length}]`;
    const t = field.type;
    if (t.kind === 'scalar' && isVarintScalar(t.scalar) && tag.wireType === WireType.LengthDelimited) {
      // packed encoding: proto2 Go code writes unpacked, but both are valid on the wire
      const packed = r.sub(path);
      while (!packed.done()) list.push(this.scalar(t.scalar, packed, `${path}[${list.length}]`));
      return;
    }
    switch (t.kind) {
      case 'scalar':
        this.expectWire(tag, r, at, isVarintScalar(t.scalar) ? WireType.Varint : WireType.LengthDelimited);
        list.push(this.scalar(t.scalar, r, at));
        return;
      case 'message':
        this.expectWire(tag, r, at, WireType.LengthDelimited);
        list.push(this.message(t.message, r.sub(at)));
        return;
      case 'value': {
        this.expectWire(tag, r, at, WireType.LengthDelimited);
        const v = this.value(t.value, r.sub(at), at);
        list.push(v === undefined ? null : v);
        return;
      }
      case 'opaque':
        this.expectWire(tag, r, at, WireType.LengthDelimited);
        r.lengthDelimited(at);
        list.push({});
        return;
      case 'map':
        throw new Error(`map field ${field.json} marked repeated`);
      default: {
        const never: never = t;
        return never;
      }
    }
  }

  /** One map entry: a message {1: key string, 2: value}. Missing parts are Go zero values. */
  private mapEntry(values: MapValueType, tag: Tag, r: WireReader, path: string, out: JsonObject, json: string): void {
    this.expectWire(tag, r, path, WireType.LengthDelimited);
    const entry = r.sub(path);
    let key = '';
    let value: Json;
    while (!entry.done()) {
      const t = entry.tag();
      if (t.field === 1) {
        this.expectWire(t, entry, path, WireType.LengthDelimited);
        key = entry.string(path);
      } else if (t.field === 2) {
        const at = `${path}[${key}]`;
        this.expectWire(t, entry, at, WireType.LengthDelimited);
        value = this.mapValue(values, entry, at);
      } else {
        entry.skip(t);
      }
    }
    const map = (out[json] ??= {}) as JsonObject;
    // keys come from the client: define them as own properties (a `__proto__` label stays a label, as with JSON.parse)
    Object.defineProperty(map, key, {
      // Go's zero Time marshals as JSON null
      value: value ?? (values === 'Quantity' ? '0' : values === 'StringList' ? [] : values === 'Time' ? null : ''),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }

  private mapValue(values: MapValueType, entry: WireReader, at: string): Json {
    switch (values) {
      case 'string':
      case 'bytes':
        return this.scalar(values, entry, at);
      case 'Quantity':
      case 'Time':
        return this.value(values, entry.sub(at), at);
      case 'StringList': {
        const items: string[] = [];
        const list = entry.sub(at);
        while (!list.done()) {
          const t = list.tag();
          if (t.field !== 1) {
            list.skip(t);
            continue;
          }
          this.expectWire(t, list, `${at}[${items.length}]`, WireType.LengthDelimited);
          items.push(list.string(`${at}[${items.length}]`));
        }
        return items;
      }
      default: {
        const never: never = values;
        return never;
      }
    }
  }

  private scalar(s: ScalarType, r: WireReader, path: string): Json {
    switch (s) {
      case 'string':
        return r.string(path);
      case 'bytes':
        return Buffer.from(r.bytes(path)).toString('base64');
      case 'bool':
        return r.bool(path);
      case 'int32':
        return r.int32(path);
      case 'int64':
        return r.int64(path);
      default: {
        const never: never = s;
        return never;
      }
    }
  }

  private value(v: ValueType, r: WireReader, path: string): Json {
    const fields = readFields(r, path);
    switch (v) {
      case 'Time':
      case 'MicroTime':
        return timestamp(fields, v === 'MicroTime', r, path);
      case 'Quantity':
        // Go's zero Quantity prints "0"
        return fields.str(1) ?? '0';
      case 'IntOrString': {
        const type = fields.num(1) ?? 0;
        if (type === 0) return fields.num(2) ?? 0;
        if (type === 1) return fields.str(3) ?? '';
        return r.fail('ERR_PROTOBUF_BAD_VALUE', `IntOrString type ${type} is neither 0 (int) nor 1 (string)`, path);
      }
      case 'FieldsV1': {
        const raw = fields.raw(1);
        if (raw === undefined || raw.length === 0) return {};
        try {
          return JSON.parse(Buffer.from(raw).toString('utf8')) as Json;
        } catch (err) {
          return r.fail('ERR_PROTOBUF_BAD_VALUE', `fieldsV1 is not valid JSON: ${(err as Error).message}`, path);
        }
      }
      case 'Duration':
        return goDuration(BigInt(fields.num(1) ?? 0));
      default: {
        const never: never = v;
        return never;
      }
    }
  }
}

/** Zero values of non-pointer fields, as Go's `omitempty` sees them after the JSON conversion. */
function isZero(field: FieldSpec, v: Json): boolean {
  const t = field.type;
  switch (t.kind) {
    case 'scalar':
      return v === '' || v === 0 || v === false;
    case 'message':
      return typeof v === 'object' && v !== null && Object.keys(v).length === 0;
    case 'value':
      // an unset IntOrString is int 0; an unset Quantity prints "0"; upstream reads both as "not set"
      return (t.value === 'IntOrString' && v === 0) || (t.value === 'Quantity' && v === '0');
    case 'opaque':
    case 'map':
      return false;
    default: {
      const never: never = t;
      return never;
    }
  }
}

/** The fields of a small value message (Time, Quantity, IntOrString...): number -> raw value. */
interface ValueFields {
  num(n: number): number | undefined;
  str(n: number): string | undefined;
  raw(n: number): Uint8Array | undefined;
  readonly empty: boolean;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function readFields(r: WireReader, path: string): ValueFields {
  const nums = new Map<number, number>();
  const raws = new Map<number, { readonly bytes: Uint8Array; readonly offset: number }>();
  let empty = true;
  while (!r.done()) {
    empty = false;
    const tag = r.tag();
    if (tag.wireType === WireType.Varint) nums.set(tag.field, r.int64(path));
    else if (tag.wireType === WireType.LengthDelimited) {
      const offset = r.offset;
      raws.set(tag.field, { bytes: r.bytes(path), offset });
    } else r.skip(tag);
  }
  return {
    num: (n) => nums.get(n),
    raw: (n) => raws.get(n)?.bytes,
    str: (n) => {
      const e = raws.get(n);
      if (e === undefined) return undefined;
      try {
        return utf8.decode(e.bytes);
      } catch {
        throw new ProtobufError('ERR_PROTOBUF_BAD_VALUE', e.offset, path, 'string is not valid UTF-8');
      }
    },
    empty,
  };
}

// Go's time.Time{} is year 1; its JSON form is null, so it is dropped like an absent field.
const GO_ZERO_SECONDS = -62135596800;
const MIN_SECONDS = GO_ZERO_SECONDS; // 0001-01-01T00:00:00Z
const MAX_SECONDS = 253402300799; // 9999-12-31T23:59:59Z

function timestamp(f: ValueFields, micro: boolean, r: WireReader, path: string): string | undefined {
  if (f.empty) return undefined;
  const seconds = f.num(1) ?? 0;
  const nanos = f.num(2) ?? 0;
  if (seconds === GO_ZERO_SECONDS && nanos === 0) return undefined;
  if (seconds < MIN_SECONDS || seconds > MAX_SECONDS) {
    return r.fail('ERR_PROTOBUF_BAD_VALUE', `timestamp ${seconds}s is outside years 0001-9999`, path);
  }
  if (nanos < 0 || nanos > 999_999_999) return r.fail('ERR_PROTOBUF_BAD_VALUE', `timestamp nanos ${nanos} out of range`, path);
  const base = new Date(seconds * 1000).toISOString().slice(0, 19); // YYYY-MM-DDTHH:MM:SS
  // Time keeps whole seconds (upstream's JSON drops the fraction); MicroTime keeps microseconds
  return micro ? `${base}.${String(Math.floor(nanos / 1000)).padStart(6, '0')}Z` : `${base}Z`;
}

/** Go's time.Duration.String(): `1h2m3.5s`, `150ms`, `0s`. */
export function goDuration(ns: bigint): string {
  if (ns === 0n) return '0s';
  const neg = ns < 0n;
  const u = neg ? -ns : ns;
  const frac = (v: bigint, unit: bigint): string => {
    const whole = v / unit;
    const rest = v % unit;
    if (rest === 0n) return String(whole);
    const digits = String(unit).length - 1;
    return `${whole}.${String(rest).padStart(digits, '0').replace(/0+$/, '')}`;
  };
  let s: string;
  if (u < 1_000n) s = `${u}ns`;
  else if (u < 1_000_000n) s = `${frac(u, 1_000n)}µs`;
  else if (u < 1_000_000_000n) s = `${frac(u, 1_000_000n)}ms`;
  else {
    const h = u / 3_600_000_000_000n;
    const m = (u / 60_000_000_000n) % 60n;
    const secs = frac(u % 60_000_000_000n, 1_000_000_000n);
    s = `${h > 0n ? `${h}h` : ''}${h > 0n || m > 0n ? `${m}m` : ''}${secs}s`;
  }
  return neg ? `-${s}` : s;
}
