import { describe, expect, it } from 'vitest';
import type { Endpoints, EndpointSubset } from './endpoints.js';
import { defaultEndpoints, endpointsKind } from './endpoints.js';
import type { Event } from './event.js';
import { eventKind } from './event.js';
import { serviceAccountKind } from './serviceaccount.js';

const ep = (subsets: EndpointSubset[]): Endpoints => defaultEndpoints({ apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'web', namespace: 'default' }, subsets });

describe('Endpoints', () => {
  it('defaults port protocols to TCP', () => {
    expect(ep([{ addresses: [{ ip: '10.244.0.5' }], ports: [{ port: 80 }] }]).subsets?.[0]?.ports).toEqual([{ port: 80, protocol: 'TCP' }]);
  });
  it('accepts ready and not-ready addresses', () => {
    const e = ep([{ addresses: [{ ip: '10.244.0.5', nodeName: 'n1', targetRef: { kind: 'Pod', name: 'p' } }], notReadyAddresses: [{ ip: 'fd00::5' }], ports: [{ name: 'http', port: 80 }, { name: 'dns', port: 53, protocol: 'UDP' }] }]);
    expect(endpointsKind.validate(e)).toEqual([]);
  });
  it.each<[string, EndpointSubset[], string[]]>([
    ['a subset without addresses', [{ ports: [{ port: 80 }] }], ['subsets[0]']],
    ['an address that is no IP', [{ addresses: [{ ip: 'pod-1' }] }], ['subsets[0].addresses[0].ip']],
    ['a loopback address', [{ addresses: [{ ip: '127.0.0.1' }] }], ['subsets[0].addresses[0].ip']],
    ['a link-local IPv6 address', [{ notReadyAddresses: [{ ip: 'fe80::1' }] }], ['subsets[0].notReadyAddresses[0].ip']],
    ['unnamed ports in a multi-port subset', [{ addresses: [{ ip: '10.0.0.1' }], ports: [{ port: 80 }, { port: 81 }] }], ['subsets[0].ports[0].name', 'subsets[0].ports[1].name']],
    ['port 0', [{ addresses: [{ ip: '10.0.0.1' }], ports: [{ port: 0 }] }], ['subsets[0].ports[0].port']],
    ['a bad hostname', [{ addresses: [{ ip: '10.0.0.1', hostname: 'a.b' }] }], ['subsets[0].addresses[0].hostname']],
  ])('reports %s', (_n, subsets, expected) => expect(endpointsKind.validate(ep(subsets)).map((e) => e.field)).toEqual(expected));
  it('is registered like upstream', () => expect(endpointsKind).toMatchObject({ plural: 'endpoints', singular: 'endpoints', shortNames: ['ep'] }));
});

const event = (over: Partial<Event> = {}): Event => ({
  apiVersion: 'v1',
  kind: 'Event',
  metadata: { name: 'web.17a2b3c4d5e6f', namespace: 'default' },
  involvedObject: { kind: 'Pod', namespace: 'default', name: 'web', uid: 'u1', apiVersion: 'v1', fieldPath: 'spec.containers{app}' },
  reason: 'Started',
  message: 'Started container app',
  source: { component: 'kubelet', host: 'node-1' },
  type: 'Normal',
  count: 1,
  ...over,
});

describe('Event', () => {
  it('accepts a kubelet event', () => expect(eventKind.validate(event())).toEqual([]));
  it('accepts an event about a cluster-scoped object in default', () => {
    expect(eventKind.validate(event({ involvedObject: { kind: 'Node', name: 'node-1' } }))).toEqual([]);
  });
  it.each<[string, Partial<Event>, string[]]>([
    ['a missing involvedObject', { involvedObject: undefined as unknown as Event['involvedObject'] }, ['involvedObject']],
    ['another namespace than its object', { involvedObject: { kind: 'Pod', namespace: 'other', name: 'web' } }, ['involvedObject.namespace']],
    ['a name with a slash', { metadata: { name: 'a/b', namespace: 'default' } }, ['metadata.name']],
    ['a new-style event without reporting fields', { eventTime: '2024-01-01T00:00:00.000000Z' }, ['reportingComponent', 'reportingInstance', 'action']],
  ])('reports %s', (_n, over, expected) => expect(eventKind.validate(event(over)).map((e) => e.field)).toEqual(expected));
  it('gives upstream field selectors, with source falling back to reportingComponent', () => {
    expect(eventKind.selectableFields?.(event())).toEqual({
      'involvedObject.kind': 'Pod',
      'involvedObject.namespace': 'default',
      'involvedObject.name': 'web',
      'involvedObject.uid': 'u1',
      'involvedObject.apiVersion': 'v1',
      'involvedObject.resourceVersion': '',
      'involvedObject.fieldPath': 'spec.containers{app}',
      reason: 'Started',
      reportingComponent: '',
      source: 'kubelet',
      type: 'Normal',
    });
    expect(eventKind.selectableFields?.(event({ source: {}, reportingComponent: 'scheduler' }))['source']).toBe('scheduler');
  });
  it('is registered like upstream', () => expect(eventKind).toMatchObject({ plural: 'events', shortNames: ['ev'], hasStatusSubresource: false }));
});

describe('ServiceAccount', () => {
  const sa = { apiVersion: 'v1' as const, kind: 'ServiceAccount' as const, metadata: { name: 'robot', namespace: 'default' } };
  it('accepts a service account', () => expect(serviceAccountKind.validate(sa)).toEqual([]));
  it('requires a DNS subdomain name', () => expect(serviceAccountKind.validate({ ...sa, metadata: { name: 'Robot', namespace: 'default' } }).map((e) => e.field)).toEqual(['metadata.name']));
  it('is registered like upstream', () => expect(serviceAccountKind).toMatchObject({ plural: 'serviceaccounts', shortNames: ['sa'] }));
});
