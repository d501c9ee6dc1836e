/**
 * X.509 v3 certificates (RFC 5280) written with der.ts and signed with node:crypto: what the agent
 * needs for its self-signed kubelet serving CA and leaf, without @peculiar/x509 and reflect-metadata
 * (~18 MiB of RSS in a process that should stay under 100 MB). The control plane keeps certs.ts.
 *
 * Scope: ECDSA P-256 keys as node:crypto KeyObjects, signatures ecdsa-with-SHA256; subject and issuer
 * are `O=...` RDNs then `CN=...` (as Go's pkix.Name and certs.ts write them), each a UTF8String, so
 * the issuer of a certificate matches its CA's subject byte for byte. Extensions: basicConstraints
 * (always, critical), keyUsage (critical), extKeyUsage, subjectAltName (DNS names and IPs),
 * subjectKeyIdentifier on CAs and authorityKeyIdentifier on anything not self-signed, as Go does.
 * Key identifiers are the SHA-1 of the public key bits (RFC 5280 4.2.1.2, method 1).
 *
 * Pure apart from the random serial and ECDSA's random nonce. Cost: one ECDSA signature (~0.1 ms).
 */
import { createHash, createPublicKey, type KeyObject, randomBytes, sign } from 'node:crypto';
import { isIP } from 'node:net';
import { bitString, boolean, explicit, implicit, integer, namedBits, octetString, oid, sequence, set, utf8String, x509Time } from './der.js';
import { UnsupportedKeyError } from './errors.js';
import { pemEncode, PEM_CERTIFICATE } from './pem-text.js';
import { checkSans } from './policy.js';

export const OID = {
  commonName: '2.5.4.3',
  organizationName: '2.5.4.10',
  ecdsaWithSHA256: '1.2.840.10045.4.3.2',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
} as const;

/** keyUsage bit numbers (RFC 5280 4.2.1.3). */
export const KEY_USAGE_BITS = {
  digitalSignature: 0,
  nonRepudiation: 1,
  keyEncipherment: 2,
  dataEncipherment: 3,
  keyAgreement: 4,
  keyCertSign: 5,
  cRLSign: 6,
  encipherOnly: 7,
  decipherOnly: 8,
} as const;
export type KeyUsage = keyof typeof KEY_USAGE_BITS;

export interface DistinguishedName {
  readonly commonName: string;
  readonly organizations?: readonly string[];
}

/** Name: one RDN per organization, then the common name, one attribute per RDN. */
export function encodeName(name: DistinguishedName): Buffer {
  // a RelativeDistinguishedName: a SET OF one AttributeTypeAndValue
  const rdn = (type: string, value: string): Buffer => set(sequence(oid(type), utf8String(value)));
  return sequence(...(name.organizations ?? []).map((o) => rdn(OID.organizationName, o)), rdn(OID.commonName, name.commonName));
}

/** The 4 or 16 bytes of an IP address, as an iPAddress GeneralName carries them. */
export function ipBytes(ip: string): Buffer {
  const family = isIP(ip);
  if (family === 4) return Buffer.from(ip.split('.').map(Number));
  if (family !== 6 || ip.includes('%')) throw new RangeError(`not an IP address: ${ip}`);
  const groups = (part: string): number[] =>
    part === ''
      ? []
      : part.split(':').flatMap((g) => {
          if (!g.includes('.')) return [parseInt(g, 16)];
          const [a = 0, b = 0, c = 0, d = 0] = g.split('.').map(Number); // trailing embedded IPv4
          return [(a << 8) | b, (c << 8) | d];
        });
  const [head = '', tail] = ip.split('::');
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  const all = tail === undefined ? left : [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
  const out = Buffer.alloc(16);
  all.forEach((g, i) => out.writeUInt16BE(g, i * 2));
  return out;
}

/** GeneralNames for subjectAltName: dNSName [2] and iPAddress [7]. */
export function encodeSubjectAltNames(ips: readonly string[], dnsNames: readonly string[]): Buffer {
  return sequence(...dnsNames.map((d) => implicit(2, Buffer.from(d, 'ascii'))), ...ips.map((ip) => implicit(7, ipBytes(ip))));
}

/** Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }. */
export function extension(id: string, critical: boolean, value: Uint8Array): Buffer {
  return critical ? sequence(oid(id), boolean(true), octetString(value)) : sequence(oid(id), octetString(value));
}

/** ecdsa-with-SHA256 takes no parameters (RFC 5758 3.2). */
export const ECDSA_SHA256_ALGORITHM: Buffer = sequence(oid(OID.ecdsaWithSHA256));

/** Throws UnsupportedKeyError unless `key` is an EC P-256 key; returns its public half. */
export function p256PublicKey(key: KeyObject): KeyObject {
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (key.type === 'secret' || key.asymmetricKeyType !== 'ec' || curve !== 'prime256v1') {
    throw new UnsupportedKeyError(`want an EC P-256 key, got ${key.asymmetricKeyType ?? key.type} ${curve ?? ''}`.trim());
  }
  return key.type === 'private' ? createPublicKey(key) : key;
}

/** SubjectPublicKeyInfo DER of a P-256 key (either half). */
export function subjectPublicKeyInfo(key: KeyObject): Buffer {
  return p256PublicKey(key).export({ format: 'der', type: 'spki' });
}

/** SHA-1 of the uncompressed EC point, i.e. of the subjectPublicKey BIT STRING's bits. */
export function keyIdentifier(key: KeyObject): Buffer {
  const jwk = p256PublicKey(key).export({ format: 'jwk' });
  const point = Buffer.concat([Buffer.from([0x04]), Buffer.from(jwk.x ?? '', 'base64url'), Buffer.from(jwk.y ?? '', 'base64url')]);
  return createHash('sha1').update(point).digest();
}

/** An ECDSA P-256 / SHA-256 signature over `data`, DER-encoded (Ecdsa-Sig-Value) as X.509 and PKCS#10 want it. */
export function signEcdsaSha256(data: Uint8Array, privateKey: KeyObject): Buffer {
  p256PublicKey(privateKey);
  if (privateKey.type !== 'private') throw new UnsupportedKeyError('a private key is needed to sign');
  return sign('sha256', data, { key: privateKey, dsaEncoding: 'der' });
}

/** 128 random bits with the top bit clear: a positive 16-byte INTEGER (Go rejects negative serials). */
export function randomSerial(): Buffer {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  if (bytes.every((b) => b === 0)) bytes[15] = 1; // a zero serial is not allowed either
  return bytes;
}

export interface CertificateSpec {
  readonly subject: DistinguishedName;
  /** The subject's key (the public half is taken when a private key is given). */
  readonly publicKey: KeyObject;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** Unsigned big-endian; random (randomSerial) when omitted. */
  readonly serialNumber?: Uint8Array;
  /** basicConstraints cA; CAs also get a subjectKeyIdentifier. */
  readonly isCA?: boolean;
  readonly keyUsage?: readonly KeyUsage[];
  /** extKeyUsage OIDs, e.g. OID.serverAuth. */
  readonly extKeyUsage?: readonly string[];
  readonly dnsNames?: readonly string[];
  readonly ips?: readonly string[];
}

export interface CertificateSigner {
  /** The issuer's subject, encoded exactly as in its own certificate (the same DistinguishedName). */
  readonly name: DistinguishedName;
  readonly privateKey: KeyObject;
}

/**
 * The DER of a certificate for `spec` signed by `signer`. It is self-signed when the signer's key is
 * the subject's key (then `signer.name` should be `spec.subject`). Throws InvalidSanError on a bad SAN
 * and UnsupportedKeyError for keys other than EC P-256.
 */
export function createCertificate(spec: CertificateSpec, signer: CertificateSigner): Buffer {
  if (spec.notAfter.getTime() < spec.notBefore.getTime()) throw new RangeError('notAfter is before notBefore');
  const subjectKeyId = keyIdentifier(spec.publicKey);
  const issuerKeyId = keyIdentifier(signer.privateKey);
  const selfSigned = subjectKeyId.equals(issuerKeyId);

  const extensions: Buffer[] = [extension(OID.basicConstraints, true, spec.isCA === true ? sequence(boolean(true)) : sequence())];
  if (spec.keyUsage !== undefined && spec.keyUsage.length > 0) {
    extensions.push(extension(OID.keyUsage, true, namedBits(spec.keyUsage.map((u) => KEY_USAGE_BITS[u]))));
  }
  if (spec.extKeyUsage !== undefined && spec.extKeyUsage.length > 0) {
    extensions.push(extension(OID.extKeyUsage, false, sequence(...spec.extKeyUsage.map((id) => oid(id)))));
  }
  const sans = checkSans(spec.ips ?? [], spec.dnsNames ?? []);
  if (sans.ips.length + sans.dnsNames.length > 0) {
    extensions.push(extension(OID.subjectAltName, false, encodeSubjectAltNames(sans.ips, sans.dnsNames)));
  }
  if (spec.isCA === true) extensions.push(extension(OID.subjectKeyIdentifier, false, octetString(subjectKeyId)));
  if (!selfSigned) extensions.push(extension(OID.authorityKeyIdentifier, false, sequence(implicit(0, issuerKeyId))));

  const tbs = sequence(
    explicit(0, integer(2)), // version v3
    integer(spec.serialNumber ?? randomSerial()),
    ECDSA_SHA256_ALGORITHM,
    encodeName(signer.name),
    sequence(x509Time(spec.notBefore), x509Time(spec.notAfter)),
    encodeName(spec.subject),
    subjectPublicKeyInfo(spec.publicKey),
    explicit(3, sequence(...extensions)),
  );
  return sequence(tbs, ECDSA_SHA256_ALGORITHM, bitString(signEcdsaSha256(tbs, signer.privateKey)));
}

export function encodeCertificatePem(der: Uint8Array): string {
  return pemEncode(PEM_CERTIFICATE, der);
}
