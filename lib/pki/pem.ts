/**
 * PEM text <-> DER bytes, certificates and PKCS#8 private keys.
 *
 * Keys are written as PKCS#8 (`-----BEGIN PRIVATE KEY-----`), which Go's tls.X509KeyPair, OpenSSL and
 * kubectl all accept for EC keys. On reading we also accept SEC1 (`-----BEGIN EC PRIVATE KEY-----`), the
 * form openssl and cfssl write, by going through Node's KeyObject, which understands both.
 * Cost: microseconds per block; key import/export goes through webcrypto and is therefore async.
 */
import { createPrivateKey, createPublicKey, webcrypto } from 'node:crypto';
import { InvalidPemError, UnsupportedKeyError } from './errors.js';
import { EC_P256, x509, type CryptoKey, type KeyPair } from './x509.js';

export const PEM_CERTIFICATE = 'CERTIFICATE';
export const PEM_PRIVATE_KEY = 'PRIVATE KEY';
export const PEM_CERTIFICATE_REQUEST = 'CERTIFICATE REQUEST';

export interface PemBlock {
  readonly label: string;
  readonly der: Buffer;
}

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/g;

/** Encodes DER bytes as one PEM block: base64 in 64-column lines, with a trailing newline. */
export function pemEncode(label: string, der: ArrayBuffer | Uint8Array): string {
  const b64 = Buffer.from(der instanceof Uint8Array ? der : new Uint8Array(der)).toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** Every PEM block in `text`, in order. Text between blocks (comments, openssl dumps) is ignored. */
export function pemDecodeAll(text: string): PemBlock[] {
  const blocks: PemBlock[] = [];
  for (const m of text.matchAll(BLOCK)) {
    const label = m[1] ?? '';
    const body = (m[2] ?? '').replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body)) throw new InvalidPemError(label, 'body is not base64');
    blocks.push({ label, der: Buffer.from(body, 'base64') });
  }
  return blocks;
}

/** The DER bytes of the first block labelled `label`; throws InvalidPemError when there is none. */
export function pemDecode(text: string, label: string): Buffer {
  const block = pemDecodeAll(text).find((b) => b.label === label);
  if (block === undefined || block.der.length === 0) throw new InvalidPemError(label, 'no such block found');
  return block.der;
}

export function encodeCertificatePem(cert: x509.X509Certificate): string {
  return pemEncode(PEM_CERTIFICATE, cert.rawData);
}

/** Parses the first certificate in `pem` (a bundle may hold more; the leaf comes first by convention). */
export function decodeCertificatePem(pem: string): x509.X509Certificate {
  const der = pemDecode(pem, PEM_CERTIFICATE);
  try {
    return new x509.X509Certificate(der);
  } catch (err) {
    throw new InvalidPemError(PEM_CERTIFICATE, 'not a valid X.509 certificate', { cause: err });
  }
}

/** A fresh, extractable ECDSA P-256 key pair (extractable so the private key can be written to disk). */
export async function generateKeyPair(): Promise<KeyPair> {
  return webcrypto.subtle.generateKey(EC_P256, true, ['sign', 'verify']);
}

/** PKCS#8 PEM of a private key (or of the private half of a pair). */
export async function encodePrivateKeyPem(key: KeyPair | CryptoKey): Promise<string> {
  const priv = 'privateKey' in key ? key.privateKey : key;
  const der = await webcrypto.subtle.exportKey('pkcs8', priv);
  return pemEncode(PEM_PRIVATE_KEY, der);
}

/**
 * Decodes a PKCS#8 or SEC1 EC P-256 private key and derives its public half, so callers that load a
 * CA from disk get the same KeyPair shape as callers that just generated one.
 */
export async function decodePrivateKeyPem(pem: string): Promise<KeyPair> {
  let keyObject;
  try {
    keyObject = createPrivateKey({ key: pem, format: 'pem' });
  } catch (err) {
    throw new InvalidPemError(PEM_PRIVATE_KEY, 'not a readable private key', { cause: err });
  }
  const curve = keyObject.asymmetricKeyDetails?.namedCurve;
  if (keyObject.asymmetricKeyType !== 'ec' || curve !== 'prime256v1') {
    throw new UnsupportedKeyError(`want an EC P-256 key, got ${keyObject.asymmetricKeyType ?? 'unknown'} ${curve ?? ''}`.trim());
  }
  const pkcs8 = keyObject.export({ format: 'der', type: 'pkcs8' });
  const spki = createPublicKey(keyObject).export({ format: 'der', type: 'spki' });
  const [privateKey, publicKey] = await Promise.all([
    webcrypto.subtle.importKey('pkcs8', pkcs8, EC_P256, true, ['sign']),
    webcrypto.subtle.importKey('spki', spki, EC_P256, true, ['verify']),
  ]);
  return { privateKey, publicKey };
}
