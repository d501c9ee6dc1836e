import { describe, expect, it } from 'vitest';
import { formatFieldError } from '../field-errors.js';
import type { Service, ServiceSpec } from './service.js';
import { defaultService, prepareServiceUpdate, serviceKind } from './service.js';

const svc = (spec: ServiceSpec, name = 'web'): Service => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace: 'default' },
  spec,
});
const basic: ServiceSpec = { selector: { app: 'web' }, ports: [{ port: 80 }] };
const errors = (spec: ServiceSpec): string[] => serviceKind.validate(defaultService(svc(spec))).map((e) => e.field);

describe('service defaults', () => {
  it('defaults a ClusterIP service', () => {
    expect(defaultService(svc(basic)).spec).toEqual({
      selector: { app: 'web' },
      ports: [{ port: 80, protocol: 'TCP', targetPort: 80 }],
      type: 'ClusterIP',
      sessionAffinity: 'None',
      internalTrafficPolicy: 'Cluster',
      ipFamilies: ['IPv4'],
      ipFamilyPolicy: 'SingleStack',
    });
  });
  it('keeps a named targetPort', () => {
    expect(defaultService(svc({ ports: [{ port: 80, targetPort: 'http' }] })).spec?.ports?.[0]?.targetPort).toBe('http');
  });
  it('gives ClientIP affinity a 10800 s timeout', () => {
    expect(defaultService(svc({ ...basic, sessionAffinity: 'ClientIP' })).spec?.sessionAffinityConfig).toEqual({ clientIP: { timeoutSeconds: 10800 } });
  });
  it('drops an affinity config when affinity is None', () => {
    expect(defaultService(svc({ ...basic, sessionAffinityConfig: { clientIP: { timeoutSeconds: 5 } } })).spec?.sessionAffinityConfig).toBeUndefined();
  });
  it('sets externalTrafficPolicy Cluster on NodePort and LoadBalancer services', () => {
    expect(defaultService(svc({ ...basic, type: 'NodePort' })).spec?.externalTrafficPolicy).toBe('Cluster');
    expect(defaultService(svc({ ...basic, type: 'LoadBalancer' })).spec).toMatchObject({ externalTrafficPolicy: 'Cluster', allocateLoadBalancerNodePorts: true });
    expect(defaultService(svc(basic)).spec?.externalTrafficPolicy).toBeUndefined();
  });
  it('keeps clusterIP and clusterIPs in step and infers the family', () => {
    expect(defaultService(svc({ ...basic, clusterIP: 'fd00::10' })).spec).toMatchObject({ clusterIPs: ['fd00::10'], ipFamilies: ['IPv6'] });
    expect(defaultService(svc({ ...basic, clusterIPs: ['10.96.0.5'] })).spec?.clusterIP).toBe('10.96.0.5');
  });
  it('leaves ExternalName services without IP fields', () => {
    const s = defaultService(svc({ type: 'ExternalName', externalName: 'example.com' })).spec;
    expect(s).toEqual({ type: 'ExternalName', externalName: 'example.com', sessionAffinity: 'None' });
  });
});

describe('service validation', () => {
  it.each<[string, ServiceSpec]>([
    ['a ClusterIP service', basic],
    ['a headless service without ports', { clusterIP: 'None', selector: { app: 'web' } }],
    ['an ExternalName service', { type: 'ExternalName', externalName: 'db.example.com.' }],
    ['a NodePort service', { ...basic, type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] }],
    ['a multi-port service with names', { ...basic, ports: [{ name: 'http', port: 80 }, { name: 'dns', port: 53, protocol: 'UDP' }] }],
    ['TCP and UDP on one port', { ...basic, ports: [{ name: 'a', port: 53 }, { name: 'b', port: 53, protocol: 'UDP' }] }],
    ['an allocated cluster IP', { ...basic, clusterIP: '10.96.0.10' }],
    ['ClientIP affinity', { ...basic, sessionAffinity: 'ClientIP' }],
    ['external IPs', { ...basic, externalIPs: ['192.0.2.10'] }],
  ])('accepts %s', (_n, spec) => expect(errors(spec)).toEqual([]));

  it.each<[string, ServiceSpec, string[]]>([
    ['no ports', { selector: { app: 'web' } }, ['spec.ports']],
    ['a type typo', { ...basic, type: 'Internal' as 'ClusterIP' }, ['spec.type']],
    ['two ports without names', { ...basic, ports: [{ port: 80 }, { port: 81 }] }, ['spec.ports[0].name', 'spec.ports[1].name']],
    ['two ports with one name', { ...basic, ports: [{ name: 'a', port: 80 }, { name: 'a', port: 81 }] }, ['spec.ports[1].name']],
    ['one port twice', { ...basic, ports: [{ name: 'a', port: 80 }, { name: 'b', port: 80 }] }, ['spec.ports[1]']],
    ['port 0', { ...basic, ports: [{ port: 0, targetPort: 80 }] }, ['spec.ports[0].port']],
    ['a bad protocol', { ...basic, ports: [{ port: 80, protocol: 'HTTP' as 'TCP' }] }, ['spec.ports[0].protocol']],
    ['a bad target port name', { ...basic, ports: [{ port: 80, targetPort: 'Web_Port' }] }, ['spec.ports[0].targetPort']],
    ['a nodePort on a ClusterIP service', { ...basic, ports: [{ port: 80, nodePort: 30080 }] }, ['spec.ports[0].nodePort']],
    ['ExternalName without a name', { type: 'ExternalName' }, ['spec.externalName']],
    ['ExternalName that is no DNS name', { type: 'ExternalName', externalName: 'not valid' }, ['spec.externalName']],
    ['ExternalName with a cluster IP', { type: 'ExternalName', externalName: 'a.b', clusterIP: '10.96.0.1' }, ['spec.clusterIPs']],
    ['a headless NodePort service', { ...basic, type: 'NodePort', clusterIP: 'None' }, ['spec.clusterIPs[0]']],
    ['a cluster IP that is no IP', { ...basic, clusterIP: '10.96.0' }, ['spec.clusterIPs[0]']],
    ['clusterIPs disagreeing with clusterIP', { ...basic, clusterIP: '10.96.0.1', clusterIPs: ['10.96.0.2'] }, ['spec.clusterIPs']],
    ['an IPv6 address for an IPv4 family', { ...basic, clusterIP: 'fd00::1', ipFamilies: ['IPv4'] }, ['spec.clusterIPs[0]']],
    ['a session affinity typo', { ...basic, sessionAffinity: 'Sticky' as 'None' }, ['spec.sessionAffinity']],
    ['a zero affinity timeout', { ...basic, sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 0 } } }, ['spec.sessionAffinityConfig.clientIP.timeoutSeconds']],
    ['a bad selector', { ...basic, selector: { app: 'web app' } }, ['spec.selector']],
    ['externalTrafficPolicy on a ClusterIP service', { ...basic, externalTrafficPolicy: 'Local' }, ['spec.externalTrafficPolicy']],
    ['a loopback external IP', { ...basic, externalIPs: ['127.0.0.1'] }, ['spec.externalIPs[0]']],
    ['loadBalancerIP on a ClusterIP service', { ...basic, loadBalancerIP: '192.0.2.1' }, ['spec.loadBalancerIP']],
    ['healthCheckNodePort without Local', { ...basic, type: 'LoadBalancer', healthCheckNodePort: 30000 }, ['spec.healthCheckNodePort']],
  ])('reports %s', (_n, spec, expected) => expect(errors(spec)).toEqual(expected));

  it('requires a DNS-1035 name', () => {
    expect(serviceKind.validate(defaultService(svc(basic, '1web'))).map((e) => e.field)).toEqual(['metadata.name']);
  });

  it('words the protocol list like upstream', () => {
    const [err] = serviceKind.validate(defaultService(svc({ ...basic, ports: [{ port: 80, protocol: 'HTTP' as 'TCP' }] })));
    expect(formatFieldError(err!)).toBe('spec.ports[0].protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"');
  });
});

describe('service updates', () => {
  const stored = defaultService({ ...svc({ ...basic, clusterIP: '10.96.0.10' }), metadata: { name: 'web', namespace: 'default', uid: 'u', resourceVersion: '3' } });
  const update = (spec: ServiceSpec): string[] => serviceKind.validateUpdate(defaultService({ ...stored, spec }), stored).map((e) => `${e.field}: ${e.detail ?? ''}`);

  it('accepts port and selector changes', () => {
    expect(update({ ...stored.spec, ports: [{ port: 8080 }], selector: { app: 'web2' } })).toEqual([]);
  });
  it('refuses a new cluster IP', () => {
    expect(update({ ...stored.spec, clusterIP: '10.96.0.11', clusterIPs: ['10.96.0.11'] })).toEqual(['spec.clusterIPs[0]: may not change once set']);
  });
  it('refuses dropping the cluster IP of a ClusterIP service', () => {
    const { clusterIP: _c, clusterIPs: _cs, ...spec } = stored.spec ?? {};
    expect(update(spec)).toEqual(['spec.clusterIPs[0]: primary clusterIP can not be unset']);
  });

  describe('prepareServiceUpdate', () => {
    it('keeps the cluster IP a client left out', () => {
      const { clusterIP: _c, clusterIPs: _cs, ...spec } = stored.spec ?? {};
      const next = prepareServiceUpdate({ ...stored, spec }, stored);
      expect(next.spec).toMatchObject({ clusterIP: '10.96.0.10', clusterIPs: ['10.96.0.10'] });
      expect(serviceKind.validateUpdate(defaultService(next), stored)).toEqual([]);
    });
    it('releases the cluster IP when the type becomes ExternalName', () => {
      const next = prepareServiceUpdate({ ...stored, spec: { ...stored.spec, type: 'ExternalName', externalName: 'db.example.com' } }, stored);
      expect(next.spec?.clusterIP).toBeUndefined();
      expect(next.spec?.clusterIPs).toBeUndefined();
      expect(next.spec?.ipFamilies).toBeUndefined();
      expect(next.spec?.ipFamilyPolicy).toBeUndefined();
      expect(serviceKind.validateUpdate(defaultService(next), stored)).toEqual([]);
    });
    it('keeps node ports across an update and drops them going back to ClusterIP', () => {
      const np = defaultService({ ...stored, spec: { ...stored.spec, type: 'NodePort', ports: [{ port: 80, nodePort: 30080, protocol: 'TCP', targetPort: 80 }] } });
      const kept = prepareServiceUpdate({ ...np, spec: { ...np.spec, ports: [{ port: 80 }] } }, np);
      expect(kept.spec?.ports?.[0]?.nodePort).toBe(30080);
      const back = prepareServiceUpdate({ ...np, spec: { ...np.spec, type: 'ClusterIP' } }, np);
      expect(back.spec?.ports?.[0]?.nodePort).toBeUndefined();
      expect(back.spec?.externalTrafficPolicy).toBeUndefined();
    });
  });
});

describe('serviceKind', () => {
  it('is registered like upstream', () => {
    expect(serviceKind).toMatchObject({ plural: 'services', singular: 'service', shortNames: ['svc'], categories: ['all'], hasStatusSubresource: true, namespaced: true });
  });
});
