/**
 * Request bodies in Kubernetes protobuf (`Content-Type: application/vnd.kubernetes.protobuf`).
 *
 * Go clients built on client-go's typed clientsets (kubectl's `create namespace|configmap|secret|
 * deployment|service|serviceaccount`, controllers, the kubelet) send protobuf bodies and do not fall back
 * to JSON on 415, while accepting JSON answers. So we decode protobuf requests into the very JSON object
 * a JSON client would have sent, and everything after that (schema checks, strict field validation,
 * defaults, admission, validation) is shared. Responses stay JSON.
 *
 * Cost model: one pass over the body through declarative tables (api/protobuf/); no code generation and
 * no protobuf library.
 */
import { ProtobufError } from '../../api/protobuf/errors.js';
import { decodeObject, hasProtobufMagic as magic, readEnvelope } from '../../api/protobuf/object.js';
import { ApiError } from './errors.js';

export const PROTOBUF_MEDIA_TYPE = 'application/vnd.kubernetes.protobuf';

/** True when the Content-Type names Kubernetes protobuf (parameters ignored). */
export function isProtobuf(contentType: string | undefined): boolean {
  return (contentType ?? '').split(';')[0]?.trim().toLowerCase() === PROTOBUF_MEDIA_TYPE;
}

/** True when the body starts with protobuf's `k8s\0` prefix (no JSON or YAML document can). */
export function hasProtobufMagic(body: Uint8Array): boolean {
  return magic(body);
}

export interface ExpectedKind {
  readonly apiVersion: string;
  readonly kind: string;
}

/**
 * Decodes a protobuf request body into its JSON shape, apiVersion and kind included (from the envelope,
 * else from `expected`). Every failure (no prefix, truncated or malformed data, a body of another kind)
 * is a 400 naming the byte offset and the field.
 */
export function decodeProtobufBody(body: Buffer, expected?: ExpectedKind): Record<string, unknown> {
  try {
    return decodeObject(body, expected);
  } catch (err) {
    if (err instanceof ProtobufError) throw new ApiError(400, 'BadRequest', describe(err, body, expected), undefined, { cause: err });
    throw err;
  }
}

/** Upstream's wording for undecodable bodies: `Pod in version "v1" cannot be handled as a Pod: ...`. */
function describe(err: ProtobufError, body: Buffer, expected: ExpectedKind | undefined): string {
  if (err.code === 'ERR_PROTOBUF_NO_MAGIC') {
    return `the request body is not Kubernetes protobuf: it must start with the 4 bytes "k8s\\x00" (got ${JSON.stringify(body.subarray(0, 4).toString('latin1'))})`;
  }
  if (err.code === 'ERR_PROTOBUF_WRONG_KIND' && expected !== undefined) {
    return `the object provided is unrecognized (must be of type ${expected.kind}): ${err.detail}`;
  }
  const named = kindOf(body) ?? expected;
  if (named === undefined || named.kind === '') return `the request body is not valid protobuf: ${err.message}`;
  const slash = named.apiVersion.indexOf('/');
  const version = slash < 0 ? named.apiVersion : named.apiVersion.slice(slash + 1);
  return `${named.kind} in version "${version}" cannot be handled as a ${named.kind}: protobuf ${err.message}`;
}

function kindOf(body: Buffer): ExpectedKind | undefined {
  try {
    const env = readEnvelope(body);
    return env.kind === '' ? undefined : { apiVersion: env.apiVersion, kind: env.kind };
  } catch {
    return undefined;
  }
}
