/**
 * Pod defaulting: upstream's API defaults (pkg/apis/core/v1/defaults.go SetDefaults_PodSpec, _Pod,
 * _Container, _Volume...) plus what upstream's admission and create strategy fill in for every pod
 * (ServiceAccount -> `default`, Priority -> 0 / PreemptLowerPriority, status Pending + QoS class).
 * DefaultTolerationSeconds is the apiserver's admission plugin (control-plane/apiserver/plugins).
 *
 * Pod templates get only the PodSpec defaults, as upstream: no serviceAccountName, no enableServiceLinks,
 * no requests-from-limits (those are Pod defaults, applied when the pod is created from the template).
 */
import type { Mutable } from '../meta.js';
import { defaultContainer, defaultHostNetworkPorts, defaultRequestsFromLimits } from './container-defaults.js';
import type { Pod, PodSpec, PodStatus, PodTemplateSpec } from './pod-types.js';
import { computePodQOS } from './qos.js';
import { canonicalResourceList } from './resources.js';
import { defaultVolume } from './volume.js';

export const DEFAULT_SCHEDULER_NAME = 'default-scheduler';
export const DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS = 30;

/** The built-in PriorityClasses upstream creates at startup; others need a lookup the apiserver does. */
const SYSTEM_PRIORITY_CLASSES: Readonly<Record<string, number>> = {
  'system-cluster-critical': 2_000_000_000,
  'system-node-critical': 2_000_001_000,
};

/** Upstream SetDefaults_PodSpec and the defaults of everything inside it. */
export function defaultPodSpec(spec: PodSpec): PodSpec {
  const out: Mutable<PodSpec> = {
    ...spec,
    containers: (spec.containers ?? []).map((c) => defaultContainer(c)),
    dnsPolicy: spec.dnsPolicy || 'ClusterFirst',
    restartPolicy: spec.restartPolicy || 'Always',
    securityContext: spec.securityContext ?? {},
    terminationGracePeriodSeconds: spec.terminationGracePeriodSeconds ?? DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS,
    schedulerName: spec.schedulerName || DEFAULT_SCHEDULER_NAME,
  };
  if (spec.initContainers) out.initContainers = spec.initContainers.map((c) => defaultContainer(c));
  if (spec.ephemeralContainers) out.ephemeralContainers = spec.ephemeralContainers.map((c) => defaultContainer(c));
  if (spec.volumes) out.volumes = spec.volumes.map(defaultVolume);
  const overhead = canonicalResourceList(spec.overhead);
  if (overhead) out.overhead = overhead;
  // serviceAccount is the deprecated spelling; upstream's conversion keeps both in step
  const sa = spec.serviceAccountName || spec.serviceAccount;
  if (sa) {
    out.serviceAccountName = sa;
    out.serviceAccount = sa;
  }
  return out;
}

export function defaultPodTemplateSpec(t: PodTemplateSpec): PodTemplateSpec {
  return { ...t, spec: defaultPodSpec(t.spec ?? ({} as PodSpec)) };
}

function defaultPodStatus(status: PodStatus | undefined, spec: PodSpec): PodStatus {
  const out: Mutable<PodStatus> = { ...(status ?? {}) };
  if (!out.phase) out.phase = 'Pending';
  if (!out.qosClass) out.qosClass = computePodQOS(spec);
  // podIP/podIPs (and hostIP/hostIPs) are two spellings of one fact; older writers set only the first
  if (out.podIP && (out.podIPs ?? []).length === 0) out.podIPs = [{ ip: out.podIP }];
  if (!out.podIP && out.podIPs?.[0]) out.podIP = out.podIPs[0].ip;
  if (out.hostIP && (out.hostIPs ?? []).length === 0) out.hostIPs = [{ ip: out.hostIP }];
  if (!out.hostIP && out.hostIPs?.[0]) out.hostIP = out.hostIPs[0].ip;
  return out;
}

/** Defaults of a Pod object: its spec's, the pod-only ones, and the status the create strategy sets. */
export function defaultPod(pod: Pod): Pod {
  const base = defaultPodSpec(pod.spec ?? ({} as PodSpec));
  const spec: Mutable<PodSpec> = {
    ...base,
    containers: base.containers.map((c) => defaultRequestsFromLimits(c)),
    enableServiceLinks: base.enableServiceLinks ?? true,
    serviceAccountName: base.serviceAccountName || 'default',
    serviceAccount: base.serviceAccount || base.serviceAccountName || 'default',
  };
  if (base.initContainers) spec.initContainers = base.initContainers.map((c) => defaultRequestsFromLimits(c));
  if (spec.hostNetwork) {
    spec.containers = spec.containers.map((c) => defaultHostNetworkPorts(c));
    if (spec.initContainers) spec.initContainers = spec.initContainers.map((c) => defaultHostNetworkPorts(c));
  }
  if (spec.priority === undefined) {
    if (!spec.priorityClassName) spec.priority = 0;
    else {
      const value = SYSTEM_PRIORITY_CLASSES[spec.priorityClassName];
      if (value !== undefined) spec.priority = value;
    }
  }
  if (spec.preemptionPolicy === undefined && spec.priority !== undefined) spec.preemptionPolicy = 'PreemptLowerPriority';
  return { ...pod, spec, status: defaultPodStatus(pod.status, spec) };
}


