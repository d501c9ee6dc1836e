/**
 * kube-proxy's nftables rules: `buildRuleset(state, opts, changed?)` turns the proxy state into one
 * transaction over the proxy's tables that `nft -f -` applies atomically. Pure: no I/O.
 *
 * Tables: `ip knode-proxy` (main) and N service tables `ip knode-proxy-svc-0 .. -svc-(N-1)` (N = 8 by
 * default). A service port lives whole in the service table its key hashes to (names.ts); the main
 * table holds what is shared. Why several tables: when a batch adds a rule or a verdict, the kernel
 * re-validates on commit every table the batch added one to, walking every chain reachable from that
 * table's base chains; in one table of 10,000 Services that walk cost ~40 ms per partial sync
 * whatever its size. Each service table's nat chains run at the same hook and priority; the first
 * that DNATs a new connection gives it its binding, and the kernel then skips the later nat chains
 * of that hook, so a connection is handled by its Service's table alone.
 *
 * Main table
 *   maps   no-endpoint-services   daddr . proto . dport -> goto reject-chain | drop
 *          no-endpoint-nodeports  proto . dport -> goto reject-chain | drop
 *   hooks  nat-postrouting (srcnat)                                          -> jump masquerading
 *          filter-input / filter-forward / filter-output (-110, before DNAT), new connections only:
 *            -> service-endpoints-check (and nodeport-endpoints-check in input). `reject` is only
 *            valid in input/forward/output, which is why the no-endpoint check is not in prerouting.
 *   masquerading (mark bit 0x4000 set: clear it, `masquerade fully-random`), reject-chain
 * Each service table
 *   maps   service-ips            daddr . proto . dport -> goto <chain>  cluster, external and LB IPs
 *          service-nodeports      proto . dport -> goto external-...      node ports on local addresses
 *   hooks  nat-prerouting (dstnat) and nat-output (-100, node-local traffic)  -> jump services
 *   services            ip daddr . meta l4proto . th dport vmap @service-ips
 *                       fib daddr type local ip daddr != 127.0.0.0/8 meta l4proto . th dport vmap @service-nodeports
 *   service-<h>-ns/name/proto/port    cluster-wide endpoints: masquerade rule for the cluster IP,
 *                                     affinity look-ups, then `numgen random mod N-i 0 goto endpoint-i`
 *                                     for i < N-1 and `goto endpoint-(N-1)` (uniform; see ir.ts for why
 *                                     not one `numgen ... vmap { }`)
 *   local-<h>-...                     the same over this node's endpoints (traffic policy Local)
 *   external-<h>-...                  node ports, external and LB IPs: Cluster marks for masquerade and
 *                                     goes to service-; Local keeps the source (pods and the node itself
 *                                     are short-circuited to the internal chain) and goes to local-
 *   endpoint-<h>-...__ip/port         hairpin masquerade mark, affinity update, `dnat ip to ip:port`
 *   affinity-<h>-...__ip/port         set of client IPs with the Service's ClientIP timeout
 *   mark-for-masquerade               sets the 0x4000 mark bit (a chain cannot jump to another table)
 * A Service with no usable endpoint gets no service-ips element but a no-endpoint one, so a client is
 * rejected at once (TCP reset, ICMP port unreachable); one whose endpoints exist only elsewhere while
 * its policy is Local gets `drop`, as upstream does.
 *
 * Why verdict maps: a packet costs one hash look-up in service-ips (plus one in service-nodeports for
 * local destinations) whatever the number of Services, then a few rules in its own service and
 * endpoint chains. iptables-style rule lists cost a linear walk over every Service instead.
 *
 * Partial sync: every object a service port owns (chains, affinity sets, map elements) is named from a
 * hash of its key (names.ts), and the built table keeps them grouped per key (`ProxyRuleset.services`).
 * Given the previous table and the keys that changed, the transaction adds the new chains, rewrites
 * only chains whose rules differ, deletes and re-adds only map elements whose verdict changed, deletes
 * what the key no longer owns, and shares every other key's objects with the previous table; it
 * touches only the service tables of the changed keys (and the main table's no-endpoint maps).
 * Nothing is listed from the kernel. A full sync deletes and rebuilds the main table (it holds no
 * state), flushes each service table's rules and maps (affinity sets survive: `flush table` leaves
 * sets alone in nft 1.0.6) and re-adds everything in the same transaction, so the data path never
 * sees a half-built table; chains, sets and service tables no longer wanted are deleted.
 * Conntrack keeps every established flow's NAT, so neither kind of sync disturbs open connections.
 *
 * Cost model (measured on the project VM, 2 cores; `measure-sync.ts` reproduces it):
 * - build + render are linear: ~3 commands per endpoint and ~3 per service port; 10,000 Services x 2
 *   endpoints = 100,000 commands, 12.9 MB of text, ~0.6 s to build and render (1.3 s on a busy VM).
 * - nft's cold load is linear in that text: ~2.3 s of nft CPU (user+sys) for the 12.9 MB.
 * - A partial sync builds and renders in ~1 ms per changed key plus a copy of the per-key index,
 *   but nft 1.0.6 dumps every chain of the ruleset into its cache before any `add rule`/`add
 *   element` (~7 µs of CPU per chain), so its apply cost follows the table's chain count (3 per
 *   Service here: ~200 ms at 10,000 Services), not the size of the change. So a process inside the
 *   node's namespace (the agent) sends partial syncs as an nf_tables netlink batch of its own
 *   (netlink/, no cache). In one table that took 60 ms at 10,000 Services, ~40 ms of it the kernel
 *   re-validating the table on commit (a batch adding even one `accept` rule paid it); in 8 service
 *   tables it takes ~10 ms (bench/kube-proxy.ts), ~3 ms at 1,000.
 * - The kernel looks named sets up by a linear scan, so affinity sets (one per endpoint of a ClientIP
 *   Service) cost quadratically at load: fine for a few sticky Services, slow for thousands.
 */
import type { Endpoint, ProxyState, ServicePortInfo } from '../model.js';
import { isIPv4, planServicePort } from '../model.js';
import type {
  AffinitySetDecl,
  Chain,
  ElementKey,
  ExistingTable,
  MapElement,
  NftCommand,
  NftTransaction,
  ProxyRuleset,
  Rule,
  ServicePortRules,
  Verdict,
  VerdictMapDecl,
} from './ir.js';
import { TABLE_NAME, elementKeyId, isProxyTable, serviceTableName, verdictId } from './ir.js';
import { serviceTableIndex, servicePortNames } from './names.js';
import { renderRule } from './render.js';

export const DEFAULT_MASQUERADE_BIT = 0x4000;
/** Service tables by default: ~1,250 Services each at 10,000 (see the cost model above). */
export const DEFAULT_SERVICE_TABLES = 8;

export const MAP_SERVICE_IPS = 'service-ips';
export const MAP_SERVICE_NODEPORTS = 'service-nodeports';
export const MAP_NO_ENDPOINT_SERVICES = 'no-endpoint-services';
export const MAP_NO_ENDPOINT_NODEPORTS = 'no-endpoint-nodeports';
export const CHAIN_SERVICES = 'services';
export const CHAIN_MARK_MASQ = 'mark-for-masquerade';
export const CHAIN_MASQUERADING = 'masquerading';
export const CHAIN_REJECT = 'reject-chain';
export const CHAIN_SERVICE_EP_CHECK = 'service-endpoints-check';
export const CHAIN_NODEPORT_EP_CHECK = 'nodeport-endpoints-check';

export interface RulesetOptions {
  /** The cluster's pod CIDR: traffic to a cluster IP from outside it is masqueraded. */
  readonly clusterCIDR?: string;
  /** This node's addresses (node ports answer on every local address; the tracer needs the list). */
  readonly nodeIPs: readonly string[];
  /** `--masquerade-all`: masquerade every connection to a cluster IP. */
  readonly masqueradeAll?: boolean;
  readonly masqueradeBit?: number;
  /** The table as last applied; required for a partial sync. */
  readonly previous?: ProxyRuleset;
  /** The proxy's tables found in the kernel (for a full sync after a restart): stale objects go. */
  readonly existing?: readonly ExistingTable[];
  /** How many service tables (default DEFAULT_SERVICE_TABLES); a change means a full sync. */
  readonly serviceTables?: number;
}

const serviceTableCount = (opts: RulesetOptions): number => opts.serviceTables ?? DEFAULT_SERVICE_TABLES;

/** The main table's maps. */
const MAIN_MAPS: readonly VerdictMapDecl[] = [
  { name: MAP_NO_ENDPOINT_SERVICES, key: 'daddr.proto.dport' },
  { name: MAP_NO_ENDPOINT_NODEPORTS, key: 'proto.dport' },
];
/** Every service table's maps. */
const SERVICE_MAPS: readonly VerdictMapDecl[] = [
  { name: MAP_SERVICE_IPS, key: 'daddr.proto.dport' },
  { name: MAP_SERVICE_NODEPORTS, key: 'proto.dport' },
];
/** Element commands go out in this order of maps (a table's maps are distinct names). */
const MAP_ORDER: readonly string[] = [...SERVICE_MAPS, ...MAIN_MAPS].map((m) => m.name);

const jump = (chain: string): Rule['action'] => ({ kind: 'verdict', verdict: { kind: 'jump', chain } });
const goto = (chain: string): Verdict => ({ kind: 'goto', chain });
const gotoAction = (chain: string): Rule['action'] => ({ kind: 'verdict', verdict: goto(chain) });
const LOOPBACK = '127.0.0.0/8';

/** The main table's chains: no-endpoint rejects before DNAT, masquerading after it. */
function mainChains(bit: number): Chain[] {
  const newConn = [{ kind: 'ct-new' } as const];
  return [
    { name: 'nat-postrouting', hook: { type: 'nat', hook: 'postrouting', priority: 100 }, rules: [{ match: [], action: jump(CHAIN_MASQUERADING) }] },
    {
      name: 'filter-input',
      hook: { type: 'filter', hook: 'input', priority: -110 },
      rules: [
        { match: newConn, action: jump(CHAIN_NODEPORT_EP_CHECK) },
        { match: newConn, action: jump(CHAIN_SERVICE_EP_CHECK) },
      ],
    },
    { name: 'filter-forward', hook: { type: 'filter', hook: 'forward', priority: -110 }, rules: [{ match: newConn, action: jump(CHAIN_SERVICE_EP_CHECK) }] },
    { name: 'filter-output', hook: { type: 'filter', hook: 'output', priority: -110 }, rules: [{ match: newConn, action: jump(CHAIN_SERVICE_EP_CHECK) }] },
    { name: CHAIN_SERVICE_EP_CHECK, rules: [{ match: [], action: { kind: 'vmap', key: 'daddr.proto.dport', map: MAP_NO_ENDPOINT_SERVICES } }] },
    {
      name: CHAIN_NODEPORT_EP_CHECK,
      rules: [
        {
          match: [{ kind: 'fib-local', field: 'daddr' }, { kind: 'cidr', field: 'daddr', cidr: LOOPBACK, negate: true }],
          action: { kind: 'vmap', key: 'proto.dport', map: MAP_NO_ENDPOINT_NODEPORTS },
        },
      ],
    },
    {
      name: CHAIN_MASQUERADING,
      rules: [
        { match: [{ kind: 'mark-clear', bit }], action: { kind: 'verdict', verdict: { kind: 'return' } } },
        { match: [], action: { kind: 'mark-xor', bit } },
        { match: [], action: { kind: 'masquerade' } },
      ],
    },
    {
      name: CHAIN_REJECT,
      rules: [
        { match: [{ kind: 'l4proto', proto: 'tcp' }], action: { kind: 'reject', with: 'tcp-reset' } },
        { match: [], action: { kind: 'reject', with: 'icmp-port-unreachable' } },
      ],
    },
  ];
}

/** What every service table holds besides its service ports' objects: the DNAT entry points. */
function serviceTableChains(bit: number): Chain[] {
  return [
    { name: 'nat-prerouting', hook: { type: 'nat', hook: 'prerouting', priority: -100 }, rules: [{ match: [], action: jump(CHAIN_SERVICES) }] },
    { name: 'nat-output', hook: { type: 'nat', hook: 'output', priority: -100 }, rules: [{ match: [], action: jump(CHAIN_SERVICES) }] },
    {
      name: CHAIN_SERVICES,
      rules: [
        { match: [], action: { kind: 'vmap', key: 'daddr.proto.dport', map: MAP_SERVICE_IPS } },
        {
          match: [{ kind: 'fib-local', field: 'daddr' }, { kind: 'cidr', field: 'daddr', cidr: LOOPBACK, negate: true }],
          action: { kind: 'vmap', key: 'proto.dport', map: MAP_SERVICE_NODEPORTS },
        },
      ],
    },
    { name: CHAIN_MARK_MASQ, rules: [{ match: [], action: { kind: 'mark-or', bit } }] },
  ];
}

/** Every object one service port owns, or undefined when it has no IPv4 address to answer on. */
export function buildServicePortRules(sp: ServicePortInfo, endpoints: readonly Endpoint[], opts: RulesetOptions): ServicePortRules | undefined {
  const plan = planServicePort(sp, endpoints);
  if (plan === undefined) return undefined;
  const { clusterIPs, proto, sel, reachable, affinity, internalLocal, externalLocal, usesCluster, usesLocal } = plan;
  const names = servicePortNames(sp);
  const table = serviceTableName(serviceTableIndex(sp.key, serviceTableCount(opts)));

  const chains: Chain[] = [];
  const sets: AffinitySetDecl[] = [];
  const elements: MapElement[] = [];
  const epChains = new Map<string, Chain>();

  const endpointChain = (ep: Endpoint): string => {
    const n = names.endpoint(ep.ip, ep.port);
    if (!epChains.has(n.chain)) {
      const rules: Rule[] = [{ match: [{ kind: 'addr', field: 'saddr', ip: ep.ip }], action: jump(CHAIN_MARK_MASQ) }];
      if (affinity > 0) {
        sets.push({ name: n.affinitySet, timeoutSeconds: affinity });
        rules.push({ match: [], action: { kind: 'update-saddr', set: n.affinitySet } });
      }
      rules.push({ match: [{ kind: 'l4proto', proto }], action: { kind: 'dnat', ip: ep.ip, port: ep.port } });
      epChains.set(n.chain, { name: n.chain, rules });
    }
    return n.chain;
  };

  const masqueradeRules = (): Rule[] =>
    clusterIPs.flatMap((ip): Rule[] => {
      const daddr = { kind: 'addr', field: 'daddr', ip } as const;
      if (opts.masqueradeAll === true) return [{ match: [daddr], action: jump(CHAIN_MARK_MASQ) }];
      if (opts.clusterCIDR === undefined) return [];
      return [{ match: [daddr, { kind: 'cidr', field: 'saddr', cidr: opts.clusterCIDR, negate: true }], action: jump(CHAIN_MARK_MASQ) }];
    });

  const balancing = (name: string, eps: readonly Endpoint[], internal: boolean): void => {
    const targets = eps.map(endpointChain);
    const rules: Rule[] = internal ? masqueradeRules() : [];
    if (affinity > 0) {
      for (const ep of eps) {
        const n = names.endpoint(ep.ip, ep.port);
        rules.push({ match: [{ kind: 'saddr-in-set', set: n.affinitySet }], action: gotoAction(n.chain) });
      }
    }
    targets.forEach((t, i) => {
      const left = targets.length - i;
      rules.push({ match: left > 1 ? [{ kind: 'numgen', mod: left }] : [], action: gotoAction(t) });
    });
    chains.push({ name, rules });
  };

  if (usesCluster && sel.cluster.length > 0) balancing(names.cluster, sel.cluster, !internalLocal);
  if (usesLocal && sel.local.length > 0) balancing(names.local, sel.local, internalLocal);
  const internalChain = sel.internal.length > 0 ? (internalLocal ? names.local : names.cluster) : undefined;

  if (reachable && sel.external.length > 0) {
    const rules: Rule[] = [];
    if (!externalLocal) {
      rules.push({ match: [], action: jump(CHAIN_MARK_MASQ) }, { match: [], action: gotoAction(names.cluster) });
    } else {
      // Pods and the node itself reaching an external address get the internal behaviour; only
      // traffic from elsewhere is pinned to local endpoints with its source kept.
      if (internalChain !== undefined) {
        if (opts.clusterCIDR !== undefined) {
          rules.push({ match: [{ kind: 'cidr', field: 'saddr', cidr: opts.clusterCIDR, negate: false }], action: gotoAction(internalChain) });
        }
        rules.push(
          { match: [{ kind: 'fib-local', field: 'saddr' }], action: jump(CHAIN_MARK_MASQ) },
          { match: [{ kind: 'fib-local', field: 'saddr' }], action: gotoAction(internalChain) },
        );
      }
      rules.push({ match: [], action: gotoAction(names.local) });
    }
    chains.push({ name: names.external, rules });
  }
  chains.push(...epChains.values());

  const noEndpoints: Verdict = sel.hasAny ? { kind: 'drop' } : goto(CHAIN_REJECT);
  const add = (map: string, noEpMap: string, key: ElementKey, target: string | undefined): void => {
    elements.push(target !== undefined ? { table, map, key, verdict: goto(target) } : { table: TABLE_NAME, map: noEpMap, key, verdict: noEndpoints });
  };
  for (const ip of clusterIPs) add(MAP_SERVICE_IPS, MAP_NO_ENDPOINT_SERVICES, { ip, proto, port: sp.port }, internalChain);
  const externalChain = reachable && sel.external.length > 0 ? names.external : undefined;
  for (const ip of [...sp.externalIPs, ...sp.loadBalancerIPs].filter(isIPv4)) {
    add(MAP_SERVICE_IPS, MAP_NO_ENDPOINT_SERVICES, { ip, proto, port: sp.port }, externalChain);
  }
  if (sp.nodePort > 0) add(MAP_SERVICE_NODEPORTS, MAP_NO_ENDPOINT_NODEPORTS, { proto, port: sp.nodePort }, externalChain);
  return { key: sp.key, table, chains, sets, elements };
}

function fingerprintOf(opts: RulesetOptions): string {
  return JSON.stringify([opts.clusterCIDR ?? null, opts.masqueradeAll === true, opts.masqueradeBit ?? DEFAULT_MASQUERADE_BIT, serviceTableCount(opts)]);
}

function rulesFor(state: ProxyState, key: string, opts: RulesetOptions): ServicePortRules | undefined {
  const sp = state.services.get(key);
  return sp !== undefined ? buildServicePortRules(sp, state.endpoints.get(key) ?? [], opts) : undefined;
}

/**
 * The transaction from the previous table to the one `state` asks for. With `changed` and a
 * compatible `opts.previous` it is a partial sync over those keys; otherwise a full sync.
 */
export function buildRuleset(state: ProxyState, opts: RulesetOptions, changed?: ReadonlySet<string>): NftTransaction {
  const fingerprint = fingerprintOf(opts);
  const bit = opts.masqueradeBit ?? DEFAULT_MASQUERADE_BIT;
  const prev = opts.previous;
  if (changed !== undefined && prev !== undefined && prev.fingerprint === fingerprint) {
    return partialSync(state, opts, changed, prev);
  }
  const services = new Map<string, ServicePortRules>();
  for (const key of [...state.services.keys()].sort()) {
    const r = rulesFor(state, key, opts);
    if (r !== undefined) services.set(key, r);
  }
  const count = serviceTableCount(opts);
  if (!Number.isInteger(count) || count < 1 || count > 256) throw new Error(`service tables: want an integer from 1 to 256, got ${count}`);
  const ruleset: ProxyRuleset = {
    fingerprint,
    baseChains: mainChains(bit),
    maps: MAIN_MAPS,
    serviceTables: count,
    serviceTableChains: serviceTableChains(bit),
    serviceTableMaps: SERVICE_MAPS,
    services,
    nodeIPs: [...opts.nodeIPs],
  };
  return { full: true, commands: fullSyncCommands(ruleset, opts), ruleset, touched: [...services.keys()] };
}

const addChain = (table: string, c: Chain): NftCommand => (c.hook !== undefined ? { table, op: 'add-chain', name: c.name, hook: c.hook } : { table, op: 'add-chain', name: c.name });

/**
 * The main table holds no state, so it is deleted and built again (which also clears whatever an
 * older layout left in it). Service tables are flushed instead: their affinity sets (ClientIP
 * stickiness) must survive; chains and sets no longer wanted are deleted, and so are service tables
 * past the current count.
 */
function fullSyncCommands(rs: ProxyRuleset, opts: RulesetOptions): NftCommand[] {
  const main = TABLE_NAME;
  const cmds: NftCommand[] = [
    { table: main, op: 'add-table' },
    { table: main, op: 'delete-table' },
    { table: main, op: 'add-table' },
  ];
  for (const m of rs.maps) cmds.push({ table: main, op: 'add-map', map: m });
  for (const c of rs.baseChains) cmds.push(addChain(main, c));
  for (const c of rs.baseChains) for (const rule of c.rules) cmds.push({ table: main, op: 'add-rule', chain: c.name, rule });

  const byTable = groupBy([...rs.services.values()], (s) => s.table);
  const existing = new Map((opts.existing ?? []).map((t) => [t.name, t]));
  const previousByTable = groupBy([...(opts.previous?.services.values() ?? [])], (s) => s.table);
  const stale: NftCommand[] = [];
  const wantedTables = new Set<string>([main]);
  for (let i = 0; i < rs.serviceTables; i++) {
    const table = serviceTableName(i);
    wantedTables.add(table);
    const services = byTable.get(table) ?? [];
    cmds.push({ table, op: 'add-table' }, { table, op: 'flush-table' });
    for (const m of rs.serviceTableMaps) cmds.push({ table, op: 'add-map', map: m }, { table, op: 'flush-map', name: m.name });
    const chains: Chain[] = [...rs.serviceTableChains, ...services.flatMap((s) => s.chains)];
    for (const c of chains) cmds.push(addChain(table, c));
    const sets = services.flatMap((s) => s.sets);
    for (const set of sets) cmds.push({ table, op: 'add-set', set });
    for (const c of chains) for (const rule of c.rules) cmds.push({ table, op: 'add-rule', chain: c.name, rule });

    const wantedChains = new Set(chains.map((c) => c.name));
    const wantedSets = new Set(sets.map((x) => x.name));
    const staleChains = new Set(existing.get(table)?.chains ?? []);
    const staleSets = new Set(existing.get(table)?.sets ?? []);
    for (const s of previousByTable.get(table) ?? []) {
      for (const c of s.chains) staleChains.add(c.name);
      for (const set of s.sets) staleSets.add(set.name);
    }
    const mapNames = new Set(rs.serviceTableMaps.map((m) => m.name));
    for (const name of [...staleChains].filter((n) => !wantedChains.has(n)).sort()) stale.push({ table, op: 'delete-chain', name });
    for (const name of [...staleSets].filter((n) => !wantedSets.has(n) && !mapNames.has(n)).sort()) stale.push({ table, op: 'delete-set', name });
  }
  cmds.push(...elementCommands([...rs.services.values()].flatMap((s) => s.elements)));
  cmds.push(...stale);
  const oldTables = new Set([...existing.keys()]);
  for (let i = 0; i < (opts.previous?.serviceTables ?? 0); i++) oldTables.add(serviceTableName(i));
  for (const table of [...oldTables].filter((t) => isProxyTable(t) && !wantedTables.has(t)).sort()) cmds.push({ table, op: 'delete-table' });
  return cmds;
}

function groupBy<T>(items: readonly T[], key: (t: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = out.get(k);
    if (list === undefined) out.set(k, [item]);
    else list.push(item);
  }
  return out;
}

/** One add-elements command per table and map: tables in name order, maps in MAP_ORDER. */
function elementCommands(elements: readonly MapElement[]): NftCommand[] {
  const byTable = groupBy(elements, (e) => e.table);
  const cmds: NftCommand[] = [];
  for (const table of [...byTable.keys()].sort(tableOrder)) {
    const byMap = groupBy(byTable.get(table) ?? [], (e) => e.map);
    for (const map of MAP_ORDER) {
      const list = byMap.get(map);
      if (list !== undefined) cmds.push({ table, op: 'add-elements', map, elements: list });
    }
  }
  return cmds;
}

/** The main table first, then service tables by number. */
function tableOrder(a: string, b: string): number {
  const rank = (t: string): number => (t === TABLE_NAME ? -1 : Number(t.slice(t.lastIndexOf('-') + 1)));
  return rank(a) - rank(b);
}

function chainText(c: Chain): string {
  return c.rules.map(renderRule).join('\n');
}

function partialSync(state: ProxyState, opts: RulesetOptions, changed: ReadonlySet<string>, prev: ProxyRuleset): NftTransaction {
  const services = new Map(prev.services);
  const keys = [...changed].sort();
  const addChains: NftCommand[] = [];
  const flushChains: NftCommand[] = [];
  const delElements: MapElement[] = [];
  const delSets: NftCommand[] = [];
  const addSets: NftCommand[] = [];
  const addRules: NftCommand[] = [];
  const delChains: NftCommand[] = [];
  const addElements: MapElement[] = [];
  const touched: string[] = [];

  for (const key of keys) {
    const before = prev.services.get(key);
    const after = rulesFor(state, key, opts);
    if (after !== undefined) services.set(key, after);
    else services.delete(key);
    if (before === undefined && after === undefined) continue;
    touched.push(key);
    // the same key always hashes to the same table while the count (in the fingerprint) holds
    const table = (after ?? before)?.table ?? TABLE_NAME;

    const oldSets = new Map((before?.sets ?? []).map((s) => [s.name, s]));
    const newSets = new Map((after?.sets ?? []).map((s) => [s.name, s]));
    const goneSets = new Set<string>();
    for (const [name, s] of oldSets) {
      const n = newSets.get(name);
      if (n === undefined || n.timeoutSeconds !== s.timeoutSeconds) goneSets.add(name);
    }
    for (const name of goneSets) delSets.push({ table, op: 'delete-set', name });
    for (const [name, s] of newSets) if (!oldSets.has(name) || goneSets.has(name)) addSets.push({ table, op: 'add-set', set: s });

    const oldChains = new Map((before?.chains ?? []).map((c) => [c.name, c]));
    const refersToGoneSet = (c: Chain): boolean =>
      goneSets.size > 0 && c.rules.some((r) => (r.action.kind === 'update-saddr' && goneSets.has(r.action.set)) || r.match.some((m) => m.kind === 'saddr-in-set' && goneSets.has(m.set)));
    const newNames = new Set<string>();
    for (const c of after?.chains ?? []) {
      newNames.add(c.name);
      const old = oldChains.get(c.name);
      if (old === undefined) addChains.push({ table, op: 'add-chain', name: c.name });
      else if (chainText(old) === chainText(c) && !refersToGoneSet(old)) continue;
      else flushChains.push({ table, op: 'flush-chain', name: c.name });
      for (const rule of c.rules) addRules.push({ table, op: 'add-rule', chain: c.name, rule });
    }
    for (const c of before?.chains ?? []) {
      if (newNames.has(c.name)) continue;
      flushChains.push({ table, op: 'flush-chain', name: c.name });
      delChains.push({ table, op: 'delete-chain', name: c.name });
    }

    const id = (e: MapElement): string => `${e.table}|${e.map}|${elementKeyId(e.key)}`;
    const newEls = new Map((after?.elements ?? []).map((e) => [id(e), e]));
    const oldEls = new Map((before?.elements ?? []).map((e) => [id(e), e]));
    for (const [k, e] of oldEls) {
      const n = newEls.get(k);
      if (n === undefined || verdictId(n.verdict) !== verdictId(e.verdict)) delElements.push(e);
    }
    for (const [k, e] of newEls) {
      const o = oldEls.get(k);
      if (o === undefined || verdictId(o.verdict) !== verdictId(e.verdict)) addElements.push(e);
    }
  }

  const deleteElements = elementCommands(delElements).map((c): NftCommand => (c.op === 'add-elements' ? { table: c.table, op: 'delete-elements', map: c.map, keys: c.elements.map((e) => e.key) } : c));
  const body: NftCommand[] = [...addChains, ...flushChains, ...deleteElements, ...delSets, ...addSets, ...addRules, ...delChains, ...elementCommands(addElements)];
  const tables = [...new Set(body.map((c) => c.table))].sort(tableOrder);
  const commands: NftCommand[] = [...(tables.length > 0 ? tables : [TABLE_NAME]).map((table): NftCommand => ({ table, op: 'add-table' })), ...body];
  const ruleset: ProxyRuleset = { ...prev, services, nodeIPs: [...opts.nodeIPs] };
  return { full: false, commands, ruleset, touched };
}
