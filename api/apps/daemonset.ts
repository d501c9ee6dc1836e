/**
 * apps/v1 DaemonSet: types, schema, defaults and validation as upstream. One pod per eligible node;
 * the daemonset controller decides where.
 *
 * Defaults: updateStrategy RollingUpdate with maxUnavailable 1 and maxSurge 0, revisionHistoryLimit 10,
 * and the pod template's own defaults. spec.selector is immutable in apps/v1.
 * Deviation: a missing selector is reported as `spec.selector: Required value` in addition to upstream's
 * template-labels mismatch, which alone does not tell the user what to add.
 */
import type { KindDefinition } from '../kind.js';
import type { FieldError, FieldPath } from '../field-errors.js';
import { invalid, notSupported, required } from '../field-errors.js';
import type { Condition, KubeObject, LabelSelector, ObjectMeta } from '../meta.js';
import { labelSelectorSchema, objectMetaSchema, typeMetaFields } from '../meta-schema.js';
import { int, intOrString, listByKey, obj, str, time } from '../schema.js';
import type { ObjectSchema } from '../schema.js';
import type { PodTemplateSpec } from '../core/pod.js';
import { defaultPodTemplateSpec, podTemplateSpecSchema } from '../core/pod.js';
import { validateObjectMeta, validateObjectMetaUpdate } from '../validate-meta.js';
import type { IntOrString } from './common.js';
import {
  intOrPercentValue,
  paths,
  selectorOrUndefined,
  validateImmutable,
  validateIntOrPercent,
  validateNonnegative,
  validateNotDecremented,
  validateNotMoreThan100Percent,
  validateWorkloadSelector,
  validateWorkloadTemplate,
} from './common.js';

export interface RollingUpdateDaemonSet {
  readonly maxUnavailable?: IntOrString;
  readonly maxSurge?: IntOrString;
}

export type DaemonSetUpdateStrategyType = 'RollingUpdate' | 'OnDelete';

export interface DaemonSetUpdateStrategy {
  readonly type?: DaemonSetUpdateStrategyType;
  readonly rollingUpdate?: RollingUpdateDaemonSet;
}

export interface DaemonSetSpec {
  readonly selector?: LabelSelector;
  readonly template: PodTemplateSpec;
  readonly updateStrategy?: DaemonSetUpdateStrategy;
  readonly minReadySeconds?: number;
  readonly revisionHistoryLimit?: number;
}

export type DaemonSetCondition = Pick<Condition, 'type' | 'status' | 'lastTransitionTime' | 'reason' | 'message'>;

export interface DaemonSetStatus {
  readonly currentNumberScheduled?: number;
  readonly numberMisscheduled?: number;
  readonly desiredNumberScheduled?: number;
  readonly numberReady?: number;
  readonly observedGeneration?: number;
  readonly updatedNumberScheduled?: number;
  readonly numberAvailable?: number;
  readonly numberUnavailable?: number;
  readonly collisionCount?: number;
  readonly conditions?: readonly DaemonSetCondition[];
}

export interface DaemonSet extends KubeObject {
  readonly metadata: ObjectMeta;
  readonly spec: DaemonSetSpec;
  readonly status?: DaemonSetStatus;
}

const daemonSetConditionSchema: ObjectSchema = obj(
  { type: str(), status: str(), lastTransitionTime: time(), reason: str(), message: str() },
  { required: ['type', 'status'] },
);

// No retainKeys here: upstream tags only Deployment's strategy that way.
export const daemonSetUpdateStrategySchema: ObjectSchema = obj({
  type: { type: 'string', enum: ['OnDelete', 'RollingUpdate'] },
  rollingUpdate: obj({ maxUnavailable: intOrString(), maxSurge: intOrString() }),
});

export const daemonSetSpecSchema: ObjectSchema = obj(
  {
    selector: labelSelectorSchema,
    template: podTemplateSpecSchema,
    updateStrategy: daemonSetUpdateStrategySchema,
    minReadySeconds: int(),
    revisionHistoryLimit: int('The number of old history to retain to allow rollback. Defaults to 10.'),
  },
  { required: ['selector', 'template'] },
);

export const daemonSetStatusSchema: ObjectSchema = obj(
  {
    currentNumberScheduled: int(),
    numberMisscheduled: int(),
    desiredNumberScheduled: int(),
    numberReady: int(),
    observedGeneration: int(),
    updatedNumberScheduled: int(),
    numberAvailable: int(),
    numberUnavailable: int(),
    collisionCount: int(),
    conditions: listByKey(daemonSetConditionSchema, 'type'),
  },
  { required: ['currentNumberScheduled', 'numberMisscheduled', 'desiredNumberScheduled', 'numberReady'] },
);

export const daemonSetSchema: ObjectSchema = obj({
  ...typeMetaFields,
  metadata: objectMetaSchema,
  spec: daemonSetSpecSchema,
  status: daemonSetStatusSchema,
});

export function defaultDaemonSet(ds: DaemonSet): DaemonSet {
  const spec: DaemonSetSpec = ds.spec ?? ({} as DaemonSetSpec);
  return {
    ...ds,
    spec: {
      ...spec,
      template: defaultPodTemplateSpec(spec.template ?? ({} as PodTemplateSpec)),
      updateStrategy: defaultUpdateStrategy(spec.updateStrategy),
      revisionHistoryLimit: spec.revisionHistoryLimit ?? 10,
    },
  };
}

function defaultUpdateStrategy(s: DaemonSetUpdateStrategy | undefined): DaemonSetUpdateStrategy {
  const type = s?.type ?? 'RollingUpdate';
  if (type !== 'RollingUpdate') return { ...s, type };
  const ru = s?.rollingUpdate ?? {};
  return { ...s, type, rollingUpdate: { ...ru, maxUnavailable: ru.maxUnavailable ?? 1, maxSurge: ru.maxSurge ?? 0 } };
}

export function validateDaemonSet(ds: DaemonSet): FieldError[] {
  return [
    ...validateObjectMeta(ds.metadata, { namespaced: true }, paths.metadata),
    ...validateDaemonSetSpec(ds.spec ?? ({} as DaemonSetSpec), paths.spec),
  ];
}

export function validateDaemonSetUpdate(ds: DaemonSet, old: DaemonSet): FieldError[] {
  return [
    ...validateObjectMetaUpdate(ds.metadata, old.metadata, paths.metadata),
    ...validateDaemonSetSpec(ds.spec ?? ({} as DaemonSetSpec), paths.spec),
    ...validateImmutable(ds.spec?.selector, old.spec?.selector, paths.spec.child('selector')),
    ...validateDaemonSetStatus(ds.status ?? {}, paths.status),
    ...validateNotDecremented(ds.status?.collisionCount, old.status?.collisionCount, paths.status.child('collisionCount')),
  ];
}

export function validateDaemonSetSpec(spec: DaemonSetSpec, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [...validateWorkloadSelector(spec.selector, 'daemonset', path.child('selector'))];
  const selector = selectorOrUndefined(spec.selector);
  if (selector === undefined) {
    errs.push(invalid(path.child('selector'), spec.selector, 'invalid label selector'));
  } else {
    errs.push(...validateWorkloadTemplate(spec.template, selector, 'DaemonSet', path.child('template')));
  }
  errs.push(...validateNonnegative(spec.minReadySeconds, path.child('minReadySeconds')));
  errs.push(...validateDaemonSetUpdateStrategy(spec.updateStrategy ?? {}, path.child('updateStrategy')));
  errs.push(...validateNonnegative(spec.revisionHistoryLimit, path.child('revisionHistoryLimit')));
  return errs;
}

export function validateDaemonSetUpdateStrategy(s: DaemonSetUpdateStrategy, path: FieldPath): FieldError[] {
  switch (s.type) {
    case 'OnDelete':
      return [];
    case 'RollingUpdate':
      return s.rollingUpdate === undefined
        ? [required(path.child('rollingUpdate'), '')]
        : validateRollingUpdateDaemonSet(s.rollingUpdate, path.child('rollingUpdate'));
    default:
      return [notSupported(path, s, ['RollingUpdate', 'OnDelete'])];
  }
}

/** Exactly one of maxUnavailable and maxSurge is non-zero: a DaemonSet rolls either by removing or by surging. */
export function validateRollingUpdateDaemonSet(ru: RollingUpdateDaemonSet, path: FieldPath): FieldError[] {
  const mu = path.child('maxUnavailable');
  const ms = path.child('maxSurge');
  const errs = [
    ...validateIntOrPercent(ru.maxUnavailable, mu),
    ...validateIntOrPercent(ru.maxSurge, ms),
    ...validateNotMoreThan100Percent(ru.maxUnavailable, mu),
    ...validateNotMoreThan100Percent(ru.maxSurge, ms),
  ];
  const hasUnavailable = intOrPercentValue(ru.maxUnavailable) !== 0;
  const hasSurge = intOrPercentValue(ru.maxSurge) !== 0;
  if (hasUnavailable && hasSurge) errs.push(invalid(ms, ru.maxSurge, 'may not be set when maxUnavailable is non-zero'));
  if (!hasUnavailable && !hasSurge) errs.push(required(mu, 'cannot be 0 when maxSurge is 0'));
  return errs;
}

export function validateDaemonSetStatus(s: DaemonSetStatus, path: FieldPath): FieldError[] {
  const keys = [
    'currentNumberScheduled',
    'numberMisscheduled',
    'desiredNumberScheduled',
    'numberReady',
    'observedGeneration',
    'updatedNumberScheduled',
    'numberAvailable',
    'numberUnavailable',
    'collisionCount',
  ] as const;
  return keys.flatMap((k) => validateNonnegative(s[k], path.child(k)));
}

export const daemonSetKind: KindDefinition<DaemonSet> = {
  group: 'apps',
  version: 'v1',
  kind: 'DaemonSet',
  plural: 'daemonsets',
  singular: 'daemonset',
  namespaced: true,
  shortNames: ['ds'],
  categories: ['all'],
  schema: daemonSetSchema,
  hasStatusSubresource: true,
  default: defaultDaemonSet,
  validate: validateDaemonSet,
  validateUpdate: validateDaemonSetUpdate,
};
