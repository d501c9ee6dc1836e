/**
 * core/v1 Service: types and schema (k8s.io/api/core/v1 types.go). Ports merge by `port` in strategic
 * merge patches; clusterIPs, ipFamilies and externalIPs are replaced whole.
 */
import type { Condition, KubeObject, ObjectMeta } from '../meta.js';
import { conditionFields, objectMetaSchema, typeMetaFields } from '../meta-schema.js';
import { arrayOf, bool, int, intOrString, listByKey, mapOf, obj, str } from '../schema.js';
import type { ObjectSchema } from '../schema.js';
import type { IntOrString, Protocol } from './common.js';
import { enumOf, protocolSchema } from './container-schema.js';

export type ServiceType = 'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'ExternalName';
export type ServiceAffinity = 'None' | 'ClientIP';
export type IPFamily = 'IPv4' | 'IPv6';
export type IPFamilyPolicy = 'SingleStack' | 'PreferDualStack' | 'RequireDualStack';
export type TrafficPolicy = 'Cluster' | 'Local';

export const SERVICE_TYPES: readonly ServiceType[] = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'];
export const SESSION_AFFINITIES: readonly ServiceAffinity[] = ['ClientIP', 'None'];
export const IP_FAMILY_POLICIES: readonly IPFamilyPolicy[] = ['PreferDualStack', 'RequireDualStack', 'SingleStack'];
export const TRAFFIC_POLICIES: readonly TrafficPolicy[] = ['Cluster', 'Local'];

/** Upstream's default and maximum ClientIP affinity timeouts. */
export const DEFAULT_CLIENT_IP_AFFINITY_SECONDS = 10800;
export const MAX_CLIENT_IP_AFFINITY_SECONDS = 86400;

export interface ServicePort {
  readonly name?: string;
  readonly protocol?: Protocol;
  readonly appProtocol?: string;
  readonly port: number;
  readonly targetPort?: IntOrString;
  readonly nodePort?: number;
}

export interface SessionAffinityConfig {
  readonly clientIP?: { readonly timeoutSeconds?: number };
}

export interface ServiceSpec {
  readonly ports?: readonly ServicePort[];
  readonly selector?: Readonly<Record<string, string>>;
  readonly clusterIP?: string;
  readonly clusterIPs?: readonly string[];
  readonly type?: ServiceType;
  readonly externalIPs?: readonly string[];
  readonly sessionAffinity?: ServiceAffinity;
  readonly loadBalancerIP?: string;
  readonly loadBalancerSourceRanges?: readonly string[];
  readonly externalName?: string;
  readonly externalTrafficPolicy?: TrafficPolicy;
  readonly healthCheckNodePort?: number;
  readonly publishNotReadyAddresses?: boolean;
  readonly sessionAffinityConfig?: SessionAffinityConfig;
  readonly ipFamilies?: readonly IPFamily[];
  readonly ipFamilyPolicy?: IPFamilyPolicy;
  readonly allocateLoadBalancerNodePorts?: boolean;
  readonly loadBalancerClass?: string;
  readonly internalTrafficPolicy?: TrafficPolicy;
  readonly trafficDistribution?: string;
}

export interface PortStatus {
  readonly port: number;
  readonly protocol: Protocol;
  readonly error?: string;
}

export interface LoadBalancerIngress {
  readonly ip?: string;
  readonly hostname?: string;
  readonly ipMode?: 'VIP' | 'Proxy';
  readonly ports?: readonly PortStatus[];
}

export interface ServiceStatus {
  readonly loadBalancer?: { readonly ingress?: readonly LoadBalancerIngress[] };
  readonly conditions?: readonly Condition[];
}

export interface Service extends KubeObject {
  readonly apiVersion?: 'v1';
  readonly kind?: 'Service';
  readonly metadata: ObjectMeta;
  readonly spec?: ServiceSpec;
  readonly status?: ServiceStatus;
}

export const servicePortSchema: ObjectSchema = obj(
  {
    name: str('A DNS label; required and unique when the service has several ports.'),
    protocol: protocolSchema,
    appProtocol: str(),
    port: int('The port exposed by this service.'),
    targetPort: intOrString('Number or name of the port on the pods; defaults to port.'),
    nodePort: int('The port on each node for NodePort and LoadBalancer services.'),
  },
  { required: ['port'] },
);

const trafficPolicySchema = enumOf(TRAFFIC_POLICIES);

export const serviceSpecSchema: ObjectSchema = obj({
  ports: listByKey(servicePortSchema, 'port'),
  selector: mapOf(str()),
  clusterIP: str(),
  clusterIPs: arrayOf(str()),
  type: enumOf(SERVICE_TYPES),
  externalIPs: arrayOf(str()),
  sessionAffinity: enumOf(SESSION_AFFINITIES),
  loadBalancerIP: str(),
  loadBalancerSourceRanges: arrayOf(str()),
  externalName: str(),
  externalTrafficPolicy: trafficPolicySchema,
  healthCheckNodePort: int(),
  publishNotReadyAddresses: bool(),
  sessionAffinityConfig: obj({ clientIP: obj({ timeoutSeconds: int() }) }),
  ipFamilies: arrayOf(enumOf(['IPv4', 'IPv6'])),
  ipFamilyPolicy: enumOf(IP_FAMILY_POLICIES),
  allocateLoadBalancerNodePorts: bool(),
  loadBalancerClass: str(),
  internalTrafficPolicy: trafficPolicySchema,
  trafficDistribution: str(),
});

export const serviceStatusSchema: ObjectSchema = obj({
  loadBalancer: obj({
    ingress: arrayOf(
      obj({
        ip: str(),
        hostname: str(),
        ipMode: enumOf(['VIP', 'Proxy']),
        ports: arrayOf(obj({ port: int(), protocol: protocolSchema, error: str() }, { required: ['port', 'protocol'] })),
      }),
    ),
  }),
  conditions: listByKey(obj(conditionFields, { required: ['type', 'status'] }), 'type'),
});

export const serviceSchema: ObjectSchema = obj({
  ...typeMetaFields,
  metadata: objectMetaSchema,
  spec: serviceSpecSchema,
  status: serviceStatusSchema,
});

/** NodePort, LoadBalancer, or ClusterIP with externalIPs: reachable from outside the cluster. */
export function isExternallyAccessible(spec: ServiceSpec): boolean {
  const type = spec.type ?? 'ClusterIP';
  return type === 'LoadBalancer' || type === 'NodePort' || (type === 'ClusterIP' && (spec.externalIPs ?? []).length > 0);
}

export function isHeadlessService(spec: ServiceSpec): boolean {
  const ips = (spec.clusterIPs ?? []).length > 0 ? (spec.clusterIPs ?? []) : spec.clusterIP ? [spec.clusterIP] : [];
  return ips.length === 1 && ips[0] === 'None';
}
