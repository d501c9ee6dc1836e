/**
 * What a kubelet says about its Node, as configuration: names, addresses, labels and taints to register
 * with, reservations, and the timings of status reports and lease renewals. Defaults are upstream's
 * (KubeletConfiguration v1beta1) except where knode's issue asked otherwise (status report every minute
 * instead of five). Plain data; `withNodeDefaults` fills what the caller left out.
 */
import type { ResourceList } from '../../api/core/common.js';
import type { Taint } from '../../api/core/scheduling.js';

export const KUBELET_VERSION = 'v1.32.0-knode';
export const NODE_LEASE_NAMESPACE = 'kube-node-lease';

export const LABEL_HOSTNAME = 'kubernetes.io/hostname';
export const LABEL_OS = 'kubernetes.io/os';
export const LABEL_ARCH = 'kubernetes.io/arch';
export const LABEL_BETA_OS = 'beta.kubernetes.io/os';
export const LABEL_BETA_ARCH = 'beta.kubernetes.io/arch';
/** The labels the kubelet owns and reconciles on an existing Node (upstream updateDefaultLabels). */
export const DEFAULT_NODE_LABELS: readonly string[] = [LABEL_HOSTNAME, LABEL_OS, LABEL_ARCH, LABEL_BETA_OS, LABEL_BETA_ARCH];
export const ANNOTATION_ATTACH_DETACH = 'volumes.kubernetes.io/controller-managed-attach-detach';
export const TAINT_UNSCHEDULABLE = 'node.kubernetes.io/unschedulable';

/** Hard eviction thresholds: crossing one sets the matching pressure condition and shrinks allocatable. */
export interface EvictionThresholds {
  /** memory.available below this many bytes (upstream default 100Mi). */
  readonly memoryAvailableBytes: number;
  /** nodefs.available below this percentage of the kubelet root filesystem (upstream default 10%). */
  readonly nodefsAvailablePercent: number;
  /**
   * pid.available below this percentage of kernel.pid_max. Upstream sets no default for pids; knode
   * uses 10% so a fork bomb shows as PIDPressure before the kernel refuses clone().
   */
  readonly pidAvailablePercent: number;
}

export const DEFAULT_EVICTION_HARD: EvictionThresholds = {
  memoryAvailableBytes: 100 * 1024 * 1024,
  nodefsAvailablePercent: 10,
  pidAvailablePercent: 10,
};

export interface NodeConfig {
  readonly nodeName: string;
  /** The `kubernetes.io/hostname` label and the Hostname address; defaults to the node name. */
  readonly hostname?: string;
  /** InternalIP addresses, primary first (one per family for dual-stack). */
  readonly nodeIPs: readonly string[];
  /** `--node-labels`, on top of the default labels. */
  readonly labels?: Readonly<Record<string, string>>;
  /** `--register-with-taints`. */
  readonly taints?: readonly Taint[];
  /** `--register-schedulable=false` registers the node cordoned. */
  readonly unschedulable?: boolean;
  /** Default 110. */
  readonly maxPods?: number;
  /** Port of the kubelet's HTTPS server, in status.daemonEndpoints (default 10250). */
  readonly kubeletPort?: number;
  readonly kubeletVersion?: string;
  /** Reported as nodeInfo.kubeProxyVersion; defaults to the kubelet version. */
  readonly kubeProxyVersion?: string;
  /** kube-reserved + system-reserved, subtracted from capacity to make allocatable (default none). */
  readonly reserved?: ResourceList;
  readonly evictionHard?: EvictionThresholds;
  /**
   * `--pod-cidr`: a pod range this node already uses (set up outside the control plane, as the lab
   * does). Registered in spec.podCIDR(s) so the node IPAM controller records it instead of assigning
   * another one; absent, the control plane assigns one.
   */
  readonly podCIDR?: string;
  /** Annotations set at registration (the kubelet's serving CA). */
  readonly annotations?: Readonly<Record<string, string>>;
}

export type ResolvedNodeConfig = Required<Omit<NodeConfig, 'taints' | 'labels' | 'reserved' | 'podCIDR' | 'annotations'>> & {
  readonly podCIDR?: string;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly taints: readonly Taint[];
  readonly labels: Readonly<Record<string, string>>;
  readonly reserved: ResourceList;
};

export function withNodeDefaults(c: NodeConfig): ResolvedNodeConfig {
  const kubeletVersion = c.kubeletVersion ?? KUBELET_VERSION;
  return {
    nodeName: c.nodeName,
    // upstream lower-cases the hostname it derives; the node name is already a DNS subdomain
    hostname: (c.hostname ?? c.nodeName).toLowerCase(),
    nodeIPs: c.nodeIPs,
    labels: c.labels ?? {},
    taints: c.taints ?? [],
    unschedulable: c.unschedulable ?? false,
    maxPods: c.maxPods ?? 110,
    kubeletPort: c.kubeletPort ?? 10250,
    kubeletVersion,
    kubeProxyVersion: c.kubeProxyVersion ?? kubeletVersion,
    reserved: c.reserved ?? {},
    evictionHard: c.evictionHard ?? DEFAULT_EVICTION_HARD,
    ...(c.podCIDR !== undefined ? { podCIDR: c.podCIDR } : {}),
    ...(c.annotations !== undefined ? { annotations: c.annotations } : {}),
  };
}

/** Timings of the status reporter (upstream names). */
export interface NodeStatusTimings {
  /** How often the kubelet computes the status and compares it (upstream 10 s). */
  readonly nodeStatusUpdateFrequencyMs: number;
  /** Status is patched at least this often even when nothing changed (upstream 5 min; knode 1 min). */
  readonly nodeStatusReportFrequencyMs: number;
  /** No successful runtime Status for this long: `container runtime is down` (upstream 30 s). */
  readonly runtimeDownThresholdMs: number;
  /** A pressure condition stays True this long after the threshold was last crossed (upstream 5 min). */
  readonly pressureTransitionPeriodMs: number;
}

export const DEFAULT_NODE_STATUS_TIMINGS: NodeStatusTimings = {
  nodeStatusUpdateFrequencyMs: 10_000,
  nodeStatusReportFrequencyMs: 60_000,
  runtimeDownThresholdMs: 30_000,
  pressureTransitionPeriodMs: 5 * 60_000,
};
