/**
 * The node's VXLAN device, and the underlay facts it is built from.
 *
 *   ip link add knode.1 address <mac> type vxlan id 1 local <node IP> dev <iface> dstport 8472 nolearning
 *   ip link set knode.1 mtu <underlay MTU - 50>
 *   ip addr replace <VTEP address>/32 dev knode.1      (the pod CIDR's network address, see plan.ts)
 *   ip link set knode.1 up
 *
 * `planDevice(want, observed)` is pure: it answers the `ip -batch` lines that turn what `ip -j -d link`
 * and `ip -j addr` show into what is wanted. A device that exists with the right VNI, port, local
 * address, underlay link and learning off is kept (a restart must not disturb pods: deleting the
 * device would drop every peer entry and in-flight packet); one with other parameters is deleted and
 * re-created (the kernel cannot change a VXLAN's VNI or port in place). MTU, address and up-state are
 * repaired in place.
 *
 * The MAC is derived from the node name (locally administered, unicast), so a re-created device keeps
 * the MAC its peers already hold and no FDB/neighbour entry elsewhere has to change.
 *
 * `VxlanDevice` is the thin executor over `Exec`: three reads and at most one `ip -batch`.
 */
import { createHash } from 'node:crypto';
import type { Exec } from '../../lib/exec.js';
import { formatArgv } from '../../lib/exec.js';
import { OverlayApplyError, OverlayError, OverlayObserveError } from './errors.js';
import { parseArray } from './netlink-executor.js';
import { normalizeMAC, overlayMTU, vtepAddress } from './plan.js';

export interface DeviceSpec {
  /** `knode.1` */
  readonly name: string;
  readonly vni: number;
  readonly port: number;
  /** The node IP: the outer source address. */
  readonly localIP: string;
  /** The underlay interface the encapsulated packets leave by. */
  readonly underlay: string;
  readonly mtu: number;
  readonly mac: string;
  /** `<VTEP address>/32`, once the node has a pod CIDR. */
  readonly address?: string;
}

/** What `ip -j -d link show` and `ip -j addr show` tell about one link. */
export interface ObservedLink {
  readonly name: string;
  readonly kind?: string;
  readonly mtu: number;
  readonly mac?: string;
  readonly up: boolean;
  readonly vni?: number;
  readonly port?: number;
  readonly localIP?: string;
  /** The underlay link a VXLAN is bound to (`ip -d` prints its name). */
  readonly underlay?: string;
  readonly learning?: boolean;
  readonly ifindex: number;
  readonly addresses: readonly string[];
}

/** A locally administered unicast MAC, stable for a node name. */
export function deviceMAC(nodeName: string): string {
  const h = createHash('sha256').update(`knode-vtep:${nodeName}`).digest();
  const first = ((h[0] ?? 0) & 0xfc) | 0x02; // locally administered, unicast
  return [first, ...h.subarray(1, 6)].map((b) => b.toString(16).padStart(2, '0')).join(':');
}

/** The device the node wants, from the underlay link and the pod CIDR (when assigned). */
export function deviceSpec(opts: {
  name: string;
  vni: number;
  port: number;
  nodeName: string;
  localIP: string;
  underlay: ObservedLink;
  podCIDR?: string;
}): DeviceSpec {
  const vtep = opts.podCIDR !== undefined ? vtepAddress(opts.podCIDR) : undefined;
  return {
    name: opts.name,
    vni: opts.vni,
    port: opts.port,
    localIP: opts.localIP,
    underlay: opts.underlay.name,
    mtu: overlayMTU(opts.underlay.mtu),
    mac: deviceMAC(opts.nodeName),
    ...(vtep !== undefined ? { address: `${vtep}/32` } : {}),
  };
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Links of `ip -j -d link show` merged with the IPv4 addresses of `ip -j -4 addr show`. */
export function parseLinks(linkJson: string, addrJson: string): ObservedLink[] {
  const addrs = new Map<string, string[]>();
  for (const a of parseArray(addrJson, 'ip addr show')) {
    const name = a['ifname'];
    const infos = Array.isArray(a['addr_info']) ? a['addr_info'].filter(isRecord) : [];
    if (typeof name !== 'string') continue;
    addrs.set(
      name,
      infos.filter((i) => i['family'] === 'inet' && typeof i['local'] === 'string').map((i) => `${String(i['local'])}/${String(i['prefixlen'])}`),
    );
  }
  const out: ObservedLink[] = [];
  for (const l of parseArray(linkJson, 'ip link show')) {
    const name = l['ifname'];
    if (typeof name !== 'string' || typeof l['mtu'] !== 'number' || typeof l['ifindex'] !== 'number') continue;
    const info = isRecord(l['linkinfo']) ? l['linkinfo'] : {};
    const data = isRecord(info['info_data']) ? info['info_data'] : {};
    const flags = Array.isArray(l['flags']) ? l['flags'] : [];
    const mac = typeof l['address'] === 'string' ? normalizeMAC(l['address']) : undefined;
    out.push({
      name,
      ifindex: l['ifindex'],
      mtu: l['mtu'],
      up: flags.includes('UP'),
      addresses: addrs.get(name) ?? [],
      ...(typeof info['info_kind'] === 'string' ? { kind: info['info_kind'] } : {}),
      ...(mac !== undefined ? { mac } : {}),
      ...(typeof data['id'] === 'number' ? { vni: data['id'] } : {}),
      ...(typeof data['port'] === 'number' ? { port: data['port'] } : {}),
      ...(typeof data['local'] === 'string' ? { localIP: data['local'] } : {}),
      ...(typeof data['link'] === 'string' ? { underlay: data['link'] } : {}),
      ...(typeof data['learning'] === 'boolean' ? { learning: data['learning'] } : {}),
    });
  }
  return out;
}

/**
 * The underlay link: `iface` when given (it must exist), else the link holding `nodeIP`. Throws an
 * OverlayError naming what is missing.
 */
export function findUnderlay(links: readonly ObservedLink[], nodeIP: string, iface?: string): ObservedLink {
  if (iface !== undefined) {
    const l = links.find((x) => x.name === iface);
    if (l === undefined) throw new OverlayError('ERR_OVERLAY_IFACE', `--iface ${iface}: no such interface on this node (have: ${links.map((x) => x.name).join(', ')})`);
    return l;
  }
  const l = links.find((x) => x.addresses.some((a) => a.split('/')[0] === nodeIP));
  if (l === undefined) {
    throw new OverlayError('ERR_OVERLAY_IFACE', `no interface on this node has the node IP ${nodeIP}; pass --iface to name the underlay interface`);
  }
  return l;
}

/** Whether an existing link can serve as the device without being re-created. */
export function deviceMatches(want: DeviceSpec, have: ObservedLink): boolean {
  return (
    have.kind === 'vxlan' &&
    have.vni === want.vni &&
    have.port === want.port &&
    have.localIP === want.localIP &&
    have.underlay === want.underlay &&
    have.learning === false &&
    have.mac === want.mac
  );
}

/** `ip -batch` lines turning `have` (undefined: absent) into `want`. Empty when nothing differs. */
export function planDevice(want: DeviceSpec, have: ObservedLink | undefined): string[] {
  const lines: string[] = [];
  let fresh = false;
  if (have !== undefined && !deviceMatches(want, have)) {
    lines.push(`link del ${want.name}`);
    fresh = true;
  }
  if (have === undefined || fresh) {
    lines.push(
      `link add ${want.name} address ${want.mac} type vxlan id ${want.vni} local ${want.localIP} dev ${want.underlay} dstport ${want.port} nolearning`,
    );
    fresh = true;
  }
  if (fresh || have?.mtu !== want.mtu) lines.push(`link set ${want.name} mtu ${want.mtu}`);
  const addresses = fresh ? [] : (have?.addresses ?? []);
  // without a pod CIDR (not known yet at start) the address stays: deleting the device's only
  // address makes the kernel drop its neighbours and routes, cutting every peer path until the sync
  if (want.address !== undefined) for (const a of addresses) if (a !== want.address) lines.push(`addr del ${a} dev ${want.name}`);
  if (want.address !== undefined && !addresses.includes(want.address)) lines.push(`addr replace ${want.address} dev ${want.name}`);
  if (fresh || have?.up !== true) lines.push(`link set ${want.name} up`);
  return lines;
}

export interface VxlanDeviceOptions {
  readonly exec: Exec;
  /** Acts in this network namespace (nsenter) instead of the process's own. */
  readonly netns?: string;
}

export class VxlanDevice {
  private readonly exec: Exec;
  private readonly prefix: readonly string[];

  constructor(opts: VxlanDeviceOptions) {
    this.exec = opts.exec;
    this.prefix = opts.netns !== undefined ? ['nsenter', `--net=${opts.netns}`] : [];
  }

  private async read(argv: readonly string[]): Promise<string> {
    const full = [...this.prefix, ...argv];
    const r = await this.exec.run(full);
    if (r.code !== 0) throw new OverlayObserveError(`${formatArgv(full)} exited with code ${r.code}: ${r.stderr.trim()}`);
    return r.stdout;
  }

  async links(): Promise<ObservedLink[]> {
    const [links, addrs] = await Promise.all([this.read(['ip', '-j', '-d', 'link', 'show']), this.read(['ip', '-j', '-4', 'addr', 'show'])]);
    return parseLinks(links, addrs);
  }

  /** Brings the device to `want`; answers the lines it ran (empty when it was already right). */
  async ensure(want: DeviceSpec, links: readonly ObservedLink[]): Promise<string[]> {
    if (!links.some((l) => l.name === want.underlay)) throw new OverlayError('ERR_OVERLAY_IFACE', `the underlay interface ${want.underlay} is gone`);
    const lines = planDevice(want, links.find((l) => l.name === want.name));
    if (lines.length === 0) return lines;
    const argv = [...this.prefix, 'ip', '-batch', '-'];
    const r = await this.exec.run(argv, { stdin: `${lines.join('\n')}\n` });
    if (r.code !== 0) throw new OverlayApplyError(`${formatArgv(argv)} exited with code ${r.code} setting up ${want.name}: ${r.stderr.trim()}`);
    return lines;
  }

  /** `net.ipv4.ip_forward` of this namespace (read, never written: that is the operator's call). */
  async forwarding(): Promise<boolean> {
    const text = await this.read(['cat', '/proc/sys/net/ipv4/ip_forward']);
    return text.trim() === '1';
  }
}
