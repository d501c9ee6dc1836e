/**
 * Synchronous checks of the PEM in a CertificateSigningRequest: the request must be one PKCS#10 block
 * whose self-signature verifies (upstream's validateCSR), and status.certificate must be one or more
 * CERTIFICATE blocks (upstream's validateCertificate). Validation in api/ is synchronous, while
 * @peculiar/x509's verify() is async (webcrypto), so the signature is checked with node:crypto over
 * the request's DER: the certificationRequestInfo is the first element of the outer SEQUENCE.
 *
 * Pure computation, no I/O. Cost: one ASN.1 parse and one signature verification per call.
 */
import { createPublicKey, verify as verifySignature, X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { pemDecodeAll, PEM_CERTIFICATE, PEM_CERTIFICATE_REQUEST } from '../../lib/pki/pem.js';
import { x509 } from '../../lib/pki/x509.js';

/** What an approver and a signer need to know about a request, after its signature was checked. */
export interface CsrContent {
  readonly commonName: string;
  readonly organizations: readonly string[];
  readonly dnsNames: readonly string[];
  readonly ips: readonly string[];
  readonly emails: readonly string[];
  readonly uris: readonly string[];
  /** e.g. `ECDSA`, `RSASSA-PKCS1-v1_5`. */
  readonly signatureAlgorithm: string;
}

export type CsrParse = { readonly ok: true; readonly csr: CsrContent } | { readonly ok: false; readonly error: string };

/** The byte range of the first element inside the DER SEQUENCE at `buf[0]`, or undefined when malformed. */
export function firstChildRange(buf: Uint8Array): { start: number; end: number } | undefined {
  const outer = readHeader(buf, 0);
  if (outer === undefined || buf[0] !== 0x30) return undefined;
  const inner = readHeader(buf, outer.headerEnd);
  if (inner === undefined) return undefined;
  const end = inner.headerEnd + inner.length;
  return end <= buf.length ? { start: outer.headerEnd, end } : undefined;
}

/** DER tag + definite length at `offset`: where the content starts and how long it is. */
function readHeader(buf: Uint8Array, offset: number): { headerEnd: number; length: number } | undefined {
  if (offset + 2 > buf.length) return undefined;
  const first = buf[offset + 1] ?? 0;
  if (first < 0x80) return { headerEnd: offset + 2, length: first };
  const n = first & 0x7f;
  if (n === 0 || n > 4 || offset + 2 + n > buf.length) return undefined;
  let length = 0;
  for (let i = 0; i < n; i++) length = length * 256 + (buf[offset + 2 + i] ?? 0);
  return { headerEnd: offset + 2 + n, length };
}

const HASHES: Readonly<Record<string, string>> = { 'SHA-256': 'sha256', 'SHA-384': 'sha384', 'SHA-512': 'sha512', 'SHA-1': 'sha1' };

function hashName(alg: unknown): string | undefined {
  const hash = (alg as { hash?: { name?: string } | string }).hash;
  const name = typeof hash === 'string' ? hash : hash?.name;
  return name !== undefined ? HASHES[name.toUpperCase()] : undefined;
}

function checkSignature(req: x509.Pkcs10CertificateRequest, der: Uint8Array): string | undefined {
  const range = firstChildRange(der);
  if (range === undefined) return 'malformed request structure';
  const tbs = der.subarray(range.start, range.end);
  let key;
  try {
    key = createPublicKey({ key: Buffer.from(req.publicKey.rawData), format: 'der', type: 'spki' });
  } catch {
    return 'unreadable public key';
  }
  const alg = req.signatureAlgorithm as { name?: string };
  const signature = Buffer.from(req.signature);
  let ok: boolean;
  try {
    switch (alg.name) {
      case 'ECDSA':
      case 'RSASSA-PKCS1-v1_5': {
        const hash = hashName(alg);
        if (hash === undefined) return `unsupported hash for ${alg.name}`;
        ok = verifySignature(hash, tbs, key, signature);
        break;
      }
      case 'Ed25519':
      case 'EdDSA':
        ok = verifySignature(null, tbs, key, signature);
        break;
      default:
        return `unsupported signature algorithm ${alg.name ?? 'unknown'}`;
    }
  } catch {
    return 'signature cannot be checked';
  }
  return ok ? undefined : `x509: ${alg.name} verification failure`;
}

/** Parses a PEM CSR and checks its self-signature; the error is one short sentence for a Status. */
export function parseCsrPem(pem: string): CsrParse {
  let blocks;
  try {
    blocks = pemDecodeAll(pem);
  } catch {
    return { ok: false, error: 'PEM block is not base64' };
  }
  const block = blocks[0];
  if (block === undefined) return { ok: false, error: 'PEM block type must be CERTIFICATE REQUEST' };
  if (block.label !== PEM_CERTIFICATE_REQUEST) return { ok: false, error: 'PEM block type must be CERTIFICATE REQUEST' };
  let req: x509.Pkcs10CertificateRequest;
  try {
    req = new x509.Pkcs10CertificateRequest(block.der);
  } catch {
    return { ok: false, error: 'asn1: structure error: not a PKCS#10 certificate request' };
  }
  const sigError = checkSignature(req, block.der);
  if (sigError !== undefined) return { ok: false, error: sigError };
  const san = req.extensions.find((e): e is x509.SubjectAlternativeNameExtension => e instanceof x509.SubjectAlternativeNameExtension);
  const names = san?.names.items ?? [];
  const of = (type: string): string[] => names.filter((n) => n.type === type).map((n) => n.value);
  return {
    ok: true,
    csr: {
      commonName: req.subjectName.getField('CN')[0] ?? '',
      organizations: req.subjectName.getField('O'),
      dnsNames: of('dns'),
      ips: of('ip').filter((ip) => isIP(ip) !== 0),
      emails: of('email'),
      uris: of('url'),
      signatureAlgorithm: (req.signatureAlgorithm as { name?: string }).name ?? '',
    },
  };
}

/** Upstream's rules for status.certificate: empty, or only CERTIFICATE blocks that parse. */
export function certificatePemError(pem: string): string | undefined {
  if (pem === '') return undefined;
  let blocks;
  try {
    blocks = pemDecodeAll(pem);
  } catch {
    return 'PEM block is not base64';
  }
  if (blocks.length === 0) return 'must contain at least one CERTIFICATE PEM block';
  for (const b of blocks) {
    if (b.label !== PEM_CERTIFICATE) return `only CERTIFICATE PEM blocks are allowed, found ${JSON.stringify(b.label)}`;
    try {
      new X509Certificate(b.der);
    } catch {
      return 'x509: malformed certificate';
    }
  }
  return undefined;
}

/** Base64 of the PEM bytes (how []byte fields travel in JSON) back to text; undefined if not base64. */
export function decodePemField(b64: string | undefined): string | undefined {
  if (b64 === undefined) return '';
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64.replace(/\s+/g, ''))) return undefined;
  return Buffer.from(b64, 'base64').toString('utf8');
}
