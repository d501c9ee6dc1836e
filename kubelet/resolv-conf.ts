/**
 * A pod's DNS settings (upstream pkg/kubelet/network/dns): the CRI `DNSConfig` of the sandbox, from
 * which containerd writes the pod's resolv.conf itself, and the same file rendered for checks and tests.
 *
 * By dnsPolicy:
 * - ClusterFirst (not hostNetwork) and ClusterFirstWithHostNet: nameservers = the cluster DNS IPs,
 *   search = `<ns>.svc.<domain> svc.<domain> <domain>` + the node's search list, `options ndots:5`.
 *   Without a cluster DNS IP upstream falls back to Default (and warns, see `events`).
 * - ClusterFirst on a hostNetwork pod, and Default: the node's resolv.conf.
 * - None: nothing but `spec.dnsConfig`.
 * Then `spec.dnsConfig` is merged in (nameservers and searches appended without duplicates, options
 * replacing same-named ones) and the result cut to upstream's limits: 3 nameservers; 32 search domains,
 * none longer than 253 characters, 2048 characters in all.
 *
 * Pure. Cost model: one scan of the node's resolv.conf per sandbox.
 */
import type { Pod } from '../api/core/pod.js';
import type { DNSConfig } from './cri/types-sandbox.js';

export const MAX_DNS_NAMESERVERS = 3;
export const MAX_DNS_SEARCH_PATHS = 32;
export const MAX_DNS_SEARCH_LIST_CHARS = 2048;
const MAX_SEARCH_DOMAIN_LENGTH = 253;
const DEFAULT_DNS_OPTIONS: readonly string[] = ['ndots:5'];

export interface PodDNSOptions {
  /** The kubelet's --cluster-dns IPs. */
  readonly clusterDNS: readonly string[];
  /** The kubelet's --cluster-domain, e.g. `cluster.local`; '' adds no cluster search domains. */
  readonly clusterDomain: string;
  /** The node's resolv.conf content (the file the kubelet's --resolv-conf names). */
  readonly hostResolvConf: string;
}

export interface ResolvConf {
  readonly servers: readonly string[];
  readonly searches: readonly string[];
  readonly options: readonly string[];
}

export type PodDNSType = 'cluster' | 'host' | 'none';

export interface PodDNSEvent {
  readonly reason: 'DNSConfigForming' | 'MissingClusterDNS';
  readonly message: string;
}

export interface PodDNSPlan {
  readonly dnsConfig: { readonly servers: string[]; readonly searches: string[]; readonly options: string[] };
  /** Warnings upstream records as events on the pod. */
  readonly events: readonly PodDNSEvent[];
}

/**
 * Upstream parseResolvConf: `nameserver` lines accumulate, the last `search` and `options` lines win,
 * search domains lose a trailing dot (and a lone `.` is dropped), `#` lines are comments.
 */
export function parseResolvConf(content: string): ResolvConf {
  const servers: string[] = [];
  let searches: string[] = [];
  let options: string[] = [];
  for (const line of content.split('\n')) {
    const trimmed = line.trim();
    if (trimmed.startsWith('#')) continue;
    const fields = trimmed.split(/\s+/).filter((f) => f !== '');
    const [key, ...rest] = fields;
    if (key === 'nameserver' && rest[0] !== undefined) servers.push(rest[0]);
    else if (key === 'search') searches = rest.filter((s) => s !== '.').map((s) => s.replace(/\.$/, ''));
    else if (key === 'options') options = rest;
  }
  return { servers, searches, options };
}

/** Upstream getPodDNSType. */
export function podDNSType(pod: Pod): PodDNSType {
  switch (pod.spec.dnsPolicy ?? 'ClusterFirst') {
    case 'None':
      return 'none';
    case 'ClusterFirstWithHostNet':
      return 'cluster';
    case 'ClusterFirst':
      return pod.spec.hostNetwork === true ? 'host' : 'cluster';
    case 'Default':
      return 'host';
  }
}

const omitDuplicates = (list: readonly string[]): string[] => [...new Set(list)];

/** Options by name (`ndots:5` -> ndots=5); later ones replace earlier ones, first position kept. */
function mergeOptions(existing: readonly string[], extra: readonly { name?: string; value?: string }[]): string[] {
  const byName = new Map<string, string>();
  for (const op of existing) {
    const at = op.indexOf(':');
    if (at >= 0) byName.set(op.slice(0, at), op.slice(at + 1));
    else byName.set(op, '');
  }
  for (const op of extra) byName.set(op.name ?? '', op.value ?? '');
  return [...byName].map(([name, value]) => (value !== '' ? `${name}:${value}` : name));
}

/** Upstream formDNSSearchFitsLimits: count, per-domain length, then total length from the end. */
export function fitSearchLimits(searches: readonly string[]): { searches: string[]; exceeded: boolean } {
  let exceeded = false;
  let list = [...searches];
  if (list.length > MAX_DNS_SEARCH_PATHS) {
    list = list.slice(0, MAX_DNS_SEARCH_PATHS);
    exceeded = true;
  }
  const short = list.filter((s) => s.length <= MAX_SEARCH_DOMAIN_LENGTH);
  if (short.length !== list.length) exceeded = true;
  list = short;
  let total = list.join(' ').length;
  while (total > MAX_DNS_SEARCH_LIST_CHARS && list.length > 0) {
    total -= (list.pop() ?? '').length + 1;
    exceeded = true;
  }
  return { searches: list, exceeded };
}

/** Upstream GetPodDNS, with the events it would record. */
export function planPodDNS(pod: Pod, opts: PodDNSOptions): PodDNSPlan {
  const host = parseResolvConf(opts.hostResolvConf);
  const events: PodDNSEvent[] = [];
  let servers: string[] = [];
  let searches: string[] = [];
  let options: string[] = [];
  let type = podDNSType(pod);
  if (type === 'cluster' && opts.clusterDNS.length === 0) {
    const msg = `kubelet does not have ClusterDNS IP configured and cannot create Pod using "ClusterFirst" policy. Falling back to "Default" policy.`;
    events.push({ reason: 'MissingClusterDNS', message: `pod: "${pod.metadata.name ?? ''}_${pod.metadata.namespace ?? ''}(${pod.metadata.uid ?? ''})". ${msg}` });
    type = 'host';
  }
  switch (type) {
    case 'none':
      break;
    case 'cluster': {
      servers = [...opts.clusterDNS];
      const d = opts.clusterDomain;
      const clusterSearch = d === '' ? [] : [`${pod.metadata.namespace ?? ''}.svc.${d}`, `svc.${d}`, d];
      searches = d === '' ? [...host.searches] : omitDuplicates([...clusterSearch, ...host.searches]);
      options = [...DEFAULT_DNS_OPTIONS];
      break;
    }
    case 'host':
      servers = [...host.servers];
      searches = [...host.searches];
      options = [...host.options];
      break;
    default: {
      const never: never = type;
      throw new Error(`unknown DNS type ${String(never)}`);
    }
  }
  const extra = pod.spec.dnsConfig;
  if (extra !== undefined) {
    servers = omitDuplicates([...servers, ...(extra.nameservers ?? [])]);
    searches = omitDuplicates([...searches, ...(extra.searches ?? [])]);
    options = mergeOptions(options, extra.options ?? []);
  }
  if (servers.length > MAX_DNS_NAMESERVERS) {
    servers = servers.slice(0, MAX_DNS_NAMESERVERS);
    events.push({
      reason: 'DNSConfigForming',
      message: `Nameserver limits were exceeded, some nameservers have been omitted, the applied nameserver line is: ${servers.join(' ')}`,
    });
  }
  const fitted = fitSearchLimits(searches);
  if (fitted.exceeded) {
    events.push({
      reason: 'DNSConfigForming',
      message: `Search Line limits were exceeded, some search paths have been omitted, the applied search line is: ${fitted.searches.join(' ')}`,
    });
  }
  return { dnsConfig: { servers, searches: fitted.searches, options }, events };
}

/** The PodSandboxConfig `dns_config` for a pod. */
export function dnsConfigForSandbox(pod: Pod, opts: PodDNSOptions): DNSConfig {
  return planPodDNS(pod, opts).dnsConfig;
}

/** resolv.conf as containerd writes it from a DNSConfig: search, nameserver lines, options. */
export function renderResolvConf(dns: DNSConfig): string {
  let out = '';
  const searches = dns.searches ?? [];
  const servers = dns.servers ?? [];
  const options = dns.options ?? [];
  if (searches.length > 0) out += `search ${searches.join(' ')}\n`;
  for (const s of servers) out += `nameserver ${s}\n`;
  if (options.length > 0) out += `options ${options.join(' ')}\n`;
  return out;
}

/** The pod's resolv.conf content (what a container sees at /etc/resolv.conf). */
export function resolvConfFor(pod: Pod, opts: PodDNSOptions): string {
  return renderResolvConf(dnsConfigForSandbox(pod, opts));
}
