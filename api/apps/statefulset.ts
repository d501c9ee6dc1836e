/**
 * apps/v1 StatefulSet: pods with stable names (`<set>-<ordinal>`) created and replaced in order. Types,
 * schema, defaults and validation as upstream (k8s.io/api/apps/v1, pkg/apis/apps/v1/defaults.go,
 * pkg/apis/apps/validation, pkg/registry/apps/statefulset/strategy.go); the statefulset controller fills
 * in `status`.
 *
 * Defaults: replicas 1, podManagementPolicy OrderedReady, updateStrategy RollingUpdate (an absent
 * strategy gets `rollingUpdate: {partition: 0}`; an explicit RollingUpdate without rollingUpdate keeps
 * none, and a rollingUpdate without partition gets 0), revisionHistoryLimit 10,
 * persistentVolumeClaimRetentionPolicy Retain/Retain, the pod template's own defaults. maxUnavailable is
 * left unset: upstream defaults it to 1 only with its MaxUnavailableStatefulSet feature gate on (the
 * controller treats unset as 1). Each volumeClaimTemplates entry is printed as upstream's conversion
 * and core defaults print it: apiVersion v1, kind PersistentVolumeClaim, spec.volumeMode Filesystem,
 * status.phase Pending.
 *
 * Validation: the name is a DNS label (it prefixes the pod names); podManagementPolicy and the update
 * strategy are supported values; partition, replicas, minReadySeconds and ordinals.start are
 * non-negative; maxUnavailable is a positive int or percent up to 100%; the retention policy is
 * Retain|Delete; the selector is required, valid, not empty and matches the template labels; the
 * template's restartPolicy is Always and it has no activeDeadlineSeconds. As upstream, the pod template's
 * spec is not validated here (upstream leaves it out because template volumeMounts may name claim
 * templates); the pods the controller creates from it are validated as any pod. A negative
 * revisionHistoryLimit is accepted (upstream only warns: it keeps every revision).
 * Update rules: only replicas, ordinals, template, updateStrategy, revisionHistoryLimit,
 * persistentVolumeClaimRetentionPolicy and minReadySeconds may change (so the selector, serviceName,
 * podManagementPolicy and volumeClaimTemplates are fixed). Status: counters non-negative, none above
 * status.replicas, availableReplicas not above readyReplicas, collisionCount never decremented.
 *
 * volumeClaimTemplates are PersistentVolumeClaims; knode serves no claims, so the entries are kept loose
 * (any JSON object, not schema-checked inside) and validated only for an object with a metadata.name
 * (a deviation: upstream checks nothing there). The controller reports that it cannot create claims.
 */
import type { KindDefinition } from '../kind.js';
import type { FieldError, FieldPath } from '../field-errors.js';
import { forbidden, invalid, notSupported, required } from '../field-errors.js';
import type { Condition, KubeObject, LabelSelector, ObjectMeta } from '../meta.js';
import { labelSelectorSchema, objectMetaSchema, typeMetaFields } from '../meta-schema.js';
import { anyValue, arrayOf, int, intOrString, listByKey, obj, str, time } from '../schema.js';
import type { ObjectSchema } from '../schema.js';
import type { PodTemplateSpec } from '../core/pod.js';
import { defaultPodTemplateSpec, podTemplateSpecSchema } from '../core/pod.js';
import { semanticEqual } from '../core/semantic.js';
import { isEverything, matches } from '../labels.js';
import type { Selector } from '../labels.js';
import { isDNS1123Label, validateAnnotations, validateLabels } from '../names.js';
import { validateObjectMeta, validateObjectMetaUpdate } from '../validate-meta.js';
import type { IntOrString } from './common.js';
import {
  intOrPercentValue,
  paths,
  selectorOrUndefined,
  validateIntOrPercent,
  validateNonnegative,
  validateNotDecremented,
  validateNotMoreThan100Percent,
  validateWorkloadSelector,
} from './common.js';

// ---------------------------------------------------------------------------------------------
// Well-known names

/** Label with the pod's own name, set on every pod of a set (upstream StatefulSetPodNameLabel). */
export const STATEFULSET_POD_NAME_LABEL = 'statefulset.kubernetes.io/pod-name';
/** Label with the pod's ordinal (upstream PodIndexLabel). */
export const POD_INDEX_LABEL = 'apps.kubernetes.io/pod-index';
/** Label with the name of the ControllerRevision a pod was made from (upstream StatefulSetRevisionLabel). */
export const CONTROLLER_REVISION_HASH_LABEL = 'controller-revision-hash';

// ---------------------------------------------------------------------------------------------
// Types

export type PodManagementPolicyType = 'OrderedReady' | 'Parallel';
export const POD_MANAGEMENT_POLICIES: readonly PodManagementPolicyType[] = ['OrderedReady', 'Parallel'];

export type StatefulSetUpdateStrategyType = 'RollingUpdate' | 'OnDelete';

export interface RollingUpdateStatefulSetStrategy {
  /** Pods with an ordinal (relative to ordinals.start) below this keep the old revision. Defaults to 0. */
  readonly partition?: number;
  /** Pods that may be unavailable during an update; unset means 1. Never 0. */
  readonly maxUnavailable?: IntOrString;
}

export interface StatefulSetUpdateStrategy {
  readonly type?: StatefulSetUpdateStrategyType;
  readonly rollingUpdate?: RollingUpdateStatefulSetStrategy;
}

export type PersistentVolumeClaimRetentionPolicyType = 'Retain' | 'Delete';
export const PVC_RETENTION_POLICIES: readonly PersistentVolumeClaimRetentionPolicyType[] = ['Retain', 'Delete'];

export interface StatefulSetPersistentVolumeClaimRetentionPolicy {
  readonly whenDeleted?: PersistentVolumeClaimRetentionPolicyType;
  readonly whenScaled?: PersistentVolumeClaimRetentionPolicyType;
}

export interface StatefulSetOrdinals {
  /** The first pod's ordinal; pods are `<set>-<start>` to `<set>-<start + replicas - 1>`. */
  readonly start?: number;
}

/**
 * One entry of spec.volumeClaimTemplates: a core/v1 PersistentVolumeClaim, kept loose because knode
 * serves no claims. Its metadata.name is the volume name the template's volumeMounts refer to.
 */
export interface VolumeClaimTemplate {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata?: ObjectMeta;
  readonly spec?: Readonly<Record<string, unknown>>;
  readonly status?: Readonly<Record<string, unknown>>;
}

export interface StatefulSetSpec {
  readonly replicas?: number;
  readonly selector?: LabelSelector;
  readonly template: PodTemplateSpec;
  readonly volumeClaimTemplates?: readonly VolumeClaimTemplate[];
  /** The headless Service giving the pods their DNS names (`<pod>.<serviceName>`); may be empty. */
  readonly serviceName?: string;
  readonly podManagementPolicy?: PodManagementPolicyType;
  readonly updateStrategy?: StatefulSetUpdateStrategy;
  /** Revisions kept besides the current and update ones; negative keeps all (upstream warns). */
  readonly revisionHistoryLimit?: number;
  readonly minReadySeconds?: number;
  readonly persistentVolumeClaimRetentionPolicy?: StatefulSetPersistentVolumeClaimRetentionPolicy;
  readonly ordinals?: StatefulSetOrdinals;
}

export type StatefulSetCondition = Pick<Condition, 'type' | 'status' | 'lastTransitionTime' | 'reason' | 'message'>;

export interface StatefulSetStatus {
  readonly observedGeneration?: number;
  /** Pods the controller has created (and not yet seen deleted). */
  readonly replicas?: number;
  readonly readyReplicas?: number;
  /** Pods at currentRevision. */
  readonly currentReplicas?: number;
  /** Pods at updateRevision. */
  readonly updatedReplicas?: number;
  readonly currentRevision?: string;
  readonly updateRevision?: string;
  readonly collisionCount?: number;
  readonly conditions?: readonly StatefulSetCondition[];
  /** Pods ready for at least minReadySeconds. */
  readonly availableReplicas?: number;
}

export interface StatefulSet extends KubeObject {
  readonly metadata: ObjectMeta;
  readonly spec: StatefulSetSpec;
  readonly status?: StatefulSetStatus;
}

// ---------------------------------------------------------------------------------------------
// Schema

const statefulSetConditionSchema: ObjectSchema = obj(
  { type: str(), status: str(), lastTransitionTime: time(), reason: str(), message: str() },
  { required: ['type', 'status'] },
);

export const statefulSetUpdateStrategySchema: ObjectSchema = obj({
  type: { type: 'string', enum: ['OnDelete', 'RollingUpdate'], description: 'Type indicates the type of the StatefulSetUpdateStrategy. Default is RollingUpdate.' },
  rollingUpdate: obj({
    partition: int('The ordinal at which the StatefulSet is partitioned for updates. Defaults to 0.'),
    maxUnavailable: intOrString('The maximum number of pods that can be unavailable during the update (number or percentage). Defaults to 1.'),
  }),
});

const retentionPolicyType = { type: 'string', enum: ['Delete', 'Retain'] } as const;

export const statefulSetSpecSchema: ObjectSchema = obj(
  {
    replicas: int('The desired number of replicas of the given Template. Defaults to 1.'),
    selector: labelSelectorSchema,
    template: podTemplateSpecSchema,
    // atomic upstream (listType=atomic): replaced whole by a patch
    volumeClaimTemplates: arrayOf(anyValue('A PersistentVolumeClaim that pods may mount by its name.'), {
      description: 'A list of claims that pods are allowed to reference.',
    }),
    serviceName: str('The name of the service that governs this StatefulSet.'),
    podManagementPolicy: { type: 'string', enum: ['OrderedReady', 'Parallel'], description: 'How pods are created and deleted. Defaults to OrderedReady.' },
    updateStrategy: statefulSetUpdateStrategySchema,
    revisionHistoryLimit: int('The maximum number of revisions that will be maintained in the revision history. Defaults to 10.'),
    minReadySeconds: int(),
    persistentVolumeClaimRetentionPolicy: obj({
      whenDeleted: { ...retentionPolicyType, description: 'What happens to the claims when the StatefulSet is deleted.' },
      whenScaled: { ...retentionPolicyType, description: 'What happens to the claims of the pods removed by a scale down.' },
    }),
    ordinals: obj({ start: int('The number representing the first replica\'s index.') }),
  },
  { required: ['selector', 'template'] },
);

export const statefulSetStatusSchema: ObjectSchema = obj(
  {
    observedGeneration: int(),
    replicas: int(),
    readyReplicas: int(),
    currentReplicas: int(),
    updatedReplicas: int(),
    currentRevision: str(),
    updateRevision: str(),
    collisionCount: int(),
    conditions: listByKey(statefulSetConditionSchema, 'type'),
    availableReplicas: int(),
  },
  { required: ['replicas'] },
);

export const statefulSetSchema: ObjectSchema = obj({
  ...typeMetaFields,
  metadata: objectMetaSchema,
  spec: statefulSetSpecSchema,
  status: statefulSetStatusSchema,
});

// ---------------------------------------------------------------------------------------------
// Defaults

/** Go's `len(s) == 0`: an empty string counts as unset. */
const unsetString = (v: unknown): boolean => v === undefined || v === '';
const orDefault = <T extends string>(v: T | undefined, d: T): T => (v === undefined || v === '' ? d : v);

export function defaultStatefulSet(set: StatefulSet): StatefulSet {
  const spec: StatefulSetSpec = set.spec ?? ({} as StatefulSetSpec);
  const policy = spec.persistentVolumeClaimRetentionPolicy;
  return {
    ...set,
    spec: {
      ...spec,
      replicas: spec.replicas ?? 1,
      template: defaultPodTemplateSpec(spec.template ?? ({} as PodTemplateSpec)),
      ...(Array.isArray(spec.volumeClaimTemplates) ? { volumeClaimTemplates: spec.volumeClaimTemplates.map(defaultVolumeClaimTemplate) } : {}),
      podManagementPolicy: orDefault(spec.podManagementPolicy, 'OrderedReady'),
      updateStrategy: defaultUpdateStrategy(spec.updateStrategy),
      revisionHistoryLimit: spec.revisionHistoryLimit ?? 10,
      persistentVolumeClaimRetentionPolicy: {
        ...policy,
        whenDeleted: orDefault(policy?.whenDeleted, 'Retain'),
        whenScaled: orDefault(policy?.whenScaled, 'Retain'),
      },
    },
  };
}

function defaultUpdateStrategy(s: StatefulSetUpdateStrategy | undefined): StatefulSetUpdateStrategy {
  const type = orDefault(s?.type, 'RollingUpdate');
  let rollingUpdate = s?.rollingUpdate;
  if (unsetString(s?.type)) rollingUpdate ??= {};
  if (type === 'RollingUpdate' && rollingUpdate !== undefined) rollingUpdate = { ...rollingUpdate, partition: rollingUpdate.partition ?? 0 };
  return { ...s, type, ...(rollingUpdate !== undefined ? { rollingUpdate } : {}) };
}

const isRecord = (v: unknown): v is Readonly<Record<string, unknown>> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Upstream strips a claim template's apiVersion/kind on the way in and sets them on the way out, and
 * its core defaults give the claim volumeMode Filesystem and phase Pending. Non-objects are left for
 * validation to report.
 */
function defaultVolumeClaimTemplate(t: VolumeClaimTemplate): VolumeClaimTemplate {
  if (!isRecord(t)) return t;
  const out: Record<string, unknown> = { ...t, apiVersion: 'v1', kind: 'PersistentVolumeClaim' };
  const spec: unknown = t.spec ?? {};
  if (isRecord(spec)) out['spec'] = { ...spec, volumeMode: spec['volumeMode'] ?? 'Filesystem' };
  const status: unknown = t.status ?? {};
  if (isRecord(status)) out['status'] = { ...status, phase: unsetString(status['phase']) ? 'Pending' : status['phase'] };
  return out as VolumeClaimTemplate;
}

// ---------------------------------------------------------------------------------------------
// Validation

/** Upstream's wording (pkg/apis/apps/validation ValidateStatefulSetUpdate). */
export const STATEFULSET_SPEC_UPDATE_FORBIDDEN =
  "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden";

export function validateStatefulSet(set: StatefulSet): FieldError[] {
  return [
    ...validateObjectMeta(set.metadata, { namespaced: true, nameValidator: isDNS1123Label }, paths.metadata),
    ...validateStatefulSetSpec(set.spec ?? ({} as StatefulSetSpec), paths.spec),
  ];
}

/** The name is not checked again: sets named under the older DNS-subdomain rule must stay updatable. */
export function validateStatefulSetUpdate(set: StatefulSet, old: StatefulSet): FieldError[] {
  const spec = set.spec ?? ({} as StatefulSetSpec);
  return [
    ...validateObjectMetaUpdate(set.metadata, old.metadata, paths.metadata),
    ...validateStatefulSetSpec(spec, paths.spec),
    ...(semanticEqual(fixedFields(spec), fixedFields(old.spec ?? ({} as StatefulSetSpec)))
      ? []
      : [forbidden(paths.spec, STATEFULSET_SPEC_UPDATE_FORBIDDEN)]),
    ...validateStatefulSetStatus(set.status ?? {}, paths.status),
    ...validateNotDecremented(set.status?.collisionCount, old.status?.collisionCount, paths.status.child('collisionCount')),
  ];
}

/** The spec without the fields an update may change; an empty serviceName is an absent one, as in Go. */
function fixedFields(spec: StatefulSetSpec): Record<string, unknown> {
  const {
    replicas: _r,
    template: _t,
    updateStrategy: _u,
    minReadySeconds: _m,
    ordinals: _o,
    persistentVolumeClaimRetentionPolicy: _p,
    revisionHistoryLimit: _h,
    serviceName,
    ...rest
  } = spec;
  return { ...rest, ...(serviceName ? { serviceName } : {}) };
}

export function validateStatefulSetSpec(spec: StatefulSetSpec, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const policy = spec.podManagementPolicy ?? '';
  if (policy === '') errs.push(required(path.child('podManagementPolicy'), ''));
  else if (!POD_MANAGEMENT_POLICIES.includes(policy)) {
    errs.push(invalid(path.child('podManagementPolicy'), policy, "must be 'OrderedReady' or 'Parallel'"));
  }
  errs.push(...validateStatefulSetUpdateStrategy(spec.updateStrategy ?? {}, path.child('updateStrategy')));
  errs.push(...validateRetentionPolicy(spec.persistentVolumeClaimRetentionPolicy, path.child('persistentVolumeClaimRetentionPolicy')));
  errs.push(...validateNonnegative(spec.replicas, path.child('replicas')));
  errs.push(...validateNonnegative(spec.minReadySeconds, path.child('minReadySeconds')));
  if (spec.ordinals !== undefined) errs.push(...validateNonnegative(spec.ordinals.start, path.child('ordinals').child('start')));
  errs.push(...validateWorkloadSelector(spec.selector, 'statefulset', path.child('selector')));
  const selector = selectorOrUndefined(spec.selector);
  if (selector === undefined) errs.push(invalid(path.child('selector'), spec.selector, ''));
  else errs.push(...validateStatefulSetTemplate(spec.template, selector, path.child('template')));
  const podSpec = spec.template?.spec;
  const restartPolicy = podSpec?.restartPolicy ?? '';
  if (restartPolicy !== 'Always') errs.push(notSupported(path.child('template').child('spec').child('restartPolicy'), restartPolicy, ['Always']));
  if (podSpec?.activeDeadlineSeconds !== undefined && podSpec.activeDeadlineSeconds !== null) {
    errs.push(forbidden(path.child('template').child('spec').child('activeDeadlineSeconds'), 'activeDeadlineSeconds in StatefulSet is not Supported'));
  }
  errs.push(...validateVolumeClaimTemplates(spec.volumeClaimTemplates, path.child('volumeClaimTemplates')));
  return errs;
}

/**
 * Upstream ValidatePodTemplateSpecForStatefulSet: labels selected by the selector, labels and annotations
 * well-formed (reported at `template.labels`, without `metadata`, as upstream). No pod spec checks.
 */
function validateStatefulSetTemplate(template: PodTemplateSpec | undefined, selector: Selector, path: FieldPath): FieldError[] {
  if (template === undefined) return [required(path, '')];
  const errs: FieldError[] = [];
  const labels = template.metadata?.labels;
  if (!isEverything(selector) && !matches(selector, labels)) {
    errs.push(invalid(path.child('metadata').child('labels'), labels ?? {}, '`selector` does not match template `labels`'));
  }
  errs.push(...validateLabels(labels, path.child('labels')));
  errs.push(...validateAnnotations(template.metadata?.annotations, path.child('annotations')));
  return errs;
}

export function validateStatefulSetUpdateStrategy(s: StatefulSetUpdateStrategy, path: FieldPath): FieldError[] {
  const type: string = s.type ?? '';
  switch (type) {
    case '':
      return [required(path, '')];
    case 'OnDelete':
      return s.rollingUpdate === undefined ? [] : [invalid(path.child('rollingUpdate'), s.rollingUpdate, "only allowed for updateStrategy 'RollingUpdate'")];
    case 'RollingUpdate':
      return s.rollingUpdate === undefined ? [] : validateRollingUpdateStatefulSet(s.rollingUpdate, path.child('rollingUpdate'));
    default:
      return [invalid(path, s, "must be 'RollingUpdate' or 'OnDelete'")];
  }
}

export function validateRollingUpdateStatefulSet(ru: RollingUpdateStatefulSetStrategy, path: FieldPath): FieldError[] {
  const errs = validateNonnegative(ru.partition, path.child('partition'));
  if (ru.maxUnavailable !== undefined) {
    const mu = path.child('maxUnavailable');
    errs.push(...validateIntOrPercent(ru.maxUnavailable, mu));
    if (intOrPercentValue(ru.maxUnavailable) === 0) errs.push(invalid(mu, ru.maxUnavailable, 'cannot be 0'));
    errs.push(...validateNotMoreThan100Percent(ru.maxUnavailable, mu));
  }
  return errs;
}

function validateRetentionPolicy(p: StatefulSetPersistentVolumeClaimRetentionPolicy | undefined, path: FieldPath): FieldError[] {
  if (p === undefined) return [];
  const errs: FieldError[] = [];
  for (const k of ['whenDeleted', 'whenScaled'] as const) {
    const v: string = p[k] ?? '';
    if (!(PVC_RETENTION_POLICIES as readonly string[]).includes(v)) errs.push(notSupported(path.child(k), v, PVC_RETENTION_POLICIES));
  }
  return errs;
}

/** Each entry an object with a name, the volume name pods mount it by. */
function validateVolumeClaimTemplates(templates: readonly VolumeClaimTemplate[] | undefined, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  (templates ?? []).forEach((t, i) => {
    if (!isRecord(t)) errs.push(invalid(path.index(i), t, 'must be a PersistentVolumeClaim object'));
    else if (!isRecord(t.metadata) || typeof t.metadata.name !== 'string' || t.metadata.name === '') {
      errs.push(required(path.index(i).child('metadata').child('name'), ''));
    }
  });
  return errs;
}

export function validateStatefulSetStatus(s: StatefulSetStatus, path: FieldPath): FieldError[] {
  const keys = ['replicas', 'readyReplicas', 'currentReplicas', 'updatedReplicas', 'availableReplicas', 'observedGeneration', 'collisionCount'] as const;
  const errs = keys.flatMap((k) => validateNonnegative(s[k], path.child(k)));
  const replicas = s.replicas ?? 0;
  const msg = 'cannot be greater than status.replicas';
  for (const k of ['readyReplicas', 'currentReplicas', 'updatedReplicas', 'availableReplicas'] as const) {
    if ((s[k] ?? 0) > replicas) errs.push(invalid(path.child(k), s[k], msg));
  }
  if ((s.availableReplicas ?? 0) > (s.readyReplicas ?? 0)) {
    errs.push(invalid(path.child('availableReplicas'), s.availableReplicas, 'cannot be greater than status.readyReplicas'));
  }
  return errs;
}

export const statefulSetKind: KindDefinition<StatefulSet> = {
  group: 'apps',
  version: 'v1',
  kind: 'StatefulSet',
  plural: 'statefulsets',
  singular: 'statefulset',
  namespaced: true,
  shortNames: ['sts'],
  categories: ['all'],
  schema: statefulSetSchema,
  hasStatusSubresource: true,
  default: defaultStatefulSet,
  validate: validateStatefulSet,
  validateUpdate: validateStatefulSetUpdate,
};
