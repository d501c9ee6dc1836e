/**
 * pods/eviction against a real `knode server` (no controllers, no kubelet): the Eviction API over
 * HTTPS, its bad input, and `kubectl drain` with the real kubectl, which evicts through it (a server
 * without the subresource makes kubectl fall back to plain deletes and say "deleted", not "evicted").
 * No PodDisruptionBudgets exist on this server, so no eviction is refused for one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminClient, failureStatus } from './helpers/api-client.js';
import type { ApiClient } from './helpers/api-client.js';
import { APISERVER_ONLY, startServer } from './helpers/server.js';
import type { TestServer } from './helpers/server.js';

let server: TestServer;
let admin: ApiClient;
const PODS = '/api/v1/namespaces/default/pods';

const pod = (name: string, nodeName?: string): unknown => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, labels: { app: 'evict' } },
  spec: { ...(nodeName !== undefined ? { nodeName } : {}), containers: [{ name: 'main', image: 'knode.local/testserver:1.0' }] },
});
const eviction = (name: string, extra: Record<string, unknown> = {}): unknown => ({ apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name, namespace: 'default' }, ...extra });

beforeAll(async () => {
  server = await startServer(APISERVER_ONLY);
  admin = await adminClient(server.kubeconfig);
});

afterAll(async () => {
  admin?.close();
  await server?.stop();
});

describe('the Eviction API', () => {
  it('evicting a pod deletes it and answers 201 Success; a bound pod starts its graceful deletion', async () => {
    expect((await admin.post(PODS, pod('loose'))).status).toBe(201);
    const r = await admin.post(`${PODS}/loose/eviction`, eviction('loose'));
    expect(r.status, r.text).toBe(201);
    expect(r.body).toMatchObject({ kind: 'Status', status: 'Success' });
    expect((await admin.get(`${PODS}/loose`)).status).toBe(404);

    expect((await admin.post(PODS, pod('bound', 'n1'))).status).toBe(201);
    expect((await admin.post(`${PODS}/bound/eviction`, eviction('bound'))).status).toBe(201);
    const bound = await admin.get(`${PODS}/bound`);
    expect((bound.body as { metadata: { deletionTimestamp?: string } }).metadata.deletionTimestamp).toBeDefined();
    // its deleteOptions apply: grace 0 removes it at once
    expect((await admin.post(`${PODS}/bound/eviction`, eviction('bound', { deleteOptions: { gracePeriodSeconds: 0 } }))).status).toBe(201);
    expect((await admin.get(`${PODS}/bound`)).status).toBe(404);
  });

  it('bad input: another name, another kind, a GET, a missing pod; a dry run; nothing deleted', async () => {
    expect((await admin.post(PODS, pod('kept'))).status).toBe(201);
    const other = await admin.post(`${PODS}/kept/eviction`, eviction('someone-else'));
    expect([other.status, failureStatus(other).message]).toEqual([400, 'name in URL does not match name in Eviction object']);
    const kind = await admin.post(`${PODS}/kept/eviction`, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'kept' } });
    expect(kind.status).toBe(400);
    expect(failureStatus(kind).message).toContain('must be of type Eviction');
    expect((await admin.get(`${PODS}/kept/eviction`)).status).toBe(405);
    // a dry run evicts nothing
    expect((await admin.post(`${PODS}/kept/eviction?dryRun=All`, eviction('kept'))).status).toBe(201);
    const missing = await admin.post(`${PODS}/nosuch/eviction`, eviction('nosuch'));
    expect([missing.status, failureStatus(missing).message]).toEqual([404, 'pods "nosuch" not found']);
    expect((await admin.get(`${PODS}/kept`)).status).toBe(200);
  });
});

describe('kubectl drain', () => {
  it('cordons the node and evicts its pods through the Eviction API', async () => {
    await server.kubectlOk(['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'drain-me' } }) });
    for (const name of ['d1', 'd2']) expect((await admin.post(PODS, pod(name, 'drain-me'))).status).toBe(201);
    // bare pods (no controller) need --force, as upstream's drain says
    const out = await server.kubectlOk(['drain', 'drain-me', '--force', '--grace-period=0', '--timeout=30s']);
    expect(out).toContain('node/drain-me cordoned');
    expect(out).toContain('evicting pod default/d1');
    expect(out).toContain('pod/d2 evicted');
    expect(out).toContain('node/drain-me drained');
    for (const name of ['d1', 'd2']) expect((await admin.get(`${PODS}/${name}`)).status).toBe(404);
    const node = await admin.get('/api/v1/nodes/drain-me');
    expect((node.body as { spec?: { unschedulable?: boolean } }).spec?.unschedulable).toBe(true);
  });
});
