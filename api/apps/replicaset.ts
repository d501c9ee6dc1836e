/**
 * apps/v1 ReplicaSet: types, schema, defaults and validation as upstream. A ReplicaSet keeps
 * `spec.replicas` pods matching its selector alive; Deployments own one per template revision.
 *
 * Defaults: replicas 1 and the pod template's own defaults. spec.selector is immutable in apps/v1.
 * Field selector: `status.replicas` besides metadata.name/namespace, as upstream.
 */
import type { KindDefinition } from '../kind.js';
import type { FieldError, FieldPath } from '../field-errors.js';
import { invalid } from '../field-errors.js';
import type { Condition, KubeObject, LabelSelector, ObjectMeta } from '../meta.js';
import { labelSelectorSchema, objectMetaSchema, typeMetaFields } from '../meta-schema.js';
import { int, listByKey, obj, str, time } from '../schema.js';
import type { ObjectSchema } from '../schema.js';
import type { PodTemplateSpec } from '../core/pod.js';
import { defaultPodTemplateSpec, podTemplateSpecSchema } from '../core/pod.js';
import { validateObjectMeta, validateObjectMetaUpdate } from '../validate-meta.js';
import {
  paths,
  selectorOrUndefined,
  validateImmutable,
  validateNonnegative,
  validateWorkloadSelector,
  validateWorkloadTemplate,
} from './common.js';

export interface ReplicaSetSpec {
  readonly replicas?: number;
  readonly minReadySeconds?: number;
  readonly selector?: LabelSelector;
  /** Optional on the wire: a ReplicaSet scaled to 0 may have none; validation still requires its shape. */
  readonly template?: PodTemplateSpec;
}

/** ReplicaFailure. */
export type ReplicaSetCondition = Pick<Condition, 'type' | 'status' | 'lastTransitionTime' | 'reason' | 'message'>;

export interface ReplicaSetStatus {
  readonly replicas?: number;
  readonly fullyLabeledReplicas?: number;
  readonly readyReplicas?: number;
  readonly availableReplicas?: number;
  readonly terminatingReplicas?: number;
  readonly observedGeneration?: number;
  readonly conditions?: readonly ReplicaSetCondition[];
}

export interface ReplicaSet extends KubeObject {
  readonly metadata: ObjectMeta;
  readonly spec: ReplicaSetSpec;
  readonly status?: ReplicaSetStatus;
}

const replicaSetConditionSchema: ObjectSchema = obj(
  { type: str(), status: str(), lastTransitionTime: time(), reason: str(), message: str() },
  { required: ['type', 'status'] },
);

export const replicaSetSpecSchema: ObjectSchema = obj(
  {
    replicas: int('Number of desired pods. Defaults to 1.'),
    minReadySeconds: int(),
    selector: labelSelectorSchema,
    template: podTemplateSpecSchema,
  },
  { required: ['selector'] },
);

export const replicaSetStatusSchema: ObjectSchema = obj(
  {
    replicas: int(),
    fullyLabeledReplicas: int(),
    readyReplicas: int(),
    availableReplicas: int(),
    terminatingReplicas: int(),
    observedGeneration: int(),
    conditions: listByKey(replicaSetConditionSchema, 'type'),
  },
  { required: ['replicas'] },
);

export const replicaSetSchema: ObjectSchema = obj({
  ...typeMetaFields,
  metadata: objectMetaSchema,
  spec: replicaSetSpecSchema,
  status: replicaSetStatusSchema,
});

export function defaultReplicaSet(rs: ReplicaSet): ReplicaSet {
  const spec: ReplicaSetSpec = rs.spec ?? {};
  return {
    ...rs,
    spec: {
      ...spec,
      replicas: spec.replicas ?? 1,
      template: defaultPodTemplateSpec(spec.template ?? ({} as PodTemplateSpec)),
    },
  };
}

export function validateReplicaSet(rs: ReplicaSet): FieldError[] {
  return [
    ...validateObjectMeta(rs.metadata, { namespaced: true }, paths.metadata),
    ...validateReplicaSetSpec(rs.spec ?? {}, paths.spec),
  ];
}

export function validateReplicaSetUpdate(rs: ReplicaSet, old: ReplicaSet): FieldError[] {
  return [
    ...validateObjectMetaUpdate(rs.metadata, old.metadata, paths.metadata),
    ...validateReplicaSetSpec(rs.spec ?? {}, paths.spec),
    ...validateImmutable(rs.spec?.selector, old.spec?.selector, paths.spec.child('selector')),
    ...validateReplicaSetStatus(rs.status ?? {}, paths.status),
  ];
}

export function validateReplicaSetSpec(spec: ReplicaSetSpec, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [
    ...validateNonnegative(spec.replicas, path.child('replicas')),
    ...validateNonnegative(spec.minReadySeconds, path.child('minReadySeconds')),
    ...validateWorkloadSelector(spec.selector, 'deployment', path.child('selector')),
  ];
  const selector = selectorOrUndefined(spec.selector);
  if (selector === undefined) {
    errs.push(invalid(path.child('selector'), spec.selector, 'invalid label selector'));
  } else {
    errs.push(...validateWorkloadTemplate(spec.template, selector, 'ReplicaSet', path.child('template')));
  }
  return errs;
}

export function validateReplicaSetStatus(s: ReplicaSetStatus, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  for (const k of ['replicas', 'fullyLabeledReplicas', 'readyReplicas', 'availableReplicas', 'observedGeneration'] as const) {
    errs.push(...validateNonnegative(s[k], path.child(k)));
  }
  const replicas = s.replicas ?? 0;
  const ready = s.readyReplicas ?? 0;
  const available = s.availableReplicas ?? 0;
  const msg = 'cannot be greater than status.replicas';
  if ((s.fullyLabeledReplicas ?? 0) > replicas) {
    errs.push(invalid(path.child('fullyLabeledReplicas'), s.fullyLabeledReplicas, msg));
  }
  if (ready > replicas) errs.push(invalid(path.child('readyReplicas'), ready, msg));
  if (available > replicas) errs.push(invalid(path.child('availableReplicas'), available, msg));
  if (available > ready) errs.push(invalid(path.child('availableReplicas'), available, 'cannot be greater than readyReplicas'));
  return errs;
}

export const replicaSetKind: KindDefinition<ReplicaSet> = {
  group: 'apps',
  version: 'v1',
  kind: 'ReplicaSet',
  plural: 'replicasets',
  singular: 'replicaset',
  namespaced: true,
  shortNames: ['rs'],
  categories: ['all'],
  schema: replicaSetSchema,
  hasStatusSubresource: true,
  default: defaultReplicaSet,
  validate: validateReplicaSet,
  validateUpdate: validateReplicaSetUpdate,
  selectableFields: (rs) => ({ 'status.replicas': String(rs.status?.replicas ?? 0) }),
};
