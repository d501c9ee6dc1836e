import { describe, expect, it } from 'vitest';
import { formatFieldError } from '../field-errors.js';
import type { LabelSelectorRequirement } from '../meta.js';
import type { ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding, Subject } from './rbac.js';
import { RBAC_GROUP, clusterRoleBindingKind, clusterRoleKind, roleBindingKind, roleKind } from './rbac.js';

const msgs = (errs: readonly Parameters<typeof formatFieldError>[0][]): string[] => errs.map(formatFieldError);

const role = (rules: PolicyRule[], name = 'pod-reader'): Role => ({
  apiVersion: `${RBAC_GROUP}/v1`,
  kind: 'Role',
  metadata: { name, namespace: 'default' },
  rules,
});
const clusterRole = (rules: PolicyRule[], extra: Partial<ClusterRole> = {}): ClusterRole => ({
  metadata: { name: 'system:node' },
  rules,
  ...extra,
});
const podRule: PolicyRule = { verbs: ['get', 'list', 'watch'], apiGroups: [''], resources: ['pods'] };

const sa = (name: string, namespace?: string): Subject => ({ kind: 'ServiceAccount', name, ...(namespace !== undefined ? { namespace } : {}) });
const user = (name: string): Subject => ({ kind: 'User', apiGroup: RBAC_GROUP, name });

const roleBinding = (extra: Partial<RoleBinding> = {}): RoleBinding => ({
  metadata: { name: 'read-pods', namespace: 'default' },
  subjects: [user('jane'), sa('builder')],
  roleRef: { apiGroup: RBAC_GROUP, kind: 'Role', name: 'pod-reader' },
  ...extra,
});
const clusterRoleBinding = (extra: Partial<ClusterRoleBinding> = {}): ClusterRoleBinding => ({
  metadata: { name: 'system:node' },
  subjects: [{ kind: 'Group', apiGroup: RBAC_GROUP, name: 'system:nodes' }, sa('kube-proxy', 'kube-system')],
  roleRef: { apiGroup: RBAC_GROUP, kind: 'ClusterRole', name: 'system:node' },
  ...extra,
});

describe('kind definitions', () => {
  it.each([
    [roleKind, 'Role', 'roles', true],
    [clusterRoleKind, 'ClusterRole', 'clusterroles', false],
    [roleBindingKind, 'RoleBinding', 'rolebindings', true],
    [clusterRoleBindingKind, 'ClusterRoleBinding', 'clusterrolebindings', false],
  ] as const)('%#: rbac.authorization.k8s.io/v1 %s', (def, kind, plural, namespaced) => {
    expect(def).toMatchObject({
      group: 'rbac.authorization.k8s.io',
      version: 'v1',
      kind,
      plural,
      singular: kind.toLowerCase(),
      namespaced,
      shortNames: [],
      categories: [],
      hasStatusSubresource: false,
    });
  });
});

describe('Role and ClusterRole validation', () => {
  it('accepts resource rules, names with colons, and an empty role', () => {
    expect(roleKind.validate(role([podRule]))).toEqual([]);
    expect(roleKind.validate(role([], 'system:controller:bootstrap-signer'))).toEqual([]);
    expect(roleKind.validate({ metadata: { name: 'r', namespace: 'n' } })).toEqual([]);
    expect(clusterRoleKind.validate(clusterRole([podRule, { verbs: ['get'], nonResourceURLs: ['/healthz', '/api/*', '*'] }]))).toEqual([]);
  });

  it('defaults nothing', () => {
    const r = role([podRule]);
    expect(roleKind.default(r)).toEqual(r);
    expect(clusterRoleKind.default(clusterRole([podRule]))).toEqual(clusterRole([podRule]));
  });

  it.each<[string, Role, string[]]>([
    ['a rule without verbs', role([{ verbs: [], apiGroups: [''], resources: ['pods'] }]), ['rules[0].verbs: Required value: verbs must contain at least one value']],
    [
      'a rule without groups and resources',
      role([{ verbs: ['get'] }]),
      [
        'rules[0].apiGroups: Required value: resource rules must supply at least one api group',
        'rules[0].resources: Required value: resource rules must supply at least one resource',
      ],
    ],
    [
      'a non-resource URL in a namespaced role',
      role([{ verbs: ['get'], nonResourceURLs: ['/healthz'] }]),
      ['rules[0].nonResourceURLs: Invalid value: []string{"/healthz"}: namespaced rules cannot apply to non-resource URLs'],
    ],
    [
      'a name with a slash',
      role([], 'a/b'),
      ['metadata.name: Invalid value: "a/b": may not contain \'/\''],
    ],
    ['no namespace', { metadata: { name: 'r' } }, ['metadata.namespace: Required value']],
  ])('Role: %s', (_name, r, expected) => {
    expect(msgs(roleKind.validate(r))).toEqual(expected);
  });

  it.each<[string, ClusterRole, string[]]>([
    [
      'resources and non-resource URLs together',
      clusterRole([{ verbs: ['get'], resources: ['pods'], nonResourceURLs: ['/api'] }]),
      ['rules[0].nonResourceURLs: Invalid value: []string{"/api"}: rules cannot apply to both regular resources and non-resource URLs'],
    ],
    [
      'resources without an api group',
      clusterRole([{ verbs: ['get'], resources: ['nodes'] }]),
      ['rules[0].apiGroups: Required value: resource rules must supply at least one api group'],
    ],
    [
      'a non-resource URL without a leading slash',
      clusterRole([{ verbs: ['get'], nonResourceURLs: ['healthz'] }]),
      ['rules[0].nonResourceURLs[0]: Invalid value: "healthz": nonResourceURL should start with /'],
    ],
    [
      'a non-resource URL with an inner star',
      clusterRole([{ verbs: ['get'], nonResourceURLs: ['/api/*/x'] }]),
      ['rules[0].nonResourceURLs[0]: Invalid value: "/api/*/x": nonResourceURL only supports wildcard matches when \'*\' is at the end'],
    ],
    [
      'an aggregation rule without selectors',
      clusterRole([], { aggregationRule: {} }),
      ['aggregationRule.clusterRoleSelectors: Required value: at least one clusterRoleSelector required if aggregationRule is non-nil'],
    ],
    ['a namespace', { metadata: { name: 'c', namespace: 'n' } }, ['metadata.namespace: Forbidden: not allowed on this type']],
  ])('ClusterRole: %s', (_name, r, expected) => {
    expect(msgs(clusterRoleKind.validate(r))).toEqual(expected);
  });

  it('validates aggregation selectors like any label selector', () => {
    const ok = clusterRole([], { aggregationRule: { clusterRoleSelectors: [{ matchLabels: { 'rbac.example.com/aggregate-to-view': 'true' } }] } });
    expect(clusterRoleKind.validate(ok)).toEqual([]);
    // an operator outside the type, as a JSON body may carry
    const near = { key: 'a', operator: 'Near' } as unknown as LabelSelectorRequirement;
    const bad = clusterRole([], { aggregationRule: { clusterRoleSelectors: [{ matchExpressions: [near] }] } });
    expect(msgs(clusterRoleKind.validate(bad))).toEqual([
      'aggregationRule.clusterRoleSelectors[0].matchExpressions[0].operator: Invalid value: "Near": not a valid selector operator',
      'aggregationRule.clusterRoleSelectors[0]: Invalid value: {"matchExpressions":[{"key":"a","operator":"Near"}]}: invalid label selector.',
    ]);
  });

  it('lets rules change on update, checks them again, and keeps the name', () => {
    const old = { ...clusterRole([podRule]), metadata: { name: 'view', uid: 'u1' } };
    expect(clusterRoleKind.validateUpdate({ ...old, rules: [] }, old)).toEqual([]);
    expect(msgs(clusterRoleKind.validateUpdate({ ...old, rules: [{ verbs: [], nonResourceURLs: ['/x'] }] }, old))).toEqual([
      'rules[0].verbs: Required value: verbs must contain at least one value',
    ]);
    expect(msgs(clusterRoleKind.validateUpdate({ ...old, metadata: { name: 'edit', uid: 'u1' } }, old))).toEqual([
      'metadata.name: Invalid value: "edit": field is immutable',
    ]);
    const oldRole = role([podRule]);
    expect(msgs(roleKind.validateUpdate(role([{ verbs: ['get'], nonResourceURLs: ['/x'] }]), oldRole))).toEqual([
      'rules[0].nonResourceURLs: Invalid value: []string{"/x"}: namespaced rules cannot apply to non-resource URLs',
    ]);
  });
});

describe('binding defaulting', () => {
  it('gives User and Group subjects and the roleRef the rbac apiGroup when empty', () => {
    const b: RoleBinding = {
      metadata: { name: 'b', namespace: 'ns' },
      subjects: [
        { kind: 'User', name: 'jane' },
        { kind: 'Group', apiGroup: '', name: 'devs' },
        { kind: 'ServiceAccount', name: 'default' },
        { kind: 'User', apiGroup: 'example.com', name: 'other' },
      ],
      roleRef: { apiGroup: '', kind: 'Role', name: 'r' },
    };
    const d = roleBindingKind.default(b);
    expect(d.subjects).toEqual([
      { kind: 'User', apiGroup: RBAC_GROUP, name: 'jane' },
      { kind: 'Group', apiGroup: RBAC_GROUP, name: 'devs' },
      { kind: 'ServiceAccount', name: 'default' },
      { kind: 'User', apiGroup: 'example.com', name: 'other' },
    ]);
    expect(d.roleRef).toEqual({ apiGroup: RBAC_GROUP, kind: 'Role', name: 'r' });
    expect(b.roleRef.apiGroup).toBe('');
  });

  it('defaults a ClusterRoleBinding the same way and leaves absent subjects absent', () => {
    const d = clusterRoleBindingKind.default({ metadata: { name: 'x' }, roleRef: { kind: 'ClusterRole', name: 'view' } as ClusterRoleBinding['roleRef'] });
    expect(d).toEqual({ metadata: { name: 'x' }, roleRef: { apiGroup: RBAC_GROUP, kind: 'ClusterRole', name: 'view' } });
  });
});

describe('binding validation', () => {
  it('accepts well-formed bindings; a RoleBinding service account may omit its namespace', () => {
    expect(roleBindingKind.validate(roleBinding())).toEqual([]);
    expect(roleBindingKind.validate(roleBinding({ roleRef: { apiGroup: RBAC_GROUP, kind: 'ClusterRole', name: 'system:aggregate-to-view' } }))).toEqual([]);
    expect(clusterRoleBindingKind.validate(clusterRoleBinding())).toEqual([]);
    expect(clusterRoleBindingKind.validate(clusterRoleBinding({ subjects: [] }))).toEqual([]);
  });

  it.each<[string, RoleBinding, string[]]>([
    [
      'a roleRef in another group',
      roleBinding({ roleRef: { apiGroup: 'example.com', kind: 'Role', name: 'r' } }),
      ['roleRef.apiGroup: Unsupported value: "example.com": supported values: "rbac.authorization.k8s.io"'],
    ],
    [
      'a roleRef of another kind',
      roleBinding({ roleRef: { apiGroup: RBAC_GROUP, kind: 'Pod', name: 'r' } }),
      ['roleRef.kind: Unsupported value: "Pod": supported values: "Role", "ClusterRole"'],
    ],
    ['a roleRef without name', roleBinding({ roleRef: { apiGroup: RBAC_GROUP, kind: 'Role', name: '' } }), ['roleRef.name: Required value']],
    [
      'a roleRef name with a percent sign',
      roleBinding({ roleRef: { apiGroup: RBAC_GROUP, kind: 'Role', name: 'a%b' } }),
      ['roleRef.name: Invalid value: "a%b": may not contain \'%\''],
    ],
    [
      'a service account with an api group and a bad name',
      roleBinding({ subjects: [{ kind: 'ServiceAccount', apiGroup: RBAC_GROUP, name: 'Bad_Name' }] }),
      [
        expect.stringMatching(/^subjects\[0\]\.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain/) as unknown as string,
        'subjects[0].apiGroup: Unsupported value: "rbac.authorization.k8s.io": supported values: ""',
      ],
    ],
    [
      'a user in the core group and a nameless group',
      roleBinding({ subjects: [{ kind: 'User', apiGroup: '', name: 'jane' }, { kind: 'Group', apiGroup: RBAC_GROUP, name: '' }] }),
      ['subjects[0].apiGroup: Unsupported value: "": supported values: "rbac.authorization.k8s.io"', 'subjects[1].name: Required value'],
    ],
    [
      'an unknown subject kind',
      roleBinding({ subjects: [{ kind: 'Robot', name: 'r2' }] }),
      ['subjects[0].kind: Unsupported value: "Robot": supported values: "ServiceAccount", "User", "Group"'],
    ],
  ])('RoleBinding: %s', (_name, b, expected) => {
    expect(msgs(roleBindingKind.validate(b))).toEqual(expected);
  });

  it.each<[string, ClusterRoleBinding, string[]]>([
    [
      'a roleRef to a Role',
      clusterRoleBinding({ roleRef: { apiGroup: RBAC_GROUP, kind: 'Role', name: 'r' } }),
      ['roleRef.kind: Unsupported value: "Role": supported values: "ClusterRole"'],
    ],
    ['a service account without namespace', clusterRoleBinding({ subjects: [sa('default')] }), ['subjects[0].namespace: Required value']],
    [
      'no roleRef at all',
      { metadata: { name: 'x' } } as ClusterRoleBinding,
      [
        'roleRef.apiGroup: Unsupported value: "": supported values: "rbac.authorization.k8s.io"',
        'roleRef.kind: Unsupported value: "": supported values: "ClusterRole"',
        'roleRef.name: Required value',
      ],
    ],
  ])('ClusterRoleBinding: %s', (_name, b, expected) => {
    expect(msgs(clusterRoleBindingKind.validate(b))).toEqual(expected);
  });

  it('refuses to change the roleRef on update but lets subjects change', () => {
    const old = roleBinding();
    expect(roleBindingKind.validateUpdate(roleBinding({ subjects: [user('bob')] }), old)).toEqual([]);
    expect(msgs(roleBindingKind.validateUpdate(roleBinding({ roleRef: { apiGroup: RBAC_GROUP, kind: 'ClusterRole', name: 'pod-reader' } }), old))).toEqual([
      'roleRef: Invalid value: {"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"pod-reader"}: cannot change roleRef',
    ]);
    const oldCrb = clusterRoleBinding();
    expect(msgs(clusterRoleBindingKind.validateUpdate(clusterRoleBinding({ roleRef: { apiGroup: RBAC_GROUP, kind: 'ClusterRole', name: 'view' } }), oldCrb))).toEqual([
      'roleRef: Invalid value: {"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"view"}: cannot change roleRef',
    ]);
  });
});
