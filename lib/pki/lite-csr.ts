/**
 * PKCS#10 certificate signing requests (RFC 2986) written with der.ts and signed with node:crypto: what
 * a kubelet sends for TLS bootstrap, without loading @peculiar/x509 (see lite-cert.ts for why). The
 * control plane reads and signs them with csr.ts (describeCSR, signCSR) and api/certificates.
 *
 *   CertificationRequest ::= SEQUENCE { certificationRequestInfo, signatureAlgorithm, signature BIT STRING }
 *   CertificationRequestInfo ::= SEQUENCE { version INTEGER (0), subject Name,
 *                                           subjectPKInfo, attributes [0] IMPLICIT SET OF Attribute }
 *
 * SANs travel as an extensionRequest attribute (PKCS#9) holding one subjectAltName extension.
 * Keys are EC P-256 KeyObjects; pure apart from ECDSA's random nonce. Cost: one signature.
 */
import type { KeyObject } from 'node:crypto';
import { bitString, implicit, integer, oid, sequence, set } from './der.js';
import { checkSans } from './policy.js';
import { ECDSA_SHA256_ALGORITHM, encodeName, encodeSubjectAltNames, extension, OID, signEcdsaSha256, subjectPublicKeyInfo } from './lite-cert.js';
import { pemEncode, PEM_CERTIFICATE_REQUEST } from './pem-text.js';

/** PKCS#9 extensionRequest. */
export const OID_EXTENSION_REQUEST = '1.2.840.113549.1.9.14';

export interface LiteCsrSubject {
  readonly commonName: string;
  readonly organizations?: readonly string[];
  readonly dnsNames?: readonly string[];
  readonly ips?: readonly string[];
}

/** The DER of a request for `subject`, signed with `privateKey` (whose public half it carries). */
export function createCsrDer(privateKey: KeyObject, subject: LiteCsrSubject): Buffer {
  const sans = checkSans(subject.ips ?? [], subject.dnsNames ?? []);
  const attributes: Buffer[] = [];
  if (sans.ips.length + sans.dnsNames.length > 0) {
    const extensions = sequence(extension(OID.subjectAltName, false, encodeSubjectAltNames(sans.ips, sans.dnsNames)));
    attributes.push(sequence(oid(OID_EXTENSION_REQUEST), set(extensions)));
  }
  const info = sequence(
    integer(0),
    encodeName(subject),
    subjectPublicKeyInfo(privateKey),
    // [0] IMPLICIT SET OF: the SET's elements in DER order, under the context tag
    implicit(0, Buffer.concat(attributes.sort(Buffer.compare)), true),
  );
  return sequence(info, ECDSA_SHA256_ALGORITHM, bitString(signEcdsaSha256(info, privateKey)));
}

/** The request as PEM (`-----BEGIN CERTIFICATE REQUEST-----`), as spec.request of a CertificateSigningRequest wants it. */
export function createCsrPem(privateKey: KeyObject, subject: LiteCsrSubject): string {
  return pemEncode(PEM_CERTIFICATE_REQUEST, createCsrDer(privateKey, subject));
}
