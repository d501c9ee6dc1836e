/**
 * buildSandboxConfig: the CRI PodSandboxConfig of a pod, as upstream's generatePodSandboxConfig and
 * generatePodSandboxLinuxConfig build it. Pure; DNS, cgroup parent and paths come in as options.
 *
 *  - metadata name/namespace/uid/attempt; labels = the pod's labels + io.kubernetes.pod.{name,
 *    namespace,uid} (how a restarted kubelet finds its sandboxes); annotations = the pod's + the
 *    config source;
 *  - hostname = spec.hostname or the pod name (63 chars max), the FQDN with setHostnameAsFQDN; EMPTY
 *    for hostNetwork pods: the sandbox shares the node's UTS namespace, and containerd refuses a
 *    hostname there (platform.md);
 *  - log directory `/var/log/pods/<namespace>_<name>_<uid>`;
 *  - port mappings of every container port (hostPort 0 included, as upstream; containerd hands only
 *    hostPort > 0 to the CNI portmap plugin), with protocol and hostIP;
 *  - linux: cgroup parent, namespace modes (network NODE for hostNetwork, pid NODE/POD/CONTAINER,
 *    ipc NODE/POD), runAsUser/Group, supplemental groups (fsGroup first), SELinux options, privileged
 *    when any container is, seccomp RuntimeDefault for the pause process, sysctls.
 *
 * Cost model: one pass over the containers' ports.
 */
import type { Pod } from '../api/core/pod.js';
import type { NamespaceOption, NamespaceMode } from './cri/types-common.js';
import type { DNSConfig, LinuxSandboxSecurityContext, PodSandboxConfig, PortMapping } from './cri/types-sandbox.js';
import { KubeletError } from './errors.js';
import { LABEL_POD_NAME, LABEL_POD_NAMESPACE, LABEL_POD_UID } from './types.js';

export const DEFAULT_POD_LOGS_DIR = '/var/log/pods';
export const DEFAULT_CLUSTER_DOMAIN = 'cluster.local';
export const ANNOTATION_CONFIG_SOURCE = 'kubernetes.io/config.source';
const HOSTNAME_MAX = 63;
const FQDN_MAX = 64;

/** The pod's hostname or FQDN cannot be set (a user must shorten it). */
export class SandboxConfigError extends KubeletError {
  constructor(message: string) {
    super('ERR_KUBELET_SANDBOX_CONFIG', message);
  }
}

export interface SandboxConfigOptions {
  /** Sandbox attempt, from computePodActions (`sandboxAttempt`). */
  readonly attempt: number;
  /** resolv.conf contents for the sandbox (resolv-conf.ts dnsConfigForSandbox). */
  readonly dnsConfig?: DNSConfig;
  readonly clusterDomain?: string;
  readonly podLogsDir?: string;
  readonly cgroupParent?: string;
  /** `kubernetes.io/config.source`: api, file or http. Default api. */
  readonly configSource?: string;
}

/** `<root>/<namespace>_<name>_<uid>`, upstream BuildPodLogsDirectory. */
export function podLogDirectory(pod: Pod, root: string = DEFAULT_POD_LOGS_DIR): string {
  const m = pod.metadata;
  return `${root.replace(/\/+$/, '')}/${m.namespace ?? ''}_${m.name ?? ''}_${m.uid ?? ''}`;
}

/** Upstream GeneratePodHostNameAndDomain: hostname (truncated to 63) and `<subdomain>.<ns>.svc.<domain>`. */
export function podHostnameAndDomain(pod: Pod, clusterDomain: string = DEFAULT_CLUSTER_DOMAIN): { readonly hostname: string; readonly domain: string } {
  let hostname = pod.spec.hostname || (pod.metadata.name ?? '');
  if (hostname.length > HOSTNAME_MAX) {
    // a truncated name must still be a DNS label: no trailing '-' or '.'
    hostname = hostname.slice(0, HOSTNAME_MAX).replace(/[-.]+$/, '');
    if (hostname === '') throw new SandboxConfigError(`hostname for pod "${pod.metadata.name ?? ''}" was invalid`);
  }
  const domain = pod.spec.subdomain ? `${pod.spec.subdomain}.${pod.metadata.namespace ?? ''}.svc.${clusterDomain}` : '';
  return { hostname, domain };
}

/** The kernel nodename of a pod-network sandbox (upstream GetNodenameForKernel). */
export function sandboxHostname(pod: Pod, clusterDomain: string = DEFAULT_CLUSTER_DOMAIN): string {
  const { hostname, domain } = podHostnameAndDomain(pod, clusterDomain);
  if (domain === '' || pod.spec.setHostnameAsFQDN !== true) return hostname;
  const fqdn = `${hostname}.${domain}`;
  if (fqdn.length > FQDN_MAX) {
    throw new SandboxConfigError(
      `failed to construct FQDN from pod hostname and cluster domain, FQDN ${fqdn} is too long (${FQDN_MAX} characters is the max, ${fqdn.length} characters requested)`,
    );
  }
  return fqdn;
}

/** Namespace modes of a pod's sandbox and containers (upstream NamespacesForPod). */
export function namespaceOptionsForPod(pod: Pod): Required<Pick<NamespaceOption, 'network' | 'pid' | 'ipc'>> {
  const pid: NamespaceMode = pod.spec.hostPID ? 'NODE' : pod.spec.shareProcessNamespace ? 'POD' : 'CONTAINER';
  return {
    network: pod.spec.hostNetwork ? 'NODE' : 'POD',
    pid,
    ipc: pod.spec.hostIPC ? 'NODE' : 'POD',
  };
}

/** Every declared container port, first definition of a name winning (upstream MakePortMappings). */
export function portMappingsForPod(pod: Pod): PortMapping[] {
  const out: PortMapping[] = [];
  for (const c of pod.spec.containers) {
    const seen = new Set<string>();
    for (const p of c.ports ?? []) {
      const protocol = p.protocol ?? 'TCP';
      const hostIp = p.hostIP ?? '';
      const family = hostIp === '' ? 'any' : hostIp.includes(':') ? 'v6' : 'v4';
      const name = p.name || `${family}-${protocol}-${hostIp}:${p.containerPort}:${p.hostPort ?? 0}`;
      if (seen.has(name)) continue;
      seen.add(name);
      out.push({ protocol, containerPort: p.containerPort, hostPort: p.hostPort ?? 0, hostIp });
    }
  }
  return out;
}

function hasPrivilegedContainer(pod: Pod): boolean {
  const all = [...(pod.spec.initContainers ?? []), ...pod.spec.containers, ...(pod.spec.ephemeralContainers ?? [])];
  return all.some((c) => c.securityContext?.privileged === true);
}

function sandboxSecurityContext(pod: Pod): LinuxSandboxSecurityContext {
  const sc = pod.spec.securityContext;
  const groups = [...(sc?.fsGroup !== undefined ? [sc.fsGroup] : []), ...(sc?.supplementalGroups ?? [])];
  return {
    namespaceOptions: namespaceOptionsForPod(pod),
    privileged: hasPrivilegedContainer(pod),
    // the pause process runs confined whatever the containers ask for (upstream #84623)
    seccomp: { profileType: 'RuntimeDefault' },
    ...(sc?.runAsUser !== undefined ? { runAsUser: { value: sc.runAsUser } } : {}),
    ...(sc?.runAsGroup !== undefined ? { runAsGroup: { value: sc.runAsGroup } } : {}),
    ...(groups.length > 0 ? { supplementalGroups: groups } : {}),
    ...(sc?.supplementalGroupsPolicy !== undefined ? { supplementalGroupsPolicy: sc.supplementalGroupsPolicy } : {}),
    ...(sc?.seLinuxOptions !== undefined ? { selinuxOptions: { ...sc.seLinuxOptions } } : {}),
  };
}

export function sandboxLabels(pod: Pod): Record<string, string> {
  return {
    ...(pod.metadata.labels ?? {}),
    [LABEL_POD_NAME]: pod.metadata.name ?? '',
    [LABEL_POD_NAMESPACE]: pod.metadata.namespace ?? '',
    [LABEL_POD_UID]: pod.metadata.uid ?? '',
  };
}

export function buildSandboxConfig(pod: Pod, opts: SandboxConfigOptions): PodSandboxConfig {
  const m = pod.metadata;
  const sysctls: Record<string, string> = {};
  for (const s of pod.spec.securityContext?.sysctls ?? []) sysctls[s.name] = s.value;
  const portMappings = portMappingsForPod(pod);
  const annotations = { [ANNOTATION_CONFIG_SOURCE]: opts.configSource ?? 'api', ...(m.annotations ?? {}) };
  return {
    metadata: { name: m.name ?? '', namespace: m.namespace ?? '', uid: m.uid ?? '', attempt: opts.attempt },
    ...(pod.spec.hostNetwork ? {} : { hostname: sandboxHostname(pod, opts.clusterDomain) }),
    logDirectory: podLogDirectory(pod, opts.podLogsDir),
    ...(opts.dnsConfig !== undefined ? { dnsConfig: opts.dnsConfig } : {}),
    ...(portMappings.length > 0 ? { portMappings } : {}),
    labels: sandboxLabels(pod),
    annotations,
    linux: {
      ...(opts.cgroupParent !== undefined ? { cgroupParent: opts.cgroupParent } : {}),
      securityContext: sandboxSecurityContext(pod),
      sysctls,
    },
  };
}
