/**
 * Choosing the lab's underlay subnet: a /24 that overlaps nothing the machine already uses.
 *
 * "Used" means every IPv4 prefix in the root namespace's routing tables (`ip -4 -j route show table
 * all`, minus the default route, which covers everything and says nothing about what is taken), every
 * network of an address on a root interface (`ip -4 -j addr`), and the cluster's own service and pod
 * ranges (a pod or ClusterIP must never be mistaken for a lab host). Another lab running on the same
 * machine shows up through its root veth's connected route, so two labs never collide.
 *
 * Pure: the executor reads the two JSON documents and hands them here.
 */
import { LabUnderlayError } from './errors.js';
import { mustParsePrefix4, overlaps, parsePrefix4 } from './ipv4.js';
import type { Prefix4 } from './ipv4.js';

/** Ranges the cluster itself uses (upstream defaults, as in test/helpers/ip-plan.ts). */
export const CLUSTER_RANGES: readonly string[] = ['10.96.0.0/12', '10.244.0.0/16'];

/** Tried in order; the first free one wins. Private ranges rarely used by real networks. */
export const UNDERLAY_CANDIDATES: readonly string[] = [
  ...[250, 251, 252, 253, 254, 255].map((n) => `172.31.${n}.0/24`),
  ...[250, 251, 252, 253, 254, 255].map((n) => `10.255.${n}.0/24`),
  ...[250, 251, 252, 253, 254, 255].map((n) => `192.168.${n}.0/24`),
];

export interface UsedPrefix {
  readonly prefix: Prefix4;
  /** Where it was seen, for the error message: `route 192.0.2.0/24 dev eth0`. */
  readonly source: string;
}

function asArray(doc: unknown): readonly Record<string, unknown>[] {
  return Array.isArray(doc) ? doc.filter((e): e is Record<string, unknown> => typeof e === 'object' && e !== null) : [];
}

/** Every IPv4 prefix the root namespace routes or holds an address in. IPv6 entries are skipped. */
export function usedPrefixes(routes: unknown, addrs: unknown): UsedPrefix[] {
  const out: UsedPrefix[] = [];
  for (const r of asArray(routes)) {
    const dst = r['dst'];
    if (typeof dst !== 'string' || dst === 'default') continue;
    const p = parsePrefix4(dst, true);
    if (p === undefined) continue;
    const dev = typeof r['dev'] === 'string' ? ` dev ${r['dev']}` : '';
    out.push({ prefix: p, source: `route ${dst}${dev}` });
  }
  for (const link of asArray(addrs)) {
    const name = typeof link['ifname'] === 'string' ? link['ifname'] : '?';
    for (const a of asArray(link['addr_info'])) {
      if (a['family'] !== 'inet' || typeof a['local'] !== 'string' || typeof a['prefixlen'] !== 'number') continue;
      const p = parsePrefix4(`${a['local']}/${a['prefixlen']}`, true);
      if (p !== undefined) out.push({ prefix: p, source: `address ${a['local']}/${a['prefixlen']} on ${name}` });
    }
  }
  for (const c of CLUSTER_RANGES) {
    const p = parsePrefix4(c);
    if (p !== undefined) out.push({ prefix: p, source: `cluster range ${c}` });
  }
  return out;
}

/**
 * The forced subnet when it is free (a /24 or larger: the plan needs .1 to .30), else the first free
 * candidate. Throws LabUnderlayError naming the conflict.
 */
export function chooseUnderlay(used: readonly UsedPrefix[], forced?: string): Prefix4 {
  if (forced !== undefined) {
    const p = mustParsePrefix4(forced, '--underlay');
    if (p.bits > 24) throw new LabUnderlayError(`--underlay ${forced} is too small: the lab needs a /24 or larger.`);
    const clash = used.find((u) => overlaps(u.prefix, p));
    if (clash !== undefined) {
      throw new LabUnderlayError(`--underlay ${forced} overlaps ${clash.source} on this machine; choose another range or omit --underlay.`);
    }
    return p;
  }
  for (const c of UNDERLAY_CANDIDATES) {
    const p = parsePrefix4(c);
    if (p !== undefined && !used.some((u) => overlaps(u.prefix, p))) return p;
  }
  throw new LabUnderlayError(
    `no free underlay subnet: all of ${UNDERLAY_CANDIDATES.join(', ')} overlap ranges in use here; pass --underlay with a free /24.`,
  );
}
