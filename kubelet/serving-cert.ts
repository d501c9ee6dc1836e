/**
 * The kubelet server's certificate. knode agents hold no CA key and the control plane signs only
 * client certificates, so, like upstream's kubelet without --tls-cert-file, each agent makes its own
 * CA (`<node>-ca@<time>`) and serving certificate (kubelet/server/tls.ts), kept in
 * `<data-dir>/pki/kubelet.{crt,key}` so restarts keep the same one while the node IP stays the same.
 *
 * The apiserver verifies kubelet serving certificates when it proxies `kubectl logs`; it trusts the
 * cluster CA plus the per-node CA each agent publishes on its Node in KUBELET_SERVING_CA_ANNOTATION
 * (control-plane/apiserver/node-proxy.ts reads it from the Node it connects to). The agent registers
 * its Node with the annotation already set; `publishServingCA` keeps it in place if it is lost.
 *
 * Cost: key generation once per node; one GET of the Node every 30 s, a PATCH only when needed.
 */
import { X509Certificate } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Node } from '../api/core/node.js';
import type { Clock } from '../lib/clock.js';
import type { KubeClient } from '../lib/client/client.js';
import { resources } from '../lib/client/resource.js';
import type { Logger } from '../lib/log.js';
import { PRIVATE_MODE, PUBLIC_MODE, readOptionalFile, writeFileAtomic } from '../lib/pki/files.js';
import { createSelfSignedKubeletCert } from './server/tls.js';
import type { ServingCertPem } from './server/tls.js';

export const KUBELET_SERVING_CA_ANNOTATION = 'kubelet.knode.io/serving-ca';
const CERT_FILE = 'kubelet.crt';
const KEY_FILE = 'kubelet.key';
/** Renew once less than this is left. */
const RENEW_BEFORE_MS = 30 * 24 * 3600 * 1000;

/** The PEM blocks of a bundle, in order. */
export function pemBlocks(text: string): string[] {
  return text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}

/** Whether a stored chain still serves this node: parses, names every IP, not about to expire. Pure. */
export function servingCertUsable(certPem: string, ips: readonly string[], now: Date): boolean {
  const [leaf] = pemBlocks(certPem);
  if (leaf === undefined || pemBlocks(certPem).length < 2) return false;
  try {
    const cert = new X509Certificate(leaf);
    if (Date.parse(cert.validTo) - now.getTime() < RENEW_BEFORE_MS) return false;
    return ips.every((ip) => cert.checkIP(ip) !== undefined);
  } catch {
    return false;
  }
}

/** The issuing CA of a self-signed pair (the last block of the chain). */
export function servingCA(cert: ServingCertPem): string {
  return pemBlocks(cert.certPem).at(-1) ?? '';
}

export async function loadOrCreateServingCert(dir: string, nodeName: string, ips: readonly string[], now: Date): Promise<ServingCertPem> {
  const certPath = join(dir, CERT_FILE);
  const keyPath = join(dir, KEY_FILE);
  const [certPem, keyPem] = await Promise.all([readOptionalFile(certPath), readOptionalFile(keyPath)]);
  if (certPem !== undefined && keyPem !== undefined && servingCertUsable(certPem, ips, now)) return { certPem, keyPem };
  const fresh = await createSelfSignedKubeletCert({ nodeName, ips, now });
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFileAtomic(keyPath, fresh.keyPem, PRIVATE_MODE);
  await writeFileAtomic(certPath, fresh.certPem, PUBLIC_MODE);
  return fresh;
}

export interface PublishServingCAOptions {
  readonly client: Pick<KubeClient, 'get' | 'patch'>;
  readonly nodeName: string;
  readonly caPem: string;
  readonly clock: Clock;
  readonly log: Logger;
  readonly intervalMs?: number;
}

/** Keeps the annotation on the Node until `signal` aborts. Never throws. */
export async function publishServingCA(opts: PublishServingCAOptions, signal: AbortSignal): Promise<void> {
  const want = opts.caPem.trim();
  let published = false;
  while (!signal.aborted) {
    try {
      const node = await opts.client.get<Node>(resources.nodes, opts.nodeName, { signal });
      if (node.metadata.annotations?.[KUBELET_SERVING_CA_ANNOTATION]?.trim() !== want) {
        await opts.client.patch(resources.nodes, opts.nodeName, { metadata: { annotations: { [KUBELET_SERVING_CA_ANNOTATION]: want } } }, { type: 'merge', fieldManager: 'kubelet', signal });
        opts.log.info({ node: opts.nodeName }, 'published the kubelet serving CA on the Node');
      }
      published = true;
    } catch (err) {
      // the Node may not be registered yet
      if (!signal.aborted) opts.log.debug({ err: err instanceof Error ? err.message : String(err) }, 'publishing the serving CA failed; will retry');
    }
    try {
      await opts.clock.sleep(published ? (opts.intervalMs ?? 30_000) : 1_000, signal);
    } catch {
      return;
    }
  }
}
