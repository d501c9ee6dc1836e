/**
 * Pure plans of what ADD and DEL change in the node's and the pod's network namespaces, as `ip -batch`
 * scripts (one exec each: measured ~3 ms, against ~70-100 ms just to load the N-API netlink module),
 * and the result ADD reports. CHECK's comparison of what it saw against what ADD set up lives here too.
 *
 * ADD, node namespace (the plugin's own): bridge (only when missing) with its fixed MAC, MTU and the
 * first address of the pod CIDR; a veth pair whose pod end is created directly inside the pod's
 * namespace under CNI_IFNAME; the host end enslaved, hairpin on, up. Pod namespace (through nsenter):
 * address, up, default route via the bridge.
 */
import { formatCidr, formatIPv4, type PodRange } from './ipam/ipv4.js';
import { bridgeMac, hostVethMac, hostVethName, podMac } from './names.js';
import type { BridgeState } from './node-host.js';
import type { AttachmentKey, CniResult, NetConf } from './types.js';

export interface AddPlanInput {
  readonly conf: NetConf;
  readonly key: AttachmentKey;
  readonly netns: string;
  readonly ip: string;
  readonly range: PodRange;
  readonly mtu: number;
  readonly bridgeState: BridgeState;
  /** A host veth of this name is already there (left by an ADD that was killed): replace it. */
  readonly staleHostVeth: boolean;
}

/**
 * One change in the node namespace: what a `nodeScript` line says, as data, so the agent can apply it
 * over its netlink socket (netlink-node.ts) while the binary runs the rendered lines in one `ip -batch`.
 */
export type NodeOp =
  | { readonly kind: 'bridge-add'; readonly name: string; readonly mac: string; readonly mtu: number }
  | { readonly kind: 'addr-replace'; readonly cidr: string; readonly dev: string }
  | { readonly kind: 'link-up'; readonly dev: string }
  | { readonly kind: 'link-del'; readonly dev: string }
  | {
      readonly kind: 'veth-add';
      readonly name: string;
      readonly mac: string;
      readonly mtu: number;
      readonly peer: string;
      readonly peerMac: string;
      /** Path of the namespace the peer is created in. */
      readonly peerNetns: string;
    }
  | { readonly kind: 'set-master'; readonly dev: string; readonly master: string }
  | { readonly kind: 'hairpin-on'; readonly dev: string };

/** The `ip -batch` line of an op. */
export function renderNodeOp(op: NodeOp): string {
  switch (op.kind) {
    case 'bridge-add':
      return `link add name ${op.name} address ${op.mac} mtu ${op.mtu} type bridge`;
    case 'addr-replace':
      return `addr replace ${op.cidr} dev ${op.dev}`;
    case 'link-up':
      return `link set dev ${op.dev} up`;
    case 'link-del':
      return `link del dev ${op.dev}`;
    case 'veth-add':
      return `link add name ${op.name} address ${op.mac} mtu ${op.mtu} type veth peer name ${op.peer} address ${op.peerMac} mtu ${op.mtu} netns ${op.peerNetns}`;
    case 'set-master':
      return `link set dev ${op.dev} master ${op.master}`;
    case 'hairpin-on':
      return `link set dev ${op.dev} type bridge_slave hairpin on`;
    default: {
      const never: never = op;
      return never;
    }
  }
}

export interface AddPlan {
  readonly hostVeth: string;
  /** The node namespace's changes, in order; `nodeScript` is the same as `ip -batch` lines. */
  readonly nodeOps: readonly NodeOp[];
  /** `ip -batch` lines for the node namespace. */
  readonly nodeScript: readonly string[];
  /** `ip -batch` lines for the pod namespace. */
  readonly podScript: readonly string[];
  readonly result: CniResult;
}

export function planAdd(i: AddPlanInput): AddPlan {
  const { conf, key, range, mtu } = i;
  const cidr = formatCidr(range.cidr);
  const gateway = formatIPv4(range.gateway);
  const hostVeth = hostVethName(key);
  const brMac = bridgeMac(conf.name, conf.bridge, cidr);
  const hostMac = hostVethMac(key);
  const peerMac = podMac(i.ip);
  const node: NodeOp[] = [];
  if (i.bridgeState === 'absent') node.push({ kind: 'bridge-add', name: conf.bridge, mac: brMac, mtu });
  if (i.bridgeState !== 'ready') {
    // both idempotent: also repair a bridge left without its address or down
    node.push({ kind: 'addr-replace', cidr: `${gateway}/${range.cidr.prefix}`, dev: conf.bridge }, { kind: 'link-up', dev: conf.bridge });
  }
  if (i.staleHostVeth) node.push({ kind: 'link-del', dev: hostVeth });
  node.push(
    { kind: 'veth-add', name: hostVeth, mac: hostMac, mtu, peer: key.ifname, peerMac, peerNetns: i.netns },
    { kind: 'set-master', dev: hostVeth, master: conf.bridge },
  );
  if (conf.hairpinMode) node.push({ kind: 'hairpin-on', dev: hostVeth });
  node.push({ kind: 'link-up', dev: hostVeth });
  const pod = [
    `addr add ${i.ip}/${range.cidr.prefix} dev ${key.ifname}`,
    `link set dev ${key.ifname} up`,
    `route replace default via ${gateway} dev ${key.ifname}`,
  ];
  return {
    hostVeth,
    nodeOps: node,
    nodeScript: node.map(renderNodeOp),
    podScript: pod,
    result: {
      interfaces: [
        { name: conf.bridge, mac: brMac, mtu },
        { name: hostVeth, mac: hostMac, mtu },
        { name: key.ifname, mac: peerMac, sandbox: i.netns, mtu },
      ],
      ips: [{ address: `${i.ip}/${range.cidr.prefix}`, gateway, interface: 2 }],
      routes: [{ dst: '0.0.0.0/0', gw: gateway }],
      dns: conf.dns ?? {},
    },
  };
}

/** DEL in the node namespace: the host veth goes, and the kernel takes its pod end with it. */
export function planDelLinks(hostVeth: string, present: ReadonlySet<string>): string[] {
  return present.has(hostVeth) ? [`link del dev ${hostVeth}`] : [];
}

/** What CHECK read inside the pod namespace (`ip -j addr show dev <if>` and `ip -j route show default`). */
export interface PodObservation {
  readonly addresses: readonly string[];
  readonly defaultGateways: readonly string[];
  readonly mtu?: number;
}

/** `ip -j -batch` prints one JSON array per command; this reads the two CHECK asks for. */
export function parsePodObservation(stdout: string): PodObservation {
  const [addrLine, routeLine] = stdout.trim().split('\n');
  const links = JSON.parse(addrLine ?? '[]') as { mtu?: number; addr_info?: { family?: string; local?: string; prefixlen?: number }[] }[];
  const routes = JSON.parse(routeLine ?? '[]') as { dst?: string; gateway?: string }[];
  const link = links[0];
  return {
    addresses: (link?.addr_info ?? []).filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`),
    defaultGateways: routes.filter((r) => r.dst === 'default' && r.gateway !== undefined).map((r) => r.gateway as string),
    ...(link?.mtu !== undefined ? { mtu: link.mtu } : {}),
  };
}

/** Every difference between what ADD set up (and reported) and what is there; empty when healthy. */
export function compareAttachment(
  expected: { readonly address: string; readonly gateway: string; readonly ifname: string },
  prev: CniResult,
  seen: PodObservation,
): string[] {
  const problems: string[] = [];
  if (!prev.ips.some((ip) => ip.address === expected.address)) {
    problems.push(`prevResult does not list ${expected.address}, the address allocated to this attachment`);
  }
  if (!seen.addresses.includes(expected.address)) {
    problems.push(`${expected.ifname} lacks address ${expected.address} (has ${seen.addresses.join(', ') || 'none'})`);
  }
  if (!seen.defaultGateways.includes(expected.gateway)) {
    problems.push(`no default route via ${expected.gateway} in the pod namespace`);
  }
  return problems;
}
