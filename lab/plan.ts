/**
 * planLab: everything `knode lab up` will create, decided up front as plain data (names, addresses,
 * paths, argv, the ordered steps), from the options and the prefixes the machine already uses. The
 * executor (up.ts) only carries it out, and the plan is saved in the state file before anything is
 * created, so `down` knows every name even after a crash.
 *
 * IP plan of a lab (underlay U, a /24 chosen by underlay.ts, default 172.31.250.0/24):
 *   U.1          the root namespace's end of its veth into the switch (kubectl on the machine)
 *   U.10         cp, the control-plane host (apiserver on :6443)
 *   U.10+i       worker wi (i = 1..20)
 *   10.244.i.0/24  pods on wi (LAB_CNI); 10.96.0.0/12 Service ClusterIPs (knode server's default)
 * With `etcdMembers` n > 0 the control plane stores everything in an n-member etcd cluster on cp
 * instead of its embedded SQLite: members etcd0..etcd<n-1>, client port 2379 + 10000*i and peer port
 * 2380 + 10000*i on U.10, data in <stateDir>/cp/etcd/<member>, log <stateDir>/cp/etcd-<member>.log.
 * Names: namespaces `knode-<lab>-sw` (the switch, holding bridge `br0`), `knode-<lab>-cp`,
 * `knode-<lab>-w<i>`; each host's underlay interface is `eth0`, its switch port is named after the host;
 * the root veth is `knode-<lab>` (peer `root` in the switch). Lab names are [a-z][a-z0-9]{0,8} so the
 * root link fits IFNAMSIZ and no lab's prefix is a prefix of another's (`knode-lab-` vs `knode-lab2-`).
 *
 * Pure: no I/O, deterministic (the bootstrap token is an input).
 */
import { isAbsolute, join } from 'node:path';
import { LAB_CNI } from './cni-config.js';
import type { LabCni } from './cni-config.js';
import { LabInputError } from './errors.js';
import { formatPrefix4, nthAddress } from './ipv4.js';
import { chooseUnderlay } from './underlay.js';
import type { UsedPrefix } from './underlay.js';

export const MAX_WORKERS = 20;
export const DEFAULT_LAB_NAME = 'lab';
export const DEFAULT_API_PORT = 6443;
/** Members of the lab's etcd cluster at most (`--etcd`); 0 means the server's embedded store. */
export const MAX_ETCD_MEMBERS = 5;
const ETCD_CLIENT_PORT = 2379;
const ETCD_PEER_PORT = 2380;
/** Member i listens on the base ports + i * this. */
const ETCD_PORT_STRIDE = 10_000;
const LAB_NAME = /^[a-z][a-z0-9]{0,8}$/;
/** sun_path is 108 bytes including the terminating NUL. */
const MAX_SOCKET_PATH = 107;

export function defaultStateDir(lab: string): string {
  return join('/var/lib/knode-lab', lab);
}

/** The command a user runs to remove this lab (the state dir only when it is not the default). */
export function downCommand(lab: string, stateDir: string): string {
  return `knode lab down${lab !== DEFAULT_LAB_NAME ? ` --name ${lab}` : ''}${stateDir !== defaultStateDir(lab) ? ` --state-dir ${stateDir}` : ''}`;
}

export function validateLabName(name: string): string {
  if (!LAB_NAME.test(name)) {
    throw new LabInputError(`lab name must be 1 to 9 lowercase letters or digits starting with a letter (it prefixes interface names), got ${JSON.stringify(name)}.`);
  }
  return name;
}

/** The value of `--etcd` (a whole number of members, 0 to MAX_ETCD_MEMBERS). */
export function parseEtcdMembers(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n > MAX_ETCD_MEMBERS) {
    throw new LabInputError(`--etcd must be a whole number of etcd members from 0 (the embedded store) to ${MAX_ETCD_MEMBERS}, got ${JSON.stringify(text)}.`);
  }
  return n;
}

export interface LabOptions {
  readonly name: string;
  readonly workers: number;
  /** Absolute path of this lab's state dir. */
  readonly stateDir: string;
  /** A forced underlay CIDR (refused when it overlaps the machine's ranges). */
  readonly underlay?: string;
  readonly apiPort?: number;
  /** The argv prefix that runs knode (e.g. [process.execPath, '/path/bin/knode.js']). */
  readonly knodeCommand: readonly string[];
  /** Whether `knode agent` exists yet; when not, its steps are planned as skipped. */
  readonly agentAvailable: boolean;
  /** `<id>.<secret>` for the workers to join with. */
  readonly bootstrapToken: string;
  /** The agents' kube-proxy mode (`--proxy-mode`); default: the agent's own (nftables). */
  readonly proxyMode?: 'nftables' | 'iptables' | 'none';
  /** Members of an etcd cluster on cp for the server to store everything in; 0 (default): its embedded store. */
  readonly etcdMembers?: number;
}

export type HostRole = 'control-plane' | 'worker';

export interface LabHost {
  /** `cp`, `w1`, ...: also the Kubernetes node name of a worker. */
  readonly name: string;
  readonly role: HostRole;
  readonly netns: string;
  /** Underlay address, without prefix length. */
  readonly address: string;
  /** Its veth end inside the switch namespace. */
  readonly switchPort: string;
  /** Its state dir (<stateDir>/<name>). */
  readonly dir: string;
  /** Workers only: the pod /24 the CNI config hands out. */
  readonly podCidr?: string;
}

export interface WorkerRuntime {
  readonly host: string;
  /** containerd's private dir (root, state, config, CNI conf). */
  readonly dir: string;
  readonly socket: string;
  readonly cniConfDir: string;
  readonly cniBinDir: string;
  /** Directories prepended to containerd's PATH (what the CNI plugins need to run). */
  readonly runtimePath?: readonly string[];
}

export interface PlannedProcess {
  readonly host: string;
  readonly kind: 'server' | 'agent' | 'etcd';
  /** etcd only: the member's name (several members run on one host). */
  readonly member?: string;
  readonly argv: readonly string[];
  readonly logFile: string;
}

/** One member of the lab's etcd cluster (`etcd<i>`, on cp). */
export interface EtcdMemberPlan {
  readonly name: string;
  readonly host: string;
  /** `http://U.10:<2379 + 10000*i>` */
  readonly clientUrl: string;
  readonly peerUrl: string;
  readonly dataDir: string;
  readonly logFile: string;
}

export type LabStep =
  | { readonly kind: 'network' }
  | { readonly kind: 'images' }
  | { readonly kind: 'etcd'; readonly host: string }
  | { readonly kind: 'server'; readonly host: string }
  | { readonly kind: 'bootstrap-token' }
  | { readonly kind: 'containerd'; readonly host: string }
  | { readonly kind: 'import-images'; readonly host: string }
  | { readonly kind: 'agent'; readonly host: string; readonly skip?: string }
  | { readonly kind: 'wait-nodes'; readonly skip?: string };

export interface LabPlan {
  readonly name: string;
  readonly stateDir: string;
  /** `172.31.250.0/24` */
  readonly underlay: string;
  readonly prefixLength: number;
  readonly switchNetns: string;
  readonly bridge: string;
  readonly root: { readonly link: string; readonly peer: string; readonly address: string };
  readonly hosts: readonly LabHost[];
  readonly api: { readonly url: string; readonly port: number; readonly kubeconfig: string; readonly dataDir: string };
  /** The etcd cluster the server stores everything in; absent: the server's embedded store. */
  readonly etcd?: { readonly members: readonly EtcdMemberPlan[]; readonly endpoints: readonly string[] };
  readonly bootstrapToken: string;
  readonly imagesDir: string;
  readonly cni: { readonly description: string; readonly staticPodRoutes: boolean };
  readonly workers: readonly WorkerRuntime[];
  readonly processes: readonly PlannedProcess[];
  readonly steps: readonly LabStep[];
}

/** The prefix shared by every network namespace of the lab. */
export function labNetnsPrefix(lab: string): string {
  return `knode-${lab}-`;
}

/**
 * Whether a namespace name is one a lab of this name creates (`-sw`, `-cp`, `-w<i>`): other knode
 * components name their throwaway namespaces `knode-<x>-<random>`, which must never be swept.
 */
export function isLabNetns(lab: string, netns: string): boolean {
  const prefix = labNetnsPrefix(lab);
  return netns.startsWith(prefix) && /^(sw|cp|w[1-9]\d?)$/.test(netns.slice(prefix.length));
}

/** The name of a cgroup the lab and its nodes create on each hierarchy. */
export function labCgroupName(lab: string): string {
  return `knode-${lab}`;
}

export const AGENT_SKIP_REASON = '`knode agent` is not a command of this build yet';

export function stepTitle(step: LabStep, plan: Pick<LabPlan, 'underlay'>): string {
  switch (step.kind) {
    case 'network':
      return `creating namespaces and underlay ${plan.underlay}`;
    case 'images':
      return 'building lab images';
    case 'etcd':
      return `starting etcd on ${step.host}`;
    case 'server':
      return `starting knode server on ${step.host}`;
    case 'bootstrap-token':
      return 'creating the bootstrap token';
    case 'containerd':
      return `starting containerd on ${step.host}`;
    case 'import-images':
      return `importing images into ${step.host}`;
    case 'agent':
      return `starting knode agent on ${step.host}`;
    case 'wait-nodes':
      return 'waiting for nodes to be Ready';
    default: {
      const never: never = step;
      return never;
    }
  }
}

export function planLab(opts: LabOptions, used: readonly UsedPrefix[], cni: LabCni = LAB_CNI): LabPlan {
  const name = validateLabName(opts.name);
  if (!Number.isInteger(opts.workers) || opts.workers < 1 || opts.workers > MAX_WORKERS) {
    throw new LabInputError(`--nodes must be a whole number of workers from 1 to ${MAX_WORKERS}, got ${opts.workers}.`);
  }
  if (!isAbsolute(opts.stateDir)) throw new LabInputError(`the state dir must be an absolute path, got ${JSON.stringify(opts.stateDir)}.`);
  if (opts.knodeCommand.length === 0) throw new LabInputError('the command that runs knode is empty.');
  const etcdMembers = opts.etcdMembers ?? 0;
  if (!Number.isInteger(etcdMembers) || etcdMembers < 0 || etcdMembers > MAX_ETCD_MEMBERS) {
    throw new LabInputError(`--etcd must be a whole number of etcd members from 0 (the embedded store) to ${MAX_ETCD_MEMBERS}, got ${etcdMembers}.`);
  }
  const underlay = chooseUnderlay(used, opts.underlay);
  const port = opts.apiPort ?? DEFAULT_API_PORT;
  const prefix = labNetnsPrefix(name);

  const host = (hostName: string, role: HostRole, offset: number, podCidr?: string): LabHost => ({
    name: hostName,
    role,
    netns: `${prefix}${hostName}`,
    address: nthAddress(underlay, offset),
    switchPort: hostName,
    dir: join(opts.stateDir, hostName),
    ...(podCidr !== undefined ? { podCidr } : {}),
  });
  const cp = host('cp', 'control-plane', 10);
  const workerHosts = Array.from({ length: opts.workers }, (_, k) => host(`w${k + 1}`, 'worker', 11 + k, `10.244.${k + 1}.0/24`));
  const hosts = [cp, ...workerHosts];

  const url = `https://${cp.address}:${port}`;
  const workers: WorkerRuntime[] = workerHosts.map((w) => {
    const dir = join(w.dir, 'containerd');
    const socket = join(dir, 'containerd.sock');
    if (socket.length > MAX_SOCKET_PATH) {
      throw new LabInputError(`the state dir ${opts.stateDir} is too long: containerd's socket path ${socket} exceeds ${MAX_SOCKET_PATH} bytes.`);
    }
    return {
      host: w.name,
      dir,
      socket,
      cniConfDir: join(dir, 'cni', 'net.d'),
      cniBinDir: cni.binDir(w.dir),
      ...(cni.runtimePath.length > 0 ? { runtimePath: cni.runtimePath } : {}),
    };
  });

  const etcd = planEtcd(etcdMembers, cp, `knode-${name}`);
  const processes: PlannedProcess[] = [
    ...(etcd?.processes ?? []),
    {
      host: cp.name,
      kind: 'server',
      argv: [
        ...opts.knodeCommand, 'server', '--data-dir', cp.dir, '--bind-address', cp.address, '--port', String(port),
        ...(etcd !== undefined ? ['--etcd-servers', etcd.endpoints.join(',')] : []),
      ],
      logFile: join(cp.dir, 'server.log'),
    },
    ...workers.map((w, k) => ({
      host: w.host,
      kind: 'agent' as const,
      argv: agentArgv(opts.knodeCommand, {
        server: url,
        token: opts.bootstrapToken,
        nodeName: w.host,
        nodeIp: workerHosts[k]?.address ?? '',
        containerdSocket: w.socket,
        dataDir: join(workerHosts[k]?.dir ?? '', 'agent'),
        podCidr: workerHosts[k]?.podCidr ?? '',
        cgroupRoot: `/${labCgroupName(name)}/${w.host}`,
        caFile: join(cp.dir, 'pki', 'ca.crt'),
        bpfDir: labBpfDir(name, w.host),
        ...(cni.overlay ? { cniConfDir: w.cniConfDir, cniBinDir: w.cniBinDir, ...agentSocketOf(cni, workerHosts[k]?.dir ?? '') } : { overlay: false }),
        ...(opts.proxyMode !== undefined ? { proxyMode: opts.proxyMode } : {}),
      }),
      logFile: join(workerHosts[k]?.dir ?? '', 'agent.log'),
    })),
  ];

  const agentSkip = opts.agentAvailable ? {} : { skip: AGENT_SKIP_REASON };
  const steps: LabStep[] = [
    { kind: 'network' },
    { kind: 'images' },
    ...(etcd !== undefined ? [{ kind: 'etcd' as const, host: cp.name }] : []),
    { kind: 'server', host: cp.name },
    { kind: 'bootstrap-token' },
    ...workerHosts.map((w) => ({ kind: 'containerd' as const, host: w.name })),
    ...workerHosts.map((w) => ({ kind: 'import-images' as const, host: w.name })),
    ...workerHosts.map((w) => ({ kind: 'agent' as const, host: w.name, ...agentSkip })),
    { kind: 'wait-nodes', ...agentSkip },
  ];

  return {
    name,
    stateDir: opts.stateDir,
    underlay: formatPrefix4(underlay),
    prefixLength: underlay.bits,
    switchNetns: `${prefix}sw`,
    bridge: 'br0',
    root: { link: `knode-${name}`, peer: 'root', address: nthAddress(underlay, 1) },
    hosts,
    api: { url, port, kubeconfig: join(cp.dir, 'admin.kubeconfig'), dataDir: cp.dir },
    ...(etcd !== undefined ? { etcd: { members: etcd.members, endpoints: etcd.endpoints } } : {}),
    bootstrapToken: opts.bootstrapToken,
    imagesDir: join(opts.stateDir, 'images'),
    cni: { description: cni.description, staticPodRoutes: cni.staticPodRoutes },
    workers,
    processes,
    steps,
  };
}

/**
 * The etcd cluster on `host` (undefined for 0 members): members etcd0..etcd<n-1>, all listening on the
 * host's address with ports 10000 apart, bootstrapped together (`--initial-cluster` names them all).
 */
function planEtcd(
  n: number,
  host: LabHost,
  token: string,
): { members: EtcdMemberPlan[]; endpoints: string[]; processes: PlannedProcess[] } | undefined {
  if (n === 0) return undefined;
  const members: EtcdMemberPlan[] = Array.from({ length: n }, (_, i) => ({
    name: `etcd${i}`,
    host: host.name,
    clientUrl: `http://${host.address}:${ETCD_CLIENT_PORT + ETCD_PORT_STRIDE * i}`,
    peerUrl: `http://${host.address}:${ETCD_PEER_PORT + ETCD_PORT_STRIDE * i}`,
    dataDir: join(host.dir, 'etcd', `etcd${i}`),
    logFile: join(host.dir, `etcd-etcd${i}.log`),
  }));
  const initialCluster = members.map((m) => `${m.name}=${m.peerUrl}`).join(',');
  const processes = members.map((m): PlannedProcess => ({
    host: host.name,
    kind: 'etcd',
    member: m.name,
    argv: [
      'etcd',
      '--name', m.name,
      '--data-dir', m.dataDir,
      '--listen-client-urls', m.clientUrl,
      '--advertise-client-urls', m.clientUrl,
      '--listen-peer-urls', m.peerUrl,
      '--initial-advertise-peer-urls', m.peerUrl,
      '--initial-cluster', initialCluster,
      '--initial-cluster-state', 'new',
      '--initial-cluster-token', token,
    ],
    logFile: m.logFile,
  }));
  return { members, endpoints: members.map((m) => m.clientUrl), processes };
}

export interface AgentArgs {
  readonly server: string;
  readonly token: string;
  readonly nodeName: string;
  readonly nodeIp: string;
  readonly containerdSocket: string;
  readonly dataDir: string;
  readonly podCidr: string;
  readonly cgroupRoot: string;
  /** The cluster CA (written by knode server under <data-dir>/pki), so the token only travels verified. */
  readonly caFile: string;
  /** The node's CNI dirs (containerd's): the agent reads the lab's config there, for the node state file and GC. */
  readonly cniConfDir?: string;
  readonly cniBinDir?: string;
  /** Where the agent serves knode-cni (one socket per node: all nodes share the machine's file system). */
  readonly cniSocket?: string;
  /** false: the CNI choice routes pods itself (`--no-overlay`). */
  readonly overlay?: boolean;
  readonly proxyMode?: 'nftables' | 'iptables' | 'none';
  /** The bpffs directory of the node's fast path pins (every node shares the machine's /sys/fs/bpf). */
  readonly bpfDir?: string;
}

/** Parent of every lab's fast path pins; `lab down` removes its lab's directory below it. */
export const LAB_BPF_ROOT = '/sys/fs/bpf/knode-lab';

export function labBpfDir(lab: string, node: string): string {
  return `${LAB_BPF_ROOT}/${lab}/${node}`;
}

/**
 * THE KUBELET PLUG-IN POINT: how the lab starts `knode agent` on a worker (inside the worker's
 * namespace, through nsenter). When the agent's flags settle, this is the one function to adjust.
 * `--cgroup-root` keeps every pod cgroup under /knode-<lab>/<node>, which `lab down` removes.
 */
export function agentArgv(knode: readonly string[], a: AgentArgs): string[] {
  return [
    ...withAgentNodeFlags(knode),
    'agent',
    '--server', a.server,
    '--ca-file', a.caFile,
    '--token', a.token,
    '--node-name', a.nodeName,
    '--node-ip', a.nodeIp,
    '--containerd', a.containerdSocket,
    '--data-dir', a.dataDir,
    '--pod-cidr', a.podCidr,
    '--cgroup-root', a.cgroupRoot,
    ...(a.overlay === false ? ['--no-overlay'] : []),
    ...(a.cniConfDir !== undefined ? ['--cni-conf-dir', a.cniConfDir] : []),
    ...(a.cniBinDir !== undefined ? ['--cni-bin-dir', a.cniBinDir] : []),
    ...(a.cniSocket !== undefined ? ['--cni-socket', a.cniSocket] : []),
    ...(a.proxyMode !== undefined ? ['--proxy-mode', a.proxyMode] : []),
    ...(a.bpfDir !== undefined ? ['--bpf-dir', a.bpfDir] : []),
  ];
}

function agentSocketOf(cni: LabCni, hostDir: string): { cniSocket?: string } {
  const socket = cni.agentSocket?.(hostDir);
  if (socket === undefined) return {};
  if (Buffer.byteLength(socket) > MAX_SOCKET_PATH) throw new LabInputError(`the state dir is too long: the agent's CNI socket path ${socket} exceeds ${MAX_SOCKET_PATH} bytes.`);
  return { cniSocket: socket };
}

export function hostByName(plan: Pick<LabPlan, 'hosts'>, name: string): LabHost {
  const h = plan.hosts.find((x) => x.name === name);
  if (h === undefined) throw new LabInputError(`the lab has no host named ${JSON.stringify(name)}.`);
  return h;
}

/**
 * V8 flags for the agent, a long-lived process whose heap stays small: 1 MiB semispaces (default 16)
 * keep its RSS near its live data. bench/pod-start.ts, 50 pods: peak RSS 96 MiB with 4 MiB
 * semispaces, 92 with 2, 90 with 1, same pod start times and agent CPU; a 10,000-Service nftables
 * build takes the same 0.74 s with 1 as with 4.
 */
export const AGENT_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1'];

function withAgentNodeFlags(knode: readonly string[]): string[] {
  const [node, ...rest] = knode;
  return node !== undefined && /(^|\/)node(js)?$/.test(node) ? [node, ...AGENT_NODE_FLAGS, ...rest] : [...knode];
}
