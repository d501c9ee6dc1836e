/**
 * The kubelet of `knode agent`, composed (see DESIGN.md for the flow):
 *   credentials   bootstrapNodeCredentials (bootstrap token -> CSR -> kubelet.kubeconfig), or a given
 *                 kubeconfig;
 *   runtime       connectCri (refuses an unreachable socket or a non-v1 runtime, naming the socket);
 *   node          NodeStatusReporter (registration, conditions, status) + LeaseRenewer;
 *   sources       informer on pods with spec.nodeName=<node>, static pod manifests (+ mirror pods);
 *   pods          PodSources -> PodWorkers -> PodSyncer (planner, executor, status, probes), PLEG,
 *                 orphan housekeeping, container GC; volumes with bound service account tokens
 *                 (TokenRequest through this node's client, volumes/tokens.ts), rewritten on the
 *                 pod resync once a token is 80% through its life;
 *   server        HTTPS :10250 (/healthz, /pods, /containerLogs, /metrics) with a self-signed
 *                 serving certificate per node (the apiserver proxies with its client certificate
 *                 and does not verify kubelet serving certificates; see control-plane/main.ts).
 * `stop()` ends every loop and closes the connections; it never stops a container: an agent restart
 * finds its pods in the runtime (labels and annotations) and leaves running containers alone.
 *
 * Cost model at rest: PLEG 2 CRI lists/s, one resync pass per pod per 10 s (4-6 CRI calls + a status
 * compare), node status every 10 s, lease every 10 s, GC once a minute.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { ConfigMap } from '../api/core/configmap.js';
import type { Pod } from '../api/core/pod.js';
import type { Secret } from '../api/core/secret.js';
import type { Service } from '../api/core/service.js';
import { realClock } from '../lib/clock.js';
import type { Clock } from '../lib/clock.js';
import { bootstrapNodeCredentials } from '../lib/client/bootstrap.js';
import { KubeClient } from '../lib/client/client.js';
import { isNotFound } from '../lib/client/errors.js';
import { resources } from '../lib/client/resource.js';
import { SharedInformerFactory } from '../lib/client/shared-informer-factory.js';
import { clientEventSink, EventRecorder } from '../lib/client/events.js';
import type { Logger } from '../lib/log.js';
import { createImagePullBackoff, createRestartBackoff } from './backoff.js';
import { connectCri } from './cri/connect.js';
import type { CriConnection } from './cri/connect.js';
import { CriMetrics } from './cri/instrumented.js';
import { PodExecutor } from './executor.js';
import type { LifecycleHooks } from './executor.js';
import { PodEnvResolver } from './env.js';
import { ContainerGC } from './gc.js';
import { runLifecycleHandler } from './lifecycle.js';
import type { LifecycleDeps } from './lifecycle.js';
import { MirrorPodManager } from './mirror-pods.js';
import { LinuxHostProbe } from './node/host-info.js';
import { LeaseRenewer } from './node/lease-renewer.js';
import { NodeStatusReporter } from './node/status-reporter.js';
import { OverlayAgent } from '../cni/overlay/agent.js';
import { VxlanDevice } from '../cni/overlay/device.js';
import { IpBatchOverlayExecutor } from '../cni/overlay/netlink-executor.js';
import { applyMasquerade } from '../cni/overlay/masquerade.js';
import type { Node } from '../api/core/node.js';
import { realExec } from '../lib/exec.js';
import { builtPluginPath, DEFAULT_CNI_SOCKET, ensureCniInstalled, gcAllocations } from '../cni/install.js';
import { defaultDataDir } from '../cni/config.js';
import { builtFastPathFiles, disableFastPath, fastPathPods, loadFastPath } from '../cni/fastpath/fastpath.js';
import type { FastPath } from '../cni/fastpath/fastpath.js';
import { FileStore } from '../cni/ipam/file-store.js';
import { realNodeHost } from '../cni/node-host.js';
import { createCniHandlers, startCniServer } from '../cni/agent-server.js';
import type { CniServer } from '../cni/agent-server.js';
import { defaultNodeStateFile } from '../cni/config.js';
import { fileURLToPath } from 'node:url';
import { Pleg } from './pleg.js';
import { findOrphans, isStaticPod, PodSources } from './pod-sources.js';
import { PodSyncer } from './pod-sync.js';
import { PodWorkers } from './pod-workers.js';
import { ProberMetrics } from './probes/metrics.js';
import { ProbeManager } from './probes/manager.js';
import { defaultKubeletAuthorizer } from './server/auth.js';
import { KubeletServer } from './server/server.js';
import { KUBELET_SERVING_CA_ANNOTATION, loadOrCreateServingCert, publishServingCA, servingCA } from './serving-cert.js';
import { StaticPodSource } from './static-pods.js';
import { createProxier } from '../kube-proxy/main.js';
import type { KubeProxyConfig } from '../kube-proxy/main.js';
import { StatusManager } from './status-manager.js';
import type { ObjectLookup, RuntimePod } from './types.js';
import { HostVolumeManager } from './volumes/manager.js';
import { ServiceAccountTokenManager } from './volumes/tokens.js';
import type { TokenRequest } from './volumes/tokens.js';

export interface KubeletConfig {
  /** `https://host:port` of the apiserver (with a token; a kubeconfig names its own). */
  readonly server?: string;
  /** Bootstrap token `<id>.<secret>`. */
  readonly token?: string;
  /** A kubeconfig to use as it is, instead of bootstrapping. */
  readonly kubeconfig?: string;
  /** The cluster CA, to verify the apiserver during bootstrap. */
  readonly caFile?: string;
  /** Without caFile: pin of the CA found in kube-public/cluster-info. */
  readonly caCertHash?: string;
  readonly nodeName: string;
  readonly nodeIP: string;
  /** `unix:///path/containerd.sock` or a bare path. */
  readonly containerd: string;
  /** Credentials, pod volumes, pod logs live here. */
  readonly dataDir: string;
  readonly podCIDR?: string;
  /** cgroupfs parent of every pod cgroup (the lab's /knode-<lab>/<node>). */
  readonly cgroupRoot?: string;
  readonly clusterDNS: readonly string[];
  readonly clusterDomain: string;
  readonly podManifestPath?: string;
  readonly port: number;
  /** The node's resolv.conf (pods with dnsPolicy Default and the search list). */
  readonly resolvConf?: string;
  /** The VXLAN overlay (cni/overlay/agent.ts); omitted: this agent does not program pod networking. */
  readonly overlay?: OverlayConfig;
  /** kube-proxy (kube-proxy/main.ts) on this node's informers; omitted: Services are someone else's job. */
  readonly proxy?: KubeProxyConfig;
  readonly log: Logger;
  readonly clock?: Clock;
}

export interface OverlayConfig {
  /** The underlay interface; default: the one holding the node IP. */
  readonly iface?: string;
  readonly clusterCIDR: string;
  readonly vni: number;
  readonly port: number;
  readonly device: string;
  /** knode-cni's node state file, written from the Node's podCIDR; default: what the CNI config names. */
  readonly nodeStateFile?: string;
  /** Where the runtime looks for CNI configs and plugins; the agent installs knode-cni there. */
  readonly cniConfDir: string;
  readonly cniBinDir: string;
  /** Where the agent serves knode-cni (the bin dir's knode-cni is its thin client); default DEFAULT_CNI_SOCKET. */
  readonly cniSocket?: string;
  /** The pod fast path (cni/fastpath/) and its bpffs directory; off: pods use the normal path only. */
  readonly fastPath?: { readonly dir: string; readonly enabled: boolean };
}

export interface RunningKubelet {
  readonly nodeName: string;
  /** The port the kubelet server listens on. */
  readonly port: number;
  /** Stops every loop; containers keep running. */
  stop(): Promise<void>;
}

/** Which list of the spec an event's container is in, for its fieldPath. */
function containerListOf(pod: Pod, c: { name: string; init: boolean }): string {
  if (c.init) return 'initContainers';
  return (pod.spec.ephemeralContainers ?? []).some((e) => e.name === c.name) ? 'ephemeralContainers' : 'containers';
}

/** ObjectLookup over direct GETs (ConfigMaps, Secrets) and a Service informer. */
function apiLookup(client: KubeClient, services: () => readonly Service[]): ObjectLookup {
  const getOpt = async <T>(ref: typeof resources.configMaps, ns: string, name: string): Promise<T | undefined> => {
    try {
      return (await client.get(ref, name, { namespace: ns })) as unknown as T;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  };
  return {
    getConfigMap: (ns, name) => getOpt<ConfigMap>(resources.configMaps, ns, name),
    getSecret: (ns, name) => getOpt<Secret>(resources.secrets, ns, name),
    listServices: async (ns) => services().filter((s) => s.metadata.namespace === ns),
  };
}

/** The hooks the executor runs, over lifecycle.ts. */
function lifecycleHooks(deps: LifecycleDeps): LifecycleHooks {
  return {
    postStart: async (pod, container, containerId, podIP) => {
      const handler = container.lifecycle?.postStart;
      if (!handler) return;
      const r = await runLifecycleHandler(deps, handler, { pod, container, containerId, podIP });
      if (!r.ok) throw new Error(r.message);
    },
    preStop: async (pod, containerName, handler, containerId, podIP) => {
      // an orphan has no pod object: a stand-in carries the names for messages
      const target = pod ?? { metadata: { name: '', namespace: '' }, spec: { containers: [{ name: containerName }] } };
      const container = [...(target.spec.initContainers ?? []), ...target.spec.containers].find((c) => c.name === containerName) ?? { name: containerName };
      const r = await runLifecycleHandler(deps, handler, { pod: target, container, containerId, podIP });
      if (!r.ok) throw new Error(r.message);
    },
  };
}

async function clientFor(cfg: KubeletConfig, clock: Clock, log: Logger): Promise<KubeClient> {
  if (cfg.kubeconfig !== undefined) return KubeClient.fromKubeconfigFile(cfg.kubeconfig, { userAgent: `knode-agent/${cfg.nodeName}` });
  if (cfg.server === undefined || cfg.token === undefined) throw new Error('knode agent needs --server with --token, or --kubeconfig.');
  const caPem = cfg.caFile !== undefined ? await readFile(cfg.caFile, 'utf8') : undefined;
  const creds = await bootstrapNodeCredentials({
    server: cfg.server,
    token: cfg.token,
    nodeName: cfg.nodeName,
    dir: join(cfg.dataDir, 'pki'),
    clock,
    log,
    ...(caPem !== undefined ? { caPem } : {}),
    ...(cfg.caCertHash !== undefined ? { caCertHash: cfg.caCertHash } : {}),
  });
  log.info({ reused: creds.reused, notAfter: creds.notAfter.toISOString() }, 'node credentials ready');
  return KubeClient.fromKubeconfigFile(creds.kubeconfigPath, { userAgent: `knode-agent/${cfg.nodeName}` });
}

async function readHostResolvConf(path: string, log: Logger): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    log.warn({ path, err: err instanceof Error ? err.message : String(err) }, 'cannot read the node resolv.conf; pods with dnsPolicy Default get no nameserver');
    return '';
  }
}

export async function startKubelet(cfg: KubeletConfig): Promise<RunningKubelet> {
  const clock = cfg.clock ?? realClock;
  const log = cfg.log;
  const dataDir = resolve(cfg.dataDir);
  const podLogsDir = join(dataDir, 'pod-logs');
  await mkdir(podLogsDir, { recursive: true });
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  // runtime first: a missing socket is the most common mistake, name it before anything else waits
  let cri: CriConnection;
  try {
    cri = await connectCri({ endpoint: cfg.containerd, metrics: new CriMetrics(registry), connectTimeoutMs: 10_000 });
  } catch (err) {
    throw new Error(`cannot use the container runtime at ${cfg.containerd}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  log.info({ runtime: cri.version.runtimeName, version: cri.version.runtimeVersion }, 'connected to the container runtime');

  let client: KubeClient;
  try {
    client = await clientFor(cfg, clock, log);
  } catch (err) {
    cri.close();
    throw err;
  }
  const abort = new AbortController();
  const signal = abort.signal;
  const background: Array<Promise<unknown>> = [];
  const bg = (name: string, p: Promise<unknown>): void => {
    background.push(p.catch((err: unknown) => log.error({ loop: name, err: err instanceof Error ? err.message : String(err) }, 'background loop ended with an error')));
  };

  // ---- node ----
  const host = new LinuxHostProbe({ rootDir: dataDir });
  const machine = await host.machineInfo();
  // the serving CA goes on the Node at registration, so the apiserver can reach this kubelet at once
  const serving = await loadOrCreateServingCert(join(dataDir, 'pki'), cfg.nodeName, [cfg.nodeIP], clock.now());
  const reporter = new NodeStatusReporter({
    client,
    runtime: cri.runtime,
    host,
    config: {
      nodeName: cfg.nodeName,
      nodeIPs: [cfg.nodeIP],
      kubeletPort: cfg.port,
      annotations: { [KUBELET_SERVING_CA_ANNOTATION]: servingCA(serving) },
      ...(cfg.podCIDR ? { podCIDR: cfg.podCIDR } : {}),
    },
    clock,
    log,
  });
  const lease = new LeaseRenewer({ client, nodeName: cfg.nodeName, clock, log, nodeUid: async () => (await reporter.registered.catch(() => undefined))?.metadata.uid });

  // ---- pods ----
  const recorder = new EventRecorder(clientEventSink(client), 'kubelet', clock, log, cfg.nodeName);
  const factory = new SharedInformerFactory(client, { clock, log });
  const podInformer = factory.informerFor<Pod>(resources.pods, { fieldSelector: `spec.nodeName=${cfg.nodeName}` });
  const serviceInformer = factory.informerFor<Service>(resources.services);
  const lookup = apiLookup(client, () => serviceInformer.list());
  const tokens = new ServiceAccountTokenManager({
    request: (ns, sa, tr) => client.createSubresource<TokenRequest>(resources.serviceAccounts, sa, 'token', tr, { namespace: ns }),
    clock,
    log: log.child({ component: 'tokens' }),
  });
  const volumes = new HostVolumeManager({ rootDir: dataDir, lookup, tokens, clock, clusterDomain: cfg.clusterDomain, log });
  const env = new PodEnvResolver(lookup);
  const restartBackoff = createRestartBackoff(clock);
  const imageBackoff = createImagePullBackoff(clock);
  const runtimePods = new Map<string, RuntimePod>();

  let workers: PodWorkers | undefined;
  const probes = new ProbeManager({
    runtime: cri.runtime,
    clock,
    log,
    nodeIP: cfg.nodeIP,
    metrics: new ProberMetrics(registry),
    onChange: (c) => workers?.trigger(c.podUid),
    // Unhealthy / ProbeWarning about the probed container (a sidecar is one of the initContainers)
    events: (e) => {
      const init = (e.pod.spec.initContainers ?? []).some((c) => c.name === e.containerName);
      recorder.record(e.pod, { apiVersion: 'v1', kind: 'Pod', fieldPath: `spec.${init ? 'initContainers' : 'containers'}{${e.containerName}}` }, e.type, e.reason, e.message);
    },
  });
  const executor = new PodExecutor({
    runtime: cri.runtime,
    images: cri.image,
    volumes,
    env,
    hooks: lifecycleHooks({ runtime: cri.runtime, clock, log }),
    clock,
    log,
    restartBackoff,
    imageBackoff,
    nodeName: cfg.nodeName,
    nodeIP: cfg.nodeIP,
    memoryCapacity: machine.memoryBytes,
    dns: { clusterDNS: cfg.clusterDNS, clusterDomain: cfg.clusterDomain, hostResolvConf: await readHostResolvConf(cfg.resolvConf ?? '/etc/resolv.conf', log) },
    podLogsDir,
    cgroupParentOf: (pod) => `${(cfg.cgroupRoot ?? '').replace(/\/+$/, '')}/kubepods/pod${pod.metadata.uid ?? ''}`,
    configSourceOf: (pod) => (isStaticPod(pod) ? 'file' : 'api'),
    events: (pod, type, reason, message, container) =>
      recorder.record(pod, { apiVersion: 'v1', kind: 'Pod', ...(container !== undefined ? { fieldPath: `spec.${containerListOf(pod, container)}{${container.name}}` } : {}) }, type, reason, message),
  });
  let sources: PodSources | undefined;
  const statusManager = new StatusManager({ client, log, isStaticPod, mirrorPodOf: (p) => sources?.mirrorPodOf(p) });
  const syncer = new PodSyncer({
    runtime: cri.runtime,
    images: cri.image,
    executor,
    statusManager,
    volumes,
    probes,
    restartBackoff,
    imageBackoff,
    clock,
    log,
    nodeIP: cfg.nodeIP,
    runtimeName: cri.version.runtimeName,
    isStaticPod,
    onSynced: (uid, _pod, rp) => {
      if (rp === undefined) runtimePods.delete(uid);
      else runtimePods.set(uid, rp);
    },
  });
  const podWorkers = new PodWorkers({ handler: syncer, clock, log });
  workers = podWorkers;
  let wakeMirrors: (() => void) | undefined;
  const podSources = new PodSources(podWorkers, podInformer, { staticPods: cfg.podManifestPath !== undefined, onMirrorChange: () => wakeMirrors?.() });
  sources = podSources;
  podSources.start();

  const pleg = new Pleg({
    runtime: cri.runtime,
    clock,
    log,
    onChange: (uids) => {
      for (const uid of uids) podWorkers.trigger(uid);
    },
  });
  const gc = new ContainerGC({ runtime: cri.runtime, activePodUIDs: () => podSources.activeUids(), ready: () => podSources.synced(), clock, log });

  let mirrors: MirrorPodManager | undefined;
  let staticSource: StaticPodSource | undefined;
  if (cfg.podManifestPath !== undefined) {
    const m = new MirrorPodManager({ client, nodeName: cfg.nodeName, clock, log });
    mirrors = m;
    // setStaticPods wakes the manager's loop; the set is unchanged
    wakeMirrors = () => m.setStaticPods(staticSource?.pods ?? []);
    staticSource = new StaticPodSource({
      dir: cfg.podManifestPath,
      nodeName: cfg.nodeName,
      clock,
      log,
      onChange: (pods) => {
        podSources.setStaticPods(pods);
        m.setStaticPods(pods);
      },
    });
  }

  // ---- overlay: the VXLAN device, peers from every Node, masquerade, the CNI node state ----
  let overlay: OverlayAgent | undefined;
  let cniServer: CniServer | undefined;
  let fastPath: FastPath | undefined;
  if (cfg.overlay !== undefined) {
    const o = cfg.overlay;
    let nodeStateFile = o.nodeStateFile;
    try {
      // knode-cni runs in this process (cni/agent-server.ts) behind a thin client; first, so the GC
      // below goes through it too. The client runs the binary itself whenever this server is down.
      const socketPath = o.cniSocket ?? DEFAULT_CNI_SOCKET;
      if (o.fastPath !== undefined) {
        const files = builtFastPathFiles(fileURLToPath(import.meta.url));
        const fpDeps = { exec: realExec, log: log.child({ component: 'fastpath' }), registry };
        if (o.fastPath.enabled) fastPath = await loadFastPath(files, o.fastPath.dir, fpDeps);
        else await disableFastPath(files, o.fastPath.dir, fpDeps);
      }
      cniServer = await startCniServer({ socketPath, handlers: createCniHandlers(process.env['PATH'], fastPath), log: log.child({ component: 'cni' }) });
      const active = await ensureCniInstalled({ confDir: o.cniConfDir, binDir: o.cniBinDir, pluginPath: builtPluginPath(fileURLToPath(import.meta.url)), socketPath });
      if (active.created.length > 0) log.info({ created: active.created }, 'installed knode-cni');
      if (active.plugin === undefined) {
        log.warn({ confFile: active.confFile }, 'the CNI config the runtime loads does not run knode-cni: pods get their network from it, the overlay still connects the nodes');
      }
      nodeStateFile ??= active.nodeStateFile;
      // reconcile IPs with the sandboxes the runtime still has, before any new sandbox is started
      const { items } = await cri.runtime.listPodSandbox({});
      await gcAllocations({ exec: realExec, binDir: o.cniBinDir, cni: active, containerIds: items.map((s) => s.id) }).then(
        () => log.info({ sandboxes: items.length }, 'reconciled CNI allocations with the runtime'),
        (err: unknown) => log.error({ err: err instanceof Error ? err.message : String(err) }, 'CNI GC at start failed; allocations of vanished sandboxes may leak until the next start'),
      );
      if (fastPath !== undefined && active.plugin !== undefined) {
        const dataDir = typeof active.plugin['dataDir'] === 'string' ? active.plugin['dataDir'] : defaultDataDir(active.network);
        await fastPath.reconcile(fastPathPods(new FileStore(dataDir).listAttachments()), realNodeHost.linkNames());
      }
    } catch (err) {
      await cniServer?.close();
      cri.close();
      client.close();
      throw new Error(`cannot set up knode-cni on this node: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    overlay = new OverlayAgent({
      nodeName: cfg.nodeName,
      nodeIP: cfg.nodeIP,
      ...(o.iface !== undefined ? { iface: o.iface } : {}),
      device: o.device,
      vni: o.vni,
      port: o.port,
      clusterCIDR: o.clusterCIDR,
      nodes: factory.informerFor<Node>(resources.nodes),
      publish: async (annotations) => {
        await client.patch(resources.nodes, cfg.nodeName, { metadata: { annotations } }, { type: 'merge' });
      },
      executor: new IpBatchOverlayExecutor({ exec: realExec, device: o.device }),
      control: new VxlanDevice({ exec: realExec }),
      masquerade: (cidr) => applyMasquerade(realExec, cidr),
      nodeStateFile: nodeStateFile ?? defaultNodeStateFile('knode'),
      clock,
      log: log.child({ component: 'overlay' }),
      registry,
      ...(fastPath !== undefined ? { fastPath } : {}),
    });
    try {
      await overlay.start();
    } catch (err) {
      await cniServer?.close();
      cri.close();
      client.close();
      throw new Error(`cannot set up the pod network overlay: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
  }

  // ---- kube-proxy ----
  const proxy = cfg.proxy !== undefined
    ? createProxier(cfg.proxy, { factory, nodeName: cfg.nodeName, nodeIPs: [cfg.nodeIP], registry, clock, log: log.child({ component: 'kube-proxy' }) })
    : undefined;

  // ---- metrics of our own ----
  new Gauge({
    name: 'kubelet_running_pods',
    help: 'Number of pods that have a running pod sandbox',
    registers: [registry],
    collect() {
      this.set([...runtimePods.values()].filter((p) => p.sandboxes.some((s) => s.state === 'ready')).length);
    },
  });
  new Gauge({
    name: 'kubelet_running_containers',
    help: 'Number of containers currently running',
    labelNames: ['container_state'],
    registers: [registry],
    collect() {
      const counts = new Map<string, number>();
      for (const p of runtimePods.values()) for (const c of p.containers) counts.set(c.state, (counts.get(c.state) ?? 0) + 1);
      this.reset();
      for (const [state, n] of counts) this.set({ container_state: state }, n);
    },
  });

  // ---- server ----
  const server = new KubeletServer({
    port: cfg.port,
    bindAddress: cfg.nodeIP,
    tls: serving,
    clientCaPem: client.config.caPem ?? '',
    pods: () => podSources.all(),
    runtimePod: (uid) => runtimePods.get(uid),
    runtime: cri.runtime,
    metrics: registry,
    podLogsRoot: podLogsDir,
    authorize: defaultKubeletAuthorizer,
    clock,
    log,
  });
  let port: number;
  try {
    port = (await server.start()).port;
  } catch (err) {
    await cniServer?.close();
    cri.close();
    client.close();
    throw new Error(`the kubelet server cannot listen on ${cfg.nodeIP}:${cfg.port}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }

  // ---- start ----
  bg('node-status', reporter.run(signal));
  bg('lease', lease.run(signal));
  bg('serving-ca', publishServingCA({ client, nodeName: cfg.nodeName, caPem: servingCA(serving), clock, log }, signal));
  factory.start(signal);
  if (staticSource) bg('static-pods', staticSource.run(signal));
  if (mirrors) bg('mirror-pods', mirrors.run(signal));
  bg('pod-workers', podWorkers.run(signal));
  bg('pleg', pleg.run(signal));
  bg('container-gc', gc.run(signal));
  bg('housekeeping', housekeeping());
  if (overlay !== undefined) bg('overlay', overlay.run(signal));
  if (proxy !== undefined) bg('kube-proxy', proxy.run(signal)); // stops with the signal, its servers closed
  log.info({ port, nodeIP: cfg.nodeIP, containerd: cri.endpoint }, 'kubelet started');

  /** Every 2 s: pods live in the runtime that no source wants are killed (upstream HandlePodCleanups). */
  async function housekeeping(): Promise<void> {
    while (!signal.aborted) {
      try {
        await clock.sleep(2_000, signal);
      } catch {
        return;
      }
      if (!podSources.synced() || !pleg.synced) continue;
      for (const uid of findOrphans(pleg.liveUids(), (u) => podSources.has(u), (u) => podWorkers.has(u))) {
        log.info({ uid }, 'killing an orphaned pod (no source has it)');
        podWorkers.killOrphan(uid);
      }
    }
  }

  return {
    nodeName: cfg.nodeName,
    port,
    stop: async () => {
      abort.abort();
      podSources.stop();
      await server.close();
      await probes.stop();
      await Promise.allSettled(background);
      await factory.stopped().catch(() => undefined);
      // CNI calls made from now on (a DEL while the agent restarts) run the binary, through the client
      await cniServer?.close();
      cri.close();
      client.close();
      log.info('kubelet stopped; containers keep running');
    },
  };
}
