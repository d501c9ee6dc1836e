/**
 * Node TLS bootstrap, as the kubelet does it: turn a bootstrap token into a client certificate for
 * `system:node:<name>` and a kubeconfig that uses it.
 *
 *   1. Reuse `<dir>/kubelet.kubeconfig` if it holds a valid certificate for this node and server with
 *      more than a fifth of its lifetime left (bootstrap-plan.ts).
 *   2. Establish the CA (see below).
 *   3. Generate an ECDSA P-256 key, send a CertificateSigningRequest (signer
 *      kubernetes.io/kube-apiserver-client-kubelet, usages digital signature + client auth)
 *      authenticated with the token, and watch it until the control plane's approver and signer
 *      have issued the certificate (or denied it, or the timeout passes).
 *   4. Check the certificate (our key, our name, the CA) and write key, certificate, CA and kubeconfig
 *      atomically with mode 0600 (public parts 0644); the kubeconfig last, so a crash part-way leaves
 *      the previous state intact.
 *
 * Trust in the apiserver. Recommended: the caller passes the CA (`caPem`, `knode agent --ca-file`),
 * and the token is only ever sent over a verified connection. Without it the CA is discovered, as
 * kubeadm does, from `kube-public/cluster-info`; knode only serves that ConfigMap to authenticated
 * users, so the discovery read carries the token over a connection whose certificate is NOT verified.
 * Anyone able to intercept that first connection learns the token (which can create node CSRs until
 * it expires) and, unless `caCertHash` pins the CA (kubeadm's --discovery-token-ca-cert-hash, printed
 * by `knode token create`), can also substitute its own CA and impersonate the cluster. So discovery
 * requires either `caCertHash` (the impostor is detected, though the token may already be disclosed) or
 * an explicit `unsafeSkipCaVerification` (trust on first use, kubeadm's
 * --discovery-token-unsafe-skip-ca-verification). Either way the CA learnt is pinned for every later
 * request and stored next to the kubeconfig.
 */
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { CertificateSigningRequest } from '../../api/certificates/csr-types.js';
import { CONDITION_DENIED, CONDITION_FAILED, certificatePem, conditionsOf, SIGNER_KUBE_APISERVER_CLIENT_KUBELET } from '../../api/certificates/csr-types.js';
import type { KubeObject } from '../../api/meta.js';
import type { Clock } from '../clock.js';
import { realClock } from '../clock.js';
import type { Logger } from '../log.js';
import { PRIVATE_MODE, PUBLIC_MODE, readOptionalFile, writeFileAtomic } from '../pki/files.js';
import { writeKubeconfig } from '../pki/kubeconfig.js';
import { createCsrPem } from '../pki/lite-csr.js';
import { certificateProblem, NODE_USER_PREFIX, NODES_GROUP, planNodeCredentials } from './bootstrap-plan.js';
import { KubeClient } from './client.js';
import { caCertHash as hashOfCa, CLUSTER_INFO_KUBECONFIG_KEY, CLUSTER_INFO_NAME, CLUSTER_INFO_NAMESPACE, parseClusterInfoKubeconfig } from './cluster-info.js';
import { ClientApiError, isUnauthorized, NodeBootstrapError } from './errors.js';
import { resources } from './resource.js';

export const KUBECONFIG_FILE = 'kubelet.kubeconfig';
export const CLIENT_KEY_FILE = 'kubelet-client.key';
export const CLIENT_CERT_FILE = 'kubelet-client.crt';
export const CA_FILE = 'ca.crt';
export const DEFAULT_BOOTSTRAP_TIMEOUT_MS = 5 * 60_000;

export interface BootstrapNodeOptions {
  /** `https://host:port` of the apiserver. */
  readonly server: string;
  /** The CA to verify the apiserver with (recommended). */
  readonly caPem?: string;
  /** Without caPem: `sha256:<hex>` pin of the CA found in cluster-info. */
  readonly caCertHash?: string;
  /** Without caPem or caCertHash: trust whatever CA cluster-info holds (see the file comment). */
  readonly unsafeSkipCaVerification?: boolean;
  /** `<id>.<secret>`. */
  readonly token: string;
  readonly nodeName: string;
  /** Where the key, certificates and kubeconfig live (created 0700 if missing). */
  readonly dir: string;
  /** Requested certificate lifetime; the signer may issue a shorter one. */
  readonly expirationSeconds?: number;
  /** How long to wait for approval and signing (default 5 minutes). */
  readonly timeoutMs?: number;
  readonly clock?: Clock;
  readonly signal?: AbortSignal;
  readonly log?: Logger;
}

export interface NodeCredentials {
  readonly kubeconfigPath: string;
  readonly server: string;
  readonly caPem: string;
  readonly certPem: string;
  readonly keyPem: string;
  readonly notAfter: Date;
  /** True when the credentials on disk were kept. */
  readonly reused: boolean;
  /** The CertificateSigningRequest created, when one was. */
  readonly csrName?: string;
}

interface ConfigMapLike extends KubeObject {
  readonly data?: Readonly<Record<string, string>>;
}

function tokenRejected(server: string, err: unknown): NodeBootstrapError {
  return new NodeBootstrapError(
    'token-rejected',
    `the apiserver at ${server} refused the bootstrap token (401 Unauthorized): check that it was typed correctly, exists (knode token list) and has not expired`,
    { cause: err },
  );
}

const normalizeHash = (h: string): string => (h.includes(':') ? h : `sha256:${h}`).toLowerCase();

/** The CA to trust: given, or read from cluster-info under the rules in the file comment. */
async function establishCa(opts: BootstrapNodeOptions, signal: AbortSignal): Promise<string> {
  if (opts.caPem !== undefined) return opts.caPem;
  if (opts.caCertHash === undefined && opts.unsafeSkipCaVerification !== true) {
    throw new NodeBootstrapError(
      'no-ca',
      'no way to verify the apiserver: give its CA (--ca-file), or pin the CA found in kube-public/cluster-info with --discovery-token-ca-cert-hash sha256:<hex> (printed by `knode token create`), or accept the risk with --discovery-token-unsafe-skip-ca-verification',
    );
  }
  const insecure = new KubeClient({ server: opts.server, token: opts.token, insecureSkipTlsVerify: true });
  let cm: ConfigMapLike;
  try {
    cm = await insecure.get<ConfigMapLike>(resources.configMaps, CLUSTER_INFO_NAME, { namespace: CLUSTER_INFO_NAMESPACE, signal });
  } catch (err) {
    if (isUnauthorized(err)) throw tokenRejected(opts.server, err);
    throw err;
  } finally {
    insecure.close();
  }
  const text = cm.data?.[CLUSTER_INFO_KUBECONFIG_KEY];
  if (text === undefined) throw new NodeBootstrapError('no-ca', `${CLUSTER_INFO_NAMESPACE}/${CLUSTER_INFO_NAME} has no ${CLUSTER_INFO_KUBECONFIG_KEY} key`);
  const { caPem } = parseClusterInfoKubeconfig(text);
  if (opts.caCertHash !== undefined) {
    const actual = hashOfCa(caPem);
    if (actual !== normalizeHash(opts.caCertHash)) {
      throw new NodeBootstrapError('ca-mismatch', `the CA published in cluster-info has hash ${actual}, not the pinned ${normalizeHash(opts.caCertHash)}: refusing to trust ${opts.server}`);
    }
  } else {
    opts.log?.warn({ server: opts.server, caCertHash: hashOfCa(caPem) }, 'trusting the cluster CA on first use, without verification');
  }
  return caPem;
}

/** Resolves with the CSR once it has a certificate; throws when it is denied, fails or disappears. */
async function waitForCertificate(client: KubeClient, name: string, clock: Clock, signal: AbortSignal): Promise<CertificateSigningRequest> {
  const ref = resources.certificateSigningRequests;
  const verdict = (csr: CertificateSigningRequest): CertificateSigningRequest | undefined => {
    const denied = conditionsOf(csr, CONDITION_DENIED)[0];
    if (denied !== undefined) throw new NodeBootstrapError('csr-denied', `certificate signing request ${name} was denied: ${denied.message ?? denied.reason ?? 'no reason given'}`);
    const failed = conditionsOf(csr, CONDITION_FAILED)[0];
    if (failed !== undefined) throw new NodeBootstrapError('csr-failed', `certificate signing request ${name} failed: ${failed.message ?? failed.reason ?? 'no reason given'}`);
    return certificatePem(csr) !== undefined ? csr : undefined;
  };
  for (;;) {
    const current = await client.get<CertificateSigningRequest>(ref, name, { signal });
    const done = verdict(current);
    if (done !== undefined) return done;
    const rv = current.metadata.resourceVersion;
    for await (const ev of client.watch<CertificateSigningRequest>(ref, {
      fieldSelector: `metadata.name=${name}`,
      ...(rv !== undefined ? { resourceVersion: rv } : {}),
      timeoutSeconds: 60,
      signal,
    })) {
      if (ev.type === 'ERROR') break; // e.g. 410: read it again and watch from there
      if (ev.type === 'BOOKMARK') continue;
      if (ev.type === 'DELETED') throw new NodeBootstrapError('csr-failed', `certificate signing request ${name} was deleted before it was issued`);
      const issued = verdict(ev.object);
      if (issued !== undefined) return issued;
    }
    // the watch ended (server timeout or an error event): pause briefly, then read again
    await clock.sleep(1000, signal);
  }
}

/** Gets this node a client certificate (or keeps a valid one) and writes `<dir>/kubelet.kubeconfig`. */
export async function bootstrapNodeCredentials(opts: BootstrapNodeOptions): Promise<NodeCredentials> {
  const clock = opts.clock ?? realClock;
  const kubeconfigPath = join(opts.dir, KUBECONFIG_FILE);
  const plan = planNodeCredentials({
    kubeconfigText: await readOptionalFile(kubeconfigPath),
    nodeName: opts.nodeName,
    server: opts.server,
    ...(opts.caPem !== undefined ? { caPem: opts.caPem } : {}),
    now: clock.now(),
  });
  if (plan.kind === 'reuse') {
    return { kubeconfigPath, server: plan.server, caPem: plan.caPem, certPem: plan.certPem, keyPem: plan.keyPem, notAfter: plan.notAfter, reused: true };
  }
  opts.log?.info({ node: opts.nodeName, why: plan.why }, 'requesting a client certificate with the bootstrap token');

  // One deadline for the whole exchange, on the injected clock; the caller's signal also stops it.
  const deadline = new AbortController();
  const stopTimer = new AbortController();
  const timeoutMs = opts.timeoutMs ?? DEFAULT_BOOTSTRAP_TIMEOUT_MS;
  clock.sleep(timeoutMs, stopTimer.signal).then(
    () => deadline.abort(new NodeBootstrapError('timeout', `no certificate was issued for node ${opts.nodeName} within ${Math.round(timeoutMs / 1000)} s: is the CSR approved (kubectl get csr)?`)),
    () => undefined,
  );
  const signal = opts.signal !== undefined ? AbortSignal.any([opts.signal, deadline.signal]) : deadline.signal;
  try {
    const caPem = await establishCa(opts, signal);
    // node:crypto and lite-csr rather than lib/pki/csr.ts: the agent never loads @peculiar/x509 (~18 MiB)
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const keyPem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const csrPem = createCsrPem(privateKey, { commonName: `${NODE_USER_PREFIX}${opts.nodeName}`, organizations: [NODES_GROUP] });
    const client = new KubeClient({ server: opts.server, caPem, token: opts.token });
    let issued: CertificateSigningRequest;
    try {
      const created = await client.create<CertificateSigningRequest>(
        resources.certificateSigningRequests,
        {
          apiVersion: 'certificates.k8s.io/v1',
          kind: 'CertificateSigningRequest',
          metadata: { generateName: 'node-csr-' },
          spec: {
            request: Buffer.from(csrPem, 'utf8').toString('base64'),
            signerName: SIGNER_KUBE_APISERVER_CLIENT_KUBELET,
            usages: ['digital signature', 'client auth'],
            ...(opts.expirationSeconds !== undefined ? { expirationSeconds: opts.expirationSeconds } : {}),
          },
        },
        { signal },
      );
      issued = await waitForCertificate(client, created.metadata.name ?? '', clock, signal);
    } catch (err) {
      if (err instanceof ClientApiError && isUnauthorized(err)) throw tokenRejected(opts.server, err);
      throw err;
    } finally {
      client.close();
    }
    const certPem = certificatePem(issued) ?? '';
    const problem = certificateProblem({ certPem, keyPem, caPem, nodeName: opts.nodeName, now: clock.now() });
    if (problem !== undefined) throw new NodeBootstrapError('bad-certificate', `the certificate issued for ${issued.metadata.name ?? ''} is unusable: ${problem}`);

    await mkdir(opts.dir, { recursive: true, mode: 0o700 });
    await writeFileAtomic(join(opts.dir, CLIENT_KEY_FILE), keyPem, PRIVATE_MODE);
    await writeFileAtomic(join(opts.dir, CLIENT_CERT_FILE), certPem, PUBLIC_MODE);
    await writeFileAtomic(join(opts.dir, CA_FILE), caPem, PUBLIC_MODE);
    await writeKubeconfig(kubeconfigPath, {
      clusterName: 'default-cluster',
      server: opts.server,
      caPem,
      user: `${NODE_USER_PREFIX}${opts.nodeName}`,
      clientCertPem: certPem,
      clientKeyPem: keyPem,
      contextName: 'default-context',
    });
    const notAfter = new Date(Date.parse(new X509Certificate(certPem).validTo));
    return { kubeconfigPath, server: opts.server, caPem, certPem, keyPem, notAfter, reused: false, ...(issued.metadata.name !== undefined ? { csrName: issued.metadata.name } : {}) };
  } catch (err) {
    // an abort by the deadline surfaces as the deadline's own error
    if (deadline.signal.aborted && !(opts.signal?.aborted ?? false)) throw deadline.signal.reason;
    throw err;
  } finally {
    stopTimer.abort();
  }
}
