/**
 * autoscaling/v1 Scale: the body of the `/scale` subresource of Deployments, ReplicaSets and
 * StatefulSets (what `kubectl scale` and the HPA read and write). It is never stored: the apiserver
 * builds it from the owner with `scaleOf` and writes `spec.replicas` back with `applyScale`.
 * `status.selector` is the owner's selector in string form, so clients can list the pods it counts.
 */
import type { FieldError } from '../field-errors.js';
import { FieldPath, invalid } from '../field-errors.js';
import type { KubeObject, LabelSelector, ObjectMeta } from '../meta.js';
import { objectMetaSchema, typeMetaFields } from '../meta-schema.js';
import { int, obj, str } from '../schema.js';
import type { ObjectSchema } from '../schema.js';
import { labelSelectorToString } from '../labels.js';
import { validateObjectMeta } from '../validate-meta.js';

export interface ScaleSpec {
  readonly replicas?: number;
}

export interface ScaleStatus {
  readonly replicas: number;
  readonly selector?: string;
}

export interface Scale extends KubeObject {
  readonly apiVersion?: 'autoscaling/v1';
  readonly kind?: 'Scale';
  readonly metadata: ObjectMeta;
  readonly spec: ScaleSpec;
  readonly status?: ScaleStatus;
}

export const scaleSchema: ObjectSchema = obj({
  ...typeMetaFields,
  metadata: objectMetaSchema,
  spec: obj({ replicas: int('Desired number of instances for the scaled object.') }),
  status: obj(
    {
      replicas: int('Actual number of observed instances of the scaled object.'),
      selector: str('Label query over pods that should match the replicas count, in string form.'),
    },
    { required: ['replicas'] },
  ),
});

export function validateScale(scale: Scale): FieldError[] {
  const errs = validateObjectMeta(scale.metadata, { namespaced: true }, FieldPath.root('metadata'));
  const replicas = scale.spec?.replicas ?? 0;
  if (replicas < 0) {
    errs.push(invalid(FieldPath.root('spec').child('replicas'), replicas, 'must be greater than or equal to 0'));
  }
  return errs;
}

/** What a scalable owner must look like: Deployment, ReplicaSet, StatefulSet all fit. */
export interface Scalable extends KubeObject {
  readonly spec: { readonly replicas?: number; readonly selector?: LabelSelector };
  readonly status?: { readonly replicas?: number };
}

/**
 * The Scale view of an owner, as upstream's scaleFromDeployment: only identity metadata is copied,
 * and resourceVersion so that a read-modify-write of the Scale is a compare-and-swap on the owner.
 * Throws `LabelSelectorError` if the owner's selector is invalid (it cannot be once validated).
 */
export function scaleOf(owner: Scalable): Scale {
  const m = owner.metadata;
  const metadata: ObjectMeta = {
    ...(m.name !== undefined ? { name: m.name } : {}),
    ...(m.namespace !== undefined ? { namespace: m.namespace } : {}),
    ...(m.uid !== undefined ? { uid: m.uid } : {}),
    ...(m.resourceVersion !== undefined ? { resourceVersion: m.resourceVersion } : {}),
    ...(m.creationTimestamp !== undefined ? { creationTimestamp: m.creationTimestamp } : {}),
  };
  const selector = labelSelectorToString(owner.spec.selector);
  return {
    apiVersion: 'autoscaling/v1',
    kind: 'Scale',
    metadata,
    spec: { replicas: owner.spec.replicas ?? 0 },
    status: { replicas: owner.status?.replicas ?? 0, ...(selector !== '' ? { selector } : {}) },
  };
}

/**
 * The owner with the Scale's desired replicas. A resourceVersion on the Scale is carried over so the
 * store rejects the write with a Conflict if the owner changed since the client read the Scale.
 */
export function applyScale<T extends Scalable>(owner: T, scale: Scale): T {
  const rv = scale.metadata.resourceVersion;
  return {
    ...owner,
    metadata: { ...owner.metadata, ...(rv !== undefined && rv !== '' ? { resourceVersion: rv } : {}) },
    spec: { ...owner.spec, replicas: scale.spec?.replicas ?? 0 },
  };
}
