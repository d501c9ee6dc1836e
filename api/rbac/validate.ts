/**
 * Defaulting and validation of the rbac.authorization.k8s.io/v1 kinds, as upstream's
 * pkg/apis/rbac/v1/defaults.go and pkg/apis/rbac/validation. Names of roles and bindings only need to
 * be valid path segments (`system:node`, `system:controller:foo` are fine), as upstream's ValidateRBACName.
 *
 * One addition of ours: nonResourceURLs must start with `/` and may hold `*` only as their last
 * character (or be `*` alone). Upstream's server accepts such URLs (kubectl create clusterrole refuses
 * them client-side); they could never match a request path anyway.
 */
import type { FieldError } from '../field-errors.js';
import { FieldPath, invalid, notSupported, required } from '../field-errors.js';
import { labelSelectorAsSelector, validateLabelSelector } from '../labels.js';
import { isDNS1123Subdomain, isPathSegmentName } from '../names.js';
import { validateObjectMeta, validateObjectMetaUpdate } from '../validate-meta.js';
import type { AggregationRule, ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding, RoleRef, Subject } from './types.js';
import { GROUP_KIND, NON_RESOURCE_ALL, RBAC_GROUP, SERVICE_ACCOUNT_KIND, USER_KIND } from './types.js';

/** Upstream ValidateRBACName: role and binding names (and roleRef.name) are path segments. */
export const validateRBACName = isPathSegmentName;

const SUBJECT_KINDS: readonly string[] = [SERVICE_ACCOUNT_KIND, USER_KIND, GROUP_KIND];

// ---- defaulting -------------------------------------------------------------------------------------

/** Upstream SetDefaults_Subject: User and Group subjects get the rbac apiGroup when it is empty. */
export function defaultSubject(s: Subject): Subject {
  if ((s.apiGroup ?? '') !== '') return s;
  return s.kind === USER_KIND || s.kind === GROUP_KIND ? { ...s, apiGroup: RBAC_GROUP } : s;
}

/** Upstream SetDefaults_RoleBinding / SetDefaults_ClusterRoleBinding, plus the subjects' defaults. */
export function defaultBinding<T extends RoleBinding | ClusterRoleBinding>(b: T): T {
  const ref = (b.roleRef ?? {}) as Partial<RoleRef>;
  const roleRef = (ref.apiGroup ?? '') === '' ? { ...ref, apiGroup: RBAC_GROUP } : ref;
  return {
    ...b,
    roleRef,
    ...(b.subjects !== undefined && b.subjects !== null ? { subjects: b.subjects.map(defaultSubject) } : {}),
  } as T;
}

// ---- rules ------------------------------------------------------------------------------------------

/** Upstream ValidatePolicyRule. `namespaced` rules (a Role's) may not name non-resource URLs. */
export function validatePolicyRule(rule: PolicyRule, namespaced: boolean, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const len = (l: readonly string[] | undefined | null): number => l?.length ?? 0;
  if (len(rule.verbs) === 0) errs.push(required(path.child('verbs'), 'verbs must contain at least one value'));
  if (len(rule.nonResourceURLs) > 0) {
    const urls = rule.nonResourceURLs ?? [];
    if (namespaced) errs.push(invalid(path.child('nonResourceURLs'), urls, 'namespaced rules cannot apply to non-resource URLs'));
    if (len(rule.apiGroups) > 0 || len(rule.resources) > 0 || len(rule.resourceNames) > 0) {
      errs.push(invalid(path.child('nonResourceURLs'), urls, 'rules cannot apply to both regular resources and non-resource URLs'));
    }
    if (!namespaced) urls.forEach((u, i) => errs.push(...validateNonResourceURL(u, path.child('nonResourceURLs').index(i))));
    return errs;
  }
  if (len(rule.apiGroups) === 0) errs.push(required(path.child('apiGroups'), 'resource rules must supply at least one api group'));
  if (len(rule.resources) === 0) errs.push(required(path.child('resources'), 'resource rules must supply at least one resource'));
  return errs;
}

/** kubectl's check: `*`, or a path starting with `/` whose only `*` (if any) is the last character. */
export function validateNonResourceURL(url: string, path: FieldPath): FieldError[] {
  if (url === NON_RESOURCE_ALL) return [];
  if (!url.startsWith('/')) return [invalid(path, url, 'nonResourceURL should start with /')];
  if (url.slice(0, -1).includes('*')) return [invalid(path, url, "nonResourceURL only supports wildcard matches when '*' is at the end")];
  return [];
}

function validateRules(rules: readonly PolicyRule[] | undefined | null, namespaced: boolean): FieldError[] {
  const path = FieldPath.root('rules');
  return (rules ?? []).flatMap((r, i) => validatePolicyRule(r, namespaced, path.index(i)));
}

function validateAggregationRule(agg: AggregationRule | undefined | null): FieldError[] {
  if (agg === undefined || agg === null) return [];
  const path = FieldPath.root('aggregationRule').child('clusterRoleSelectors');
  const selectors = agg.clusterRoleSelectors ?? [];
  const errs: FieldError[] = [];
  if (selectors.length === 0) errs.push(required(path, 'at least one clusterRoleSelector required if aggregationRule is non-nil'));
  selectors.forEach((sel, i) => {
    errs.push(...validateLabelSelector(sel, path.index(i)));
    try {
      labelSelectorAsSelector(sel);
    } catch {
      errs.push(invalid(path.index(i), sel, 'invalid label selector.'));
    }
  });
  return errs;
}

// ---- bindings ---------------------------------------------------------------------------------------

/** Upstream ValidateRoleBindingSubject. `namespaced`: the subject of a RoleBinding (namespace optional). */
export function validateSubject(s: Subject, namespaced: boolean, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const name = s.name ?? '';
  const apiGroup = s.apiGroup ?? '';
  if (name === '') errs.push(required(path.child('name')));
  switch (s.kind) {
    case SERVICE_ACCOUNT_KIND:
      if (name !== '') for (const msg of isDNS1123Subdomain(name)) errs.push(invalid(path.child('name'), name, msg));
      if (apiGroup !== '') errs.push(notSupported(path.child('apiGroup'), apiGroup, ['']));
      if (!namespaced && (s.namespace ?? '') === '') errs.push(required(path.child('namespace')));
      break;
    case USER_KIND:
    case GROUP_KIND:
      if (apiGroup !== RBAC_GROUP) errs.push(notSupported(path.child('apiGroup'), apiGroup, [RBAC_GROUP]));
      break;
    default:
      errs.push(notSupported(path.child('kind'), s.kind ?? '', SUBJECT_KINDS));
  }
  return errs;
}

function validateRoleRef(ref: Partial<RoleRef> | undefined | null, kinds: readonly string[]): FieldError[] {
  const path = FieldPath.root('roleRef');
  const apiGroup = ref?.apiGroup ?? '';
  const kind = ref?.kind ?? '';
  const name = ref?.name ?? '';
  const errs: FieldError[] = [];
  if (apiGroup !== RBAC_GROUP) errs.push(notSupported(path.child('apiGroup'), apiGroup, [RBAC_GROUP]));
  if (!kinds.includes(kind)) errs.push(notSupported(path.child('kind'), kind, kinds));
  if (name === '') errs.push(required(path.child('name')));
  else for (const msg of validateRBACName(name)) errs.push(invalid(path.child('name'), name, msg));
  return errs;
}

function validateBindingBody(b: RoleBinding | ClusterRoleBinding, namespaced: boolean): FieldError[] {
  const path = FieldPath.root('subjects');
  return [
    ...validateRoleRef(b.roleRef, namespaced ? ['Role', 'ClusterRole'] : ['ClusterRole']),
    ...(b.subjects ?? []).flatMap((s, i) => validateSubject(s, namespaced, path.index(i))),
  ];
}

function roleRefChanged(a: Partial<RoleRef> | undefined | null, b: Partial<RoleRef> | undefined | null): boolean {
  return (a?.apiGroup ?? '') !== (b?.apiGroup ?? '') || (a?.kind ?? '') !== (b?.kind ?? '') || (a?.name ?? '') !== (b?.name ?? '');
}

function validateRoleRefUnchanged(b: RoleBinding | ClusterRoleBinding, old: RoleBinding | ClusterRoleBinding): FieldError[] {
  return roleRefChanged(b.roleRef, old.roleRef) ? [invalid(FieldPath.root('roleRef'), b.roleRef, 'cannot change roleRef')] : [];
}

// ---- per kind ---------------------------------------------------------------------------------------

const meta = (): FieldPath => FieldPath.root('metadata');

export function validateRole(r: Role): FieldError[] {
  return [...validateObjectMeta(r.metadata, { namespaced: true, nameValidator: validateRBACName }, meta()), ...validateRules(r.rules, true)];
}

export function validateRoleUpdate(r: Role, old: Role): FieldError[] {
  return [...validateObjectMetaUpdate(r.metadata, old.metadata, meta()), ...validateRules(r.rules, true)];
}

export function validateClusterRole(r: ClusterRole): FieldError[] {
  return [
    ...validateObjectMeta(r.metadata, { namespaced: false, nameValidator: validateRBACName }, meta()),
    ...validateRules(r.rules, false),
    ...validateAggregationRule(r.aggregationRule),
  ];
}

export function validateClusterRoleUpdate(r: ClusterRole, old: ClusterRole): FieldError[] {
  return [...validateObjectMetaUpdate(r.metadata, old.metadata, meta()), ...validateRules(r.rules, false), ...validateAggregationRule(r.aggregationRule)];
}

export function validateRoleBinding(b: RoleBinding): FieldError[] {
  return [...validateObjectMeta(b.metadata, { namespaced: true, nameValidator: validateRBACName }, meta()), ...validateBindingBody(b, true)];
}

export function validateRoleBindingUpdate(b: RoleBinding, old: RoleBinding): FieldError[] {
  return [...validateObjectMetaUpdate(b.metadata, old.metadata, meta()), ...validateBindingBody(b, true), ...validateRoleRefUnchanged(b, old)];
}

export function validateClusterRoleBinding(b: ClusterRoleBinding): FieldError[] {
  return [...validateObjectMeta(b.metadata, { namespaced: false, nameValidator: validateRBACName }, meta()), ...validateBindingBody(b, false)];
}

export function validateClusterRoleBindingUpdate(b: ClusterRoleBinding, old: ClusterRoleBinding): FieldError[] {
  return [...validateObjectMetaUpdate(b.metadata, old.metadata, meta()), ...validateBindingBody(b, false), ...validateRoleRefUnchanged(b, old)];
}
