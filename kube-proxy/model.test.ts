import { describe, expect, it } from 'vitest';
import type { Service } from '../api/core/service-types.js';
import type { Endpoint, ServicePortInfo } from './model.js';
import { endpointsFromSlices, localEndpointCount, planServicePort, selectEndpoints, servicePortsFromService } from './model.js';
import { NODE, OTHER_NODE, service, slice } from './testing/fixtures.js';

const web = service('web', { clusterIP: '10.96.0.10', ports: [{ name: 'http', port: 80, targetPort: 'http' }] });

function onlyPort(svc: Service): ServicePortInfo {
  const ports = servicePortsFromService(svc);
  expect(ports).toHaveLength(1);
  return ports[0] as ServicePortInfo;
}

describe('servicePortsFromService', () => {
  it('a ClusterIP Service gives one entry per port, keyed namespace/name/protocol/portName', () => {
    const svc = service('multi', {
      clusterIP: '10.96.0.20',
      ports: [
        { name: 'dns', port: 53, protocol: 'UDP' },
        { name: 'dns-tcp', port: 53, protocol: 'TCP' },
      ],
    });
    expect(servicePortsFromService(svc)).toEqual([
      expect.objectContaining({ key: 'default/multi/udp/dns', protocol: 'UDP', port: 53, clusterIPs: ['10.96.0.20'], nodePort: 0 }),
      expect.objectContaining({ key: 'default/multi/tcp/dns-tcp', protocol: 'TCP', port: 53 }),
    ]);
  });

  it('defaults: protocol TCP, no affinity, both traffic policies Cluster, unnamed port key ends in /', () => {
    expect(onlyPort(service('plain', { clusterIP: '10.96.0.21', ports: [{ port: 8080 }] }))).toEqual({
      key: 'default/plain/tcp/',
      namespace: 'default',
      name: 'plain',
      portName: '',
      protocol: 'TCP',
      port: 8080,
      clusterIPs: ['10.96.0.21'],
      nodePort: 0,
      externalIPs: [],
      loadBalancerIPs: [],
      sessionAffinity: { type: 'None' },
      externalTrafficPolicy: 'Cluster',
      internalTrafficPolicy: 'Cluster',
      healthCheckNodePort: 0,
    });
  });

  it.each<[string, Partial<Service['spec']>]>([
    ['ExternalName', { type: 'ExternalName', externalName: 'example.com', clusterIP: '' }],
    ['headless (clusterIP None)', { clusterIP: 'None', clusterIPs: ['None'] }],
    ['without a cluster IP', { clusterIP: '' }],
  ])('%s Services are ignored', (_name, spec) => {
    expect(servicePortsFromService(service('x', { ports: [{ port: 80 }], ...spec }))).toEqual([]);
  });

  it('ClientIP affinity defaults to 10800 s and takes the configured timeout', () => {
    expect(onlyPort(service('a', { clusterIP: '10.96.0.2', ports: [{ port: 80 }], sessionAffinity: 'ClientIP' })).sessionAffinity).toEqual({
      type: 'ClientIP',
      timeoutSeconds: 10800,
    });
    const custom = service('b', {
      clusterIP: '10.96.0.3',
      ports: [{ port: 80 }],
      sessionAffinity: 'ClientIP',
      sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } },
    });
    expect(onlyPort(custom).sessionAffinity).toEqual({ type: 'ClientIP', timeoutSeconds: 60 });
  });

  it('node ports only for NodePort and LoadBalancer Services', () => {
    expect(onlyPort(service('np', { type: 'NodePort', clusterIP: '10.96.0.4', ports: [{ port: 80, nodePort: 30080 }] })).nodePort).toBe(30080);
    expect(onlyPort(service('cip', { clusterIP: '10.96.0.5', ports: [{ port: 80, nodePort: 30081 }] })).nodePort).toBe(0);
  });

  it('LoadBalancer ingress IPs in VIP mode are programmed, Proxy mode and hostnames are not; health check port with Local', () => {
    const lb = service(
      'lb',
      { type: 'LoadBalancer', clusterIP: '10.96.0.6', externalTrafficPolicy: 'Local', healthCheckNodePort: 32000, ports: [{ port: 443, nodePort: 30443 }] },
      { loadBalancer: { ingress: [{ ip: '198.51.100.1' }, { ip: '198.51.100.2', ipMode: 'Proxy' }, { hostname: 'lb.example.com' }, { ip: '198.51.100.3', ipMode: 'VIP' }] } },
    );
    expect(onlyPort(lb)).toMatchObject({ loadBalancerIPs: ['198.51.100.1', '198.51.100.3'], externalTrafficPolicy: 'Local', healthCheckNodePort: 32000 });
  });

  it('externalTrafficPolicy Local means nothing for a Service nobody outside can reach', () => {
    const internalOnly = service('i', { clusterIP: '10.96.0.7', externalTrafficPolicy: 'Local', ports: [{ port: 80 }] });
    expect(onlyPort(internalOnly).externalTrafficPolicy).toBe('Cluster');
    const withExternalIP = service('e', { clusterIP: '10.96.0.8', externalTrafficPolicy: 'Local', externalIPs: ['198.51.100.9'], ports: [{ port: 80 }] });
    expect(onlyPort(withExternalIP)).toMatchObject({ externalTrafficPolicy: 'Local', externalIPs: ['198.51.100.9'], healthCheckNodePort: 0 });
  });
});

describe('endpointsFromSlices', () => {
  const sp = onlyPort(web);

  it('resolves the named port per slice, so pods may listen on different numbers', () => {
    const eps = endpointsFromSlices(
      [slice('web', [{ name: 'http', port: 8080 }], [{ ip: '10.244.1.5' }], 'web-1'), slice('web', [{ name: 'http', port: 9090 }], [{ ip: '10.244.2.9', node: OTHER_NODE }], 'web-2')],
      sp,
      NODE,
    );
    expect(eps.map((e) => `${e.ip}:${e.port}:${e.isLocal}`)).toEqual(['10.244.1.5:8080:true', '10.244.2.9:9090:false']);
  });

  it('skips slices of other Services, other namespaces, other address types, and without the port or protocol', () => {
    const other = slice('other', [{ name: 'http', port: 8080 }], [{ ip: '10.244.1.1' }]);
    const otherNs = { ...slice('web', [{ name: 'http', port: 8080 }], [{ ip: '10.244.1.2' }]), metadata: { namespace: 'kube-system', name: 'x', labels: { 'kubernetes.io/service-name': 'web' } } };
    const fqdn = { ...slice('web', [{ name: 'http', port: 8080 }], [{ ip: 'a.example.com' }]), addressType: 'FQDN' as const };
    const wrongPort = slice('web', [{ name: 'metrics', port: 9100 }], [{ ip: '10.244.1.3' }]);
    const wrongProto = slice('web', [{ name: 'http', port: 8080, protocol: 'UDP' }], [{ ip: '10.244.1.4' }]);
    expect(endpointsFromSlices([other, otherNs, fqdn, wrongPort, wrongProto], sp, NODE)).toEqual([]);
  });

  it('absent conditions mean ready and serving; an endpoint in two slices is used once, its ready copy winning', () => {
    const notReady = slice('web', [{ name: 'http', port: 8080 }], [{ ip: '10.244.1.7', conditions: { ready: false, serving: false, terminating: true } }], 'a');
    const ready = slice('web', [{ name: 'http', port: 8080 }], [{ ip: '10.244.1.7', conditions: {} }], 'b');
    expect(endpointsFromSlices([notReady, ready], sp, NODE)).toEqual([
      { ip: '10.244.1.7', port: 8080, ready: true, serving: true, terminating: false, nodeName: NODE, isLocal: true },
    ]);
  });

  it('sorts endpoints numerically by address', () => {
    const s = slice('web', [{ name: 'http', port: 8080 }], [{ ip: '10.244.1.10' }, { ip: '10.244.1.9' }, { ip: '10.244.0.200' }]);
    expect(endpointsFromSlices([s], sp, NODE).map((e) => e.ip)).toEqual(['10.244.0.200', '10.244.1.9', '10.244.1.10']);
  });
});

describe('selectEndpoints', () => {
  const ep = (ip: string, local: boolean, c: Partial<Pick<Endpoint, 'ready' | 'serving' | 'terminating'>> = {}): Endpoint => ({
    ip,
    port: 8080,
    ready: c.ready ?? true,
    serving: c.serving ?? c.ready ?? true,
    terminating: c.terminating ?? false,
    isLocal: local,
  });
  const draining = { ready: false, serving: true, terminating: true };
  const gone = { ready: false, serving: false, terminating: true };
  const ips = (eps: readonly Endpoint[]): string[] => eps.map((e) => e.ip);
  const base = onlyPort(web);
  const externalLocal: ServicePortInfo = { ...base, nodePort: 30080, externalTrafficPolicy: 'Local' };
  const internalLocal: ServicePortInfo = { ...base, internalTrafficPolicy: 'Local' };

  it.each<[string, ServicePortInfo, Endpoint[], { internal: string[]; external: string[]; hasAny: boolean }]>([
    ['ready endpoints only', base, [ep('a', true), ep('b', false, { ready: false, serving: false }), ep('c', false, draining)], { internal: ['a'], external: ['a'], hasAny: true }],
    ['serving+terminating ones when none is ready', base, [ep('a', true, draining), ep('b', false, gone)], { internal: ['a'], external: ['a'], hasAny: true }],
    ['nothing usable: no endpoints at all', base, [ep('a', true, gone)], { internal: [], external: [], hasAny: false }],
    ['internalTrafficPolicy Local: cluster IP traffic to local endpoints only', internalLocal, [ep('a', true), ep('b', false)], { internal: ['a'], external: ['a', 'b'], hasAny: true }],
    ['internalTrafficPolicy Local without a local endpoint: none internally, yet some exist', internalLocal, [ep('b', false)], { internal: [], external: ['b'], hasAny: true }],
    ['externalTrafficPolicy Local: external traffic to local endpoints only', externalLocal, [ep('a', true), ep('b', false)], { internal: ['a', 'b'], external: ['a'], hasAny: true }],
    ['externalTrafficPolicy Local falls back to a local draining endpoint even when remote ones are ready', externalLocal, [ep('a', true, draining), ep('b', false)], { internal: ['b'], external: ['a'], hasAny: true }],
  ])('%s', (_name, sp, eps, want) => {
    const sel = selectEndpoints(sp, eps);
    expect({ internal: ips(sel.internal), external: ips(sel.external), hasAny: sel.hasAny }).toEqual(want);
  });

  it('the health check reports the usable local endpoints', () => {
    expect(localEndpointCount(externalLocal, [ep('a', true), ep('b', true, draining), ep('c', false)])).toBe(1);
    expect(localEndpointCount(externalLocal, [ep('c', false)])).toBe(0);
  });
});

describe('planServicePort', () => {
  const port = (spec: Parameters<typeof service>[1]): ServicePortInfo => {
    const [sp] = servicePortsFromService(service('p', spec));
    if (sp === undefined) throw new Error('no port');
    return sp;
  };
  it.each([
    ['ClusterIP TCP', { clusterIP: '10.96.0.5', ports: [{ port: 80 }] }, { proto: 'tcp', reachable: false, usesCluster: true, usesLocal: false, affinity: 0 }],
    ['UDP with ClientIP affinity', { clusterIP: '10.96.0.5', sessionAffinity: 'ClientIP' as const, ports: [{ port: 53, protocol: 'UDP' as const }] }, { proto: 'udp', affinity: 10800 }],
    [
      'NodePort with externalTrafficPolicy Local',
      { clusterIP: '10.96.0.5', type: 'NodePort' as const, externalTrafficPolicy: 'Local' as const, ports: [{ port: 80, nodePort: 30080 }] },
      { reachable: true, externalLocal: true, usesCluster: true, usesLocal: true },
    ],
    ['internalTrafficPolicy Local only', { clusterIP: '10.96.0.5', internalTrafficPolicy: 'Local' as const, ports: [{ port: 80 }] }, { internalLocal: true, usesCluster: false, usesLocal: true }],
  ])('%s', (_name, spec, expected) => {
    expect(planServicePort(port(spec), [])).toMatchObject(expected);
  });

  it('has nothing to program for a Service with only an IPv6 cluster IP', () => {
    expect(planServicePort(port({ clusterIP: 'fd00::5', clusterIPs: ['fd00::5'], ports: [{ port: 80 }] }), [])).toBeUndefined();
  });
});
