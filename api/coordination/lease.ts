/**
 * coordination.k8s.io/v1 Lease: node heartbeats (kube-node-lease/<node>) and leader election.
 * Types, schema and validation as upstream (pkg/apis/coordination/validation). Times are MicroTime:
 * RFC 3339 with microseconds, `2024-05-01T10:00:00.123456Z`. Nothing is defaulted.
 */
import type { KindDefinition } from '../kind.js';
import type { FieldError } from '../field-errors.js';
import { FieldPath, forbidden, invalid, notSupported } from '../field-errors.js';
import type { KubeObject, ObjectMeta } from '../meta.js';
import { objectMetaSchema, typeMetaFields } from '../meta-schema.js';
import { int, obj, str, time } from '../schema.js';
import type { ObjectSchema } from '../schema.js';
import { isQualifiedName } from '../names.js';
import { validateObjectMeta, validateObjectMetaUpdate } from '../validate-meta.js';

/** The one strategy upstream defines for coordinated leader election; others must be domain-prefixed. */
export const LEASE_STRATEGIES: readonly string[] = ['OldestEmulationVersion'];

export interface LeaseSpec {
  readonly holderIdentity?: string;
  readonly leaseDurationSeconds?: number;
  /** MicroTime. */
  readonly acquireTime?: string;
  /** MicroTime. */
  readonly renewTime?: string;
  readonly leaseTransitions?: number;
  readonly strategy?: string;
  readonly preferredHolder?: string;
}

export interface Lease extends KubeObject {
  readonly metadata: ObjectMeta;
  readonly spec?: LeaseSpec;
}

export const leaseSpecSchema: ObjectSchema = obj({
  holderIdentity: str('The identity of the holder of a current lease.'),
  leaseDurationSeconds: int('Duration that candidates for a lease need to wait to force acquire it.'),
  acquireTime: time('When the current lease was acquired (MicroTime).'),
  renewTime: time('When the current holder last updated the lease (MicroTime).'),
  leaseTransitions: int('The number of transitions of a lease between holders.'),
  strategy: str('The strategy for picking the leader for coordinated leader election.'),
  preferredHolder: str('Signals to a lease holder that the lease has a more optimal holder.'),
});

export const leaseSchema: ObjectSchema = obj({
  ...typeMetaFields,
  metadata: objectMetaSchema,
  spec: leaseSpecSchema,
});

export function validateLease(l: Lease): FieldError[] {
  return [
    ...validateObjectMeta(l.metadata, { namespaced: true }, FieldPath.root('metadata')),
    ...validateLeaseSpec(l.spec ?? {}, FieldPath.root('spec')),
  ];
}

export function validateLeaseUpdate(l: Lease, old: Lease): FieldError[] {
  return [
    ...validateObjectMetaUpdate(l.metadata, old.metadata, FieldPath.root('metadata')),
    ...validateLeaseSpec(l.spec ?? {}, FieldPath.root('spec')),
  ];
}

export function validateLeaseSpec(spec: LeaseSpec, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  if (spec.leaseDurationSeconds !== undefined && spec.leaseDurationSeconds <= 0) {
    errs.push(invalid(path.child('leaseDurationSeconds'), spec.leaseDurationSeconds, 'must be greater than 0'));
  }
  if (spec.leaseTransitions !== undefined && spec.leaseTransitions < 0) {
    errs.push(invalid(path.child('leaseTransitions'), spec.leaseTransitions, 'must be greater than or equal to 0'));
  }
  if (spec.strategy !== undefined) errs.push(...validateLeaseStrategy(spec.strategy, path.child('strategy')));
  if ((spec.preferredHolder ?? '') !== '' && (spec.strategy ?? '') === '') {
    errs.push(forbidden(path.child('preferredHolder'), 'may only be specified if `strategy` is defined'));
  }
  return errs;
}

function validateLeaseStrategy(strategy: string, path: FieldPath): FieldError[] {
  const parts = strategy.split('/');
  if (parts.length === 1) {
    return LEASE_STRATEGIES.includes(strategy) ? [] : [notSupported(path, strategy, LEASE_STRATEGIES)];
  }
  if (parts.length === 2) return isQualifiedName(strategy).map((m) => invalid(path, strategy, m));
  return [invalid(path, strategy, 'must be a valid strategy name')];
}

export const leaseKind: KindDefinition<Lease> = {
  group: 'coordination.k8s.io',
  version: 'v1',
  kind: 'Lease',
  plural: 'leases',
  singular: 'lease',
  namespaced: true,
  shortNames: [],
  categories: [],
  schema: leaseSchema,
  hasStatusSubresource: false,
  default: (l) => l,
  validate: validateLease,
  validateUpdate: validateLeaseUpdate,
};
