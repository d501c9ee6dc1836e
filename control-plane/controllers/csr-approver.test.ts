import { X509Certificate } from 'node:crypto';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CertificateSigningRequest, CsrSpec } from '../../api/certificates/csr.js';
import { certificatePem, conditionSummary } from '../../api/certificates/csr.js';
import { FakeClock } from '../../lib/clock.js';
import { silentLogger } from '../../lib/log.js';
import type { CertificateAuthority } from '../../lib/pki/certs.js';
import { createCA } from '../../lib/pki/certs.js';
import { createCSR } from '../../lib/pki/csr.js';
import { generateKeyPair } from '../../lib/pki/pem.js';
import { AdmissionChain } from '../apiserver/admission.js';
import { Registry } from '../apiserver/registry.js';
import type { ResourceEntry } from '../apiserver/resource-table.js';
import { servedResources } from '../apiserver/resources.js';
import { MemoryStore } from '../storage/memory-store.js';
import { CsrApprover, decideApproval } from './csr-approver.js';
import { CsrSigner } from './csr-signer.js';

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
const KUBELET = 'kubernetes.io/kube-apiserver-client-kubelet';
const BOOTSTRAP = { username: 'system:bootstrap:abcdef', groups: ['system:bootstrappers', 'system:bootstrappers:kubeadm:default-node-token', 'system:authenticated'] };
let pems: Record<string, string>;

beforeAll(async () => {
  const make = async (commonName: string, organizations: string[], dnsNames: string[] = []): Promise<string> =>
    createCSR(await generateKeyPair(), { commonName, organizations, dnsNames });
  pems = {
    node: await make('system:node:w1', ['system:nodes']),
    otherOrg: await make('system:node:w1', ['system:masters']),
    twoOrgs: await make('system:node:w1', ['system:nodes', 'system:masters']),
    notNode: await make('alice', ['system:nodes']),
    withSan: await make('system:node:w1', ['system:nodes'], ['w1.example']),
    emptyName: await make('system:node:', ['system:nodes']),
  };
});

function csr(request: string, spec: Partial<CsrSpec> = {}, conditions: string[] = []): CertificateSigningRequest {
  return {
    metadata: { name: 'c' },
    spec: { request: b64(pems[request] ?? ''), signerName: KUBELET, usages: ['digital signature', 'client auth'], ...BOOTSTRAP, ...spec },
    ...(conditions.length > 0 ? { status: { conditions: conditions.map((type) => ({ type, status: 'True' as const })) } } : {}),
  };
}

describe('decideApproval', () => {
  const cases: Array<[string, () => CertificateSigningRequest, 'approve' | 'skip']> = [
    ['a node joining with a bootstrap token is approved', () => csr('node'), 'approve'],
    ['key encipherment may be asked for too', () => csr('node', { usages: ['digital signature', 'key encipherment', 'client auth'] }), 'approve'],
    ['a node renewing its own certificate is approved', () => csr('node', { username: 'system:node:w1', groups: ['system:nodes', 'system:authenticated'] }), 'approve'],
    ['a node asking for another node is not', () => csr('node', { username: 'system:node:w2', groups: ['system:nodes'] }), 'skip'],
    ['a bootstrap user outside system:bootstrappers is not', () => csr('node', { groups: ['system:authenticated'] }), 'skip'],
    ['an admin asking for a node certificate is left to a human', () => csr('node', { username: 'kubernetes-admin', groups: ['system:masters'] }), 'skip'],
    ['another signer is left alone', () => csr('node', { signerName: 'kubernetes.io/kube-apiserver-client' }), 'skip'],
    ['O other than system:nodes is not', () => csr('otherOrg'), 'skip'],
    ['an extra organization is not', () => csr('twoOrgs'), 'skip'],
    ['a CN outside system:node: is not', () => csr('notNode'), 'skip'],
    ['a CN of just the prefix is not', () => csr('emptyName'), 'skip'],
    ['SANs are not', () => csr('withSan'), 'skip'],
    ['server auth is not', () => csr('node', { usages: ['digital signature', 'server auth'] }), 'skip'],
    ['a missing digital signature is not', () => csr('node', { usages: ['client auth'] }), 'skip'],
    ['an already denied request stays denied', () => csr('node', {}, ['Denied']), 'skip'],
    ['an already approved request is not approved twice', () => csr('node', {}, ['Approved']), 'skip'],
  ];
  it.each(cases)('%s', (_name, make, kind) => {
    expect(decideApproval(make()).kind).toBe(kind);
  });
  it("asks the authorizer: nodeclient for a joining bootstrap token, selfnodeclient for a renewal", () => {
    const asked: string[] = [];
    const only = (granted: string) => (user: string, _groups: readonly string[], sub: string): boolean => {
      asked.push(`${user} ${sub}`);
      return sub === granted;
    };
    expect(decideApproval(csr('node'), only('nodeclient')).kind).toBe('approve');
    const refused = decideApproval(csr('node'), only('selfnodeclient'));
    expect(refused).toEqual({ kind: 'skip', why: 'requester "system:bootstrap:abcdef" may not create certificatesigningrequests/nodeclient' });
    const renewal = csr('node', { username: 'system:node:w1', groups: ['system:nodes', 'system:authenticated'] });
    expect(decideApproval(renewal, only('selfnodeclient')).kind).toBe('approve');
    expect(decideApproval(renewal, only('nodeclient')).kind).toBe('skip');
    expect(asked).toEqual(['system:bootstrap:abcdef nodeclient', 'system:bootstrap:abcdef nodeclient', 'system:node:w1 selfnodeclient', 'system:node:w1 selfnodeclient']);
  });
});

describe('CSR approver and signer over the Registry', () => {
  const index = servedResources();
  const entry = index.find('certificates.k8s.io', 'v1', 'certificatesigningrequests') as ResourceEntry;
  let store: MemoryStore;
  let registry: Registry;
  let clock: FakeClock;
  let abort: AbortController;
  let running: Array<Promise<void>>;
  let ca: CertificateAuthority;

  beforeAll(async () => {
    ca = await createCA('test-ca');
  });

  beforeEach(() => {
    store = new MemoryStore();
    clock = new FakeClock(Date.now());
    registry = new Registry(store, new AdmissionChain([]), clock);
    abort = new AbortController();
    const deps = { registry, index, clock, log: silentLogger() };
    running = [new CsrApprover(deps).run(abort.signal), new CsrSigner(deps, { ca }).run(abort.signal)];
  });

  afterEach(async () => {
    abort.abort();
    await Promise.all(running);
    await store.close();
  });

  async function create(name: string, request: string, user: { name: string; groups: string[] }, spec: Partial<CsrSpec> = {}): Promise<void> {
    await registry.create(
      entry,
      undefined,
      { apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest', metadata: { name }, spec: { request: b64(pems[request] ?? ''), signerName: KUBELET, usages: ['digital signature', 'client auth'], ...spec } },
      { user },
    );
  }

  async function until(name: string, want: string): Promise<CertificateSigningRequest> {
    for (let i = 0; i < 200; i++) {
      const got = (await registry.get(entry, undefined, name)) as CertificateSigningRequest;
      if (conditionSummary(got) === want) return got;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`${name} never reached ${want}: ${JSON.stringify((await registry.get(entry, undefined, name))['status'])}`);
  }

  it('approves and signs a bootstrap request for the requested name, validity capped by expirationSeconds', async () => {
    await create('join', 'node', { name: 'system:bootstrap:abcdef', groups: ['system:bootstrappers'] }, { expirationSeconds: 3600 });
    const done = await until('join', 'Approved,Issued');
    expect(done.spec.username).toBe('system:bootstrap:abcdef');
    expect(done.status?.conditions?.[0]).toMatchObject({ type: 'Approved', status: 'True', reason: 'AutoApproved' });
    const cert = new X509Certificate(certificatePem(done) ?? '');
    expect(cert.subject).toBe('O=system:nodes\nCN=system:node:w1');
    expect(cert.checkIssued(new X509Certificate(Buffer.from(ca.cert.rawData)))).toBe(true);
    const lifetime = Date.parse(cert.validTo) - clock.now().getTime();
    expect(lifetime).toBeGreaterThan(3500_000);
    expect(lifetime).toBeLessThanOrEqual(3600_000);
  });

  it('leaves a request from a user that is neither bootstrapper nor the node Pending', async () => {
    await create('other', 'node', { name: 'kubernetes-admin', groups: ['system:masters'] });
    await create('marker', 'node', { name: 'system:bootstrap:abcdef', groups: ['system:bootstrappers'] });
    await until('marker', 'Approved,Issued');
    const other = (await registry.get(entry, undefined, 'other')) as CertificateSigningRequest;
    expect(conditionSummary(other)).toBe('Pending');
  });

  it('marks an approved request that is not a kubelet client request Failed instead of signing it', async () => {
    await create('wrong', 'notNode', { name: 'kubernetes-admin', groups: ['system:masters'] });
    // a human approves it through the approval rules (the controllers leave it alone otherwise)
    await registry.update(entry, undefined, 'wrong', (c) => ({ ...c, status: { conditions: [{ type: 'Approved', status: 'True', reason: 'Manual' }] } }), { subresource: 'status', trusted: true });
    const failed = await until('wrong', 'Approved,Failed');
    expect(failed.status?.conditions?.find((c) => c.type === 'Failed')?.message).toMatch(/does not begin with system:node:/);
    expect(certificatePem(failed)).toBeUndefined();
  });
});
