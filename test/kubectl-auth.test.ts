/**
 * `kubectl auth whoami`, `kubectl auth can-i` and `kubectl auth can-i --list` with the real kubectl
 * against a real `knode server`, as the admin (client certificate, system:masters) and as a bootstrap
 * token (system:bootstrappers: under the default RBAC policy it may read kube-public/cluster-info and
 * ask about itself, nothing else).
 * Plus the reviews' bad input over raw HTTPS: both kinds of attributes, none, no namespace, a GET.
 */
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminClient, waitUntil } from './helpers/api-client.js';
import type { ApiClient } from './helpers/api-client.js';
import { APISERVER_ONLY, startServer } from './helpers/server.js';
import type { RunResult, TestServer } from './helpers/server.js';

const TOKEN = 'k8auth.0123456789abcdef';
let server: TestServer;
let admin: ApiClient;
let tokenKubeconfig: string;

async function kubectlAs(kubeconfig: string, args: readonly string[]): Promise<RunResult> {
  try {
    const r = await promisify(execFile)('kubectl', ['--kubeconfig', kubeconfig, ...args], { timeout: 30_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

beforeAll(async () => {
  server = await startServer(APISERVER_ONLY);
  admin = await adminClient(server.kubeconfig);
  const secret = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'bootstrap-token-k8auth', namespace: 'kube-system' },
    type: 'bootstrap.kubernetes.io/token',
    stringData: { 'token-id': 'k8auth', 'token-secret': '0123456789abcdef', 'usage-bootstrap-authentication': 'true' },
  };
  expect((await admin.post('/api/v1/namespaces/kube-system/secrets', secret)).status).toBe(201);
  // the admin kubeconfig's server and CA, with the token as the only credential
  const admincfg = await readFile(server.kubeconfig, 'utf8');
  const ca = /certificate-authority-data: (\S+)/.exec(admincfg)?.[1] ?? '';
  tokenKubeconfig = join(server.dataDir, 'token.kubeconfig');
  await writeFile(
    tokenKubeconfig,
    [
      'apiVersion: v1',
      'kind: Config',
      `clusters: [{name: c, cluster: {server: "${server.url}", certificate-authority-data: ${ca}}}]`,
      `users: [{name: t, user: {token: "${TOKEN}"}}]`,
      'contexts: [{name: c, context: {cluster: c, user: t}}]',
      'current-context: c',
      '',
    ].join('\n'),
  );
  await waitUntil('the bootstrap token to authenticate', async () => ((await kubectlAs(tokenKubeconfig, ['auth', 'whoami'])).code === 0 ? true : undefined));
});

afterAll(async () => {
  admin?.close();
  await server?.stop();
});

describe('kubectl auth as the admin', () => {
  it('whoami names the client certificate user and its groups', async () => {
    const who = JSON.parse(await server.kubectlOk(['auth', 'whoami', '-o', 'json'])) as { kind: string; status: { userInfo: { username: string; groups: string[] } } };
    expect(who.kind).toBe('SelfSubjectReview');
    expect(who.status.userInfo.username).toBe('kubernetes-admin');
    expect(who.status.userInfo.groups).toEqual(expect.arrayContaining(['system:masters', 'system:authenticated']));
  });

  it('can-i answers yes, streams included, and --list shows everything', async () => {
    expect((await server.kubectlOk(['auth', 'can-i', 'create', 'pods'])).trim()).toBe('yes');
    expect((await server.kubectlOk(['auth', 'can-i', 'create', 'pods', '--subresource=exec'])).trim()).toBe('yes');
    expect((await server.kubectlOk(['auth', 'can-i', 'get', '/healthz'])).trim()).toBe('yes');
    const list = await server.kubectlOk(['auth', 'can-i', '--list']);
    expect(list).toMatch(/^\*\.\*\s+\[\]\s+\[\]\s+\[\*\]$/m);
  });
});

describe('kubectl auth as a bootstrap token', () => {
  it('whoami shows the token user in system:bootstrappers', async () => {
    const r = await kubectlAs(tokenKubeconfig, ['auth', 'whoami']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('system:bootstrap:k8auth');
    expect(r.stdout).toContain('system:bootstrappers');
  });

  it('can-i follows the default RBAC policy: no streams, no pods, yes to cluster-info', async () => {
    for (const sub of ['exec', 'attach', 'portforward']) {
      const r = await kubectlAs(tokenKubeconfig, ['auth', 'can-i', 'create', 'pods', `--subresource=${sub}`]);
      expect([r.code, r.stdout.trim()], sub).toEqual([1, 'no']);
    }
    const get = await kubectlAs(tokenKubeconfig, ['auth', 'can-i', 'get', 'pods']);
    expect([get.code, get.stdout.trim()]).toEqual([1, 'no']);
    const info = await kubectlAs(tokenKubeconfig, ['auth', 'can-i', 'get', 'configmaps/cluster-info', '-n', 'kube-public']);
    expect([info.code, info.stdout.trim()]).toEqual([0, 'yes']);
    const denied = await kubectlAs(tokenKubeconfig, ['get', 'pods']);
    expect(denied.stderr).toContain('pods is forbidden: User "system:bootstrap:k8auth" cannot list resource "pods" in API group "" in the namespace "default"');
  });

  it('--list shows the rules bound to it in that namespace, and nothing more', async () => {
    const r = await kubectlAs(tokenKubeconfig, ['auth', 'can-i', '--list', '-n', 'kube-public']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^configmaps\s+\[\]\s+\[cluster-info\]\s+\[get\]$/m);
    expect(r.stdout).toMatch(/^selfsubjectaccessreviews\.authorization\.k8s\.io\s+\[\]\s+\[\]\s+\[create\]$/m);
    expect(r.stdout).not.toContain('*.*');
    const elsewhere = await kubectlAs(tokenKubeconfig, ['auth', 'can-i', '--list', '-n', 'default']);
    expect(elsewhere.stdout).not.toContain('cluster-info');
  });
});

describe('bad input to the reviews', () => {
  const SSAR = '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews';
  const review = (spec: unknown): unknown => ({ apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec });

  it('both kinds of attributes, or neither, is 422 naming the field', async () => {
    const both = await admin.post(SSAR, review({ resourceAttributes: { verb: 'get', resource: 'pods' }, nonResourceAttributes: { path: '/x', verb: 'get' } }));
    expect(both.status).toBe(422);
    expect(both.text).toContain('spec.nonResourceAttributes: Invalid value');
    expect(both.text).toContain('cannot be specified in combination with resourceAttributes');
    const none = await admin.post(SSAR, review({}));
    expect(none.status).toBe(422);
    expect(none.text).toContain('exactly one of nonResourceAttributes or resourceAttributes must be specified');
  });

  it('a rules review without a namespace is 422; an unknown field is 400 under Strict; a GET is 405', async () => {
    const rules = await admin.post('/apis/authorization.k8s.io/v1/selfsubjectrulesreviews', { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectRulesReview', spec: {} });
    expect(rules.status).toBe(422);
    expect(rules.text).toContain('spec.namespace: Required value');
    const strict = await admin.post(`${SSAR}?fieldValidation=Strict`, review({ resourceAttributes: { verb: 'get', resource: 'pods', colour: 'red' } }));
    expect(strict.status).toBe(400);
    expect(strict.text).toContain('colour');
    expect((await admin.get(SSAR)).status).toBe(405);
  });

  it('a good review answers 201 with the status, and nothing is stored', async () => {
    const r = await admin.post(SSAR, review({ resourceAttributes: { verb: 'delete', resource: 'nodes', name: 'w1' } }));
    expect(r.status).toBe(201);
    expect((r.body as { status: { allowed: boolean } }).status.allowed).toBe(true);
    expect((await admin.get(`${SSAR}/anything`)).status).toBe(404);
  });
});
