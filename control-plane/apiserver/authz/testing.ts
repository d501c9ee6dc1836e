/**
 * Test fixtures for the authorization layer: an AuthorizerChain built in memory (no store), its
 * RBAC caches fed the default policy plus whatever a test adds, its Node authorizer fed pods. Only
 * *.test.ts files import this module.
 *
 * ClusterRoles with an aggregationRule (admin, edit, view) get their rules as the aggregation
 * controller would write them (its pure `aggregatedRules`), so the fixture sees what a running
 * server sees once `syncAll` ran.
 */
import type { KubeObject } from '../../../api/meta.js';
import type { ClusterRole } from '../../../api/rbac/rbac.js';
import { aggregatedRules } from '../../controllers/clusterrole-aggregation.js';
import type { UserInfo } from '../auth/types.js';
import { storagePrefixFor } from '../resource-table.js';
import { AuthorizerChain } from './index.js';
import type { AuthorizationMode } from './index.js';
import { NodeAuthorizer, PodGraph, POD_PREFIX } from './node.js';
import { defaultPolicyObjects } from './policy.js';
import { RBAC_GROUP, RbacAuthorizer } from './rbac.js';
import type { StoredBinding, StoredRole } from './rbac.js';
import type { SubjectRef } from './rules.js';
import type { Attributes, Authorizer, Rule } from './types.js';

export type RbacPlural = 'roles' | 'clusterroles' | 'rolebindings' | 'clusterrolebindings';
export type RbacObject = readonly [plural: RbacPlural, obj: StoredRole | StoredBinding | KubeObject];
export type PodObject = Parameters<PodGraph['apply']>[1] & object;

/** The store key a RBAC object would have (what the StoreMirror would hand the cache). */
export function rbacKey(plural: RbacPlural, obj: StoredRole | StoredBinding | KubeObject): string {
  const prefix = storagePrefixFor({ group: RBAC_GROUP, plural });
  const ns = obj.metadata?.namespace;
  const name = obj.metadata?.name ?? '';
  return plural === 'roles' || plural === 'rolebindings' ? `${prefix}${ns ?? ''}/${name}` : `${prefix}${name}`;
}

export function podKey(pod: PodObject): string {
  return `${POD_PREFIX}${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;
}

/** Hands `obj` to the right cache of `rbac` (undefined `obj`: deletes the key). */
export function applyRbac(rbac: RbacAuthorizer, plural: RbacPlural, obj: StoredRole | StoredBinding | KubeObject, deleted = false): void {
  const key = rbacKey(plural, obj);
  switch (plural) {
    case 'roles':
      return rbac.roles.apply(key, deleted ? undefined : (obj as StoredRole));
    case 'clusterroles':
      return rbac.clusterRoles.apply(key, deleted ? undefined : (obj as StoredRole));
    case 'rolebindings':
      return rbac.roleBindings.apply(key, deleted ? undefined : (obj as StoredBinding));
    case 'clusterrolebindings':
      return rbac.clusterRoleBindings.apply(key, deleted ? undefined : (obj as StoredBinding));
  }
}

// ---- object builders ----------------------------------------------------------------------------

export const role = (namespace: string, name: string, rules: readonly Rule[]): RbacObject => ['roles', { metadata: { name, namespace }, rules }];
export const clusterRole = (name: string, rules: readonly Rule[]): RbacObject => ['clusterroles', { metadata: { name }, rules }];

export const user = (name: string): SubjectRef => ({ kind: 'User', name });
export const group = (name: string): SubjectRef => ({ kind: 'Group', name });
export const serviceAccount = (name: string, namespace?: string): SubjectRef => ({ kind: 'ServiceAccount', name, ...(namespace !== undefined ? { namespace } : {}) });

export const roleBinding = (namespace: string, name: string, roleRef: { kind: 'Role' | 'ClusterRole'; name: string }, subjects: readonly SubjectRef[]): RbacObject => [
  'rolebindings',
  { metadata: { name, namespace }, roleRef, subjects },
];
export const clusterRoleBinding = (name: string, roleName: string, subjects: readonly SubjectRef[]): RbacObject => [
  'clusterrolebindings',
  { metadata: { name }, roleRef: { kind: 'ClusterRole', name: roleName }, subjects },
];

export interface PodSpecLike {
  readonly nodeName?: string;
  readonly [field: string]: unknown;
}
export const pod = (namespace: string, name: string, spec: PodSpecLike): PodObject => ({ metadata: { name, namespace }, spec }) as PodObject;

// ---- the chain ----------------------------------------------------------------------------------

export interface TestChainOptions {
  /** Default `Node,RBAC`. */
  readonly modes?: readonly AuthorizationMode[];
  /** Added after the default policy (same key: replaces it). */
  readonly objects?: readonly RbacObject[];
  /** False: start with no RBAC objects at all. */
  readonly defaultPolicy?: boolean;
  readonly pods?: readonly PodObject[];
}

export interface TestChain {
  readonly chain: AuthorizerChain;
  readonly rbac: RbacAuthorizer;
  readonly graph: PodGraph;
  readonly node: NodeAuthorizer;
}

const ALWAYS_ALLOW: Authorizer = { authorize: () => ({ verdict: 'allow', reason: '' }) };
const ALWAYS_DENY: Authorizer = { authorize: () => ({ verdict: 'deny', reason: 'Everything is forbidden.' }) };

/** `objects` with every aggregated ClusterRole's rules filled in (repeated: admin aggregates edit, which aggregates view). */
export function aggregated(objects: readonly RbacObject[]): RbacObject[] {
  const out = [...objects];
  for (let round = 0; round < 10; round++) {
    const roles = out.filter(([p]) => p === 'clusterroles').map(([, o]) => o as unknown as ClusterRole);
    let changed = false;
    for (let i = 0; i < out.length; i++) {
      const [plural, obj] = out[i] ?? ['roles', {}];
      if (plural !== 'clusterroles') continue;
      const rules = aggregatedRules(obj as unknown as ClusterRole, roles);
      if (rules === undefined || JSON.stringify(rules) === JSON.stringify((obj as StoredRole).rules ?? [])) continue;
      out[i] = [plural, { ...obj, rules }];
      changed = true;
    }
    if (!changed) break;
  }
  return out;
}

/** The chain `startAuthorization` would build for `modes`, fed in memory instead of by StoreMirrors. */
export function testChain(opts: TestChainOptions = {}): TestChain {
  const rbac = new RbacAuthorizer();
  const graph = new PodGraph();
  const node = new NodeAuthorizer(graph);
  const objects: RbacObject[] = [...(opts.defaultPolicy === false ? [] : defaultPolicyObjects()), ...(opts.objects ?? [])];
  for (const [plural, obj] of aggregated(objects)) applyRbac(rbac, plural, obj);
  for (const p of opts.pods ?? []) graph.apply(podKey(p), p);
  const modes = opts.modes ?? ['Node', 'RBAC'];
  const members = modes.map((m): Authorizer => (m === 'Node' ? node : m === 'RBAC' ? rbac : m === 'AlwaysAllow' ? ALWAYS_ALLOW : ALWAYS_DENY));
  return { chain: new AuthorizerChain(modes, members, modes.includes('RBAC') ? rbac : undefined), rbac, graph, node };
}

// ---- attributes ---------------------------------------------------------------------------------

export interface ResourceTarget {
  readonly group?: string;
  readonly resource: string;
  readonly subresource?: string;
  readonly namespace?: string;
  readonly name?: string;
}

/** Attributes of a resource request. */
export function resourceAttrs(u: UserInfo, verb: string, t: ResourceTarget): Attributes {
  return {
    user: u,
    verb,
    resourceRequest: true,
    apiGroup: t.group ?? '',
    resource: t.resource,
    subresource: t.subresource ?? '',
    namespace: t.namespace ?? '',
    name: t.name ?? '',
    path: '',
  };
}

/** Attributes of a non-resource request. */
export function pathAttrs(u: UserInfo, verb: string, path: string): Attributes {
  return { user: u, verb, resourceRequest: false, apiGroup: '', resource: '', subresource: '', namespace: '', name: '', path };
}

export const nodeUser = (name: string): UserInfo => ({ name: `system:node:${name}`, groups: ['system:nodes', 'system:authenticated'] });
export const plainUser = (name: string, ...groups: string[]): UserInfo => ({ name, groups: [...groups, 'system:authenticated'] });
export const ADMIN: UserInfo = { name: 'kubernetes-admin', groups: ['system:masters', 'system:authenticated'] };
