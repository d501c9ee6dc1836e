import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { KubeObject } from '../../api/meta.js';
import { KubeClient } from './client.js';
import type { PatchType } from './client.js';
import { loadClientConfig } from './config.js';
import {
  ClientApiError,
  ClientConnectionError,
  ClientTimeoutError,
  isAlreadyExists,
  isConflict,
  isGone,
  isNotFound,
  isRetryable,
} from './errors.js';
import { resources } from './resource.js';
import type { FakeTlsMaterial } from './testing/fake-apiserver.js';
import { FakeApiServer, makeTlsMaterial, sendJson, startWatch, status } from './testing/fake-apiserver.js';
import type { WatchEvent } from './watch-decoder.js';

let tls: FakeTlsMaterial;
let server: FakeApiServer;

beforeAll(async () => {
  tls = await makeTlsMaterial();
  server = await FakeApiServer.start(tls);
});

afterAll(async () => {
  await server.close();
});

beforeEach(() => {
  server.requests.length = 0;
});

const tokenClient = (extra: Partial<ConstructorParameters<typeof KubeClient>[0]> = {}): KubeClient =>
  new KubeClient({ server: server.url, caPem: tls.caPem, token: 'abcdef.0123456789abcdef', ...extra });

const node = (name: string, rv = '1'): KubeObject => ({ apiVersion: 'v1', kind: 'Node', metadata: { name, resourceVersion: rv } });

describe('KubeClient requests', () => {
  it('GETs a namespaced object by path with the bearer token and JSON accept header', async () => {
    server.handle((_req, res) => sendJson(res, 200, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'default' } }));
    const client = tokenClient();
    const pod = await client.get(resources.pods, 'web', { namespace: 'default' });
    client.close();
    expect(pod.metadata.name).toBe('web');
    const req = server.requests[0];
    expect(req?.method).toBe('GET');
    expect(req?.path).toBe('/api/v1/namespaces/default/pods/web');
    expect(req?.headers['authorization']).toBe('Bearer abcdef.0123456789abcdef');
    expect(req?.headers['accept']).toBe('application/json');
  });

  it('authenticates with a client certificate when the config has one', async () => {
    server.handle((_req, res) => sendJson(res, 200, node('n1')));
    const client = new KubeClient({ server: server.url, caPem: tls.caPem, certPem: tls.clientCertPem, keyPem: tls.clientKeyPem });
    await client.get(resources.nodes, 'n1');
    client.close();
    expect(server.requests[0]?.clientCN).toBe('tester');
    expect(server.requests[0]?.headers['authorization']).toBeUndefined();
  });

  it('lists with selectors, pagination and resourceVersion in the query', async () => {
    server.handle((_req, res) => sendJson(res, 200, { apiVersion: 'v1', kind: 'PodList', metadata: { resourceVersion: '42', continue: 'tok2' }, items: [] }));
    const client = tokenClient();
    const list = await client.list(resources.pods, {
      namespace: 'kube-system',
      labelSelector: 'app=web,tier!=db',
      fieldSelector: 'spec.nodeName=w1',
      limit: 10,
      continue: 'tok1',
      resourceVersion: '40',
      resourceVersionMatch: 'NotOlderThan',
    });
    client.close();
    expect(list.metadata.continue).toBe('tok2');
    const q = server.requests[0]?.query;
    expect(server.requests[0]?.path).toBe('/api/v1/namespaces/kube-system/pods');
    expect(Object.fromEntries(q ?? [])).toEqual({
      labelSelector: 'app=web,tier!=db',
      fieldSelector: 'spec.nodeName=w1',
      limit: '10',
      continue: 'tok1',
      resourceVersion: '40',
      resourceVersionMatch: 'NotOlderThan',
    });
  });

  it('creates in the object namespace, filling apiVersion and kind, with dryRun and fieldManager', async () => {
    server.handle((req, res) => sendJson(res, 201, JSON.parse(req.body)));
    const client = tokenClient();
    const created = await client.create<KubeObject>(resources.configMaps, { metadata: { name: 'cm', namespace: 'ns1' }, data: { a: 'b' } }, { dryRun: true, fieldManager: 'agent' });
    client.close();
    expect(created.apiVersion).toBe('v1');
    expect(created.kind).toBe('ConfigMap');
    const req = server.requests[0];
    expect(req?.method).toBe('POST');
    expect(req?.path).toBe('/api/v1/namespaces/ns1/configmaps');
    expect(req?.query.get('dryRun')).toBe('All');
    expect(req?.query.get('fieldManager')).toBe('agent');
    expect(req?.headers['content-type']).toBe('application/json');
  });

  it('POSTs a body of its own kind to a named object\'s subresource (TokenRequest)', async () => {
    server.handle((req, res) => sendJson(res, 201, { ...JSON.parse(req.body), status: { token: 'jwt', expirationTimestamp: '2026-01-01T01:00:00Z' } }));
    const client = tokenClient();
    const body = { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { audiences: [], expirationSeconds: 3607 } };
    const answer = await client.createSubresource<typeof body, typeof body & { status: { token: string } }>(resources.serviceAccounts, 'default', 'token', body, { namespace: 'ns1' });
    await expect(client.createSubresource(resources.serviceAccounts, 'default', 'token', body)).rejects.toThrow(/namespace is required/);
    client.close();
    expect(answer.status.token).toBe('jwt');
    expect(server.requests).toHaveLength(1);
    const req = server.requests[0];
    expect(`${req?.method} ${req?.path}`).toBe('POST /api/v1/namespaces/ns1/serviceaccounts/default/token');
    expect(JSON.parse(req?.body ?? '{}')).toEqual(body);
  });

  it('updates and updates status with PUT on the object and its status subresource', async () => {
    server.handle((req, res) => sendJson(res, 200, JSON.parse(req.body)));
    const client = tokenClient();
    await client.update(resources.nodes, node('n1', '7'));
    await client.updateStatus(resources.nodes, node('n1', '8'));
    client.close();
    expect(server.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['PUT /api/v1/nodes/n1', 'PUT /api/v1/nodes/n1/status']);
    expect(JSON.parse(server.requests[0]?.body ?? '{}').metadata.resourceVersion).toBe('7');
  });

  const patchCases: Array<[PatchType, string]> = [
    ['merge', 'application/merge-patch+json'],
    ['strategic', 'application/strategic-merge-patch+json'],
    ['json', 'application/json-patch+json'],
    ['apply', 'application/apply-patch+yaml'],
  ];
  it.each(patchCases)('sends a %s patch as %s', async (type, contentType) => {
    server.handle((_req, res) => sendJson(res, 200, node('n1')));
    const client = tokenClient();
    const body = type === 'json' ? [{ op: 'add', path: '/metadata/labels', value: { a: 'b' } }] : { metadata: { labels: { a: 'b' } } };
    await client.patch(resources.nodes, 'n1', body, { type, fieldManager: 'agent', ...(type === 'apply' ? { force: true } : {}) });
    client.close();
    const req = server.requests[0];
    expect(req?.method).toBe('PATCH');
    expect(req?.headers['content-type']).toBe(contentType);
    expect(JSON.parse(req?.body ?? 'null')).toEqual(body);
    expect(req?.query.get('force')).toBe(type === 'apply' ? 'true' : null);
  });

  it('refuses a server-side apply without a field manager before sending anything', async () => {
    const client = tokenClient();
    await expect(client.patch(resources.nodes, 'n1', {}, { type: 'apply' })).rejects.toThrow(/fieldManager/);
    client.close();
    expect(server.requests).toHaveLength(0);
  });

  it('deletes with DeleteOptions in the body', async () => {
    server.handle((_req, res) => sendJson(res, 200, { kind: 'Status', apiVersion: 'v1', status: 'Success', code: 200, metadata: {} }));
    const client = tokenClient();
    await client.delete(resources.pods, 'web', {
      namespace: 'default',
      gracePeriodSeconds: 0,
      propagationPolicy: 'Foreground',
      preconditions: { uid: 'u1', resourceVersion: '5' },
    });
    client.close();
    const req = server.requests[0];
    expect(`${req?.method} ${req?.path}`).toBe('DELETE /api/v1/namespaces/default/pods/web');
    expect(JSON.parse(req?.body ?? '{}')).toEqual({
      kind: 'DeleteOptions',
      apiVersion: 'v1',
      gracePeriodSeconds: 0,
      propagationPolicy: 'Foreground',
      preconditions: { uid: 'u1', resourceVersion: '5' },
    });
  });

  it('addresses grouped resources under /apis', async () => {
    server.handle((_req, res) => sendJson(res, 200, { metadata: { name: 'x' } }));
    const client = tokenClient();
    await client.get(resources.certificateSigningRequests, 'node-csr-1', { subresource: 'approval' });
    await client.get(resources.leases, 'w1', { namespace: 'kube-node-lease' });
    client.close();
    expect(server.requests.map((r) => r.path)).toEqual([
      '/apis/certificates.k8s.io/v1/certificatesigningrequests/node-csr-1/approval',
      '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/w1',
    ]);
  });

  it('reuses one TLS connection for consecutive requests (keep-alive)', async () => {
    server.handle((_req, res) => sendJson(res, 200, node('n1')));
    const before = server.connections;
    const client = tokenClient();
    for (let i = 0; i < 5; i++) await client.get(resources.nodes, 'n1');
    client.close();
    expect(server.connections - before).toBe(1);
  });
});

describe('KubeClient errors', () => {
  const cases: Array<[string, number, Record<string, unknown> | string, (err: unknown) => boolean, string]> = [
    ['404 Status is NotFound', 404, status(404, 'NotFound', 'nodes "x" not found'), isNotFound, 'nodes "x" not found'],
    ['409 AlreadyExists is not a Conflict', 409, status(409, 'AlreadyExists', 'nodes "x" already exists'), (e) => isAlreadyExists(e) && !isConflict(e), 'nodes "x" already exists'],
    ['409 Conflict', 409, status(409, 'Conflict', 'the object has been modified'), (e) => isConflict(e) && !isAlreadyExists(e), 'the object has been modified'],
    ['410 Expired is Gone', 410, status(410, 'Expired', 'too old resource version'), isGone, 'too old resource version'],
    ['502 from a proxy with an HTML body is retryable', 502, '<html>bad gateway</html>', isRetryable, '<html>bad gateway</html>'],
  ];
  it.each(cases)('%s', async (_name, code, body, predicate, message) => {
    server.handle((_req, res) => {
      if (typeof body === 'string') {
        res.writeHead(code, { 'Content-Type': 'text/html' });
        res.end(body);
      } else sendJson(res, code, body);
    });
    const client = tokenClient();
    const err = await client.get(resources.nodes, 'x').catch((e: unknown) => e);
    client.close();
    expect(err).toBeInstanceOf(ClientApiError);
    expect(predicate(err)).toBe(true);
    expect((err as ClientApiError).httpCode).toBe(code);
    expect((err as ClientApiError).message).toBe(message);
  });

  it('times out a request the server never answers', async () => {
    server.handle(() => undefined);
    const client = tokenClient({ timeoutMs: 150 });
    const err = await client.get(resources.nodes, 'slow').catch((e: unknown) => e);
    client.close();
    expect(err).toBeInstanceOf(ClientTimeoutError);
    expect(isRetryable(err)).toBe(true);
  });

  it('rejects with the abort reason when the caller cancels', async () => {
    server.handle(() => undefined);
    const client = tokenClient();
    const abort = new AbortController();
    const pending = client.get(resources.nodes, 'slow', { signal: abort.signal });
    setTimeout(() => abort.abort(new Error('shutting down')), 50);
    await expect(pending).rejects.toThrow('shutting down');
    client.close();
  });

  it('reports a server whose certificate is not from the configured CA as a connection error', async () => {
    const other = await makeTlsMaterial();
    const client = new KubeClient({ server: server.url, caPem: other.caPem, token: 't' });
    const err = await client.get(resources.nodes, 'n1').catch((e: unknown) => e);
    client.close();
    expect(err).toBeInstanceOf(ClientConnectionError);
    expect(server.requests).toHaveLength(0);
  });

  it('reports connection refused as a retryable connection error', async () => {
    const client = new KubeClient({ server: 'https://127.0.0.1:1', caPem: tls.caPem });
    const err = await client.get(resources.nodes, 'n1').catch((e: unknown) => e);
    client.close();
    expect(err).toBeInstanceOf(ClientConnectionError);
    expect(isRetryable(err)).toBe(true);
  });

  it('refuses a plain-http server URL when the client is built', () => {
    expect(() => new KubeClient({ server: 'http://127.0.0.1:8080' })).toThrow(/https/);
  });
});

describe('KubeClient watch', () => {
  async function collect(client: KubeClient, opts: Parameters<KubeClient['watch']>[1] = {}): Promise<WatchEvent[]> {
    const out: WatchEvent[] = [];
    for await (const ev of client.watch(resources.nodes, opts)) out.push(ev);
    return out;
  }

  it('yields typed events, bookmarks and errors, also when a line arrives in pieces', async () => {
    server.handle((_req, res) => {
      const w = startWatch(res);
      w.send({ type: 'ADDED', object: node('a', '10') }, true);
      w.send({ type: 'MODIFIED', object: node('a', '11') });
      w.send({ type: 'BOOKMARK', object: { kind: 'Node', apiVersion: 'v1', metadata: { resourceVersion: '12' } } });
      w.send({ type: 'DELETED', object: node('a', '13') }, true);
      w.send({ type: 'ERROR', object: status(410, 'Expired', 'too old resource version: 1 (5)') });
      w.end();
    });
    const client = tokenClient();
    const events = await collect(client, { resourceVersion: '9', allowWatchBookmarks: true, labelSelector: 'x=y', timeoutSeconds: 30 });
    client.close();
    expect(events.map((e) => (e.type === 'ERROR' ? `ERROR:${e.object.code}` : `${e.type}:${e.object.metadata.resourceVersion}`))).toEqual([
      'ADDED:10',
      'MODIFIED:11',
      'BOOKMARK:12',
      'DELETED:13',
      'ERROR:410',
    ]);
    const q = server.requests[0]?.query;
    expect(Object.fromEntries(q ?? [])).toEqual({ watch: '1', labelSelector: 'x=y', resourceVersion: '9', allowWatchBookmarks: 'true', timeoutSeconds: '30' });
  });

  it('throws the Status when the server refuses the watch', async () => {
    server.handle((_req, res) => sendJson(res, 400, status(400, 'BadRequest', 'field label not supported: spec.foo')));
    const client = tokenClient();
    const err = await collect(client, { fieldSelector: 'spec.foo=1' }).catch((e: unknown) => e);
    client.close();
    expect(err).toBeInstanceOf(ClientApiError);
    expect((err as ClientApiError).message).toBe('field label not supported: spec.foo');
  });

  it('ends quietly when its signal aborts mid-stream', async () => {
    server.handle((_req, res) => {
      startWatch(res).send({ type: 'ADDED', object: node('a', '1') });
    });
    const client = tokenClient();
    const abort = new AbortController();
    const seen: string[] = [];
    for await (const ev of client.watch(resources.nodes, { signal: abort.signal })) {
      seen.push(ev.type);
      abort.abort();
    }
    client.close();
    expect(seen).toEqual(['ADDED']);
  });
});

describe('loadClientConfig', () => {
  it('reads certificate and key files relative to the kubeconfig directory', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'knode-kubeconfig-'));
    try {
      await writeFile(join(dir, 'ca.crt'), tls.caPem);
      await writeFile(join(dir, 'client.crt'), tls.clientCertPem);
      await writeFile(join(dir, 'client.key'), tls.clientKeyPem);
      await writeFile(
        join(dir, 'config'),
        [
          'apiVersion: v1',
          'kind: Config',
          'clusters: [{name: c, cluster: {server: "' + server.url + '", certificate-authority: ca.crt}}]',
          'users: [{name: u, user: {client-certificate: client.crt, client-key: client.key}}]',
          'contexts: [{name: x, context: {cluster: c, user: u}}]',
          'current-context: x',
        ].join('\n'),
      );
      const config = await loadClientConfig(join(dir, 'config'));
      expect(config.caPem).toBe(tls.caPem);
      server.handle((_req, res) => sendJson(res, 200, node('n1')));
      const client = new KubeClient(config);
      await client.get(resources.nodes, 'n1');
      client.close();
      expect(server.requests[0]?.clientCN).toBe('tester');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('names the unreadable file referenced by a kubeconfig', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'knode-kubeconfig-'));
    try {
      await writeFile(
        join(dir, 'config'),
        'clusters: [{name: c, cluster: {server: "https://x", certificate-authority: missing.crt}}]\ncontexts: [{name: x, context: {cluster: c}}]\ncurrent-context: x\n',
      );
      await expect(loadClientConfig(join(dir, 'config'))).rejects.toThrow(`${join(dir, 'missing.crt')}`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
