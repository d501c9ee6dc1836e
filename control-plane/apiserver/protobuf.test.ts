/**
 * Protobuf request bodies at the apiserver's edge: media type recognition, the same decoding checks as
 * JSON (kind, strict field validation), 400s with offsets for bad bodies, DeleteOptions.
 */
import { describe, expect, it } from 'vitest';
import { configMapKind } from '../../api/core/configmap.js';
import { podKind } from '../../api/core/pod.js';
import { pb } from '../../api/protobuf/test-encoder.js';
import { formatOf, parseBody } from './decode.js';
import { ApiError } from './errors.js';
import { deleteOptionsOf } from './handlers.js';
import { decodeInput } from './input.js';
import { decodeProtobufBody, hasProtobufMagic, isProtobuf } from './protobuf.js';

const PB = 'application/vnd.kubernetes.protobuf';
const configMapType = { apiVersion: 'v1', kind: 'ConfigMap', schema: configMapKind.schema };
const podType = { apiVersion: 'v1', kind: 'Pod', schema: podKind.schema };

const meta = (name: string, namespace = 'default'): Uint8Array => pb.msg(pb.str(1, name), pb.str(3, namespace), pb.sub(8));
const configMap = (name: string): Buffer => pb.envelope('v1', 'ConfigMap', pb.msg(pb.sub(1, meta(name)), pb.entry(2, 'a', 'b')));

function failure(f: () => unknown): ApiError {
  try {
    f();
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  throw new Error('expected an ApiError');
}

describe('media type', () => {
  it.each([
    [PB, true],
    ['application/vnd.kubernetes.protobuf; charset=utf-8', true],
    ['Application/VND.Kubernetes.Protobuf', true],
    ['application/vnd.kubernetes.protobuf;stream=watch', true],
    ['application/json', false],
    [undefined, false],
  ])('isProtobuf(%s) is %s', (ct, want) => {
    expect(isProtobuf(ct)).toBe(want);
  });

  it('is a body format of its own', () => {
    expect(formatOf(PB)).toBe('protobuf');
  });

  it('recognises a protobuf body by its prefix', () => {
    expect(hasProtobufMagic(configMap('c'))).toBe(true);
    expect(hasProtobufMagic(Buffer.from('{}'))).toBe(false);
  });
});

describe('decodeInput with protobuf bodies', () => {
  it('decodes into the same object a JSON client would send', () => {
    const r = decodeInput(configMap('c'), PB, configMapType, 'Strict');
    expect(r.obj).toEqual({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'default' }, data: { a: 'b' } });
  });

  it('applies strict field validation to fields this server does not model', () => {
    const pod = pb.msg(pb.sub(1, meta('p')), pb.sub(2, pb.sub(1, pb.str(1, 'disk'), pb.sub(2, pb.sub(3, pb.str(1, 'pd')))), pb.sub(2, pb.str(1, 'c'), pb.str(2, 'busybox'))));
    const err = failure(() => decodeInput(pb.envelope('v1', 'Pod', pod), PB, podType, 'Strict'));
    expect(err.httpCode).toBe(400);
    expect(err.message).toBe('Pod in version "v1" cannot be handled as a Pod: strict decoding error: unknown field "spec.volumes[0].gcePersistentDisk"');
    expect(decodeInput(pb.envelope('v1', 'Pod', pod), PB, podType, 'Warn').warnings).toEqual(['unknown field "spec.volumes[0].gcePersistentDisk"']);
  });

  it('refuses a body of another kind with upstream wording', () => {
    const secret = pb.envelope('v1', 'Secret', pb.msg(pb.sub(1, meta('s'))));
    const err = failure(() => decodeInput(secret, PB, configMapType, 'Strict'));
    expect(err.httpCode).toBe(400);
    expect(err.message).toMatch(/^the object provided is unrecognized \(must be of type ConfigMap\)/);
  });

  it('refuses JSON sent under the protobuf media type', () => {
    const err = failure(() => decodeInput(Buffer.from('{"kind":"ConfigMap"}'), PB, configMapType, 'Strict'));
    expect(err.httpCode).toBe(400);
    expect(err.message).toBe('the request body is not Kubernetes protobuf: it must start with the 4 bytes "k8s\\x00" (got "{\\"ki")');
  });

  it('refuses an empty body', () => {
    expect(failure(() => parseBody(Buffer.alloc(0), 'protobuf')).message).toBe('the request body is empty: expected a protobuf object');
  });
});

describe('decodeProtobufBody', () => {
  it('names the kind, the byte offset and the field of a malformed body', () => {
    const raw = pb.msg(pb.sub(1, meta('c')), pb.bytes(2, Uint8Array.of(0x0a, 0x01, 0x61, 0x12, 0x09, 0x62)));
    const err = failure(() => decodeProtobufBody(pb.envelope('v1', 'ConfigMap', raw)));
    expect(err.httpCode).toBe(400);
    expect(err.reason).toBe('BadRequest');
    expect(err.message).toMatch(/^ConfigMap in version "v1" cannot be handled as a ConfigMap: protobuf at byte \d+ \(data\[a\]\): length 9 runs past the end/);
  });

  it('refuses a kind other than the expected one', () => {
    const err = failure(() => decodeProtobufBody(configMap('c'), { apiVersion: 'v1', kind: 'Binding' }));
    expect(err.message).toBe('the object provided is unrecognized (must be of type Binding): the body holds a ConfigMap (v1), expected a Binding (v1)');
  });
});

describe('deleteOptionsOf with a protobuf body', () => {
  it('reads DeleteOptions from a Go client', () => {
    const body = pb.envelope('v1', 'DeleteOptions', pb.msg(pb.int(1, 0), pb.sub(2, pb.str(1, 'u1')), pb.str(4, 'Orphan')));
    expect(deleteOptionsOf({}, body)).toEqual({ gracePeriodSeconds: 0, propagationPolicy: 'Orphan', preconditions: { uid: 'u1' }, dryRun: false });
  });

  it('lets query parameters win over the body, as for JSON', () => {
    const body = pb.envelope('v1', 'DeleteOptions', pb.msg(pb.int(1, 30)));
    expect(deleteOptionsOf({ gracePeriodSeconds: '5' }, body).gracePeriodSeconds).toBe(5);
  });

  it('refuses another kind in a DELETE body', () => {
    expect(failure(() => deleteOptionsOf({}, configMap('c'))).httpCode).toBe(400);
  });
});
