/**
 * The RBAC authorizer: a request is allowed when a ClusterRoleBinding, or a RoleBinding in the
 * request's namespace, binds the user (by name, by one of its groups, or as a service account) to a
 * role holding a rule that matches it. Nothing is ever denied: without a matching rule the answer is
 * "no opinion", and the request is refused because no authorizer allowed it (upstream's behaviour).
 *
 * Roles and bindings come from four StoreMirrors. Bindings are indexed by subject key (rules.ts
 * `subjectKey`), rebuilt lazily after a change, so a decision visits only the bindings that name the
 * user or one of its groups.
 */
import type { UserInfo } from '../auth/types.js';
import type { MirrorConsumer } from './store-mirror.js';
import { describeSubjectKey, ruleAllows, subjectKey, userKeys } from './rules.js';
import type { SubjectRef } from './rules.js';
import { allow, noOpinion } from './types.js';
import type { Attributes, Authorizer, Decision, Rule, RuleList, RuleResolver } from './types.js';

export const RBAC_GROUP = 'rbac.authorization.k8s.io';

interface Meta {
  readonly metadata?: { readonly name?: string; readonly namespace?: string };
}
export interface StoredRole extends Meta {
  readonly rules?: readonly Rule[];
}
export interface StoredBinding extends Meta {
  readonly subjects?: readonly SubjectRef[];
  readonly roleRef?: { readonly kind?: string; readonly name?: string };
}

interface Binding {
  readonly kind: 'ClusterRoleBinding' | 'RoleBinding';
  readonly name: string;
  readonly namespace: string;
  readonly roleKind: string;
  readonly roleName: string;
  readonly keys: readonly string[];
}

/** A keyed map fed by a StoreMirror; `changed` runs after every change. */
class MirrorMap<T> implements MirrorConsumer<T> {
  readonly items = new Map<string, T>();
  constructor(private readonly changed: () => void) {}
  reset(): void {
    this.items.clear();
    this.changed();
  }
  apply(key: string, value: T | undefined): void {
    if (value === undefined) this.items.delete(key);
    else this.items.set(key, value);
    this.changed();
  }
}

const nsName = (ns: string, name: string): string => `${ns}/${name}`;

export class RbacAuthorizer implements Authorizer, RuleResolver {
  readonly roles: MirrorMap<StoredRole>;
  readonly clusterRoles: MirrorMap<StoredRole>;
  readonly roleBindings: MirrorMap<StoredBinding>;
  readonly clusterRoleBindings: MirrorMap<StoredBinding>;

  private dirty = true;
  private roleRules = new Map<string, readonly Rule[]>();
  private clusterRoleRules = new Map<string, readonly Rule[]>();
  /** subject key -> ClusterRoleBindings naming it. */
  private clusterIndex = new Map<string, Binding[]>();
  /** namespace -> subject key -> RoleBindings naming it. */
  private namespaceIndex = new Map<string, Map<string, Binding[]>>();

  constructor() {
    const touch = (): void => {
      this.dirty = true;
    };
    this.roles = new MirrorMap(touch);
    this.clusterRoles = new MirrorMap(touch);
    this.roleBindings = new MirrorMap(touch);
    this.clusterRoleBindings = new MirrorMap(touch);
  }

  authorize(attrs: Attributes): Decision {
    this.refresh();
    for (const key of userKeys(attrs.user)) {
      for (const b of this.clusterIndex.get(key) ?? []) {
        if (this.rulesOf(b).some((r) => ruleAllows(attrs, r))) return allow(reasonOf(b, key));
      }
    }
    if (attrs.namespace !== '') {
      const index = this.namespaceIndex.get(attrs.namespace);
      for (const key of index !== undefined ? userKeys(attrs.user) : []) {
        for (const b of index?.get(key) ?? []) {
          if (this.rulesOf(b).some((r) => ruleAllows(attrs, r))) return allow(reasonOf(b, key));
        }
      }
    }
    return noOpinion();
  }

  /** Every rule bound to `user` cluster-wide, plus those bound in `namespace` ('' for none). */
  rulesFor(user: UserInfo, namespace: string): RuleList {
    this.refresh();
    const rules: Rule[] = [];
    const seen = new Set<Binding>();
    const keys = userKeys(user);
    const visit = (list: readonly Binding[] | undefined): void => {
      for (const b of list ?? []) {
        if (seen.has(b)) continue;
        seen.add(b);
        rules.push(...this.rulesOf(b));
      }
    };
    for (const key of keys) visit(this.clusterIndex.get(key));
    const index = namespace !== '' ? this.namespaceIndex.get(namespace) : undefined;
    for (const key of index !== undefined ? keys : []) visit(index?.get(key));
    return {
      resourceRules: rules.filter((r) => (r.nonResourceURLs ?? []).length === 0),
      nonResourceRules: rules.filter((r) => (r.nonResourceURLs ?? []).length > 0),
      incomplete: false,
    };
  }

  /** The rules of a role, or undefined when it does not exist (a binding may name a role not yet created). */
  roleRulesOf(kind: string, namespace: string, name: string): readonly Rule[] | undefined {
    this.refresh();
    return kind === 'Role' ? this.roleRules.get(nsName(namespace, name)) : this.clusterRoleRules.get(name);
  }

  private rulesOf(b: Binding): readonly Rule[] {
    if (b.roleKind === 'ClusterRole') return this.clusterRoleRules.get(b.roleName) ?? [];
    if (b.roleKind === 'Role' && b.kind === 'RoleBinding') return this.roleRules.get(nsName(b.namespace, b.roleName)) ?? [];
    return [];
  }

  private refresh(): void {
    if (!this.dirty) return;
    this.dirty = false;
    const roleRules = new Map<string, readonly Rule[]>();
    for (const r of this.roles.items.values()) roleRules.set(nsName(r.metadata?.namespace ?? '', r.metadata?.name ?? ''), wellFormed(r.rules));
    const clusterRoleRules = new Map<string, readonly Rule[]>();
    for (const r of this.clusterRoles.items.values()) clusterRoleRules.set(r.metadata?.name ?? '', wellFormed(r.rules));
    const clusterIndex = new Map<string, Binding[]>();
    for (const b of this.clusterRoleBindings.items.values()) addBinding(clusterIndex, toBinding('ClusterRoleBinding', b));
    const namespaceIndex = new Map<string, Map<string, Binding[]>>();
    for (const b of this.roleBindings.items.values()) {
      const binding = toBinding('RoleBinding', b);
      let index = namespaceIndex.get(binding.namespace);
      if (index === undefined) namespaceIndex.set(binding.namespace, (index = new Map()));
      addBinding(index, binding);
    }
    this.roleRules = roleRules;
    this.clusterRoleRules = clusterRoleRules;
    this.clusterIndex = clusterIndex;
    this.namespaceIndex = namespaceIndex;
  }
}

/** The rules that are objects (stored data is not re-validated; a malformed entry grants nothing). */
function wellFormed(rules: readonly Rule[] | undefined): readonly Rule[] {
  return Array.isArray(rules) ? rules.filter((r): r is Rule => typeof r === 'object' && r !== null) : [];
}

function toBinding(kind: Binding['kind'], b: StoredBinding): Binding {
  const namespace = kind === 'RoleBinding' ? (b.metadata?.namespace ?? '') : '';
  const keys = new Set<string>();
  for (const s of Array.isArray(b.subjects) ? b.subjects : []) {
    if (typeof s !== 'object' || s === null) continue;
    const k = subjectKey(s, namespace);
    if (k !== undefined) keys.add(k);
  }
  return { kind, name: b.metadata?.name ?? '', namespace, roleKind: b.roleRef?.kind ?? '', roleName: b.roleRef?.name ?? '', keys: [...keys] };
}

function addBinding(index: Map<string, Binding[]>, b: Binding): void {
  for (const k of b.keys) {
    const list = index.get(k);
    if (list === undefined) index.set(k, [b]);
    else list.push(b);
  }
}

/** Upstream's allow reason: `RBAC: allowed by ClusterRoleBinding "x" of ClusterRole "y" to Group "z"`. */
function reasonOf(b: Binding, key: string): string {
  const where = b.kind === 'RoleBinding' ? `RoleBinding "${b.name}/${b.namespace}"` : `ClusterRoleBinding "${b.name}"`;
  return `RBAC: allowed by ${where} of ${b.roleKind} "${b.roleName}" to ${describeSubjectKey(key)}`;
}
