/**
 * Serving certificates for the kubelet server: signed by the cluster CA (what the apiserver verifies
 * when it proxies `kubectl logs`), or self-signed per node as upstream's kubelet does without
 * --tls-cert-file (a node CA `<node>-ca@<unix time>` signing `<node>@<unix time>`, served as a chain).
 * SANs: the node's IPs, and its name when that is a DNS name. Pure apart from key generation.
 */
import { createCA, createServingCert, encodeCertKeyPair, isDnsName } from '../../lib/pki/index.js';
import type { CertificateAuthority } from '../../lib/pki/index.js';

export interface ServingCertPem {
  /** The leaf, followed by its issuer for a self-signed pair. */
  readonly certPem: string;
  readonly keyPem: string;
}

export interface KubeletCertSpec {
  readonly nodeName: string;
  /** Every address the apiserver may use to reach the node (InternalIP first). */
  readonly ips: readonly string[];
  readonly now?: Date;
}

function sans(spec: KubeletCertSpec): { ips: readonly string[]; dnsNames: readonly string[] } {
  return { ips: spec.ips, dnsNames: isDnsName(spec.nodeName) ? [spec.nodeName] : [] };
}

/** A serving certificate signed by `ca` (the cluster CA). */
export async function createKubeletServingCert(ca: CertificateAuthority, spec: KubeletCertSpec): Promise<ServingCertPem> {
  const pair = await createServingCert(ca, { commonName: spec.nodeName, ...sans(spec) }, spec.now ? { now: spec.now } : {});
  return encodeCertKeyPair(pair);
}

/** A self-signed pair for a node without a cluster-signed certificate. */
export async function createSelfSignedKubeletCert(spec: KubeletCertSpec): Promise<ServingCertPem> {
  const now = spec.now ?? new Date();
  const stamp = Math.floor(now.getTime() / 1000);
  const ca = await createCA(`${spec.nodeName}-ca@${stamp}`, { now });
  const pair = await createServingCert(ca, { commonName: `${spec.nodeName}@${stamp}`, ...sans(spec) }, { now });
  const leaf = await encodeCertKeyPair(pair);
  const issuer = await encodeCertKeyPair(ca);
  return { certPem: `${leaf.certPem.trimEnd()}\n${issuer.certPem}`, keyPem: leaf.keyPem };
}
