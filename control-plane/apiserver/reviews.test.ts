import { describe, expect, it } from 'vitest';
import { validateSelfSubjectAccessReview, validateSelfSubjectRulesReview } from '../../api/authorization/reviews.js';
import type { SelfSubjectAccessReview } from '../../api/authorization/reviews.js';
import { accessDecision, reviewKindOf, rulesFor } from './reviews.js';

const admin = { name: 'kubernetes-admin', groups: ['system:masters', 'system:authenticated'] };
const node = { name: 'system:node:w1', groups: ['system:nodes', 'system:authenticated'] };
const token = { name: 'system:bootstrap:abcdef', groups: ['system:bootstrappers', 'system:authenticated'] };

describe('the server policy as the reviews report it', () => {
  it.each([
    ['admin, pods/exec', admin, { verb: 'create', resource: 'pods', subresource: 'exec' }, true],
    ['node, pods/exec', node, { verb: 'create', resource: 'pods', subresource: 'exec' }, false],
    ['node, pods/attach', node, { verb: 'create', resource: 'pods', subresource: 'attach' }, false],
    ['token, pods/portforward', token, { verb: 'create', resource: 'pods', subresource: 'portforward' }, false],
    ['node, pods/log', node, { verb: 'get', resource: 'pods', subresource: 'log' }, true],
    ['node, pods', node, { verb: 'list', resource: 'pods' }, true],
    ['node, an exec subresource of another group', node, { verb: 'create', group: 'example.com', resource: 'pods', subresource: 'exec' }, true],
    ['node, a non-resource URL', node, undefined, true],
    ['node, nodes/proxy', node, { verb: 'get', resource: 'nodes', subresource: 'proxy', name: 'w1' }, false],
    ['token, nodes/proxy', token, { verb: 'create', resource: 'nodes', subresource: 'proxy' }, false],
    ['admin, nodes/proxy', admin, { verb: 'get', resource: 'nodes', subresource: 'proxy' }, true],
    ['node, nodes/status', node, { verb: 'patch', resource: 'nodes', subresource: 'status' }, true],
    ['token, pods/proxy', token, { verb: 'get', resource: 'pods', subresource: 'proxy' }, false],
    ['node, services/proxy', node, { verb: 'get', resource: 'services', subresource: 'proxy' }, false],
    ['node, everything', node, { verb: '*', resource: '*' }, false],
    ['node, every subresource of pods', node, { verb: 'create', resource: 'pods', subresource: '*' }, false],
    ['admin, everything', admin, { verb: '*', resource: '*' }, true],
  ])('%s', (_name, user, attrs, allowed) => {
    const d = accessDecision(user, attrs);
    expect(d.allowed).toBe(allowed);
    expect(d.reason).toMatch(allowed ? /no RBAC yet/ : (attrs as { subresource?: string } | undefined)?.subresource === 'proxy' ? /may not use pods\/proxy, services\/proxy or nodes\/proxy/ : /may not open streams/);
  });

  it('rules: everything for users without exceptions; incomplete and empty for nodes and tokens', () => {
    expect(rulesFor(admin)).toEqual({
      resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }],
      nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*'] }],
      incomplete: false,
    });
    for (const u of [node, token]) {
      const r = rulesFor(u);
      expect([r.incomplete, r.resourceRules, r.nonResourceRules]).toEqual([true, [], []]);
      expect(r.evaluationError).toContain('pods/exec');
    }
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
    expect(reviewKindOf({ ...req, resource: 'subjectaccessreviews' })).toBeUndefined();
  });
});
