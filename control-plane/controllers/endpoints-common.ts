/**
 * What the Endpoints and EndpointSlice controllers share (upstream k8s.io/endpointslice/util and
 * pkg/api/v1/pod): which pods belong in a Service's endpoints, their readiness, how a Service port's
 * targetPort resolves on one pod, and which pod changes matter. Pure.
 */
import type { IPFamily, Service, ServicePort } from '../../api/core/service-types.js';
import type { Pod } from '../../api/core/pod-types.js';
import type { Protocol } from '../../api/core/common.js';
import { ipFamilyOf } from '../../api/core/ip.js';
import { matches, selectorFromMap } from '../../api/labels.js';
import { ClientApiError } from '../../lib/client/errors.js';

/** Pod condition Ready is True (upstream podutil.IsPodReady). */
export function isPodReady(pod: Pod): boolean {
  return (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

/** Succeeded or Failed: its containers will never run again. */
export function isPodTerminal(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase === 'Succeeded' || phase === 'Failed';
}

/** The pod's IPs: status.podIPs, or status.podIP for writers that set only that. */
export function podIPs(pod: Pod): string[] {
  const ips = (pod.status?.podIPs ?? []).map((p) => p.ip).filter((ip) => ip !== '');
  if (ips.length > 0) return ips;
  const ip = pod.status?.podIP;
  return ip !== undefined && ip !== '' ? [ip] : [];
}

/**
 * Upstream ShouldPodBeInEndpoints: not terminal, has an IP, and not terminating unless
 * `includeTerminating` (EndpointSlices always include terminating pods, flagged; Endpoints only with
 * publishNotReadyAddresses).
 */
export function shouldPodBeInEndpoints(pod: Pod, includeTerminating: boolean): boolean {
  if (isPodTerminal(pod)) return false;
  if (podIPs(pod).length === 0) return false;
  if (!includeTerminating && pod.metadata.deletionTimestamp !== undefined) return false;
  return true;
}

/** A Service the endpoint controllers manage: it has a selector and is not ExternalName. */
export function hasManagedEndpoints(svc: Service): boolean {
  return svc.spec?.selector !== undefined && svc.spec.type !== 'ExternalName';
}

/** The Service's selector matches the pod's labels, in the same namespace. */
export function serviceSelectsPod(svc: Service, pod: Pod): boolean {
  if (!hasManagedEndpoints(svc) || svc.metadata.namespace !== pod.metadata.namespace) return false;
  return matches(selectorFromMap(svc.spec?.selector), pod.metadata.labels);
}

/** Upstream IsServiceIPSet: a cluster IP other than None. */
export function isServiceIPSet(svc: Service): boolean {
  const ip = svc.spec?.clusterIP;
  return ip !== undefined && ip !== '' && ip !== 'None';
}

/** The address families a Service's endpoints carry: spec.ipFamilies, else that of its cluster IP, else IPv4. */
export function serviceIPFamilies(svc: Service): IPFamily[] {
  const families = svc.spec?.ipFamilies ?? [];
  if (families.length > 0) return [...families];
  const fromIP = isServiceIPSet(svc) ? ipFamilyOf(svc.spec?.clusterIP ?? '') : undefined;
  return [fromIP ?? 'IPv4'];
}

/**
 * Upstream FindPort: a numeric targetPort is used as is; a named one is looked up among the pod's
 * container ports (and sidecar init containers') with the Service port's protocol. Undefined when the
 * name is not found (the pod then offers no endpoint for that Service port).
 */
export function findPort(pod: Pod, sp: ServicePort): number | undefined {
  const target = sp.targetPort === undefined || sp.targetPort === 0 || sp.targetPort === '' ? sp.port : sp.targetPort;
  if (typeof target === 'number') return target;
  if (/^[0-9]+$/.test(target)) return Number(target);
  const protocol: Protocol = sp.protocol ?? 'TCP';
  const containers = [...pod.spec.containers, ...(pod.spec.initContainers ?? []).filter((c) => c.restartPolicy === 'Always')];
  for (const c of containers) {
    for (const p of c.ports ?? []) {
      if (p.name === target && (p.protocol ?? 'TCP') === protocol) return p.containerPort;
    }
  }
  return undefined;
}

/** Upstream ShouldSetHostname: the pod names this Service as its subdomain and has a hostname. */
export function shouldSetHostname(pod: Pod, svc: Service): boolean {
  const h = pod.spec.hostname;
  return h !== undefined && h !== '' && pod.spec.subdomain === svc.metadata.name && pod.metadata.namespace === svc.metadata.namespace;
}

/**
 * What of a pod the endpoint controllers read, apart from its labels: a pod update that leaves this
 * unchanged (an annotation, a container restart count) queues no Service.
 */
export function podEndpointFingerprint(pod: Pod): string {
  return JSON.stringify([
    pod.metadata.uid,
    podIPs(pod),
    isPodReady(pod),
    isPodTerminal(pod),
    pod.metadata.deletionTimestamp ?? '',
    pod.spec.nodeName ?? '',
    pod.spec.hostname ?? '',
    pod.spec.subdomain ?? '',
    pod.spec.containers.map((c) => c.ports ?? []),
  ]);
}

/** Sort helper: by namespace/name. */
export function byPodName(a: Pod, b: Pod): number {
  const ka = `${a.metadata.namespace ?? ''}/${a.metadata.name ?? ''}`;
  const kb = `${b.metadata.namespace ?? ''}/${b.metadata.name ?? ''}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

/**
 * A create refused because the namespace is going away (upstream checks the NamespaceTerminating
 * status cause; knode's NamespaceLifecycle answers 403 Forbidden, with that cause where it sets one).
 * Such a write is dropped, not retried: the namespace's deletion removes the Service too.
 */
export function isNamespaceTerminatingError(err: unknown): boolean {
  if (!(err instanceof ClientApiError) || err.httpCode !== 403) return false;
  const causes = err.status.details?.causes ?? [];
  return causes.length === 0 || causes.some((c) => c.reason === 'NamespaceTerminating');
}
