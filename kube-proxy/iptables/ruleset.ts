/**
 * kube-proxy's iptables mode: `buildIptablesRuleset(state, opts, changed?, previous?)` turns the proxy
 * state into `iptables-restore --noflush` input for the filter and nat tables. Pure: no I/O. The
 * chain layout is in chains.ts; this file decides what a sync rewrites and in which inputs.
 *
 * Full sync: every own chain is declared (`:KNODE-X - [0:0]` creates it or flushes an existing one)
 * and filled; own chains no longer wanted (from `previous`, and from `opts.existingChains`, which the
 * runner lists after a restart) are declared and deleted with -X.
 * Partial sync (`changed` keys and a `previous` built with equal options): each changed key's chains
 * are compared by text with the previous ones; only new or different chains are declared and
 * rewritten, chains the key no longer owns are flushed and deleted, and its rules in the shared
 * dispatch chains are edited in place: `-D` for a rule that went, `-I KNODE-SERVICES 1` (the node-port
 * jump must stay last) or `-A` for a new one. Rewriting KNODE-SERVICES instead (one rule per Service
 * IP and port) cost 1.4 s of iptables-restore CPU per added Service at 10,000 Services; the in-place
 * edit costs 20-140 ms. So a partial sync's cost follows the size of the change, not of the table.
 * Rule order inside a dispatch chain is therefore not the full sync's order; it does not matter, as
 * no two of its rules match the same packet (except the node-port jump, which stays last).
 *
 * Batches. iptables-restore 1.8.9 (nf_tables backend) looks up chains it is creating by a linear
 * walk, so one input costs about (chains declared) x (rules + jumps) string compares: a cold sync of
 * 10,000 Services x 2 endpoints (30,000 chains, 80,000 rules) as one input took 49 s of CPU. Split
 * into inputs of at most `batchChains` (default 1000) declared chains, restored one after another,
 * the same load took 4-5 s. `natBatches` is that split, ordered so every batch leaves a consistent
 * table: the fixed chains first (endpoint chains jump to KNODE-MARK-MASQ); then groups of whole
 * service ports (a rewritten chain and the chains it jumps to change in one commit); then the
 * dispatch chains (only now do packets reach new chains); then chains no longer wanted, flushed in
 * one pass of batches and deleted in a second (a chain can only be deleted once nothing jumps to it).
 * `nat` is the same change as a single input, for callers that want one transaction.
 *
 * Conntrack keeps established flows' NAT, so no sync disturbs open connections. ClientIP affinity
 * uses `recent` lists named after the endpoint chains; a list lives as long as a rule names it, so a
 * rewrite (even a full resync) keeps its clients pinned (ruleset.host.test.ts checks it).
 */
import type { ProxyState } from '../model.js';
import type { ChainOptions, Fragment } from './chains.js';
import { DEFAULT_MASQUERADE_BIT, DISPATCH, buildServicePortChains, dispatchChain, fixedChains } from './chains.js';
import type { Chain, IptablesRuleset, Rule, ServicePortChains, Table } from './ir.js';
import { CHAIN_SERVICES } from './ir.js';
import type { TableEdit } from './render.js';
import { renderChainRules, renderRuleSpec, renderTableEdit } from './render.js';

export { DEFAULT_MASQUERADE_BIT } from './chains.js';

export interface IptablesOptions extends ChainOptions {
  /** This node's addresses (the rules use addrtype LOCAL; the tracer needs the list). */
  readonly nodeIPs: readonly string[];
  readonly masqueradeBit?: number;
  /** Own chains found in the kernel (runner.listChains(), for a full sync after a restart): stale ones go. */
  readonly existingChains?: { readonly filter: readonly string[]; readonly nat: readonly string[] };
  /** At most this many chains declared per input of `natBatches` (default 1000). */
  readonly batchChains?: number;
}

export interface IptablesSync {
  /** A full sync rewrites every own chain; a partial one only the changed ones. */
  readonly full: boolean;
  /** `iptables-restore --noflush` input for the filter table; '' when it has nothing to change. */
  readonly filter: string;
  /** The nat change as one input (one transaction); '' when nothing changes. */
  readonly nat: string;
  /** The same nat change as inputs to restore in order, each leaving a consistent table (see above). */
  readonly natBatches: readonly string[];
  /** The chains once restored: pass it as `previous` to the next partial sync, or trace through it. */
  readonly ruleset: IptablesRuleset;
  /** Service-port keys whose rules this sync rewrote (all of them on a full sync). */
  readonly touched: readonly string[];
}

const DEFAULT_BATCH_CHAINS = 1000;

/** What a sync does to the nat table, before it is cut into inputs. */
interface NatPlan {
  /** Chains written first (the fixed ones, on a full sync). */
  readonly first: readonly Chain[];
  /** Per service port, the chains it (re)writes. */
  readonly groups: readonly (readonly Chain[])[];
  /** Dispatch chains: declared and written whole (full sync) or edited in place (partial). */
  readonly dispatch: { readonly declare: readonly string[]; readonly rules: readonly string[] };
  /** Chains to flush and delete. */
  readonly drop: readonly string[];
}

function fingerprintOf(opts: IptablesOptions, bit: number): string {
  return JSON.stringify([opts.clusterCIDR ?? null, opts.masqueradeAll === true, bit]);
}

function rulesFor(state: ProxyState, key: string, opts: IptablesOptions): ServicePortChains | undefined {
  const sp = state.services.get(key);
  return sp !== undefined ? buildServicePortChains(sp, state.endpoints.get(key) ?? [], opts) : undefined;
}

const chainLines = (chains: readonly Chain[]): string[] => {
  const out: string[] = [];
  renderChainRules(chains, out);
  return out;
};

function chunk<T>(items: readonly T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += n) out.push(items.slice(i, i + n));
  return out;
}

/** The plan as one input, and as batches of at most `limit` declared chains. */
function renderNat(plan: NatPlan, limit: number): { nat: string; natBatches: string[] } {
  const chains = [...plan.first, ...plan.groups.flat()];
  const drop = [...plan.drop].sort();
  const single: TableEdit = {
    declare: [...plan.dispatch.declare, ...chains.map((c) => c.name), ...drop],
    rules: [...chainLines(chains), ...plan.dispatch.rules],
    remove: drop,
  };
  const nat = renderTableEdit('nat', single);
  if (single.declare.length <= limit) return { nat, natBatches: nat !== '' ? [nat] : [] };
  const edits: TableEdit[] = [];
  const write = (cs: readonly Chain[]): void => {
    if (cs.length > 0) edits.push({ declare: cs.map((c) => c.name), rules: chainLines(cs), remove: [] });
  };
  write(plan.first);
  let batch: Chain[] = [];
  for (const g of plan.groups) {
    if (batch.length > 0 && batch.length + g.length > limit) {
      write(batch);
      batch = [];
    }
    batch.push(...g);
  }
  write(batch);
  if (plan.dispatch.declare.length > 0 || plan.dispatch.rules.length > 0) edits.push({ ...plan.dispatch, remove: [] });
  for (const part of chunk(drop, limit)) edits.push({ declare: part, rules: [], remove: [] });
  for (const part of chunk(drop, limit)) edits.push({ declare: [], rules: [], remove: part });
  return { nat, natBatches: edits.map((e) => renderTableEdit('nat', e)) };
}

/**
 * The restore input that moves the kernel from `previous` (or whatever own chains it holds) to the
 * chains `state` asks for. With `changed` and a compatible `previous` it is a partial sync over those
 * keys; otherwise a full sync.
 */
export function buildIptablesRuleset(state: ProxyState, opts: IptablesOptions, changed?: ReadonlySet<string>, previous?: IptablesRuleset): IptablesSync {
  const bit = opts.masqueradeBit ?? DEFAULT_MASQUERADE_BIT;
  const fingerprint = fingerprintOf(opts, bit);
  if (changed !== undefined && previous !== undefined && previous.fingerprint === fingerprint) {
    return partialSync(state, opts, changed, previous);
  }
  const services = new Map<string, ServicePortChains>();
  for (const key of [...state.services.keys()].sort()) {
    const r = rulesFor(state, key, opts);
    if (r !== undefined) services.set(key, r);
  }
  const ruleset: IptablesRuleset = { fingerprint, masqueradeBit: bit, services, order: [...services.keys()], nodeIPs: [...opts.nodeIPs] };

  const wanted: Record<Table, Set<string>> = { filter: new Set(), nat: new Set() };
  for (const d of DISPATCH) wanted[d.table].add(d.name);
  for (const c of fixedChains(bit)) wanted[c.table].add(c.name);
  for (const s of services.values()) for (const c of s.chains) wanted[c.table].add(c.name);
  const staleOf = (table: Table, names: Iterable<string>): string[] => [...new Set(names)].filter((n) => !wanted[table].has(n)).sort();
  const prevNat = [...(previous?.services.values() ?? [])].flatMap((s) => s.chains.map((c) => c.name));

  const natDispatch = DISPATCH.filter((d) => d.table === 'nat').map((d) => dispatchChain(d, services, ruleset.order));
  const plan: NatPlan = {
    first: fixedChains(bit),
    groups: ruleset.order.map((k) => services.get(k)?.chains ?? []),
    dispatch: { declare: natDispatch.map((c) => c.name), rules: chainLines(natDispatch) },
    drop: staleOf('nat', [...(opts.existingChains?.nat ?? []), ...prevNat]),
  };
  const filterChains = DISPATCH.filter((d) => d.table === 'filter').map((d) => dispatchChain(d, services, ruleset.order));
  const filterDrop = staleOf('filter', opts.existingChains?.filter ?? []);
  const filter = renderTableEdit('filter', { declare: [...filterChains.map((c) => c.name), ...filterDrop], rules: chainLines(filterChains), remove: filterDrop });
  return { full: true, filter, ...renderNat(plan, opts.batchChains ?? DEFAULT_BATCH_CHAINS), ruleset, touched: [...services.keys()] };
}

const chainText = (c: Chain): string => c.rules.map(renderRuleSpec).join('\n');

/** Index of `key` in the sorted `order`, or where it would go. */
function bisect(order: readonly string[], key: string): number {
  let lo = 0;
  let hi = order.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((order[mid] ?? '') < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** In-place edits of one dispatch chain for one service port: `-D` what went, `-I 1`/`-A` what came. */
function dispatchEdits(d: (typeof DISPATCH)[number], before: readonly Rule[], after: readonly Rule[], deletes: string[], inserts: string[]): void {
  const old = new Set(before.map(renderRuleSpec));
  const now = new Set(after.map(renderRuleSpec));
  for (const spec of old) if (!now.has(spec)) deletes.push(`-D ${d.name} ${spec}`);
  for (const spec of now) if (!old.has(spec)) inserts.push(d.name === CHAIN_SERVICES && d.table === 'nat' ? `-I ${d.name} 1 ${spec}` : `-A ${d.name} ${spec}`);
}

function partialSync(state: ProxyState, opts: IptablesOptions, changed: ReadonlySet<string>, prev: IptablesRuleset): IptablesSync {
  const services = new Map(prev.services);
  let order: string[] | undefined;
  const groups: Chain[][] = [];
  const drop: string[] = [];
  const deletes: Record<Table, string[]> = { filter: [], nat: [] };
  const inserts: Record<Table, string[]> = { filter: [], nat: [] };
  const touched: string[] = [];
  const empty: readonly Rule[] = [];
  const fragment = (s: ServicePortChains | undefined, f: Fragment): readonly Rule[] => s?.[f] ?? empty;

  for (const key of [...changed].sort()) {
    const before = prev.services.get(key);
    const after = rulesFor(state, key, opts);
    if (before === undefined && after === undefined) continue;
    touched.push(key);
    if (after !== undefined) services.set(key, after);
    else services.delete(key);
    if ((before === undefined) !== (after === undefined)) {
      order ??= [...prev.order];
      const i = bisect(order, key);
      if (after !== undefined) order.splice(i, 0, key);
      else order.splice(i, 1);
    }
    for (const d of DISPATCH) dispatchEdits(d, fragment(before, d.fragment), fragment(after, d.fragment), deletes[d.table], inserts[d.table]);

    const oldChains = new Map((before?.chains ?? []).map((c) => [c.name, c]));
    const kept = new Set<string>();
    const group: Chain[] = [];
    for (const c of after?.chains ?? []) {
      kept.add(c.name);
      const old = oldChains.get(c.name);
      if (old === undefined || chainText(old) !== chainText(c)) group.push(c);
    }
    if (group.length > 0) groups.push(group);
    for (const c of before?.chains ?? []) if (!kept.has(c.name)) drop.push(c.name);
  }
  const ruleset: IptablesRuleset = { ...prev, services, order: order ?? prev.order, nodeIPs: [...opts.nodeIPs] };
  const plan: NatPlan = { first: [], groups, dispatch: { declare: [], rules: [...deletes.nat, ...inserts.nat] }, drop };
  const filter = renderTableEdit('filter', { declare: [], rules: [...deletes.filter, ...inserts.filter], remove: [] });
  return { full: false, filter, ...renderNat(plan, opts.batchChains ?? DEFAULT_BATCH_CHAINS), ruleset, touched };
}
