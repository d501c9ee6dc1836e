import { generateKeyPairSync, webcrypto } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createCA } from './certs.js';
import { InvalidPemError, UnsupportedKeyError } from './errors.js';
import {
  decodeCertificatePem,
  decodePrivateKeyPem,
  encodeCertificatePem,
  encodePrivateKeyPem,
  generateKeyPair,
  pemDecode,
  pemDecodeAll,
  pemEncode,
} from './pem.js';
import { ECDSA_SHA256, type KeyPair } from './x509.js';

async function signsAndVerifies(signer: KeyPair, verifier: KeyPair): Promise<boolean> {
  const data = Buffer.from('knode');
  const sig = await webcrypto.subtle.sign(ECDSA_SHA256, signer.privateKey, data);
  return webcrypto.subtle.verify(ECDSA_SHA256, verifier.publicKey, sig, data);
}

describe('pemEncode / pemDecode', () => {
  it('wraps base64 at 64 columns between BEGIN/END lines and ends with a newline', () => {
    const der = Buffer.alloc(100, 7);
    const pem = pemEncode('THING', der);
    const lines = pem.trimEnd().split('\n');
    expect(lines[0]).toBe('-----BEGIN THING-----');
    expect(lines.at(-1)).toBe('-----END THING-----');
    expect(lines.slice(1, -1).map((l) => l.length)).toEqual([64, 64, 8]);
    expect(pem.endsWith('\n')).toBe(true);
    expect(pemDecode(pem, 'THING')).toEqual(der);
  });

  it('finds every block in a bundle, ignoring text between them and CRLF line ends', () => {
    const text = `comment\r\n${pemEncode('A', Buffer.from([1])).replace(/\n/g, '\r\n')}junk\n${pemEncode('B', Buffer.from([2, 3]))}`;
    expect(pemDecodeAll(text).map((b) => [b.label, [...b.der]])).toEqual([
      ['A', [1]],
      ['B', [2, 3]],
    ]);
  });

  it.each([
    ['no block at all', 'hello'],
    ['a block of another label', pemEncode('OTHER', Buffer.from([1]))],
    ['an empty block', '-----BEGIN THING-----\n-----END THING-----\n'],
  ])('rejects %s', (_name, text) => {
    expect(() => pemDecode(text, 'THING')).toThrow(InvalidPemError);
  });

  it('rejects a body that is not base64', () => {
    expect(() => pemDecodeAll('-----BEGIN THING-----\n!!!!\n-----END THING-----\n')).toThrow(InvalidPemError);
  });
});

describe('certificates in PEM', () => {
  it('round-trips a certificate byte for byte', async () => {
    const ca = await createCA('round-trip');
    const pem = encodeCertificatePem(ca.cert);
    expect(pem.startsWith('-----BEGIN CERTIFICATE-----\n')).toBe(true);
    const back = decodeCertificatePem(pem);
    expect(Buffer.from(back.rawData)).toEqual(Buffer.from(ca.cert.rawData));
  });

  it('reports a CERTIFICATE block that is not X.509 as InvalidPemError with code ERR_PKI_INVALID_PEM', () => {
    const bogus = pemEncode('CERTIFICATE', Buffer.from([0x30, 0x03, 0x02, 0x01, 0x01]));
    expect(() => decodeCertificatePem(bogus)).toThrow(expect.objectContaining({ code: 'ERR_PKI_INVALID_PEM' }));
  });
});

describe('private keys in PEM', () => {
  it('writes PKCS#8 and reads back a pair that signs like the original', async () => {
    const keys = await generateKeyPair();
    const pem = await encodePrivateKeyPem(keys);
    expect(pem.startsWith('-----BEGIN PRIVATE KEY-----\n')).toBe(true);
    const back = await decodePrivateKeyPem(pem);
    expect(await signsAndVerifies(back, keys)).toBe(true);
    expect(await signsAndVerifies(keys, back)).toBe(true);
    expect(await encodePrivateKeyPem(back.privateKey)).toBe(pem);
  });

  it('accepts SEC1 "EC PRIVATE KEY" as openssl writes it', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const sec1 = privateKey.export({ format: 'pem', type: 'sec1' }).toString();
    expect(sec1).toContain('BEGIN EC PRIVATE KEY');
    const pair = await decodePrivateKeyPem(sec1);
    expect(await signsAndVerifies(pair, pair)).toBe(true);
  });

  it.each([
    ['an RSA key', () => generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey],
    ['a P-384 key', () => generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).privateKey],
  ])('refuses %s with UnsupportedKeyError', async (_name, make) => {
    const pem = make().export({ format: 'pem', type: 'pkcs8' }).toString();
    await expect(decodePrivateKeyPem(pem)).rejects.toThrow(UnsupportedKeyError);
  });

  it('refuses text that holds no key with InvalidPemError', async () => {
    await expect(decodePrivateKeyPem('not a key')).rejects.toThrow(InvalidPemError);
  });
});
