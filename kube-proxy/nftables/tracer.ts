/**
 * A packet tracer over the built table (the IR, not nft text): it runs the first packet of a new
 * connection through the hooks the kernel would, evaluating the same rules, maps and affinity sets,
 * and reports where it ends up. Tests assert behaviour with it ("a ClusterIP flow from outside the
 * cluster is DNATed to an endpoint and masqueraded") instead of rule layout.
 *
 * The path a packet takes, as netfilter runs it (base chains of one hook in priority order):
 *   from a pod or from outside: prerouting -> routing -> input (local destination) or forward
 *                               -> postrouting
 *   from the node itself:       output -> postrouting -> (local destination, via loopback) input
 * A NAT statement ends its base chain with accept (other base chains of the hook still run); reject
 * and drop end the trace. `fib <addr> type local` is true for the node's IPs and 127.0.0.0/8.
 * Affinity sets keep their entries across traces with their timeouts, on the tracer's own clock.
 */
import type { Chain, ElementKey, HookName, L4Proto, MapKeyType, Match, ProxyRuleset, Verdict } from './ir.js';
import { elementKeyId } from './ir.js';
import type { Flow, Outcome, TracedPacket, TraceResult, TracerOptions } from '../trace-walk.js';
import { inCidr, isLocalTo, walkFlow } from '../trace-walk.js';

export type { Flow, TraceResult, TracerOptions } from '../trace-walk.js';
export { inCidr } from '../trace-walk.js';

type Packet = TracedPacket;

export class PacketTracer {
  private readonly chains = new Map<string, Chain>();
  private readonly maps = new Map<string, Map<string, Verdict>>();
  private readonly timeouts = new Map<string, number>();
  /** set name -> client IP -> expiry (ms) */
  private readonly affinity = new Map<string, Map<string, number>>();
  private readonly random: (n: number) => number;
  private readonly now: () => number;
  private readonly nodeIPs: ReadonlySet<string>;

  constructor(ruleset: ProxyRuleset, opts: TracerOptions = {}) {
    for (const c of ruleset.baseChains) this.chains.set(c.name, c);
    for (const m of ruleset.maps) this.maps.set(m.name, new Map());
    for (const s of ruleset.services.values()) {
      for (const c of s.chains) this.chains.set(c.name, c);
      for (const set of s.sets) this.timeouts.set(set.name, set.timeoutSeconds * 1000);
      for (const e of s.elements) this.maps.get(e.map)?.set(elementKeyId(e.key), e.verdict);
    }
    this.random = opts.random ?? ((n) => Math.floor(Math.random() * n));
    this.now = opts.now ?? Date.now;
    this.nodeIPs = new Set(opts.nodeIPs ?? ruleset.nodeIPs);
  }

  trace(flow: Flow): TraceResult {
    return walkFlow(flow, this.nodeIPs, (hook, p, path, loopback) => this.runHook(hook, p, path, loopback));
  }

  private isLocal(ip: string): boolean {
    return isLocalTo(this.nodeIPs, ip);
  }

  private runHook(hook: HookName, p: Packet, path: string[], skipNat: boolean): Outcome {
    const bases = [...this.chains.values()]
      .filter((c) => c.hook?.hook === hook && !(skipNat && c.hook.type === 'nat'))
      .sort((a, b) => (a.hook?.priority ?? 0) - (b.hook?.priority ?? 0));
    for (const base of bases) {
      const out = this.runBase(base, p, path);
      if (out.kind !== 'continue') return out;
    }
    return { kind: 'continue' };
  }

  /** One base chain with nft's jump/goto/return semantics; `continue` means the chain accepted. */
  private runBase(base: Chain, p: Packet, path: string[]): Outcome {
    path.push(base.name);
    const stack: { chain: Chain; next: number }[] = [{ chain: base, next: 0 }];
    const enter = (name: string, replace: boolean): void => {
      const chain = this.chains.get(name);
      if (chain === undefined) throw new Error(`trace: jump to missing chain ${name}`);
      path.push(name);
      if (replace) stack.pop();
      stack.push({ chain, next: 0 });
    };
    const apply = (v: Verdict): Outcome | undefined => {
      switch (v.kind) {
        case 'jump':
          enter(v.chain, false);
          return undefined;
        case 'goto':
          enter(v.chain, true);
          return undefined;
        case 'return':
          stack.pop();
          return undefined;
        case 'accept':
          return { kind: 'continue' };
        case 'drop':
          return { kind: 'drop' };
        default:
          return assertNever(v);
      }
    };
    for (;;) {
      const frame = stack[stack.length - 1];
      if (frame === undefined) return { kind: 'continue' };
      const rule = frame.chain.rules[frame.next];
      if (rule === undefined) {
        stack.pop();
        continue;
      }
      frame.next++;
      if (!rule.match.every((m) => this.matches(m, p))) continue;
      const a = rule.action;
      let out: Outcome | undefined;
      switch (a.kind) {
        case 'verdict':
          out = apply(a.verdict);
          break;
        case 'vmap': {
          const v = this.maps.get(a.map)?.get(this.key(a.key, p));
          out = v !== undefined ? apply(v) : undefined;
          break;
        }
        case 'mark-or':
          p.mark = (p.mark | a.bit) >>> 0;
          break;
        case 'mark-xor':
          p.mark = (p.mark ^ a.bit) >>> 0;
          break;
        case 'masquerade':
          p.masquerade = true;
          return { kind: 'continue' };
        case 'dnat':
          p.dnat = { ip: a.ip, port: a.port };
          p.daddr = a.ip;
          p.dport = a.port;
          return { kind: 'continue' };
        case 'reject':
          return { kind: 'reject', with: a.with };
        case 'update-saddr': {
          const set = this.affinity.get(a.set) ?? new Map<string, number>();
          set.set(p.saddr, this.now() + (this.timeouts.get(a.set) ?? 0));
          this.affinity.set(a.set, set);
          break;
        }
        default:
          assertNever(a);
      }
      if (out !== undefined) return out;
    }
  }

  private key(type: MapKeyType, p: Packet): string {
    const k: ElementKey = type === 'daddr.proto.dport' ? { ip: p.daddr, proto: p.proto, port: p.dport } : { proto: p.proto, port: p.dport };
    return elementKeyId(k);
  }

  private matches(m: Match, p: Packet): boolean {
    switch (m.kind) {
      case 'addr':
        return (m.field === 'saddr' ? p.saddr : p.daddr) === m.ip;
      case 'cidr':
        return inCidr(m.field === 'saddr' ? p.saddr : p.daddr, m.cidr) !== m.negate;
      case 'saddr-in-set': {
        const expiry = this.affinity.get(m.set)?.get(p.saddr);
        return expiry !== undefined && expiry > this.now();
      }
      case 'l4proto':
        return p.proto === m.proto;
      case 'fib-local':
        return this.isLocal(m.field === 'saddr' ? p.saddr : p.daddr);
      case 'ct-new':
        return true;
      case 'mark-clear':
        return (p.mark & m.bit) === 0;
      case 'numgen':
        return this.random(m.mod) === 0;
      default:
        return assertNever(m);
    }
  }
}

function assertNever(x: never): never {
  throw new Error(`unexpected ${JSON.stringify(x)}`);
}
