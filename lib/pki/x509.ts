/**
 * The one place that loads @peculiar/x509. Its dependency-injection container (tsyringe) needs the
 * Reflect metadata polyfill installed before the library is evaluated, and ESM evaluates imports in
 * source order, so the polyfill import must stay first. We also pin the library to Node's webcrypto
 * instead of whatever global it would probe for.
 *
 * The library's type declarations refer to DOM globals (`Crypto`, `CryptoKey`) that @types/node does
 * not declare; with skipLibCheck they degrade to `any`, so code in lib/pki uses `webcrypto.*` types
 * from node:crypto at its own boundaries.
 */
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto);

export { x509 };
export type KeyPair = webcrypto.CryptoKeyPair;
export type CryptoKey = webcrypto.CryptoKey;

/** ECDSA over P-256 with SHA-256: accepted by Go's crypto/tls (kubectl), OpenSSL (Node) and browsers. */
export const EC_P256: webcrypto.EcKeyGenParams = { name: 'ECDSA', namedCurve: 'P-256' };
export const ECDSA_SHA256: webcrypto.EcdsaParams = { name: 'ECDSA', hash: 'SHA-256' };
