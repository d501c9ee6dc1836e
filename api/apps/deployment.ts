/**
 * apps/v1 Deployment: types, schema, defaults and validation as upstream (k8s.io/api/apps/v1,
 * pkg/apis/apps/v1/defaults.go, pkg/apis/apps/validation). The rollout itself lives in the deployment
 * controller; this file only says what a valid Deployment is.
 *
 * Defaults: replicas 1, strategy RollingUpdate with maxUnavailable/maxSurge 25%, revisionHistoryLimit 10,
 * progressDeadlineSeconds 600, and the pod template's own defaults.
 * Update rules: spec.selector is immutable in apps/v1.
 */
import type { KindDefinition } from '../kind.js';
import type { FieldError, FieldPath } from '../field-errors.js';
import { forbidden, invalid, notSupported, required } from '../field-errors.js';
import type { Condition, KubeObject, LabelSelector, ObjectMeta } from '../meta.js';
import { labelSelectorSchema, objectMetaSchema, typeMetaFields } from '../meta-schema.js';
import { bool, int, intOrString, listByKey, obj, str, time } from '../schema.js';
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

export interface RollingUpdateDeployment {
  readonly maxUnavailable?: IntOrString;
  readonly maxSurge?: IntOrString;
}

export type DeploymentStrategyType = 'Recreate' | 'RollingUpdate';

export interface DeploymentStrategy {
  readonly type?: DeploymentStrategyType;
  readonly rollingUpdate?: RollingUpdateDeployment;
}

export interface DeploymentSpec {
  readonly replicas?: number;
  readonly selector?: LabelSelector;
  readonly template: PodTemplateSpec;
  readonly strategy?: DeploymentStrategy;
  readonly minReadySeconds?: number;
  readonly revisionHistoryLimit?: number;
  readonly paused?: boolean;
  readonly progressDeadlineSeconds?: number;
}

/** Available, Progressing, ReplicaFailure. */
export type DeploymentCondition = Pick<Condition, 'type' | 'status' | 'lastUpdateTime' | 'lastTransitionTime' | 'reason' | 'message'>;

export interface DeploymentStatus {
  readonly observedGeneration?: number;
  readonly replicas?: number;
  readonly updatedReplicas?: number;
  readonly readyReplicas?: number;
  readonly availableReplicas?: number;
  readonly unavailableReplicas?: number;
  readonly terminatingReplicas?: number;
  readonly conditions?: readonly DeploymentCondition[];
  readonly collisionCount?: number;
}

export interface Deployment extends KubeObject {
  readonly metadata: ObjectMeta;
  readonly spec: DeploymentSpec;
  readonly status?: DeploymentStatus;
}

// ---------------------------------------------------------------------------------------------
// Schema

export const rollingUpdateDeploymentSchema: ObjectSchema = obj({
  maxUnavailable: intOrString('The maximum number of pods that can be unavailable during the update (number or percentage).'),
  maxSurge: intOrString('The maximum number of pods that can be scheduled above the desired number of pods.'),
});

export const deploymentStrategySchema: ObjectSchema = obj(
  {
    type: { type: 'string', enum: ['Recreate', 'RollingUpdate'], description: 'Type of deployment.' },
    rollingUpdate: rollingUpdateDeploymentSchema,
  },
  // Upstream tags DeploymentSpec.strategy `patchStrategy:"retainKeys"`: switching to Recreate drops rollingUpdate.
  { retainKeys: true, description: 'The deployment strategy to use to replace existing pods with new ones.' },
);

const deploymentConditionSchema: ObjectSchema = obj(
  { type: str(), status: str(), lastUpdateTime: time(), lastTransitionTime: time(), reason: str(), message: str() },
  { required: ['type', 'status'] },
);

export const deploymentSpecSchema: ObjectSchema = obj(
  {
    replicas: int('Number of desired pods. Defaults to 1.'),
    selector: labelSelectorSchema,
    template: podTemplateSpecSchema,
    strategy: deploymentStrategySchema,
    minReadySeconds: int(),
    revisionHistoryLimit: int('The number of old ReplicaSets to retain to allow rollback. Defaults to 10.'),
    paused: bool(),
    progressDeadlineSeconds: int('Defaults to 600s.'),
  },
  { required: ['selector', 'template'] },
);

export const deploymentStatusSchema: ObjectSchema = obj({
  observedGeneration: int(),
  replicas: int(),
  updatedReplicas: int(),
  readyReplicas: int(),
  availableReplicas: int(),
  unavailableReplicas: int(),
  terminatingReplicas: int(),
  conditions: listByKey(deploymentConditionSchema, 'type'),
  collisionCount: int(),
});

export const deploymentSchema: ObjectSchema = obj({
  ...typeMetaFields,
  metadata: objectMetaSchema,
  spec: deploymentSpecSchema,
  status: deploymentStatusSchema,
});

// ---------------------------------------------------------------------------------------------
// Defaults

export function defaultDeployment(d: Deployment): Deployment {
  const spec: DeploymentSpec = d.spec ?? ({} as DeploymentSpec);
  const strategy = defaultStrategy(spec.strategy);
  return {
    ...d,
    spec: {
      ...spec,
      replicas: spec.replicas ?? 1,
      template: defaultPodTemplateSpec(spec.template ?? ({} as PodTemplateSpec)),
      strategy,
      revisionHistoryLimit: spec.revisionHistoryLimit ?? 10,
      progressDeadlineSeconds: spec.progressDeadlineSeconds ?? 600,
    },
  };
}

function defaultStrategy(s: DeploymentStrategy | undefined): DeploymentStrategy {
  const type = s?.type ?? 'RollingUpdate';
  if (type !== 'RollingUpdate') return { ...s, type };
  const ru = s?.rollingUpdate ?? {};
  return {
    ...s,
    type,
    rollingUpdate: { ...ru, maxUnavailable: ru.maxUnavailable ?? '25%', maxSurge: ru.maxSurge ?? '25%' },
  };
}

// ---------------------------------------------------------------------------------------------
// Validation

export function validateDeployment(d: Deployment): FieldError[] {
  return [
    ...validateObjectMeta(d.metadata, { namespaced: true }, paths.metadata),
    ...validateDeploymentSpec(d.spec ?? ({} as DeploymentSpec), paths.spec),
  ];
}

export function validateDeploymentUpdate(d: Deployment, old: Deployment): FieldError[] {
  return [
    ...validateObjectMetaUpdate(d.metadata, old.metadata, paths.metadata),
    ...validateDeploymentSpec(d.spec ?? ({} as DeploymentSpec), paths.spec),
    // apps/v1 forbids re-targeting a Deployment at other pods; only the removed beta versions allowed it.
    ...validateImmutable(d.spec?.selector, old.spec?.selector, paths.spec.child('selector')),
    ...validateDeploymentStatus(d.status ?? {}, paths.status),
    ...validateNotDecremented(d.status?.collisionCount, old.status?.collisionCount, paths.status.child('collisionCount')),
  ];
}

export function validateDeploymentSpec(spec: DeploymentSpec, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [
    ...validateNonnegative(spec.replicas, path.child('replicas')),
    ...validateWorkloadSelector(spec.selector, 'deployment', path.child('selector')),
  ];
  const selector = selectorOrUndefined(spec.selector);
  if (selector === undefined) {
    errs.push(invalid(path.child('selector'), spec.selector, 'invalid label selector'));
  } else {
    errs.push(...validateWorkloadTemplate(spec.template, selector, 'ReplicaSet', path.child('template')));
  }
  errs.push(...validateDeploymentStrategy(spec.strategy ?? {}, path.child('strategy')));
  const minReady = spec.minReadySeconds ?? 0;
  errs.push(...validateNonnegative(minReady, path.child('minReadySeconds')));
  errs.push(...validateNonnegative(spec.revisionHistoryLimit, path.child('revisionHistoryLimit')));
  if (spec.progressDeadlineSeconds !== undefined) {
    const pds = path.child('progressDeadlineSeconds');
    errs.push(...validateNonnegative(spec.progressDeadlineSeconds, pds));
    if (spec.progressDeadlineSeconds <= minReady) {
      errs.push(invalid(pds, spec.progressDeadlineSeconds, 'must be greater than minReadySeconds'));
    }
  }
  return errs;
}

export function validateDeploymentStrategy(s: DeploymentStrategy, path: FieldPath): FieldError[] {
  switch (s.type) {
    case 'Recreate':
      return s.rollingUpdate === undefined
        ? []
        : [forbidden(path.child('rollingUpdate'), "may not be specified when strategy `type` is 'Recreate'")];
    case 'RollingUpdate':
      return s.rollingUpdate === undefined
        ? [required(path.child('rollingUpdate'), 'this should be defaulted and never be nil')]
        : validateRollingUpdateDeployment(s.rollingUpdate, path.child('rollingUpdate'));
    default:
      return [notSupported(path, s, ['Recreate', 'RollingUpdate'])];
  }
}

export function validateRollingUpdateDeployment(ru: RollingUpdateDeployment, path: FieldPath): FieldError[] {
  const mu = path.child('maxUnavailable');
  const errs = [...validateIntOrPercent(ru.maxUnavailable, mu), ...validateIntOrPercent(ru.maxSurge, path.child('maxSurge'))];
  if (intOrPercentValue(ru.maxUnavailable) === 0 && intOrPercentValue(ru.maxSurge) === 0) {
    errs.push(invalid(mu, ru.maxUnavailable ?? 0, 'may not be 0 when `maxSurge` is 0'));
  }
  errs.push(...validateNotMoreThan100Percent(ru.maxUnavailable, mu));
  return errs;
}

export function validateDeploymentStatus(s: DeploymentStatus, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  for (const k of ['observedGeneration', 'replicas', 'updatedReplicas', 'readyReplicas', 'availableReplicas', 'unavailableReplicas', 'collisionCount'] as const) {
    errs.push(...validateNonnegative(s[k], path.child(k)));
  }
  const replicas = s.replicas ?? 0;
  const ready = s.readyReplicas ?? 0;
  const available = s.availableReplicas ?? 0;
  const msg = 'cannot be greater than status.replicas';
  if ((s.updatedReplicas ?? 0) > replicas) errs.push(invalid(path.child('updatedReplicas'), s.updatedReplicas, msg));
  if (ready > replicas) errs.push(invalid(path.child('readyReplicas'), ready, msg));
  if (available > replicas) errs.push(invalid(path.child('availableReplicas'), available, msg));
  if (available > ready) errs.push(invalid(path.child('availableReplicas'), available, 'cannot be greater than readyReplicas'));
  return errs;
}

export const deploymentKind: KindDefinition<Deployment> = {
  group: 'apps',
  version: 'v1',
  kind: 'Deployment',
  plural: 'deployments',
  singular: 'deployment',
  namespaced: true,
  shortNames: ['deploy'],
  categories: ['all'],
  schema: deploymentSchema,
  hasStatusSubresource: true,
  default: defaultDeployment,
  validate: validateDeployment,
  validateUpdate: validateDeploymentUpdate,
};
