import { execFileSync } from 'node:child_process';
import { createPublicKey, generateKeyPairSync, X509Certificate, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidSanError, UnsupportedKeyError } from './errors.js';
import { createCertificate, encodeCertificatePem, ipBytes, keyIdentifier, OID, type DistinguishedName } from './lite-cert.js';
import { x509 } from './x509.js';

const NOW = new Date('2026-03-01T00:00:00.000Z');
const DAY = 86_400_000;
const p256 = (): KeyObject => generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;

const hasOpenssl = ((): boolean => {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/** A CA and a serving leaf signed by it, as kubelet/server/tls.ts makes them. */
function makePair(): { caKey: KeyObject; leafKey: KeyObject; caDer: Buffer; leafDer: Buffer; caName: DistinguishedName } {
  const caKey = p256();
  const leafKey = p256();
  const caName = { commonName: 'node-a-ca@1772323200' };
  const caDer = createCertificate(
    { subject: caName, publicKey: caKey, notBefore: new Date(NOW.getTime() - 60_000), notAfter: new Date(NOW.getTime() + 3650 * DAY), isCA: true, keyUsage: ['keyCertSign', 'cRLSign', 'digitalSignature'] },
    { name: caName, privateKey: caKey },
  );
  const leafDer = createCertificate(
    {
      subject: { commonName: 'node-a@1772323200', organizations: ['knode', 'nodes'] },
      publicKey: leafKey,
      notBefore: new Date(NOW.getTime() - 60_000),
      notAfter: new Date(NOW.getTime() + 365 * DAY),
      keyUsage: ['digitalSignature', 'keyEncipherment'],
      extKeyUsage: [OID.serverAuth],
      dnsNames: ['node-a', 'node-a.example'],
      ips: ['10.0.0.11', 'fd00::11'],
    },
    { name: caName, privateKey: caKey },
  );
  return { caKey, leafKey, caDer, leafDer, caName };
}

describe('createCertificate, read back by node:crypto', () => {
  const { caKey, leafKey, caDer, leafDer } = makePair();
  const ca = new X509Certificate(caDer);
  const leaf = new X509Certificate(leafDer);

  it('makes a self-signed CA', () => {
    expect(ca.subject).toBe('CN=node-a-ca@1772323200');
    expect(ca.issuer).toBe(ca.subject);
    expect(ca.ca).toBe(true);
    expect(ca.checkIssued(ca)).toBe(true);
    expect(ca.verify(ca.publicKey)).toBe(true);
    expect(ca.publicKey.equals(createPublicKey(caKey))).toBe(true);
    expect(new Date(ca.validFrom).toISOString()).toBe('2026-02-28T23:59:00.000Z');
    expect(new Date(ca.validTo).toISOString()).toBe('2036-02-27T00:00:00.000Z');
  });

  it('makes a leaf signed by that CA, with its names and usages', () => {
    expect(leaf.subject).toBe('O=knode\nO=nodes\nCN=node-a@1772323200');
    expect(leaf.issuer).toBe(ca.subject);
    expect(leaf.ca).toBe(false);
    expect(leaf.checkIssued(ca)).toBe(true);
    expect(leaf.verify(ca.publicKey)).toBe(true);
    expect(leaf.verify(leaf.publicKey)).toBe(false);
    expect(leaf.publicKey.equals(createPublicKey(leafKey))).toBe(true);
    expect(leaf.checkPrivateKey(leafKey)).toBe(true);
    expect(leaf.subjectAltName).toBe('DNS:node-a, DNS:node-a.example, IP Address:10.0.0.11, IP Address:FD00:0:0:0:0:0:0:11');
    expect(leaf.checkIP('10.0.0.11')).toBe('10.0.0.11');
    expect(leaf.checkIP('fd00::11')).toBeDefined();
    expect(leaf.checkHost('node-a.example')).toBe('node-a.example');
    expect(leaf.keyUsage).toEqual([OID.serverAuth]);
    expect(new Date(leaf.validTo).toISOString()).toBe('2027-03-01T00:00:00.000Z');
    expect(leaf.serialNumber).toMatch(/^[0-7][0-9A-F]{31}$/);
  });

  it('is read by @peculiar/x509 (the control plane) with the expected extensions', () => {
    const c = new x509.X509Certificate(leafDer);
    const bc = c.getExtension(x509.BasicConstraintsExtension);
    expect(bc?.ca).toBe(false);
    expect(bc?.critical).toBe(true);
    const ku = c.getExtension(x509.KeyUsagesExtension);
    expect(ku?.critical).toBe(true);
    expect(ku?.usages).toBe(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment);
    const aki = c.getExtension(x509.AuthorityKeyIdentifierExtension);
    const ski = new x509.X509Certificate(caDer).getExtension(x509.SubjectKeyIdentifierExtension);
    expect(aki?.keyId).toBe(keyIdentifier(caKey).toString('hex'));
    expect(ski?.keyId).toBe(keyIdentifier(caKey).toString('hex'));
    expect(new x509.X509Certificate(caDer).getExtension(x509.AuthorityKeyIdentifierExtension)).toBeNull();
  });

  it('encodes dates from 2050 on as GeneralizedTime', () => {
    const key = p256();
    const name = { commonName: 'far' };
    const der = createCertificate({ subject: name, publicKey: key, notBefore: NOW, notAfter: new Date('2060-06-01T12:00:00Z'), isCA: true }, { name, privateKey: key });
    expect(new Date(new X509Certificate(der).validTo).toISOString()).toBe('2060-06-01T12:00:00.000Z');
    expect(der.includes(Buffer.from('20600601120000Z'))).toBe(true);
  });
});

describe.skipIf(!hasOpenssl)('createCertificate, read back by openssl', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'knode-lite-cert-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('openssl x509 prints both certificates and verifies the chain', () => {
    const { caDer, leafDer } = makePair();
    writeFileSync(join(dir, 'ca.pem'), encodeCertificatePem(caDer));
    writeFileSync(join(dir, 'leaf.pem'), encodeCertificatePem(leafDer));
    const caText = execFileSync('openssl', ['x509', '-in', join(dir, 'ca.pem'), '-noout', '-text'], { encoding: 'utf8' });
    expect(caText).toMatch(/Signature Algorithm: ecdsa-with-SHA256/);
    expect(caText).toMatch(/X509v3 Basic Constraints: critical\s+CA:TRUE/);
    expect(caText).toMatch(/X509v3 Key Usage: critical\s+Digital Signature, Certificate Sign, CRL Sign/);
    expect(caText).toMatch(/X509v3 Subject Key Identifier:/);
    expect(caText).toMatch(/NIST CURVE: P-256/);
    const leafText = execFileSync('openssl', ['x509', '-in', join(dir, 'leaf.pem'), '-noout', '-text'], { encoding: 'utf8' });
    expect(leafText).toMatch(/X509v3 Basic Constraints: critical\s+CA:FALSE/);
    expect(leafText).toMatch(/X509v3 Key Usage: critical\s+Digital Signature, Key Encipherment/);
    expect(leafText).toMatch(/X509v3 Extended Key Usage:\s+TLS Web Server Authentication/);
    expect(leafText).toMatch(/DNS:node-a, DNS:node-a.example, IP Address:10.0.0.11, IP Address:FD00:0:0:0:0:0:0:11/);
    expect(leafText).toMatch(/X509v3 Authority Key Identifier:/);
    expect(leafText).toMatch(/Version: 3 \(0x2\)/);
    // strict DER parse of the whole structure
    execFileSync('openssl', ['asn1parse', '-in', join(dir, 'leaf.pem'), '-strictpem'], { stdio: 'ignore' });
    const verified = execFileSync('openssl', ['verify', '-attime', String(NOW.getTime() / 1000), '-CAfile', join(dir, 'ca.pem'), '-purpose', 'sslserver', join(dir, 'leaf.pem')], { encoding: 'utf8' });
    expect(verified.trim()).toBe(`${join(dir, 'leaf.pem')}: OK`);
  });
});

describe('checks', () => {
  it('refuses keys other than EC P-256', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey;
    const p384 = generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).privateKey;
    const name = { commonName: 'x' };
    const spec = { subject: name, notBefore: NOW, notAfter: new Date(NOW.getTime() + DAY) };
    expect(() => createCertificate({ ...spec, publicKey: rsa }, { name, privateKey: p256() })).toThrow(UnsupportedKeyError);
    expect(() => createCertificate({ ...spec, publicKey: p256() }, { name, privateKey: p384 })).toThrow(UnsupportedKeyError);
    const pub = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey;
    expect(() => createCertificate({ ...spec, publicKey: p256() }, { name, privateKey: pub })).toThrow(UnsupportedKeyError);
  });

  it('refuses bad SANs and an inverted validity', () => {
    const key = p256();
    const name = { commonName: 'x' };
    const base = { subject: name, publicKey: key, notBefore: NOW, notAfter: new Date(NOW.getTime() + DAY) };
    expect(() => createCertificate({ ...base, dnsNames: ['not a name'] }, { name, privateKey: key })).toThrow(InvalidSanError);
    expect(() => createCertificate({ ...base, ips: ['10.0.0.256'] }, { name, privateKey: key })).toThrow(InvalidSanError);
    expect(() => createCertificate({ ...base, notAfter: new Date(NOW.getTime() - 1) }, { name, privateKey: key })).toThrow(RangeError);
  });

  it.each([
    ['10.0.0.1', '0a000001'],
    ['::1', '00000000000000000000000000000001'],
    ['fd00::11', 'fd000000000000000000000000000011'],
    ['2001:db8:0:0:1:0:0:1', '20010db8000000000001000000000001'],
    ['1::', '00010000000000000000000000000000'],
    ['::ffff:10.0.0.1', '00000000000000000000ffff0a000001'],
  ])('ipBytes(%s)', (ip, want) => {
    expect(ipBytes(ip).toString('hex')).toBe(want);
  });
});
