import { describe, expect, it } from 'vitest';
import {
  describeSubjectKey,
  formatRule,
  nonResourceURLMatches,
  resourceMatches,
  resourceNameMatches,
  ruleAllows,
  serviceAccountUser,
  subjectKey,
  uncoveredRules,
  userKeys,
} from './rules.js';
import { pathAttrs, plainUser, resourceAttrs } from './testing.js';
import type { Rule } from './types.js';
import { forbiddenMessage } from './types.js';

const jane = plainUser('jane');

describe('rule matching', () => {
  const podsRead: Rule = { verbs: ['get', 'list'], apiGroups: [''], resources: ['pods'] };

  it('verbs, apiGroups and resources must all match, * matches anything', () => {
    expect(ruleAllows(resourceAttrs(jane, 'get', { resource: 'pods', namespace: 'a', name: 'web' }), podsRead)).toBe(true);
    expect(ruleAllows(resourceAttrs(jane, 'list', { resource: 'pods' }), podsRead)).toBe(true);
    expect(ruleAllows(resourceAttrs(jane, 'delete', { resource: 'pods', name: 'web' }), podsRead)).toBe(false);
    expect(ruleAllows(resourceAttrs(jane, 'get', { group: 'apps', resource: 'pods', name: 'web' }), podsRead)).toBe(false);
    expect(ruleAllows(resourceAttrs(jane, 'get', { resource: 'services', name: 'web' }), podsRead)).toBe(false);
    const all: Rule = { verbs: ['*'], apiGroups: ['*'], resources: ['*'] };
    expect(ruleAllows(resourceAttrs(jane, 'escalate', { group: 'rbac.authorization.k8s.io', resource: 'roles', subresource: 'x' }), all)).toBe(true);
    // a rule without apiGroups grants no resource at all
    expect(ruleAllows(resourceAttrs(jane, 'get', { resource: 'pods', name: 'web' }), { verbs: ['get'], resources: ['pods'] })).toBe(false);
  });

  it('a plain resource does not match its subresources, nor the other way round', () => {
    expect(resourceMatches(podsRead, 'pods', 'log')).toBe(false);
    expect(resourceMatches({ verbs: ['get'], resources: ['pods/log'] }, 'pods', 'log')).toBe(true);
    expect(resourceMatches({ verbs: ['get'], resources: ['pods/log'] }, 'pods', '')).toBe(false);
  });

  it('*/status matches the status of every resource; pods/* is not a wildcard at request time', () => {
    const status: Rule = { verbs: ['update'], apiGroups: ['*'], resources: ['*/status'] };
    expect(resourceMatches(status, 'deployments', 'status')).toBe(true);
    expect(resourceMatches(status, 'nodes', 'status')).toBe(true);
    expect(resourceMatches(status, 'deployments', 'scale')).toBe(false);
    expect(resourceMatches(status, 'deployments', '')).toBe(false);
    const podsStar: Rule = { verbs: ['get'], apiGroups: [''], resources: ['pods/*'] };
    expect(resourceMatches(podsStar, 'pods', 'log')).toBe(false);
    expect(ruleAllows(resourceAttrs(jane, 'get', { resource: 'pods', subresource: 'log', name: 'web' }), podsStar)).toBe(false);
    // only the literal request for subresource "*" matches it
    expect(resourceMatches(podsStar, 'pods', '*')).toBe(true);
  });

  it('resourceNames limit a rule to named objects; a request naming none (list, create) does not match', () => {
    const one: Rule = { verbs: ['get', 'list', 'create', 'update'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['cluster-info'] };
    expect(resourceNameMatches(one, 'cluster-info')).toBe(true);
    expect(resourceNameMatches(one, 'other')).toBe(false);
    expect(resourceNameMatches(one, '')).toBe(false);
    expect(resourceNameMatches({ verbs: ['get'], resourceNames: [] }, '')).toBe(true);
    expect(ruleAllows(resourceAttrs(jane, 'get', { resource: 'configmaps', namespace: 'kube-public', name: 'cluster-info' }), one)).toBe(true);
    expect(ruleAllows(resourceAttrs(jane, 'update', { resource: 'configmaps', namespace: 'kube-public', name: 'cluster-info' }), one)).toBe(true);
    expect(ruleAllows(resourceAttrs(jane, 'list', { resource: 'configmaps', namespace: 'kube-public' }), one)).toBe(false);
    expect(ruleAllows(resourceAttrs(jane, 'create', { resource: 'configmaps', namespace: 'kube-public' }), one)).toBe(false);
    // a list narrowed to the name (fieldSelector metadata.name) carries the name and matches
    expect(ruleAllows(resourceAttrs(jane, 'list', { resource: 'configmaps', namespace: 'kube-public', name: 'cluster-info' }), one)).toBe(true);
  });

  it('nonResourceURLs: exact, a trailing * as prefix, * alone for everything; a resource rule grants no path', () => {
    const r: Rule = { verbs: ['get'], nonResourceURLs: ['/healthz', '/apis/*'] };
    expect(nonResourceURLMatches(r, '/healthz')).toBe(true);
    expect(nonResourceURLMatches(r, '/healthz/etcd')).toBe(false);
    expect(nonResourceURLMatches(r, '/apis/')).toBe(true);
    expect(nonResourceURLMatches(r, '/apis/apps/v1')).toBe(true);
    expect(nonResourceURLMatches(r, '/apis')).toBe(false);
    expect(nonResourceURLMatches(r, '/api')).toBe(false);
    expect(nonResourceURLMatches({ verbs: ['get'], nonResourceURLs: ['*'] }, '/metrics')).toBe(true);
    expect(ruleAllows(pathAttrs(jane, 'get', '/apis/apps'), r)).toBe(true);
    expect(ruleAllows(pathAttrs(jane, 'post', '/apis/apps'), r)).toBe(false);
    expect(ruleAllows(pathAttrs(jane, 'get', '/healthz'), { verbs: ['*'], apiGroups: ['*'], resources: ['*'] })).toBe(false);
    // and a path rule grants no resource
    expect(ruleAllows(resourceAttrs(jane, 'get', { resource: 'pods', name: 'x' }), { verbs: ['*'], nonResourceURLs: ['*'] })).toBe(false);
  });
});

describe('subjects', () => {
  it('User and Group keys', () => {
    expect(subjectKey({ kind: 'User', name: 'jane' }, 'ns')).toBe('u:jane');
    expect(subjectKey({ kind: 'Group', name: 'dev' }, '')).toBe('g:dev');
    expect(subjectKey({ kind: 'Robot', name: 'x' }, 'ns')).toBeUndefined();
  });

  it('a ServiceAccount is the user it authenticates as; an empty namespace in a RoleBinding is the binding namespace', () => {
    expect(subjectKey({ kind: 'ServiceAccount', name: 'builder', namespace: 'ci' }, 'other')).toBe('u:system:serviceaccount:ci:builder');
    expect(subjectKey({ kind: 'ServiceAccount', name: 'builder' }, 'team')).toBe('u:system:serviceaccount:team:builder');
    expect(subjectKey({ kind: 'ServiceAccount', name: 'builder', namespace: '' }, 'team')).toBe('u:system:serviceaccount:team:builder');
    // ClusterRoleBinding (no namespace of its own): a ServiceAccount without namespace names nobody
    expect(subjectKey({ kind: 'ServiceAccount', name: 'builder' }, '')).toBeUndefined();
    expect(serviceAccountUser('ci', 'builder')).toBe('system:serviceaccount:ci:builder');
  });

  it('a user is found by its name and by each group; keys read back for messages', () => {
    expect(userKeys({ name: 'jane', groups: ['dev', 'system:authenticated'] })).toEqual(['u:jane', 'g:dev', 'g:system:authenticated']);
    expect(describeSubjectKey('u:jane')).toBe('User "jane"');
    expect(describeSubjectKey('g:dev')).toBe('Group "dev"');
    expect(describeSubjectKey('u:system:serviceaccount:ci:builder')).toBe('ServiceAccount "ci:builder"');
  });
});

describe('coverage (escalation)', () => {
  const owner: Rule[] = [
    { verbs: ['get', 'list'], apiGroups: [''], resources: ['pods', 'secrets'] },
    { verbs: ['update'], apiGroups: ['apps'], resources: ['*/scale'] },
    { verbs: ['get'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['a', 'b'] },
    { verbs: ['get'], nonResourceURLs: ['/healthz', '/apis/*'] },
  ];

  it('covered rules leave nothing missing', () => {
    expect(uncoveredRules(owner, [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }])).toEqual([]);
    expect(uncoveredRules(owner, [{ verbs: ['list', 'get'], apiGroups: [''], resources: ['secrets', 'pods'] }])).toEqual([]);
    expect(uncoveredRules(owner, [{ verbs: ['get'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['b'] }])).toEqual([]);
    // an owner rule without resourceNames covers a named one
    expect(uncoveredRules(owner, [{ verbs: ['get'], apiGroups: [''], resources: ['pods'], resourceNames: ['web'] }])).toEqual([]);
    expect(uncoveredRules(owner, [])).toEqual([]);
    expect(uncoveredRules([{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }], [{ verbs: ['escalate'], apiGroups: ['x'], resources: ['y/z'] }])).toEqual([]);
  });

  it('a missing verb is reported atom by atom', () => {
    expect(uncoveredRules(owner, [{ verbs: ['get', 'delete', 'watch'], apiGroups: [''], resources: ['pods'] }])).toEqual([
      { verbs: ['delete'], apiGroups: [''], resources: ['pods'] },
      { verbs: ['watch'], apiGroups: [''], resources: ['pods'] },
    ]);
  });

  it('a named owner rule does not cover another name, nor all names', () => {
    expect(uncoveredRules(owner, [{ verbs: ['get'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['a', 'c'] }])).toEqual([
      { verbs: ['get'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['c'] },
    ]);
    expect(uncoveredRules(owner, [{ verbs: ['get'], apiGroups: [''], resources: ['configmaps'] }])).toEqual([{ verbs: ['get'], apiGroups: [''], resources: ['configmaps'] }]);
  });

  it('an owner */scale covers deployments/scale in its groups only; not the parent resource', () => {
    expect(uncoveredRules(owner, [{ verbs: ['update'], apiGroups: ['apps'], resources: ['deployments/scale', 'statefulsets/scale'] }])).toEqual([]);
    expect(uncoveredRules(owner, [{ verbs: ['update'], apiGroups: [''], resources: ['replicationcontrollers/scale'] }])).toHaveLength(1);
    expect(uncoveredRules(owner, [{ verbs: ['update'], apiGroups: ['apps'], resources: ['deployments'] }])).toEqual([
      { verbs: ['update'], apiGroups: ['apps'], resources: ['deployments'] },
    ]);
    // a wanted wildcard needs an owner wildcard
    expect(uncoveredRules(owner, [{ verbs: ['get'], apiGroups: [''], resources: ['*'] }])).toEqual([{ verbs: ['get'], apiGroups: [''], resources: ['*'] }]);
  });

  it('non-resource URLs: exact and prefix coverage', () => {
    expect(uncoveredRules(owner, [{ verbs: ['get'], nonResourceURLs: ['/healthz', '/apis/apps', '/apis/*'] }])).toEqual([]);
    expect(uncoveredRules(owner, [{ verbs: ['get', 'post'], nonResourceURLs: ['/metrics', '/healthz'] }])).toEqual([
      { verbs: ['get'], nonResourceURLs: ['/metrics'] },
      { verbs: ['post'], nonResourceURLs: ['/metrics'] },
      { verbs: ['post'], nonResourceURLs: ['/healthz'] },
    ]);
    // a resource rule does not cover a path
    expect(uncoveredRules([{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }], [{ verbs: ['get'], nonResourceURLs: ['/x'] }])).toHaveLength(1);
  });

  it('formatRule prints rules as upstream escalation errors do', () => {
    expect(formatRule({ verbs: ['get'], apiGroups: ['apps'], resources: ['deployments'] })).toBe('{APIGroups:["apps"], Resources:["deployments"], Verbs:["get"]}');
    expect(formatRule({ verbs: ['get', 'list'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['a'] })).toBe(
      '{APIGroups:[""], Resources:["configmaps"], ResourceNames:["a"], Verbs:["get" "list"]}',
    );
    expect(formatRule({ verbs: ['get'], nonResourceURLs: ['/metrics'] })).toBe('{NonResourceURLs:["/metrics"], Verbs:["get"]}');
  });
});

describe('forbiddenMessage', () => {
  it('words a refusal as upstream does', () => {
    expect(forbiddenMessage(resourceAttrs(jane, 'get', { resource: 'pods', namespace: 'default', name: 'web' }), '')).toBe(
      'pods "web" is forbidden: User "jane" cannot get resource "pods" in API group "" in the namespace "default"',
    );
    expect(forbiddenMessage(resourceAttrs(jane, 'list', { group: 'apps', resource: 'deployments' }), 'why')).toBe(
      'deployments.apps is forbidden: User "jane" cannot list resource "deployments" in API group "apps" at the cluster scope: why',
    );
    expect(forbiddenMessage(resourceAttrs(jane, 'create', { resource: 'pods', subresource: 'exec', namespace: 'a', name: 'web' }), '')).toContain(
      'cannot create resource "pods/exec" in API group ""',
    );
    expect(forbiddenMessage(pathAttrs(jane, 'get', '/metrics'), '')).toBe('forbidden: User "jane" cannot get path "/metrics"');
  });
});
