/**
 * The control plane in one process (as k3s composes it): storage, PKI, apiserver, bootstrap objects
 * and the controllers that belong to the apiserver's own semantics (garbage collector, namespace
 * finalizer). `startControlPlane` returns once the apiserver answers; `stop()` shuts everything down
 * in reverse order.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { networkInterfaces } from 'node:os';
import type { KubeObject } from '../api/meta.js';
import { realClock } from '../lib/clock.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/log.js';
import { loadOrCreateClusterPKI } from '../lib/pki/files.js';
import { createClientCert, encodeCertKeyPair } from '../lib/pki/certs.js';
import { writeKubeconfig } from '../lib/pki/kubeconfig.js';
import { AdmissionChain } from './apiserver/admission.js';
import { BootstrapTokenAuthenticator } from './apiserver/auth/bootstrap-token.js';
import type { SecretLike } from './apiserver/auth/bootstrap-token.js';
import { ClientCertAuthenticator } from './apiserver/auth/client-cert.js';
import { UnionAuthenticator } from './apiserver/auth/union.js';
import { ApiError } from './apiserver/errors.js';
import { NamespaceLifecycle } from './apiserver/plugins/namespace-lifecycle.js';
import { DefaultTolerationSeconds } from './apiserver/plugins/default-toleration-seconds.js';
import { ServiceAllocation } from './apiserver/plugins/service-allocation.js';
import { parseCidr } from './apiserver/plugins/ip-range.js';
import { Registry } from './apiserver/registry.js';
import { servedResources } from './apiserver/resources.js';
import { ApiServer } from './apiserver/server.js';
import { buildTable } from './apiserver/tables/table.js';
import { bootstrapCluster, bootstrapClusterDns } from './bootstrap.js';
import { GarbageCollector } from './controllers/garbage-collector.js';
import { NamespaceController } from './controllers/namespace.js';
import { buildControllers } from './controller-manager/controllers.js';
import type { ControllersConfig } from './controller-manager/controllers.js';
import { runControllerManager } from './controller-manager/manager.js';
import { runScheduler } from './scheduler/scheduler.js';
import { KubeClient } from '../lib/client/client.js';
import { NodeIpamController, nodeCIDRLayout } from './controllers/node-ipam.js'; // knode-node-ipam
import { CsrApprover } from './controllers/csr-approver.js';
import { CsrSigner } from './controllers/csr-signer.js';
import { startCompactor } from './storage/compactor.js';
import { SqliteStore } from './storage/sqlite-store.js';
import type { EtcdStoreOptions } from './storage/etcd-store.js';
import { startClusterDns } from './dns/server.js';
import type { AdmissionPlugin } from './apiserver/admission.js';
import { NodeRestriction, RbacEscalationCheck } from './apiserver/authz/admission.js';
import { DEFAULT_AUTHORIZATION_MODES, startAuthorization } from './apiserver/authz/index.js';
import type { AuthorizationMode, AuthorizerChain } from './apiserver/authz/index.js';
import { reconcileDefaultPolicy } from './apiserver/authz/policy.js';
import { ClusterRoleAggregationController } from './controllers/clusterrole-aggregation.js';
import { ServiceAccountAdmission } from './apiserver/plugins/service-account.js';
import { RootCAPublisher } from './controllers/root-ca-publisher.js';
import { DEFAULT_ISSUER, loadOrCreateServiceAccountKey, ServiceAccountTokenAuthenticator, TokenIssuer } from './apiserver/auth/service-account.js';
import type { RunningClusterDns } from './dns/server.js';
import type { Store } from './storage/store.js';

export interface ControlPlaneOptions {
  readonly dataDir: string;
  readonly bindAddress: string;
  readonly port: number;
  readonly serviceCIDR: string;
  readonly clusterCIDR: string;
  /** knode-node-ipam: prefix length of each Node's spec.podCIDR cut from clusterCIDR (upstream default 24). */
  readonly nodeCIDRMaskSize?: number;
  /** Defaults to the bind address, or the first non-loopback IPv4 address when binding to 0.0.0.0. */
  readonly advertiseAddress?: string;
  readonly nodePortRange?: { readonly min: number; readonly max: number };
  readonly log: Logger;
  readonly clock?: Clock;
  /** A store to use instead of the embedded SQLite one (tests); the caller closes it. */
  readonly store?: Store;
  /** An etcd cluster to store everything in instead of the embedded SQLite (`--etcd-servers`). */
  readonly etcd?: EtcdStoreOptions;
  /** Durability of the embedded store: FULL survives power loss, NORMAL a process crash. */
  readonly synchronous?: 'FULL' | 'NORMAL';
  readonly bookmarkIntervalMs?: number;
  /** Store compaction (upstream: every 5 minutes). */
  readonly compaction?: { readonly intervalMs: number; readonly keepRevisions: number };
  /**
   * The cluster DNS server (control-plane/dns) on the advertise address and this port, behind the
   * kube-system/kube-dns Service; undefined or port 0: none.
   */
  readonly dns?: { readonly port: number; readonly zone?: string; readonly upstreams?: readonly string[] };
  /** The workload controllers (behind the `kube-controller-manager` lease); false: none in this process. */
  readonly controllers?: false | ControllersConfig;
  /** `--service-account-issuer` (default https://kubernetes.default.svc.cluster.local). */
  readonly serviceAccountIssuer?: string;
  /** `--authorization-mode` (default Node,RBAC). */
  readonly authorizationModes?: readonly AuthorizationMode[];
  /**
   * `--anonymous-auth` (default true, as upstream): requests without credentials are system:anonymous and
   * the authorizers decide. Off whatever the flag when AlwaysAllow is the only mode (upstream resets it
   * then too: it would open everything to everyone).
   */
  readonly anonymousAuth?: boolean;
}

export interface RunningControlPlane {
  readonly url: string;
  readonly kubeconfigPath: string;
  readonly caPem: string;
  readonly store: Store;
  stop(): Promise<void>;
}

/** The etcd store, loaded only when asked for (its gRPC client is not needed on SQLite). */
async function connectEtcd(etcd: EtcdStoreOptions, log: Logger): Promise<Store> {
  const { EtcdStore } = await import('./storage/etcd-store.js');
  const store = await EtcdStore.connect(etcd);
  log.info({ endpoints: etcd.endpoints, revision: await store.currentRevision() }, 'store: etcd');
  return store;
}

export function defaultAdvertiseAddress(bindAddress: string): string {
  if (bindAddress !== '0.0.0.0' && bindAddress !== '::') return bindAddress;
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}

export async function startControlPlane(opts: ControlPlaneOptions): Promise<RunningControlPlane> {
  const log = opts.log;
  const clock = opts.clock ?? realClock;
  const dataDir = resolve(opts.dataDir);
  parseCidr(opts.clusterCIDR); // reject a malformed cluster CIDR before touching anything
  nodeCIDRLayout(opts.clusterCIDR, opts.nodeCIDRMaskSize ?? 24); // knode-node-ipam: and a mask size that does not fit it
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const advertiseAddress = opts.advertiseAddress ?? defaultAdvertiseAddress(opts.bindAddress);

  const index = servedResources();
  const ownStore = opts.store === undefined;
  const store = opts.store ?? (opts.etcd !== undefined ? await connectEtcd(opts.etcd, log) : SqliteStore.open(join(dataDir, 'state.db'), { synchronous: opts.synchronous ?? 'FULL' }));
  const abort = new AbortController();
  const background: Array<Promise<unknown>> = [];
  let server: ApiServer | undefined;
  try {
    const services = new ServiceAllocation(store, { serviceCIDR: opts.serviceCIDR, nodePortRange: opts.nodePortRange ?? { min: 30000, max: 32767 } });
    const pki = await loadOrCreateClusterPKI(join(dataDir, 'pki'), {
      bindAddress: opts.bindAddress,
      serviceIP: services.kubernetesServiceIP(),
      extraSANs: advertiseAddress !== opts.bindAddress ? [advertiseAddress] : [],
    });
    for (const a of pki.actions) log.info({ action: a.kind }, 'pki');

    const namespaces = index.find('', 'v1', 'namespaces');
    const secrets = index.find('', 'v1', 'secrets');
    if (!namespaces || !secrets) throw new Error('core resources missing from the resource table');
    // ---- authorization: the chain of --authorization-mode, and the admission checks that need the writer ----
    const modes = opts.authorizationModes ?? DEFAULT_AUTHORIZATION_MODES;
    let authorizer: AuthorizerChain | undefined;
    const plugins: AdmissionPlugin[] = [
      new NamespaceLifecycle(() => namespaces),
      new ServiceAccountAdmission(() => index.find('', 'v1', 'serviceaccounts')),
      new DefaultTolerationSeconds(),
      services,
    ];
    if (modes.includes('Node')) plugins.push(new NodeRestriction());
    if (modes.includes('RBAC')) plugins.push(new RbacEscalationCheck(() => authorizer, () => authorizer?.rbac));
    const admission = new AdmissionChain(plugins);
    const registry = new Registry(store, admission, clock);
    await bootstrapCluster(registry, index, services, { advertiseAddress, securePort: opts.port, caPem: pki.caCertPem }, log);
    // the default roles, and admin/edit/view aggregated before the first request is judged
    const aggregation = new ClusterRoleAggregationController(registry, index, clock, log.child({ component: 'clusterrole-aggregation' }));
    if (modes.includes('RBAC')) await reconcileDefaultPolicy(registry, index, log.child({ component: 'rbac-bootstrap' }));
    await aggregation.syncAll();
    background.push(aggregation.run(abort.signal));
    background.push(new RootCAPublisher(registry, index, clock, log.child({ component: 'root-ca-publisher' }), pki.caCertPem).run(abort.signal));
    authorizer = await startAuthorization(modes, { store, clock, log: log.child({ component: 'authorizer' }) }, abort.signal);
    log.info({ modes: modes.join(',') }, 'authorization');

    const lookupSecret = async (ns: string, name: string): Promise<SecretLike | undefined> => {
      try {
        return (await registry.get(secrets, ns, name)) as KubeObject as unknown as SecretLike;
      } catch (err) {
        if (err instanceof ApiError && err.httpCode === 404) return undefined;
        throw err;
      }
    };
    // ---- knode-kubelet: the apiserver's client certificate for kubelets (pods/log proxy, node-proxy.ts) ----
    const kubeletClient = await kubeletClientTls(pki.ca, pki.caCertPem);
    // ---- end knode-kubelet ----
    // ---- service account tokens: the signing key, the issuer, and their authenticator ----
    const tokens = new TokenIssuer(await loadOrCreateServiceAccountKey(join(dataDir, 'pki')), opts.serviceAccountIssuer ?? DEFAULT_ISSUER);
    const lookupObject = async (plural: 'serviceaccounts' | 'pods' | 'secrets', ns: string, name: string): Promise<KubeObject | undefined> => {
      const e = index.find('', 'v1', plural);
      if (e === undefined) return undefined;
      try {
        return await registry.get(e, ns, name);
      } catch (err) {
        if (err instanceof ApiError && err.httpCode === 404) return undefined;
        throw err;
      }
    };
    const authenticator = new UnionAuthenticator([
      new ClientCertAuthenticator(),
      new ServiceAccountTokenAuthenticator(tokens, { get: lookupObject }, () => clock.now().getTime()),
      new BootstrapTokenAuthenticator({ lookupSecret, now: () => clock.now() }),
    ]);
    const deps = {
      registry,
      index,
      clock,
      log: log.child({ component: 'apiserver' }),
      buildTable,
      bookmarkIntervalMs: opts.bookmarkIntervalMs ?? 60_000,
      kubeletClient, // knode-kubelet: read by node-proxy.ts (kubeletClientFrom)
      tokens,
    };
    server = new ApiServer({
      bindAddress: opts.bindAddress,
      port: opts.port,
      advertiseAddress,
      tls: { certPem: pki.servingCertPem, keyPem: pki.servingKeyPem, caPem: pki.caCertPem },
      authenticator,
      authorizer,
      apiAudience: tokens.apiAudience,
      anonymousAuth: opts.anonymousAuth !== false && !(modes.length === 1 && modes[0] === 'AlwaysAllow'),
      log: log.child({ component: 'apiserver' }),
      deps,
    });
    const addr = await server.listen();
    const host = opts.bindAddress === '0.0.0.0' || opts.bindAddress === '::' ? advertiseAddress : opts.bindAddress;
    const url = `https://${host.includes(':') ? `[${host}]` : host}:${addr.port}`;

    const gc = new GarbageCollector(registry, index, clock, log.child({ component: 'garbage-collector' }));
    background.push(gc.run(abort.signal));
    const nsController = new NamespaceController(registry, index, clock, log.child({ component: 'namespace-controller' }));
    background.push(nsController.run(abort.signal));
    // ---- knode-node-ipam: a spec.podCIDR for every Node, from the cluster CIDR ----
    const nodeIpam = new NodeIpamController(registry, index, clock, log.child({ component: 'node-ipam' }), {
      clusterCIDR: opts.clusterCIDR,
      nodeCIDRMaskSize: opts.nodeCIDRMaskSize ?? 24,
    });
    background.push(nodeIpam.run(abort.signal));
    // ---- end knode-node-ipam ----
    // ---- node TLS bootstrap: approve and sign kubelet client CSRs with the cluster CA ----
    const csrDeps = { registry, index, clock };
    // upstream's SubjectAccessReview: may the requester create certificatesigningrequests/<nodeclient|selfnodeclient>?
    const chain = authorizer;
    const allowed = (name: string, groups: readonly string[], subresource: string): boolean =>
      chain.allowed({ user: { name, groups }, verb: 'create', resourceRequest: true, apiGroup: 'certificates.k8s.io', resource: 'certificatesigningrequests', subresource, namespace: '', name: '', path: '' });
    background.push(new CsrApprover({ ...csrDeps, log: log.child({ component: 'csr-approver' }) }, { allowed }).run(abort.signal));
    background.push(new CsrSigner({ ...csrDeps, log: log.child({ component: 'csr-signer' }) }, { ca: pki.ca }).run(abort.signal));
    background.push(
      startCompactor(store, { intervalMs: opts.compaction?.intervalMs ?? 300_000, keepRevisions: opts.compaction?.keepRevisions ?? 10_000, clock, onError: (err) => log.warn({ err: String(err) }, 'compaction failed') }, abort.signal),
    );


    const kubeconfigPath = join(dataDir, 'admin.kubeconfig');
    await writeKubeconfig(kubeconfigPath, {
      clusterName: 'knode',
      server: url,
      caPem: pki.caCertPem,
      user: 'kubernetes-admin',
      clientCertPem: pki.adminCertPem,
      clientKeyPem: pki.adminKeyPem,
      contextName: 'knode',
    });
    // the controller manager talks to this apiserver like any client (loopback, admin credentials)
    const managers = new AbortController();
    const managed: Array<Promise<unknown>> = [];
    let loopback: KubeClient | undefined;
    if (opts.controllers !== false) {
      const cfg = opts.controllers ?? {};
      loopback = await KubeClient.fromKubeconfigFile(kubeconfigPath, { userAgent: 'knode-controller-manager' });
      const cm = runControllerManager(
        {
          client: loopback,
          clock,
          log: log.child({ component: 'controller-manager' }),
          registry: server.metrics,
          component: 'kube-controller-manager',
          leaderElection: { namespace: 'kube-system', name: 'kube-controller-manager' },
          controllers: (ctx) => buildControllers(ctx, cfg),
        },
        managers.signal,
      );
      managed.push(cm.done);
      if (cfg.enabled === undefined || cfg.enabled.includes('scheduler')) {
        const sched = runScheduler({ client: loopback, clock, log: log.child({ component: 'scheduler' }), registry: server.metrics, leaderElection: {} }, managers.signal);
        managed.push(sched.done);
      }
    }
    let dns: RunningClusterDns | undefined;
    let dnsClient: KubeClient | undefined;
    if (opts.dns !== undefined && opts.dns.port !== 0) {
      const dnsHost = opts.bindAddress === '0.0.0.0' || opts.bindAddress === '::' ? advertiseAddress : opts.bindAddress;
      dnsClient = await KubeClient.fromKubeconfigFile(kubeconfigPath, { userAgent: 'knode-dns' });
      try {
        dns = await startClusterDns({
          host: dnsHost,
          port: opts.dns.port,
          zone: opts.dns.zone ?? 'cluster.local',
          client: dnsClient,
          clock,
          log: log.child({ component: 'dns' }),
          metrics: server.metrics,
          selfAddresses: [services.dnsServiceIP()],
          ...(opts.dns.upstreams !== undefined ? { upstreams: opts.dns.upstreams } : {}),
        });
        const ip = await bootstrapClusterDns(registry, index, services, { host: dnsHost, port: dns.port });
        log.info({ service: 'kube-system/kube-dns', clusterIP: ip, endpoint: `${dnsHost}:${dns.port}` }, 'cluster DNS published');
      } catch (err) {
        // The control plane is still useful without DNS (a port already taken, say): say so and go on.
        log.error({ err: String(err), host: dnsHost, port: opts.dns.port }, 'cluster DNS not started');
        await dns?.stop();
        dns = undefined;
        dnsClient.close();
        dnsClient = undefined;
      }
    }
    const running = server;
    return {
      url,
      kubeconfigPath,
      caPem: pki.caCertPem,
      store,
      stop: async () => {
        // controllers first, while the apiserver still answers (they release their leases)
        managers.abort();
        await Promise.allSettled(managed);
        loopback?.close();
        await dns?.stop();
        dnsClient?.close();
        abort.abort();
        await running.close();
        await Promise.allSettled(background);
        if (ownStore) await store.close();
      },
    };
  } catch (err) {
    abort.abort();
    await server?.close();
    await Promise.allSettled(background);
    if (ownStore) await store.close();
    throw err;
  }
}

// ---- knode-kubelet ------------------------------------------------------------------------------------
/**
 * The apiserver -> kubelet TLS: a client certificate (CN kube-apiserver-kubelet-client, O system:masters,
 * signed by the cluster CA, made fresh at each start) and the CAs a kubelet serving certificate may
 * chain to. knode agents serve a self-signed certificate (a per-node CA, as upstream's kubelet does
 * without --tls-cert-file) and publish that CA on their Node (kubelet/serving-cert.ts); node-proxy.ts
 * trusts, per connection, the cluster CA plus the CA of the node it connects to. Caveat: a node's CA is
 * whatever its Node object says, and any authenticated user may write Node objects today (no
 * authorization yet); upstream's default (no --kubelet-certificate-authority) verifies nothing at all.
 */
interface KubeletTls {
  readonly certPem: string;
  readonly keyPem: string;
  readonly caPem: string;
}

async function kubeletClientTls(ca: Parameters<typeof createClientCert>[0], caPem: string): Promise<KubeletTls> {
  const pair = await createClientCert(ca, { commonName: 'kube-apiserver-kubelet-client', organizations: ['system:masters'] });
  return { ...(await encodeCertKeyPair(pair)), caPem };
}

// ---- end knode-kubelet ----------------------------------------------------------------------------------

/** Reads a kubeconfig written by `startControlPlane` (used by CLI commands that talk to the server). */
export async function readAdminKubeconfig(dataDir: string): Promise<string> {
  return readFile(join(resolve(dataDir), 'admin.kubeconfig'), 'utf8');
}
