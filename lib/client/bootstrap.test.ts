import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../clock.js';
import type { CertificateAuthority } from '../pki/certs.js';
import { createCA, createServingCert, encodeCertKeyPair } from '../pki/certs.js';
import { signCSR } from '../pki/csr.js';
import { parseKubeconfig, resolveKubeconfig } from '../pki/kubeconfig.js';
import { bootstrapNodeCredentials, CLIENT_KEY_FILE, KUBECONFIG_FILE } from './bootstrap.js';
import { buildClusterInfoConfigMap, caCertHash } from './cluster-info.js';
import { NodeBootstrapError } from './errors.js';
import type { RecordedRequest } from './testing/fake-apiserver.js';
import { FakeApiServer, sendJson, startWatch, status } from './testing/fake-apiserver.js';

const TOKEN = 'abcdef.0123456789abcdef';
const CSR_PATH = '/apis/certificates.k8s.io/v1/certificatesigningrequests';

type Outcome = 'issue' | 'deny' | 'never';

let ca: CertificateAuthority;
let caPem: string;
let server: FakeApiServer;
let outcome: Outcome;
let dir: string;

beforeAll(async () => {
  ca = await createCA('bootstrap-test-ca');
  caPem = (await encodeCertKeyPair(ca)).certPem;
  const serving = await encodeCertKeyPair(await createServingCert(ca, { commonName: 'apiserver', ips: ['127.0.0.1'], dnsNames: [] }));
  server = await FakeApiServer.start({ caPem, servingCertPem: serving.certPem, servingKeyPem: serving.keyPem, clientCertPem: '', clientKeyPem: '' });
});

afterAll(async () => {
  await server.close();
});

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'knode-bootstrap-'));
  server.requests.length = 0;
  outcome = 'issue';
  let stored: Record<string, unknown> | undefined;
  server.handle(async (req: RecordedRequest, res) => {
    if (req.headers['authorization'] !== `Bearer ${TOKEN}`) return sendJson(res, 401, status(401, 'Unauthorized', 'Unauthorized'));
    if (req.path === '/api/v1/namespaces/kube-public/configmaps/cluster-info') return sendJson(res, 200, buildClusterInfoConfigMap({ server: server.url, caPem }));
    if (req.method === 'POST' && req.path === CSR_PATH) {
      const body = JSON.parse(req.body) as Record<string, unknown> & { spec: Record<string, unknown> };
      stored = { ...body, metadata: { name: 'node-csr-abc', resourceVersion: '1' }, spec: { ...body.spec, username: 'system:bootstrap:abcdef' } };
      return sendJson(res, 201, stored);
    }
    if (req.method === 'GET' && req.path === `${CSR_PATH}/node-csr-abc`) return sendJson(res, 200, stored);
    if (req.method === 'GET' && req.path === CSR_PATH && req.query.get('watch') === '1') {
      const w = startWatch(res);
      if (outcome === 'never' || stored === undefined) return;
      const spec = stored['spec'] as { request: string; usages: string[] };
      if (outcome === 'deny') {
        w.send({ type: 'MODIFIED', object: { ...stored, status: { conditions: [{ type: 'Denied', status: 'True', reason: 'Nope', message: 'not this node' }] } } });
      } else {
        const cert = await signCSR(ca, Buffer.from(spec.request, 'base64').toString('utf8'), { usages: spec.usages });
        w.send({ type: 'MODIFIED', object: { ...stored, status: { conditions: [{ type: 'Approved', status: 'True' }] } } });
        w.send({ type: 'MODIFIED', object: { ...stored, status: { conditions: [{ type: 'Approved', status: 'True' }], certificate: Buffer.from(cert).toString('base64') } } });
      }
      return;
    }
    sendJson(res, 404, status(404, 'NotFound', `no route for ${req.method} ${req.path}`));
  });
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const opts = (extra: Partial<Parameters<typeof bootstrapNodeCredentials>[0]> = {}): Parameters<typeof bootstrapNodeCredentials>[0] => ({
  server: server.url,
  caPem,
  token: TOKEN,
  nodeName: 'w1',
  dir,
  ...extra,
});

async function failure(p: Promise<unknown>): Promise<NodeBootstrapError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(NodeBootstrapError);
  return err as NodeBootstrapError;
}

describe('bootstrapNodeCredentials', () => {
  it('requests a kubelet client certificate with the token and writes a working kubeconfig (0600)', async () => {
    const creds = await bootstrapNodeCredentials(opts());
    expect(creds.reused).toBe(false);
    expect(creds.csrName).toBe('node-csr-abc');
    const sent = JSON.parse(server.requests.find((r) => r.method === 'POST')?.body ?? '{}') as { spec: Record<string, unknown>; metadata: Record<string, unknown> };
    expect(sent.metadata).toEqual({ generateName: 'node-csr-' });
    expect(sent.spec['signerName']).toBe('kubernetes.io/kube-apiserver-client-kubelet');
    expect(sent.spec['usages']).toEqual(['digital signature', 'client auth']);
    const { user, cluster } = resolveKubeconfig(parseKubeconfig(await readFile(join(dir, KUBECONFIG_FILE), 'utf8')));
    expect(user.name).toBe('system:node:w1');
    expect(user.clientCertificateData).toBe(creds.certPem);
    expect(cluster.certificateAuthorityData).toBe(caPem);
    expect(cluster.server).toBe(server.url);
    expect((await stat(join(dir, KUBECONFIG_FILE))).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, CLIENT_KEY_FILE))).mode & 0o777).toBe(0o600);
  });

  it('reuses a valid certificate on the next start without asking the server', async () => {
    const first = await bootstrapNodeCredentials(opts());
    server.requests.length = 0;
    const second = await bootstrapNodeCredentials(opts());
    expect(second.reused).toBe(true);
    expect(second.certPem).toBe(first.certPem);
    expect(server.requests).toHaveLength(0);
  });

  it('requests a new certificate when the stored one is for another node', async () => {
    await bootstrapNodeCredentials(opts());
    const other = await bootstrapNodeCredentials(opts({ nodeName: 'w2' }));
    expect(other.reused).toBe(false);
    expect(new X509Certificate(other.certPem).subject).toBe('O=system:nodes\nCN=system:node:w2');
  });

  it('names the token as the problem when the apiserver refuses it', async () => {
    const err = await failure(bootstrapNodeCredentials(opts({ token: 'abcdef.ffffffffffffffff' })));
    expect(err.failure).toBe('token-rejected');
    expect(err.message).toMatch(/refused the bootstrap token \(401 Unauthorized\)/);
  });

  it('reports a denied request with the denial message', async () => {
    outcome = 'deny';
    const err = await failure(bootstrapNodeCredentials(opts()));
    expect(err.failure).toBe('csr-denied');
    expect(err.message).toMatch(/node-csr-abc was denied: not this node/);
  });

  it('gives up after its timeout on the injected clock', async () => {
    outcome = 'never';
    const clock = new FakeClock(Date.now());
    // the failure handler is attached before time moves, so the rejection is never left unhandled
    const pending = failure(bootstrapNodeCredentials(opts({ clock, timeoutMs: 60_000 })));
    while (!server.requests.some((r) => r.query.get('watch') === '1')) await new Promise((r) => setTimeout(r, 5));
    await clock.advance(60_000);
    const err = await pending;
    expect(err.failure).toBe('timeout');
  });

  it('refuses to discover the CA without a pin or an explicit opt-in, before sending the token', async () => {
    const { caPem: _ca, ...rest } = opts();
    const err = await failure(bootstrapNodeCredentials(rest));
    expect(err.failure).toBe('no-ca');
    expect(server.requests).toHaveLength(0);
  });

  it('discovers the CA from cluster-info when its hash matches the pin', async () => {
    const { caPem: _ca, ...rest } = opts();
    const creds = await bootstrapNodeCredentials({ ...rest, caCertHash: caCertHash(caPem) });
    expect(creds.caPem).toBe(caPem);
    expect(server.requests[0]?.path).toBe('/api/v1/namespaces/kube-public/configmaps/cluster-info');
  });

  it('refuses a cluster-info CA that does not match the pin', async () => {
    const { caPem: _ca, ...rest } = opts();
    const err = await failure(bootstrapNodeCredentials({ ...rest, caCertHash: `sha256:${'0'.repeat(64)}` }));
    expect(err.failure).toBe('ca-mismatch');
    expect(server.requests.some((r) => r.method === 'POST')).toBe(false);
  });

  it('trusts the cluster-info CA on first use only when told to', async () => {
    const { caPem: _ca, ...rest } = opts();
    const creds = await bootstrapNodeCredentials({ ...rest, unsafeSkipCaVerification: true });
    expect(creds.caPem).toBe(caPem);
  });
});
