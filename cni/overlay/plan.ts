/**
 * VXLAN overlay: the pure plan. Given every Node, decide which routes, neighbours and FDB entries the
 * VXLAN device must hold, and how to get there from what the kernel holds now.
 *
 * Design (the model is flannel's vxlan backend note; knode's version, its own words):
 * - Each node owns one VXLAN device (default `knode.1`, VNI 1, UDP 8472, `local` = the node IP,
 *   `nolearning`) and gives it the first address of its pod CIDR as a /32 (10.244.1.0/24 -> 10.244.1.0).
 *   That network address is never handed to a pod nor used by the bridge (gateway .1), so it is free to
 *   name the node's VTEP, and a /32 adds no connected route that could fight the per-peer routes.
 * - Each node publishes its VTEP MAC and underlay IP as annotations on its own Node
 *   (`knode.io/vtep-mac`, `knode.io/public-ip`); pod CIDRs come from `spec.podCIDRs`/`spec.podCIDR`.
 * - For every remote node the agent programs exactly three things:
 *     route      <remote podCIDR> via <remote VTEP address> dev <vxlan> onlink
 *     neighbour  <remote VTEP address> lladdr <remote VTEP MAC> dev <vxlan> nud permanent
 *     FDB        <remote VTEP MAC> dev <vxlan> dst <remote underlay IP> (self, permanent)
 *   The route sends pod traffic to the peer's VTEP address; `onlink` because that address is not on
 *   any subnet of the device. The neighbour answers ARP for it from the Node annotations, so no ARP
 *   ever crosses the wire; the FDB entry tells the VXLAN driver which underlay IP to encapsulate the
 *   inner frame (destination MAC = peer VTEP MAC) to. With all three static there is no learning, no
 *   multicast group, no L2/L3-miss daemon: the cost is O(nodes) kernel entries and one Node watch.
 * - Order: a neighbour and FDB entry must exist before the route that uses them (otherwise the first
 *   packets resolve to an incomplete neighbour and are dropped); on removal the route goes first for
 *   the same reason. Stale neighbours and FDB entries are removed last, after the new state is in
 *   place (make before break when a peer changes its MAC or underlay IP).
 * - MTU: the VXLAN device and pod interfaces use underlay MTU - 50 (outer IPv4 20 + UDP 8 +
 *   VXLAN 8 + inner Ethernet 14).
 * - A restart reconciles from scratch: `observe` reads the device's entries, `diff` changes only what
 *   differs, so running pods keep their paths (no flush, no delete-then-add of a correct entry).
 *
 * IPv4 only: an IPv6 pod CIDR or underlay IP makes the node incomplete (skipped), as do missing or
 * malformed annotations. Cost model: planPeers is O(n log n) in nodes, diff O(n) with maps.
 */
import type { Node } from '../../api/core/node.js';
import { isCIDR, isIPv4 } from '../../api/core/ip.js';

export const VTEP_MAC_ANNOTATION = 'knode.io/vtep-mac';
export const PUBLIC_IP_ANNOTATION = 'knode.io/public-ip';
export const DEFAULT_VXLAN_DEVICE = 'knode.1';
export const DEFAULT_VNI = 1;
export const DEFAULT_VXLAN_PORT = 8472;
/** Outer IPv4 (20) + UDP (8) + VXLAN (8) + inner Ethernet (14). */
export const VXLAN_OVERHEAD = 50;

export interface PeerNode {
  readonly name: string;
  readonly podCIDR: string;
  readonly underlayIP: string;
  readonly vtepMAC: string;
}

export interface RouteEntry {
  readonly dst: string;
  readonly via: string;
  readonly dev: string;
  readonly onlink: boolean;
}

export interface NeighbourEntry {
  readonly ip: string;
  readonly mac: string;
  readonly dev: string;
  readonly permanent: boolean;
}

export interface FdbEntry {
  readonly mac: string;
  readonly dst: string;
  readonly dev: string;
}

export interface OverlayState {
  readonly routes: readonly RouteEntry[];
  readonly neighbours: readonly NeighbourEntry[];
  readonly fdb: readonly FdbEntry[];
}

export type OpAction = 'add' | 'replace' | 'delete';

export type Op =
  | { readonly kind: 'route'; readonly action: OpAction; readonly entry: RouteEntry }
  | { readonly kind: 'neighbour'; readonly action: OpAction; readonly entry: NeighbourEntry }
  | { readonly kind: 'fdb'; readonly action: OpAction; readonly entry: FdbEntry };

export const EMPTY_STATE: OverlayState = { routes: [], neighbours: [], fdb: [] };

/** The VXLAN device MTU for an underlay MTU. */
export function overlayMTU(underlayMTU: number): number {
  return underlayMTU - VXLAN_OVERHEAD;
}

const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

/** Lower-case colon form, or undefined when `s` is not a unicast MAC (all-zero or multicast bit). */
export function normalizeMAC(s: string): string | undefined {
  const mac = s.trim().toLowerCase();
  if (!MAC.test(mac) || mac === '00:00:00:00:00:00') return undefined;
  // the low bit of the first octet marks a multicast/broadcast address, never a VTEP
  return (Number.parseInt(mac.slice(0, 2), 16) & 1) === 1 ? undefined : mac;
}

function ipv4ToInt(ip: string): number {
  return ip.split('.').reduce((acc, p) => acc * 256 + Number(p), 0);
}

function intToIPv4(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

/** `10.244.1.7/24` -> `10.244.1.0/24`, or undefined when not an IPv4 CIDR. */
export function canonicalCIDR(cidr: string): string | undefined {
  if (!isCIDR(cidr)) return undefined;
  const [ip = '', bitsText = ''] = cidr.split('/');
  if (!isIPv4(ip)) return undefined;
  const bits = Number(bitsText);
  const size = 2 ** (32 - bits);
  return `${intToIPv4(Math.floor(ipv4ToInt(ip) / size) * size)}/${bits}`;
}

/** The VTEP address of a node: the network address of its pod CIDR (see the design note). */
export function vtepAddress(podCIDR: string): string | undefined {
  return canonicalCIDR(podCIDR)?.split('/')[0];
}

/** The first IPv4 pod CIDR of a Node (`spec.podCIDRs` wins over the legacy `spec.podCIDR`). */
function nodePodCIDR(node: Node): string | undefined {
  const all = [...(node.spec?.podCIDRs ?? []), ...(node.spec?.podCIDR !== undefined ? [node.spec.podCIDR] : [])];
  for (const c of all) {
    const canon = canonicalCIDR(c);
    if (canon !== undefined) return canon;
  }
  return undefined;
}

/** A Node as an overlay peer, or undefined while it lacks a pod CIDR or valid annotations. */
export function nodePeer(node: Node): PeerNode | undefined {
  const name = node.metadata.name;
  const podCIDR = nodePodCIDR(node);
  const mac = normalizeMAC(node.metadata.annotations?.[VTEP_MAC_ANNOTATION] ?? '');
  const underlayIP = node.metadata.annotations?.[PUBLIC_IP_ANNOTATION]?.trim() ?? '';
  if (name === undefined || name === '' || podCIDR === undefined || mac === undefined || !isIPv4(underlayIP)) {
    return undefined;
  }
  return { name, podCIDR, underlayIP, vtepMAC: mac };
}

/** A peer with canonical fields, or undefined when any field is unusable. */
function completePeer(p: PeerNode): PeerNode | undefined {
  const podCIDR = canonicalCIDR(p.podCIDR);
  const vtepMAC = normalizeMAC(p.vtepMAC);
  if (p.name === '' || podCIDR === undefined || vtepMAC === undefined || !isIPv4(p.underlayIP)) return undefined;
  return { name: p.name, podCIDR, underlayIP: p.underlayIP, vtepMAC };
}

/**
 * The entries the VXLAN device `device` of node `self` must hold. Skips `self` and incomplete peers.
 * Two peers claiming the same pod CIDR, VTEP MAC or underlay IP (or self's pod CIDR) cannot both be
 * served: the first by name wins, so every node decides the same way.
 */
export function planPeers(self: string, nodes: readonly PeerNode[], device: string): OverlayState {
  const complete = nodes.map(completePeer).filter((p): p is PeerNode => p !== undefined);
  complete.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const own = complete.find((p) => p.name === self);
  const cidrs = new Set<string>(own !== undefined ? [own.podCIDR] : []);
  const macs = new Set<string>(own !== undefined ? [own.vtepMAC] : []);
  const ips = new Set<string>(own !== undefined ? [own.underlayIP] : []);
  const routes: RouteEntry[] = [];
  const neighbours: NeighbourEntry[] = [];
  const fdb: FdbEntry[] = [];
  for (const p of complete) {
    if (p.name === self || cidrs.has(p.podCIDR) || macs.has(p.vtepMAC) || ips.has(p.underlayIP)) continue;
    cidrs.add(p.podCIDR);
    macs.add(p.vtepMAC);
    ips.add(p.underlayIP);
    const vtep = vtepAddress(p.podCIDR) ?? '';
    routes.push({ dst: p.podCIDR, via: vtep, dev: device, onlink: true });
    neighbours.push({ ip: vtep, mac: p.vtepMAC, dev: device, permanent: true });
    fdb.push({ mac: p.vtepMAC, dst: p.underlayIP, dev: device });
  }
  return { routes, neighbours, fdb };
}

/** The identity of an entry in its kernel table: two entries with the same key cannot coexist. */
export function routeKey(r: RouteEntry): string {
  return `${r.dev} ${r.dst}`;
}
export function neighbourKey(n: NeighbourEntry): string {
  return `${n.dev} ${n.ip}`;
}
export function fdbKey(f: FdbEntry): string {
  return `${f.dev} ${f.mac}`;
}

const sameRoute = (a: RouteEntry, b: RouteEntry): boolean => a.via === b.via && a.onlink === b.onlink;
const sameNeighbour = (a: NeighbourEntry, b: NeighbourEntry): boolean => a.mac === b.mac && a.permanent === b.permanent;
const sameFdb = (a: FdbEntry, b: FdbEntry): boolean => a.dst === b.dst;

interface Changes<T> {
  readonly upserts: { readonly action: 'add' | 'replace'; readonly entry: T }[];
  readonly deletes: T[];
}

function diffTable<T>(desired: readonly T[], observed: readonly T[], key: (e: T) => string, same: (a: T, b: T) => boolean): Changes<T> {
  const have = new Map(observed.map((e) => [key(e), e] as const));
  const want = new Set<string>();
  const upserts: { action: 'add' | 'replace'; entry: T }[] = [];
  for (const d of desired) {
    const k = key(d);
    want.add(k);
    const o = have.get(k);
    if (o === undefined) upserts.push({ action: 'add', entry: d });
    else if (!same(d, o)) upserts.push({ action: 'replace', entry: d });
  }
  const deletes = observed.filter((o) => !want.has(key(o)));
  return { upserts, deletes };
}

/**
 * The operations that turn `observed` into `desired`, in a safe order: route deletes, then FDB and
 * neighbour adds/replaces, then route adds/replaces, then neighbour and FDB deletes. (FDB entries sit
 * at the edges so an executor that needs `bridge` for them and `ip` for the rest runs at most four
 * batches: ip, bridge, ip, bridge.) An entry whose key
 * matches but whose value differs (a peer's new MAC or underlay IP) is replaced in place, so the path
 * never disappears. Empty when the two agree.
 */
export function diff(desired: OverlayState, observed: OverlayState): Op[] {
  const routes = diffTable(desired.routes, observed.routes, routeKey, sameRoute);
  const neighbours = diffTable(desired.neighbours, observed.neighbours, neighbourKey, sameNeighbour);
  const fdb = diffTable(desired.fdb, observed.fdb, fdbKey, sameFdb);
  return [
    ...routes.deletes.map((entry): Op => ({ kind: 'route', action: 'delete', entry })),
    ...fdb.upserts.map(({ action, entry }): Op => ({ kind: 'fdb', action, entry })),
    ...neighbours.upserts.map(({ action, entry }): Op => ({ kind: 'neighbour', action, entry })),
    ...routes.upserts.map(({ action, entry }): Op => ({ kind: 'route', action, entry })),
    ...neighbours.deletes.map((entry): Op => ({ kind: 'neighbour', action: 'delete', entry })),
    ...fdb.deletes.map((entry): Op => ({ kind: 'fdb', action: 'delete', entry })),
  ];
}

/** One line per op, for logs and test expectations. */
export function describeOp(op: Op): string {
  switch (op.kind) {
    case 'route':
      return `${op.action} route ${op.entry.dst} via ${op.entry.via} dev ${op.entry.dev}${op.entry.onlink ? ' onlink' : ''}`;
    case 'neighbour':
      return `${op.action} neighbour ${op.entry.ip} lladdr ${op.entry.mac} dev ${op.entry.dev}${op.entry.permanent ? ' permanent' : ''}`;
    case 'fdb':
      return `${op.action} fdb ${op.entry.mac} dst ${op.entry.dst} dev ${op.entry.dev}`;
    default: {
      const never: never = op;
      return never;
    }
  }
}
