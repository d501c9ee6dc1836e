/**
 * Validation of scheduling constraints (upstream core validation: validateAffinity, ValidateTolerations,
 * validateNodeTaints, validateTopologySpreadConstraints), with upstream's paths and messages.
 */
import type { FieldError, FieldPath } from '../field-errors.js';
import { duplicate, forbidden, invalid, notSupported, required } from '../field-errors.js';
import { validateLabelSelector } from '../labels.js';
import { isDNS1123Label, isQualifiedName, isValidLabelValue, validateQualifiedName } from '../names.js';
import type {
  Affinity,
  NodeSelector,
  NodeSelectorRequirement,
  NodeSelectorTerm,
  PodAffinity,
  PodAffinityTerm,
  Taint,
  Toleration,
  TopologySpreadConstraint,
} from './scheduling.js';
import { TAINT_EFFECTS } from './scheduling.js';

const labelName = (key: string, path: FieldPath): FieldError[] => isQualifiedName(key).map((m) => invalid(path, key, m));

export function validateNodeSelectorRequirement(rq: NodeSelectorRequirement, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const n = rq.values?.length ?? 0;
  switch (rq.operator) {
    case 'In':
    case 'NotIn':
      if (n === 0) errs.push(required(path.child('values'), "must be specified when `operator` is 'In' or 'NotIn'"));
      break;
    case 'Exists':
    case 'DoesNotExist':
      if (n > 0) errs.push(forbidden(path.child('values'), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
      break;
    case 'Gt':
    case 'Lt':
      if (n !== 1) errs.push(required(path.child('values'), "must be specified single value when `operator` is 'Lt' or 'Gt'"));
      break;
    default:
      errs.push(invalid(path.child('operator'), rq.operator, 'not a valid selector operator'));
  }
  errs.push(...labelName(rq.key, path.child('key')));
  return errs;
}

function validateNodeFieldSelectorRequirement(rq: NodeSelectorRequirement, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  switch (rq.operator) {
    case 'In':
    case 'NotIn':
      if ((rq.values?.length ?? 0) !== 1) {
        errs.push(required(path.child('values'), "must be only one value when `operator` is 'In' or 'NotIn' for node field selector"));
      }
      break;
    default:
      errs.push(invalid(path.child('operator'), rq.operator, 'not a valid selector operator'));
  }
  if (rq.key !== 'metadata.name') errs.push(invalid(path.child('key'), rq.key, "must be 'metadata.name'"));
  return errs;
}

export function validateNodeSelectorTerm(term: NodeSelectorTerm, path: FieldPath): FieldError[] {
  return [
    ...(term.matchExpressions ?? []).flatMap((r, i) => validateNodeSelectorRequirement(r, path.child('matchExpressions').index(i))),
    ...(term.matchFields ?? []).flatMap((r, i) => validateNodeFieldSelectorRequirement(r, path.child('matchFields').index(i))),
  ];
}

export function validateNodeSelector(sel: NodeSelector, path: FieldPath): FieldError[] {
  const terms = path.child('nodeSelectorTerms');
  if ((sel.nodeSelectorTerms ?? []).length === 0) return [required(terms, 'must have at least one node selector term')];
  return sel.nodeSelectorTerms.flatMap((t, i) => validateNodeSelectorTerm(t, terms.index(i)));
}

const validateWeight = (w: number, path: FieldPath): FieldError[] =>
  w <= 0 || w > 100 ? [invalid(path, w, 'must be in the range 1-100')] : [];

function validatePodAffinityTerm(term: PodAffinityTerm, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [
    ...validateLabelSelector(term.labelSelector, path.child('labelSelector')),
    ...validateLabelSelector(term.namespaceSelector, path.child('namespaceSelector')),
  ];
  (term.namespaces ?? []).forEach((ns) => {
    for (const msg of isDNS1123Label(ns)) errs.push(invalid(path.child('namespace'), ns, msg));
  });
  if (!term.topologyKey) errs.push(required(path.child('topologyKey'), 'can not be empty'));
  else errs.push(...labelName(term.topologyKey, path.child('topologyKey')));
  return errs;
}

function validatePodAffinity(a: PodAffinity, path: FieldPath): FieldError[] {
  const req = path.child('requiredDuringSchedulingIgnoredDuringExecution');
  const pref = path.child('preferredDuringSchedulingIgnoredDuringExecution');
  return [
    ...(a.requiredDuringSchedulingIgnoredDuringExecution ?? []).flatMap((t, i) => validatePodAffinityTerm(t, req.index(i))),
    ...(a.preferredDuringSchedulingIgnoredDuringExecution ?? []).flatMap((w, i) => [
      ...validateWeight(w.weight, pref.index(i).child('weight')),
      ...validatePodAffinityTerm(w.podAffinityTerm ?? { topologyKey: '' }, pref.index(i).child('podAffinityTerm')),
    ]),
  ];
}

export function validateAffinity(a: Affinity | undefined, path: FieldPath): FieldError[] {
  if (a === undefined) return [];
  const errs: FieldError[] = [];
  const na = a.nodeAffinity;
  if (na) {
    const nap = path.child('nodeAffinity');
    if (na.requiredDuringSchedulingIgnoredDuringExecution) {
      errs.push(...validateNodeSelector(na.requiredDuringSchedulingIgnoredDuringExecution, nap.child('requiredDuringSchedulingIgnoredDuringExecution')));
    }
    const pref = nap.child('preferredDuringSchedulingIgnoredDuringExecution');
    (na.preferredDuringSchedulingIgnoredDuringExecution ?? []).forEach((t, i) => {
      errs.push(...validateWeight(t.weight, pref.index(i).child('weight')));
      errs.push(...validateNodeSelectorTerm(t.preference ?? {}, pref.index(i).child('preference')));
    });
  }
  if (a.podAffinity) errs.push(...validatePodAffinity(a.podAffinity, path.child('podAffinity')));
  if (a.podAntiAffinity) errs.push(...validatePodAffinity(a.podAntiAffinity, path.child('podAntiAffinity')));
  return errs;
}

function validateTaintEffect(effect: string | undefined, allowEmpty: boolean, path: FieldPath): FieldError[] {
  if (!effect) return allowEmpty ? [] : [required(path)];
  return (TAINT_EFFECTS as readonly string[]).includes(effect) ? [] : [notSupported(path, effect, TAINT_EFFECTS)];
}

export function validateTolerations(tolerations: readonly Toleration[] | undefined, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  (tolerations ?? []).forEach((t, i) => {
    const p = path.index(i);
    const key = t.key ?? '';
    if (key !== '') errs.push(...labelName(key, p.child('key')));
    if (key === '' && t.operator !== 'Exists') {
      errs.push(
        invalid(p.child('operator'), t.operator ?? '', 'operator must be Exists when `key` is empty, which means "match all values and all keys"'),
      );
    }
    if (t.tolerationSeconds !== undefined && t.effect !== 'NoExecute') {
      errs.push(invalid(p.child('effect'), t.effect ?? '', "effect must be 'NoExecute' when `tolerationSeconds` is set"));
    }
    switch (t.operator ?? '') {
      case 'Equal':
      case '': {
        const msgs = isValidLabelValue(t.value ?? '');
        if (msgs.length > 0) errs.push(invalid(p.child('operator'), t.value ?? '', msgs.join(';')));
        break;
      }
      case 'Exists':
        if ((t.value ?? '') !== '') errs.push(invalid(p.child('operator'), t, "value must be empty when `operator` is 'Exists'"));
        break;
      default:
        errs.push(notSupported(p.child('operator'), t.operator, ['Equal', 'Exists']));
    }
    errs.push(...validateTaintEffect(t.effect, true, p.child('effect')));
  });
  return errs;
}

/** Node taints: valid key, value and effect; unique by (key, effect). */
export function validateTaints(taints: readonly Taint[] | undefined, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  (taints ?? []).forEach((t, i) => {
    const p = path.index(i);
    errs.push(...labelName(t.key ?? '', p.child('key')));
    const msgs = isValidLabelValue(t.value ?? '');
    if (msgs.length > 0) errs.push(invalid(p.child('value'), t.value ?? '', msgs.join(';')));
    errs.push(...validateTaintEffect(t.effect, false, p.child('effect')));
    const id = `${t.effect ?? ''}\u0000${t.key ?? ''}`;
    if (seen.has(id)) errs.push({ ...duplicate(p, t), detail: 'taints must be unique by key and effect pair' });
    else seen.add(id);
  });
  return errs;
}

export function validateTopologySpreadConstraints(
  constraints: readonly TopologySpreadConstraint[] | undefined,
  path: FieldPath,
): FieldError[] {
  const errs: FieldError[] = [];
  const list = constraints ?? [];
  list.forEach((c, i) => {
    const p = path.index(i);
    if (!(c.maxSkew > 0)) errs.push(invalid(p.child('maxSkew'), c.maxSkew, 'must be greater than zero'));
    if (!c.topologyKey) errs.push(required(p.child('topologyKey'), 'can not be empty'));
    else errs.push(...validateQualifiedName(c.topologyKey, p.child('topologyKey')));
    if (c.whenUnsatisfiable !== 'DoNotSchedule' && c.whenUnsatisfiable !== 'ScheduleAnyway') {
      errs.push(notSupported(p.child('whenUnsatisfiable'), c.whenUnsatisfiable, ['DoNotSchedule', 'ScheduleAnyway']));
    }
    if (list.slice(i + 1).some((o) => o.topologyKey === c.topologyKey && o.whenUnsatisfiable === c.whenUnsatisfiable)) {
      errs.push(duplicate(p.child('{topologyKey, whenUnsatisfiable}'), `{${c.topologyKey}, ${c.whenUnsatisfiable}}`));
    }
    if (c.minDomains !== undefined) {
      if (c.whenUnsatisfiable !== 'DoNotSchedule') {
        errs.push(invalid(p.child('minDomains'), c.minDomains, `can only use minDomains if whenUnsatisfiable=DoNotSchedule, not ${c.whenUnsatisfiable}`));
      }
      if (c.minDomains <= 0) errs.push(invalid(p.child('minDomains'), c.minDomains, 'must be greater than zero'));
    }
    for (const f of ['nodeAffinityPolicy', 'nodeTaintsPolicy'] as const) {
      const v = c[f];
      if (v !== undefined && v !== 'Honor' && v !== 'Ignore') errs.push(notSupported(p.child(f), v, ['Honor', 'Ignore']));
    }
    errs.push(...validateLabelSelector(c.labelSelector, p.child('labelSelector')));
  });
  return errs;
}
