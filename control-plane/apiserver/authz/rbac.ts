/**
 * The RBAC authorizer: a request is allowed when a ClusterRoleBinding, or a RoleBinding in the
 * request's namespace, binds the user (by name, by one of its groups, or as a service account) to a
 * role holding a rule that matches it. Nothing is ever denied: without a matching rule the answer is
 * "no opinion", and the request is refused because no authorizer allowed it (upstream's behaviour).
 *
 * Roles and bindings come from four StoreMirrors. Bindings are indexed by subject key (rules.ts
 * `subjectKey`), updated in place at each change, so a decision visits only the bindings that name
 * the user or one of its groups, and a change costs O(subjects of the changed binding).
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

interface MirrorHooks<T> {
  reset(): void;
  change(key: string, old: T | undefined, next: T | undefined): void;
}

/** A keyed map fed by a StoreMirror; the hooks keep the authorizer's indexes in step, change by change. */
class MirrorMap<T> implements MirrorConsumer<T> {
  readonly items = new Map<string, T>();
  constructor(private readonly hooks: MirrorHooks<T>) {}
  reset(): void {
    this.items.clear();
    this.hooks.reset();
  }
  apply(key: string, value: T | undefined): void {
    const old = this.items.get(key);
    if (value === undefined) this.items.delete(key);
    else this.items.set(key, value);
    this.hooks.change(key, old, value);
  }
}

const nsName = (ns: string, name: string): string => `${ns}/${name}`;

/** Bindings by storage key, and the index from subject key to the bindings that name it. */
class BindingIndex {
  private readonly byKey = new Map<string, Binding>();
  readonly bySubject = new Map<string, Binding[]>();

  get size(): number {
    return this.byKey.size;
  }

  put(key: string, b: Binding | undefined): void {
    const old = this.byKey.get(key);
    if (old !== undefined) {
      this.byKey.delete(key);
      for (const k of old.keys) {
        const rest = (this.bySubject.get(k) ?? []).filter((x) => x !== old);
        if (rest.length > 0) this.bySubject.set(k, rest);
        else this.bySubject.delete(k);
      }
    }
    if (b === undefined) return;
    this.byKey.set(key, b);
    for (const k of b.keys) {
      const list = this.bySubject.get(k);
      if (list === undefined) this.bySubject.set(k, [b]);
      else list.push(b);
    }
  }
}

export class RbacAuthorizer implements Authorizer, RuleResolver {
  readonly roles: MirrorMap<StoredRole>;
  readonly clusterRoles: MirrorMap<StoredRole>;
  readonly roleBindings: MirrorMap<StoredBinding>;
  readonly clusterRoleBindings: MirrorMap<StoredBinding>;

  /** `<ns>/<name>` -> rules of that Role. */
  private readonly roleRules = new Map<string, readonly Rule[]>();
  /** name -> rules of that ClusterRole. */
  private readonly clusterRoleRules = new Map<string, readonly Rule[]>();
  /** ClusterRoleBindings, by subject key. */
  private clusterIndex = new BindingIndex();
  /** namespace -> its RoleBindings, by subject key. */
  private readonly namespaceIndex = new Map<string, BindingIndex>();

  /**
   * Each change updates the indexes in place (O(subjects of that binding)); a relist clears them.
   * A binding's key in its namespace index is its storage key, so a moved object cannot linger.
   */
  constructor() {
    const rules = (target: Map<string, readonly Rule[]>, keyOf: (r: StoredRole) => string): MirrorHooks<StoredRole> => ({
      reset: () => target.clear(),
      change: (_key, old, next) => {
        if (old !== undefined) target.delete(keyOf(old));
        if (next !== undefined) target.set(keyOf(next), wellFormed(next.rules));
      },
    });
    this.roles = new MirrorMap(rules(this.roleRules, (r) => nsName(r.metadata?.namespace ?? '', r.metadata?.name ?? '')));
    this.clusterRoles = new MirrorMap(rules(this.clusterRoleRules, (r) => r.metadata?.name ?? ''));
    this.clusterRoleBindings = new MirrorMap<StoredBinding>({
      reset: () => {
        this.clusterIndex = new BindingIndex();
      },
      change: (key, _old, next) => this.clusterIndex.put(key, next !== undefined ? toBinding('ClusterRoleBinding', next) : undefined),
    });
    this.roleBindings = new MirrorMap<StoredBinding>({
      reset: () => this.namespaceIndex.clear(),
      change: (key, old, next) => {
        const oldNs = old?.metadata?.namespace ?? '';
        if (old !== undefined) {
          const index = this.namespaceIndex.get(oldNs);
          index?.put(key, undefined);
          if (index?.size === 0) this.namespaceIndex.delete(oldNs);
        }
        if (next === undefined) return;
        const binding = toBinding('RoleBinding', next);
        let index = this.namespaceIndex.get(binding.namespace);
        if (index === undefined) this.namespaceIndex.set(binding.namespace, (index = new BindingIndex()));
        index.put(key, binding);
      },
    });
  }

  authorize(attrs: Attributes): Decision {
    for (const key of userKeys(attrs.user)) {
      for (const b of this.clusterIndex.bySubject.get(key) ?? []) {
        if (this.rulesOf(b).some((r) => ruleAllows(attrs, r))) return allow(reasonOf(b, key));
      }
    }
    if (attrs.namespace !== '') {
      const index = this.namespaceIndex.get(attrs.namespace);
      for (const key of index !== undefined ? userKeys(attrs.user) : []) {
        for (const b of index?.bySubject.get(key) ?? []) {
          if (this.rulesOf(b).some((r) => ruleAllows(attrs, r))) return allow(reasonOf(b, key));
        }
      }
    }
    return noOpinion();
  }

  /** Every rule bound to `user` cluster-wide, plus those bound in `namespace` ('' for none). */
  rulesFor(user: UserInfo, namespace: string): RuleList {
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
    for (const key of keys) visit(this.clusterIndex.bySubject.get(key));
    const index = namespace !== '' ? this.namespaceIndex.get(namespace) : undefined;
    for (const key of index !== undefined ? keys : []) visit(index?.bySubject.get(key));
    return {
      resourceRules: rules.filter((r) => (r.nonResourceURLs ?? []).length === 0),
      nonResourceRules: rules.filter((r) => (r.nonResourceURLs ?? []).length > 0),
      incomplete: false,
    };
  }

  /** The rules of a role, or undefined when it does not exist (a binding may name a role not yet created). */
  roleRulesOf(kind: string, namespace: string, name: string): readonly Rule[] | undefined {
    return kind === 'Role' ? this.roleRules.get(nsName(namespace, name)) : this.clusterRoleRules.get(name);
  }

  private rulesOf(b: Binding): readonly Rule[] {
    if (b.roleKind === 'ClusterRole') return this.clusterRoleRules.get(b.roleName) ?? [];
    if (b.roleKind === 'Role' && b.kind === 'RoleBinding') return this.roleRules.get(nsName(b.namespace, b.roleName)) ?? [];
    return [];
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

/** Upstream's allow reason: `RBAC: allowed by ClusterRoleBinding "x" of ClusterRole "y" to Group "z"`. */
function reasonOf(b: Binding, key: string): string {
  const where = b.kind === 'RoleBinding' ? `RoleBinding "${b.name}/${b.namespace}"` : `ClusterRoleBinding "${b.name}"`;
  return `RBAC: allowed by ${where} of ${b.roleKind} "${b.roleName}" to ${describeSubjectKey(key)}`;
}
