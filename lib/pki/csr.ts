/**
 * PKCS#10 certificate signing requests: what a kubelet sends (createCSR) and what the control plane's
 * signer does with an approved one (signCSR). The usage names are those of certificates.k8s.io/v1
 * (`digital signature`, `client auth`, ...), so a CertificateSigningRequest's spec.usages can be
 * passed through unchanged.
 *
 * The signer copies the subject (byte for byte) and the SANs from the request, and takes every other
 * property from the caller: the request cannot ask to be a CA, choose its validity or add extensions.
 * Cost: one signature verification plus one signature.
 */
import { isIP } from 'node:net';
import { buildSanEntries, buildSubjectName, LEAF_VALIDITY_DAYS, signLeaf, type CertificateAuthority } from './certs.js';
import { InvalidCsrError, UnknownUsageError } from './errors.js';
import { encodeCertificatePem, pemDecode, pemEncode, PEM_CERTIFICATE_REQUEST } from './pem.js';
import { ECDSA_SHA256, x509, type KeyPair } from './x509.js';

/** certificates.k8s.io/v1 KeyUsage values. */
export type CertificateUsage =
  | 'signing'
  | 'digital signature'
  | 'content commitment'
  | 'key encipherment'
  | 'key agreement'
  | 'data encipherment'
  | 'cert sign'
  | 'crl sign'
  | 'encipher only'
  | 'decipher only'
  | 'any'
  | 'server auth'
  | 'client auth'
  | 'code signing'
  | 'email protection'
  | 's/mime'
  | 'ipsec end system'
  | 'ipsec tunnel'
  | 'ipsec user'
  | 'timestamping'
  | 'ocsp signing'
  | 'microsoft sgc'
  | 'netscape sgc';

const F = x509.KeyUsageFlags;
const KEY_USAGE: Readonly<Record<string, number>> = {
  signing: F.digitalSignature,
  'digital signature': F.digitalSignature,
  'content commitment': F.nonRepudiation,
  'key encipherment': F.keyEncipherment,
  'key agreement': F.keyAgreement,
  'data encipherment': F.dataEncipherment,
  'cert sign': F.keyCertSign,
  'crl sign': F.cRLSign,
  'encipher only': F.encipherOnly,
  'decipher only': F.decipherOnly,
};

const EXT_KEY_USAGE: Readonly<Record<string, string>> = {
  any: '2.5.29.37.0',
  'server auth': '1.3.6.1.5.5.7.3.1',
  'client auth': '1.3.6.1.5.5.7.3.2',
  'code signing': '1.3.6.1.5.5.7.3.3',
  'email protection': '1.3.6.1.5.5.7.3.4',
  's/mime': '1.3.6.1.5.5.7.3.4',
  'ipsec end system': '1.3.6.1.5.5.7.3.5',
  'ipsec tunnel': '1.3.6.1.5.5.7.3.6',
  'ipsec user': '1.3.6.1.5.5.7.3.7',
  timestamping: '1.3.6.1.5.5.7.3.8',
  'ocsp signing': '1.3.6.1.5.5.7.3.9',
  'microsoft sgc': '1.3.6.1.4.1.311.10.3.3',
  'netscape sgc': '2.16.840.1.113730.4.1',
};

/** The keyUsage bits and extKeyUsage OIDs for a list of usage names; throws UnknownUsageError. */
export function resolveUsages(usages: readonly string[]): { keyUsage: number; extKeyUsages: string[] } {
  let keyUsage = 0;
  const extKeyUsages: string[] = [];
  for (const u of usages) {
    const bit = KEY_USAGE[u];
    const oid = EXT_KEY_USAGE[u];
    if (bit !== undefined) keyUsage |= bit;
    else if (oid !== undefined) {
      if (!extKeyUsages.includes(oid)) extKeyUsages.push(oid);
    } else throw new UnknownUsageError(u);
  }
  return { keyUsage, extKeyUsages };
}

export interface CsrSubject {
  readonly commonName: string;
  readonly organizations?: readonly string[];
  readonly dnsNames?: readonly string[];
  readonly ips?: readonly string[];
}

/** A PEM CSR for `subject`, signed with `keys` (the kubelet keeps the private key to itself). */
export async function createCSR(keys: KeyPair, subject: CsrSubject): Promise<string> {
  const sans = buildSanEntries(subject.ips ?? [], subject.dnsNames ?? []);
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: buildSubjectName(subject),
    keys,
    signingAlgorithm: ECDSA_SHA256,
    extensions: sans.length > 0 ? [new x509.SubjectAlternativeNameExtension(sans)] : [],
  });
  return pemEncode(PEM_CERTIFICATE_REQUEST, csr.rawData);
}

/** What a CSR asks for, as an approver needs to see it (e.g. CN `system:node:<name>`, O `system:nodes`). */
export interface CsrInfo {
  readonly commonName: string;
  readonly organizations: readonly string[];
  readonly dnsNames: readonly string[];
  readonly ips: readonly string[];
  /** `ECDSA` or `RSASSA-PKCS1-v1_5` etc., as webcrypto names the request's key algorithm. */
  readonly keyAlgorithm: string;
}

interface ParsedCsr {
  readonly csr: x509.Pkcs10CertificateRequest;
  readonly san: x509.SubjectAlternativeNameExtension | undefined;
}

async function parseAndVerify(csrPem: string): Promise<ParsedCsr> {
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(pemDecode(csrPem, PEM_CERTIFICATE_REQUEST));
  } catch (err) {
    throw new InvalidCsrError('not a PKCS#10 request', { cause: err });
  }
  let valid: boolean;
  try {
    valid = await csr.verify();
  } catch (err) {
    throw new InvalidCsrError('signature cannot be checked', { cause: err });
  }
  if (!valid) throw new InvalidCsrError('signature does not match the public key');
  const san = csr.extensions.find((e): e is x509.SubjectAlternativeNameExtension => e instanceof x509.SubjectAlternativeNameExtension);
  return { csr, san };
}

/** Parses a CSR and checks its self-signature; throws InvalidCsrError when either fails. */
export async function describeCSR(csrPem: string): Promise<CsrInfo> {
  const { csr, san } = await parseAndVerify(csrPem);
  const names = san?.names.items ?? [];
  return {
    commonName: csr.subjectName.getField('CN')[0] ?? '',
    organizations: csr.subjectName.getField('O'),
    dnsNames: names.filter((n) => n.type === 'dns').map((n) => n.value),
    ips: names.filter((n) => n.type === 'ip' && isIP(n.value) !== 0).map((n) => n.value),
    keyAlgorithm: csr.publicKey.algorithm.name,
  };
}

export interface SignCsrOptions {
  readonly usages: readonly string[];
  readonly validityDays?: number;
  readonly now?: Date;
}

/** Issues a certificate (PEM) for a CSR. Usage names are validated before anything is signed. */
export async function signCSR(ca: CertificateAuthority, csrPem: string, opts: SignCsrOptions): Promise<string> {
  const { keyUsage, extKeyUsages } = resolveUsages(opts.usages);
  const { csr, san } = await parseAndVerify(csrPem);
  const extensions: x509.Extension[] = [];
  if (keyUsage !== 0) extensions.push(new x509.KeyUsagesExtension(keyUsage, true));
  if (extKeyUsages.length > 0) extensions.push(new x509.ExtendedKeyUsageExtension(extKeyUsages));
  if (san !== undefined && san.names.items.length > 0) {
    extensions.push(new x509.SubjectAlternativeNameExtension(san.names.toJSON()));
  }
  const cert = await signLeaf(ca, {
    subject: csr.subjectName,
    publicKey: csr.publicKey,
    now: opts.now ?? new Date(),
    validityDays: opts.validityDays ?? LEAF_VALIDITY_DAYS,
    extensions,
  });
  return encodeCertificatePem(cert);
}
