/**
 * policy/v1 PodDisruptionBudget: how many pods selected by `spec.selector` may be voluntarily disrupted
 * (evicted) at once. Types, schema and validation as upstream (k8s.io/api/policy/v1,
 * pkg/apis/policy/validation). The budget itself is computed by the disruption controller into `status`;
 * the eviction subresource reads `status.disruptionsAllowed`.
 *
 * Nothing is defaulted in policy/v1: a budget with neither minAvailable nor maxUnavailable is valid (the
 * disruption controller then wants 0 healthy pods). In policy/v1 an empty selector selects every pod of
 * the namespace and an absent one selects none.
 * Update rules: the spec is mutable (since 1.15); status fields are checked on updates, where the status
 * subresource lets them change.
 */
import type { KindDefinition } from '../kind.js';
import type { FieldError } from '../field-errors.js';
import { FieldPath, duplicate, invalid, notSupported, required } from '../field-errors.js';
import type { Condition, KubeObject, LabelSelector, ObjectMeta } from '../meta.js';
import { labelSelectorSchema, objectMetaSchema, typeMetaFields } from '../meta-schema.js';
import { int, intOrString, listByKey, mapOf, obj, str, time } from '../schema.js';
import type { ObjectSchema } from '../schema.js';
import { validateLabelSelector } from '../labels.js';
import { isQualifiedName, regexError } from '../names.js';
import { validateNonnegativeField, validateObjectMeta, validateObjectMetaUpdate } from '../validate-meta.js';
import type { IntOrString } from '../core/common.js';
import { validateIntOrPercent, validateNotMoreThan100Percent } from '../apps/common.js';

export type { IntOrString } from '../core/common.js';

/** Which unhealthy (running but not Ready) pods may be evicted: only while the budget holds, or always. */
export type UnhealthyPodEvictionPolicy = 'IfHealthyBudget' | 'AlwaysAllow';

/** Upstream's sorted list, as printed in NotSupported errors. */
export const UNHEALTHY_POD_EVICTION_POLICIES: readonly UnhealthyPodEvictionPolicy[] = ['AlwaysAllow', 'IfHealthyBudget'];

export interface PodDisruptionBudgetSpec {
  /** At least this many (or this percentage of) selected pods must stay available after an eviction. */
  readonly minAvailable?: IntOrString;
  readonly selector?: LabelSelector;
  /** At most this many (or this percentage of) selected pods may be unavailable after an eviction. */
  readonly maxUnavailable?: IntOrString;
  readonly unhealthyPodEvictionPolicy?: UnhealthyPodEvictionPolicy;
}

/** metav1.Condition (DisruptionAllowed). */
export type PodDisruptionBudgetCondition = Pick<Condition, 'type' | 'status' | 'observedGeneration' | 'lastTransitionTime' | 'reason' | 'message'>;

export interface PodDisruptionBudgetStatus {
  readonly observedGeneration?: number;
  /** Pod name -> time (RFC 3339) the eviction subresource accepted its eviction, until the pod is gone. */
  readonly disruptedPods?: Readonly<Record<string, string>>;
  readonly disruptionsAllowed: number;
  readonly currentHealthy: number;
  readonly desiredHealthy: number;
  readonly expectedPods: number;
  readonly conditions?: readonly PodDisruptionBudgetCondition[];
}

export interface PodDisruptionBudget extends KubeObject {
  readonly metadata: ObjectMeta;
  readonly spec?: PodDisruptionBudgetSpec;
  readonly status?: PodDisruptionBudgetStatus;
}

/** The condition type the disruption controller maintains, and its reasons (upstream policy/v1 constants). */
export const DISRUPTION_ALLOWED_CONDITION = 'DisruptionAllowed';
export const SYNC_FAILED_REASON = 'SyncFailed';
export const SUFFICIENT_PODS_REASON = 'SufficientPods';
export const INSUFFICIENT_PODS_REASON = 'InsufficientPods';

// ---------------------------------------------------------------------------------------------
// Schema

const pdbConditionSchema: ObjectSchema = obj(
  { type: str(), status: str(), observedGeneration: int(), lastTransitionTime: time(), reason: str(), message: str() },
  { required: ['type', 'status', 'lastTransitionTime', 'reason', 'message'] },
);

export const podDisruptionBudgetSpecSchema: ObjectSchema = obj({
  minAvailable: intOrString('An eviction is allowed if at least this many selected pods stay available (number or percentage).'),
  selector: labelSelectorSchema,
  maxUnavailable: intOrString('An eviction is allowed if at most this many selected pods are unavailable after it (number or percentage).'),
  unhealthyPodEvictionPolicy: {
    type: 'string',
    enum: ['IfHealthyBudget', 'AlwaysAllow'],
    description: 'When running but not Ready pods may be evicted.',
  },
});

export const podDisruptionBudgetStatusSchema: ObjectSchema = obj(
  {
    observedGeneration: int('The most recent generation observed when updating this status.'),
    disruptedPods: mapOf(time(), 'Pods whose eviction was processed but not yet observed by the controller, with the eviction time.'),
    disruptionsAllowed: int('Number of pod disruptions currently allowed.'),
    currentHealthy: int('Current number of healthy pods.'),
    desiredHealthy: int('Minimum desired number of healthy pods.'),
    expectedPods: int('Total number of pods counted by this disruption budget.'),
    conditions: listByKey(pdbConditionSchema, 'type'),
  },
  { required: ['disruptionsAllowed', 'currentHealthy', 'desiredHealthy', 'expectedPods'] },
);

export const podDisruptionBudgetSchema: ObjectSchema = obj({
  ...typeMetaFields,
  metadata: objectMetaSchema,
  spec: podDisruptionBudgetSpecSchema,
  status: podDisruptionBudgetStatusSchema,
});

// ---------------------------------------------------------------------------------------------
// Reading the budget

/**
 * Upstream intstr.GetScaledValueFromIntOrPercent: an integer as is, `N%` of `total` rounded up or down;
 * undefined for anything else (a string that is not a percentage). The disruption controller rounds up
 * both minAvailable and maxUnavailable percentages.
 */
export function scaledIntOrPercent(v: IntOrString, total: number, roundUp: boolean): number | undefined {
  if (typeof v === 'number') return Number.isInteger(v) ? v : undefined;
  const m = /^([0-9]+)%$/.exec(v);
  if (m === null) return undefined;
  const scaled = (Number.parseInt(m[1] ?? '0', 10) * total) / 100;
  return roundUp ? Math.ceil(scaled) : Math.floor(scaled);
}

// ---------------------------------------------------------------------------------------------
// Validation

const path = { metadata: FieldPath.root('metadata'), spec: FieldPath.root('spec'), status: FieldPath.root('status') };

export function validatePodDisruptionBudget(pdb: PodDisruptionBudget): FieldError[] {
  return [
    ...validateObjectMeta(pdb.metadata, { namespaced: true }, path.metadata),
    ...validatePodDisruptionBudgetSpec(pdb.spec ?? {}, path.spec),
  ];
}

export function validatePodDisruptionBudgetUpdate(pdb: PodDisruptionBudget, old: PodDisruptionBudget): FieldError[] {
  return [
    ...validateObjectMetaUpdate(pdb.metadata, old.metadata, path.metadata),
    ...validatePodDisruptionBudgetSpec(pdb.spec ?? {}, path.spec),
    ...(pdb.status === undefined ? [] : validatePodDisruptionBudgetStatus(pdb.status, path.status)),
  ];
}

export function validatePodDisruptionBudgetSpec(spec: PodDisruptionBudgetSpec, at: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  if (spec.minAvailable !== undefined && spec.maxUnavailable !== undefined) {
    errs.push(invalid(at, spec, 'minAvailable and maxUnavailable cannot be both set'));
  }
  for (const k of ['minAvailable', 'maxUnavailable'] as const) {
    const v = spec[k];
    if (v === undefined) continue;
    errs.push(...validateIntOrPercent(v, at.child(k)), ...validateNotMoreThan100Percent(v, at.child(k)));
  }
  errs.push(...validateLabelSelector(spec.selector, at.child('selector')));
  const policy = spec.unhealthyPodEvictionPolicy;
  if (policy !== undefined && !UNHEALTHY_POD_EVICTION_POLICIES.includes(policy)) {
    errs.push(notSupported(at.child('unhealthyPodEvictionPolicy'), policy, UNHEALTHY_POD_EVICTION_POLICIES));
  }
  return errs;
}

/** Upstream ValidatePodDisruptionBudgetStatusUpdate (policy/v1): valid conditions, non-negative counters. */
export function validatePodDisruptionBudgetStatus(status: PodDisruptionBudgetStatus, at: FieldPath): FieldError[] {
  const errs = validateMetaConditions(status.conditions, at.child('conditions'));
  for (const k of ['disruptionsAllowed', 'currentHealthy', 'desiredHealthy', 'expectedPods'] as const) {
    errs.push(...validateNonnegativeField(status[k] ?? 0, at.child(k)));
  }
  return errs;
}

const CONDITION_REASON_FMT = '[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?';
const CONDITION_REASON_RE = new RegExp(`^${CONDITION_REASON_FMT}$`);
const CONDITION_REASON_MSG =
  "a condition reason must start with alphabetic character, optionally followed by a string of alphanumeric characters or '_,:', and must end with an alphanumeric character or '_'";
const MAX_REASON_LEN = 1024;
const MAX_MESSAGE_LEN = 32 * 1024;
const CONDITION_STATUSES = ['False', 'True', 'Unknown'];

/** Upstream metav1 validation.ValidateConditions. */
export function validateMetaConditions(conditions: readonly PodDisruptionBudgetCondition[] | undefined, at: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  (conditions ?? []).forEach((c, i) => {
    const p = at.index(i);
    const type = c.type ?? '';
    if (seen.has(type)) errs.push(duplicate(p.child('type'), type));
    seen.add(type);
    errs.push(...isQualifiedName(type).map((m) => invalid(p.child('type'), type, m)));
    if (!CONDITION_STATUSES.includes(c.status)) errs.push(notSupported(p.child('status'), c.status ?? '', CONDITION_STATUSES));
    if ((c.observedGeneration ?? 0) < 0) {
      errs.push(invalid(p.child('observedGeneration'), c.observedGeneration, 'must be greater than or equal to zero'));
    }
    if ((c.lastTransitionTime ?? '') === '') errs.push(required(p.child('lastTransitionTime'), 'must be set'));
    const reason = c.reason ?? '';
    if (reason === '') {
      errs.push(required(p.child('reason'), 'must be set'));
    } else {
      if (!CONDITION_REASON_RE.test(reason)) {
        errs.push(invalid(p.child('reason'), reason, regexError(CONDITION_REASON_MSG, CONDITION_REASON_FMT, 'my_name', 'MY_NAME', 'MyName', 'ReasonA,ReasonB', 'ReasonA:ReasonB')));
      }
      if (reason.length > MAX_REASON_LEN) errs.push(tooLong(p.child('reason'), reason, MAX_REASON_LEN));
    }
    const message = c.message ?? '';
    if (message.length > MAX_MESSAGE_LEN) errs.push(tooLong(p.child('message'), message, MAX_MESSAGE_LEN));
  });
  return errs;
}

function tooLong(p: FieldPath, value: string, max: number): FieldError {
  return { type: 'FieldValueTooLong', field: p.toString(), value, detail: `may not be more than ${max} bytes` };
}

export const podDisruptionBudgetKind: KindDefinition<PodDisruptionBudget> = {
  group: 'policy',
  version: 'v1',
  kind: 'PodDisruptionBudget',
  plural: 'poddisruptionbudgets',
  singular: 'poddisruptionbudget',
  namespaced: true,
  shortNames: ['pdb'],
  categories: [],
  schema: podDisruptionBudgetSchema,
  hasStatusSubresource: true,
  default: (pdb) => pdb,
  validate: validatePodDisruptionBudget,
  validateUpdate: validatePodDisruptionBudgetUpdate,
};
