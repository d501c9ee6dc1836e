/**
 * rbac.authorization.k8s.io/v1 bodies: hand-built with upstream's field numbers (as kubectl create
 * rolebinding / clusterrole write them), then whole objects round-tripped through the tables.
 */
import { describe, expect, it } from 'vitest';
import { allMessages } from './kinds.js';
import { decodeObject } from './object.js';
import { encodeByTable, pb } from './test-encoder.js';

const RBAC = 'rbac.authorization.k8s.io';
const GV = `${RBAC}/v1`;

/** ObjectMeta as Go writes it: every non-pointer scalar, a zero creationTimestamp. */
const goMeta = (name: string, namespace = ''): Uint8Array =>
  pb.msg(pb.str(1, name), pb.str(2, ''), pb.str(3, namespace), pb.str(4, ''), pb.str(5, ''), pb.str(6, ''), pb.int(7, 0), pb.sub(8));

describe('rbac.authorization.k8s.io/v1 by upstream field numbers', () => {
  it('decodes a RoleBinding: subjects with an empty apiGroup dropped, roleRef whole', () => {
    const subject = (kind: string, apiGroup: string, name: string, namespace: string): Uint8Array =>
      pb.sub(2, pb.str(1, kind), pb.str(2, apiGroup), pb.str(3, name), pb.str(4, namespace));
    const raw = pb.msg(
      pb.sub(1, goMeta('read-pods', 'dev')),
      subject('User', RBAC, 'jane', ''),
      subject('ServiceAccount', '', 'builder', 'dev'),
      pb.sub(3, pb.str(1, RBAC), pb.str(2, 'Role'), pb.str(3, 'pod-reader')),
    );
    expect(decodeObject(pb.envelope(GV, 'RoleBinding', raw))).toEqual({
      apiVersion: GV,
      kind: 'RoleBinding',
      metadata: { name: 'read-pods', namespace: 'dev' },
      subjects: [
        { kind: 'User', apiGroup: RBAC, name: 'jane' },
        { kind: 'ServiceAccount', name: 'builder', namespace: 'dev' },
      ],
      roleRef: { apiGroup: RBAC, kind: 'Role', name: 'pod-reader' },
    });
  });

  it('decodes a ClusterRole: rules of each list, and an aggregation rule with label selectors', () => {
    const raw = pb.msg(
      pb.sub(1, goMeta('system:monitoring')),
      pb.sub(2, pb.str(1, 'get'), pb.str(1, 'list'), pb.str(2, ''), pb.str(2, 'apps'), pb.str(3, 'pods'), pb.str(3, 'deployments/scale'), pb.str(4, 'web')),
      pb.sub(2, pb.str(1, 'get'), pb.str(5, '/metrics'), pb.str(5, '/healthz/*')),
      pb.sub(3, pb.sub(1, pb.entry(1, 'rbac.example.com/aggregate-to-monitoring', 'true'))),
    );
    expect(decodeObject(pb.envelope(GV, 'ClusterRole', raw))).toEqual({
      apiVersion: GV,
      kind: 'ClusterRole',
      metadata: { name: 'system:monitoring' },
      rules: [
        { verbs: ['get', 'list'], apiGroups: ['', 'apps'], resources: ['pods', 'deployments/scale'], resourceNames: ['web'] },
        { verbs: ['get'], nonResourceURLs: ['/metrics', '/healthz/*'] },
      ],
      aggregationRule: { clusterRoleSelectors: [{ matchLabels: { 'rbac.example.com/aggregate-to-monitoring': 'true' } }] },
    });
  });

  it('keeps an empty aggregation rule (a pointer) so validation can refuse it', () => {
    const raw = pb.msg(pb.sub(1, goMeta('agg')), pb.sub(3));
    expect(decodeObject(pb.envelope(GV, 'ClusterRole', raw))['aggregationRule']).toEqual({});
  });
});

describe('rbac round trips through the tables', () => {
  it.each<[string, string, Record<string, unknown>]>([
    [
      'RoleBinding',
      'rbac.v1.RoleBinding',
      {
        metadata: { name: 'edit', namespace: 'team-a', labels: { app: 'x' } },
        subjects: [
          { kind: 'Group', apiGroup: RBAC, name: 'team-a:devs' },
          { kind: 'ServiceAccount', name: 'ci', namespace: 'tools' },
        ],
        roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: 'edit' },
      },
    ],
    [
      'ClusterRole',
      'rbac.v1.ClusterRole',
      {
        metadata: { name: 'view', annotations: { 'rbac.authorization.kubernetes.io/autoupdate': 'true' } },
        rules: [
          { verbs: ['get', 'list', 'watch'], apiGroups: [''], resources: ['configmaps', 'pods/log'] },
          { verbs: ['*'], nonResourceURLs: ['*'] },
        ],
        aggregationRule: {
          clusterRoleSelectors: [
            { matchLabels: { 'rbac.authorization.k8s.io/aggregate-to-view': 'true' } },
            { matchExpressions: [{ key: 'tier', operator: 'In', values: ['a', 'b'] }] },
          ],
        },
      },
    ],
    ['Role', 'rbac.v1.Role', { metadata: { name: 'r', namespace: 'n' }, rules: [{ verbs: ['get'], apiGroups: ['apps'], resources: ['deployments'] }] }],
    [
      'ClusterRoleBinding',
      'rbac.v1.ClusterRoleBinding',
      {
        metadata: { name: 'system:node-proxier' },
        subjects: [{ kind: 'User', apiGroup: RBAC, name: 'system:kube-proxy' }],
        roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: 'system:node-proxier' },
      },
    ],
  ])('a %s comes back whole', (kind, message, body) => {
    const back = decodeObject(pb.envelope(GV, kind, encodeByTable(allMessages, message, body)));
    expect(back).toEqual({ apiVersion: GV, kind, ...body });
  });
});
