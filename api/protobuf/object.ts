/**
 * A whole Kubernetes protobuf body: the 4-byte magic `k8s\0`, then a runtime.Unknown envelope
 *   { 1: typeMeta {1: apiVersion, 2: kind}, 2: raw (the object's own message), 3: contentEncoding, 4: contentType }
 * (apimachinery runtime/generated.proto and its protobuf serializer). `decodeObject` returns the JSON
 * object with apiVersion and kind first, as a JSON client would have sent it.
 */
import { decodeMessage } from './decode.js';
import { ProtobufError } from './errors.js';
import { allMessages, messageFor } from './kinds.js';
import { WireReader, WireType } from './wire.js';

export const PROTOBUF_MAGIC: Uint8Array = Uint8Array.of(0x6b, 0x38, 0x73, 0x00);

export function hasProtobufMagic(buf: Uint8Array): boolean {
  return buf.length >= 4 && PROTOBUF_MAGIC.every((b, i) => buf[i] === b);
}

export interface Envelope {
  readonly apiVersion: string;
  readonly kind: string;
  /** Window of the object's message in the buffer. */
  readonly raw: { readonly start: number; readonly end: number };
  readonly contentEncoding: string;
  readonly contentType: string;
}

export function readEnvelope(buf: Uint8Array): Envelope {
  if (!hasProtobufMagic(buf)) {
    throw new ProtobufError('ERR_PROTOBUF_NO_MAGIC', 0, '', 'the body does not start with the protobuf prefix "k8s\\x00"');
  }
  const r = new WireReader(buf, 4);
  let apiVersion = '';
  let kind = '';
  let raw = { start: buf.length, end: buf.length };
  let contentEncoding = '';
  let contentType = '';
  while (!r.done()) {
    const tag = r.tag();
    if (tag.field >= 1 && tag.field <= 4 && tag.wireType !== WireType.LengthDelimited) {
      r.fail('ERR_PROTOBUF_WIRE_TYPE', `envelope field ${tag.field} must be length-delimited`, '', tag.offset);
    }
    switch (tag.field) {
      case 1: {
        const tm = r.sub('typeMeta');
        while (!tm.done()) {
          const t = tm.tag();
          if (t.field === 1 && t.wireType === WireType.LengthDelimited) apiVersion = tm.string('apiVersion');
          else if (t.field === 2 && t.wireType === WireType.LengthDelimited) kind = tm.string('kind');
          else tm.skip(t);
        }
        break;
      }
      case 2:
        raw = r.lengthDelimited('raw');
        break;
      case 3:
        contentEncoding = r.string('contentEncoding');
        break;
      case 4:
        contentType = r.string('contentType');
        break;
      default:
        r.skip(tag);
    }
  }
  return { apiVersion, kind, raw, contentEncoding, contentType };
}

export interface TypeRef {
  readonly apiVersion: string;
  readonly kind: string;
}

/**
 * Decodes a protobuf body into a JSON-shaped object. `expected` is the type the request addresses: it
 * stands in for a missing TypeMeta, and a body of another kind is refused.
 */
export function decodeObject(buf: Uint8Array, expected?: TypeRef): Record<string, unknown> {
  const env = readEnvelope(buf);
  if (env.contentEncoding !== '') {
    throw new ProtobufError('ERR_PROTOBUF_UNSUPPORTED', 4, '', `content encoding ${JSON.stringify(env.contentEncoding)} is not supported`);
  }
  if (env.contentType !== '' && env.contentType !== 'application/vnd.kubernetes.protobuf') {
    throw new ProtobufError('ERR_PROTOBUF_UNSUPPORTED', 4, '', `an envelope holding ${JSON.stringify(env.contentType)} is not supported`);
  }
  const apiVersion = env.apiVersion !== '' ? env.apiVersion : (expected?.apiVersion ?? '');
  const kind = env.kind !== '' ? env.kind : (expected?.kind ?? '');
  if (kind === '') throw new ProtobufError('ERR_PROTOBUF_WRONG_KIND', 4, '', 'the envelope does not name the kind of the object');
  const message = messageFor(apiVersion, kind);
  if (message === undefined) {
    throw new ProtobufError('ERR_PROTOBUF_WRONG_KIND', 4, '', `no protobuf decoding for ${kind} in ${apiVersion || 'an unnamed version'}`);
  }
  if (expected !== undefined && messageFor(expected.apiVersion, expected.kind) !== message) {
    throw new ProtobufError('ERR_PROTOBUF_WRONG_KIND', 4, '', `the body holds a ${kind} (${apiVersion}), expected a ${expected.kind} (${expected.apiVersion})`);
  }
  const obj = decodeMessage(allMessages, message, new WireReader(buf, env.raw.start, env.raw.end));
  return { ...(apiVersion !== '' ? { apiVersion } : {}), kind, ...obj };
}
