/**
 * What the plugin reads and writes on the node outside the store: links and routes of its own network
 * namespace, the agent's node state file, sysctls. Links and routes come from /proc/net, which always
 * shows the namespace of the reading process, not from /sys/class/net, which shows the namespace that
 * mounted sysfs: a runtime entered with `nsenter --net` (the lab's containerd) would see the wrong one.
 * Parsers are pure; `realNodeHost` is the thin OS edge and `FakeNodeHost` its test double.
 *
 * Cost: two small procfs reads (~0.1 ms), no process started.
 */
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export interface ProcRoute {
  readonly iface: string;
  readonly dst: number;
  readonly mask: number;
  readonly gateway: number;
  readonly metric: number;
}

/** Interface names in /proc/net/dev. */
export function parseProcNetDev(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n').slice(2)) {
    const colon = line.indexOf(':');
    if (colon > 0) out.push(line.slice(0, colon).trim());
  }
  return out;
}

/** /proc/net/route prints addresses as the kernel's 32-bit words: little-endian on every host we run on. */
function leHex(s: string): number {
  const n = parseInt(s, 16);
  return (((n & 0xff) << 24) | (((n >>> 8) & 0xff) << 16) | (((n >>> 16) & 0xff) << 8) | ((n >>> 24) & 0xff)) >>> 0;
}

export function parseProcNetRoute(text: string): ProcRoute[] {
  const out: ProcRoute[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8 || f[0] === undefined) continue;
    out.push({ iface: f[0], dst: leHex(f[1] ?? '0'), gateway: leHex(f[2] ?? '0'), metric: Number(f[6] ?? 0), mask: leHex(f[7] ?? '0') });
  }
  return out;
}

export interface IpLink {
  readonly ifname: string;
  readonly mtu: number;
  readonly kind?: string;
  readonly master?: string;
}

/** `ip -j -d link show` output. */
export function parseIpLinks(text: string): IpLink[] {
  const raw: unknown = JSON.parse(text);
  if (!Array.isArray(raw)) return [];
  return raw.flatMap((l: unknown) => {
    if (typeof l !== 'object' || l === null) return [];
    const o = l as { ifname?: unknown; mtu?: unknown; master?: unknown; linkinfo?: { info_kind?: unknown } };
    if (typeof o.ifname !== 'string' || typeof o.mtu !== 'number') return [];
    const kind = o.linkinfo?.info_kind;
    return [{ ifname: o.ifname, mtu: o.mtu, ...(typeof kind === 'string' ? { kind } : {}), ...(typeof o.master === 'string' ? { master: o.master } : {}) }];
  });
}

/**
 * The underlay interface: the default route's device; without a default route (lab nodes have none),
 * the device carrying the most routes. Never loopback, our bridge, its ports or a VXLAN device (the
 * overlay's MTU already has the overhead taken off).
 */
export function pickUnderlay(routes: readonly ProcRoute[], links: readonly IpLink[], bridge: string): IpLink | undefined {
  const byName = new Map(links.map((l) => [l.ifname, l]));
  const eligible = (name: string): IpLink | undefined => {
    const l = byName.get(name);
    if (l === undefined || name === 'lo' || name === bridge || l.master === bridge || l.kind === 'vxlan') return undefined;
    return l;
  };
  const defaults = routes.filter((r) => r.dst === 0 && r.mask === 0).sort((a, b) => a.metric - b.metric);
  for (const r of defaults) {
    const l = eligible(r.iface);
    if (l) return l;
  }
  const counts = new Map<string, number>();
  for (const r of routes) if (eligible(r.iface)) counts.set(r.iface, (counts.get(r.iface) ?? 0) + 1);
  let best: string | undefined;
  for (const [name, n] of counts) if (best === undefined || n > (counts.get(best) ?? 0)) best = name;
  return best !== undefined ? byName.get(best) : undefined;
}

export type BridgeState = 'absent' | 'unconfigured' | 'ready';

/** 'ready' when the bridge exists and carries the connected route of the pod CIDR (address set, up). */
export function bridgeStateOf(links: ReadonlySet<string>, routes: readonly ProcRoute[], bridge: string, network: number, prefix: number): BridgeState {
  if (!links.has(bridge)) return 'absent';
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return routes.some((r) => r.iface === bridge && r.dst === network && r.mask === mask) ? 'ready' : 'unconfigured';
}

export interface NodeHost {
  linkNames(): ReadonlySet<string>;
  routes(): readonly ProcRoute[];
  pathExists(path: string): boolean;
  readFile(path: string): string | undefined;
  /** Write to a temp file and rename (readers never see half a file). */
  writeFileAtomic(path: string, text: string): void;
  /** `net/ipv4/conf/knode0/route_localnet` (a path under /proc/sys: interface names may hold dots); acts on
   * the process's own network namespace. */
  setSysctl(path: string, value: string): void;
  now(): number;
}

export const realNodeHost: NodeHost = {
  linkNames: () => new Set(parseProcNetDev(readFileSync('/proc/net/dev', 'utf8'))),
  routes: () => parseProcNetRoute(readFileSync('/proc/net/route', 'utf8')),
  pathExists(path) {
    try {
      statSync(path);
      return true;
    } catch {
      return false;
    }
  },
  readFile(path) {
    try {
      return readFileSync(path, 'utf8');
    } catch (err) {
      if ((err as { code?: unknown }).code === 'ENOENT') return undefined;
      throw err;
    }
  },
  writeFileAtomic(path, text) {
    mkdirSync(dirname(path), { recursive: true });
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, text);
    renameSync(tmp, path);
  },
  setSysctl(path, value) {
    writeFileSync(`/proc/sys/${path}`, value);
  },
  now: () => Date.now(),
};

/** In-memory node: tests set links, routes and files, and read back sysctls and written files. */
export class FakeNodeHost implements NodeHost {
  links = new Set<string>(['lo']);
  routeTable: ProcRoute[] = [];
  files = new Map<string, string>();
  sysctls = new Map<string, string>();
  clock = 1_700_000_000_000;
  linkNames(): ReadonlySet<string> {
    return this.links;
  }
  routes(): readonly ProcRoute[] {
    return this.routeTable;
  }
  pathExists(path: string): boolean {
    return this.files.has(path);
  }
  readFile(path: string): string | undefined {
    return this.files.get(path);
  }
  writeFileAtomic(path: string, text: string): void {
    this.files.set(path, text);
  }
  setSysctl(path: string, value: string): void {
    this.sysctls.set(path, value);
  }
  now(): number {
    return this.clock;
  }
}
