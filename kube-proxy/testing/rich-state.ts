/**
 * One state with every feature at once (TCP+UDP on one port, multiport, NodePort, affinity, no
 * endpoints, internal and external traffic policy Local, external and LB IPs), and the changes the
 * partial-sync tests walk through. `web` is the Service the steps change.
 */
import type { Service } from '../../api/core/service-types.js';
import type { EndpointSlice } from '../../api/discovery/endpointslice.js';
import type { ProxyState } from '../model.js';
import { OTHER_NODE, service, slice, state } from './fixtures.js';

/** Pods in 10.244.2.0/24 run on the other node. */
export const eps = (name: string, ports: Parameters<typeof slice>[1], ...ips: string[]): EndpointSlice =>
  slice(name, ports, ips.map((ip) => ({ ip, node: ip.startsWith('10.244.2.') ? OTHER_NODE : 'node-a' })));

const dnsPorts = [
  { name: 'dns', port: 53, protocol: 'UDP' as const },
  { name: 'dns-tcp', port: 53, protocol: 'TCP' as const },
];

export type ServiceSpecExtra = Partial<NonNullable<Service['spec']>>;

const web = (extra: ServiceSpecExtra = {}): Service =>
  service('web', { type: 'NodePort', clusterIP: '10.96.0.10', ports: [{ name: 'http', port: 80, nodePort: 30080 }], ...extra });

export function richState(webExtra: ServiceSpecExtra = {}, webIPs: readonly string[] = ['10.244.1.5', '10.244.2.7']): ProxyState {
  return state(
    [
      service('dns', { clusterIP: '10.96.0.53', ports: dnsPorts }),
      service('multi', { clusterIP: '10.96.0.20', ports: [{ name: 'http', port: 80 }, { name: 'metrics', port: 9100 }] }),
      web(webExtra),
      service('sticky', { clusterIP: '10.96.0.40', sessionAffinity: 'ClientIP', ports: [{ name: 'http', port: 80 }] }),
      service('empty', { type: 'NodePort', clusterIP: '10.96.0.50', ports: [{ name: 'udp', port: 5000, protocol: 'UDP', nodePort: 30500 }] }),
      service('itp', { clusterIP: '10.96.0.51', internalTrafficPolicy: 'Local', ports: [{ name: 'http', port: 80 }] }),
      service(
        'lb',
        { type: 'LoadBalancer', clusterIP: '10.96.0.60', externalTrafficPolicy: 'Local', externalIPs: ['198.51.100.5'], ports: [{ name: 'https', port: 443, nodePort: 30443 }] },
        { loadBalancer: { ingress: [{ ip: '198.51.100.6' }] } },
      ),
    ],
    [
      eps('dns', dnsPorts, '10.244.1.10', '10.244.2.10'),
      eps('multi', [{ name: 'http', port: 8080 }, { name: 'metrics', port: 9100 }], '10.244.1.20', '10.244.2.20', '10.244.1.21'),
      eps('web', [{ name: 'http', port: 8080 }], ...webIPs),
      eps('sticky', [{ name: 'http', port: 8080 }], '10.244.1.40', '10.244.2.40'),
      slice('itp', [{ name: 'http', port: 8080 }], [{ ip: '10.244.2.51', node: OTHER_NODE }]),
      eps('lb', [{ name: 'https', port: 8443 }], '10.244.1.60', '10.244.2.60'),
    ],
  );
}

/** Changes to `web`, each a state after the previous one; the last deletes every Service. */
export const RICH_STEPS: readonly (readonly [string, ProxyState])[] = [
  ['endpoint replaced', richState({}, ['10.244.1.5', '10.244.2.8'])],
  ['affinity on', richState({ sessionAffinity: 'ClientIP' }, ['10.244.1.5', '10.244.2.8'])],
  ['affinity timeout changed', richState({ sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 30 } } }, ['10.244.1.5', '10.244.2.8'])],
  ['externalTrafficPolicy Local', richState({ externalTrafficPolicy: 'Local' }, ['10.244.1.5', '10.244.2.8'])],
  ['no endpoints (rules move to filter)', richState({}, [])],
  ['only a remote endpoint under Local (reject becomes drop)', richState({ externalTrafficPolicy: 'Local' }, ['10.244.2.9'])],
  ['endpoints back', richState({}, ['10.244.1.5'])],
  ['Service deleted', state([], [])],
];
