/**
 * Issues the cluster's certificates: a self-signed CA, serving certificates (serverAuth + SANs) and
 * client certificates (clientAuth, CN = user, O = groups, which is how Kubernetes reads a client
 * certificate). All ECDSA P-256 / SHA-256, random 128-bit serials, notBefore one minute in the past
 * so a peer whose clock runs slightly behind still accepts a certificate we just made.
 *
 * Pure given the key pairs and `now`, apart from the random serial and ECDSA's random nonce; nothing
 * here touches the file system (see files.ts). Cost: one ECDSA signature (~0.1 ms) per certificate,
 * plus key generation when the caller does not supply keys.
 */
import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { InvalidSanError } from './errors.js';
import { decodeCertificatePem, decodePrivateKeyPem, encodeCertificatePem, encodePrivateKeyPem, generateKeyPair } from './pem.js';
import { CA_VALIDITY_DAYS, isDnsName, LEAF_VALIDITY_DAYS, validityWindow } from './policy.js';
import { ECDSA_SHA256, x509, type CryptoKey, type KeyPair } from './x509.js';

export { CA_VALIDITY_DAYS, CLOCK_SKEW_MS, isDnsName, LEAF_VALIDITY_DAYS, validityWindow } from './policy.js';

/** A certificate and the key pair of its subject. A CA is one whose certificate may sign others. */
export interface CertKeyPair {
  readonly cert: x509.X509Certificate;
  readonly keys: KeyPair;
}
export type CertificateAuthority = CertKeyPair;

export interface IssueOptions {
  /** Issue time; defaults to the current time. */
  readonly now?: Date;
  /** Subject key pair; a fresh P-256 pair is generated when omitted. */
  readonly keys?: KeyPair;
  /** Defaults to CA_VALIDITY_DAYS for a CA and LEAF_VALIDITY_DAYS for the rest. */
  readonly validityDays?: number;
}

export interface SubjectSpec {
  readonly commonName: string;
  readonly organizations?: readonly string[];
}

export interface ServingCertSpec extends SubjectSpec {
  readonly ips: readonly string[];
  readonly dnsNames: readonly string[];
}

export interface ClientCertSpec extends SubjectSpec {
  readonly organizations: readonly string[];
}

/**
 * The distinguished name as Go's pkix.Name would emit it: one RDN per O, then CN. One attribute per
 * RDN keeps the encoding unambiguous for every reader.
 */
export function buildSubjectName(spec: SubjectSpec): x509.JsonName {
  return [...(spec.organizations ?? []).map((o) => ({ O: [o] })), { CN: [spec.commonName] }];
}

/** SAN entries for a serving certificate; throws InvalidSanError on anything that is neither IP nor DNS. */
export function buildSanEntries(ips: readonly string[], dnsNames: readonly string[]): x509.JsonGeneralName[] {
  const out: x509.JsonGeneralName[] = [];
  for (const ip of new Set(ips)) {
    if (isIP(ip) === 0) throw new InvalidSanError(ip);
    out.push({ type: 'ip', value: ip });
  }
  for (const dns of new Set(dnsNames)) {
    if (!isDnsName(dns)) throw new InvalidSanError(dns);
    out.push({ type: 'dns', value: dns });
  }
  return out;
}

/** 128 random bits as hex; the generator makes it a positive DER INTEGER (Go rejects negative serials). */
function randomSerial(): string {
  return randomBytes(16).toString('hex');
}

/**
 * The AuthorityKeyIdentifier for certificates signed by `ca`: copied from the CA's own
 * SubjectKeyIdentifier when it has one (a CA made elsewhere may use another key-id method), otherwise
 * computed from its key the way SubjectKeyIdentifier.create would.
 */
async function authorityKeyIdentifier(ca: CertificateAuthority): Promise<x509.AuthorityKeyIdentifierExtension> {
  const ski = ca.cert.getExtension(x509.SubjectKeyIdentifierExtension);
  if (ski !== null) return new x509.AuthorityKeyIdentifierExtension(ski.keyId);
  return x509.AuthorityKeyIdentifierExtension.create(ca.cert.publicKey);
}

export interface LeafParams {
  readonly subject: x509.JsonName | x509.Name;
  readonly publicKey: CryptoKey | x509.PublicKey;
  /** Extensions beyond basicConstraints and the authority key id, which every leaf gets. */
  readonly extensions: readonly x509.Extension[];
  readonly now: Date;
  readonly validityDays: number;
}

/** Signs a non-CA certificate with the CA key. Shared by the helpers below and by signCSR. */
export async function signLeaf(ca: CertificateAuthority, p: LeafParams): Promise<x509.X509Certificate> {
  return x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: p.subject,
    // The CA's parsed subject keeps its exact DER encoding, and Go matches issuer to CA by those bytes.
    issuer: ca.cert.subjectName,
    ...validityWindow(p.now, p.validityDays, ca.cert.notAfter),
    publicKey: p.publicKey,
    signingKey: ca.keys.privateKey,
    signingAlgorithm: ECDSA_SHA256,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      await authorityKeyIdentifier(ca),
      ...p.extensions,
    ],
  });
}

const LEAF_KEY_USAGE = x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment;

/** A self-signed CA: basicConstraints CA:true (critical), keyCertSign/cRLSign/digitalSignature, SKI. */
export async function createCA(commonName: string, opts: IssueOptions = {}): Promise<CertificateAuthority> {
  const keys = opts.keys ?? (await generateKeyPair());
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: buildSubjectName({ commonName }),
    ...validityWindow(opts.now ?? new Date(), opts.validityDays ?? CA_VALIDITY_DAYS),
    keys,
    signingAlgorithm: ECDSA_SHA256,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert, keys };
}

/** A TLS server certificate (extKeyUsage serverAuth) valid for the given IPs and DNS names. */
export async function createServingCert(
  ca: CertificateAuthority,
  spec: ServingCertSpec,
  opts: IssueOptions = {},
): Promise<CertKeyPair> {
  const sans = buildSanEntries(spec.ips, spec.dnsNames);
  const keys = opts.keys ?? (await generateKeyPair());
  const cert = await signLeaf(ca, {
    subject: buildSubjectName(spec),
    publicKey: keys.publicKey,
    now: opts.now ?? new Date(),
    validityDays: opts.validityDays ?? LEAF_VALIDITY_DAYS,
    extensions: [
      new x509.KeyUsagesExtension(LEAF_KEY_USAGE, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(sans),
    ],
  });
  return { cert, keys };
}

/** A TLS client certificate (extKeyUsage clientAuth): Kubernetes reads CN as the user, O as groups. */
export async function createClientCert(
  ca: CertificateAuthority,
  spec: ClientCertSpec,
  opts: IssueOptions = {},
): Promise<CertKeyPair> {
  const keys = opts.keys ?? (await generateKeyPair());
  const cert = await signLeaf(ca, {
    subject: buildSubjectName(spec),
    publicKey: keys.publicKey,
    now: opts.now ?? new Date(),
    validityDays: opts.validityDays ?? LEAF_VALIDITY_DAYS,
    extensions: [
      new x509.KeyUsagesExtension(LEAF_KEY_USAGE, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
    ],
  });
  return { cert, keys };
}

/** PEM text of a certificate and its PKCS#8 key, as written to disk and into kubeconfigs. */
export async function encodeCertKeyPair(pair: CertKeyPair): Promise<{ certPem: string; keyPem: string }> {
  return { certPem: encodeCertificatePem(pair.cert), keyPem: await encodePrivateKeyPem(pair.keys) };
}

/** The inverse of encodeCertKeyPair, e.g. to load the CA that signs kubelet CSRs. */
export async function decodeCertKeyPair(certPem: string, keyPem: string): Promise<CertKeyPair> {
  return { cert: decodeCertificatePem(certPem), keys: await decodePrivateKeyPem(keyPem) };
}
