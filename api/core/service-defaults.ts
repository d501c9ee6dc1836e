/**
 * Service defaulting (upstream SetDefaults_Service plus what the service REST storage normalizes before
 * allocation) and the update preparation upstream's service storage does (patchAllocatedValues,
 * dropTypeDependentFields), exported for the apiserver as `prepareServiceUpdate`.
 *
 * knode runs single-stack clusters: a service that needs a cluster IP gets ipFamilies [IPv4] (or [IPv6]
 * when its clusterIP is IPv6) and ipFamilyPolicy SingleStack. Allocation itself is the apiserver's job.
 */
import type { Mutable } from '../meta.js';
import { ipFamilyOf } from './ip.js';
import type { IPFamily, Service, ServicePort, ServiceSpec } from './service-types.js';
import { DEFAULT_CLIENT_IP_AFFINITY_SECONDS, isExternallyAccessible } from './service-types.js';

function defaultPort(p: ServicePort): ServicePort {
  const protocol = p.protocol || 'TCP';
  const target = p.targetPort;
  const targetPort = target === undefined || target === 0 || target === '' ? p.port : target;
  return { ...p, protocol, targetPort };
}

export function defaultServiceSpec(spec: ServiceSpec): ServiceSpec {
  const out: Mutable<ServiceSpec> = { ...spec };
  out.type = spec.type || 'ClusterIP';
  out.sessionAffinity = spec.sessionAffinity || 'None';
  if (out.sessionAffinity === 'None') delete out.sessionAffinityConfig;
  if (out.sessionAffinity === 'ClientIP' && spec.sessionAffinityConfig?.clientIP?.timeoutSeconds === undefined) {
    out.sessionAffinityConfig = { clientIP: { timeoutSeconds: DEFAULT_CLIENT_IP_AFFINITY_SECONDS } };
  }
  if (spec.ports) out.ports = spec.ports.map(defaultPort);
  if (isExternallyAccessible(out) && !out.externalTrafficPolicy) out.externalTrafficPolicy = 'Cluster';
  if (out.internalTrafficPolicy === undefined && out.type !== 'ExternalName') out.internalTrafficPolicy = 'Cluster';
  if (out.type === 'LoadBalancer' && out.allocateLoadBalancerNodePorts === undefined) out.allocateLoadBalancerNodePorts = true;
  if (out.type !== 'ExternalName') {
    // clusterIP and clusterIPs[0] are one value; clients may set either
    if (out.clusterIP && (out.clusterIPs ?? []).length === 0) out.clusterIPs = [out.clusterIP];
    else if (!out.clusterIP && out.clusterIPs?.[0]) out.clusterIP = out.clusterIPs[0];
    if ((out.ipFamilies ?? []).length === 0) {
      const families = (out.clusterIPs ?? []).map(ipFamilyOf).filter((f): f is IPFamily => f !== undefined);
      out.ipFamilies = families.length > 0 ? families : ['IPv4'];
    }
    if (out.ipFamilyPolicy === undefined) out.ipFamilyPolicy = (out.ipFamilies ?? []).length > 1 ? 'RequireDualStack' : 'SingleStack';
  }
  return out;
}

export function defaultService(svc: Service): Service {
  const spec = defaultServiceSpec(svc.spec ?? {});
  const ingress = svc.status?.loadBalancer?.ingress;
  if (spec.type === 'LoadBalancer' && ingress) {
    // upstream's LoadBalancerIPMode defaulting: an ingress IP is a VIP unless the provider says Proxy
    const withMode = ingress.map((i) => (i.ip && i.ipMode === undefined ? { ...i, ipMode: 'VIP' as const } : i));
    return { ...svc, spec, status: { ...svc.status, loadBalancer: { ...svc.status?.loadBalancer, ingress: withMode } } };
  }
  return { ...svc, spec };
}

const needsClusterIP = (s: ServiceSpec): boolean => (s.type ?? 'ClusterIP') !== 'ExternalName';
const needsNodePort = (s: ServiceSpec): boolean =>
  s.type === 'NodePort' || (s.type === 'LoadBalancer' && s.allocateLoadBalancerNodePorts !== false);
const needsHCNodePort = (s: ServiceSpec): boolean => s.type === 'LoadBalancer' && s.externalTrafficPolicy === 'Local';
const sameList = (a: readonly unknown[] | undefined, b: readonly unknown[] | undefined): boolean =>
  (a ?? []).length === (b ?? []).length && (a ?? []).every((x, i) => x === (b ?? [])[i]);

/**
 * What upstream's service storage does to an update before validation: keep allocated values the client
 * left out (clusterIP, nodePorts, healthCheckNodePort) and drop the ones the new type no longer uses,
 * when the client did not change them (ClusterIP -> ExternalName releases the cluster IP). Pure.
 */
export function prepareServiceUpdate(svc: Service, old: Service): Service {
  const next: Mutable<ServiceSpec> = { ...(svc.spec ?? {}) };
  const prev = old.spec ?? {};
  if (needsClusterIP(prev) && needsClusterIP(next)) {
    if (!next.clusterIP && prev.clusterIP) next.clusterIP = prev.clusterIP;
    if ((next.clusterIPs ?? []).length === 0 && prev.clusterIPs && prev.clusterIPs.length > 0) next.clusterIPs = prev.clusterIPs;
  }
  if (needsNodePort(prev) && needsNodePort(next) && next.ports) {
    const used = new Set((next.ports ?? []).map((p) => p.nodePort ?? 0).filter((n) => n !== 0));
    const byName = new Map((prev.ports ?? []).map((p) => [p.name ?? '', p.nodePort ?? 0]));
    next.ports = next.ports.map((p) => {
      const oldPort = byName.get(p.name ?? '') ?? 0;
      return !p.nodePort && oldPort !== 0 && !used.has(oldPort) ? { ...p, nodePort: oldPort } : p;
    });
  }
  if (needsHCNodePort(prev) && needsHCNodePort(next) && !next.healthCheckNodePort && prev.healthCheckNodePort) {
    next.healthCheckNodePort = prev.healthCheckNodePort;
  }
  if (needsClusterIP(prev) && !needsClusterIP(next)) {
    if ((next.clusterIP ?? '') === (prev.clusterIP ?? '') && sameList(next.clusterIPs, prev.clusterIPs)) {
      delete next.clusterIP;
      delete next.clusterIPs;
    }
    if (sameList(next.ipFamilies, prev.ipFamilies)) delete next.ipFamilies;
    if (next.ipFamilyPolicy === prev.ipFamilyPolicy) delete next.ipFamilyPolicy;
  }
  if (needsNodePort(prev) && !needsNodePort(next) && next.ports) {
    const same = sameList(
      next.ports.map((p) => p.nodePort ?? 0),
      (prev.ports ?? []).map((p) => p.nodePort ?? 0),
    );
    if (same) next.ports = next.ports.map(({ nodePort: _n, ...p }) => p);
  }
  if (needsHCNodePort(prev) && !needsHCNodePort(next) && next.healthCheckNodePort === prev.healthCheckNodePort) {
    delete next.healthCheckNodePort;
  }
  if (prev.type === 'LoadBalancer' && next.type !== 'LoadBalancer') {
    if (next.allocateLoadBalancerNodePorts !== undefined && next.allocateLoadBalancerNodePorts === prev.allocateLoadBalancerNodePorts) {
      delete next.allocateLoadBalancerNodePorts;
    }
    if (next.loadBalancerClass === prev.loadBalancerClass) delete next.loadBalancerClass;
  }
  if (isExternallyAccessible(prev) && !isExternallyAccessible(next) && next.externalTrafficPolicy === prev.externalTrafficPolicy) {
    delete next.externalTrafficPolicy;
  }
  const out: Service = { ...svc, spec: next };
  if (next.type !== 'LoadBalancer' && svc.status?.loadBalancer !== undefined) {
    return { ...out, status: { ...svc.status, loadBalancer: {} } };
  }
  return out;
}
