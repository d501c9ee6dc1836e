/**
 * Stale conntrack entries of UDP (and SCTP) Services. A UDP "connection" is a conntrack entry that
 * lives as long as packets keep coming, and every packet of it follows the NAT decided for its first
 * packet: when the endpoint it was DNATed to goes away, or the Service port is removed, or the flow
 * was set up while the Service had no endpoint (no DNAT at all), the client keeps sending into the
 * void until the entry expires. So after every applied sync the entries of exactly those flows are
 * deleted, as upstream kube-proxy does:
 *   - an endpoint no longer usable:     -p udp --orig-dst <service IP> --reply-src <endpoint IP>
 *                                       -p udp --orig-port-dst <node port> --reply-src <endpoint IP>
 *   - a UDP service port removed:        -p udp --orig-dst <service IP> --orig-port-dst <port>
 *                                       -p udp --orig-port-dst <node port>
 *   - zero usable endpoints -> some:     the same two as a removed port
 * "Service IP" is every cluster IP, external IP and load-balancer IP of the port (IPv4). TCP is never
 * touched: an established TCP flow keeps its NAT through resyncs and restarts, and a dead endpoint
 * resets it by itself.
 *
 * `planConntrackCleanup` is pure (previous applied state, new state, keys to compare); `ConntrackCli`
 * runs one `conntrack -D` per filter through lib/exec, optionally inside a network namespace;
 * `FakeConntrack` records the filters. Cost: one exec (~3 ms) per filter, only for UDP/SCTP changes.
 */
import type { Exec } from '../lib/exec.js';
import { realExec } from '../lib/exec.js';
import { ConntrackError } from './errors.js';
import type { Endpoint, ProxyState, ServicePortInfo } from './model.js';
import { selectEndpoints } from './model.js';

export interface ConntrackFilter {
  readonly protocol: 'udp' | 'sctp';
  /** The original destination (a service IP); absent for node ports (any local address). */
  readonly origDst?: string;
  readonly origDstPort?: number;
  /** The reply's source: the endpoint a flow was DNATed to. */
  readonly replySrc?: string;
}

export interface Conntrack {
  /** Deletes the entries matching `filter`; answers how many went. Nothing matching is not an error. */
  delete(filter: ConntrackFilter): Promise<number>;
}

const isIPv4 = (ip: string): boolean => /^\d{1,3}(\.\d{1,3}){3}$/.test(ip);

function serviceIPs(sp: ServicePortInfo): string[] {
  return [...sp.clusterIPs, ...sp.externalIPs, ...sp.loadBalancerIPs].filter(isIPv4);
}

function flushesConntrack(sp: ServicePortInfo): sp is ServicePortInfo & { protocol: 'UDP' | 'SCTP' } {
  return sp.protocol === 'UDP' || sp.protocol === 'SCTP';
}

/** Endpoints a flow may have been sent to: any usable one (cluster-wide or local, whatever the policy). */
function usableIPs(sp: ServicePortInfo, eps: readonly Endpoint[]): Set<string> {
  const sel = selectEndpoints(sp, eps);
  return new Set([...sel.cluster, ...sel.local].map((e) => e.ip));
}

export function filterId(f: ConntrackFilter): string {
  return [f.protocol, f.origDst ?? '*', f.origDstPort ?? '*', f.replySrc ?? '*'].join(' ');
}

/**
 * The conntrack deletions that going from `prev` (the state last applied; undefined: nothing applied
 * yet) to `next` calls for, over the service-port keys in `keys`. Deduplicated, in a stable order.
 */
export function planConntrackCleanup(prev: ProxyState | undefined, next: ProxyState, keys: Iterable<string>): ConntrackFilter[] {
  const out = new Map<string, ConntrackFilter>();
  const add = (f: ConntrackFilter): void => {
    out.set(filterId(f), f);
  };
  const wholePort = (sp: ServicePortInfo & { protocol: 'UDP' | 'SCTP' }): void => {
    const protocol = sp.protocol === 'UDP' ? 'udp' : 'sctp';
    for (const ip of serviceIPs(sp)) add({ protocol, origDst: ip, origDstPort: sp.port });
    if (sp.nodePort > 0) add({ protocol, origDstPort: sp.nodePort });
  };
  for (const key of keys) {
    const before = prev?.services.get(key);
    const after = next.services.get(key);
    if (before !== undefined && flushesConntrack(before)) {
      const protocol = before.protocol === 'UDP' ? 'udp' : 'sctp';
      const oldEps = usableIPs(before, prev?.endpoints.get(key) ?? []);
      const newEps = after !== undefined ? usableIPs(after, next.endpoints.get(key) ?? []) : new Set<string>();
      for (const ip of [...oldEps].filter((e) => !newEps.has(e))) {
        for (const svcIP of serviceIPs(before)) add({ protocol, origDst: svcIP, replySrc: ip });
        if (before.nodePort > 0) add({ protocol, origDstPort: before.nodePort, replySrc: ip });
      }
      if (after === undefined) {
        wholePort(before);
      } else {
        // addresses or the node port the port no longer answers on
        const kept = new Set(serviceIPs(after));
        for (const ip of serviceIPs(before).filter((x) => !kept.has(x))) add({ protocol, origDst: ip, origDstPort: before.port });
        if (before.port !== after.port) for (const ip of serviceIPs(before)) add({ protocol, origDst: ip, origDstPort: before.port });
        if (before.nodePort > 0 && before.nodePort !== after.nodePort) add({ protocol, origDstPort: before.nodePort });
      }
    }
    if (after !== undefined && flushesConntrack(after)) {
      const hadAny = before !== undefined && usableIPs(before, prev?.endpoints.get(key) ?? []).size > 0;
      const hasAny = usableIPs(after, next.endpoints.get(key) ?? []).size > 0;
      if (!hadAny && hasAny) wholePort(after);
    }
  }
  return [...out.values()].sort((a, b) => filterId(a).localeCompare(filterId(b)));
}

/** `conntrack -D` argv for one filter (IPv4 only: the proxy programs `table ip`). */
export function conntrackArgv(f: ConntrackFilter): string[] {
  return [
    'conntrack',
    '-D',
    '-f',
    'ipv4',
    '-p',
    f.protocol,
    ...(f.origDst !== undefined ? ['--orig-dst', f.origDst] : []),
    ...(f.origDstPort !== undefined ? ['--orig-port-dst', String(f.origDstPort)] : []),
    ...(f.replySrc !== undefined ? ['--reply-src', f.replySrc] : []),
  ];
}

export interface ConntrackCliOptions {
  readonly exec?: Exec;
  /** Run conntrack in this network namespace (a path such as /run/netns/NAME); default: the caller's. */
  readonly netnsPath?: string;
}

export class ConntrackCli implements Conntrack {
  private readonly exec: Exec;
  private readonly prefix: readonly string[];

  constructor(opts: ConntrackCliOptions = {}) {
    this.exec = opts.exec ?? realExec;
    this.prefix = opts.netnsPath !== undefined ? ['nsenter', `--net=${opts.netnsPath}`] : [];
  }

  async delete(filter: ConntrackFilter): Promise<number> {
    const argv = [...this.prefix, ...conntrackArgv(filter)];
    const r = await this.exec.run(argv, { timeoutMs: 10_000 });
    // conntrack-tools 1.4 exits 0 when entries were deleted, 1 when none matched (and on a failure
    // to talk to the kernel, which it does not tell apart by code), 2 on a bad argument.
    if (r.code === 0 || r.code === 1) {
      const m = /(\d+) flow entries have been deleted/.exec(r.stderr);
      return m?.[1] !== undefined ? Number(m[1]) : 0;
    }
    throw new ConntrackError(`conntrack -D failed (exit ${r.code}): ${r.stderr.trim().split('\n')[0] ?? ''}`, argv, r.code, r.stderr);
  }
}

/** Records every filter; `entries` decides how many each one "deleted" (default 0). */
export class FakeConntrack implements Conntrack {
  readonly deleted: ConntrackFilter[] = [];
  failWith: Error | undefined;
  constructor(private readonly entries: (f: ConntrackFilter) => number = () => 0) {}
  delete(filter: ConntrackFilter): Promise<number> {
    if (this.failWith !== undefined) return Promise.reject(this.failWith);
    this.deleted.push(filter);
    return Promise.resolve(this.entries(filter));
  }
}
