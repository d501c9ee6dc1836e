/**
 * The cluster's PKI as a plan over file contents: given what `<data-dir>/pki/` holds (possibly
 * nothing), decide what to (re)issue, then build exactly that. files.ts is the thin shell that reads
 * and writes the directory.
 *
 * Policy: the CA is created once and never replaced silently, since every kubeconfig and agent trusts
 * it; a CA certificate without its key, or an unreadable/expired CA, is an error for the operator. The
 * serving and admin leaves are re-issued from the same CA when missing, unreadable, not from this CA,
 * not matching their key, close to expiry, or (serving) lacking a SAN that is now required, e.g.
 * after the bind address changed. Planning is synchronous (Node's X509Certificate does the chain
 * and key checks); building costs one key generation and signature per issued certificate.
 */
import { createPrivateKey, X509Certificate as NodeX509 } from 'node:crypto';
import { isIP } from 'node:net';
import {
  buildSanEntries,
  createCA,
  createClientCert,
  createServingCert,
  decodeCertKeyPair,
  encodeCertKeyPair,
  type CertificateAuthority,
} from './certs.js';
import { PkiStateError } from './errors.js';
import { decodeCertificatePem } from './pem.js';
import { x509 } from './x509.js';

export const PKI_FILES = {
  caCert: 'ca.crt',
  caKey: 'ca.key',
  servingCert: 'apiserver.crt',
  servingKey: 'apiserver.key',
  adminCert: 'admin.crt',
  adminKey: 'admin.key',
} as const;
export type PkiFileKey = keyof typeof PKI_FILES;
/** File contents by role; a missing entry means the file does not exist. */
export type PkiFiles = Partial<Record<PkiFileKey, string>>;

export const CA_COMMON_NAME = 'knode-ca';
export const APISERVER_COMMON_NAME = 'kube-apiserver';
export const ADMIN_USER = 'kubernetes-admin';
export const ADMIN_GROUP = 'system:masters';
/** Leaves are renewed at startup once less than this remains, so a server restarted monthly never lapses. */
export const RENEW_BEFORE_DAYS = 30;
const DAY_MS = 86_400_000;

/** In-cluster names of the apiserver, as pods resolve them through the `kubernetes` Service. */
export const APISERVER_DNS_NAMES: readonly string[] = [
  'localhost',
  'kubernetes',
  'kubernetes.default',
  'kubernetes.default.svc',
  'kubernetes.default.svc.cluster.local',
];

export interface ClusterPkiOptions {
  /** The address the apiserver listens on; a wildcard (0.0.0.0, ::) is not a SAN and is skipped. */
  readonly bindAddress: string;
  /** The first address of the service range, which the `kubernetes` Service gets (e.g. 10.96.0.1). */
  readonly serviceIP: string;
  /** More IPs or DNS names to serve under (node IPs, hostnames). */
  readonly extraSANs?: readonly string[];
}

export interface ServingSans {
  readonly ips: readonly string[];
  readonly dnsNames: readonly string[];
}

/** Writes an IP in one spelling so `::1` and `0:0:0:0:0:0:0:1` compare equal. */
export function canonicalIP(ip: string): string {
  return isIP(ip) === 6 ? new URL(`http://[${ip}]/`).hostname.slice(1, -1) : ip;
}

function isWildcard(ip: string): boolean {
  return ip === '0.0.0.0' || canonicalIP(ip) === '::';
}

/** The SANs the serving certificate must carry; throws InvalidSanError on a malformed extra. */
export function servingSANs(opts: ClusterPkiOptions): ServingSans {
  const ips = new Set<string>();
  const dnsNames = new Set<string>(APISERVER_DNS_NAMES);
  for (const ip of [opts.bindAddress, '127.0.0.1', opts.serviceIP]) {
    if (!isWildcard(ip)) ips.add(canonicalIP(ip));
  }
  for (const extra of opts.extraSANs ?? []) {
    if (isIP(extra) !== 0) ips.add(canonicalIP(extra));
    else dnsNames.add(extra.toLowerCase());
  }
  const result = { ips: [...ips], dnsNames: [...dnsNames] };
  buildSanEntries(result.ips, result.dnsNames); // validates
  return result;
}

/** The wanted SANs a certificate lacks, as `IP:x` / `DNS:y` strings (empty when it has them all). */
export function missingSANs(certPem: string, wanted: ServingSans): string[] {
  const san = decodeCertificatePem(certPem).getExtension(x509.SubjectAlternativeNameExtension);
  const items = san?.names.items ?? [];
  const haveIPs = new Set(items.filter((n) => n.type === 'ip').map((n) => canonicalIP(n.value)));
  const haveDNS = new Set(items.filter((n) => n.type === 'dns').map((n) => n.value.toLowerCase()));
  return [
    ...wanted.ips.filter((ip) => !haveIPs.has(canonicalIP(ip))).map((ip) => `IP:${ip}`),
    ...wanted.dnsNames.filter((d) => !haveDNS.has(d.toLowerCase())).map((d) => `DNS:${d}`),
  ];
}

export type PkiAction =
  | { readonly kind: 'create-ca' }
  | { readonly kind: 'issue-serving'; readonly reason: string }
  | { readonly kind: 'issue-admin'; readonly reason: string };

function parseNodeCert(pem: string): NodeX509 | undefined {
  try {
    return new NodeX509(pem);
  } catch {
    return undefined;
  }
}

function keyMatches(cert: NodeX509, keyPem: string): boolean {
  try {
    return cert.checkPrivateKey(createPrivateKey(keyPem));
  } catch {
    return false;
  }
}

/** Why a leaf must be re-issued, or undefined when it can be kept. */
function leafProblem(ca: NodeX509, certPem: string | undefined, keyPem: string | undefined, now: Date): string | undefined {
  if (certPem === undefined || keyPem === undefined) return 'missing';
  const cert = parseNodeCert(certPem);
  if (cert === undefined) return 'unreadable certificate';
  if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) return 'not issued by the cluster CA';
  if (!keyMatches(cert, keyPem)) return 'certificate does not match its key';
  if (Date.parse(cert.validTo) - now.getTime() < RENEW_BEFORE_DAYS * DAY_MS) return `expires ${cert.validTo}`;
  return undefined;
}

function subjectIs(certPem: string, commonName: string, organizations: readonly string[]): boolean {
  const name = decodeCertificatePem(certPem).subjectName;
  const orgs = name.getField('O');
  return name.getField('CN')[0] === commonName && orgs.length === organizations.length && organizations.every((o) => orgs.includes(o));
}

/**
 * What to do to bring `files` (in `dir`, named only in error messages) to a usable PKI for `opts`.
 * An empty list means everything is reused.
 */
export function planClusterPki(dir: string, files: PkiFiles, opts: ClusterPkiOptions, now: Date): PkiAction[] {
  const wanted = servingSANs(opts);
  const caPath = `${dir}/${PKI_FILES.caCert}`;
  if (files.caCert === undefined) {
    // A key without its certificate can only be left over from an interrupted first start.
    return [{ kind: 'create-ca' }, { kind: 'issue-serving', reason: 'new CA' }, { kind: 'issue-admin', reason: 'new CA' }];
  }
  if (files.caKey === undefined) {
    throw new PkiStateError(`${dir}/${PKI_FILES.caKey}`, `missing, but ${caPath} exists; restore the key or remove both to create a new cluster CA`);
  }
  const ca = parseNodeCert(files.caCert);
  if (ca === undefined || !ca.ca) throw new PkiStateError(caPath, 'not a readable CA certificate');
  if (!keyMatches(ca, files.caKey)) throw new PkiStateError(caPath, `does not match ${PKI_FILES.caKey}`);
  if (Date.parse(ca.validTo) <= now.getTime()) {
    throw new PkiStateError(caPath, `expired on ${ca.validTo}; remove the pki directory to create a new cluster CA`);
  }

  const actions: PkiAction[] = [];
  let serving = leafProblem(ca, files.servingCert, files.servingKey, now);
  if (serving === undefined && files.servingCert !== undefined) {
    const missing = missingSANs(files.servingCert, wanted);
    if (missing.length > 0) serving = `lacks ${missing.join(', ')}`;
  }
  if (serving !== undefined) actions.push({ kind: 'issue-serving', reason: serving });

  let admin = leafProblem(ca, files.adminCert, files.adminKey, now);
  if (admin === undefined && files.adminCert !== undefined && !subjectIs(files.adminCert, ADMIN_USER, [ADMIN_GROUP])) {
    admin = `subject is not CN=${ADMIN_USER}, O=${ADMIN_GROUP}`;
  }
  if (admin !== undefined) actions.push({ kind: 'issue-admin', reason: admin });
  return actions;
}

/** The PKI in memory, PEM text included, ready for tls.createServer and kubeconfigs. */
export interface ClusterPki {
  readonly ca: CertificateAuthority;
  readonly caCertPem: string;
  readonly caKeyPem: string;
  readonly servingCertPem: string;
  readonly servingKeyPem: string;
  readonly adminCertPem: string;
  readonly adminKeyPem: string;
}

export interface BuiltClusterPki {
  readonly pki: ClusterPki;
  /** Files to write, in a crash-safe order: each key before its certificate, the CA before the leaves. */
  readonly writes: readonly { readonly file: PkiFileKey; readonly content: string }[];
}

function need(files: PkiFiles, key: PkiFileKey): string {
  const v = files[key];
  if (v === undefined) throw new PkiStateError(PKI_FILES[key], 'expected to exist after planning');
  return v;
}

/** Carries out `actions` over `files`; the only inputs besides them are `opts`, `now` and randomness. */
export async function buildClusterPki(
  actions: readonly PkiAction[],
  files: PkiFiles,
  opts: ClusterPkiOptions,
  now: Date,
): Promise<BuiltClusterPki> {
  const writes: { file: PkiFileKey; content: string }[] = [];
  const out = { ...files };
  const set = (file: PkiFileKey, content: string): void => {
    out[file] = content;
    writes.push({ file, content });
  };

  let ca: CertificateAuthority;
  if (actions.some((a) => a.kind === 'create-ca')) {
    ca = await createCA(CA_COMMON_NAME, { now });
    const pem = await encodeCertKeyPair(ca);
    set('caKey', pem.keyPem);
    set('caCert', pem.certPem);
  } else {
    ca = await decodeCertKeyPair(need(files, 'caCert'), need(files, 'caKey'));
  }

  for (const action of actions) {
    switch (action.kind) {
      case 'create-ca':
        break;
      case 'issue-serving': {
        const pem = await encodeCertKeyPair(await createServingCert(ca, { commonName: APISERVER_COMMON_NAME, ...servingSANs(opts) }, { now }));
        set('servingKey', pem.keyPem);
        set('servingCert', pem.certPem);
        break;
      }
      case 'issue-admin': {
        const pem = await encodeCertKeyPair(await createClientCert(ca, { commonName: ADMIN_USER, organizations: [ADMIN_GROUP] }, { now }));
        set('adminKey', pem.keyPem);
        set('adminCert', pem.certPem);
        break;
      }
      default: {
        const unreachable: never = action;
        throw new Error(`unknown PKI action ${JSON.stringify(unreachable)}`);
      }
    }
  }

  return {
    writes,
    pki: {
      ca,
      caCertPem: need(out, 'caCert'),
      caKeyPem: need(out, 'caKey'),
      servingCertPem: need(out, 'servingCert'),
      servingKeyPem: need(out, 'servingKey'),
      adminCertPem: need(out, 'adminCert'),
      adminKeyPem: need(out, 'adminKey'),
    },
  };
}
