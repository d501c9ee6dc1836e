/**
 * The nftables proxy's intermediate representation: the table as plain data (chains of structured
 * rules, verdict maps, affinity sets) and the transaction that moves the kernel from one table to the
 * next. `ruleset.ts` builds it, `render.ts` turns it into `nft -f` text, `tracer.ts` runs packets
 * through it. Only the handful of nft expressions the proxy needs exist here, each with one meaning,
 * so the renderer and the tracer cannot disagree about what a rule does.
 */

export const TABLE_FAMILY = 'ip';
/** The main table: the filter hooks (no-endpoint rejects), masquerading. */
export const TABLE_NAME = 'knode-proxy';
/**
 * The service tables `knode-proxy-svc-0` ... `-svc-(N-1)`: each holds the nat hooks, verdict maps and
 * per-service chains of the service ports that hash to it (names.ts `serviceTableIndex`). Why several:
 * on every commit that adds a rule or a verdict the kernel re-validates the whole table it went into
 * (a walk of every chain reachable from its base chains), so one table of 10,000 Services made any
 * one-Service change cost ~40 ms of kernel time; split over 8 tables it costs ~3 ms. See ruleset.ts.
 */
export const SERVICE_TABLE_PREFIX = 'knode-proxy-svc-';
export const serviceTableName = (index: number): string => `${SERVICE_TABLE_PREFIX}${index}`;
/** Whether a table of the `ip` family is one of the proxy's (the main one or a service table). */
export const isProxyTable = (name: string): boolean => name === TABLE_NAME || /^knode-proxy-svc-\d+$/.test(name);

export type L4Proto = 'tcp' | 'udp' | 'sctp';

/** The concatenations the verdict maps are keyed by. */
export type MapKeyType = 'daddr.proto.dport' | 'proto.dport';

export type Match =
  /** ip daddr A / ip saddr A */
  | { readonly kind: 'addr'; readonly field: 'saddr' | 'daddr'; readonly ip: string }
  /** ip saddr [!=] CIDR */
  | { readonly kind: 'cidr'; readonly field: 'saddr' | 'daddr'; readonly cidr: string; readonly negate: boolean }
  /** ip saddr @set (an affinity set with timeouts) */
  | { readonly kind: 'saddr-in-set'; readonly set: string }
  /** meta l4proto P */
  | { readonly kind: 'l4proto'; readonly proto: L4Proto }
  /** fib saddr|daddr type local: the address is one of this host's own */
  | { readonly kind: 'fib-local'; readonly field: 'saddr' | 'daddr' }
  /** ct state new */
  | { readonly kind: 'ct-new' }
  /** meta mark & BIT == 0 */
  | { readonly kind: 'mark-clear'; readonly bit: number }
  /**
   * numgen random mod N 0: true with probability 1/N, a fresh draw per evaluation. Endpoint i of N is
   * picked by `mod N-i` (the iptables `statistic` cascade). A `numgen ... vmap { ... }` would pick in
   * one rule, but each such vmap is an anonymous set, and the kernel finds a free name for every new
   * anonymous set by scanning all sets of the table: 10,000 of them took 40 s of kernel time to load.
   */
  | { readonly kind: 'numgen'; readonly mod: number };

export type Verdict =
  | { readonly kind: 'jump'; readonly chain: string }
  | { readonly kind: 'goto'; readonly chain: string }
  | { readonly kind: 'return' }
  | { readonly kind: 'accept' }
  | { readonly kind: 'drop' };

export type Action =
  | { readonly kind: 'verdict'; readonly verdict: Verdict }
  /** KEY vmap @map */
  | { readonly kind: 'vmap'; readonly key: MapKeyType; readonly map: string }
  | { readonly kind: 'mark-or'; readonly bit: number }
  | { readonly kind: 'mark-xor'; readonly bit: number }
  | { readonly kind: 'masquerade' }
  /** dnat ip to IP:PORT; nft accepts a port only after an l4proto match in the same rule */
  | { readonly kind: 'dnat'; readonly ip: string; readonly port: number }
  | { readonly kind: 'reject'; readonly with: 'tcp-reset' | 'icmp-port-unreachable' }
  /** update @set { ip saddr }: refresh the source's timeout in an affinity set */
  | { readonly kind: 'update-saddr'; readonly set: string };

export interface Rule {
  readonly match: readonly Match[];
  readonly action: Action;
}

export type HookName = 'prerouting' | 'input' | 'forward' | 'output' | 'postrouting';

export interface Hook {
  readonly type: 'nat' | 'filter';
  readonly hook: HookName;
  readonly priority: number;
}

export interface Chain {
  readonly name: string;
  readonly hook?: Hook;
  readonly rules: readonly Rule[];
}

export interface VerdictMapDecl {
  readonly name: string;
  readonly key: MapKeyType;
}

/** An affinity set: client addresses with a timeout, filled by the data path itself. */
export interface AffinitySetDecl {
  readonly name: string;
  readonly timeoutSeconds: number;
}

export interface ElementKey {
  /** Absent for `proto.dport` maps. */
  readonly ip?: string;
  readonly proto: L4Proto;
  readonly port: number;
}

export interface MapElement {
  /** The table holding `map`. */
  readonly table: string;
  readonly map: string;
  readonly key: ElementKey;
  readonly verdict: Verdict;
}

/** Everything one service port owns in the table; a partial sync swaps these as a unit. */
export interface ServicePortRules {
  readonly key: string;
  /** The service table holding its chains and sets (its no-endpoint elements are in the main table). */
  readonly table: string;
  readonly chains: readonly Chain[];
  readonly sets: readonly AffinitySetDecl[];
  readonly elements: readonly MapElement[];
}

/** The whole table as the kernel will hold it once the transaction that produced it is applied. */
export interface ProxyRuleset {
  /** Identifies the options the base part was built from; a partial sync needs equal ones. */
  readonly fingerprint: string;
  /** The main table's chains and maps. */
  readonly baseChains: readonly Chain[];
  readonly maps: readonly VerdictMapDecl[];
  /** Service tables `serviceTableName(0 .. serviceTables - 1)`, each with these chains and maps. */
  readonly serviceTables: number;
  readonly serviceTableChains: readonly Chain[];
  readonly serviceTableMaps: readonly VerdictMapDecl[];
  readonly services: ReadonlyMap<string, ServicePortRules>;
  /** The node's own addresses, for the tracer's `fib ... type local` (the kernel knows them itself). */
  readonly nodeIPs: readonly string[];
}

/** Every command names its table (TABLE_NAME or a service table). */
export type NftCommand = { readonly table: string } & (
  | { readonly op: 'add-table' }
  | { readonly op: 'flush-table' }
  | { readonly op: 'delete-table' }
  | { readonly op: 'add-chain'; readonly name: string; readonly hook?: Hook }
  | { readonly op: 'flush-chain'; readonly name: string }
  | { readonly op: 'delete-chain'; readonly name: string }
  | { readonly op: 'add-rule'; readonly chain: string; readonly rule: Rule }
  | { readonly op: 'add-map'; readonly map: VerdictMapDecl }
  | { readonly op: 'flush-map'; readonly name: string }
  | { readonly op: 'add-set'; readonly set: AffinitySetDecl }
  | { readonly op: 'delete-set'; readonly name: string }
  | { readonly op: 'add-elements'; readonly map: string; readonly elements: readonly MapElement[] }
  | { readonly op: 'delete-elements'; readonly map: string; readonly keys: readonly ElementKey[] }
);

/** What a proxy table in the kernel holds (listed for a full sync after a restart). */
export interface ExistingTable {
  readonly name: string;
  readonly chains: readonly string[];
  /** Named sets (the affinity sets); maps are not listed. */
  readonly sets: readonly string[];
}

export interface NftTransaction {
  /** A full sync rewrites the whole table; a partial one touches only the changed service ports. */
  readonly full: boolean;
  readonly commands: readonly NftCommand[];
  /** The table once applied: keep it as `previous` for the next partial sync, or trace through it. */
  readonly ruleset: ProxyRuleset;
  /** Service-port keys whose rules this transaction rewrote (all of them on a full sync). */
  readonly touched: readonly string[];
}

export function elementKeyId(k: ElementKey): string {
  return k.ip !== undefined ? `${k.ip} . ${k.proto} . ${k.port}` : `${k.proto} . ${k.port}`;
}

export function verdictId(v: Verdict): string {
  return v.kind === 'jump' || v.kind === 'goto' ? `${v.kind} ${v.chain}` : v.kind;
}
