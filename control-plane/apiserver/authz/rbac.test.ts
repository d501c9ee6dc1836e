import { describe, expect, it } from 'vitest';
import { RbacAuthorizer } from './rbac.js';
import {
  applyRbac,
  clusterRole,
  clusterRoleBinding,
  group,
  pathAttrs,
  plainUser,
  resourceAttrs,
  role,
  roleBinding,
  serviceAccount,
  testChain,
  user,
} from './testing.js';
import type { RbacObject } from './testing.js';
import type { Rule } from './types.js';

const jane = plainUser('jane', 'dev');
const bob = plainUser('bob');
const podReader: Rule[] = [{ verbs: ['get', 'list', 'watch'], apiGroups: [''], resources: ['pods'] }];

function rbacWith(...objects: RbacObject[]): RbacAuthorizer {
  return testChain({ defaultPolicy: false, objects }).rbac;
}

const getPod = (u: typeof jane, namespace: string) => resourceAttrs(u, 'get', { resource: 'pods', namespace, name: 'web' });

describe('RbacAuthorizer', () => {
  it('a ClusterRoleBinding to a group grants in every namespace and at the cluster scope', () => {
    const rbac = rbacWith(clusterRole('pod-reader', podReader), clusterRoleBinding('devs-read', 'pod-reader', [group('dev')]));
    expect(rbac.authorize(getPod(jane, 'a')).verdict).toBe('allow');
    expect(rbac.authorize(getPod(jane, 'b')).verdict).toBe('allow');
    expect(rbac.authorize(resourceAttrs(jane, 'list', { resource: 'pods' })).verdict).toBe('allow');
    expect(rbac.authorize(resourceAttrs(jane, 'delete', { resource: 'pods', namespace: 'a', name: 'web' })).verdict).toBe('no-opinion');
    expect(rbac.authorize(getPod(bob, 'a'))).toEqual({ verdict: 'no-opinion', reason: '' });
  });

  it('a RoleBinding grants only in its namespace', () => {
    const rbac = rbacWith(role('a', 'pod-reader', podReader), roleBinding('a', 'jane-read', { kind: 'Role', name: 'pod-reader' }, [user('jane')]));
    expect(rbac.authorize(getPod(jane, 'a')).verdict).toBe('allow');
    expect(rbac.authorize(getPod(jane, 'b')).verdict).toBe('no-opinion');
    expect(rbac.authorize(resourceAttrs(jane, 'list', { resource: 'pods' })).verdict).toBe('no-opinion');
  });

  it('a RoleBinding to a ClusterRole grants the ClusterRole rules in that namespace only', () => {
    const rbac = rbacWith(clusterRole('pod-reader', podReader), roleBinding('a', 'jane-read', { kind: 'ClusterRole', name: 'pod-reader' }, [user('jane')]));
    expect(rbac.authorize(getPod(jane, 'a')).verdict).toBe('allow');
    expect(rbac.authorize(getPod(jane, 'b')).verdict).toBe('no-opinion');
    expect(rbac.authorize(resourceAttrs(jane, 'list', { resource: 'pods' })).verdict).toBe('no-opinion');
  });

  it('a Role of another namespace with the same name is not the bound one; a ClusterRoleBinding cannot bind a Role', () => {
    const rbac = rbacWith(
      role('b', 'pod-reader', podReader),
      roleBinding('a', 'jane-read', { kind: 'Role', name: 'pod-reader' }, [user('jane')]),
      ['clusterrolebindings', { metadata: { name: 'x' }, roleRef: { kind: 'Role', name: 'pod-reader' }, subjects: [user('jane')] }],
    );
    expect(rbac.authorize(getPod(jane, 'a')).verdict).toBe('no-opinion');
    expect(rbac.authorize(getPod(jane, 'b')).verdict).toBe('no-opinion');
  });

  it('a binding to a missing role grants nothing, until the role appears', () => {
    const rbac = rbacWith(clusterRoleBinding('jane-read', 'pod-reader', [user('jane')]));
    expect(rbac.authorize(getPod(jane, 'a')).verdict).toBe('no-opinion');
    expect(rbac.rulesFor(jane, 'a').resourceRules).toEqual([]);
    const [plural, obj] = clusterRole('pod-reader', podReader);
    applyRbac(rbac, plural, obj);
    expect(rbac.authorize(getPod(jane, 'a')).verdict).toBe('allow');
  });

  it('deleting the binding (or the role) revokes; reset clears everything', () => {
    const binding = roleBinding('a', 'jane-read', { kind: 'Role', name: 'pod-reader' }, [user('jane')]);
    const theRole = role('a', 'pod-reader', podReader);
    const rbac = rbacWith(theRole, binding);
    expect(rbac.authorize(getPod(jane, 'a')).verdict).toBe('allow');
    applyRbac(rbac, binding[0], binding[1], true);
    expect(rbac.authorize(getPod(jane, 'a')).verdict).toBe('no-opinion');
    applyRbac(rbac, binding[0], binding[1]);
    expect(rbac.authorize(getPod(jane, 'a')).verdict).toBe('allow');
    applyRbac(rbac, theRole[0], theRole[1], true);
    expect(rbac.authorize(getPod(jane, 'a')).verdict).toBe('no-opinion');
    applyRbac(rbac, theRole[0], theRole[1]);
    expect(rbac.authorize(getPod(jane, 'a')).verdict).toBe('allow');
    rbac.roles.reset();
    rbac.roleBindings.reset();
    expect(rbac.authorize(getPod(jane, 'a')).verdict).toBe('no-opinion');
    expect(rbac.rulesFor(jane, 'a').resourceRules).toEqual([]);
  });

  it('an updated binding swaps its subjects; other bindings naming the same group are untouched', () => {
    const rbac = rbacWith(role('ns', 'reader', podReader), roleBinding('ns', 'a', { kind: 'Role', name: 'reader' }, [group('dev'), user('bob')]), roleBinding('ns', 'b', { kind: 'Role', name: 'reader' }, [group('dev')]));
    const carol = plainUser('carol');
    applyRbac(rbac, ...roleBinding('ns', 'a', { kind: 'Role', name: 'reader' }, [user('carol')]));
    expect(rbac.authorize(getPod(bob, 'ns')).verdict).toBe('no-opinion');
    expect(rbac.authorize(getPod(carol, 'ns')).verdict).toBe('allow');
    // jane (group dev) still allowed through b
    expect(rbac.authorize(getPod(jane, 'ns')).reason).toContain('RoleBinding "b/ns"');
    applyRbac(rbac, ...roleBinding('ns', 'b', { kind: 'Role', name: 'reader' }, [group('dev')]), true);
    expect(rbac.authorize(getPod(jane, 'ns')).verdict).toBe('no-opinion');
  });

  it('a changed role takes effect at the next decision', () => {
    const rbac = rbacWith(clusterRole('r', podReader), clusterRoleBinding('b', 'r', [user('jane')]));
    const del = resourceAttrs(jane, 'delete', { resource: 'pods', namespace: 'a', name: 'web' });
    expect(rbac.authorize(del).verdict).toBe('no-opinion');
    const [plural, obj] = clusterRole('r', [...podReader, { verbs: ['delete'], apiGroups: [''], resources: ['pods'] }]);
    applyRbac(rbac, plural, obj);
    expect(rbac.authorize(del).verdict).toBe('allow');
  });

  it('service accounts are bound by their user name; a binding without namespace uses its own', () => {
    const sa = { name: 'system:serviceaccount:ci:builder', groups: ['system:serviceaccounts', 'system:serviceaccounts:ci', 'system:authenticated'] };
    const rbac = rbacWith(
      role('ci', 'pod-reader', podReader),
      roleBinding('ci', 'builder', { kind: 'Role', name: 'pod-reader' }, [serviceAccount('builder')]),
      clusterRole('node-reader', [{ verbs: ['get'], apiGroups: [''], resources: ['nodes'] }]),
      // no namespace in a ClusterRoleBinding: nobody
      clusterRoleBinding('broken', 'node-reader', [serviceAccount('builder')]),
    );
    const d = rbac.authorize(getPod(sa, 'ci'));
    expect(d).toEqual({ verdict: 'allow', reason: 'RBAC: allowed by RoleBinding "builder/ci" of Role "pod-reader" to ServiceAccount "ci:builder"' });
    expect(rbac.authorize(resourceAttrs(sa, 'get', { resource: 'nodes', name: 'w1' })).verdict).toBe('no-opinion');
  });

  it('the allow reason names the binding, the role and the subject', () => {
    const rbac = rbacWith(
      role('ns', 'r', podReader),
      roleBinding('ns', 'rb', { kind: 'Role', name: 'r' }, [user('jane')]),
      clusterRole('pod-reader', podReader),
      clusterRoleBinding('devs', 'pod-reader', [group('dev')]),
    );
    // cluster bindings are consulted first
    expect(rbac.authorize(getPod(jane, 'ns')).reason).toBe('RBAC: allowed by ClusterRoleBinding "devs" of ClusterRole "pod-reader" to Group "dev"');
    expect(rbac.authorize(getPod(plainUser('jane'), 'ns')).reason).toBe('RBAC: allowed by RoleBinding "rb/ns" of Role "r" to User "jane"');
  });

  it('non-resource paths through ClusterRoleBindings, from the default policy', () => {
    const { rbac } = testChain();
    expect(rbac.authorize(pathAttrs(bob, 'get', '/apis/apps/v1')).verdict).toBe('allow');
    expect(rbac.authorize(pathAttrs(bob, 'get', '/metrics')).verdict).toBe('no-opinion');
    expect(rbac.authorize(pathAttrs({ name: 'system:anonymous', groups: ['system:unauthenticated'] }, 'get', '/healthz')).reason).toBe(
      'RBAC: allowed by ClusterRoleBinding "system:public-info-viewer" of ClusterRole "system:public-info-viewer" to Group "system:unauthenticated"',
    );
    expect(rbac.authorize(pathAttrs({ name: 'system:anonymous', groups: ['system:unauthenticated'] }, 'get', '/apis')).verdict).toBe('no-opinion');
    expect(rbac.authorize(pathAttrs(plainUser('prom', 'system:monitoring'), 'get', '/metrics')).verdict).toBe('allow');
  });

  it('rulesFor merges the cluster rules with those of the namespace, non-resource rules apart', () => {
    const rbac = rbacWith(
      clusterRole('paths', [{ verbs: ['get'], nonResourceURLs: ['/metrics'] }, { verbs: ['list'], apiGroups: [''], resources: ['nodes'] }]),
      clusterRoleBinding('paths', 'paths', [group('dev')]),
      role('a', 'pod-reader', podReader),
      roleBinding('a', 'jane-read', { kind: 'Role', name: 'pod-reader' }, [user('jane'), group('dev')]),
      clusterRole('secret-reader', [{ verbs: ['get'], apiGroups: [''], resources: ['secrets'] }]),
      roleBinding('b', 'jane-secrets', { kind: 'ClusterRole', name: 'secret-reader' }, [user('jane')]),
    );
    expect(rbac.rulesFor(jane, 'a')).toEqual({
      resourceRules: [{ verbs: ['list'], apiGroups: [''], resources: ['nodes'] }, ...podReader],
      nonResourceRules: [{ verbs: ['get'], nonResourceURLs: ['/metrics'] }],
      incomplete: false,
    });
    expect(rbac.rulesFor(jane, 'b').resourceRules).toEqual([
      { verbs: ['list'], apiGroups: [''], resources: ['nodes'] },
      { verbs: ['get'], apiGroups: [''], resources: ['secrets'] },
    ]);
    expect(rbac.rulesFor(jane, '').resourceRules).toEqual([{ verbs: ['list'], apiGroups: [''], resources: ['nodes'] }]);
    expect(rbac.rulesFor(bob, 'a')).toEqual({ resourceRules: [], nonResourceRules: [], incomplete: false });
  });

  it('roleRulesOf finds a role by kind and namespace, undefined when missing', () => {
    const rbac = rbacWith(role('a', 'r', podReader), clusterRole('c', podReader));
    expect(rbac.roleRulesOf('Role', 'a', 'r')).toEqual(podReader);
    expect(rbac.roleRulesOf('Role', 'b', 'r')).toBeUndefined();
    expect(rbac.roleRulesOf('ClusterRole', 'a', 'c')).toEqual(podReader);
    expect(rbac.roleRulesOf('ClusterRole', '', 'r')).toBeUndefined();
  });
});
