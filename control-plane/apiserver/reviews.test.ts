import { describe, expect, it } from 'vitest';
import { validateLocalSubjectAccessReview, validateSelfSubjectAccessReview, validateSelfSubjectRulesReview, validateSubjectAccessReview } from '../../api/authorization/reviews.js';
import type { ResourceAttributes, SelfSubjectAccessReview, SubjectAccessReview } from '../../api/authorization/reviews.js';
import { accessDecision, reviewKindOf, rulesFor } from './reviews.js';
import { nodeUser, plainUser, pod, roleBinding, testChain, user } from './authz/testing.js';

const admin = { name: 'kubernetes-admin', groups: ['system:masters', 'system:authenticated'] };
const node = nodeUser('w1');
const token = { name: 'system:bootstrap:abcdef', groups: ['system:bootstrappers', 'system:bootstrappers:kubeadm:default-node-token', 'system:authenticated'] };
const jane = plainUser('jane');

describe('the reviews, answered by the Node,RBAC chain with the default policy', () => {
  const { chain } = testChain({
    objects: [roleBinding('team', 'jane-edit', { kind: 'ClusterRole', name: 'edit' }, [user('jane')])],
    pods: [pod('team', 'web', { nodeName: 'w1', volumes: [{ secret: { secretName: 'db' } }] })],
  });
  const ask = (u: typeof jane, r: ResourceAttributes): ReturnType<typeof accessDecision> => accessDecision(chain, u, { resourceAttributes: r });
  const discovery = 'RBAC: allowed by ClusterRoleBinding "system:discovery" of ClusterRole "system:discovery" to Group "system:authenticated"';

  it.each([
    ['admin, pods/exec', admin, { verb: 'create', resource: 'pods', subresource: 'exec', namespace: 'team', name: 'web' }, { allowed: true }],
    ['admin, nodes/proxy', admin, { verb: 'get', resource: 'nodes', subresource: 'proxy' }, { allowed: true }],
    ['admin, everything', admin, { verb: '*', group: '*', resource: '*' }, { allowed: true }],
    ['node, pods/exec', node, { verb: 'create', resource: 'pods', subresource: 'exec', namespace: 'team', name: 'web' }, { allowed: false }],
    ['node, pods/attach', node, { verb: 'create', resource: 'pods', subresource: 'attach', namespace: 'team', name: 'web' }, { allowed: false }],
    ['node, pods/log', node, { verb: 'get', resource: 'pods', subresource: 'log', namespace: 'team', name: 'web' }, { allowed: false }],
    ['node, pods', node, { verb: 'list', resource: 'pods' }, { allowed: true }],
    ['node, nodes/status', node, { verb: 'patch', resource: 'nodes', subresource: 'status', name: 'w1' }, { allowed: true }],
    ['node, nodes/proxy', node, { verb: 'get', resource: 'nodes', subresource: 'proxy', name: 'w1' }, { allowed: false }],
    ['node, services/proxy', node, { verb: 'get', resource: 'services', subresource: 'proxy' }, { allowed: false }],
    ['node, everything', node, { verb: '*', resource: '*' }, { allowed: false }],
    ['node, its own lease', node, { verb: 'update', group: 'coordination.k8s.io', resource: 'leases', namespace: 'kube-node-lease', name: 'w1' }, { allowed: true }],
    ['node, a secret of a pod bound to it', node, { verb: 'get', resource: 'secrets', namespace: 'team', name: 'db' }, { allowed: true }],
    [
      'node, a secret no pod of its refers to',
      node,
      { verb: 'get', resource: 'secrets', namespace: 'team', name: 'other' },
      { allowed: false, reason: "no relationship found between node 'w1' and this object" },
    ],
    ['node, all secrets', node, { verb: 'list', resource: 'secrets', namespace: 'team' }, { allowed: false, reason: "node 'w1' can only get individual secrets" }],
    ['token, a CSR', token, { verb: 'create', group: 'certificates.k8s.io', resource: 'certificatesigningrequests' }, {
      allowed: true,
      reason: 'RBAC: allowed by ClusterRoleBinding "kubeadm:kubelet-bootstrap" of ClusterRole "system:node-bootstrapper" to Group "system:bootstrappers:kubeadm:default-node-token"',
    }],
    ['token, pods/portforward', token, { verb: 'create', resource: 'pods', subresource: 'portforward', namespace: 'team', name: 'web' }, { allowed: false }],
    ['jane, pods/exec where she edits', jane, { verb: 'create', resource: 'pods', subresource: 'exec', namespace: 'team', name: 'web' }, {
      allowed: true,
      reason: 'RBAC: allowed by RoleBinding "jane-edit/team" of ClusterRole "edit" to User "jane"',
    }],
    ['jane, pods/exec elsewhere', jane, { verb: 'create', resource: 'pods', subresource: 'exec', namespace: 'prod', name: 'web' }, { allowed: false }],
    ['jane, roles where she edits', jane, { verb: 'create', group: 'rbac.authorization.k8s.io', resource: 'roles', namespace: 'team' }, { allowed: false }],
    ['jane, the self reviews', jane, { verb: 'create', group: 'authorization.k8s.io', resource: 'selfsubjectrulesreviews' }, {
      allowed: true,
      reason: 'RBAC: allowed by ClusterRoleBinding "system:basic-user" of ClusterRole "system:basic-user" to Group "system:authenticated"',
    }],
  ])('%s', (_name, u, attrs, status) => {
    expect(ask(u, attrs)).toEqual(status);
  });

  it('non-resource paths', () => {
    expect(accessDecision(chain, node, { nonResourceAttributes: { path: '/healthz', verb: 'get' } })).toEqual({ allowed: true, reason: discovery });
    expect(accessDecision(chain, jane, { nonResourceAttributes: { path: '/apis/apps/v1', verb: 'get' } })).toEqual({ allowed: true, reason: discovery });
    expect(accessDecision(chain, jane, { nonResourceAttributes: { path: '/metrics', verb: 'get' } })).toEqual({ allowed: false });
    expect(accessDecision(chain, jane, { nonResourceAttributes: { path: '/healthz', verb: 'post' } })).toEqual({ allowed: false });
    expect(accessDecision(chain, admin, { nonResourceAttributes: { path: '/metrics', verb: 'get' } })).toEqual({ allowed: true });
  });

  it('a deny says denied', () => {
    const deny = testChain({ modes: ['AlwaysDeny'] }).chain;
    expect(accessDecision(deny, jane, { resourceAttributes: { verb: 'get', resource: 'pods' } })).toEqual({ allowed: false, denied: true, reason: 'Everything is forbidden.' });
    expect(accessDecision(deny, admin, { resourceAttributes: { verb: 'get', resource: 'pods' } })).toEqual({ allowed: true });
  });

  it('rules: everything for system:masters', () => {
    expect(rulesFor(chain, admin, 'default')).toEqual({
      resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }],
      nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*'] }],
      incomplete: false,
    });
  });

  it('rules: what RBAC binds, cluster-wide and in the namespace', () => {
    const basicUser = [
      { verbs: ['create'], apiGroups: ['authorization.k8s.io'], resources: ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'] },
      { verbs: ['create'], apiGroups: ['authentication.k8s.io'], resources: ['selfsubjectreviews'] },
    ];
    const elsewhere = rulesFor(chain, jane, 'prod');
    expect(elsewhere.incomplete).toBe(false);
    expect(elsewhere.evaluationError).toBeUndefined();
    expect(elsewhere.resourceRules).toEqual(basicUser);
    expect(elsewhere.nonResourceRules).toContainEqual({ verbs: ['get'], nonResourceURLs: ['/healthz', '/livez', '/readyz', '/version', '/version/'] });
    expect(elsewhere.nonResourceRules.every((r) => Object.keys(r).sort().join() === 'nonResourceURLs,verbs')).toBe(true);

    const team = rulesFor(chain, jane, 'team');
    expect(team.resourceRules.slice(0, 2)).toEqual(basicUser);
    expect(team.resourceRules).toContainEqual({ verbs: ['create'], apiGroups: [''], resources: ['pods/eviction'] });
    expect(team.resourceRules.some((r) => r.resources?.includes('secrets') === true && r.verbs.includes('get'))).toBe(true);
    expect(team.resourceRules.some((r) => r.apiGroups?.includes('rbac.authorization.k8s.io') === true)).toBe(false);
    expect(team.nonResourceRules).toEqual(elsewhere.nonResourceRules);
  });

  it('rules: resourceNames are reported only when a rule has them', () => {
    const publicInfo = rulesFor(chain, token, 'kube-public');
    expect(publicInfo.resourceRules).toContainEqual({ verbs: ['get'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['cluster-info'] });
    expect(publicInfo.resourceRules).toContainEqual({ verbs: ['create', 'get', 'list', 'watch'], apiGroups: ['certificates.k8s.io'], resources: ['certificatesigningrequests'] });
    expect(rulesFor(chain, token, 'default').resourceRules.some((r) => r.resourceNames !== undefined)).toBe(false);
  });

  it('rules: incomplete for a node (the Node authorizer grants by object relationships)', () => {
    const r = rulesFor(chain, node, 'team');
    expect(r.incomplete).toBe(true);
    expect(r.evaluationError).toBe('the Node authorizer grants access by relationships between objects, which rules cannot list');
    // what RBAC binds to every authenticated user is still listed
    expect(r.resourceRules).toContainEqual({ verbs: ['create'], apiGroups: ['authentication.k8s.io'], resources: ['selfsubjectreviews'] });
    expect(r.resourceRules.some((x) => x.resources?.includes('secrets') === true)).toBe(false);
  });
});

describe('validation and routing', () => {
  const ssar = (spec: SelfSubjectAccessReview['spec']): SelfSubjectAccessReview => ({ apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', metadata: {}, spec });

  it('a SelfSubjectAccessReview needs exactly one kind of attributes; a rules review a namespace', () => {
    expect(validateSelfSubjectAccessReview(ssar({ resourceAttributes: { verb: 'get' } }))).toEqual([]);
    expect(validateSelfSubjectAccessReview(ssar({ nonResourceAttributes: { path: '/x', verb: 'get' } }))).toEqual([]);
    expect(validateSelfSubjectAccessReview(ssar({})).map((e) => e.field)).toEqual(['spec.resourceAttributes']);
    expect(validateSelfSubjectAccessReview(ssar({ resourceAttributes: {}, nonResourceAttributes: {} })).map((e) => e.field)).toEqual(['spec.nonResourceAttributes']);
    const rules = { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectRulesReview', metadata: {} };
    expect(validateSelfSubjectRulesReview({ ...rules, spec: { namespace: 'default' } })).toEqual([]);
    expect(validateSelfSubjectRulesReview({ ...rules, spec: {} }).map((e) => `${e.type} ${e.field}`)).toEqual(['FieldValueRequired spec.namespace']);
  });

  it('only the collection path of a review kind is a review', () => {
    const req = { kind: 'resource' as const, group: 'authorization.k8s.io', version: 'v1', resource: 'selfsubjectaccessreviews', legacyWatch: false };
    expect(reviewKindOf(req)?.kind).toBe('SelfSubjectAccessReview');
    expect(reviewKindOf({ ...req, resource: 'selfsubjectrulesreviews' })?.kind).toBe('SelfSubjectRulesReview');
    expect(reviewKindOf({ ...req, group: 'authentication.k8s.io', resource: 'selfsubjectreviews' })?.kind).toBe('SelfSubjectReview');
    expect(reviewKindOf({ ...req, name: 'x' })).toBeUndefined();
    expect(reviewKindOf({ ...req, namespace: 'default' })).toBeUndefined();
    expect(reviewKindOf({ ...req, version: 'v1beta1' })).toBeUndefined();
    expect(reviewKindOf({ ...req, resource: 'subjectaccessreviews' })?.kind).toBe('SubjectAccessReview');
    expect(reviewKindOf({ ...req, resource: 'widgetreviews' })).toBeUndefined();
  });
});

describe('reviews about somebody else', () => {
  const sar = (kind: string, spec: SubjectAccessReview['spec'], namespace?: string): SubjectAccessReview => ({
    apiVersion: 'authorization.k8s.io/v1',
    kind,
    metadata: namespace !== undefined ? { namespace } : {},
    spec,
  });
  const res = { verb: 'get', resource: 'pods', namespace: 'team' };

  it('a SubjectAccessReview needs a user or a group, and one kind of attributes', () => {
    expect(validateSubjectAccessReview(sar('SubjectAccessReview', { resourceAttributes: res, user: 'jane' }))).toEqual([]);
    expect(validateSubjectAccessReview(sar('SubjectAccessReview', { resourceAttributes: res, groups: ['dev'] }))).toEqual([]);
    expect(validateSubjectAccessReview(sar('SubjectAccessReview', { resourceAttributes: res })).map((e) => `${e.field}: ${e.detail ?? ''}`)).toEqual([
      'spec.user: at least one of user or group must be specified',
    ]);
  });

  it('a LocalSubjectAccessReview is about its own namespace and resources only', () => {
    expect(validateLocalSubjectAccessReview(sar('LocalSubjectAccessReview', { resourceAttributes: res, user: 'jane' }, 'team'))).toEqual([]);
    expect(validateLocalSubjectAccessReview(sar('LocalSubjectAccessReview', { resourceAttributes: res, user: 'jane' }, 'other')).map((e) => e.field)).toEqual(['spec.resourceAttributes.namespace']);
    expect(validateLocalSubjectAccessReview(sar('LocalSubjectAccessReview', { nonResourceAttributes: { path: '/x', verb: 'get' }, user: 'jane' }, 'team')).map((e) => e.field)).toEqual([
      'spec.nonResourceAttributes',
    ]);
  });

  it('routing: the local review only under a namespace, the others only without', () => {
    const at = (resource: string, namespace?: string) =>
      reviewKindOf({ kind: 'resource', group: 'authorization.k8s.io', version: 'v1', resource, legacyWatch: false, ...(namespace !== undefined ? { namespace } : {}) })?.kind;
    expect(at('localsubjectaccessreviews', 'team')).toBe('LocalSubjectAccessReview');
    expect(at('localsubjectaccessreviews')).toBeUndefined();
    expect(at('subjectaccessreviews')).toBe('SubjectAccessReview');
    expect(at('subjectaccessreviews', 'team')).toBeUndefined();
  });
});
