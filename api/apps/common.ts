/**
 * Validation pieces the apps/v1 workload kinds share (upstream pkg/apis/apps/validation): int-or-percent
 * rollout knobs, non-negative counters, the pod template of a replicated workload, and immutability
 * checks with upstream's semantic equality (an empty list equals an absent one). Pure functions.
 */
import type { FieldError } from '../field-errors.js';
import { FieldPath, forbidden, invalid, notSupported, required } from '../field-errors.js';
import type { LabelSelector } from '../meta.js';
import type { PodTemplateSpec } from '../core/pod.js';
import { validatePodTemplateSpec } from '../core/pod.js';
import { semanticEqual } from '../core/semantic.js';
import { FIELD_IMMUTABLE_MESSAGE, validateNonnegativeField } from '../validate-meta.js';
import { isEmptyLabelSelector, labelSelectorAsSelector, matches, validateLabelSelector } from '../labels.js';
import type { Selector } from '../labels.js';

/** JSON int-or-string: rollout knobs are `3` or `"25%"`. */
export type { IntOrString } from '../core/common.js';
import type { IntOrString } from '../core/common.js';

/** Upstream ValidateNonnegativeField; absent means "not set", which is fine. */
export const validateNonnegative = validateNonnegativeField;

const PERCENT = /^[0-9]+%$/;
const PERCENT_MSG =
  "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')";

/** Upstream ValidatePositiveIntOrPercent: a non-negative integer or `N%`. Absent means 0, as in Go. */
export function validateIntOrPercent(v: IntOrString | undefined, path: FieldPath): FieldError[] {
  if (v === undefined) return [];
  if (typeof v === 'string') return PERCENT.test(v) ? [] : [invalid(path, v, PERCENT_MSG)];
  if (Number.isInteger(v)) return validateNonnegative(v, path);
  return [invalid(path, v, "must be an integer or percentage (e.g '5%')")];
}

/** The number in `25%`, undefined for anything that is not a valid percent string. */
function percentValue(v: IntOrString | undefined): number | undefined {
  return typeof v === 'string' && PERCENT.test(v) ? Number.parseInt(v.slice(0, -1), 10) : undefined;
}

/** Upstream getIntOrPercentValue: the percent number, the integer, or 0 (Go's IntValue of a bad string). */
export function intOrPercentValue(v: IntOrString | undefined): number {
  const pct = percentValue(v);
  if (pct !== undefined) return pct;
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && /^[+-]?[0-9]+$/.test(v)) return Number.parseInt(v, 10);
  return 0;
}

export function validateNotMoreThan100Percent(v: IntOrString | undefined, path: FieldPath): FieldError[] {
  const pct = percentValue(v);
  return pct !== undefined && pct > 100 ? [invalid(path, v, 'must not be greater than 100%')] : [];
}

export function validateImmutable(newValue: unknown, oldValue: unknown, path: FieldPath): FieldError[] {
  return semanticEqual(newValue, oldValue) ? [] : [invalid(path, newValue, FIELD_IMMUTABLE_MESSAGE)];
}

/**
 * A workload's `spec.selector`: required, valid, not empty. `what` names the workload in the
 * empty-selector message; upstream says "deployment" for ReplicaSets too, and so do we.
 */
export function validateWorkloadSelector(sel: LabelSelector | undefined, what: string, path: FieldPath): FieldError[] {
  if (sel === undefined || sel === null) return [required(path, '')];
  const errs = validateLabelSelector(sel, path);
  if (isEmptyLabelSelector(sel)) errs.push(invalid(path, sel, `empty selector is invalid for ${what}`));
  return errs;
}

/** The selector as upstream's LabelSelectorAsSelector sees it, or undefined when it does not convert. */
export function selectorOrUndefined(sel: LabelSelector | undefined): Selector | undefined {
  try {
    return labelSelectorAsSelector(sel);
  } catch {
    return undefined;
  }
}

/** A controller's selector as a matcher; undefined when missing, invalid or empty (the controller then leaves the object alone). */
export function workloadSelector(sel: LabelSelector | undefined): Selector | undefined {
  const s = selectorOrUndefined(sel);
  return s === undefined || s.type === 'nothing' ? undefined : s;
}

/**
 * The pod template of a controller that keeps pods running (upstream ValidatePodTemplateSpecForReplicaSet
 * and the DaemonSet equivalent): labels selected by the selector, restartPolicy Always, no deadline.
 */
export function validateWorkloadTemplate(
  template: PodTemplateSpec | undefined,
  selector: Selector,
  owner: 'ReplicaSet' | 'DaemonSet',
  path: FieldPath,
): FieldError[] {
  if (template === undefined) return [required(path, '')];
  const errs: FieldError[] = [];
  const labels = template.metadata?.labels;
  if (!(selector.type === 'requirements' && selector.requirements.length === 0) && !matches(selector, labels)) {
    errs.push(invalid(path.child('metadata').child('labels'), labels ?? {}, '`selector` does not match template `labels`'));
  }
  errs.push(...validatePodTemplateSpec(template, path));
  const spec = template.spec;
  const restartPolicy = spec?.restartPolicy ?? '';
  if (restartPolicy !== 'Always') {
    errs.push(notSupported(path.child('spec').child('restartPolicy'), restartPolicy, ['Always']));
  }
  if (spec?.activeDeadlineSeconds !== undefined && spec.activeDeadlineSeconds !== null) {
    errs.push(forbidden(path.child('spec').child('activeDeadlineSeconds'), `activeDeadlineSeconds in ${owner} is not Supported`));
  }
  return errs;
}

/** Status counters that must not go backwards (upstream IsDecremented on collisionCount). */
export function validateNotDecremented(
  newValue: number | undefined,
  oldValue: number | undefined,
  path: FieldPath,
): FieldError[] {
  if (oldValue === undefined) return [];
  const now = newValue ?? 0;
  return now < oldValue ? [invalid(path, now, 'cannot be decremented')] : [];
}

/** `FieldPath.root('spec')` etc. in one place so kinds read `paths.spec.child('replicas')`. */
export const paths = {
  metadata: FieldPath.root('metadata'),
  spec: FieldPath.root('spec'),
  status: FieldPath.root('status'),
} as const;
