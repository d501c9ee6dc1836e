import { X509Certificate as NodeX509 } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  buildSanEntries,
  CA_VALIDITY_DAYS,
  CLOCK_SKEW_MS,
  createCA,
  createClientCert,
  createServingCert,
  decodeCertKeyPair,
  encodeCertKeyPair,
  isDnsName,
  LEAF_VALIDITY_DAYS,
  validityWindow,
} from './certs.js';
import { InvalidSanError } from './errors.js';
import { encodeCertificatePem, generateKeyPair } from './pem.js';
import { x509 } from './x509.js';

const NOW = new Date('2026-01-15T12:00:00.000Z');
const DAY = 86_400_000;
const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const F = x509.KeyUsageFlags;

const node = (c: x509.X509Certificate): NodeX509 => new NodeX509(encodeCertificatePem(c));

describe('createCA', () => {
  it('makes a self-signed ECDSA P-256/SHA-256 CA with critical CA:true, cert/CRL signing usage and a key id', async () => {
    const ca = await createCA('test-ca', { now: NOW });
    const n = node(ca.cert);
    expect(n.ca).toBe(true);
    expect(n.subject).toBe('CN=test-ca');
    expect(n.checkIssued(n)).toBe(true);
    expect(n.verify(n.publicKey)).toBe(true);
    expect(n.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(ca.cert.signatureAlgorithm).toMatchObject({ name: 'ECDSA', hash: { name: 'SHA-256' } });

    const bc = ca.cert.getExtension(x509.BasicConstraintsExtension);
    expect(bc).toMatchObject({ ca: true, critical: true });
    const ku = ca.cert.getExtension(x509.KeyUsagesExtension);
    expect(ku?.usages).toBe(F.keyCertSign | F.cRLSign | F.digitalSignature);
    expect(ku?.critical).toBe(true);
    expect(ca.cert.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId).toMatch(/^[0-9a-f]{40}$/);
  });

  it('is valid from one minute before now for ten years', async () => {
    const ca = await createCA('test-ca', { now: NOW });
    expect(ca.cert.notBefore.getTime()).toBe(NOW.getTime() - CLOCK_SKEW_MS);
    expect(ca.cert.notAfter.getTime()).toBe(NOW.getTime() + CA_VALIDITY_DAYS * DAY);
  });

  it('gives every certificate a different positive serial of up to 128 bits', async () => {
    const serials = await Promise.all([1, 2, 3].map(async () => (await createCA('s')).cert.serialNumber));
    expect(new Set(serials).size).toBe(3);
    for (const s of serials) {
      const der = Buffer.from(s.length % 2 === 0 ? s : `0${s}`, 'hex');
      expect(der.length).toBeLessThanOrEqual(16);
      expect(BigInt(`0x${s}`)).toBeGreaterThan(0n);
    }
  });

  it('uses the key pair it is given', async () => {
    const keys = await generateKeyPair();
    const ca = await createCA('given-key', { keys });
    expect(ca.keys).toBe(keys);
    const spki = Buffer.from(await crypto.subtle.exportKey('spki', keys.publicKey));
    expect(node(ca.cert).publicKey.export({ type: 'spki', format: 'der' })).toEqual(spki);
  });
});

describe('createServingCert', () => {
  it('is a serverAuth leaf issued by the CA, valid for its IP and DNS SANs', async () => {
    const ca = await createCA('test-ca', { now: NOW });
    const leaf = await createServingCert(
      ca,
      { commonName: 'kube-apiserver', ips: ['10.96.0.1', '127.0.0.1', 'fd00::1'], dnsNames: ['kubernetes.default.svc', 'localhost'] },
      { now: NOW },
    );
    const n = node(leaf.cert);
    const nca = node(ca.cert);
    expect(n.checkIssued(nca)).toBe(true);
    expect(n.verify(nca.publicKey)).toBe(true);
    expect(n.issuer).toBe(nca.subject);
    expect(n.ca).toBe(false);
    expect(n.subject).toBe('CN=kube-apiserver');
    expect(n.keyUsage).toEqual([SERVER_AUTH]);
    expect(n.checkIP('10.96.0.1')).toBe('10.96.0.1');
    expect(n.checkIP('fd00::1')).toBe('fd00::1');
    expect(n.checkIP('10.96.0.2')).toBeUndefined();
    expect(n.checkHost('kubernetes.default.svc')).toBe('kubernetes.default.svc');
    expect(n.checkHost('example.com')).toBeUndefined();

    expect(leaf.cert.getExtension(x509.BasicConstraintsExtension)).toMatchObject({ ca: false, critical: true });
    expect(leaf.cert.getExtension(x509.KeyUsagesExtension)?.usages).toBe(F.digitalSignature | F.keyEncipherment);
    expect(leaf.cert.getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId).toBe(
      ca.cert.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId,
    );
    expect(leaf.cert.notBefore.getTime()).toBe(NOW.getTime() - CLOCK_SKEW_MS);
    expect(leaf.cert.notAfter.getTime()).toBe(NOW.getTime() + LEAF_VALIDITY_DAYS * DAY);
  });

  it.each([
    ['an IP that does not parse', { ips: ['10.0.0.300'], dnsNames: [] }],
    ['a DNS name with a space', { ips: [], dnsNames: ['bad name'] }],
    ['a DNS label starting with a dash', { ips: [], dnsNames: ['-x.example'] }],
  ])('refuses %s before signing anything', async (_name, sans) => {
    const ca = await createCA('test-ca');
    await expect(createServingCert(ca, { commonName: 'x', ...sans })).rejects.toThrow(InvalidSanError);
  });

  it('never outlives its CA', async () => {
    const ca = await createCA('short-ca', { now: NOW, validityDays: 10 });
    const leaf = await createServingCert(ca, { commonName: 'x', ips: ['127.0.0.1'], dnsNames: [] }, { now: NOW });
    expect(leaf.cert.notAfter.getTime()).toBe(ca.cert.notAfter.getTime());
  });
});

describe('createClientCert', () => {
  it('is a clientAuth leaf whose CN is the user and whose O entries are the groups', async () => {
    const ca = await createCA('test-ca');
    const leaf = await createClientCert(ca, { commonName: 'system:node:n1', organizations: ['system:nodes', 'extra'] });
    const n = node(leaf.cert);
    expect(n.checkIssued(node(ca.cert))).toBe(true);
    expect(n.keyUsage).toEqual([CLIENT_AUTH]);
    expect(n.subjectAltName).toBeUndefined();
    expect(leaf.cert.subjectName.getField('CN')).toEqual(['system:node:n1']);
    expect(leaf.cert.subjectName.getField('O')).toEqual(['system:nodes', 'extra']);
  });

  it('keeps characters that are special in DN strings literal', async () => {
    const ca = await createCA('test-ca');
    const leaf = await createClientCert(ca, { commonName: 'a,b=c+d', organizations: ['x, y'] });
    expect(leaf.cert.subjectName.getField('CN')).toEqual(['a,b=c+d']);
    expect(leaf.cert.subjectName.getField('O')).toEqual(['x, y']);
  });
});

describe('helpers', () => {
  it.each([
    ['kubernetes.default.svc.cluster.local', true],
    ['localhost', true],
    ['*.apps.example.com', true],
    ['UPPER.example', true],
    ['', false],
    ['a..b', false],
    ['under_score', false],
    ['a.*.b', false],
    [`${'a'.repeat(64)}.example`, false],
  ])('isDnsName(%j) is %s', (name, ok) => {
    expect(isDnsName(name)).toBe(ok);
  });

  it('buildSanEntries drops duplicates and lists IPs before DNS names', () => {
    expect(buildSanEntries(['1.2.3.4', '1.2.3.4'], ['a', 'a'])).toEqual([
      { type: 'ip', value: '1.2.3.4' },
      { type: 'dns', value: 'a' },
    ]);
  });

  it('validityWindow backdates notBefore and caps notAfter', () => {
    const cap = new Date(NOW.getTime() + 5 * DAY);
    expect(validityWindow(NOW, 365, cap)).toEqual({ notBefore: new Date(NOW.getTime() - 60_000), notAfter: cap });
    expect(validityWindow(NOW, 1).notAfter).toEqual(new Date(NOW.getTime() + DAY));
  });
});

describe('encodeCertKeyPair / decodeCertKeyPair', () => {
  it('round-trips a CA that can still sign', async () => {
    const ca = await createCA('round-trip');
    const { certPem, keyPem } = await encodeCertKeyPair(ca);
    const back = await decodeCertKeyPair(certPem, keyPem);
    expect(back.cert.serialNumber).toBe(ca.cert.serialNumber);
    const leaf = await createClientCert(back, { commonName: 'u', organizations: [] });
    expect(node(leaf.cert).verify(node(ca.cert).publicKey)).toBe(true);
  });
});
