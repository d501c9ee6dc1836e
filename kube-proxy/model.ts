/**
 * The proxy's input state as plain data: one `ServicePortInfo` per (Service, port name, protocol) and
 * the `Endpoint`s behind it, derived from Services, EndpointSlices and the node's name. Everything here
 * is pure; the rule builders (nftables/, later iptables/) read only these types, never API objects.
 *
 * Upstream's rules, applied here so both modes agree:
 * - ExternalName Services, headless ones (`clusterIP: None`) and Services without a cluster IP get no
 *   rules at all.
 * - An endpoint is used when Ready; when no endpoint is Ready, the ones Serving and Terminating are
 *   used instead (so a rolling update's last replica keeps answering while it drains).
 * - internalTrafficPolicy Local: traffic to the cluster IP goes only to endpoints on this node.
 * - externalTrafficPolicy Local (only meaningful for externally reachable Services: NodePort,
 *   LoadBalancer, externalIPs): external traffic goes only to endpoints on this node and keeps its
 *   source address. With no local endpoint that traffic is dropped, not sent elsewhere.
 * - Unknown conditions (absent) count as ready and serving, not terminating.
 * - Only the first address of an endpoint is used; an endpoint listed in several slices is used once,
 *   its most usable copy winning.
 */
import type { Protocol } from '../api/core/common.js';
import type { Service, TrafficPolicy } from '../api/core/service-types.js';
import { DEFAULT_CLIENT_IP_AFFINITY_SECONDS, isHeadlessService } from '../api/core/service-types.js';
import type { EndpointSlice } from '../api/discovery/endpointslice.js';

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

export type SessionAffinity =
  | { readonly type: 'None' }
  | { readonly type: 'ClientIP'; readonly timeoutSeconds: number };

export interface ServicePortInfo {
  /** `namespace/name/protocol/portName` (portName may be ""): stable across spec changes of the port. */
  readonly key: string;
  readonly namespace: string;
  readonly name: string;
  readonly portName: string;
  readonly protocol: Protocol;
  readonly port: number;
  /** Every cluster IP (IPv4 and IPv6); the ip-family table uses the IPv4 ones. */
  readonly clusterIPs: readonly string[];
  /** 0 when the Service has no node port. */
  readonly nodePort: number;
  readonly externalIPs: readonly string[];
  /** status.loadBalancer.ingress IPs in VIP mode (Proxy mode ingresses are the load balancer's job). */
  readonly loadBalancerIPs: readonly string[];
  readonly sessionAffinity: SessionAffinity;
  /** Cluster unless the Service is externally reachable and asks for Local. */
  readonly externalTrafficPolicy: TrafficPolicy;
  readonly internalTrafficPolicy: TrafficPolicy;
  /** 0 unless externalTrafficPolicy is Local on a LoadBalancer Service. */
  readonly healthCheckNodePort: number;
}

export interface Endpoint {
  readonly ip: string;
  readonly port: number;
  readonly ready: boolean;
  readonly serving: boolean;
  readonly terminating: boolean;
  readonly nodeName?: string;
  /** On the node the proxy runs on. */
  readonly isLocal: boolean;
}

/** Everything a rule builder needs, keyed by `ServicePortInfo.key`. */
export interface ProxyState {
  readonly services: ReadonlyMap<string, ServicePortInfo>;
  /** All endpoints of a service port (selection by readiness and policy happens in the builder). */
  readonly endpoints: ReadonlyMap<string, readonly Endpoint[]>;
}

export function servicePortKey(namespace: string, name: string, protocol: Protocol, portName: string): string {
  return `${namespace}/${name}/${protocol.toLowerCase()}/${portName}`;
}

/** NodePort, LoadBalancer or externalIPs: reachable from outside the cluster. */
export function isExternallyReachable(sp: ServicePortInfo): boolean {
  return sp.nodePort > 0 || sp.externalIPs.length > 0 || sp.loadBalancerIPs.length > 0;
}

/** The service ports the proxy programs for one Service; [] for the kinds it ignores. */
export function servicePortsFromService(svc: Service): ServicePortInfo[] {
  const spec = svc.spec;
  if (spec === undefined) return [];
  const type = spec.type ?? 'ClusterIP';
  if (type === 'ExternalName' || isHeadlessService(spec)) return [];
  const clusterIPs = (spec.clusterIPs ?? []).length > 0 ? [...(spec.clusterIPs ?? [])] : spec.clusterIP ? [spec.clusterIP] : [];
  if (clusterIPs.length === 0 || clusterIPs.includes('None')) return [];
  const namespace = svc.metadata.namespace ?? 'default';
  const name = svc.metadata.name ?? '';
  const hasNodePorts = type === 'NodePort' || type === 'LoadBalancer';
  const loadBalancerIPs =
    type === 'LoadBalancer'
      ? (svc.status?.loadBalancer?.ingress ?? []).filter((i) => i.ip !== undefined && i.ip !== '' && i.ipMode !== 'Proxy').map((i) => i.ip ?? '')
      : [];
  const externalIPs = [...(spec.externalIPs ?? [])];
  const sessionAffinity: SessionAffinity =
    spec.sessionAffinity === 'ClientIP'
      ? { type: 'ClientIP', timeoutSeconds: spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? DEFAULT_CLIENT_IP_AFFINITY_SECONDS }
      : { type: 'None' };
  const internalTrafficPolicy = spec.internalTrafficPolicy ?? 'Cluster';
  return (spec.ports ?? []).map((p): ServicePortInfo => {
    const protocol = p.protocol ?? 'TCP';
    const portName = p.name ?? '';
    const nodePort = hasNodePorts ? (p.nodePort ?? 0) : 0;
    const reachable = nodePort > 0 || externalIPs.length > 0 || loadBalancerIPs.length > 0;
    const externalTrafficPolicy = reachable && spec.externalTrafficPolicy === 'Local' ? 'Local' : 'Cluster';
    return {
      key: servicePortKey(namespace, name, protocol, portName),
      namespace,
      name,
      portName,
      protocol,
      port: p.port,
      clusterIPs,
      nodePort,
      externalIPs,
      loadBalancerIPs,
      sessionAffinity,
      externalTrafficPolicy,
      internalTrafficPolicy,
      healthCheckNodePort: type === 'LoadBalancer' && externalTrafficPolicy === 'Local' ? (spec.healthCheckNodePort ?? 0) : 0,
    };
  });
}

/** Higher is more usable: ready beats serving+terminating beats anything else. */
function usability(ep: Endpoint): number {
  return ep.ready ? 2 : ep.serving && ep.terminating ? 1 : 0;
}

/**
 * The endpoints of `svcPort` in `slices` (slices of other Services, other namespaces, FQDN or IPv6
 * address types, and slices without the port are skipped). The port is resolved per slice by name
 * and protocol, which is how a named targetPort resolves to different numbers on different pods.
 */
export function endpointsFromSlices(slices: readonly EndpointSlice[], svcPort: ServicePortInfo, nodeName: string): Endpoint[] {
  const byAddr = new Map<string, Endpoint>();
  for (const slice of slices) {
    if (slice.addressType !== 'IPv4') continue;
    if ((slice.metadata.namespace ?? 'default') !== svcPort.namespace) continue;
    if (slice.metadata.labels?.[SERVICE_NAME_LABEL] !== svcPort.name) continue;
    const port = (slice.ports ?? []).find((p) => (p.name ?? '') === svcPort.portName && (p.protocol ?? 'TCP') === svcPort.protocol);
    if (port?.port === undefined) continue;
    for (const e of slice.endpoints ?? []) {
      const ip = e.addresses[0];
      if (ip === undefined) continue;
      const ready = e.conditions?.ready ?? true;
      const ep: Endpoint = {
        ip,
        port: port.port,
        ready,
        serving: e.conditions?.serving ?? ready,
        terminating: e.conditions?.terminating ?? false,
        ...(e.nodeName !== undefined ? { nodeName: e.nodeName } : {}),
        isLocal: e.nodeName !== undefined && e.nodeName === nodeName,
      };
      const id = `${ip}:${port.port}`;
      const seen = byAddr.get(id);
      if (seen === undefined || usability(ep) > usability(seen)) byAddr.set(id, ep);
    }
  }
  return [...byAddr.values()].sort(compareEndpoints);
}

export function compareEndpoints(a: Endpoint, b: Endpoint): number {
  return compareIPv4(a.ip, b.ip) || a.port - b.port;
}

/** Numeric order for dotted quads (string order would put 10.0.0.10 before 10.0.0.9). */
export function compareIPv4(a: string, b: string): number {
  const pa = a.split('.');
  const pb = b.split('.');
  for (let i = 0; i < 4; i++) {
    const d = Number(pa[i] ?? 0) - Number(pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Which endpoints each kind of traffic may use. */
export interface EndpointSelection {
  /** For traffic to the cluster IPs (internalTrafficPolicy applied). */
  readonly internal: readonly Endpoint[];
  /** For traffic to node ports, external IPs and load-balancer IPs (externalTrafficPolicy applied). */
  readonly external: readonly Endpoint[];
  /** Cluster-wide usable endpoints (ready, or serving+terminating when none is ready). */
  readonly cluster: readonly Endpoint[];
  /** Usable endpoints on this node (same fallback, applied among local ones only). */
  readonly local: readonly Endpoint[];
  /** Whether any usable endpoint exists anywhere: without one, traffic is rejected, not dropped. */
  readonly hasAny: boolean;
}

function usable(eps: readonly Endpoint[]): Endpoint[] {
  const ready = eps.filter((e) => e.ready);
  return ready.length > 0 ? ready : eps.filter((e) => e.serving && e.terminating);
}

/** Upstream's categorisation of endpoints by readiness and traffic policies. */
export function selectEndpoints(sp: ServicePortInfo, endpoints: readonly Endpoint[]): EndpointSelection {
  const cluster = usable(endpoints);
  const local = usable(endpoints.filter((e) => e.isLocal));
  return {
    internal: sp.internalTrafficPolicy === 'Local' ? local : cluster,
    external: sp.externalTrafficPolicy === 'Local' ? local : cluster,
    cluster,
    local,
    hasAny: cluster.length > 0,
  };
}

export const isIPv4 = (ip: string): boolean => /^\d{1,3}(\.\d{1,3}){3}$/.test(ip);

/** The decisions both rule builders (nftables, iptables) take for one service port before writing rules. */
export interface ServicePortPlan {
  /** Its IPv4 cluster IPs (the proxy programs the ip family only). */
  readonly clusterIPs: readonly string[];
  readonly proto: 'tcp' | 'udp' | 'sctp';
  readonly sel: EndpointSelection;
  /** Node ports, external IPs or load-balancer IPs exist. */
  readonly reachable: boolean;
  /** ClientIP affinity timeout in seconds, 0 without affinity. */
  readonly affinity: number;
  readonly internalLocal: boolean;
  readonly externalLocal: boolean;
  /** Some traffic goes to all endpoints / only to this node's. */
  readonly usesCluster: boolean;
  readonly usesLocal: boolean;
}

/** The plan for `sp`, or undefined when it has no IPv4 cluster IP (nothing to program). */
export function planServicePort(sp: ServicePortInfo, endpoints: readonly Endpoint[]): ServicePortPlan | undefined {
  const clusterIPs = sp.clusterIPs.filter(isIPv4);
  if (clusterIPs.length === 0) return undefined;
  const reachable = isExternallyReachable(sp);
  const internalLocal = sp.internalTrafficPolicy === 'Local';
  const externalLocal = reachable && sp.externalTrafficPolicy === 'Local';
  return {
    clusterIPs,
    proto: sp.protocol === 'UDP' ? 'udp' : sp.protocol === 'SCTP' ? 'sctp' : 'tcp',
    sel: selectEndpoints(sp, endpoints),
    reachable,
    affinity: sp.sessionAffinity.type === 'ClientIP' ? sp.sessionAffinity.timeoutSeconds : 0,
    internalLocal,
    externalLocal,
    usesCluster: !internalLocal || (reachable && !externalLocal),
    usesLocal: internalLocal || externalLocal,
  };
}

/** What the health-check node port reports for an externalTrafficPolicy Local Service. */
export function localEndpointCount(sp: ServicePortInfo, endpoints: readonly Endpoint[]): number {
  return selectEndpoints(sp, endpoints).local.length;
}

/** Builds a ProxyState from the API objects (handy for tests and for a first full sync). */
export function buildProxyState(services: readonly Service[], slices: readonly EndpointSlice[], nodeName: string): ProxyState {
  const svcMap = new Map<string, ServicePortInfo>();
  const epMap = new Map<string, readonly Endpoint[]>();
  const slicesBySvc = new Map<string, EndpointSlice[]>();
  for (const s of slices) {
    const id = `${s.metadata.namespace ?? 'default'}/${s.metadata.labels?.[SERVICE_NAME_LABEL] ?? ''}`;
    const list = slicesBySvc.get(id) ?? [];
    list.push(s);
    slicesBySvc.set(id, list);
  }
  for (const svc of services) {
    for (const sp of servicePortsFromService(svc)) {
      svcMap.set(sp.key, sp);
      epMap.set(sp.key, endpointsFromSlices(slicesBySvc.get(`${sp.namespace}/${sp.name}`) ?? [], sp, nodeName));
    }
  }
  return { services: svcMap, endpoints: epMap };
}
