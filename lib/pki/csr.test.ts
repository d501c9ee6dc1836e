import { X509Certificate as NodeX509 } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createCA } from './certs.js';
import { createCSR, describeCSR, resolveUsages, signCSR } from './csr.js';
import { InvalidCsrError, UnknownUsageError } from './errors.js';
import { generateKeyPair, pemDecode, pemEncode, PEM_CERTIFICATE_REQUEST } from './pem.js';
import { x509 } from './x509.js';

const NOW = new Date('2026-03-01T00:00:00.000Z');
const DAY = 86_400_000;
const F = x509.KeyUsageFlags;

describe('createCSR / describeCSR', () => {
  it('round-trips the subject and SANs a kubelet asks for', async () => {
    const keys = await generateKeyPair();
    const pem = await createCSR(keys, {
      commonName: 'system:node:worker-1',
      organizations: ['system:nodes'],
      dnsNames: ['worker-1'],
      ips: ['192.168.50.11'],
    });
    expect(pem.startsWith('-----BEGIN CERTIFICATE REQUEST-----\n')).toBe(true);
    expect(await describeCSR(pem)).toEqual({
      commonName: 'system:node:worker-1',
      organizations: ['system:nodes'],
      dnsNames: ['worker-1'],
      ips: ['192.168.50.11'],
      keyAlgorithm: 'ECDSA',
    });
  });

  it('rejects a request whose signature does not match its content', async () => {
    const pem = await createCSR(await generateKeyPair(), { commonName: 'system:node:a', organizations: ['system:nodes'] });
    const der = Buffer.from(pemDecode(pem, PEM_CERTIFICATE_REQUEST));
    // Swap one character of the CN inside the signed part: still parses, no longer verifies.
    const at = der.indexOf(Buffer.from('system:node:a'));
    der[at + 12] = 'b'.charCodeAt(0);
    await expect(describeCSR(pemEncode(PEM_CERTIFICATE_REQUEST, der))).rejects.toThrow(InvalidCsrError);
  });

  it('rejects text that is not a request', async () => {
    await expect(describeCSR(pemEncode(PEM_CERTIFICATE_REQUEST, Buffer.from([0x30, 0x00])))).rejects.toThrow(
      expect.objectContaining({ code: 'ERR_PKI_INVALID_CSR' }),
    );
  });
});

describe('signCSR', () => {
  it('issues a kubelet client certificate with the requested subject, key and usages', async () => {
    const ca = await createCA('test-ca', { now: NOW });
    const keys = await generateKeyPair();
    const csr = await createCSR(keys, { commonName: 'system:node:worker-1', organizations: ['system:nodes'] });
    const pem = await signCSR(ca, csr, {
      usages: ['digital signature', 'key encipherment', 'client auth'],
      validityDays: 30,
      now: NOW,
    });
    const n = new NodeX509(pem);
    const caNode = new NodeX509(ca.cert.toString('pem'));
    expect(n.checkIssued(caNode)).toBe(true);
    expect(n.verify(caNode.publicKey)).toBe(true);
    expect(n.subject).toBe('O=system:nodes\nCN=system:node:worker-1');
    expect(n.ca).toBe(false);
    expect(n.keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']);
    expect(new Date(n.validTo).getTime()).toBe(NOW.getTime() + 30 * DAY);
    const spki = Buffer.from(await crypto.subtle.exportKey('spki', keys.publicKey));
    expect(n.publicKey.export({ type: 'spki', format: 'der' })).toEqual(spki);
    const cert = new x509.X509Certificate(pem);
    expect(cert.getExtension(x509.KeyUsagesExtension)?.usages).toBe(F.digitalSignature | F.keyEncipherment);
  });

  it('copies the SANs of a serving request', async () => {
    const ca = await createCA('test-ca');
    const csr = await createCSR(await generateKeyPair(), {
      commonName: 'system:node:worker-1',
      organizations: ['system:nodes'],
      dnsNames: ['worker-1'],
      ips: ['192.168.50.11'],
    });
    const n = new NodeX509(await signCSR(ca, csr, { usages: ['digital signature', 'server auth'] }));
    expect(n.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
    expect(n.checkIP('192.168.50.11')).toBe('192.168.50.11');
    expect(n.checkHost('worker-1')).toBe('worker-1');
  });

  it('refuses an unknown usage', async () => {
    const ca = await createCA('test-ca');
    const csr = await createCSR(await generateKeyPair(), { commonName: 'x' });
    await expect(signCSR(ca, csr, { usages: ['client auth', 'world domination'] })).rejects.toThrow(UnknownUsageError);
  });
});

describe('resolveUsages', () => {
  it.each([
    [['digital signature', 'key encipherment', 'client auth'], F.digitalSignature | F.keyEncipherment, ['1.3.6.1.5.5.7.3.2']],
    [['signing', 'server auth', 'client auth'], F.digitalSignature, ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']],
    [['email protection', 's/mime'], 0, ['1.3.6.1.5.5.7.3.4']],
    [['cert sign', 'crl sign'], F.keyCertSign | F.cRLSign, []],
    [[], 0, []],
  ])('maps %j to key usage %i and ext key usages %j', (usages, keyUsage, ext) => {
    expect(resolveUsages(usages)).toEqual({ keyUsage, extKeyUsages: ext });
  });
});
