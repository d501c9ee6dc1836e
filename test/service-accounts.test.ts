/**
 * Service account tokens against a real `knode server` with the real kubectl: `kubectl create token`
 * (a protobuf TokenRequest), the token authenticating as the service account under RBAC, tokens
 * bound to a pod dying with it, the kube-api-access volume added to pods, kube-root-ca.crt in every
 * namespace, and bad token requests. (That the kubelet projects the token into a running pod is in
 * kubelet-pods.test.ts.)
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from './helpers/api-client.js';
import { APISERVER_ONLY, startServer } from './helpers/server.js';
import type { RunResult, TestServer } from './helpers/server.js';

let server: TestServer;

/** kubectl with only a bearer token (no client certificate from the admin kubeconfig). */
function kubectlWithToken(token: string, args: readonly string[]): Promise<RunResult> {
  return server.kubectl(['--kubeconfig', '/dev/null', '--server', server.url, '--certificate-authority', join(server.dataDir, 'pki', 'ca.crt'), '--token', token, ...args]);
}

const pod = (name: string, extra: Record<string, unknown> = {}): string =>
  JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { containers: [{ name: 'c', image: 'knode.local/testserver:1.0' }], ...extra } });

beforeAll(async () => {
  server = await startServer(APISERVER_ONLY);
  await server.kubectlOk(['create', 'serviceaccount', 'robot']);
});

afterAll(async () => {
  await server?.stop();
});

describe('kubectl create token', () => {
  it('issues a token that authenticates as the service account, refused what RBAC does not grant', async () => {
    const token = (await server.kubectlOk(['create', 'token', 'robot', '--duration', '15m'])).trim();
    expect(token.split('.')).toHaveLength(3);
    const who = await kubectlWithToken(token, ['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username} {.status.userInfo.groups}']);
    expect(who.code, who.stderr).toBe(0);
    expect(who.stdout).toBe('system:serviceaccount:default:robot ["system:serviceaccounts","system:serviceaccounts:default","system:authenticated"]');
    const denied = await kubectlWithToken(token, ['get', 'pods']);
    expect(denied.stderr).toContain('pods is forbidden: User "system:serviceaccount:default:robot" cannot list resource "pods"');
    await server.kubectlOk(['create', 'rolebinding', 'robot-view', '--clusterrole=view', '--serviceaccount=default:robot']);
    await waitUntil('the service account to list pods', async () => ((await kubectlWithToken(token, ['get', 'pods'])).code === 0 ? true : undefined));
    expect((await kubectlWithToken(token, ['get', 'secrets'])).stderr).toContain('cannot list resource "secrets"');
  });

  it('a token bound to a pod stops working when the pod is deleted', async () => {
    await server.kubectlOk(['create', '-f', '-'], { input: pod('holder', { serviceAccountName: 'robot' }) });
    const token = (await server.kubectlOk(['create', 'token', 'robot', '--bound-object-kind', 'Pod', '--bound-object-name', 'holder'])).trim();
    const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { 'kubernetes.io': { pod: { name: string } } };
    expect(claims['kubernetes.io'].pod.name).toBe('holder');
    expect((await kubectlWithToken(token, ['auth', 'whoami'])).code).toBe(0);
    await server.kubectlOk(['delete', 'pod', 'holder', '--grace-period=0', '--force']);
    const after = await kubectlWithToken(token, ['auth', 'whoami']);
    expect(after.code).not.toBe(0);
    expect(after.stderr).toContain('Unauthorized');
  });

  it('deleting the service account revokes its tokens', async () => {
    await server.kubectlOk(['create', 'serviceaccount', 'shortlived']);
    const token = (await server.kubectlOk(['create', 'token', 'shortlived'])).trim();
    expect((await kubectlWithToken(token, ['auth', 'whoami'])).code).toBe(0);
    await server.kubectlOk(['delete', 'serviceaccount', 'shortlived']);
    expect((await kubectlWithToken(token, ['auth', 'whoami'])).stderr).toContain('Unauthorized');
  });

  it('bad requests are refused, naming what is wrong', async () => {
    expect((await server.kubectl(['create', 'token', 'nobody'])).stderr).toContain('serviceaccounts "nobody" not found');
    expect((await server.kubectl(['create', 'token', 'robot', '--duration', '5m'])).stderr).toContain('may not specify a duration less than 10 minutes');
    expect((await server.kubectl(['create', 'token', 'robot', '--bound-object-kind', 'Pod', '--bound-object-name', 'ghost'])).stderr).toContain('pods "ghost" not found');
    await server.kubectlOk(['create', '-f', '-'], { input: pod('other-sa') });
    const mismatch = await server.kubectl(['create', 'token', 'robot', '--bound-object-kind', 'Pod', '--bound-object-name', 'other-sa']);
    expect(mismatch.stderr).toContain('cannot bind token for serviceaccount "robot" to pod running with different serviceaccount name');
    expect((await kubectlWithToken('not.a.token', ['auth', 'whoami'])).stderr).toContain('Unauthorized');
  });
});

/**
 * kubectl create -f of these create-only kinds needs --validate=false against knode: with no PATCH
 * operation to find fieldValidation on, kubectl falls back to client-side validation from
 * /openapi/v2, which knode does not serve (a known gap). Components call the API directly.
 */
describe('reviews about somebody else (kube-rbac-proxy style)', () => {
  it('TokenReview says whose token it is, or why not', async () => {
    const token = (await server.kubectlOk(['create', 'token', 'robot'])).trim();
    const review = (t: string, audiences?: string[]): string =>
      JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token: t, ...(audiences ? { audiences } : {}) } });
    const ok = JSON.parse(await server.kubectlOk(['create', '--validate=false', '-o', 'json', '-f', '-'], { input: review(token) })) as { status: { authenticated: boolean; user: { username: string; groups: string[] } } };
    expect(ok.status.authenticated).toBe(true);
    expect(ok.status.user.username).toBe('system:serviceaccount:default:robot');
    expect(ok.status.user.groups).toContain('system:serviceaccounts:default');
    const bad = JSON.parse(await server.kubectlOk(['create', '--validate=false', '-o', 'json', '-f', '-'], { input: review(`${token.slice(0, -4)}AAAA`) })) as { status: { authenticated?: boolean; error: string } };
    expect([bad.status.authenticated ?? false, bad.status.error]).toEqual([false, 'invalid bearer token']);
    const aud = JSON.parse(await server.kubectlOk(['create', '--validate=false', '-o', 'json', '-f', '-'], { input: review(token, ['vault']) })) as { status: { error: string } };
    expect(aud.status.error).toContain('API audience only');
    // asking needs create on tokenreviews: the service account itself may not
    const canI = await kubectlWithToken(token, ['auth', 'can-i', 'create', 'tokenreviews.authentication.k8s.io']);
    expect([canI.code, canI.stdout.trim()]).toEqual([1, 'no']);
  });

  it('SubjectAccessReview and LocalSubjectAccessReview answer for the named user; bad ones are named', async () => {
    await server.kubectlOk(['create', 'role', 'cm-reader', '--verb=get', '--resource=configmaps']);
    await server.kubectlOk(['create', 'rolebinding', 'erin-reads', '--role=cm-reader', '--user=erin']);
    const sar = (kind: string, spec: unknown, ns?: string): string =>
      JSON.stringify({ apiVersion: 'authorization.k8s.io/v1', kind, metadata: ns !== undefined ? { namespace: ns } : {}, spec });
    const ask = async (kind: string, spec: unknown, ns?: string): Promise<{ allowed: boolean; reason?: string }> =>
      (JSON.parse(await server.kubectlOk(['create', '--validate=false', '-o', 'json', '-f', '-', ...(ns !== undefined ? ['-n', ns] : [])], { input: sar(kind, spec, ns) })) as { status: { allowed: boolean; reason?: string } }).status;
    const attrs = { resourceAttributes: { namespace: 'default', verb: 'get', resource: 'configmaps', name: 'x' } };
    await waitUntil('the binding to reach the authorizer', async () => ((await ask('SubjectAccessReview', { ...attrs, user: 'erin' })).allowed ? true : undefined));
    expect((await ask('SubjectAccessReview', { ...attrs, user: 'erin' })).reason).toContain('RoleBinding "erin-reads/default"');
    expect((await ask('SubjectAccessReview', { resourceAttributes: { ...attrs.resourceAttributes, verb: 'delete' }, user: 'erin' })).allowed).toBe(false);
    expect((await ask('SubjectAccessReview', { ...attrs, user: 'x', groups: ['system:masters'] })).allowed).toBe(true);
    expect((await ask('LocalSubjectAccessReview', { ...attrs, user: 'erin' }, 'default')).allowed).toBe(true);
    const wrongNs = await server.kubectl(['create', '--validate=false', '-f', '-', '-n', 'default'], { input: sar('LocalSubjectAccessReview', { resourceAttributes: { ...attrs.resourceAttributes, namespace: 'other' }, user: 'erin' }, 'default') });
    expect(wrongNs.stderr).toContain('spec.resourceAttributes.namespace');
    const nobody = await server.kubectl(['create', '--validate=false', '-f', '-'], { input: sar('SubjectAccessReview', attrs) });
    expect(nobody.stderr).toContain('at least one of user or group must be specified');
  });
});

describe('pods get API access', () => {
  it('a new pod gets the kube-api-access volume, mounted in every container; opting out gets none', async () => {
    await server.kubectlOk(['create', '-f', '-'], { input: pod('mounted') });
    const spec = JSON.parse(await server.kubectlOk(['get', 'pod', 'mounted', '-o', 'json'])) as {
      spec: { volumes: Array<{ name: string; projected?: { sources: unknown[] } }>; containers: Array<{ volumeMounts: Array<{ name: string; mountPath: string; readOnly: boolean }> }> };
    };
    const vol = spec.spec.volumes.find((v) => v.name.startsWith('kube-api-access-'));
    expect(vol?.projected?.sources).toEqual([
      { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
      { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
      { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
    ]);
    expect(spec.spec.containers[0]?.volumeMounts).toContainEqual({ name: vol?.name, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', readOnly: true });
    await server.kubectlOk(['create', '-f', '-'], { input: pod('optout', { automountServiceAccountToken: false }) });
    expect(await server.kubectlOk(['get', 'pod', 'optout', '-o', 'jsonpath={.spec.volumes}'])).not.toContain('kube-api-access');
  });

  it('every namespace has kube-root-ca.crt with the cluster CA, put back when deleted', async () => {
    await server.kubectlOk(['create', 'namespace', 'fresh']);
    const ca = await waitUntil('kube-root-ca.crt in the new namespace', async () => {
      const r = await server.kubectl(['get', 'configmap', 'kube-root-ca.crt', '-n', 'fresh', '-o', 'jsonpath={.data.ca\\.crt}']);
      return r.code === 0 && r.stdout !== '' ? r.stdout : undefined;
    });
    expect(ca).toContain('-----BEGIN CERTIFICATE-----');
    await server.kubectlOk(['delete', 'configmap', 'kube-root-ca.crt', '-n', 'fresh']);
    await waitUntil('kube-root-ca.crt to come back', async () => ((await server.kubectl(['get', 'configmap', 'kube-root-ca.crt', '-n', 'fresh'])).code === 0 ? true : undefined));
  });
});
