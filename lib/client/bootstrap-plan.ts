/**
 * The pure half of the node TLS bootstrap: may the credentials already on disk be reused, and is a
 * certificate the signer returned the one we asked for. Both work on PEM text and a time, so they are
 * tested without files or servers (bootstrap.ts is the effectful shell).
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { parseKubeconfig, resolveKubeconfig } from '../pki/kubeconfig.js';

export const NODE_USER_PREFIX = 'system:node:';
export const NODES_GROUP = 'system:nodes';

/** Reuse a certificate only while more than this fraction of its lifetime remains (client-go renews at 70-90 %). */
export const RENEW_REMAINING_FRACTION = 0.2;

export type CredentialsPlan =
  | { readonly kind: 'reuse'; readonly certPem: string; readonly keyPem: string; readonly caPem: string; readonly server: string; readonly notAfter: Date }
  | { readonly kind: 'request'; readonly why: string };

export interface PlanInput {
  /** Contents of <dir>/kubelet.kubeconfig, undefined when the file does not exist. */
  readonly kubeconfigText: string | undefined;
  readonly nodeName: string;
  /** The apiserver the caller wants; credentials for another server are not reused. */
  readonly server: string;
  /** The CA the caller trusts, when it has one; the stored certificate must chain to it. */
  readonly caPem?: string;
  readonly now: Date;
}

function subjectFields(subject: string): { cn: string[]; o: string[] } {
  const cn: string[] = [];
  const o: string[] = [];
  for (const line of subject.split('\n')) {
    if (line.startsWith('CN=')) cn.push(line.slice(3));
    else if (line.startsWith('O=')) o.push(line.slice(2));
  }
  return { cn, o };
}

/** Why `certPem` is not a usable client certificate for `nodeName` with `keyPem` from `caPem`, if it is not. */
export function certificateProblem(p: { certPem: string; keyPem: string; caPem: string; nodeName: string; now: Date }): string | undefined {
  let cert: X509Certificate;
  let ca: X509Certificate;
  try {
    cert = new X509Certificate(p.certPem);
  } catch {
    return 'the client certificate is unreadable';
  }
  try {
    ca = new X509Certificate(p.caPem);
  } catch {
    return 'the CA certificate is unreadable';
  }
  try {
    if (!cert.checkPrivateKey(createPrivateKey(p.keyPem))) return 'the client certificate does not match its key';
  } catch {
    return 'the client key is unreadable';
  }
  if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) return 'the client certificate was not issued by the cluster CA';
  const { cn, o } = subjectFields(cert.subject);
  if (cn.length !== 1 || cn[0] !== `${NODE_USER_PREFIX}${p.nodeName}` || !o.includes(NODES_GROUP)) {
    return `the client certificate is for ${JSON.stringify(cert.subject.replace(/\n/g, ', '))}, not ${NODE_USER_PREFIX}${p.nodeName} in ${NODES_GROUP}`;
  }
  const from = Date.parse(cert.validFrom);
  const to = Date.parse(cert.validTo);
  if (p.now.getTime() >= to) return `the client certificate expired on ${cert.validTo}`;
  if (p.now.getTime() < from) return `the client certificate is not valid before ${cert.validFrom}`;
  return undefined;
}

/** Pure: reuse the stored credentials, or request new ones (and why). */
export function planNodeCredentials(input: PlanInput): CredentialsPlan {
  if (input.kubeconfigText === undefined) return { kind: 'request', why: 'no kubeconfig yet' };
  let user;
  let cluster;
  try {
    ({ user, cluster } = resolveKubeconfig(parseKubeconfig(input.kubeconfigText)));
  } catch (err) {
    return { kind: 'request', why: `the stored kubeconfig is unusable: ${(err as Error).message}` };
  }
  const certPem = user.clientCertificateData;
  const keyPem = user.clientKeyData;
  const storedCa = cluster.certificateAuthorityData;
  if (certPem === undefined || keyPem === undefined || storedCa === undefined) {
    return { kind: 'request', why: 'the stored kubeconfig lacks an embedded client certificate, key or CA' };
  }
  if (cluster.server.replace(/\/+$/, '') !== input.server.replace(/\/+$/, '')) {
    return { kind: 'request', why: `the stored kubeconfig is for ${cluster.server}, not ${input.server}` };
  }
  const caPem = input.caPem ?? storedCa;
  const problem = certificateProblem({ certPem, keyPem, caPem, nodeName: input.nodeName, now: input.now });
  if (problem !== undefined) return { kind: 'request', why: problem };
  const cert = new X509Certificate(certPem);
  const from = Date.parse(cert.validFrom);
  const to = Date.parse(cert.validTo);
  if (to - input.now.getTime() < (to - from) * RENEW_REMAINING_FRACTION) {
    return { kind: 'request', why: `the client certificate expires soon (${cert.validTo})` };
  }
  return { kind: 'reuse', certPem, keyPem, caPem, server: cluster.server, notAfter: new Date(to) };
}
