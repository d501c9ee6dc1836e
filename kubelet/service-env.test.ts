import { describe, expect, it } from 'vitest';
import type { Service } from '../api/core/service.js';
import { buildServiceEnv, selectServicesForEnv, serviceEnvName, serviceEnvVars } from './service-env.js';

const svc = (name: string, namespace: string, spec: NonNullable<Service['spec']>): Service => ({ metadata: { name, namespace }, spec });

describe('serviceEnvName', () => {
  it.each([
    ['fooservice', 'FOOSERVICE'],
    ['my-svc', 'MY_SVC'],
    ['a-b-c9', 'A_B_C9'],
  ])('%s -> %s', (input, want) => {
    expect(serviceEnvName(input)).toBe(want);
  });
});

describe('serviceEnvVars', () => {
  it('gives the conformance variables for a one-port Service', () => {
    const vars = serviceEnvVars(svc('fooservice', 'default', { clusterIP: '10.96.0.20', ports: [{ port: 8765, protocol: 'TCP' }] }));
    expect(vars).toEqual([
      { name: 'FOOSERVICE_SERVICE_HOST', value: '10.96.0.20' },
      { name: 'FOOSERVICE_SERVICE_PORT', value: '8765' },
      { name: 'FOOSERVICE_PORT', value: 'tcp://10.96.0.20:8765' },
      { name: 'FOOSERVICE_PORT_8765_TCP', value: 'tcp://10.96.0.20:8765' },
      { name: 'FOOSERVICE_PORT_8765_TCP_PROTO', value: 'tcp' },
      { name: 'FOOSERVICE_PORT_8765_TCP_PORT', value: '8765' },
      { name: 'FOOSERVICE_PORT_8765_TCP_ADDR', value: '10.96.0.20' },
    ]);
  });

  it('names every named port and defaults the protocol to TCP', () => {
    const vars = serviceEnvVars(
      svc('dns-svc', 'kube-system', {
        clusterIP: '10.96.0.10',
        ports: [
          { name: 'dns', port: 53, protocol: 'UDP' },
          { name: 'dns-tcp', port: 53 },
        ],
      }),
    );
    const m = Object.fromEntries(vars.map((v) => [v.name, v.value]));
    expect(m).toMatchObject({
      DNS_SVC_SERVICE_PORT: '53',
      DNS_SVC_SERVICE_PORT_DNS: '53',
      DNS_SVC_SERVICE_PORT_DNS_TCP: '53',
      DNS_SVC_PORT: 'udp://10.96.0.10:53',
      DNS_SVC_PORT_53_UDP: 'udp://10.96.0.10:53',
      DNS_SVC_PORT_53_UDP_PROTO: 'udp',
      DNS_SVC_PORT_53_TCP: 'tcp://10.96.0.10:53',
      DNS_SVC_PORT_53_TCP_PROTO: 'tcp',
    });
  });

  it('brackets IPv6 cluster IPs in URLs only', () => {
    const m = Object.fromEntries(serviceEnvVars(svc('v6', 'default', { clusterIP: 'fd00::10', ports: [{ port: 80 }] })).map((v) => [v.name, v.value]));
    expect(m['V6_PORT']).toBe('tcp://[fd00::10]:80');
    expect(m['V6_PORT_80_TCP_ADDR']).toBe('fd00::10');
  });

  it.each([
    ['headless', { clusterIP: 'None', ports: [{ port: 80 }] }],
    ['no cluster IP', { ports: [{ port: 80 }] }],
    ['ExternalName', { type: 'ExternalName' as const, externalName: 'example.com' }],
  ])('gives nothing for a %s Service', (_name, spec) => {
    expect(serviceEnvVars(svc('x', 'default', spec))).toEqual([]);
  });
});

describe('selectServicesForEnv', () => {
  const services = [
    svc('kubernetes', 'default', { clusterIP: '10.96.0.1', ports: [{ name: 'https', port: 443 }] }),
    svc('web', 'shop', { clusterIP: '10.96.0.30', ports: [{ port: 80 }] }),
    svc('db', 'shop', { clusterIP: '10.96.0.31', ports: [{ port: 5432 }] }),
    svc('other', 'elsewhere', { clusterIP: '10.96.0.40', ports: [{ port: 80 }] }),
    svc('kubernetes', 'shop', { clusterIP: '10.96.0.50', ports: [{ port: 8443 }] }),
  ];
  const names = (list: Service[]): string[] => list.map((s) => `${s.metadata.namespace}/${s.metadata.name}`);

  it("takes the pod namespace's Services and the master kubernetes Service, sorted", () => {
    expect(names(selectServicesForEnv(services, { podNamespace: 'shop', enableServiceLinks: true, masterServiceNamespace: 'default' }))).toEqual([
      'shop/db',
      'shop/kubernetes',
      'shop/web',
    ]);
  });

  it('keeps only the master Service without service links', () => {
    expect(names(selectServicesForEnv(services, { podNamespace: 'shop', enableServiceLinks: false, masterServiceNamespace: 'default' }))).toEqual([
      'default/kubernetes',
    ]);
  });

  it('builds KUBERNETES_SERVICE_* for a pod in default', () => {
    const env = buildServiceEnv(services, { podNamespace: 'default', enableServiceLinks: true, masterServiceNamespace: 'default' });
    expect(env.get('KUBERNETES_SERVICE_HOST')).toBe('10.96.0.1');
    expect(env.get('KUBERNETES_SERVICE_PORT_HTTPS')).toBe('443');
    expect(env.get('WEB_SERVICE_HOST')).toBeUndefined();
  });
});
