import { spawnSync, execFileSync } from 'node:child_process';
import { createPublicKey, generateKeyPairSync, X509Certificate, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCsrPem } from '../../api/certificates/csr-request.js';
import { createCA } from './certs.js';
import { describeCSR, signCSR } from './csr.js';
import { InvalidCsrError, InvalidSanError, UnsupportedKeyError } from './errors.js';
import { createCsrDer, createCsrPem } from './lite-csr.js';
import { pemDecode, pemEncode, PEM_CERTIFICATE_REQUEST } from './pem-text.js';

const NOW = new Date('2026-03-01T00:00:00.000Z');
const p256 = (): KeyObject => generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
const KUBELET = { commonName: 'system:node:worker-1', organizations: ['system:nodes'] };

const hasOpenssl = spawnSync('openssl', ['version'], { stdio: 'ignore' }).status === 0;

describe('createCsrPem, read by the control plane', () => {
  it('describeCSR (csr.ts) verifies it and reads subject and SANs', async () => {
    const pem = createCsrPem(p256(), { ...KUBELET, dnsNames: ['worker-1'], ips: ['192.168.50.11', 'fd00::b'] });
    expect(pem.startsWith('-----BEGIN CERTIFICATE REQUEST-----\n')).toBe(true);
    expect(await describeCSR(pem)).toEqual({
      commonName: 'system:node:worker-1',
      organizations: ['system:nodes'],
      dnsNames: ['worker-1'],
      ips: ['192.168.50.11', 'fd00::b'],
      keyAlgorithm: 'ECDSA',
    });
  });

  it('passes the apiserver validation (api/certificates parseCsrPem)', () => {
    const parsed = parseCsrPem(createCsrPem(p256(), KUBELET));
    expect(parsed).toEqual({
      ok: true,
      csr: { commonName: 'system:node:worker-1', organizations: ['system:nodes'], dnsNames: [], ips: [], emails: [], uris: [], signatureAlgorithm: 'ECDSA' },
    });
  });

  it('is signed by signCSR (the bootstrap path) into a certificate for our key and name', async () => {
    const key = p256();
    const ca = await createCA('cluster-ca', { now: NOW });
    const certPem = await signCSR(ca, createCsrPem(key, KUBELET), { usages: ['digital signature', 'client auth'], now: NOW, validityDays: 30 });
    const cert = new X509Certificate(certPem);
    const caCert = new X509Certificate(ca.cert.toString('pem'));
    expect(cert.subject).toBe('O=system:nodes\nCN=system:node:worker-1');
    expect(cert.checkIssued(caCert)).toBe(true);
    expect(cert.verify(caCert.publicKey)).toBe(true);
    expect(cert.checkPrivateKey(key)).toBe(true);
    expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']);
  });

  it('keeps the requested SANs through signCSR', async () => {
    const ca = await createCA('cluster-ca', { now: NOW });
    const certPem = await signCSR(ca, createCsrPem(p256(), { commonName: 'system:node:w2', organizations: ['system:nodes'], dnsNames: ['w2'], ips: ['10.0.0.12'] }), {
      usages: ['digital signature', 'server auth'],
      now: NOW,
    });
    expect(new X509Certificate(certPem).subjectAltName).toBe('DNS:w2, IP Address:10.0.0.12');
  });

  it('a tampered request no longer verifies', async () => {
    const der = createCsrDer(p256(), { commonName: 'system:node:a', organizations: ['system:nodes'] });
    const at = der.indexOf(Buffer.from('system:node:a'));
    der[at + 12] = 'b'.charCodeAt(0);
    await expect(describeCSR(pemEncode(PEM_CERTIFICATE_REQUEST, der))).rejects.toThrow(InvalidCsrError);
  });

  it('carries the public half of the signing key', () => {
    const key = p256();
    const der = pemDecode(createCsrPem(key, KUBELET), PEM_CERTIFICATE_REQUEST);
    const spki = createPublicKey(key).export({ format: 'der', type: 'spki' });
    expect(der.includes(spki)).toBe(true);
  });

  it('refuses other keys and bad SANs', () => {
    expect(() => createCsrPem(generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).privateKey, KUBELET)).toThrow(UnsupportedKeyError);
    expect(() => createCsrPem(p256(), { ...KUBELET, ips: ['300.1.1.1'] })).toThrow(InvalidSanError);
  });
});

describe.skipIf(!hasOpenssl)('createCsrPem, read by openssl req', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'knode-lite-csr-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  const opensslReq = (pem: string): { text: string; stderr: string } => {
    const path = join(dir, 'csr.pem');
    writeFileSync(path, pem);
    const r = spawnSync('openssl', ['req', '-in', path, '-noout', '-verify', '-text'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    return { text: r.stdout, stderr: r.stderr };
  };

  it('verifies the self-signature and shows the subject and requested SANs', () => {
    const { text, stderr } = opensslReq(createCsrPem(p256(), { ...KUBELET, dnsNames: ['worker-1'], ips: ['192.168.50.11'] }));
    expect(`${stderr}${text}`).toMatch(/verify OK/);
    expect(text).toMatch(/Subject: O ?= ?system:nodes, CN ?= ?system:node:worker-1/);
    expect(text).toMatch(/Version: 1 \(0x0\)/);
    expect(text).toMatch(/NIST CURVE: P-256/);
    expect(text).toMatch(/Requested Extensions:\s+X509v3 Subject Alternative Name:\s+DNS:worker-1, IP Address:192.168.50.11/);
    expect(text).toMatch(/Signature Algorithm: ecdsa-with-SHA256/);
  });

  it('accepts a request without attributes', () => {
    const { text, stderr } = opensslReq(createCsrPem(p256(), KUBELET));
    expect(`${stderr}${text}`).toMatch(/verify OK/);
    expect(text).toMatch(/Attributes:\s+\(none\)/);
    expect(text).not.toMatch(/Subject Alternative Name/);
    execFileSync('openssl', ['asn1parse', '-in', join(dir, 'csr.pem')], { stdio: 'ignore' });
  });
});
