/**
 * What the two packet tracers (nftables/tracer.ts over the nft IR, iptables/tracer.ts over the
 * iptables IR) share: the flow and result types, the packet being rewritten, and the walk of a flow
 * through netfilter's hooks. Each tracer supplies only "run this hook's chains".
 *
 *   from a pod or another host: prerouting -> route (input if the destination is local, else
 *                               forward) -> postrouting
 *   from the node itself:       output -> postrouting -> (input again when the destination, after
 *                               output's DNAT, is one of its own addresses: `loopback`, where nat
 *                               chains do not run again since the binding was made in output)
 */
import type { L4Proto } from './nftables/ir.js';

export interface Flow {
  readonly src: string;
  readonly proto: L4Proto;
  readonly dst: string;
  readonly dport: number;
  /** Where the packet enters: a local pod (through the bridge), another host, or the node itself. */
  readonly from: 'pod' | 'node' | 'external';
}

export interface TraceResult {
  readonly verdict: 'dnat' | 'reject' | 'drop' | 'accept';
  readonly endpoint?: { readonly ip: string; readonly port: number };
  readonly rejectWith?: 'tcp-reset' | 'icmp-port-unreachable';
  readonly masquerade: boolean;
  /** Every chain entered, in order. */
  readonly path: readonly string[];
}

export interface TracerOptions {
  /** numgen's / statistic's random source: an integer in [0, n). Default Math.random. */
  readonly random?: (n: number) => number;
  /** Milliseconds, for affinity timeouts. Default Date.now. */
  readonly now?: () => number;
  /** Overrides the ruleset's node IPs for "is this address local". */
  readonly nodeIPs?: readonly string[];
}

/** The packet as the rules rewrite it. */
export interface TracedPacket {
  saddr: string;
  daddr: string;
  dport: number;
  readonly proto: L4Proto;
  mark: number;
  dnat?: { ip: string; port: number };
  masquerade: boolean;
}

export type Outcome = { kind: 'continue' } | { kind: 'drop' } | { kind: 'reject'; with: 'tcp-reset' | 'icmp-port-unreachable' };

export type HookStep = 'prerouting' | 'input' | 'forward' | 'output' | 'postrouting';

function ipToInt(ip: string): number {
  return ip.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
}

export function inCidr(ip: string, cidr: string): boolean {
  const [net = '', bitsText = '32'] = cidr.split('/');
  const bits = Number(bitsText);
  if (bits === 0) return true;
  const mask = bits === 32 ? 0xffffffff : (0xffffffff << (32 - bits)) >>> 0;
  return ((ipToInt(ip) & mask) >>> 0) === ((ipToInt(net) & mask) >>> 0);
}

/** A node's own address or loopback. */
export const isLocalTo = (nodeIPs: ReadonlySet<string>, ip: string): boolean => nodeIPs.has(ip) || inCidr(ip, '127.0.0.0/8');

/** Walks `flow` through the hooks, running `runHook` at each; the first non-continue outcome ends it. */
export function walkFlow(flow: Flow, nodeIPs: ReadonlySet<string>, runHook: (hook: HookStep, p: TracedPacket, path: string[], loopback: boolean) => Outcome): TraceResult {
  const p: TracedPacket = { saddr: flow.src, daddr: flow.dst, dport: flow.dport, proto: flow.proto, mark: 0, masquerade: false };
  const path: string[] = [];
  const steps: readonly (HookStep | 'route' | 'loopback')[] = flow.from === 'node' ? ['output', 'postrouting', 'loopback'] : ['prerouting', 'route', 'postrouting'];
  for (const step of steps) {
    const local = isLocalTo(nodeIPs, p.daddr);
    if (step === 'loopback' && !local) continue;
    const hook: HookStep = step === 'route' ? (local ? 'input' : 'forward') : step === 'loopback' ? 'input' : step;
    const out = runHook(hook, p, path, step === 'loopback');
    if (out.kind !== 'continue') return { verdict: out.kind, ...(out.kind === 'reject' ? { rejectWith: out.with } : {}), masquerade: false, path };
  }
  return {
    verdict: p.dnat !== undefined ? 'dnat' : 'accept',
    ...(p.dnat !== undefined ? { endpoint: { ip: p.dnat.ip, port: p.dnat.port } } : {}),
    masquerade: p.masquerade,
    path,
  };
}
