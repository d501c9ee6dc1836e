/**
 * RBAC's matching rules, pure: does a rule grant a request, does a binding's subject name a user, and
 * does one set of rules cover another (the escalation check). The semantics are upstream's
 * (plugin/pkg/auth/authorizer/rbac and pkg/registry/rbac/validation), restated here:
 *
 * - `*` in verbs, apiGroups, resources or nonResourceURLs matches anything; `pods/*` is not special
 *   when matching a request, but a star followed by `/status` matches the status subresource of every resource.
 * - resourceNames limit a rule to those objects; a request naming no object (list, create) does not
 *   match a rule with resourceNames.
 * - A nonResourceURL ending in `*` matches every path with that prefix.
 */
import type { UserInfo } from '../auth/types.js';
import type { Attributes, Rule } from './types.js';

export const ALL = '*';

/**
 * The list, or empty when it is not one: the escalation check runs before validation and stored
 * objects are not re-validated, so a malformed rule (verbs: null) must match nothing, not throw.
 */
function list(l: readonly string[] | undefined): readonly string[] {
  return Array.isArray(l) ? l : [];
}

function has(l: readonly string[] | undefined, value: string): boolean {
  const items = list(l);
  return items.includes(ALL) || items.includes(value);
}

export function verbMatches(rule: Rule, verb: string): boolean {
  return has(rule.verbs, verb);
}

export function apiGroupMatches(rule: Rule, group: string): boolean {
  return has(rule.apiGroups, group);
}

export function resourceMatches(rule: Rule, resource: string, subresource: string): boolean {
  const wanted = subresource !== '' ? `${resource}/${subresource}` : resource;
  for (const r of list(rule.resources)) {
    if (r === ALL || r === wanted) return true;
    if (subresource !== '' && r === `*/${subresource}`) return true;
  }
  return false;
}

export function resourceNameMatches(rule: Rule, name: string): boolean {
  const names = list(rule.resourceNames);
  if (names.length === 0) return true;
  return name !== '' && names.includes(name);
}

export function nonResourceURLMatches(rule: Rule, path: string): boolean {
  for (const u of list(rule.nonResourceURLs)) {
    if (u === ALL || u === path) return true;
    if (u.endsWith(ALL) && path.startsWith(u.slice(0, -1))) return true;
  }
  return false;
}

/** True when `rule` grants the request described by `attrs`. */
export function ruleAllows(attrs: Attributes, rule: Rule): boolean {
  if (!verbMatches(rule, attrs.verb)) return false;
  if (!attrs.resourceRequest) return nonResourceURLMatches(rule, attrs.path);
  return apiGroupMatches(rule, attrs.apiGroup) && resourceMatches(rule, attrs.resource, attrs.subresource) && resourceNameMatches(rule, attrs.name);
}

/** A binding's subject (rbac.authorization.k8s.io/v1 Subject). */
export interface SubjectRef {
  readonly kind: string;
  readonly name: string;
  readonly namespace?: string;
}

export const SERVICE_ACCOUNT_PREFIX = 'system:serviceaccount:';

/** The user name of a service account (what its tokens authenticate as). */
export function serviceAccountUser(namespace: string, name: string): string {
  return `${SERVICE_ACCOUNT_PREFIX}${namespace}:${name}`;
}

/**
 * The key a subject is indexed under: `u:<user name>` or `g:<group>`; a ServiceAccount is the user it
 * authenticates as (an empty namespace in a RoleBinding means the binding's own). Undefined for kinds
 * RBAC does not know (validation refuses them; old stored objects are ignored).
 */
export function subjectKey(s: SubjectRef, bindingNamespace: string): string | undefined {
  switch (s.kind) {
    case 'User':
      return `u:${s.name}`;
    case 'Group':
      return `g:${s.name}`;
    case 'ServiceAccount': {
      const ns = s.namespace !== undefined && s.namespace !== '' ? s.namespace : bindingNamespace;
      return ns === '' ? undefined : `u:${serviceAccountUser(ns, s.name)}`;
    }
    default:
      return undefined;
  }
}

/** The keys a user is found under: its name and each of its groups. */
export function userKeys(user: UserInfo): string[] {
  return [`u:${user.name}`, ...user.groups.map((g) => `g:${g}`)];
}

/** `User "jane"`, `Group "dev"`, `ServiceAccount "ns:name"`: how an allow reason names the subject. */
export function describeSubjectKey(key: string): string {
  const body = key.slice(2);
  if (key.startsWith('g:')) return `Group "${body}"`;
  if (body.startsWith(SERVICE_ACCOUNT_PREFIX)) return `ServiceAccount "${body.slice(SERVICE_ACCOUNT_PREFIX.length)}"`;
  return `User "${body}"`;
}

// ---- coverage (escalation prevention) ----------------------------------------------------------

/** One verb on one thing: a rule broken down as upstream's BreakdownRule does. */
interface Atom {
  readonly verb: string;
  readonly group?: string;
  readonly resource?: string;
  readonly name?: string;
  readonly url?: string;
}

function breakdown(rule: Rule): Atom[] {
  const out: Atom[] = [];
  for (const verb of list(rule.verbs)) {
    for (const group of list(rule.apiGroups)) {
      for (const resource of list(rule.resources)) {
        const names = list(rule.resourceNames);
        if (names.length === 0) out.push({ verb, group, resource });
        else for (const name of names) out.push({ verb, group, resource, name });
      }
    }
    for (const url of list(rule.nonResourceURLs)) out.push({ verb, url });
  }
  return out;
}

function resourceCovers(owner: readonly string[], wanted: string): boolean {
  if (owner.includes(ALL) || owner.includes(wanted)) return true;
  const slash = wanted.indexOf('/');
  return slash >= 0 && owner.includes(`*/${wanted.slice(slash + 1)}`);
}

function urlCovers(owner: readonly string[], wanted: string): boolean {
  for (const u of owner) {
    if (u === ALL || u === wanted) return true;
    if (u.endsWith(ALL) && wanted.startsWith(u.slice(0, -1))) return true;
  }
  return false;
}

function atomCovered(owner: Rule, atom: Atom): boolean {
  if (!has(owner.verbs, atom.verb)) return false;
  if (atom.url !== undefined) return urlCovers(list(owner.nonResourceURLs), atom.url);
  if (!has(owner.apiGroups, atom.group ?? '') || !resourceCovers(list(owner.resources), atom.resource ?? '')) return false;
  const names = list(owner.resourceNames);
  return names.length === 0 || (atom.name !== undefined && names.includes(atom.name));
}

/**
 * The parts of `wanted` that `owner` does not grant, as rules (empty: covered). Used to refuse a
 * Role or binding that would give more than its author holds.
 */
export function uncoveredRules(owner: readonly Rule[], wanted: readonly Rule[]): Rule[] {
  const missing: Rule[] = [];
  for (const rule of Array.isArray(wanted) ? wanted : []) {
    if (typeof rule !== 'object' || rule === null) continue;
    for (const atom of breakdown(rule)) {
      if (owner.some((o) => atomCovered(o, atom))) continue;
      missing.push(
        atom.url !== undefined
          ? { verbs: [atom.verb], nonResourceURLs: [atom.url] }
          : { verbs: [atom.verb], apiGroups: [atom.group ?? ''], resources: [atom.resource ?? ''], ...(atom.name !== undefined ? { resourceNames: [atom.name] } : {}) },
      );
    }
  }
  return missing;
}

/** A rule as upstream prints it in escalation errors: `{APIGroups:["apps"], Resources:["deployments"], Verbs:["get"]}`. */
export function formatRule(r: Rule): string {
  const q = (l: readonly string[]): string => `[${l.map((s) => JSON.stringify(s)).join(' ')}]`;
  const parts: string[] = [];
  if ((r.apiGroups ?? []).length > 0) parts.push(`APIGroups:${q(r.apiGroups ?? [])}`);
  if ((r.resources ?? []).length > 0) parts.push(`Resources:${q(r.resources ?? [])}`);
  if ((r.resourceNames ?? []).length > 0) parts.push(`ResourceNames:${q(r.resourceNames ?? [])}`);
  if ((r.nonResourceURLs ?? []).length > 0) parts.push(`NonResourceURLs:${q(r.nonResourceURLs ?? [])}`);
  parts.push(`Verbs:${q(r.verbs)}`);
  return `{${parts.join(', ')}}`;
}
