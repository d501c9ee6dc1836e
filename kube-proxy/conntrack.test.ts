import { describe, expect, it } from 'vitest';
import type { Service } from '../api/core/service-types.js';
import type { EndpointSlice } from '../api/discovery/endpointslice.js';
import { FakeExec } from '../lib/exec.js';
import { ConntrackCli, conntrackArgv, planConntrackCleanup } from './conntrack.js';
import type { ConntrackFilter } from './conntrack.js';
import { ConntrackError } from './errors.js';
import type { ProxyState } from './model.js';
import { OTHER_NODE, service, slice, state } from './testing/fixtures.js';

const DNS_IP = '10.96.0.10';
const dns = (mutate: (s: Service) => Service = (s) => s): Service =>
  mutate(service('dns', { clusterIP: DNS_IP, ports: [{ name: 'dns', port: 53, protocol: 'UDP', targetPort: 5353 }] }));
const dnsSlice = (...ips: string[]): EndpointSlice =>
  slice('dns', [{ name: 'dns', port: 5353, protocol: 'UDP' }], ips.map((ip) => ({ ip, node: OTHER_NODE })));
const KEY = 'default/dns/udp/dns';
const all = (a: ProxyState | undefined, b: ProxyState): string[] => [...new Set([...(a?.services.keys() ?? []), ...b.services.keys()])];

describe('planConntrackCleanup', () => {
  const cases: Array<[string, ProxyState | undefined, ProxyState, ConntrackFilter[]]> = [
    ['nothing changes: nothing to delete', state([dns()], [dnsSlice('10.244.2.7')]), state([dns()], [dnsSlice('10.244.2.7')]), []],
    [
      'an endpoint goes away: the flows DNATed to it',
      state([dns()], [dnsSlice('10.244.2.7', '10.244.2.8')]),
      state([dns()], [dnsSlice('10.244.2.8')]),
      [{ protocol: 'udp', origDst: DNS_IP, replySrc: '10.244.2.7' }],
    ],
    [
      'an endpoint turns not ready: the same as gone',
      state([dns()], [dnsSlice('10.244.2.7', '10.244.2.8')]),
      state([dns()], [{ ...dnsSlice('10.244.2.8'), endpoints: [...dnsSlice('10.244.2.8').endpoints, { addresses: ['10.244.2.7'], conditions: { ready: false } }] }]),
      [{ protocol: 'udp', origDst: DNS_IP, replySrc: '10.244.2.7' }],
    ],
    [
      'zero endpoints to some: flows set up without DNAT',
      state([dns()], []),
      state([dns()], [dnsSlice('10.244.2.7')]),
      [{ protocol: 'udp', origDst: DNS_IP, origDstPort: 53 }],
    ],
    [
      'a new UDP Service with endpoints counts as zero to some',
      state([], []),
      state([dns()], [dnsSlice('10.244.2.7')]),
      [{ protocol: 'udp', origDst: DNS_IP, origDstPort: 53 }],
    ],
    [
      'the UDP port removed: its whole port, and its endpoints',
      state([dns()], [dnsSlice('10.244.2.7')]),
      state([dns((s) => ({ ...s, spec: { ...s.spec, ports: [{ name: 'web', port: 80, protocol: 'TCP' }] } }))], []),
      [
        { protocol: 'udp', origDst: DNS_IP, origDstPort: 53 },
        { protocol: 'udp', origDst: DNS_IP, replySrc: '10.244.2.7' },
      ],
    ],
    [
      'a node port: by port for any local address, with and without the endpoint',
      state([dns((s) => ({ ...s, spec: { ...s.spec, type: 'NodePort', ports: [{ name: 'dns', port: 53, protocol: 'UDP', nodePort: 30053 }] } }))], [dnsSlice('10.244.2.7')]),
      state([], []),
      [
        { protocol: 'udp', origDst: DNS_IP, origDstPort: 53 },
        { protocol: 'udp', origDst: DNS_IP, replySrc: '10.244.2.7' },
        { protocol: 'udp', origDstPort: 30053 },
        { protocol: 'udp', origDstPort: 30053, replySrc: '10.244.2.7' },
      ],
    ],
    [
      'TCP is never touched',
      state([service('web', { clusterIP: '10.96.0.20', ports: [{ name: 'http', port: 80 }] })], [slice('web', [{ name: 'http', port: 8080 }], [{ ip: '10.244.2.7' }])]),
      state([], []),
      [],
    ],
    [
      'nothing applied yet: UDP Services with endpoints are zero to some',
      undefined,
      state([dns()], [dnsSlice('10.244.2.7')]),
      [{ protocol: 'udp', origDst: DNS_IP, origDstPort: 53 }],
    ],
    [
      'the port number changes: the old port',
      state([dns()], [dnsSlice('10.244.2.7')]),
      state([dns((s) => ({ ...s, spec: { ...s.spec, ports: [{ name: 'dns', port: 54, protocol: 'UDP' }] } }))], [dnsSlice('10.244.2.7')]),
      [{ protocol: 'udp', origDst: DNS_IP, origDstPort: 53 }],
    ],
  ];
  it.each(cases)('%s', (_name, prev, next, want) => {
    const sortKey = (f: ConntrackFilter): string => JSON.stringify([f.origDst ?? '~', f.origDstPort ?? 0, f.replySrc ?? '']);
    expect(planConntrackCleanup(prev, next, all(prev, next)).sort((a, b) => sortKey(a).localeCompare(sortKey(b)))).toEqual(
      want.sort((a, b) => sortKey(a).localeCompare(sortKey(b))),
    );
  });

  it('looks only at the keys it is given', () => {
    expect(planConntrackCleanup(state([dns()], [dnsSlice('10.244.2.7')]), state([], []), [])).toEqual([]);
    expect(planConntrackCleanup(state([dns()], [dnsSlice('10.244.2.7')]), state([], []), [KEY])).toHaveLength(2);
  });
});

describe('ConntrackCli', () => {
  it('runs conntrack -D with the filter, in the namespace when one is given, and reads the count', async () => {
    const exec = new FakeExec(() => ({ code: 0, stderr: 'conntrack v1.4.7 (conntrack-tools): 2 flow entries have been deleted.\n' }));
    const n = await new ConntrackCli({ exec, netnsPath: '/run/netns/w1' }).delete({ protocol: 'udp', origDst: DNS_IP, replySrc: '10.244.2.7' });
    expect(n).toBe(2);
    expect(exec.commands()).toEqual([`nsenter --net=/run/netns/w1 conntrack -D -f ipv4 -p udp --orig-dst ${DNS_IP} --reply-src 10.244.2.7`]);
  });

  it('no matching entry (exit 1) is not an error; a refused argument (exit 2) is a ConntrackError', async () => {
    const none = new FakeExec(() => ({ code: 1, stderr: 'conntrack v1.4.7 (conntrack-tools): 0 flow entries have been deleted.\n' }));
    expect(await new ConntrackCli({ exec: none }).delete({ protocol: 'udp', origDstPort: 30053 })).toBe(0);
    const bad = new FakeExec(() => ({ code: 2, stderr: "conntrack v1.4.7 (conntrack-tools): Invalid IP address `x'\n" }));
    const err = await new ConntrackCli({ exec: bad }).delete({ protocol: 'udp', origDst: 'x' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConntrackError);
    expect(err).toMatchObject({ code: 'ERR_PROXY_CONNTRACK', exitCode: 2 });
  });

  it('builds the argv for every field', () => {
    expect(conntrackArgv({ protocol: 'sctp', origDst: '10.96.0.1', origDstPort: 9, replySrc: '10.244.1.2' })).toEqual([
      'conntrack', '-D', '-f', 'ipv4', '-p', 'sctp', '--orig-dst', '10.96.0.1', '--orig-port-dst', '9', '--reply-src', '10.244.1.2',
    ]);
  });
});
