/**
 * `knode agent`: the node agent (kubelet) until SIGTERM or SIGINT. It joins with a bootstrap token
 * (or uses a kubeconfig), registers the Node and runs the pods bound to it through containerd.
 * Stopping the agent leaves every container running; the next start picks them up unchanged.
 *   knode agent --server https://10.0.0.10:6443 --token <id.secret> --ca-file ca.crt --node-name w1
 *     --node-ip 10.0.0.11 --containerd unix:///run/containerd/containerd.sock --data-dir /var/lib/knode
 */
import { setFlagsFromString } from 'node:v8';
import { Command, InvalidArgumentError } from 'commander';
import { createLogger } from '../lib/log.js';
import { cidrFlag, ipFlag, portFlag } from './flags.js';
import { healthzPortFlag, minSyncPeriodOption, proxyModeOption } from './proxy.js';
import type { ProxyMode } from '../kube-proxy/main.js';

interface AgentFlags {
  server?: string;
  token?: string;
  kubeconfig?: string;
  caFile?: string;
  discoveryTokenCaCertHash?: string;
  nodeName: string;
  nodeIp: string;
  containerd: string;
  dataDir: string;
  podCidr?: string;
  cgroupRoot?: string;
  clusterDns: string[];
  clusterDomain: string;
  podManifestPath?: string;
  port: number;
  resolvConf: string;
  overlay: boolean;
  iface?: string;
  clusterCidr: string;
  vxlanPort: number;
  vni: number;
  cniNodeState?: string;
  cniConfDir: string;
  cniBinDir: string;
  cniSocket?: string;
  fastPath: boolean;
  bpfDir: string;
  proxyMode: ProxyMode;
  minSyncPeriod: number;
  healthzPort: number;
}

const NODE_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export function nodeNameFlag(v: string): string {
  if (v.length > 253 || !NODE_NAME.test(v)) throw new InvalidArgumentError(`--node-name must be a lowercase DNS name such as w1 or node-1.example, got ${JSON.stringify(v)}.`);
  return v;
}

/** Where the agent pins the fast path's programs and maps (cni/fastpath/) unless told otherwise. */
export const DEFAULT_BPF_DIR = '/sys/fs/bpf/knode';

/** Pins can only live in a bpffs mount, which is /sys/fs/bpf on every distribution that has one. */
export function bpfDirFlag(v: string): string {
  if (!v.startsWith('/sys/fs/bpf/') || v.split('/').some((p) => p === '..') || v.length > 200) {
    throw new InvalidArgumentError(`--bpf-dir must be a directory under /sys/fs/bpf/ (the bpffs mount), got ${JSON.stringify(v)}.`);
  }
  return v.replace(/\/+$/, '');
}

export function tokenFlag(v: string): string {
  if (!/^[a-z0-9]{6}\.[a-z0-9]{16}$/.test(v)) throw new InvalidArgumentError('--token must look like abcdef.0123456789abcdef (see `knode token create`).');
  return v;
}

export function serverFlag(v: string): string {
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw new InvalidArgumentError(`--server must be a URL such as https://10.0.0.10:6443, got ${JSON.stringify(v)}.`);
  }
  if (u.protocol !== 'https:') throw new InvalidArgumentError(`--server must use https://, got ${JSON.stringify(v)}.`);
  return v;
}

function collectIps(v: string, prev: string[] | undefined): string[] {
  const ips = v.split(',').map((x) => ipFlag('--cluster-dns')(x.trim()));
  // the default is replaced, not extended, by the first explicit value
  return prev === DEFAULT_DNS ? ips : [...(prev ?? []), ...ips];
}
const DEFAULT_DNS = ['10.96.0.10'];

/** An absolute path that fits a unix socket address (sun_path: 107 bytes and the NUL). */
export function socketPathFlag(v: string): string {
  if (!v.startsWith('/') || Buffer.byteLength(v) > 107) throw new InvalidArgumentError(`--cni-socket must be an absolute path of at most 107 bytes, got ${JSON.stringify(v)}.`);
  return v;
}

export function vniFlag(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < 1 || n > 16_777_215) throw new InvalidArgumentError(`--vni must be a whole number from 1 to 16777215, got ${JSON.stringify(v)}.`);
  return n;
}

export function agentCommand(): Command {
  return new Command('agent')
    .description('run the node agent: register this node and run the pods bound to it through containerd')
    .option('--server <url>', 'apiserver URL, e.g. https://10.0.0.10:6443 (with --token)', serverFlag)
    .option('--token <id.secret>', 'bootstrap token to join with (knode token create)', tokenFlag)
    .option('--kubeconfig <file>', 'use this kubeconfig instead of joining with a token')
    .option('--ca-file <file>', 'the cluster CA, so the token is only sent to the real apiserver')
    .option('--discovery-token-ca-cert-hash <sha256:hex>', 'without --ca-file: pin of the CA published in kube-public/cluster-info')
    .requiredOption('--node-name <name>', 'name of this Node', nodeNameFlag)
    .requiredOption('--node-ip <ip>', 'the InternalIP of this node (the kubelet server listens there)', ipFlag('--node-ip'))
    .requiredOption('--containerd <endpoint>', 'CRI socket, e.g. unix:///run/containerd/containerd.sock')
    .requiredOption('--data-dir <dir>', 'credentials, pod volumes and pod logs')
    .option('--pod-cidr <cidr>', 'this node\'s pod range (informational; the CNI config assigns addresses)', cidrFlag('--pod-cidr'))
    .option('--cgroup-root <path>', 'cgroupfs parent of every pod cgroup, e.g. /knode/w1')
    .option('--cluster-dns <ip,...>', 'DNS server IPs for pods with dnsPolicy ClusterFirst', collectIps, DEFAULT_DNS)
    .option('--cluster-domain <domain>', 'cluster DNS domain', 'cluster.local')
    .option('--pod-manifest-path <dir>', 'directory of static pod manifests')
    .option('--port <port>', 'port of the kubelet HTTPS server', portFlag('--port'), 10250)
    .option('--resolv-conf <file>', 'the node resolv.conf pods with dnsPolicy Default get', '/etc/resolv.conf')
    .option('--no-overlay', 'do not run the VXLAN overlay (another CNI setup owns pod networking)')
    .option('--iface <name>', 'underlay interface of the VXLAN overlay (default: the one holding --node-ip)')
    .option('--cluster-cidr <cidr>', 'all pod CIDRs: traffic from pods leaving it is masqueraded', cidrFlag('--cluster-cidr'), '10.244.0.0/16')
    .option('--vxlan-port <port>', 'UDP port of the VXLAN overlay', portFlag('--vxlan-port'), 8472)
    .option('--vni <n>', 'VXLAN network identifier of the overlay', vniFlag, 1)
    .option('--cni-conf-dir <dir>', 'CNI config dir of the runtime: knode-cni\'s config is installed there when it holds none', '/etc/cni/net.d')
    .option('--cni-bin-dir <dir>', 'CNI plugin dir of the runtime: knode-cni is installed (and loopback linked) there', '/opt/cni/bin')
    .option('--cni-socket <path>', 'unix socket where the agent runs knode-cni for the runtime (the bin dir\'s knode-cni is a thin client of it) (default: "/run/knode/cni/knode-cni.sock")', socketPathFlag)
    .option('--cni-node-state <file>', 'where the agent writes this node\'s pod CIDR and MTU for knode-cni (default: the "nodeStateFile" of the CNI config)')
    .option('--no-fast-path', 'do not load the pod fast path (tc BPF programs that take cross-node pod traffic past the bridge, forwarding and the VXLAN device)')
    .option('--bpf-dir <dir>', 'bpffs directory where the agent pins the fast path\'s programs and maps', bpfDirFlag, DEFAULT_BPF_DIR)
    .addOption(proxyModeOption())
    .addOption(minSyncPeriodOption())
    .option('--healthz-port <port>', 'kube-proxy: port of /healthz on the node IP; 0 turns it off', healthzPortFlag, 10256)
    .action(async (flags: AgentFlags) => {
      // a long-lived process with a small live heap: V8's size-over-speed mode keeps RSS near the live
      // data (measured with 50 pods: ~85 MiB against ~105 MiB), at a CPU cost the kubelet can afford
      setFlagsFromString('--optimize-for-size');
      if (flags.kubeconfig === undefined && (flags.server === undefined || flags.token === undefined)) {
        throw new InvalidArgumentError('knode agent needs --server and --token to join, or --kubeconfig.');
      }
      if (flags.kubeconfig === undefined && flags.caFile === undefined && flags.discoveryTokenCaCertHash === undefined) {
        throw new InvalidArgumentError('knode agent needs --ca-file (or --discovery-token-ca-cert-hash) to verify the apiserver before sending the token.');
      }
      const log = createLogger({ app: 'knode-agent', node: flags.nodeName });
      const kubelet = await (await import('../kubelet/main.js')).startKubelet({
        ...(flags.server !== undefined ? { server: flags.server } : {}),
        ...(flags.token !== undefined ? { token: flags.token } : {}),
        ...(flags.kubeconfig !== undefined ? { kubeconfig: flags.kubeconfig } : {}),
        ...(flags.caFile !== undefined ? { caFile: flags.caFile } : {}),
        ...(flags.discoveryTokenCaCertHash !== undefined ? { caCertHash: flags.discoveryTokenCaCertHash } : {}),
        nodeName: flags.nodeName,
        nodeIP: flags.nodeIp,
        containerd: flags.containerd,
        dataDir: flags.dataDir,
        ...(flags.podCidr !== undefined ? { podCIDR: flags.podCidr } : {}),
        ...(flags.cgroupRoot !== undefined ? { cgroupRoot: flags.cgroupRoot } : {}),
        clusterDNS: flags.clusterDns,
        clusterDomain: flags.clusterDomain,
        ...(flags.podManifestPath !== undefined ? { podManifestPath: flags.podManifestPath } : {}),
        port: flags.port,
        resolvConf: flags.resolvConf,
        ...(flags.overlay
          ? {
              overlay: {
                ...(flags.iface !== undefined ? { iface: flags.iface } : {}),
                clusterCIDR: flags.clusterCidr,
                vni: flags.vni,
                port: flags.vxlanPort,
                device: `knode.${flags.vni}`,
                ...(flags.cniNodeState !== undefined ? { nodeStateFile: flags.cniNodeState } : {}),
                cniConfDir: flags.cniConfDir,
                cniBinDir: flags.cniBinDir,
                ...(flags.cniSocket !== undefined ? { cniSocket: flags.cniSocket } : {}),
                fastPath: { dir: flags.bpfDir, enabled: flags.fastPath },
              },
            }
          : {}),
        ...(flags.proxyMode !== 'none'
          ? { proxy: { mode: flags.proxyMode, clusterCIDR: flags.clusterCidr, minSyncPeriodMs: flags.minSyncPeriod, healthzPort: flags.healthzPort } }
          : {}),
        log,
      });
      process.stdout.write(`knode agent ${kubelet.nodeName} is running (kubelet server on port ${kubelet.port})\n`);
      let stopping = false;
      const stop = (signal: string): void => {
        if (stopping) return;
        stopping = true;
        log.info({ signal }, 'shutting down (containers keep running)');
        kubelet.stop().then(
          () => process.exit(0),
          (err: unknown) => {
            log.error({ err: String(err) }, 'shutdown failed');
            process.exit(1);
          },
        );
      };
      process.on('SIGTERM', () => stop('SIGTERM'));
      process.on('SIGINT', () => stop('SIGINT'));
    });
}
