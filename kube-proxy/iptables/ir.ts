/**
 * The iptables proxy's intermediate representation: rules as structured matches and one target, the
 * proxy's own chains per table, and what each service port owns. `ruleset.ts` builds it, `render.ts`
 * turns it into `iptables-restore` text (in the exact form `iptables-save` prints it back, so a dump
 * can be compared line for line), `tracer.ts` runs packets through it. Only the handful of matches
 * and targets the proxy needs exist here, each with one meaning, so renderer and tracer agree.
 *
 * Every chain the proxy owns is named `KNODE-...`, so it can live beside a real kube-proxy (`KUBE-...`)
 * and anyone else's rules; the built-in chains get only the jump rules listed in `JUMPS`.
 */

export type Table = 'filter' | 'nat';
export const TABLES: readonly Table[] = ['filter', 'nat'];

export type L4Proto = 'tcp' | 'udp' | 'sctp';

export const CHAIN_PREFIX = 'KNODE-';

/** nat: dispatch by destination (cluster, external and LB IPs), then node ports (last rule). */
export const CHAIN_SERVICES = 'KNODE-SERVICES';
/** nat: node ports on local addresses. */
export const CHAIN_NODEPORTS = 'KNODE-NODEPORTS';
export const CHAIN_MARK_MASQ = 'KNODE-MARK-MASQ';
export const CHAIN_POSTROUTING = 'KNODE-POSTROUTING';
/** filter: cluster IPs without usable endpoints (reject, or drop under internalTrafficPolicy Local). */
export const CHAIN_FILTER_SERVICES = 'KNODE-SERVICES';
/** filter: node ports, external and LB IPs without usable endpoints. */
export const CHAIN_EXTERNAL_SERVICES = 'KNODE-EXTERNAL-SERVICES';

export type Match =
  /** [!] -s / -d ADDR[/LEN]: an address without a length is rendered /32 */
  | { readonly kind: 'src' | 'dst'; readonly cidr: string; readonly negate: boolean }
  /** -p P */
  | { readonly kind: 'proto'; readonly proto: L4Proto }
  /** -m comment --comment "..." (no effect; for people reading iptables-save) */
  | { readonly kind: 'comment'; readonly text: string }
  /** -m P --dport N (needs a proto match in the same rule) */
  | { readonly kind: 'dport'; readonly proto: L4Proto; readonly port: number }
  /** -m addrtype --src-type|--dst-type LOCAL: one of this host's addresses */
  | { readonly kind: 'addrtype-local'; readonly field: 'src' | 'dst' }
  /** -m conntrack --ctstate NEW */
  | { readonly kind: 'ctstate-new' }
  /** -m mark ! --mark BIT/BIT */
  | { readonly kind: 'mark-clear'; readonly bit: number }
  /**
   * -m statistic --mode random --probability 1/mod: endpoint i of N is picked with 1/(N-i), which
   * makes the cascade uniform. The kernel keeps the probability as round(2^31/mod)/2^31.
   */
  | { readonly kind: 'statistic'; readonly mod: number }
  /** -m recent --rcheck --seconds T --reap --name N: the source was seen in list N within T s */
  | { readonly kind: 'recent-check'; readonly name: string; readonly seconds: number }
  /** -m recent --set --name N: always true; records the source in list N */
  | { readonly kind: 'recent-set'; readonly name: string };

export type Target =
  | { readonly kind: 'jump'; readonly chain: string }
  | { readonly kind: 'return' }
  | { readonly kind: 'accept' }
  | { readonly kind: 'drop' }
  /** -j MARK --or-mark BIT (saved as --set-xmark BIT/BIT) */
  | { readonly kind: 'mark-or'; readonly bit: number }
  /** -j MARK --xor-mark BIT (saved as --set-xmark BIT/0x0) */
  | { readonly kind: 'mark-xor'; readonly bit: number }
  | { readonly kind: 'masquerade' }
  | { readonly kind: 'dnat'; readonly ip: string; readonly port: number }
  | { readonly kind: 'reject'; readonly with: 'tcp-reset' | 'icmp-port-unreachable' };

export interface Rule {
  readonly match: readonly Match[];
  readonly target: Target;
}

export interface Chain {
  readonly table: Table;
  readonly name: string;
  readonly rules: readonly Rule[];
}

/** A jump from a built-in chain to one of ours: inserted by the runner's ensureJumps, never restored. */
export interface JumpRule {
  readonly table: Table;
  /** The built-in chain. */
  readonly from: 'PREROUTING' | 'INPUT' | 'FORWARD' | 'OUTPUT' | 'POSTROUTING';
  readonly rule: Rule;
}

const newConn = (comment: string): Match[] => [{ kind: 'ctstate-new' }, { kind: 'comment', text: comment }];
const jumpTo = (chain: string): Target => ({ kind: 'jump', chain });

/**
 * The jump rules, in the order they should appear in each built-in chain. The filter checks run on
 * new connections only and see the destination after DNAT (filter hooks come after nat's in
 * iptables), so they catch exactly the packets no nat rule took.
 */
export const JUMPS: readonly JumpRule[] = [
  { table: 'nat', from: 'PREROUTING', rule: { match: [{ kind: 'comment', text: 'knode service portals' }], target: jumpTo(CHAIN_SERVICES) } },
  { table: 'nat', from: 'OUTPUT', rule: { match: [{ kind: 'comment', text: 'knode service portals' }], target: jumpTo(CHAIN_SERVICES) } },
  { table: 'nat', from: 'POSTROUTING', rule: { match: [{ kind: 'comment', text: 'knode postrouting rules' }], target: jumpTo(CHAIN_POSTROUTING) } },
  { table: 'filter', from: 'INPUT', rule: { match: newConn('knode externally-visible service portals'), target: jumpTo(CHAIN_EXTERNAL_SERVICES) } },
  { table: 'filter', from: 'FORWARD', rule: { match: newConn('knode service portals'), target: jumpTo(CHAIN_FILTER_SERVICES) } },
  { table: 'filter', from: 'FORWARD', rule: { match: newConn('knode externally-visible service portals'), target: jumpTo(CHAIN_EXTERNAL_SERVICES) } },
  { table: 'filter', from: 'OUTPUT', rule: { match: newConn('knode service portals'), target: jumpTo(CHAIN_FILTER_SERVICES) } },
  { table: 'filter', from: 'OUTPUT', rule: { match: newConn('knode externally-visible service portals'), target: jumpTo(CHAIN_EXTERNAL_SERVICES) } },
];

/** Everything one service port owns; a partial sync swaps these as a unit. */
export interface ServicePortChains {
  readonly key: string;
  /** Its own nat chains: KNODE-SVC/SVL/EXT/SEP-<hash>. */
  readonly chains: readonly Chain[];
  /** Its rules in the shared dispatch chains, assembled in key order. */
  readonly natServices: readonly Rule[];
  readonly natNodePorts: readonly Rule[];
  readonly filterServices: readonly Rule[];
  readonly filterExternal: readonly Rule[];
}

/** The proxy's chains as the kernel holds them once the sync that produced this is restored. */
export interface IptablesRuleset {
  /** Identifies the options the fixed part was built from; a partial sync needs equal ones. */
  readonly fingerprint: string;
  readonly masqueradeBit: number;
  readonly services: ReadonlyMap<string, ServicePortChains>;
  /** The keys of `services`, sorted: the order of their rules in the dispatch chains. */
  readonly order: readonly string[];
  /** The node's own addresses, for the tracer's addrtype LOCAL (the kernel knows them itself). */
  readonly nodeIPs: readonly string[];
}
