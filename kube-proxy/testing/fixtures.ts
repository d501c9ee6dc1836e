/**
 * Builders for kube-proxy tests: Services and EndpointSlices as the apiserver would hand them over.
 *
 * IP plan (the lab's ranges; nothing here is ever configured on a host):
 *   10.244.0.0/16   cluster (pod) CIDR; this node's pods 10.244.1.0/24, the other node's 10.244.2.0/24
 *   10.96.0.0/12    Service cluster IPs
 *   192.168.50.10   this node ("node-a"); 192.168.50.11 the other node ("node-b")
 *   198.51.100.0/24 external and load-balancer IPs;  203.0.113.7 a client outside the cluster
 */
import type { Service, ServicePort, ServiceSpec } from '../../api/core/service-types.js';
import type { Endpoint as SliceEndpoint, EndpointConditions, EndpointSlice } from '../../api/discovery/endpointslice.js';
import type { ProxyState } from '../model.js';
import { buildProxyState, SERVICE_NAME_LABEL } from '../model.js';
import type { RulesetOptions } from '../nftables/ruleset.js';

export const CLUSTER_CIDR = '10.244.0.0/16';
export const NODE = 'node-a';
export const OTHER_NODE = 'node-b';
export const NODE_IP = '192.168.50.10';
export const OTHER_NODE_IP = '192.168.50.11';
export const EXTERNAL_CLIENT = '203.0.113.7';

export const OPTS: RulesetOptions = { clusterCIDR: CLUSTER_CIDR, nodeIPs: [NODE_IP] };

export function service(name: string, spec: Partial<ServiceSpec> & { ports: readonly ServicePort[] }, status?: Service['status']): Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { namespace: 'default', name },
    spec: { type: 'ClusterIP', sessionAffinity: 'None', ...spec },
    ...(status !== undefined ? { status } : {}),
  };
}

export interface EndpointSpec {
  readonly ip: string;
  readonly node?: string;
  readonly conditions?: EndpointConditions;
}

/** One slice of `service` with the given ports (name -> port number) and endpoints. */
export function slice(
  svcName: string,
  ports: readonly { name?: string; port: number; protocol?: 'TCP' | 'UDP' | 'SCTP' }[],
  endpoints: readonly EndpointSpec[],
  sliceName = `${svcName}-abc`,
): EndpointSlice {
  return {
    metadata: { namespace: 'default', name: sliceName, labels: { [SERVICE_NAME_LABEL]: svcName } },
    addressType: 'IPv4',
    ports: ports.map((p) => ({ name: p.name ?? '', port: p.port, protocol: p.protocol ?? 'TCP' })),
    endpoints: endpoints.map(
      (e): SliceEndpoint => ({
        addresses: [e.ip],
        conditions: e.conditions ?? { ready: true, serving: true, terminating: false },
        nodeName: e.node ?? NODE,
      }),
    ),
  };
}

export function state(services: readonly Service[], slices: readonly EndpointSlice[] = []): ProxyState {
  return buildProxyState(services, slices, NODE);
}

/** `n` ClusterIP Services, each with one TCP port 80 -> 8080 and `eps` endpoints (for scale tests). */
export function manyServices(n: number, eps: number): { services: Service[]; slices: EndpointSlice[] } {
  const services: Service[] = [];
  const slices: EndpointSlice[] = [];
  for (let i = 0; i < n; i++) {
    const name = `svc-${i}`;
    services.push(service(name, { clusterIP: `10.96.${(i >> 8) & 255}.${i & 255}`, ports: [{ name: 'http', port: 80, targetPort: 8080 }] }));
    const endpoints: EndpointSpec[] = [];
    for (let e = 0; e < eps; e++) {
      const k = i * eps + e;
      endpoints.push({ ip: `10.244.${1 + ((k >> 8) & 127)}.${k & 255}`, node: e % 2 === 0 ? NODE : OTHER_NODE });
    }
    slices.push(slice(name, [{ name: 'http', port: 8080 }], endpoints));
  }
  return { services, slices };
}

/** The proxier tests' two Services on the other node: web (TCP 80 -> 8080) and dns (UDP 53 -> 5353). */
export const web = service('web', { clusterIP: '10.96.0.20', ports: [{ name: 'http', port: 80, targetPort: 8080 }] });
export const webSlice = (...ips: string[]): EndpointSlice => slice('web', [{ name: 'http', port: 8080 }], ips.map((ip) => ({ ip, node: OTHER_NODE })));
export const dns = service('dns', { clusterIP: '10.96.0.10', ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] });
export const dnsSlice = (...ips: string[]): EndpointSlice => slice('dns', [{ name: 'dns', port: 5353, protocol: 'UDP' }], ips.map((ip) => ({ ip, node: OTHER_NODE })));
