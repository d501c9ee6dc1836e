import { X509Certificate as NodeX509 } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createCA, createClientCert, createServingCert } from './certs.js';
import {
  ADMIN_GROUP,
  ADMIN_USER,
  buildClusterPki,
  canonicalIP,
  missingSANs,
  planClusterPki,
  servingSANs,
  type ClusterPkiOptions,
  type PkiFiles,
} from './cluster-pki.js';
import { InvalidSanError, PkiStateError } from './errors.js';
import { decodeCertificatePem, decodePrivateKeyPem, encodeCertificatePem, encodePrivateKeyPem } from './pem.js';

const NOW = new Date('2026-02-01T00:00:00.000Z');
const DAY = 86_400_000;
const OPTS: ClusterPkiOptions = { bindAddress: '192.168.50.10', serviceIP: '10.96.0.1' };
const STANDARD_DNS = ['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local'];

/** A complete, healthy PKI as file contents, built by the code under test itself. */
async function freshFiles(opts = OPTS, now = NOW): Promise<PkiFiles> {
  const built = await buildClusterPki(planClusterPki('/pki', {}, opts, now), {}, opts, now);
  return Object.fromEntries(built.writes.map((w) => [w.file, w.content]));
}

describe('servingSANs', () => {
  it.each([
    ['a concrete bind address', OPTS, ['192.168.50.10', '127.0.0.1', '10.96.0.1'], STANDARD_DNS],
    ['a wildcard bind address, which is not a SAN', { ...OPTS, bindAddress: '0.0.0.0' }, ['127.0.0.1', '10.96.0.1'], STANDARD_DNS],
    ['the IPv6 wildcard', { ...OPTS, bindAddress: '::' }, ['127.0.0.1', '10.96.0.1'], STANDARD_DNS],
    [
      'extras sorted into IPs and DNS names, lower-cased and deduplicated',
      { ...OPTS, extraSANs: ['Node-1.Lab', '192.168.50.10', '0:0:0:0:0:0:0:1', 'node-1.lab'] },
      ['192.168.50.10', '127.0.0.1', '10.96.0.1', '::1'],
      [...STANDARD_DNS, 'node-1.lab'],
    ],
  ])('with %s', (_name, opts, ips, dnsNames) => {
    expect(servingSANs(opts)).toEqual({ ips, dnsNames });
  });

  it('refuses an extra that is neither an IP nor a DNS name', () => {
    expect(() => servingSANs({ ...OPTS, extraSANs: ['not a name'] })).toThrow(InvalidSanError);
  });

  it('canonicalIP writes IPv6 in its short form and leaves IPv4 alone', () => {
    expect(canonicalIP('FD00:0:0:0:0:0:0:1')).toBe('fd00::1');
    expect(canonicalIP('10.0.0.1')).toBe('10.0.0.1');
  });
});

describe('planClusterPki', () => {
  it('creates everything in an empty directory', () => {
    expect(planClusterPki('/pki', {}, OPTS, NOW)).toEqual([
      { kind: 'create-ca' },
      { kind: 'issue-serving', reason: 'new CA' },
      { kind: 'issue-admin', reason: 'new CA' },
    ]);
  });

  it('treats a CA key left without its certificate (interrupted first start) as empty', () => {
    expect(planClusterPki('/pki', { caKey: 'left over' }, OPTS, NOW)[0]).toEqual({ kind: 'create-ca' });
  });

  it('reuses a complete, current PKI', async () => {
    expect(planClusterPki('/pki', await freshFiles(), OPTS, NOW)).toEqual([]);
  });

  it('re-issues only the serving certificate when a newly required SAN is missing', async () => {
    const files = await freshFiles();
    expect(planClusterPki('/pki', files, { ...OPTS, bindAddress: '192.168.50.99', extraSANs: ['api.lab'] }, NOW)).toEqual([
      { kind: 'issue-serving', reason: 'lacks IP:192.168.50.99, DNS:api.lab' },
    ]);
  });

  it('does not re-issue when a SAN is dropped (a superset still serves)', async () => {
    const files = await freshFiles({ ...OPTS, extraSANs: ['api.lab'] });
    expect(planClusterPki('/pki', files, OPTS, NOW)).toEqual([]);
  });

  type Mutation = (f: PkiFiles, other: PkiFiles) => Record<string, string | undefined>;
  const cases: [string, Mutation, string[]][] = [
    ['the admin key is missing', (f) => ({ ...f, adminKey: undefined }), ['issue-admin:missing']],
    ['the serving certificate is unreadable', (f) => ({ ...f, servingCert: 'garbage' }), ['issue-serving:unreadable certificate']],
    [
      'the serving certificate comes from another CA',
      (f, o) => ({ ...f, servingCert: o.servingCert, servingKey: o.servingKey }),
      ['issue-serving:not issued by the cluster CA'],
    ],
    ['the admin key belongs to another certificate', (f) => ({ ...f, adminKey: f.servingKey }), ['issue-admin:certificate does not match its key']],
  ];
  it.each(cases)('re-issues only what is affected when %s', async (_name, mutate, expected) => {
    const files = mutate(await freshFiles(), await freshFiles());
    const clean = Object.fromEntries(Object.entries(files).filter(([, v]) => v !== undefined)) as PkiFiles;
    const actions = planClusterPki('/pki', clean, OPTS, NOW);
    expect(actions.map((a) => (a.kind === 'create-ca' ? a.kind : `${a.kind}:${a.reason}`))).toEqual(expected);
  });

  it('renews both leaves once fewer than 30 days of validity remain, keeping the CA', async () => {
    const files = await freshFiles();
    const later = new Date(NOW.getTime() + 340 * DAY);
    expect(planClusterPki('/pki', files, OPTS, later).map((a) => a.kind)).toEqual(['issue-serving', 'issue-admin']);
  });

  it('re-issues an admin certificate with the wrong subject', async () => {
    const files = await freshFiles();
    const ca = { cert: decodeCertificatePem(files.caCert ?? ''), keys: await decodePrivateKeyPem(files.caKey ?? '') };
    const other = await createClientCert(ca, { commonName: 'someone', organizations: [ADMIN_GROUP] }, { now: NOW });
    const tampered = { ...files, adminCert: encodeCertificatePem(other.cert), adminKey: await encodePrivateKeyPem(other.keys) };
    expect(planClusterPki('/pki', tampered, OPTS, NOW)).toEqual([
      { kind: 'issue-admin', reason: `subject is not CN=${ADMIN_USER}, O=${ADMIN_GROUP}` },
    ]);
  });

  it.each([
    ['a CA certificate without its key', (f: PkiFiles): PkiFiles => ({ caCert: f.caCert ?? '' }), /ca\.key: missing/],
    ['an unreadable CA certificate', (f: PkiFiles): PkiFiles => ({ ...f, caCert: 'x' }), /not a readable CA certificate/],
    ['a CA key of another CA', (f: PkiFiles): PkiFiles => ({ ...f, caKey: f.adminKey ?? '' }), /does not match ca\.key/],
  ])('refuses to repair %s', async (_name, mutate, message) => {
    const files = mutate(await freshFiles());
    expect(() => planClusterPki('/pki', files, OPTS, NOW)).toThrow(PkiStateError);
    expect(() => planClusterPki('/pki', files, OPTS, NOW)).toThrow(message);
  });

  it('refuses an expired CA', async () => {
    const files = await freshFiles();
    expect(() => planClusterPki('/pki', files, OPTS, new Date(NOW.getTime() + 3651 * DAY))).toThrow(/expired/);
  });
});

describe('buildClusterPki', () => {
  it('produces a CA, a serving certificate with every required SAN and the admin client certificate', async () => {
    const { pki, writes } = await buildClusterPki(planClusterPki('/pki', {}, OPTS, NOW), {}, OPTS, NOW);
    expect(writes.map((w) => w.file)).toEqual(['caKey', 'caCert', 'servingKey', 'servingCert', 'adminKey', 'adminCert']);
    const ca = new NodeX509(pki.caCertPem);
    const serving = new NodeX509(pki.servingCertPem);
    const admin = new NodeX509(pki.adminCertPem);
    expect(ca.ca).toBe(true);
    expect(serving.checkIssued(ca) && admin.checkIssued(ca)).toBe(true);
    expect(missingSANs(pki.servingCertPem, servingSANs(OPTS))).toEqual([]);
    expect(admin.subject).toBe(`O=${ADMIN_GROUP}\nCN=${ADMIN_USER}`);
    expect(Buffer.from(pki.ca.cert.rawData)).toEqual(ca.raw);
  });

  it('keeps untouched files and signs re-issued ones with the existing CA', async () => {
    const files = await freshFiles();
    const { pki, writes } = await buildClusterPki([{ kind: 'issue-serving', reason: 'test' }], files, OPTS, NOW);
    expect(writes.map((w) => w.file)).toEqual(['servingKey', 'servingCert']);
    expect(pki.caCertPem).toBe(files.caCert);
    expect(pki.adminCertPem).toBe(files.adminCert);
    expect(pki.servingCertPem).not.toBe(files.servingCert);
    expect(new NodeX509(pki.servingCertPem).checkIssued(new NodeX509(pki.caCertPem))).toBe(true);
  });

  it('missingSANs compares IPv6 addresses by value', async () => {
    const ca = await createCA('c');
    const leaf = await createServingCert(ca, { commonName: 'x', ips: ['fd00:0:0:0:0:0:0:1'], dnsNames: ['A.example'] });
    expect(missingSANs(encodeCertificatePem(leaf.cert), { ips: ['fd00::1', '10.0.0.1'], dnsNames: ['a.example'] })).toEqual(['IP:10.0.0.1']);
  });
});
