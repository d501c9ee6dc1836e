/**
 * Authorization with the real kubectl against a real `knode server` (default `--authorization-mode
 * Node,RBAC`): the default policy, Roles and bindings written by kubectl (protobuf bodies), what they
 * grant and revoke, impersonation (`--as`), escalation prevention, the Node authorizer and
 * NodeRestriction for a kubelet's certificate, and a bad `--authorization-mode`.
 * Users other than the admin are client certificates signed with the cluster CA (as an operator
 * would issue them), each in its own kubeconfig.
 */
import { generateKeyPairSync } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClientCert, decodeCertKeyPair, encodeCertKeyPair } from '../lib/pki/index.js';
import { writeKubeconfig } from '../lib/pki/kubeconfig.js';
import { createCsrPem } from '../lib/pki/lite-csr.js';
import { bootstrapTokenSecret, DEFAULT_NODE_TOKEN_GROUP } from '../control-plane/apiserver/auth/bootstrap-token.js';
import { adminClient, createApiClient, loadKubeconfig, waitUntil } from './helpers/api-client.js';
import type { ApiClient } from './helpers/api-client.js';
import { APISERVER_ONLY, startServer } from './helpers/server.js';
import type { TestServer } from './helpers/server.js';

let server: TestServer;
let admin: ApiClient;
const opened: ApiClient[] = [];

/** A kubeconfig for a client certificate with this CN and O, signed by the server's CA. */
async function userKubeconfig(name: string, groups: readonly string[]): Promise<string> {
  const pki = join(server.dataDir, 'pki');
  const ca = await decodeCertKeyPair(await readFile(join(pki, 'ca.crt'), 'utf8'), await readFile(join(pki, 'ca.key'), 'utf8'));
  const pair = await encodeCertKeyPair(await createClientCert(ca, { commonName: name, organizations: [...groups] }));
  const path = join(server.dataDir, `${name.replace(/[^a-z0-9]/gi, '_')}.kubeconfig`);
  const creds = await loadKubeconfig(server.kubeconfig);
  await writeKubeconfig(path, { clusterName: 'knode', server: creds.server, caPem: creds.caPem, user: name, clientCertPem: pair.certPem, clientKeyPem: pair.keyPem, contextName: 'knode' });
  return path;
}

async function clientFor(kubeconfig: string): Promise<ApiClient> {
  const c = createApiClient(await loadKubeconfig(kubeconfig));
  opened.push(c);
  return c;
}

/** kubectl as the user of `kubeconfig`. */
function kubectlAs(kubeconfig: string, args: readonly string[]): ReturnType<TestServer['kubectl']> {
  return server.kubectl(['--kubeconfig', kubeconfig, ...args]);
}

beforeAll(async () => {
  server = await startServer(APISERVER_ONLY);
  admin = await adminClient(server.kubeconfig);
  for (const ns of ['team', 'other']) expect((await admin.post('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } })).status).toBe(201);
});

afterAll(async () => {
  for (const c of opened) c.close();
  admin?.close();
  await server?.stop();
});

describe('the default policy', () => {
  it('is served and readable with kubectl: cluster-admin bound to system:masters, the user-facing roles', async () => {
    const roles = await server.kubectlOk(['get', 'clusterroles', '-o', 'name']);
    for (const r of ['cluster-admin', 'admin', 'edit', 'view', 'system:discovery', 'system:basic-user', 'system:node-bootstrapper', 'system:node-proxier']) {
      expect(roles).toContain(`clusterrole.rbac.authorization.k8s.io/${r}\n`);
    }
    const binding = await server.kubectlOk(['get', 'clusterrolebinding', 'cluster-admin', '-o', 'wide']);
    expect(binding).toMatch(/cluster-admin\s+ClusterRole\/cluster-admin\s+\S+\s+\S*\s*system:masters/);
  });

  it('a user with no bindings is refused with upstream wording, but may discover and ask about itself', async () => {
    const jane = await userKubeconfig('jane', []);
    const list = await kubectlAs(jane, ['get', 'pods', '-n', 'team']);
    expect(list.code).not.toBe(0);
    expect(list.stderr).toContain('Error from server (Forbidden): pods is forbidden: User "jane" cannot list resource "pods" in API group "" in the namespace "team"');
    const one = await kubectlAs(jane, ['get', 'deployment', 'web', '-n', 'team']);
    expect(one.stderr).toContain('deployments.apps "web" is forbidden: User "jane" cannot get resource "deployments" in API group "apps" in the namespace "team"');
    const who = await kubectlAs(jane, ['auth', 'whoami']);
    expect(who.code, who.stderr).toBe(0);
    expect(who.stdout).toContain('jane');
    const canI = await kubectlAs(jane, ['auth', 'can-i', 'list', 'pods', '-n', 'team']);
    expect([canI.code, canI.stdout.trim()]).toEqual([1, 'no']);
    expect((await kubectlAs(jane, ['api-resources', '-o', 'name'])).stdout).toContain('pods');
    const raw = await clientFor(jane);
    expect((await raw.get('/metrics')).status).toBe(403);
    expect((await raw.get('/version')).status).toBe(200);
  });
});

describe('Roles and bindings written with kubectl', () => {
  let jane: string;
  beforeAll(async () => {
    jane = await userKubeconfig('jane', ['devs']);
  });

  it('a RoleBinding grants its Role in its namespace only, and deleting it revokes', async () => {
    await server.kubectlOk(['create', 'role', 'pod-reader', '-n', 'team', '--verb=get,list,watch', '--resource=pods']);
    await server.kubectlOk(['create', 'rolebinding', 'jane-reads', '-n', 'team', '--role=pod-reader', '--user=jane']);
    await waitUntil('jane to list pods in team', async () => ((await kubectlAs(jane, ['get', 'pods', '-n', 'team'])).code === 0 ? true : undefined));
    expect((await kubectlAs(jane, ['get', 'pods', '-n', 'other'])).stderr).toContain('cannot list resource "pods" in API group "" in the namespace "other"');
    expect((await kubectlAs(jane, ['delete', 'pod', 'web', '-n', 'team'])).stderr).toContain('pods "web" is forbidden: User "jane" cannot delete resource "pods"');
    const list = await kubectlAs(jane, ['auth', 'can-i', '--list', '-n', 'team']);
    expect(list.stdout).toMatch(/^pods\s+\[\]\s+\[\]\s+\[get list watch\]$/m);
    expect(await server.kubectlOk(['get', 'rolebinding', 'jane-reads', '-n', 'team'])).toMatch(/jane-reads\s+Role\/pod-reader/);
    await server.kubectlOk(['delete', 'rolebinding', 'jane-reads', '-n', 'team']);
    await waitUntil('jane to lose pods in team', async () => ((await kubectlAs(jane, ['get', 'pods', '-n', 'team'])).code !== 0 ? true : undefined));
  });

  it('a ClusterRoleBinding to a group grants everywhere; --as and --as-group check the same rules', async () => {
    await server.kubectlOk(['create', 'clusterrole', 'cm-reader', '--verb=get,list', '--resource=configmaps']);
    await server.kubectlOk(['create', 'clusterrolebinding', 'devs-read-cms', '--clusterrole=cm-reader', '--group=devs']);
    await waitUntil('devs to list configmaps', async () => ((await kubectlAs(jane, ['get', 'configmaps', '-A'])).code === 0 ? true : undefined));
    expect((await server.kubectlOk(['auth', 'can-i', 'list', 'configmaps', '-n', 'other', '--as', 'bob', '--as-group', 'devs'])).trim()).toBe('yes');
    const bob = await server.kubectl(['auth', 'can-i', 'list', 'configmaps', '-n', 'other', '--as', 'bob']);
    expect([bob.code, bob.stdout.trim()]).toEqual([1, 'no']);
    const asBob = await server.kubectl(['get', 'configmaps', '-n', 'other', '--as', 'bob']);
    expect(asBob.stderr).toContain('User "bob" cannot list resource "configmaps"');
  });

  it('impersonation itself needs the impersonate verb', async () => {
    const r = await kubectlAs(jane, ['get', 'pods', '--as', 'system:admin', '--as-group', 'system:masters']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('users "system:admin" is forbidden: User "jane" cannot impersonate resource "users" in API group "" at the cluster scope');
  });

  it('nobody grants what they do not hold: escalation needs the escalate or bind verb', async () => {
    await server.kubectlOk(['create', 'rolebinding', 'jane-admin', '-n', 'team', '--clusterrole=admin', '--user=jane']);
    await waitUntil('jane to be admin in team', async () => ((await kubectlAs(jane, ['auth', 'can-i', 'create', 'roles', '-n', 'team'])).code === 0 ? true : undefined));
    // within what admin holds: allowed
    const ok = await kubectlAs(jane, ['create', 'role', 'secret-reader', '-n', 'team', '--verb=get', '--resource=secrets']);
    expect(ok.code, ok.stderr).toBe(0);
    // nodes are not namespaced admin business
    const nodes = await kubectlAs(jane, ['create', 'role', 'node-reader', '-n', 'team', '--verb=list', '--resource=nodes']);
    expect(nodes.code).not.toBe(0);
    expect(nodes.stderr).toContain('is attempting to grant RBAC permissions not currently held');
    expect(nodes.stderr).toContain('Resources:["nodes"]');
    const bind = await kubectlAs(jane, ['create', 'rolebinding', 'jane-root', '-n', 'team', '--clusterrole=cluster-admin', '--user=jane']);
    expect(bind.code).not.toBe(0);
    expect(bind.stderr).toContain('is attempting to grant RBAC permissions not currently held');
    // with bind on that ClusterRole, she may bind it (in her namespace)
    await server.kubectlOk(['create', 'clusterrole', 'bind-view', '--verb=bind', '--resource=clusterroles', '--resource-name=view']);
    await server.kubectlOk(['create', 'rolebinding', 'jane-binds-view', '-n', 'team', '--clusterrole=bind-view', '--user=jane']);
    await waitUntil('jane to bind view', async () => ((await kubectlAs(jane, ['create', 'rolebinding', 'bob-views', '-n', 'team', '--clusterrole=view', '--user=bob'])).code === 0 ? true : undefined));
    expect((await server.kubectl(['get', 'rolebinding', 'jane-root', '-n', 'team'])).code).not.toBe(0);
    expect((await server.kubectl(['get', 'role', 'node-reader', '-n', 'team'])).code).not.toBe(0);
  });

  it('a ClusterRole labelled aggregate-to-view extends view (and so edit and admin) for everyone bound to it', async () => {
    await server.kubectlOk(['create', 'rolebinding', 'carol-view', '-n', 'team', '--clusterrole=view', '--user=carol']);
    const before = await server.kubectl(['auth', 'can-i', 'get', 'secrets', '-n', 'team', '--as', 'carol']);
    expect([before.code, before.stdout.trim()]).toEqual([1, 'no']);
    await server.kubectlOk(['create', '-f', '-'], {
      input: JSON.stringify({
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRole',
        metadata: { name: 'secret-peek', labels: { 'rbac.authorization.k8s.io/aggregate-to-view': 'true' } },
        rules: [{ verbs: ['get'], apiGroups: [''], resources: ['secrets'] }],
      }),
    });
    await waitUntil('view to aggregate secret-peek', async () => ((await server.kubectl(['auth', 'can-i', 'get', 'secrets', '-n', 'team', '--as', 'carol'])).code === 0 ? true : undefined));
    expect(await server.kubectlOk(['get', 'clusterrole', 'admin', '-o', 'jsonpath={.aggregationRule.clusterRoleSelectors[0].matchLabels}'])).toContain('aggregate-to-admin');
    await server.kubectlOk(['delete', 'clusterrole', 'secret-peek']);
    await waitUntil('view to drop secret-peek', async () => ((await server.kubectl(['auth', 'can-i', 'get', 'secrets', '-n', 'team', '--as', 'carol'])).code === 1 ? true : undefined));
  });

  it('server-side apply that would create needs create, not only patch', async () => {
    await server.kubectlOk(['create', 'role', 'cm-patcher', '-n', 'other', '--verb=get,patch', '--resource=configmaps']);
    await server.kubectlOk(['create', 'rolebinding', 'dave-patches', '-n', 'other', '--role=cm-patcher', '--user=dave']);
    const cm = JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'applied', namespace: 'other' }, data: { a: 'b' } });
    await waitUntil('dave to be allowed patch', async () => ((await server.kubectl(['auth', 'can-i', 'patch', 'configmaps', '-n', 'other', '--as', 'dave'])).code === 0 ? true : undefined));
    const r = await server.kubectl(['apply', '--server-side', '-f', '-', '--as', 'dave'], { input: cm });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('configmaps "applied" is forbidden: User "dave" cannot create resource "configmaps" in API group "" in the namespace "other"');
    expect((await server.kubectl(['get', 'configmap', 'applied', '-n', 'other'])).code).not.toBe(0);
    // once it exists, patch is enough
    await server.kubectlOk(['apply', '--server-side', '-f', '-'], { input: cm });
    const again = await server.kubectl(['apply', '--server-side', '-f', '-', '--as', 'dave'], { input: cm.replace('"b"', '"c"') });
    expect(again.code, again.stderr).toBe(0);
  });

  it('bad Roles and bindings are refused naming the field', async () => {
    const bad = await server.kubectl(['create', '-f', '-'], {
      input: JSON.stringify({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'x', namespace: 'team' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Pod', name: 'y' }, subjects: [] }),
    });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('roleRef.kind');
    const role = await server.kubectl(['create', '-f', '-'], {
      input: JSON.stringify({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'x', namespace: 'team' }, rules: [{ verbs: ['get'], nonResourceURLs: ['/metrics'] }] }),
    });
    expect(role.code).not.toBe(0);
    expect(role.stderr).toContain('nonResourceURLs');
  });
});

describe('a kubelet certificate (Node authorizer and NodeRestriction)', () => {
  let node: string;
  let nodeApi: ApiClient;
  const pod = (name: string, nodeName: string, secret: string): unknown => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'team' },
    spec: { nodeName, containers: [{ name: 'c', image: 'knode.local/testserver:1.0', env: [{ name: 'S', valueFrom: { secretKeyRef: { name: secret, key: 'k' } } }] }] },
  });
  const secret = (name: string): unknown => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: 'team' }, stringData: { k: 'v' } });

  beforeAll(async () => {
    node = await userKubeconfig('system:node:w1', ['system:nodes']);
    nodeApi = await clientFor(node);
    for (const s of ['mine', 'theirs']) expect((await admin.post('/api/v1/namespaces/team/secrets', secret(s))).status).toBe(201);
    expect((await admin.post('/api/v1/namespaces/team/pods', pod('on-w1', 'w1', 'mine'))).status).toBe(201);
    expect((await admin.post('/api/v1/namespaces/team/pods', pod('on-w2', 'w2', 'theirs'))).status).toBe(201);
  });

  it('reads only the secrets of pods bound to it, and loses them when the pod goes', async () => {
    await waitUntil('w1 to read its pod secret', async () => ((await nodeApi.get('/api/v1/namespaces/team/secrets/mine')).status === 200 ? true : undefined));
    const theirs = await nodeApi.get('/api/v1/namespaces/team/secrets/theirs');
    expect(theirs.status).toBe(403);
    expect(theirs.text).toContain("no relationship found between node 'w1' and this object");
    expect((await nodeApi.get('/api/v1/namespaces/team/secrets')).status).toBe(403);
    expect((await admin.delete('/api/v1/namespaces/team/pods/on-w1?gracePeriodSeconds=0')).status).toBe(200);
    await waitUntil('w1 to lose the secret', async () => ((await nodeApi.get('/api/v1/namespaces/team/secrets/mine')).status === 403 ? true : undefined));
  });

  it('may not exec, may not touch other nodes or their pods, may write its own status', async () => {
    const exec = await kubectlAs(node, ['exec', '-n', 'team', 'on-w2', '--', 'true']);
    expect(exec.stderr).toContain('cannot create resource "pods/exec"');
    const w2 = await nodeApi.post('/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'w2' } });
    expect(w2.status).toBe(403);
    expect(w2.text).toContain('node \\"w1\\" is not allowed to modify node \\"w2\\"');
    expect((await nodeApi.post('/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'w1' } })).status).toBe(201);
    const status = await nodeApi.patch('/api/v1/nodes/w1/status', { status: { phase: 'Running' } }, 'application/merge-patch+json');
    expect(status.status, status.text).toBe(200);
    const other = await nodeApi.delete('/api/v1/namespaces/team/pods/on-w2');
    expect(other.status).toBe(403);
    expect(other.text).toContain('can only delete pods with spec.nodeName set to itself');
    const plain = await nodeApi.post('/api/v1/namespaces/team/pods', pod('sneaky', 'w1', 'theirs'));
    expect(plain.status).toBe(403);
    expect(plain.text).toContain('can only create mirror pods');
  });
});

describe('kubelet client certificate auto-approval asks RBAC', () => {
  async function csrAsToken(token: string, group: string, node: string): Promise<string> {
    const secret = bootstrapTokenSecret(token, { groups: [group] });
    expect((await admin.post('/api/v1/namespaces/kube-system/secrets', secret)).status).toBe(201);
    const creds = await loadKubeconfig(server.kubeconfig);
    const asToken = createApiClient({ server: creds.server, caPem: creds.caPem, token });
    opened.push(asToken);
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const request = Buffer.from(createCsrPem(privateKey, { commonName: `system:node:${node}`, organizations: ['system:nodes'] })).toString('base64');
    const body = { apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest', metadata: { name: `csr-${node}` }, spec: { request, signerName: 'kubernetes.io/kube-apiserver-client-kubelet', usages: ['digital signature', 'client auth'] } };
    const created = await waitUntil('the token to create its CSR', async () => {
      const r = await asToken.post('/apis/certificates.k8s.io/v1/certificatesigningrequests', body);
      return r.status === 201 ? r : undefined;
    });
    return (created.body as { metadata: { name: string } }).metadata.name;
  }
  const conditionsOf = async (name: string): Promise<string> =>
    server.kubectlOk(['get', 'csr', name, '-o', 'jsonpath={.status.conditions[*].type}']);

  it("approves a joining node whose token is in kubeadm's default group, leaves another token's request Pending", async () => {
    const ok = await csrAsToken('joinok.0123456789abcdef', DEFAULT_NODE_TOKEN_GROUP, 'n-ok');
    await waitUntil('the CSR to be approved', async () => ((await conditionsOf(ok)).includes('Approved') ? true : undefined));
    // a token group that may create CSRs (system:node-bootstrapper) but is not bound for auto-approval
    await server.kubectlOk(['create', 'clusterrolebinding', 'other-bootstrap', '--clusterrole=system:node-bootstrapper', '--group=system:bootstrappers:other']);
    const other = await csrAsToken('joinno.0123456789abcdef', 'system:bootstrappers:other', 'n-no');
    // the approver has looked at it once a later request is approved: make one and wait for it
    const later = await csrAsToken('joinlt.0123456789abcdef', DEFAULT_NODE_TOKEN_GROUP, 'n-later');
    await waitUntil('the later CSR to be approved', async () => ((await conditionsOf(later)).includes('Approved') ? true : undefined));
    expect(await conditionsOf(other)).toBe('');
  });
});

describe('--authorization-mode', () => {
  it('an unknown mode is refused at start, naming it', async () => {
    await expect(startServer([...APISERVER_ONLY, '--authorization-mode', 'Node,ABAC'])).rejects.toThrow(/unknown authorization mode "ABAC"/);
  });
});
