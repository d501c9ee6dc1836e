import { describe, expect, it } from 'vitest';
import { formatFieldError } from '../field-errors.js';
import type { Endpoint, EndpointSlice } from './endpointslice.js';
import { endpointSliceKind } from './endpointslice.js';

const base: EndpointSlice = {
  apiVersion: 'discovery.k8s.io/v1',
  kind: 'EndpointSlice',
  metadata: {
    name: 'web-abc12',
    namespace: 'default',
    labels: { 'kubernetes.io/service-name': 'web', 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' },
  },
  addressType: 'IPv4',
  endpoints: [
    {
      addresses: ['10.244.1.5'],
      conditions: { ready: true, serving: true, terminating: false },
      nodeName: 'node-1',
      zone: 'zone-a',
      targetRef: { kind: 'Pod', namespace: 'default', name: 'web-1', uid: 'u1' },
      hints: { forZones: [{ name: 'zone-a' }] },
    },
  ],
  ports: [{ name: 'http', protocol: 'TCP', port: 8083 }],
};

const withEndpoint = (patch: Partial<Endpoint>): EndpointSlice => ({
  ...base,
  endpoints: [{ ...base.endpoints[0], ...patch } as Endpoint],
});

const messages = (s: EndpointSlice): string[] => endpointSliceKind.validate(s).map(formatFieldError);

describe('endpointSliceKind', () => {
  it('is discovery.k8s.io/v1 endpointslices without short names or status subresource', () => {
    expect(endpointSliceKind).toMatchObject({
      group: 'discovery.k8s.io',
      version: 'v1',
      plural: 'endpointslices',
      shortNames: [],
      hasStatusSubresource: false,
      namespaced: true,
    });
  });

  it('defaults port name to "" and protocol to TCP', () => {
    const s = endpointSliceKind.default({ ...base, ports: [{ port: 53 }, { name: 'dns', protocol: 'UDP', port: 53 }] });
    expect(s.ports).toEqual([
      { name: '', protocol: 'TCP', port: 53 },
      { name: 'dns', protocol: 'UDP', port: 53 },
    ]);
    expect(endpointSliceKind.default({ ...base, ports: undefined } as unknown as EndpointSlice).ports).toBeUndefined();
  });

  it('accepts a controller-written slice, an empty one, and IPv6 and FQDN slices', () => {
    expect(messages(base)).toEqual([]);
    expect(messages({ ...base, endpoints: [] })).toEqual([]);
    expect(messages({ ...base, addressType: 'IPv6', endpoints: [{ addresses: ['fd00:10:244::5'] }] })).toEqual([]);
    expect(messages({ ...base, addressType: 'FQDN', endpoints: [{ addresses: ['db.example.com.'] }] })).toEqual([]);
  });

  it.each<[string, EndpointSlice, string[]]>([
    ['a missing addressType', { ...base, addressType: '' as 'IPv4' }, ['addressType: Required value']],
    [
      'an unknown addressType',
      { ...base, addressType: 'IPX' as 'IPv4' },
      ['addressType: Unsupported value: "IPX": supported values: "FQDN", "IPv4", "IPv6"'],
    ],
    ['an endpoint without addresses', withEndpoint({ addresses: [] }), ['endpoints[0].addresses: Required value: must contain at least 1 address']],
    [
      '101 addresses',
      withEndpoint({ addresses: Array.from({ length: 101 }, (_, i) => `10.0.${i >> 8}.${(i & 255) + 1}`) }),
      ['endpoints[0].addresses: Invalid value: 101: must have at most 100 items'],
    ],
    ['a bad IPv4 address', withEndpoint({ addresses: ['10.0.0.256'] }), ['endpoints[0].addresses[0]: Invalid value: "10.0.0.256": must be a valid IPv4 address']],
    ['an IPv6 address in an IPv4 slice', withEndpoint({ addresses: ['fd00::1'] }), ['endpoints[0].addresses[0]: Invalid value: "fd00::1": must be a valid IPv4 address']],
    [
      'a loopback address',
      withEndpoint({ addresses: ['127.0.0.1'] }),
      ['endpoints[0].addresses[0]: Invalid value: "127.0.0.1": may not be in the loopback range (127.0.0.0/8, ::1/128)'],
    ],
    [
      'a link-local address',
      withEndpoint({ addresses: ['169.254.169.254'] }),
      ['endpoints[0].addresses[0]: Invalid value: "169.254.169.254": may not be in the link-local range (169.254.0.0/16, fe80::/10)'],
    ],
    [
      'an IPv4-mapped address in an IPv6 slice',
      { ...base, addressType: 'IPv6', endpoints: [{ addresses: ['::ffff:10.0.0.1'] }] },
      ['endpoints[0].addresses[0]: Invalid value: "::ffff:10.0.0.1": must be a valid IPv6 address'],
    ],
    [
      'a single-label FQDN',
      { ...base, addressType: 'FQDN', endpoints: [{ addresses: ['db'] }] },
      ['endpoints[0].addresses[0]: Invalid value: "db": should be a domain with at least two segments separated by dots'],
    ],
    ['a bad hostname', withEndpoint({ hostname: 'a.b' }), ['endpoints[0].hostname: Invalid value: "a.b": must not contain dots']],
    ['a duplicate zone hint', withEndpoint({ hints: { forZones: [{ name: 'z' }, { name: 'z' }] } }), ['endpoints[0].hints.forZones[1].name: Duplicate value: "z"']],
    [
      'a bad port name',
      { ...base, ports: [{ name: 'HTTP', protocol: 'TCP', port: 80 }] },
      [
        "ports[0].name: Invalid value: \"HTTP\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
      ],
    ],
    [
      'duplicate port names',
      { ...base, ports: [{ name: '', protocol: 'TCP', port: 80 }, { name: '', protocol: 'TCP', port: 81 }] },
      ['ports[1].name: Duplicate value: ""'],
    ],
    ['a missing protocol', { ...base, ports: [{ name: 'a', port: 80 }] }, ['ports[0].protocol: Required value']],
    [
      'an unknown protocol',
      { ...base, ports: [{ name: 'a', protocol: 'ICMP', port: 80 }] },
      ['ports[0].protocol: Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"'],
    ],
  ])('rejects %s', (_name, slice, want) => {
    expect(messages(slice)).toEqual(want);
  });

  it('caps a slice at 1000 endpoints', () => {
    const endpoints = Array.from({ length: 1001 }, (_, i) => ({ addresses: [`10.1.${i >> 8}.${i & 255}`] }));
    expect(messages({ ...base, endpoints })).toEqual(['endpoints: Invalid value: 1001: must have at most 1000 items']);
    expect(messages({ ...base, endpoints: endpoints.slice(0, 1000) })).toEqual([]);
  });

  it('keeps addressType immutable on update', () => {
    const v6: EndpointSlice = { ...base, addressType: 'IPv6', endpoints: [{ addresses: ['fd00::5'] }] };
    expect(endpointSliceKind.validateUpdate(v6, base).map(formatFieldError)).toEqual([
      'addressType: Invalid value: "IPv6": field is immutable',
    ]);
    expect(endpointSliceKind.validateUpdate(withEndpoint({ addresses: ['10.244.1.6'] }), base)).toEqual([]);
  });
});
