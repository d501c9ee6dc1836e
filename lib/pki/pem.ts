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
import { pemDecode, pemEncode, PEM_CERTIFICATE, PEM_PRIVATE_KEY } from './pem-text.js';
import { EC_P256, x509, type CryptoKey, type KeyPair } from './x509.js';

// The text codec lives in pem-text.ts, which the agent uses without loading @peculiar/x509.
export { pemDecode, pemDecodeAll, pemEncode, PEM_CERTIFICATE, PEM_CERTIFICATE_REQUEST, PEM_PRIVATE_KEY, type PemBlock } from './pem-text.js';

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
