/**
 * authentication.k8s.io/v1 TokenRequest: the body of POST .../serviceaccounts/<name>/token
 * (`kubectl create token`, and the kubelet's projected serviceAccountToken volumes). Never stored.
 * Types, schema and validation as upstream (pkg/apis/authentication/validation): a token lives at
 * least 10 minutes and at most 2^32 seconds; 3600 s when not asked.
 */
import type { FieldError } from '../field-errors.js';
import { FieldPath, invalid, notSupported, required } from '../field-errors.js';
import type { KindDefinition } from '../kind.js';
import type { KubeObject, ObjectMeta } from '../meta.js';
import { objectMetaSchema, typeMetaFields } from '../meta-schema.js';
import type { ObjectSchema } from '../schema.js';
import { arrayOf, int, obj, str, time } from '../schema.js';

export const DEFAULT_TOKEN_SECONDS = 3600;
export const MIN_TOKEN_SECONDS = 600;
export const MAX_TOKEN_SECONDS = 2 ** 32;
export const BOUND_KINDS: readonly string[] = ['Pod', 'Secret'];

export interface BoundObjectReference {
  readonly kind?: string;
  readonly apiVersion?: string;
  readonly name?: string;
  readonly uid?: string;
}

export interface TokenRequestSpec {
  readonly audiences?: readonly string[];
  readonly expirationSeconds?: number;
  readonly boundObjectRef?: BoundObjectReference;
}

export interface TokenRequest extends KubeObject {
  readonly metadata: ObjectMeta;
  readonly spec: TokenRequestSpec;
  readonly status?: { readonly token: string; readonly expirationTimestamp: string };
}

export const tokenRequestSchema: ObjectSchema = obj({
  ...typeMetaFields,
  metadata: objectMetaSchema,
  spec: obj({
    audiences: arrayOf(str('An intended audience of the token.')),
    expirationSeconds: int('Requested duration of validity of the token.'),
    boundObjectRef: obj({ kind: str(), apiVersion: str(), name: str(), uid: str() }),
  }),
  status: obj({ token: str('The opaque bearer token.'), expirationTimestamp: time('When the token expires.') }),
});

export function defaultTokenRequest(t: TokenRequest): TokenRequest {
  return { ...t, spec: { ...t.spec, expirationSeconds: t.spec?.expirationSeconds ?? DEFAULT_TOKEN_SECONDS } };
}

export function validateTokenRequest(t: TokenRequest): FieldError[] {
  const errs: FieldError[] = [];
  const spec = FieldPath.root('spec');
  const seconds = t.spec?.expirationSeconds ?? DEFAULT_TOKEN_SECONDS;
  if (seconds < MIN_TOKEN_SECONDS) errs.push(invalid(spec.child('expirationSeconds'), seconds, 'may not specify a duration less than 10 minutes'));
  if (seconds > MAX_TOKEN_SECONDS) errs.push(invalid(spec.child('expirationSeconds'), seconds, 'may not specify a duration larger than 2^32 seconds'));
  const ref = t.spec?.boundObjectRef;
  if (ref !== undefined) {
    const path = spec.child('boundObjectRef');
    if (!BOUND_KINDS.includes(ref.kind ?? '')) errs.push(notSupported(path.child('kind'), ref.kind ?? '', BOUND_KINDS));
    if ((ref.name ?? '') === '') errs.push(required(path.child('name'), ''));
  }
  return errs;
}

export const tokenRequestKind: KindDefinition<TokenRequest> = {
  group: 'authentication.k8s.io',
  version: 'v1',
  kind: 'TokenRequest',
  plural: 'tokenrequests',
  singular: 'tokenrequest',
  namespaced: true,
  shortNames: [],
  categories: [],
  schema: tokenRequestSchema,
  hasStatusSubresource: false,
  default: defaultTokenRequest,
  validate: validateTokenRequest,
  validateUpdate: validateTokenRequest,
};
