import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../api/meta.js';
import type { AdmissionContext } from '../admission.js';
import { ApiError } from '../errors.js';
import type { RequestUser, ResourceEntry } from '../resource-table.js';
import { servedResources } from '../resources.js';
import { MIRROR_ANNOTATION, NodeRestriction, RbacEscalationCheck } from './admission.js';
import { RBAC_GROUP } from './rbac.js';
import { ADMIN, clusterRole, clusterRoleBinding, nodeUser, plainUser, roleBinding, testChain, user } from './testing.js';
import type { Rule } from './types.js';
import { apiError } from '../test-support.js';

const index = servedResources();
function entryOf(group: string, plural: string): ResourceEntry {
  const e = index.find(group, 'v1', plural);
  if (e === undefined) throw new Error(`${plural}.${group} not served`);
  return e;
}
const ctx = (group: string, plural: string, u: RequestUser | undefined): AdmissionContext => ({
  entry: entryOf(group, plural),
  registry: undefined as never,
  dryRun: false,
  ...(u !== undefined ? { user: u } : {}),
});

const refusal = apiError;

const podObj = (name: string, nodeName: string | undefined, mirror = false): KubeObject =>
  ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'ns', ...(mirror ? { annotations: { [MIRROR_ANNOTATION]: 'hash' } } : {}) },
    spec: { containers: [{ name: 'c', image: 'i' }], ...(nodeName !== undefined ? { nodeName } : {}) },
  }) as KubeObject;
const nodeObj = (name: string): KubeObject => ({ apiVersion: 'v1', kind: 'Node', metadata: { name } });

describe('NodeRestriction', () => {
  const plugin = new NodeRestriction();
  const w1 = nodeUser('w1');
  const pods = ctx('', 'pods', w1);
  const nodes = ctx('', 'nodes', w1);

  it('a node creates only mirror pods bound to itself', async () => {
    const plain = await refusal(plugin.admitCreate(pods, podObj('web', 'w1')));
    expect(plain.httpCode).toBe(403);
    expect(plain.message).toBe(`pod does not have "${MIRROR_ANNOTATION}" annotation, node "w1" can only create mirror pods`);
    await expect(plugin.admitCreate(pods, podObj('static-w1', 'w1', true))).resolves.toBeUndefined();
    const other = await refusal(plugin.admitCreate(pods, podObj('static-w2', 'w2', true)));
    expect(other.httpCode).toBe(403);
    expect(other.message).toBe('node "w1" can only create pods with spec.nodeName set to itself');
    expect((await refusal(plugin.admitCreate(pods, podObj('static', undefined, true)))).httpCode).toBe(403);
  });

  it('a node updates (status of) and deletes only pods bound to itself', async () => {
    await expect(plugin.admitUpdate(ctx('', 'pods', w1), podObj('a', 'w1'), podObj('a', 'w1'))).resolves.toBeUndefined();
    const upd = await refusal(plugin.admitUpdate({ ...pods, subresource: 'status' }, podObj('b', 'w2'), podObj('b', 'w2')));
    expect(upd.httpCode).toBe(403);
    expect(upd.message).toBe('node "w1" can only update pod status for pods with spec.nodeName set to itself');
    await expect(plugin.admitDelete(pods, podObj('a', 'w1'))).resolves.toBeUndefined();
    const del = await refusal(plugin.admitDelete(pods, podObj('b', 'w2')));
    expect([del.httpCode, del.message]).toEqual([403, 'node "w1" can only delete pods with spec.nodeName set to itself']);
    expect((await refusal(plugin.admitDelete(pods, podObj('c', undefined)))).httpCode).toBe(403);
  });

  it('a node creates, updates and deletes only its own Node', async () => {
    await expect(plugin.admitCreate(nodes, nodeObj('w1'))).resolves.toBeUndefined();
    await expect(plugin.admitUpdate(nodes, nodeObj('w1'), nodeObj('w1'))).resolves.toBeUndefined();
    await expect(plugin.admitDelete(nodes, nodeObj('w1'))).resolves.toBeUndefined();
    const msg = 'node "w1" is not allowed to modify node "w2"';
    expect((await refusal(plugin.admitCreate(nodes, nodeObj('w2')))).message).toBe(msg);
    const upd = await refusal(plugin.admitUpdate({ ...nodes, subresource: 'status' }, nodeObj('w2'), nodeObj('w2')));
    expect([upd.httpCode, upd.message]).toEqual([403, msg]);
    expect((await refusal(plugin.admitDelete(nodes, nodeObj('w2')))).message).toBe(msg);
  });

  it('a mirror pod may not refer to secrets, config maps, claims or tokens', async () => {
    const withSpec = (extra: Record<string, unknown>): KubeObject => {
      const p = podObj('m', 'w1', true) as KubeObject & { spec: Record<string, unknown> };
      return { ...p, spec: { ...p.spec, ...extra } } as KubeObject;
    };
    const secretVol = await refusal(plugin.admitCreate(pods, withSpec({ volumes: [{ name: 'v', secret: { secretName: 'db' } }] })));
    expect([secretVol.httpCode, secretVol.message]).toEqual([403, 'node "w1" can not create pods that reference secrets or configmaps (secret ns/db)']);
    const env = await refusal(plugin.admitCreate(pods, withSpec({ containers: [{ name: 'c', image: 'i', envFrom: [{ configMapRef: { name: 'cfg' } }] }] })));
    expect(env.message).toContain('configmap ns/cfg');
    const pvc = await refusal(plugin.admitCreate(pods, withSpec({ volumes: [{ name: 'v', persistentVolumeClaim: { claimName: 'c' } }] })));
    expect(pvc.message).toContain('persistent volume claims or service account tokens');
    const token = await refusal(plugin.admitCreate(pods, withSpec({ volumes: [{ name: 'v', projected: { sources: [{ serviceAccountToken: { path: 't' } }] } }] })));
    expect(token.message).toContain('service account tokens');
    // an emptyDir and a service account name are fine (the graph gives mirror pods no account)
    await expect(plugin.admitCreate(pods, withSpec({ serviceAccountName: 'default', volumes: [{ name: 'v', emptyDir: {} }] }))).resolves.toBeUndefined();
  });

  it('a node may not change its taints after registration, nor set role or isolation labels', async () => {
    const node = (labels: Record<string, string>, taints: unknown[] = []): KubeObject => ({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'w1', labels }, spec: { taints } }) as KubeObject;
    const taint = { key: 'dedicated', value: 'db', effect: 'NoSchedule' };
    await expect(plugin.admitCreate(nodes, node({ 'kubernetes.io/hostname': 'w1' }, [taint]))).resolves.toBeUndefined();
    const untaint = await refusal(plugin.admitUpdate(nodes, node({}, []), node({}, [taint])));
    expect(untaint.message).toBe('node "w1" is not allowed to modify taints');
    const role = await refusal(plugin.admitUpdate(nodes, node({ 'node-role.kubernetes.io/control-plane': '' }), node({})));
    expect(role.message).toBe('node "w1" is not allowed to modify labels: node-role.kubernetes.io/control-plane');
    const iso = await refusal(plugin.admitCreate(nodes, node({ 'node-restriction.kubernetes.io/secure': 'yes' })));
    expect(iso.message).toBe('node "w1" is not allowed to set the following labels: node-restriction.kubernetes.io/secure');
    // keeping a label an administrator set, and changing ordinary labels, is fine
    await expect(plugin.admitUpdate(nodes, node({ 'node-role.kubernetes.io/worker': '', app: 'x' }), node({ 'node-role.kubernetes.io/worker': '' }))).resolves.toBeUndefined();
  });

  it("a node writes only its own heartbeat Lease, in kube-node-lease", async () => {
    const leases = ctx('coordination.k8s.io', 'leases', nodeUser('w1'));
    const lease = (name: string, namespace = 'kube-node-lease'): KubeObject => ({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace } }) as KubeObject;
    await expect(plugin.admitCreate(leases, lease('w1'))).resolves.toBeUndefined();
    await expect(plugin.admitUpdate(leases, lease('w1'), lease('w1'))).resolves.toBeUndefined();
    const msg = 'node "w1" can only access node lease with the same name as the requesting node';
    expect((await refusal(plugin.admitCreate(leases, lease('w2')))).message).toBe(msg);
    expect((await refusal(plugin.admitCreate(leases, lease('w1', 'default')))).message).toBe(msg);
    expect((await refusal(plugin.admitUpdate(leases, lease('w2'), lease('w2')))).message).toBe(msg);
    await expect(plugin.admitCreate(ctx('coordination.k8s.io', 'leases', plainUser('jane')), lease('w2'))).resolves.toBeUndefined();
  });

  it('does not concern users that are not nodes, nor other resources', async () => {
    for (const u of [plainUser('jane'), ADMIN, { name: 'system:node:w1', groups: ['system:authenticated'] }, undefined]) {
      const p = ctx('', 'pods', u);
      const n = ctx('', 'nodes', u);
      await expect(plugin.admitCreate(p, podObj('web', 'w2'))).resolves.toBeUndefined();
      await expect(plugin.admitUpdate(p, podObj('web', 'w2'), podObj('web', 'w2'))).resolves.toBeUndefined();
      await expect(plugin.admitDelete(p, podObj('web', 'w2'))).resolves.toBeUndefined();
      await expect(plugin.admitCreate(n, nodeObj('w2'))).resolves.toBeUndefined();
      await expect(plugin.admitDelete(n, nodeObj('w2'))).resolves.toBeUndefined();
    }
    const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'ns' } } as KubeObject;
    await expect(plugin.admitCreate(ctx('', 'secrets', w1), secret)).resolves.toBeUndefined();
  });
});

describe('RBAC escalation check', () => {
  const { chain, rbac } = testChain({
    objects: [
      roleBinding('team', 'jane-edit', { kind: 'ClusterRole', name: 'edit' }, [user('jane')]),
      clusterRole('bind-admin', [{ verbs: ['bind'], apiGroups: [RBAC_GROUP], resources: ['clusterroles'], resourceNames: ['admin'] }]),
      clusterRoleBinding('lead-bind-admin', 'bind-admin', [user('lead')]),
      roleBinding('team', 'lead-edit', { kind: 'ClusterRole', name: 'edit' }, [user('lead')]),
      clusterRole('escalator', [{ verbs: ['escalate'], apiGroups: [RBAC_GROUP], resources: ['roles'] }]),
      clusterRoleBinding('esc', 'escalator', [user('esc')]),
    ],
  });
  const plugin = new RbacEscalationCheck(
    () => chain,
    () => rbac,
  );
  const jane = plainUser('jane');
  const roleObj = (namespace: string | undefined, name: string, rules: Rule[]): KubeObject =>
    ({ apiVersion: `${RBAC_GROUP}/v1`, kind: namespace !== undefined ? 'Role' : 'ClusterRole', metadata: { name, ...(namespace !== undefined ? { namespace } : {}) }, rules }) as KubeObject;
  const bindingObj = (namespace: string, name: string, roleRef: { kind: string; name: string }): KubeObject =>
    ({ apiVersion: `${RBAC_GROUP}/v1`, kind: 'RoleBinding', metadata: { name, namespace }, roleRef: { apiGroup: RBAC_GROUP, ...roleRef }, subjects: [{ kind: 'User', name: 'x' }] }) as KubeObject;
  const roles = (u: RequestUser | undefined): AdmissionContext => ctx(RBAC_GROUP, 'roles', u);
  const bindings = (u: RequestUser | undefined): AdmissionContext => ctx(RBAC_GROUP, 'rolebindings', u);

  it('a Role granting only what its author holds in that namespace is fine', async () => {
    await expect(plugin.admitCreate(roles(jane), roleObj('team', 'r', [{ verbs: ['get'], apiGroups: [''], resources: ['secrets'] }]))).resolves.toBeUndefined();
    await expect(
      plugin.admitUpdate(roles(jane), roleObj('team', 'r', [{ verbs: ['get', 'list'], apiGroups: ['apps'], resources: ['deployments/scale'] }])),
    ).resolves.toBeUndefined();
    // what every authenticated user holds counts too
    await expect(plugin.admitCreate(roles(jane), roleObj('team', 'r', [{ verbs: ['get'], nonResourceURLs: ['/version'] }]))).resolves.toBeUndefined();
  });

  it('a Role granting more is refused, listing what is missing', async () => {
    const err = await refusal(
      plugin.admitCreate(roles(jane), roleObj('team', 'r', [{ verbs: ['get'], apiGroups: [''], resources: ['secrets'] }, { verbs: ['list'], apiGroups: [''], resources: ['nodes'] }])),
    );
    expect(err.httpCode).toBe(403);
    expect(err.message).toBe(
      'roles.rbac.authorization.k8s.io "r" is forbidden: user "jane" (groups=["system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n' +
        '{APIGroups:[""], Resources:["nodes"], Verbs:["list"]}',
    );
    // the same rules in a namespace where jane holds nothing
    const elsewhere = await refusal(plugin.admitCreate(roles(jane), roleObj('other', 'r', [{ verbs: ['get'], apiGroups: [''], resources: ['secrets'] }])));
    expect(elsewhere.message).toContain('{APIGroups:[""], Resources:["secrets"], Verbs:["get"]}');
    // a ClusterRole is judged against cluster-wide rules only
    const cluster = await refusal(plugin.admitCreate(ctx(RBAC_GROUP, 'clusterroles', jane), roleObj(undefined, 'c', [{ verbs: ['get'], apiGroups: [''], resources: ['secrets'] }])));
    expect(cluster.message).toMatch(/^clusterroles\.rbac\.authorization\.k8s\.io "c" is forbidden: user "jane"/);
    // updates are checked like creates
    expect((await refusal(plugin.admitUpdate(roles(jane), roleObj('team', 'r', [{ verbs: ['*'], apiGroups: [''], resources: ['pods'] }])))).httpCode).toBe(403);
  });

  it('the escalate verb allows any rules', async () => {
    await expect(plugin.admitCreate(roles(plainUser('esc')), roleObj('team', 'r', [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }]))).resolves.toBeUndefined();
  });

  it('a binding needs every permission of the role it binds, or bind on it', async () => {
    await expect(plugin.admitCreate(bindings(jane), bindingObj('team', 'b', { kind: 'ClusterRole', name: 'view' }))).resolves.toBeUndefined();
    await expect(plugin.admitCreate(bindings(jane), bindingObj('team', 'b', { kind: 'ClusterRole', name: 'edit' }))).resolves.toBeUndefined();
    const err = await refusal(plugin.admitCreate(bindings(jane), bindingObj('team', 'b', { kind: 'ClusterRole', name: 'admin' })));
    expect(err.httpCode).toBe(403);
    expect(err.message).toMatch(/^rolebindings\.rbac\.authorization\.k8s\.io "b" is forbidden: user "jane" \(groups=\["system:authenticated"\]\) is attempting to grant RBAC permissions not currently held:\n/);
    expect(err.message).toContain('{APIGroups:["authorization.k8s.io"], Resources:["localsubjectaccessreviews"], Verbs:["create"]}');
    expect(err.message).toContain('{APIGroups:["rbac.authorization.k8s.io"], Resources:["rolebindings"], Verbs:["create"]}');
    // with bind on clusterroles/admin
    const lead = plainUser('lead');
    await expect(plugin.admitCreate(bindings(lead), bindingObj('team', 'b', { kind: 'ClusterRole', name: 'admin' }))).resolves.toBeUndefined();
    await expect(plugin.admitCreate(bindings(lead), bindingObj('other', 'b', { kind: 'ClusterRole', name: 'admin' }))).resolves.toBeUndefined();
    // bind on admin is not bind on cluster-admin
    expect((await refusal(plugin.admitCreate(bindings(lead), bindingObj('team', 'b', { kind: 'ClusterRole', name: 'cluster-admin' })))).httpCode).toBe(403);
  });

  it('a malformed rule does not crash the check (validation refuses it later with a 422)', async () => {
    const bad = { ...roleObj('team', 'r', []), rules: [{ apiGroups: [''], resources: ['pods'] }, null, { verbs: null }] } as unknown as KubeObject;
    await expect(plugin.admitCreate(roles(jane), bad)).resolves.toBeUndefined();
  });

  it('setting an aggregationRule needs full authority, even on a role one may update', async () => {
    const agg = { ...roleObj(undefined, 'mine', []), aggregationRule: { clusterRoleSelectors: [{ matchLabels: { 'kubernetes.io/bootstrapping': 'rbac-defaults' } }] } } as KubeObject;
    const err = await refusal(plugin.admitUpdate(ctx(RBAC_GROUP, 'clusterroles', jane), agg));
    expect(err.httpCode).toBe(403);
    expect(err.message).toContain('is attempting to grant RBAC permissions not currently held');
    expect(err.message).toContain('{APIGroups:["*"], Resources:["*"], Verbs:["*"]}');
    await expect(plugin.admitUpdate(ctx(RBAC_GROUP, 'clusterroles', ADMIN), agg)).resolves.toBeUndefined();
  });

  it('binding a role that does not exist needs the bind verb', async () => {
    const err = await refusal(plugin.admitCreate(bindings(jane), bindingObj('team', 'b', { kind: 'Role', name: 'nope' })));
    expect(err.httpCode).toBe(403);
    expect(err.message).toBe(
      'rolebindings.rbac.authorization.k8s.io "b" is forbidden: user "jane" cannot bind Role "nope": it does not exist, and binding it needs the bind verb on it',
    );
  });

  it('system:masters, the control plane itself and other resources are not checked', async () => {
    const unreachable = new RbacEscalationCheck(
      () => {
        throw new Error('consulted');
      },
      () => {
        throw new Error('consulted');
      },
    );
    const everything = roleObj('team', 'r', [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }]);
    await expect(unreachable.admitCreate(roles(ADMIN), everything)).resolves.toBeUndefined();
    await expect(unreachable.admitCreate(roles(undefined), everything)).resolves.toBeUndefined();
    await expect(unreachable.admitCreate(bindings(undefined), bindingObj('team', 'b', { kind: 'ClusterRole', name: 'cluster-admin' }))).resolves.toBeUndefined();
    await expect(unreachable.admitCreate(ctx('', 'pods', jane), podObj('web', undefined))).resolves.toBeUndefined();
    // before the authorizers started (or without RBAC) nothing is checked either
    const notStarted = new RbacEscalationCheck(
      () => undefined,
      () => undefined,
    );
    await expect(notStarted.admitCreate(roles(jane), everything)).resolves.toBeUndefined();
  });
});
