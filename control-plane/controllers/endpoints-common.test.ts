import { describe, expect, it } from 'vitest';
import type { Pod } from '../../api/core/pod-types.js';
import type { Service, ServicePort } from '../../api/core/service-types.js';
import { ClientApiError } from '../../lib/client/errors.js';
import type { Status } from '../../api/meta.js';
import { findPort, hasManagedEndpoints, isNamespaceTerminatingError, podEndpointFingerprint, serviceIPFamilies, serviceSelectsPod, shouldPodBeInEndpoints } from './endpoints-common.js';

const base: Pod = {
  metadata: { name: 'a', namespace: 'ns', uid: 'u', labels: { app: 'web', tier: 'front' } },
  spec: {
    containers: [{ name: 'c', ports: [{ name: 'http', containerPort: 8080 }, { name: 'dns', containerPort: 5353, protocol: 'UDP' }] }],
    initContainers: [{ name: 'sidecar', restartPolicy: 'Always', ports: [{ name: 'proxy', containerPort: 15001 }] }, { name: 'init', ports: [{ name: 'setup', containerPort: 1 }] }],
  },
  status: { phase: 'Running', podIP: '10.244.0.5', conditions: [{ type: 'Ready', status: 'True' }] },
};
const withPod = (mutate: (p: { -readonly [K in keyof Pod]: Pod[K] }) => void): Pod => {
  const p = structuredClone(base) as { -readonly [K in keyof Pod]: Pod[K] };
  mutate(p);
  return p;
};
const svc = (spec: Service['spec'], ns = 'ns'): Service => ({ metadata: { name: 'web', namespace: ns }, ...(spec !== undefined ? { spec } : {}) });

describe('findPort', () => {
  const cases: Array<[string, ServicePort, number | undefined]> = [
    ['a numeric targetPort is used as is', { port: 80, targetPort: 3000 }, 3000],
    ['no targetPort: the Service port', { port: 80 }, 80],
    ['a named targetPort resolves on the container ports', { port: 80, targetPort: 'http' }, 8080],
    ['the protocol must match', { port: 53, targetPort: 'dns' }, undefined],
    ['a UDP name resolves for a UDP Service port', { port: 53, targetPort: 'dns', protocol: 'UDP' }, 5353],
    ['sidecar init containers count', { port: 15001, targetPort: 'proxy' }, 15001],
    ['plain init containers do not', { port: 1, targetPort: 'setup' }, undefined],
    ['an unknown name does not resolve', { port: 80, targetPort: 'nope' }, undefined],
  ];
  it.each(cases)('%s', (_n, sp, expected) => expect(findPort(base, sp)).toBe(expected));
});

describe('shouldPodBeInEndpoints', () => {
  const cases: Array<[string, Pod, boolean, boolean]> = [
    ['a running pod with an IP', base, false, true],
    ['no IP yet', withPod((p) => (p.status = { phase: 'Pending' })), true, false],
    ['podIPs alone are enough', withPod((p) => (p.status = { phase: 'Running', podIPs: [{ ip: '10.0.0.1' }] })), false, true],
    ['succeeded', withPod((p) => (p.status = { ...p.status, phase: 'Succeeded' })), true, false],
    ['terminating, not included', withPod((p) => (p.metadata = { ...p.metadata, deletionTimestamp: 'x' })), false, false],
    ['terminating, included', withPod((p) => (p.metadata = { ...p.metadata, deletionTimestamp: 'x' })), true, true],
  ];
  it.each(cases)('%s', (_n, pod, includeTerminating, expected) => expect(shouldPodBeInEndpoints(pod, includeTerminating)).toBe(expected));
});

describe('Service helpers', () => {
  it('only Services with a selector, not ExternalName, are managed', () => {
    expect(hasManagedEndpoints(svc({ selector: { app: 'web' } }))).toBe(true);
    expect(hasManagedEndpoints(svc({ ports: [{ port: 443 }] }))).toBe(false);
    expect(hasManagedEndpoints(svc({ type: 'ExternalName', externalName: 'x.example', selector: { app: 'web' } }))).toBe(false);
  });
  it('a selector matches pods of its own namespace only', () => {
    expect(serviceSelectsPod(svc({ selector: { app: 'web' } }), base)).toBe(true);
    expect(serviceSelectsPod(svc({ selector: { app: 'web' } }, 'other'), base)).toBe(false);
    expect(serviceSelectsPod(svc({ selector: { app: 'db' } }), base)).toBe(false);
  });
  it('address families: ipFamilies, else the cluster IP family, else IPv4', () => {
    expect(serviceIPFamilies(svc({ ipFamilies: ['IPv6'] }))).toEqual(['IPv6']);
    expect(serviceIPFamilies(svc({ clusterIP: 'fd00::10' }))).toEqual(['IPv6']);
    expect(serviceIPFamilies(svc({ clusterIP: 'None' }))).toEqual(['IPv4']);
  });
});

describe('podEndpointFingerprint', () => {
  it('ignores what the controllers do not read, sees what they do', () => {
    const f = podEndpointFingerprint(base);
    expect(podEndpointFingerprint(withPod((p) => (p.metadata = { ...p.metadata, annotations: { x: 'y' } })))).toBe(f);
    expect(podEndpointFingerprint(withPod((p) => (p.status = { ...p.status, conditions: [{ type: 'Ready', status: 'False' }] })))).not.toBe(f);
    expect(podEndpointFingerprint(withPod((p) => (p.status = { ...p.status, podIP: '10.244.0.6' })))).not.toBe(f);
  });
});

describe('isNamespaceTerminatingError', () => {
  const err = (code: number, causes?: Status['details']) =>
    new ClientApiError({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', code, reason: code === 403 ? 'Forbidden' : 'Conflict', ...(causes !== undefined ? { details: causes } : {}) }, 'POST', '/x');
  it('a 403 with the NamespaceTerminating cause, or with no cause (knode), is one', () => {
    expect(isNamespaceTerminatingError(err(403, { causes: [{ reason: 'NamespaceTerminating' }] }))).toBe(true);
    expect(isNamespaceTerminatingError(err(403))).toBe(true);
  });
  it('other 403s and other codes are not', () => {
    expect(isNamespaceTerminatingError(err(403, { causes: [{ reason: 'Other' }] }))).toBe(false);
    expect(isNamespaceTerminatingError(err(409))).toBe(false);
  });
});
