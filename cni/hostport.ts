/**
 * Host ports (the `portMappings` capability) as one nftables table, `inet knode-hostport`, rebuilt
 * whole from the store's records in one atomic `nft -f` transaction each time a mapping comes or goes.
 * The table is a pure function of the records, so a run is idempotent, repairs whatever a crash left,
 * and DEL removes exactly its own entries. Conflicts (two pods claiming one host IP/protocol/port,
 * normally prevented by the scheduler) go to the newest claim, so a leftover never blocks a new pod.
 *
 *   map hostip_dnat  hostIP . proto . port -> podIP . containerPort   (mappings with a specific hostIP)
 *   map anyip_dnat   proto . port -> podIP . containerPort            (any local address)
 *   prerouting (from pods and the wire) and output (from the node itself, incl. 127.0.0.1) jump to the
 *   lookups; postrouting masquerades DNATed traffic from 127.0.0.0/8 (needs route_localnet on the
 *   bridge) and a pod reaching itself through its host port (hairpin), so replies come back through
 *   conntrack.
 * TCP and UDP on one port are different keys (`meta l4proto` is part of each key).
 * nft 1.0.6 wants the `dnat ip to <key> map @m` form.
 *
 * Cost: one `nft -f -` exec (~3-5 ms), only on ADD/DEL of pods that have host ports.
 */
import type { AttachmentRecord } from './ipam/store.js';
import { keyString } from './ipam/store.js';
import type { Protocol } from './types.js';

export const HOSTPORT_TABLE = 'knode-hostport';

export interface HostportRules {
  /** `hostIP . proto . port` -> `podIP . port`, in a stable order. */
  readonly hostIp: ReadonlyMap<string, string>;
  readonly anyIp: ReadonlyMap<string, string>;
  /** Pod IPs that own at least one host port. */
  readonly hairpin: readonly string[];
}

/** Newest claim wins: records applied oldest first, later ones overwrite. */
export function computeHostportRules(records: readonly AttachmentRecord[]): HostportRules {
  const ordered = [...records].sort((a, b) => a.createdAt - b.createdAt || keyString(a).localeCompare(keyString(b)));
  const hostIp = new Map<string, string>();
  const anyIp = new Map<string, string>();
  const hairpin = new Set<string>();
  for (const r of ordered) {
    for (const m of r.portMappings) {
      const target = `${r.ip} . ${m.containerPort}`;
      const k = `${m.protocol} . ${m.hostPort}`;
      if (m.hostIP !== undefined) hostIp.set(`${m.hostIP} . ${k}`, target);
      else anyIp.set(k, target);
      hairpin.add(r.ip);
    }
  }
  return { hostIp: sorted(hostIp), anyIp: sorted(anyIp), hairpin: [...hairpin].sort() };
}

function sorted(m: Map<string, string>): Map<string, string> {
  return new Map([...m].sort(([a], [b]) => a.localeCompare(b)));
}

function elements(items: readonly string[]): string[] {
  return items.length > 0 ? [`\t\telements = { ${items.join(',\n\t\t\t     ')} }`] : [];
}

/**
 * The whole `nft -f` script. `add table` + `delete table` first makes the replacement atomic and
 * idempotent whether or not the table exists; with no mappings, the table is simply removed.
 */
export function buildHostportScript(rules: HostportRules): string {
  const lines = [`add table inet ${HOSTPORT_TABLE}`, `delete table inet ${HOSTPORT_TABLE}`];
  if (rules.hostIp.size === 0 && rules.anyIp.size === 0) return `${lines.join('\n')}\n`;
  lines.push(
    `table inet ${HOSTPORT_TABLE} {`,
    '\tmap hostip_dnat {',
    '\t\ttype ipv4_addr . inet_proto . inet_service : ipv4_addr . inet_service',
    ...elements([...rules.hostIp].map(([k, v]) => `${k} : ${v}`)),
    '\t}',
    '\tmap anyip_dnat {',
    '\t\ttype inet_proto . inet_service : ipv4_addr . inet_service',
    ...elements([...rules.anyIp].map(([k, v]) => `${k} : ${v}`)),
    '\t}',
    '\tset hairpin {',
    '\t\ttype ipv4_addr . ipv4_addr',
    ...elements(rules.hairpin.map((ip) => `${ip} . ${ip}`)),
    '\t}',
    '\tchain hostports {',
    '\t\tdnat ip to ip daddr . meta l4proto . th dport map @hostip_dnat',
    '\t\tfib daddr type local dnat ip to meta l4proto . th dport map @anyip_dnat',
    '\t}',
    '\tchain prerouting {',
    '\t\ttype nat hook prerouting priority dstnat; policy accept;',
    '\t\tjump hostports',
    '\t}',
    '\tchain output {',
    '\t\ttype nat hook output priority -100; policy accept;',
    '\t\tfib daddr type local jump hostports',
    '\t}',
    '\tchain postrouting {',
    '\t\ttype nat hook postrouting priority srcnat; policy accept;',
    '\t\tct status dnat ip saddr 127.0.0.0/8 masquerade',
    '\t\tct status dnat ip saddr . ip daddr @hairpin masquerade',
    '\t}',
    '}',
  );
  return `${lines.join('\n')}\n`;
}

/** A fingerprint of what the table is built from: equal fingerprints give equal tables. */
export function hostportFingerprint(records: readonly AttachmentRecord[]): string {
  return records
    .map((r) => `${keyString(r)}=${r.ip}@${r.createdAt}:${r.portMappings.map((m) => `${m.hostIP ?? '*'}/${m.protocol satisfies Protocol}/${m.hostPort}>${m.containerPort}`).join(',')}`)
    .sort()
    .join(';');
}

/** Whether DNAT to a pod from 127.0.0.1 can happen (then the bridge needs route_localnet=1). */
export function needsRouteLocalnet(rules: HostportRules): boolean {
  return rules.anyIp.size > 0 || [...rules.hostIp.keys()].some((k) => k.startsWith('127.'));
}
