import { beforeAll, describe, expect, it } from 'vitest';
import { createCA, createClientCert, encodeCertKeyPair } from '../pki/certs.js';
import type { CertificateAuthority } from '../pki/certs.js';
import { buildKubeconfig } from '../pki/kubeconfig.js';
import { planNodeCredentials } from './bootstrap-plan.js';
import { buildClusterInfoKubeconfig, caCertHash, parseClusterInfoKubeconfig } from './cluster-info.js';

const DAY = 86_400_000;
const SERVER = 'https://10.0.0.1:6443';
const NOW = new Date(Date.UTC(2026, 5, 1));

let ca: CertificateAuthority;
let caPem: string;
let otherCaPem: string;
let kubeconfigs: Record<string, string>;

async function kubeconfigFor(opts: { cn?: string; org?: string; issuer?: CertificateAuthority; issuedAt?: Date; days?: number; server?: string; swapKey?: boolean }): Promise<string> {
  const issuer = opts.issuer ?? ca;
  const pair = await encodeCertKeyPair(
    await createClientCert(issuer, { commonName: opts.cn ?? 'system:node:w1', organizations: [opts.org ?? 'system:nodes'] }, { now: opts.issuedAt ?? NOW, validityDays: opts.days ?? 365 }),
  );
  const key = opts.swapKey === true ? (await encodeCertKeyPair(await createClientCert(ca, { commonName: 'x', organizations: [] }))).keyPem : pair.keyPem;
  return buildKubeconfig({
    clusterName: 'c',
    server: opts.server ?? SERVER,
    caPem,
    user: 'u',
    clientCertPem: pair.certPem,
    clientKeyPem: key,
    contextName: 'x',
  });
}

beforeAll(async () => {
  ca = await createCA('plan-ca', { now: new Date(NOW.getTime() - 400 * DAY) });
  caPem = (await encodeCertKeyPair(ca)).certPem;
  const other = await createCA('other-ca', { now: new Date(NOW.getTime() - 400 * DAY) });
  otherCaPem = (await encodeCertKeyPair(other)).certPem;
  kubeconfigs = {
    good: await kubeconfigFor({}),
    expired: await kubeconfigFor({ issuedAt: new Date(NOW.getTime() - 366 * DAY) }),
    nearlyExpired: await kubeconfigFor({ issuedAt: new Date(NOW.getTime() - 350 * DAY) }),
    otherNode: await kubeconfigFor({ cn: 'system:node:w2' }),
    notNodes: await kubeconfigFor({ org: 'system:masters' }),
    otherServer: await kubeconfigFor({ server: 'https://10.9.9.9:6443' }),
    wrongKey: await kubeconfigFor({ swapKey: true }),
    foreignCa: await kubeconfigFor({ issuer: other }),
  };
});

describe('planNodeCredentials', () => {
  const cases: Array<[string, () => string | undefined, () => string | undefined, 'reuse' | 'request', RegExp | undefined]> = [
    ['nothing stored: request', () => undefined, () => undefined, 'request', /no kubeconfig yet/],
    ['a valid certificate for this node: reuse', () => kubeconfigs['good'], () => undefined, 'reuse', undefined],
    ['a valid certificate checked against the given CA: reuse', () => kubeconfigs['good'], () => caPem, 'reuse', undefined],
    ['an expired certificate: request', () => kubeconfigs['expired'], () => undefined, 'request', /expired/],
    ['a certificate in its last fifth: request', () => kubeconfigs['nearlyExpired'], () => undefined, 'request', /expires soon/],
    ['a certificate for another node: request', () => kubeconfigs['otherNode'], () => undefined, 'request', /not system:node:w1/],
    ['a certificate outside system:nodes: request', () => kubeconfigs['notNodes'], () => undefined, 'request', /system:nodes/],
    ['credentials for another server: request', () => kubeconfigs['otherServer'], () => undefined, 'request', /is for https:\/\/10\.9\.9\.9:6443/],
    ['a key that does not match: request', () => kubeconfigs['wrongKey'], () => undefined, 'request', /does not match its key/],
    ['a certificate from another CA than the given one: request', () => kubeconfigs['good'], () => otherCaPem, 'request', /not issued by the cluster CA/],
    ['a certificate not from its own stored CA: request', () => kubeconfigs['foreignCa'], () => undefined, 'request', /not issued by the cluster CA/],
    ['garbage: request', () => 'clusters: 3', () => undefined, 'request', /unusable/],
  ];
  it.each(cases)('%s', (_name, text, ca, kind, why) => {
    const given = ca();
    const plan = planNodeCredentials({ kubeconfigText: text(), nodeName: 'w1', server: SERVER, now: NOW, ...(given !== undefined ? { caPem: given } : {}) });
    expect(plan.kind).toBe(kind);
    if (why !== undefined) expect(plan.kind === 'request' ? plan.why : '').toMatch(why);
  });
});

describe('cluster-info', () => {
  it('round-trips the server and CA through the kubeadm-shaped kubeconfig', () => {
    const text = buildClusterInfoKubeconfig({ server: SERVER, caPem });
    expect(text).toContain('name: ""');
    expect(parseClusterInfoKubeconfig(text)).toEqual({ server: SERVER, caPem });
  });

  it('refuses a kubeconfig without a CA', () => {
    expect(() => parseClusterInfoKubeconfig('clusters: [{cluster: {server: "https://x"}}]')).toThrow(/certificate-authority-data/);
  });

  it('pins the CA by the SHA-256 of its public key, in kubeadm format', () => {
    expect(caCertHash(caPem)).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(caCertHash(caPem)).not.toBe(caCertHash(otherCaPem));
  });
});
