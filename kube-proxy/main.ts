/**
 * kube-proxy composed for a real node: the proxier (proxier.ts) over the caller's shared informers
 * (Services, EndpointSlices, Nodes), `nft` and `conntrack` through lib/exec, /healthz on the node IP.
 * `knode agent` calls `createProxier` with the kubelet's informer factory and metrics registry;
 * `knode proxy` (cli/proxy.ts) does the same with its own. `cleanupProxyRules` is `--cleanup`: like
 * upstream's, it removes what either mode created, whatever the mode flag says (a node switched from
 * one mode to the other keeps no rules of the old one): `table ip knode-proxy` and the service tables
 * `knode-proxy-svc-N`, the jumps to KNODE-
 * chains and those chains, and nothing else (conntrack state is left alone).
 */
import type { Registry } from 'prom-client';
import type { Node } from '../api/core/node.js';
import type { Service } from '../api/core/service-types.js';
import type { EndpointSlice } from '../api/discovery/endpointslice.js';
import type { Clock } from '../lib/clock.js';
import { resources } from '../lib/client/resource.js';
import type { SharedInformerFactory } from '../lib/client/shared-informer-factory.js';
import type { Exec } from '../lib/exec.js';
import type { Logger } from '../lib/log.js';
import { ConntrackCli } from './conntrack.js';
import { DEFAULT_HEALTHZ_PORT } from './healthz.js';
import { IptablesBackend } from './iptables/backend.js';
import { IptablesCli } from './iptables/runner.js';
import { NftBackend } from './nftables/backend.js';
import { NftNetlink } from './nftables/netlink/socket.js';
import { NftCli } from './nftables/runner.js';
import { Proxier } from './proxier.js';

export type ProxyMode = 'nftables' | 'iptables' | 'none';
export const PROXY_MODES: readonly ProxyMode[] = ['nftables', 'iptables', 'none'];

/** The settings a user gives (agent or standalone flags). */
export interface KubeProxyConfig {
  readonly mode: ProxyMode;
  readonly clusterCIDR?: string;
  readonly masqueradeAll?: boolean;
  readonly minSyncPeriodMs?: number;
  readonly syncPeriodMs?: number;
  /** /healthz port on the node IP; 0 turns it off. Default 10256. */
  readonly healthzPort?: number;
}

export interface ProxierDeps {
  readonly factory: SharedInformerFactory;
  readonly nodeName: string;
  readonly nodeIPs: readonly string[];
  readonly registry: Registry;
  readonly clock: Clock;
  readonly log: Logger;
  /** Serve the registry on the healthz server too (the standalone proxy has no other server). */
  readonly serveMetrics?: boolean;
  /** nft, iptables and conntrack in this network namespace; default: the process's own. */
  readonly netnsPath?: string;
  readonly exec?: Exec;
}

/**
 * The proxier for `cfg.mode` (undefined for none). Asks the factory for its informers, so call it
 * before the factory starts; then `run(signal)` it.
 */
export function createProxier(cfg: KubeProxyConfig, deps: ProxierDeps): Proxier | undefined {
  if (cfg.mode === 'none') return undefined;
  const runner = { ...(deps.exec !== undefined ? { exec: deps.exec } : {}), ...(deps.netnsPath !== undefined ? { netnsPath: deps.netnsPath } : {}) };
  const healthzPort = cfg.healthzPort ?? DEFAULT_HEALTHZ_PORT;
  const address = deps.nodeIPs[0];
  return new Proxier({
    nodeName: deps.nodeName,
    nodeIPs: deps.nodeIPs,
    ...(cfg.clusterCIDR !== undefined ? { clusterCIDR: cfg.clusterCIDR } : {}),
    ...(cfg.masqueradeAll === true ? { masqueradeAll: true } : {}),
    ...(cfg.minSyncPeriodMs !== undefined ? { minSyncPeriodMs: cfg.minSyncPeriodMs } : {}),
    ...(cfg.syncPeriodMs !== undefined ? { syncPeriodMs: cfg.syncPeriodMs } : {}),
    ...(healthzPort > 0 && address !== undefined ? { healthz: { address, port: healthzPort, serveMetrics: deps.serveMetrics === true } } : {}),
    services: deps.factory.informerFor<Service>(resources.services),
    slices: deps.factory.informerFor<EndpointSlice>(resources.endpointSlices),
    // all Nodes, not a field-selected watch: the overlay agent follows every Node through the same informer
    nodes: deps.factory.informerFor<Node>(resources.nodes),
    backend: cfg.mode === 'iptables' ? new IptablesBackend(new IptablesCli(runner)) : nftBackend(runner, deps.netnsPath === undefined && deps.exec === undefined),
    conntrack: new ConntrackCli(runner),
    registry: deps.registry,
    clock: deps.clock,
    log: deps.log,
  });
}

/**
 * Partial syncs over netlink only when this process runs in the node's namespace itself (no
 * netnsPath: a netlink socket always acts in the namespace of the process that opens it) and nft
 * is the real one (an injected Exec is a test's fake; netlink would bypass it).
 */
function nftBackend(runner: ConstructorParameters<typeof NftCli>[0], useNetlink: boolean): NftBackend {
  return new NftBackend(new NftCli(runner), useNetlink ? { netlink: new NftNetlink() } : {});
}

/** `knode proxy --cleanup`: removes the rules of both modes (where present) and nothing else. */
export async function cleanupProxyRules(opts: { readonly exec?: Exec; readonly netnsPath?: string } = {}): Promise<void> {
  await new NftCli(opts).cleanup();
  await new IptablesCli(opts).cleanup();
}
