/**
 * Authentication at the apiserver's door, over raw HTTPS: who gets in with what.
 *
 *   no credentials               system:anonymous: 403 from RBAC naming the user, except the health and
 *                                version endpoints and kube-public/cluster-info (upstream's default
 *                                policy); with --anonymous-auth=false: 401, but for health and version
 *   client cert of another CA    401, even claiming kubernetes-admin / system:masters
 *   expired cert of our CA       401
 *   admin client cert            in; /metrics is Prometheus text with apiserver_request_total
 *   bootstrap token              in once its Secret (kube-system/bootstrap-token-<id>) exists and
 *                                allows authentication; 401 when unknown, wrong, expired or deleted
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createCA, createClientCert, decodeCertKeyPair, encodeCertKeyPair } from '../lib/pki/index.js';
import { APISERVER_ONLY, startServer } from './helpers/server.js';
import type { TestServer } from './helpers/server.js';
import { adminClient, createApiClient, failureStatus, loadKubeconfig, waitUntil } from './helpers/api-client.js';
import type { ApiClient, ApiResponse, Credentials } from './helpers/api-client.js';

let server: TestServer;
let admin: ApiClient;
let creds: Credentials;
const opened: ApiClient[] = [];

function client(opts: Parameters<typeof createApiClient>[1]): ApiClient {
  const c = createApiClient(creds, opts);
  opened.push(c);
  return c;
}

function expectUnauthorized(res: ApiResponse, what: string): void {
  expect(res.status, `${what}: ${res.text.slice(0, 200)}`).toBe(401);
  const st = failureStatus(res);
  expect(st.reason).toBe('Unauthorized');
  expect(st.message).toBe('Unauthorized');
}

beforeAll(async () => {
  server = await startServer(APISERVER_ONLY);
  admin = await adminClient(server.kubeconfig);
  creds = await loadKubeconfig(server.kubeconfig);
});

afterAll(async () => {
  for (const c of opened) c.close();
  admin?.close();
  await server?.stop();
});

describe('anonymous requests', () => {
  const protectedRequests: Array<[string, string, string]> = [
    ['GET', '/api', 'forbidden: User "system:anonymous" cannot get path "/api"'],
    ['GET', '/apis', 'forbidden: User "system:anonymous" cannot get path "/apis"'],
    ['GET', '/api/v1', 'forbidden: User "system:anonymous" cannot get path "/api/v1"'],
    ['GET', '/api/v1/namespaces', 'namespaces is forbidden: User "system:anonymous" cannot list resource "namespaces" in API group "" at the cluster scope'],
    ['GET', '/api/v1/namespaces/default/configmaps', 'configmaps is forbidden: User "system:anonymous" cannot list resource "configmaps" in API group "" in the namespace "default"'],
    ['GET', '/apis/apps/v1/deployments', 'deployments.apps is forbidden: User "system:anonymous" cannot list resource "deployments" in API group "apps" at the cluster scope'],
    ['GET', '/api/v1/namespaces/kube-system/secrets?watch=1', 'secrets is forbidden: User "system:anonymous" cannot watch resource "secrets" in API group "" in the namespace "kube-system"'],
    ['POST', '/api/v1/namespaces', 'namespaces is forbidden: User "system:anonymous" cannot create resource "namespaces" in API group "" at the cluster scope'],
    ['DELETE', '/api/v1/namespaces/default', 'namespaces "default" is forbidden: User "system:anonymous" cannot delete resource "namespaces" in API group "" in the namespace "default"'],
    ['GET', '/metrics', 'forbidden: User "system:anonymous" cannot get path "/metrics"'],
    ['GET', '/openapi/v3', 'forbidden: User "system:anonymous" cannot get path "/openapi/v3"'],
    ['GET', '/no/such/path', 'forbidden: User "system:anonymous" cannot get path "/no/such/path"'],
  ];
  it.each(protectedRequests)('%s %s -> 403 naming system:anonymous', async (method, path, message) => {
    const anon = client({ anonymous: true });
    const body = method === 'POST' ? { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'anon' } } : undefined;
    const res = await anon.request(method, path, body !== undefined ? { body } : {});
    expect(res.status, `${method} ${path}: ${res.text.slice(0, 200)}`).toBe(403);
    const st = failureStatus(res);
    expect(st.reason).toBe('Forbidden');
    expect(st.message).toBe(message);
  });

  it('anonymous clients read kube-public/cluster-info, as kubeadm lets them (token discovery)', async () => {
    const res = await client({ anonymous: true }).get('/api/v1/namespaces/kube-public/configmaps/cluster-info');
    expect(res.status, res.text.slice(0, 200)).toBe(200);
    expect((res.body as { data?: Record<string, string> }).data?.['kubeconfig']).toContain('certificate-authority-data');
  });

  it('RBAC can grant anonymous access like any other: a RoleBinding to system:unauthenticated', async () => {
    const anon = client({ anonymous: true });
    expect((await anon.get('/api/v1/namespaces/default/configmaps')).status).toBe(403);
    const role = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'anon-read', namespace: 'default' }, rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['list'] }] };
    const binding = {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'anon-read', namespace: 'default' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'anon-read' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'system:unauthenticated' }],
    };
    expect((await admin.post('/apis/rbac.authorization.k8s.io/v1/namespaces/default/roles', role)).status).toBe(201);
    expect((await admin.post('/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings', binding)).status).toBe(201);
    await waitUntil('anonymous list of configmaps allowed', async () => ((await anon.get('/api/v1/namespaces/default/configmaps')).status === 200 ? true : undefined));
    expect((await admin.delete('/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings/anon-read')).status).toBe(200);
    expect((await admin.delete('/apis/rbac.authorization.k8s.io/v1/namespaces/default/roles/anon-read')).status).toBe(200);
    await waitUntil('anonymous list of configmaps refused again', async () => ((await anon.get('/api/v1/namespaces/default/configmaps')).status === 403 ? true : undefined));
  });

  it('nothing was written by the refused anonymous requests', async () => {
    expect((await admin.get('/api/v1/namespaces/anon')).status).toBe(404);
    expect((await admin.get('/api/v1/namespaces/default')).status).toBe(200);
  });

  it.each(['/healthz', '/livez', '/readyz'])('%s is open to anonymous clients', async (path) => {
    const res = await client({ anonymous: true }).get(path);
    expect(res.status).toBe(200);
    expect(res.text).toBe('ok');
  });

  it('/version is open to anonymous clients', async () => {
    const res = await client({ anonymous: true }).get('/version');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ major: '1', gitVersion: expect.stringMatching(/^v1\.\d+\.\d+/) });
  });
});

describe('client certificates', () => {
  it('a certificate from another CA is refused, even for kubernetes-admin in system:masters', async () => {
    const ca = await createCA('not-the-cluster-ca');
    const pair = await encodeCertKeyPair(await createClientCert(ca, { commonName: 'kubernetes-admin', organizations: ['system:masters'] }));
    const foreign = client({ certPem: pair.certPem, keyPem: pair.keyPem });
    expectUnauthorized(await foreign.get('/api/v1/namespaces'), 'foreign cert, list namespaces');
    expectUnauthorized(await foreign.post('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'foreign' } }), 'foreign cert, create');
    // upstream authenticates before it authorizes: a refused credential is 401 even where anonymous is allowed
    expectUnauthorized(await foreign.get('/healthz'), 'foreign cert, healthz');
  });

  it('an expired certificate signed by the cluster CA is refused', async () => {
    const dir = join(server.dataDir, 'pki');
    const ca = await decodeCertKeyPair(await readFile(join(dir, 'ca.crt'), 'utf8'), await readFile(join(dir, 'ca.key'), 'utf8'));
    const past = new Date(Date.now() - 10 * 24 * 3600 * 1000);
    const pair = await encodeCertKeyPair(await createClientCert(ca, { commonName: 'kubernetes-admin', organizations: ['system:masters'] }, { now: past, validityDays: 2 }));
    expectUnauthorized(await client({ certPem: pair.certPem, keyPem: pair.keyPem }).get('/api/v1/namespaces'), 'expired cert');
  });

  it('a fresh certificate signed by the cluster CA for another user gets in', async () => {
    const dir = join(server.dataDir, 'pki');
    const ca = await decodeCertKeyPair(await readFile(join(dir, 'ca.crt'), 'utf8'), await readFile(join(dir, 'ca.key'), 'utf8'));
    const pair = await encodeCertKeyPair(await createClientCert(ca, { commonName: 'jane', organizations: ['system:masters'] }));
    const res = await client({ certPem: pair.certPem, keyPem: pair.keyPem }).get('/api/v1/namespaces');
    expect(res.status, res.text.slice(0, 200)).toBe(200);
  });
});

describe('/metrics', () => {
  it('returns Prometheus text with apiserver_request_total counting our requests', async () => {
    expect((await admin.get('/api/v1/namespaces')).status).toBe(200);
    const res = await admin.get('/metrics', { headers: { Accept: 'text/plain' } });
    expect(res.status).toBe(200);
    expect(String(res.headers['content-type'])).toMatch(/^text\/plain/);
    expect(res.text).toMatch(/^# HELP apiserver_request_total /m);
    expect(res.text).toMatch(/^# TYPE apiserver_request_total counter$/m);
    const line = res.text.split('\n').find((l) => l.startsWith('apiserver_request_total{') && l.includes('verb="LIST"') && l.includes('resource="namespaces"') && l.includes('code="200"'));
    expect(line, 'a LIST namespaces 200 sample').toBeDefined();
    expect(Number(line?.split(' ').pop())).toBeGreaterThanOrEqual(1);
    // refused requests are counted too
    expect(res.text).toMatch(/^apiserver_request_total\{[^}]*code="401"[^}]*\} [1-9]/m);
  });
});

describe('bootstrap tokens', () => {
  const SECRETS = '/api/v1/namespaces/kube-system/secrets';
  const tokenSecret = (id: string, secret: string, extra: Record<string, string> = {}): Record<string, unknown> => ({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: `bootstrap-token-${id}` },
    type: 'bootstrap.kubernetes.io/token',
    stringData: { 'token-id': id, 'token-secret': secret, 'usage-bootstrap-authentication': 'true', ...extra },
  });
  const bearer = (token: string): ApiClient => client({ anonymous: true, token });

  it('works once its Secret exists, and stops working when the Secret is deleted', async () => {
    const token = bearer('abcdef.0123456789abcdef');
    expectUnauthorized(await token.get('/api'), 'token before its Secret exists');

    const created = await admin.post(SECRETS, tokenSecret('abcdef', '0123456789abcdef'));
    expect(created.status, created.text.slice(0, 200)).toBe(201);
    const res = await waitUntil('the bootstrap token to authenticate', async () => {
      const r = await token.get('/api');
      return r.status === 200 ? r : undefined;
    });
    expect((res.body as { kind: string }).kind).toBe('APIVersions');

    const deleted = await admin.delete(`${SECRETS}/bootstrap-token-abcdef`);
    expect(deleted.status).toBe(200);
    await waitUntil('the bootstrap token to be refused after its Secret is deleted', async () => {
      const r = await token.get('/api');
      return r.status === 401 ? r : undefined;
    });
  });

  it('a wrong secret part, an unknown id or a malformed token is refused', async () => {
    expect((await admin.post(SECRETS, tokenSecret('ghijkl', '0123456789abcdef'))).status).toBe(201);
    await waitUntil('the good token to work', async () => ((await bearer('ghijkl.0123456789abcdef').get('/api')).status === 200 ? true : undefined));
    for (const t of ['ghijkl.0123456789abcdee', 'zzzzzz.0123456789abcdef', 'ghijkl.0123456789ABCDEF', 'ghijkl0123456789abcdef', 'garbage']) {
      expectUnauthorized(await bearer(t).get('/api'), `token ${JSON.stringify(t)}`);
    }
    // an empty bearer token is no credential at all (upstream): the request is anonymous
    expect((await bearer('').get('/api')).status).toBe(403);
    // a refused bearer token is 401 even on a public path
    expectUnauthorized(await bearer('zzzzzz.0123456789abcdef').get('/healthz'), 'unknown token on /healthz');
  });

  it('an expired token is refused', async () => {
    const res = await admin.post(SECRETS, tokenSecret('expire', '0123456789abcdef', { expiration: '2020-01-01T00:00:00Z' }));
    expect(res.status).toBe(201);
    expectUnauthorized(await bearer('expire.0123456789abcdef').get('/api/v1/namespaces'), 'expired token');
  });

  it('a token whose Secret does not allow authentication, or has the wrong type, is refused', async () => {
    const noUsage = tokenSecret('nousag', '0123456789abcdef');
    (noUsage['stringData'] as Record<string, string>)['usage-bootstrap-authentication'] = 'false';
    expect((await admin.post(SECRETS, noUsage)).status).toBe(201);
    expectUnauthorized(await bearer('nousag.0123456789abcdef').get('/api/v1/namespaces'), 'usage-bootstrap-authentication false');

    expect((await admin.post(SECRETS, { ...tokenSecret('opaque', '0123456789abcdef'), type: 'Opaque' })).status).toBe(201);
    expectUnauthorized(await bearer('opaque.0123456789abcdef').get('/api/v1/namespaces'), 'Opaque secret');
  });
});

describe('--anonymous-auth=false', () => {
  let closed: TestServer | undefined;
  afterAll(async () => {
    await closed?.stop();
  });

  it('requests without credentials get 401, but for the health and version endpoints; a bad value is refused', async () => {
    closed = await startServer([...APISERVER_ONLY, '--anonymous-auth=false']);
    const c = await loadKubeconfig(closed.kubeconfig);
    const anon = createApiClient(c, { anonymous: true });
    opened.push(anon);
    expectUnauthorized(await anon.get('/api/v1/namespaces'), 'no credentials, list namespaces');
    expectUnauthorized(await anon.get('/api'), 'no credentials, /api');
    expect((await anon.get('/readyz')).status).toBe(200);
    expect((await anon.get('/version')).status).toBe(200);
    await expect(startServer([...APISERVER_ONLY, '--anonymous-auth=maybe'])).rejects.toThrow(/--anonymous-auth must be true or false, got "maybe"/);
  });
});
