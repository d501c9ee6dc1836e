/**
 * The managed /etc/hosts of a pod, byte for byte as upstream writes it (kubelet_pods.go
 * managedHostsFileContent):
 *
 *   # Kubernetes-managed hosts file.
 *   127.0.0.1	localhost
 *   ::1	localhost ip6-localhost ip6-loopback
 *   fe00::0	ip6-localnet
 *   fe00::0	ip6-mcastprefix
 *   fe00::1	ip6-allnodes
 *   fe00::2	ip6-allrouters
 *   10.244.1.5	web-0.web.default.svc.cluster.local	web-0     (one line per pod IP)
 *
 *   # Entries added by HostAliases.
 *   10.1.2.3	foo.local	bar.local
 *
 * The hostname is `spec.hostname` or the pod name, cut to 63 characters; with `spec.subdomain` the
 * line carries the FQDN `<hostname>.<subdomain>.<ns>.svc.<clusterDomain>` first.
 * hostNetwork pods get no managed file here (upstream copies the node's /etc/hosts; knode leaves the
 * runtime's own file in place), and a container that mounts something at /etc/hosts keeps its own.
 *
 * Pure. Cost model: a few string joins per pod sync.
 */
import type { Container, HostAlias, Pod } from '../api/core/pod.js';
import { isDNS1123Label } from '../api/names.js';
import { effectivePodIPs } from './downward-api.js';
import { ContainerConfigError } from './errors.js';
import type { PodRuntimeFacts } from './types.js';

export const ETC_HOSTS_PATH = '/etc/hosts';
export const MANAGED_HOSTS_HEADER = '# Kubernetes-managed hosts file.\n';
const HOSTNAME_MAX_LENGTH = 63;

const LOCALHOST_LINES =
  '127.0.0.1\tlocalhost\n' +
  '::1\tlocalhost ip6-localhost ip6-loopback\n' +
  'fe00::0\tip6-localnet\n' +
  'fe00::0\tip6-mcastprefix\n' +
  'fe00::1\tip6-allnodes\n' +
  'fe00::2\tip6-allrouters\n';

export interface PodHostname {
  /** Short host name, at most 63 characters. */
  readonly hostname: string;
  /** `<subdomain>.<ns>.svc.<clusterDomain>`, or '' without a subdomain. */
  readonly hostDomain: string;
}

/** Upstream truncatePodHostnameIfNeeded: 63 characters, without a trailing `-` or `.`. */
export function truncateHostname(podName: string, hostname: string): string {
  if (hostname.length <= HOSTNAME_MAX_LENGTH) return hostname;
  const cut = hostname.slice(0, HOSTNAME_MAX_LENGTH).replace(/[-.]+$/, '');
  if (cut === '') throw new ContainerConfigError(`hostname for pod ${JSON.stringify(podName)} was invalid: ${JSON.stringify(hostname)}`);
  return cut;
}

/** Upstream GeneratePodHostNameAndDomain. */
export function podHostnameAndDomain(pod: Pod, clusterDomain: string): PodHostname {
  const podName = pod.metadata.name ?? '';
  let hostname = podName;
  const specHostname = pod.spec.hostname ?? '';
  if (specHostname !== '') {
    const msgs = isDNS1123Label(specHostname);
    if (msgs.length > 0) throw new ContainerConfigError(`pod Hostname ${JSON.stringify(specHostname)} is not a valid DNS label: ${msgs.join(';')}`);
    hostname = specHostname;
  }
  hostname = truncateHostname(podName, hostname);
  const subdomain = pod.spec.subdomain ?? '';
  if (subdomain === '') return { hostname, hostDomain: '' };
  const msgs = isDNS1123Label(subdomain);
  if (msgs.length > 0) throw new ContainerConfigError(`pod Subdomain ${JSON.stringify(subdomain)} is not a valid DNS label: ${msgs.join(';')}`);
  return { hostname, hostDomain: `${subdomain}.${pod.metadata.namespace ?? ''}.svc.${clusterDomain}` };
}

/** The HostAliases section, with its blank separator line; empty without aliases. */
export function hostAliasesSection(aliases: readonly HostAlias[] | undefined): string {
  if (aliases === undefined || aliases.length === 0) return '';
  const lines = aliases.map((a) => `${a.ip}\t${(a.hostnames ?? []).join('\t')}\n`);
  return `\n# Entries added by HostAliases.\n${lines.join('')}`;
}

export interface ManagedHostsInput {
  readonly podIPs: readonly string[];
  readonly hostname: string;
  readonly hostDomain: string;
  readonly hostAliases?: readonly HostAlias[];
}

/** Upstream managedHostsFileContent. */
export function managedHostsContent(input: ManagedHostsInput): string {
  let out = MANAGED_HOSTS_HEADER + LOCALHOST_LINES;
  for (const ip of input.podIPs) {
    out += input.hostDomain !== '' ? `${ip}\t${input.hostname}.${input.hostDomain}\t${input.hostname}\n` : `${ip}\t${input.hostname}\n`;
  }
  return out + hostAliasesSection(input.hostAliases);
}

/** True when this container mounts a volume at /etc/hosts: it keeps that file. */
export function containerMountsEtcHosts(container: Container): boolean {
  return (container.volumeMounts ?? []).some((m) => m.mountPath === ETC_HOSTS_PATH);
}

/** A managed file is written unless the pod uses the host network or every container brings its own. */
export function needsManagedHosts(pod: Pod): boolean {
  if (pod.spec.hostNetwork === true) return false;
  const containers = [...(pod.spec.initContainers ?? []), ...pod.spec.containers];
  return containers.some((c) => !containerMountsEtcHosts(c));
}

/**
 * The content of the pod's managed /etc/hosts, or undefined when none is managed: hostNetwork pods,
 * pods whose containers all mount /etc/hosts, and pods without an IP yet (upstream mounts nothing
 * before the sandbox has an address).
 */
export function hostsFileFor(pod: Pod, facts: PodRuntimeFacts, clusterDomain: string): string | undefined {
  if (!needsManagedHosts(pod)) return undefined;
  const podIPs = effectivePodIPs(facts);
  if (podIPs.length === 0) return undefined;
  const { hostname, hostDomain } = podHostnameAndDomain(pod, clusterDomain);
  return managedHostsContent({ podIPs, hostname, hostDomain, ...(pod.spec.hostAliases ? { hostAliases: pod.spec.hostAliases } : {}) });
}
