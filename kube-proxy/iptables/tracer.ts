/**
 * A packet tracer over the iptables IR, with the nftables tracer's interface (`Flow` in,
 * `TraceResult` out, the same `TracerOptions`), so one table of behaviour cases
 * (../testing/tracer-cases.ts) runs against both modes. It evaluates the proxy's own chains plus the
 * jump rules `JUMPS` puts into the built-in chains (whose policy is ACCEPT), as netfilter would:
 *   from a pod or from outside: nat PREROUTING -> routing -> filter INPUT (local destination) or
 *                               filter FORWARD -> nat POSTROUTING
 *   from the node itself:       nat OUTPUT -> filter OUTPUT -> nat POSTROUTING -> (local destination,
 *                               via loopback) filter INPUT
 * iptables' order within a hook is raw, mangle, nat (DNAT), filter, so filter sees the destination
 * after DNAT. DNAT and MASQUERADE end their table's traversal for the hook (like ACCEPT); REJECT and
 * DROP end the trace. `-j` pushes a chain, falling off its end or RETURN pops it. addrtype LOCAL is
 * true for the node's IPs and 127.0.0.0/8. `recent` lists keep their entries across traces, on the
 * tracer's own clock; `statistic` draws from `random`.
 */
import type { Flow, Outcome, TracedPacket, TraceResult, TracerOptions } from '../trace-walk.js';
import { inCidr, isLocalTo, walkFlow } from '../trace-walk.js';
import type { Chain, IptablesRuleset, L4Proto, Match, Table } from './ir.js';
import { JUMPS } from './ir.js';
import { allChains } from './chains.js';

type Packet = TracedPacket;

type Hook = 'PREROUTING' | 'INPUT' | 'FORWARD' | 'OUTPUT' | 'POSTROUTING';

/** Tables in the order netfilter runs them at each hook (only the ones the proxy uses). */
const HOOK_TABLES: Readonly<Record<Hook, readonly Table[]>> = {
  PREROUTING: ['nat'],
  INPUT: ['filter'],
  FORWARD: ['filter'],
  OUTPUT: ['nat', 'filter'],
  POSTROUTING: ['nat'],
};

export class IptablesTracer {
  /** `table/name` -> chain; built-in chains hold just our jump rules. */
  private readonly chains = new Map<string, Chain>();
  /** recent list -> source -> last seen (ms) */
  private readonly recent = new Map<string, Map<string, number>>();
  private readonly random: (n: number) => number;
  private readonly now: () => number;
  private readonly nodeIPs: ReadonlySet<string>;

  constructor(ruleset: IptablesRuleset, opts: TracerOptions = {}) {
    for (const c of allChains(ruleset)) this.chains.set(`${c.table}/${c.name}`, c);
    for (const j of JUMPS) {
      const id = `${j.table}/${j.from}`;
      const c = this.chains.get(id);
      this.chains.set(id, { table: j.table, name: j.from, rules: [...(c?.rules ?? []), j.rule] });
    }
    this.random = opts.random ?? ((n) => Math.floor(Math.random() * n));
    this.now = opts.now ?? Date.now;
    this.nodeIPs = new Set(opts.nodeIPs ?? ruleset.nodeIPs);
  }

  trace(flow: Flow): TraceResult {
    return walkFlow(flow, this.nodeIPs, (step, p, path) => {
      // INPUT after a loopback has only filter tables here, so nat never runs twice
      const hook = step.toUpperCase() as Hook;
      for (const table of HOOK_TABLES[hook]) {
        const out = this.runBuiltin(table, hook, p, path);
        if (out.kind !== 'continue') return out;
      }
      return { kind: 'continue' };
    });
  }

  private isLocal(ip: string): boolean {
    return isLocalTo(this.nodeIPs, ip);
  }

  /** One built-in chain and what it jumps to; `continue` means the table let the packet through. */
  private runBuiltin(table: Table, hook: Hook, p: Packet, path: string[]): Outcome {
    const base = this.chains.get(`${table}/${hook}`);
    if (base === undefined) return { kind: 'continue' };
    path.push(`${table}/${hook}`);
    const stack: { chain: Chain; next: number }[] = [{ chain: base, next: 0 }];
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
      const t = rule.target;
      switch (t.kind) {
        case 'jump': {
          const chain = this.chains.get(`${table}/${t.chain}`);
          if (chain === undefined) throw new Error(`trace: jump to missing chain ${table}/${t.chain}`);
          path.push(`${table}/${t.chain}`);
          stack.push({ chain, next: 0 });
          break;
        }
        case 'return':
          stack.pop();
          break;
        case 'accept':
          return { kind: 'continue' };
        case 'drop':
          return { kind: 'drop' };
        case 'reject':
          return { kind: 'reject', with: t.with };
        case 'mark-or':
          p.mark = (p.mark | t.bit) >>> 0;
          break;
        case 'mark-xor':
          p.mark = (p.mark ^ t.bit) >>> 0;
          break;
        case 'masquerade':
          p.masquerade = true;
          return { kind: 'continue' };
        case 'dnat':
          p.dnat = { ip: t.ip, port: t.port };
          p.daddr = t.ip;
          p.dport = t.port;
          return { kind: 'continue' };
        default:
          return assertNever(t);
      }
    }
  }

  private matches(m: Match, p: Packet): boolean {
    switch (m.kind) {
      case 'src':
        return inCidr(p.saddr, m.cidr.includes('/') ? m.cidr : `${m.cidr}/32`) !== m.negate;
      case 'dst':
        return inCidr(p.daddr, m.cidr.includes('/') ? m.cidr : `${m.cidr}/32`) !== m.negate;
      case 'proto':
        return p.proto === m.proto;
      case 'comment':
      case 'ctstate-new':
        return true;
      case 'dport':
        return p.proto === m.proto && p.dport === m.port;
      case 'addrtype-local':
        return this.isLocal(m.field === 'src' ? p.saddr : p.daddr);
      case 'mark-clear':
        return (p.mark & m.bit) === 0;
      case 'statistic':
        return this.random(m.mod) === 0;
      case 'recent-check': {
        const seen = this.recent.get(m.name)?.get(p.saddr);
        return seen !== undefined && this.now() - seen < m.seconds * 1000;
      }
      case 'recent-set': {
        const list = this.recent.get(m.name) ?? new Map<string, number>();
        list.set(p.saddr, this.now());
        this.recent.set(m.name, list);
        return true;
      }
      default:
        return assertNever(m);
    }
  }
}

function assertNever(x: never): never {
  throw new Error(`unexpected ${JSON.stringify(x)}`);
}
