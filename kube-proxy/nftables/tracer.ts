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
 * Base chains of every proxy table run (the main table and each service table), by priority; jumps,
 * gotos and map look-ups stay inside the table of the base chain. A NAT statement ends its base chain
 * with accept, and once a connection has its NAT binding the hook's later nat chains are skipped (as
 * the kernel's nat hook does); filter chains still run. Reject and drop end the trace. The path names
 * each chain as `table/chain`. `fib <addr> type local` is true for the node's IPs and 127.0.0.0/8.
 * Affinity sets keep their entries across traces with their timeouts, on the tracer's own clock.
 */
import type { Chain, ElementKey, HookName, L4Proto, MapKeyType, Match, ProxyRuleset, Verdict } from './ir.js';
import { TABLE_NAME, elementKeyId, serviceTableName } from './ir.js';
import type { Flow, Outcome, TracedPacket, TraceResult, TracerOptions } from '../trace-walk.js';
import { inCidr, isLocalTo, walkFlow } from '../trace-walk.js';

export type { Flow, TraceResult, TracerOptions } from '../trace-walk.js';
export { inCidr } from '../trace-walk.js';

type Packet = TracedPacket;

interface TracedTable {
  readonly name: string;
  readonly chains: Map<string, Chain>;
  readonly maps: Map<string, Map<string, Verdict>>;
}

export class PacketTracer {
  /** In creation order: the main table, then service tables by number (equal priorities run so). */
  private readonly tables: TracedTable[] = [];
  private readonly timeouts = new Map<string, number>();
  /** set name -> client IP -> expiry (ms) */
  private readonly affinity = new Map<string, Map<string, number>>();
  private readonly random: (n: number) => number;
  private readonly now: () => number;
  private readonly nodeIPs: ReadonlySet<string>;

  constructor(ruleset: ProxyRuleset, opts: TracerOptions = {}) {
    const table = (name: string, chains: readonly Chain[], maps: readonly { readonly name: string }[]): TracedTable => {
      const t: TracedTable = { name, chains: new Map(chains.map((c) => [c.name, c])), maps: new Map(maps.map((m) => [m.name, new Map()])) };
      this.tables.push(t);
      return t;
    };
    const byName = new Map<string, TracedTable>();
    byName.set(TABLE_NAME, table(TABLE_NAME, ruleset.baseChains, ruleset.maps));
    for (let i = 0; i < ruleset.serviceTables; i++) {
      const name = serviceTableName(i);
      byName.set(name, table(name, ruleset.serviceTableChains, ruleset.serviceTableMaps));
    }
    const tableOf = (name: string): TracedTable => {
      const t = byName.get(name);
      if (t === undefined) throw new Error(`trace: the ruleset has no table ${name}`);
      return t;
    };
    for (const s of ruleset.services.values()) {
      const t = tableOf(s.table);
      for (const c of s.chains) t.chains.set(c.name, c);
      for (const set of s.sets) this.timeouts.set(set.name, set.timeoutSeconds * 1000);
    }
    for (const s of ruleset.services.values()) {
      for (const e of s.elements) tableOf(e.table).maps.get(e.map)?.set(elementKeyId(e.key), e.verdict);
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
    const bases = this.tables
      .flatMap((table) => [...table.chains.values()].filter((c) => c.hook?.hook === hook && !(skipNat && c.hook.type === 'nat')).map((chain) => ({ table, chain })))
      .sort((a, b) => (a.chain.hook?.priority ?? 0) - (b.chain.hook?.priority ?? 0));
    let bound = false;
    for (const { table, chain } of bases) {
      if (bound && chain.hook?.type === 'nat') continue;
      const before = { dnat: p.dnat, masquerade: p.masquerade };
      const out = this.runBase(table, chain, p, path);
      if (out.kind !== 'continue') return out;
      if (p.dnat !== before.dnat || p.masquerade !== before.masquerade) bound = true;
    }
    return { kind: 'continue' };
  }

  /** One base chain with nft's jump/goto/return semantics; `continue` means the chain accepted. */
  private runBase(table: TracedTable, base: Chain, p: Packet, path: string[]): Outcome {
    path.push(`${table.name}/${base.name}`);
    const stack: { chain: Chain; next: number }[] = [{ chain: base, next: 0 }];
    const enter = (name: string, replace: boolean): void => {
      const chain = table.chains.get(name);
      if (chain === undefined) throw new Error(`trace: jump to missing chain ${name} in table ${table.name}`);
      path.push(`${table.name}/${name}`);
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
          const v = table.maps.get(a.map)?.get(this.key(a.key, p));
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
