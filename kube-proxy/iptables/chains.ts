/**
 * The iptables proxy's chain layout (pure): what one service port owns (`buildServicePortChains`),
 * the shared dispatch chains assembled from every service port's rules in key order, and the fixed
 * masquerade chains. ruleset.ts turns these into restore input; tracer.ts runs packets through them.
 *
 * Chains (all ours are KNODE-..., so a real kube-proxy's KUBE-... chains and anyone else's rules are
 * never touched; the built-in chains only get the jump rules of ir.ts `JUMPS`, via the runner)
 *   nat PREROUTING, OUTPUT -> KNODE-SERVICES      one rule per cluster / external / LB IP and port:
 *                                                 -d IP -p P --dport N -j KNODE-SVC|SVL|EXT-<hash>;
 *                                                 last: ! -d 127.0.0.0/8 addrtype dst LOCAL -> NODEPORTS
 *       KNODE-NODEPORTS                           -p P --dport NODEPORT -j KNODE-EXT-<hash>
 *       KNODE-SVC-<hash>  cluster-wide endpoints: masquerade mark for sources outside the cluster CIDR
 *                         (or all with masqueradeAll), `recent --rcheck` affinity jumps, then
 *                         `statistic --probability 1/(N-i)` -> KNODE-SEP-i, last one unconditional
 *       KNODE-SVL-<hash>  the same over this node's endpoints (traffic policy Local)
 *       KNODE-EXT-<hash>  node ports, external and LB IPs: Cluster -> mark, SVC; Local -> pods
 *                         (cluster CIDR) and the node itself (addrtype src LOCAL, marked) get the
 *                         internal chain, everyone else SVL with the source kept
 *       KNODE-SEP-<hash>  hairpin mark (-s endpoint), [recent --set], DNAT to ip:port
 *       KNODE-MARK-MASQ   MARK 0x4000;  nat POSTROUTING -> KNODE-POSTROUTING: marked -> MASQUERADE
 *   filter INPUT, FORWARD, OUTPUT (ctstate NEW) -> KNODE-SERVICES, KNODE-EXTERNAL-SERVICES:
 *       destinations no nat rule took: REJECT (tcp-reset for TCP, icmp-port-unreachable otherwise)
 *       when a Service has no usable endpoint at all, DROP when endpoints exist only elsewhere and
 *       the traffic policy is Local. Filter hooks run after nat's, so a DNATed packet never matches.
 * Per packet this is a linear walk of KNODE-SERVICES (one rule per Service IP and port), then a few
 * rules in the Service's chains: iptables mode's cost grows with the number of Services.
 */
import type { Endpoint, ServicePortInfo } from '../model.js';
import { isIPv4, planServicePort } from '../model.js';
import type { Chain, IptablesRuleset, Match, Rule, ServicePortChains, Table, Target } from './ir.js';
import { CHAIN_EXTERNAL_SERVICES, CHAIN_FILTER_SERVICES, CHAIN_MARK_MASQ, CHAIN_NODEPORTS, CHAIN_POSTROUTING, CHAIN_SERVICES } from './ir.js';
import { iptablesChainNames, servicePortLabel } from './names.js';

export const DEFAULT_MASQUERADE_BIT = 0x4000;
const LOOPBACK = '127.0.0.0/8';

/** What the layout depends on besides the state. */
export interface ChainOptions {
  /** The cluster's pod CIDR: traffic to a cluster IP from outside it is masqueraded. */
  readonly clusterCIDR?: string;
  /** `--masquerade-all`: masquerade every connection to a cluster IP. */
  readonly masqueradeAll?: boolean;
}

const jump = (chain: string): Target => ({ kind: 'jump', chain });

/** Every chain and dispatch rule one service port owns, or undefined when it has no IPv4 cluster IP. */
export function buildServicePortChains(sp: ServicePortInfo, endpoints: readonly Endpoint[], opts: ChainOptions): ServicePortChains | undefined {
  const plan = planServicePort(sp, endpoints);
  if (plan === undefined) return undefined;
  const { clusterIPs, proto, sel, reachable, affinity, internalLocal, externalLocal, usesCluster, usesLocal } = plan;
  const names = iptablesChainNames(sp);
  const label = servicePortLabel(sp);

  const chains: Chain[] = [];
  const sepChains = new Map<string, Chain>();
  const sep = (ep: Endpoint): string => {
    const name = names.sep(ep.ip, ep.port);
    if (!sepChains.has(name)) {
      const dnatMatch: Match[] = [{ kind: 'proto', proto }];
      if (affinity > 0) dnatMatch.push({ kind: 'recent-set', name });
      sepChains.set(name, {
        table: 'nat',
        name,
        rules: [
          { match: [{ kind: 'src', cidr: ep.ip, negate: false }], target: jump(CHAIN_MARK_MASQ) },
          { match: dnatMatch, target: { kind: 'dnat', ip: ep.ip, port: ep.port } },
        ],
      });
    }
    return name;
  };

  const masqueradeRules = (): Rule[] =>
    clusterIPs.flatMap((ip): Rule[] => {
      const dst: Match = { kind: 'dst', cidr: ip, negate: false };
      if (opts.masqueradeAll === true) return [{ match: [dst], target: jump(CHAIN_MARK_MASQ) }];
      if (opts.clusterCIDR === undefined) return [];
      return [{ match: [{ kind: 'src', cidr: opts.clusterCIDR, negate: true }, dst], target: jump(CHAIN_MARK_MASQ) }];
    });

  const balancing = (name: string, eps: readonly Endpoint[], internal: boolean): void => {
    const targets = eps.map(sep);
    const rules: Rule[] = internal ? masqueradeRules() : [];
    if (affinity > 0) {
      for (const t of targets) rules.push({ match: [{ kind: 'recent-check', name: t, seconds: affinity }], target: jump(t) });
    }
    targets.forEach((t, i) => {
      const left = targets.length - i;
      rules.push({ match: left > 1 ? [{ kind: 'statistic', mod: left }] : [], target: jump(t) });
    });
    chains.push({ table: 'nat', name, rules });
  };

  if (usesCluster && sel.cluster.length > 0) balancing(names.svc, sel.cluster, !internalLocal);
  if (usesLocal && sel.local.length > 0) balancing(names.svl, sel.local, internalLocal);
  const internalChain = sel.internal.length > 0 ? (internalLocal ? names.svl : names.svc) : undefined;
  const externalChain = reachable && sel.external.length > 0 ? names.ext : undefined;

  if (externalChain !== undefined) {
    const rules: Rule[] = [];
    if (!externalLocal) {
      rules.push({ match: [], target: jump(CHAIN_MARK_MASQ) }, { match: [], target: jump(names.svc) });
    } else {
      // Pods and the node itself reaching an external address get the internal behaviour; only
      // traffic from elsewhere is pinned to local endpoints with its source kept.
      if (internalChain !== undefined) {
        if (opts.clusterCIDR !== undefined) rules.push({ match: [{ kind: 'src', cidr: opts.clusterCIDR, negate: false }], target: jump(internalChain) });
        const fromNode: Match[] = [{ kind: 'addrtype-local', field: 'src' }];
        rules.push({ match: fromNode, target: jump(CHAIN_MARK_MASQ) }, { match: fromNode, target: jump(internalChain) });
      }
      rules.push({ match: [], target: jump(names.svl) });
    }
    chains.push({ table: 'nat', name: externalChain, rules });
  }
  chains.push(...sepChains.values());

  const noEndpoints: Target = sel.hasAny ? { kind: 'drop' } : { kind: 'reject', with: proto === 'tcp' ? 'tcp-reset' : 'icmp-port-unreachable' };
  const natServices: Rule[] = [];
  const natNodePorts: Rule[] = [];
  const filterServices: Rule[] = [];
  const filterExternal: Rule[] = [];
  const toAddress = (ip: string, what: string): Match[] => [
    { kind: 'dst', cidr: ip, negate: false },
    { kind: 'proto', proto },
    { kind: 'comment', text: `${label} ${what}` },
    { kind: 'dport', proto, port: sp.port },
  ];
  for (const ip of clusterIPs) {
    if (internalChain !== undefined) natServices.push({ match: toAddress(ip, 'cluster IP'), target: jump(internalChain) });
    else filterServices.push({ match: toAddress(ip, sel.hasAny ? 'has no local endpoints' : 'has no endpoints'), target: noEndpoints });
  }
  const external = [...sp.externalIPs.filter(isIPv4).map((ip) => [ip, 'external IP'] as const), ...sp.loadBalancerIPs.filter(isIPv4).map((ip) => [ip, 'loadbalancer IP'] as const)];
  for (const [ip, what] of external) {
    if (externalChain !== undefined) natServices.push({ match: toAddress(ip, what), target: jump(externalChain) });
    else filterExternal.push({ match: toAddress(ip, `${what} ${sel.hasAny ? 'has no local endpoints' : 'has no endpoints'}`), target: noEndpoints });
  }
  if (sp.nodePort > 0) {
    const nodePort = (what: string, local: boolean): Match[] => [
      ...(local ? [{ kind: 'dst', cidr: LOOPBACK, negate: true } as const] : []),
      { kind: 'proto', proto },
      { kind: 'comment', text: `${label} ${what}` },
      ...(local ? [{ kind: 'addrtype-local', field: 'dst' } as const] : []),
      { kind: 'dport', proto, port: sp.nodePort },
    ];
    if (externalChain !== undefined) natNodePorts.push({ match: nodePort('node port', false), target: jump(externalChain) });
    else filterExternal.push({ match: nodePort(sel.hasAny ? 'node port has no local endpoints' : 'node port has no endpoints', true), target: noEndpoints });
  }
  return { key: sp.key, chains, natServices, natNodePorts, filterServices, filterExternal };
}

export type Fragment = 'natServices' | 'natNodePorts' | 'filterServices' | 'filterExternal';
export const DISPATCH: readonly { readonly fragment: Fragment; readonly table: Table; readonly name: string }[] = [
  { fragment: 'natServices', table: 'nat', name: CHAIN_SERVICES },
  { fragment: 'natNodePorts', table: 'nat', name: CHAIN_NODEPORTS },
  { fragment: 'filterServices', table: 'filter', name: CHAIN_FILTER_SERVICES },
  { fragment: 'filterExternal', table: 'filter', name: CHAIN_EXTERNAL_SERVICES },
];

/** Node ports are looked up only after every address rule (upstream: "must be the last rule"). */
const NODEPORTS_JUMP: Rule = {
  match: [
    { kind: 'dst', cidr: LOOPBACK, negate: true },
    { kind: 'comment', text: 'knode service nodeports; NOTE: this must be the last rule in this chain' },
    { kind: 'addrtype-local', field: 'dst' },
  ],
  target: jump(CHAIN_NODEPORTS),
};

export function dispatchChain(d: (typeof DISPATCH)[number], services: ReadonlyMap<string, ServicePortChains>, order: readonly string[]): Chain {
  const rules: Rule[] = [];
  for (const key of order) rules.push(...(services.get(key)?.[d.fragment] ?? []));
  if (d.fragment === 'natServices') rules.push(NODEPORTS_JUMP);
  return { table: d.table, name: d.name, rules };
}

export function fixedChains(bit: number): Chain[] {
  return [
    { table: 'nat', name: CHAIN_MARK_MASQ, rules: [{ match: [], target: { kind: 'mark-or', bit } }] },
    {
      table: 'nat',
      name: CHAIN_POSTROUTING,
      rules: [
        { match: [{ kind: 'mark-clear', bit }], target: { kind: 'return' } },
        { match: [], target: { kind: 'mark-xor', bit } },
        { match: [{ kind: 'comment', text: 'knode service traffic requiring SNAT' }], target: { kind: 'masquerade' } },
      ],
    },
  ];
}

/** Every own chain of the ruleset: dispatch chains, fixed chains, then each service port's in key order. */
export function allChains(rs: IptablesRuleset): Chain[] {
  return [
    ...DISPATCH.map((d) => dispatchChain(d, rs.services, rs.order)),
    ...fixedChains(rs.masqueradeBit),
    ...rs.order.flatMap((k) => rs.services.get(k)?.chains ?? []),
  ];
}
