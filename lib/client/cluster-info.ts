/**
 * `kube-public/cluster-info`: the ConfigMap kubeadm publishes so joining nodes can learn the apiserver
 * URL and the cluster CA. Its `kubeconfig` key holds a kubeconfig with one nameless cluster and no
 * users or contexts, exactly as kubeadm writes it. The control plane writes it at startup
 * (control-plane/bootstrap.ts); lib/client/bootstrap.ts reads it when no CA was given.
 * Pure: text in, text out.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { parse, stringify } from 'yaml';
import { ClientConfigError } from './errors.js';

export const CLUSTER_INFO_NAMESPACE = 'kube-public';
export const CLUSTER_INFO_NAME = 'cluster-info';
export const CLUSTER_INFO_KUBECONFIG_KEY = 'kubeconfig';

export interface ClusterInfo {
  readonly server: string;
  readonly caPem: string;
}

/** The kubeconfig text stored under data.kubeconfig. */
export function buildClusterInfoKubeconfig(info: ClusterInfo): string {
  return stringify(
    {
      apiVersion: 'v1',
      clusters: [{ cluster: { 'certificate-authority-data': Buffer.from(info.caPem, 'utf8').toString('base64'), server: info.server }, name: '' }],
      contexts: null,
      'current-context': '',
      kind: 'Config',
      preferences: {},
      users: null,
    },
    { lineWidth: 0 },
  );
}

/** The whole ConfigMap, ready for the Registry or the API. */
export function buildClusterInfoConfigMap(info: ClusterInfo): {
  apiVersion: 'v1';
  kind: 'ConfigMap';
  metadata: { name: string; namespace: string };
  data: Record<string, string>;
} {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: CLUSTER_INFO_NAME, namespace: CLUSTER_INFO_NAMESPACE },
    data: { [CLUSTER_INFO_KUBECONFIG_KEY]: buildClusterInfoKubeconfig(info) },
  };
}

function field(v: unknown, key: string): unknown {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>)[key] : undefined;
}

/** Reads the first cluster of a cluster-info kubeconfig; throws ClientConfigError when it has none. */
export function parseClusterInfoKubeconfig(text: string): ClusterInfo {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new ClientConfigError('cluster-info: kubeconfig is not valid YAML', { cause: err });
  }
  const clusters = field(doc, 'clusters');
  const cluster = field(Array.isArray(clusters) ? (clusters as unknown[])[0] : undefined, 'cluster');
  const server = field(cluster, 'server');
  const ca = field(cluster, 'certificate-authority-data');
  if (typeof server !== 'string' || server === '') throw new ClientConfigError('cluster-info: kubeconfig has no clusters[0].cluster.server');
  if (typeof ca !== 'string' || ca === '') throw new ClientConfigError('cluster-info: kubeconfig has no clusters[0].cluster.certificate-authority-data');
  return { server, caPem: Buffer.from(ca, 'base64').toString('utf8') };
}

/**
 * kubeadm's CA pin: `sha256:<hex of SHA-256 over the CA's SubjectPublicKeyInfo>`, what
 * `--discovery-token-ca-cert-hash` takes. Stable across CA re-issues with the same key.
 */
export function caCertHash(caPem: string): string {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(caPem);
  } catch (err) {
    throw new ClientConfigError('the CA is not a readable PEM certificate', { cause: err });
  }
  const spki = cert.publicKey.export({ type: 'spki', format: 'der' });
  return `sha256:${createHash('sha256').update(spki).digest('hex')}`;
}
