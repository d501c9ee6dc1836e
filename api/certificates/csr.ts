/**
 * certificates.k8s.io/v1 CertificateSigningRequest as a served kind: schema, defaults, the kind
 * definition (cluster-scoped, short name `csr`, subresources `status` and `approval`) and the two write
 * rules upstream's strategy adds beyond validation:
 *  - `stampRequester`: on create, spec.username/uid/groups/extra are whatever the apiserver
 *    authenticated, never what the client sent (that is what approvers trust);
 *  - `applyApproval`: the `approval` subresource changes status.conditions and nothing else.
 * Pure; times come from the caller.
 */
import type { KindDefinition } from '../kind.js';
import { objectMetaSchema, typeMetaFields } from '../meta-schema.js';
import { arrayOf, int, listByKey, mapOf, obj, str, time } from '../schema.js';
import type { ObjectSchema } from '../schema.js';
import type { CertificateSigningRequest, CsrCondition } from './csr-types.js';
import { KEY_USAGES } from './csr-types.js';
import { validateCsr, validateCsrUpdate } from './csr-validate.js';

export * from './csr-types.js';
export { validateCsr, validateCsrUpdate, validateCsrApprovalUpdate } from './csr-validate.js';

export const csrConditionSchema: ObjectSchema = obj(
  {
    type: str('Type of the condition: Approved, Denied, Failed, or a signer-specific one.'),
    status: str('Status of the condition, one of True, False, Unknown. Approved, Denied, and Failed conditions may not be "False" or "Unknown".'),
    reason: str('A brief reason for the request state.'),
    message: str('Human readable details about the request state.'),
    lastUpdateTime: time('The time of the last update to this condition.'),
    lastTransitionTime: time('The time the condition last transitioned from one status to another.'),
  },
  { required: ['type', 'status'] },
);

export const csrSchema: ObjectSchema = obj({
  ...typeMetaFields,
  metadata: objectMetaSchema,
  spec: obj(
    {
      request: { type: 'bytes', description: 'A PEM-encoded PKCS#10 certificate request, base64 in JSON.' },
      signerName: str('The requested signer, a qualified name such as kubernetes.io/kube-apiserver-client-kubelet.'),
      expirationSeconds: int('The requested duration of validity of the issued certificate (at least 600).'),
      usages: arrayOf({ type: 'string', enum: KEY_USAGES }, { description: 'The requested key usages and extended key usages.' }),
      username: str('The user that created the request. Populated by the API server on creation and immutable.'),
      uid: str('The uid of the user that created the request. Populated by the API server on creation and immutable.'),
      groups: arrayOf(str(), { description: 'The group membership of the user that created the request. Populated by the API server.' }),
      extra: mapOf(arrayOf(str()), 'Extra attributes of the user that created the request. Populated by the API server.'),
    },
    { required: ['request', 'signerName'] },
  ),
  status: obj({
    conditions: listByKey(csrConditionSchema, 'type', 'Applied by approvers and signers: Approved, Denied, Failed.'),
    certificate: { type: 'bytes', description: 'The issued certificate (PEM), populated by the signer after approval.' },
  }),
});

/** Upstream's v1 defaulting: a condition without a status is True. */
export function defaultCsr(csr: CertificateSigningRequest): CertificateSigningRequest {
  const conditions = csr.status?.conditions;
  if (conditions === undefined || conditions.every((c) => c.status !== undefined && (c.status as string) !== '')) return csr;
  return { ...csr, status: { ...csr.status, conditions: conditions.map((c) => ((c.status as string | undefined) ? c : { ...c, status: 'True' })) } };
}

/** Who made a request, as the apiserver authenticated it. */
export interface Requester {
  readonly name: string;
  readonly uid?: string;
  readonly groups: readonly string[];
  readonly extra?: Readonly<Record<string, readonly string[]>>;
}

/** Replaces the requester fields of a new CSR with the authenticated user (cleared when there is none). */
export function stampRequester(csr: CertificateSigningRequest, user: Requester | undefined): CertificateSigningRequest {
  const { username: _u, uid: _i, groups: _g, extra: _e, ...spec } = csr.spec ?? { request: '', signerName: '' };
  if (user === undefined) return { ...csr, spec };
  return {
    ...csr,
    spec: {
      ...spec,
      username: user.name,
      ...(user.uid !== undefined && user.uid !== '' ? { uid: user.uid } : {}),
      ...(user.groups.length > 0 ? { groups: [...user.groups] } : {}),
      ...(user.extra !== undefined && Object.keys(user.extra).length > 0 ? { extra: user.extra } : {}),
    },
  };
}

/** stampRequester over untyped objects, as the apiserver's resource table holds kinds. */
export function stampCsrRequester<T extends { readonly metadata: CertificateSigningRequest['metadata'] }>(obj: T, user: Requester | undefined): T {
  return stampRequester(obj as unknown as CertificateSigningRequest, user) as unknown as T;
}

/**
 * The object after an `approval` update: the stored one with the sent conditions, each given
 * lastUpdateTime and lastTransitionTime when missing (kept from the stored condition of the same type
 * and status, otherwise `now`).
 */
export function applyApproval(current: CertificateSigningRequest, sent: CertificateSigningRequest, now: string): CertificateSigningRequest {
  const old = current.status?.conditions ?? [];
  const conditions = (sent.status?.conditions ?? []).map((c): CsrCondition => {
    const prior = old.find((o) => o.type === c.type && o.status === (c.status || 'True'));
    return {
      ...c,
      status: c.status || 'True',
      lastUpdateTime: c.lastUpdateTime ?? prior?.lastUpdateTime ?? now,
      lastTransitionTime: c.lastTransitionTime ?? prior?.lastTransitionTime ?? now,
    };
  });
  return { ...current, status: { ...current.status, conditions } };
}

/** A condition as approvers and signers write it. */
export function csrCondition(type: string, reason: string, message: string, now: string): CsrCondition {
  return { type, status: 'True', reason, message, lastUpdateTime: now, lastTransitionTime: now };
}

export const csrKind: KindDefinition<CertificateSigningRequest> = {
  group: 'certificates.k8s.io',
  version: 'v1',
  kind: 'CertificateSigningRequest',
  plural: 'certificatesigningrequests',
  singular: 'certificatesigningrequest',
  namespaced: false,
  shortNames: ['csr'],
  categories: [],
  schema: csrSchema,
  hasStatusSubresource: true,
  default: defaultCsr,
  validate: validateCsr,
  validateUpdate: validateCsrUpdate,
  selectableFields: (csr) => ({ 'spec.signerName': csr.spec?.signerName ?? '' }),
};
