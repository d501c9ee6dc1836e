/**
 * kube-proxy's nftables rules: `buildRuleset(state, opts, changed?)` turns the proxy state into one
 * transaction for ONE table, `table ip knode-proxy`, that `nft -f -` applies atomically. Pure: no I/O.
 *
 * Table layout
 *   maps   service-ips            daddr . proto . dport -> goto <chain>  cluster, external and LB IPs
 *          service-nodeports      proto . dport -> goto external-...      node ports on local addresses
 *          no-endpoint-services   daddr . proto . dport -> goto reject-chain | drop
 *          no-endpoint-nodeports  proto . dport -> goto reject-chain | drop
 *   hooks  nat-prerouting (dstnat) and nat-output (-100, node-local traffic)  -> jump services
 *          nat-postrouting (srcnat)                                          -> jump masquerading
 *          filter-input / filter-forward / filter-output (-110, before DNAT), new connections only:
 *            -> service-endpoints-check (and nodeport-endpoints-check in input). `reject` is only
 *            valid in input/forward/output, which is why the no-endpoint check is not in prerouting.
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
 *   mark-for-masquerade / masquerading   the 0x4000 mark bit, then `masquerade fully-random`
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
 * what the key no longer owns, and shares every other key's objects with the previous table. Nothing
 * is listed from the kernel. A full sync flushes the table's rules and maps (affinity sets survive:
 * `flush table` leaves sets alone in nft 1.0.6) and re-adds everything in the same transaction, so
 * the data path never sees a half-built table; chains and sets no longer wanted are deleted.
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
 *   (netlink/, no cache): 60 ms at 10,000 Services, of which ~40 ms is the kernel re-validating the
 *   table's rules on commit (a batch adding even one `accept` rule pays it; replacing the three
 *   `jump mark-for-masquerade` per Service by an in-place mark changed nothing), ~3 ms at 1,000.
 * - The kernel looks named sets up by a linear scan, so affinity sets (one per endpoint of a ClientIP
 *   Service) cost quadratically at load: fine for a few sticky Services, slow for thousands.
 */
import type { Endpoint, ProxyState, ServicePortInfo } from '../model.js';
import { isIPv4, planServicePort } from '../model.js';
import type {
  AffinitySetDecl,
  Chain,
  ElementKey,
  MapElement,
  NftCommand,
  NftTransaction,
  ProxyRuleset,
  Rule,
  ServicePortRules,
  Verdict,
  VerdictMapDecl,
} from './ir.js';
import { elementKeyId, verdictId } from './ir.js';
import { servicePortNames } from './names.js';
import { renderRule } from './render.js';

export const DEFAULT_MASQUERADE_BIT = 0x4000;

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
  /** Chains and sets found in the kernel's table (for a full sync after a restart): stale ones go. */
  readonly existing?: { readonly chains: readonly string[]; readonly sets: readonly string[] };
}

const MAPS: readonly VerdictMapDecl[] = [
  { name: MAP_SERVICE_IPS, key: 'daddr.proto.dport' },
  { name: MAP_SERVICE_NODEPORTS, key: 'proto.dport' },
  { name: MAP_NO_ENDPOINT_SERVICES, key: 'daddr.proto.dport' },
  { name: MAP_NO_ENDPOINT_NODEPORTS, key: 'proto.dport' },
];

const jump = (chain: string): Rule['action'] => ({ kind: 'verdict', verdict: { kind: 'jump', chain } });
const goto = (chain: string): Verdict => ({ kind: 'goto', chain });
const gotoAction = (chain: string): Rule['action'] => ({ kind: 'verdict', verdict: goto(chain) });
const LOOPBACK = '127.0.0.0/8';

function baseChains(bit: number): Chain[] {
  const newConn = [{ kind: 'ct-new' } as const];
  return [
    { name: 'nat-prerouting', hook: { type: 'nat', hook: 'prerouting', priority: -100 }, rules: [{ match: [], action: jump(CHAIN_SERVICES) }] },
    { name: 'nat-output', hook: { type: 'nat', hook: 'output', priority: -100 }, rules: [{ match: [], action: jump(CHAIN_SERVICES) }] },
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
    { name: CHAIN_MARK_MASQ, rules: [{ match: [], action: { kind: 'mark-or', bit } }] },
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

/** Every object one service port owns, or undefined when it has no IPv4 address to answer on. */
export function buildServicePortRules(sp: ServicePortInfo, endpoints: readonly Endpoint[], opts: RulesetOptions): ServicePortRules | undefined {
  const plan = planServicePort(sp, endpoints);
  if (plan === undefined) return undefined;
  const { clusterIPs, proto, sel, reachable, affinity, internalLocal, externalLocal, usesCluster, usesLocal } = plan;
  const names = servicePortNames(sp);

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
    elements.push(target !== undefined ? { map, key, verdict: goto(target) } : { map: noEpMap, key, verdict: noEndpoints });
  };
  for (const ip of clusterIPs) add(MAP_SERVICE_IPS, MAP_NO_ENDPOINT_SERVICES, { ip, proto, port: sp.port }, internalChain);
  const externalChain = reachable && sel.external.length > 0 ? names.external : undefined;
  for (const ip of [...sp.externalIPs, ...sp.loadBalancerIPs].filter(isIPv4)) {
    add(MAP_SERVICE_IPS, MAP_NO_ENDPOINT_SERVICES, { ip, proto, port: sp.port }, externalChain);
  }
  if (sp.nodePort > 0) add(MAP_SERVICE_NODEPORTS, MAP_NO_ENDPOINT_NODEPORTS, { proto, port: sp.nodePort }, externalChain);
  return { key: sp.key, chains, sets, elements };
}

function fingerprintOf(opts: RulesetOptions): string {
  return JSON.stringify([opts.clusterCIDR ?? null, opts.masqueradeAll === true, opts.masqueradeBit ?? DEFAULT_MASQUERADE_BIT]);
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
  const ruleset: ProxyRuleset = { fingerprint, baseChains: baseChains(bit), maps: MAPS, services, nodeIPs: [...opts.nodeIPs] };
  return { full: true, commands: fullSyncCommands(ruleset, opts), ruleset, touched: [...services.keys()] };
}

function fullSyncCommands(rs: ProxyRuleset, opts: RulesetOptions): NftCommand[] {
  const cmds: NftCommand[] = [{ op: 'add-table' }, { op: 'flush-table' }];
  for (const m of rs.maps) cmds.push({ op: 'add-map', map: m }, { op: 'flush-map', name: m.name });
  const wantedChains = new Set<string>();
  const wantedSets = new Set<string>();
  const allChains: Chain[] = [...rs.baseChains];
  for (const s of rs.services.values()) allChains.push(...s.chains);
  for (const c of allChains) {
    wantedChains.add(c.name);
    cmds.push(c.hook !== undefined ? { op: 'add-chain', name: c.name, hook: c.hook } : { op: 'add-chain', name: c.name });
  }
  for (const s of rs.services.values()) {
    for (const set of s.sets) {
      wantedSets.add(set.name);
      cmds.push({ op: 'add-set', set });
    }
  }
  for (const c of allChains) for (const rule of c.rules) cmds.push({ op: 'add-rule', chain: c.name, rule });
  cmds.push(...elementCommands([...rs.services.values()].flatMap((s) => s.elements)));
  const staleChains = new Set(opts.existing?.chains ?? []);
  const staleSets = new Set(opts.existing?.sets ?? []);
  for (const s of opts.previous?.services.values() ?? []) {
    for (const c of s.chains) staleChains.add(c.name);
    for (const set of s.sets) staleSets.add(set.name);
  }
  const mapNames = new Set(MAPS.map((m) => m.name));
  for (const name of [...staleChains].filter((n) => !wantedChains.has(n)).sort()) cmds.push({ op: 'delete-chain', name });
  for (const name of [...staleSets].filter((n) => !wantedSets.has(n) && !mapNames.has(n)).sort()) cmds.push({ op: 'delete-set', name });
  return cmds;
}

/** One add-elements command per map, in the maps' declared order. */
function elementCommands(elements: readonly MapElement[]): NftCommand[] {
  const byMap = new Map<string, MapElement[]>();
  for (const e of elements) {
    const list = byMap.get(e.map) ?? [];
    list.push(e);
    byMap.set(e.map, list);
  }
  return MAPS.flatMap((m): NftCommand[] => {
    const list = byMap.get(m.name);
    return list !== undefined ? [{ op: 'add-elements', map: m.name, elements: list }] : [];
  });
}

function chainText(c: Chain): string {
  return c.rules.map(renderRule).join('\n');
}

function partialSync(state: ProxyState, opts: RulesetOptions, changed: ReadonlySet<string>, prev: ProxyRuleset): NftTransaction {
  const services = new Map(prev.services);
  const keys = [...changed].sort();
  const addChains: NftCommand[] = [];
  const flushChains: NftCommand[] = [];
  const delElements = new Map<string, ElementKey[]>();
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

    const oldSets = new Map((before?.sets ?? []).map((s) => [s.name, s]));
    const newSets = new Map((after?.sets ?? []).map((s) => [s.name, s]));
    const goneSets = new Set<string>();
    for (const [name, s] of oldSets) {
      const n = newSets.get(name);
      if (n === undefined || n.timeoutSeconds !== s.timeoutSeconds) goneSets.add(name);
    }
    for (const name of goneSets) delSets.push({ op: 'delete-set', name });
    for (const [name, s] of newSets) if (!oldSets.has(name) || goneSets.has(name)) addSets.push({ op: 'add-set', set: s });

    const oldChains = new Map((before?.chains ?? []).map((c) => [c.name, c]));
    const refersToGoneSet = (c: Chain): boolean =>
      goneSets.size > 0 && c.rules.some((r) => (r.action.kind === 'update-saddr' && goneSets.has(r.action.set)) || r.match.some((m) => m.kind === 'saddr-in-set' && goneSets.has(m.set)));
    const newNames = new Set<string>();
    for (const c of after?.chains ?? []) {
      newNames.add(c.name);
      const old = oldChains.get(c.name);
      if (old === undefined) addChains.push({ op: 'add-chain', name: c.name });
      else if (chainText(old) === chainText(c) && !refersToGoneSet(old)) continue;
      else flushChains.push({ op: 'flush-chain', name: c.name });
      for (const rule of c.rules) addRules.push({ op: 'add-rule', chain: c.name, rule });
    }
    for (const c of before?.chains ?? []) {
      if (newNames.has(c.name)) continue;
      flushChains.push({ op: 'flush-chain', name: c.name });
      delChains.push({ op: 'delete-chain', name: c.name });
    }

    const id = (e: MapElement): string => `${e.map}|${elementKeyId(e.key)}`;
    const newEls = new Map((after?.elements ?? []).map((e) => [id(e), e]));
    const oldEls = new Map((before?.elements ?? []).map((e) => [id(e), e]));
    for (const [k, e] of oldEls) {
      const n = newEls.get(k);
      if (n !== undefined && verdictId(n.verdict) === verdictId(e.verdict)) continue;
      const list = delElements.get(e.map) ?? [];
      list.push(e.key);
      delElements.set(e.map, list);
    }
    for (const [k, e] of newEls) {
      const o = oldEls.get(k);
      if (o === undefined || verdictId(o.verdict) !== verdictId(e.verdict)) addElements.push(e);
    }
  }

  const commands: NftCommand[] = [
    { op: 'add-table' },
    ...addChains,
    ...flushChains,
    ...MAPS.flatMap((m): NftCommand[] => {
      const ks = delElements.get(m.name);
      return ks !== undefined ? [{ op: 'delete-elements', map: m.name, keys: ks }] : [];
    }),
    ...delSets,
    ...addSets,
    ...addRules,
    ...delChains,
    ...elementCommands(addElements),
  ];
  const ruleset: ProxyRuleset = { ...prev, services, nodeIPs: [...opts.nodeIPs] };
  return { full: false, commands, ruleset, touched };
}
