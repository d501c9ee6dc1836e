import { describe, expect, it } from 'vitest';
import { bridgeStateOf, parseIpLinks, parseProcNetDev, parseProcNetRoute, pickUnderlay, type ProcRoute } from './node-host.js';

const procNetDev = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0
knode0:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0
vethtest1:    0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0
`;
const procNetRoute = `Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT
eth0\t00000000\t0102000A\t0003\t0\t0\t100\t00000000\t0\t0\t0
knode0\t0009F40A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0
`;

describe('procfs parsers', () => {
  it('lists interface names from /proc/net/dev', () => {
    expect(parseProcNetDev(procNetDev)).toEqual(['lo', 'knode0', 'vethtest1']);
  });
  it('reads /proc/net/route little-endian words as addresses', () => {
    const [def, br] = parseProcNetRoute(procNetRoute);
    expect(def).toEqual({ iface: 'eth0', dst: 0, mask: 0, gateway: 0x0a000201, metric: 100 });
    expect(br).toMatchObject({ iface: 'knode0', dst: 0x0af40900, mask: 0xffffff00 });
  });
});

describe('bridgeStateOf', () => {
  const routes = parseProcNetRoute(procNetRoute);
  it.each([
    ['absent when the link is missing', new Set(['lo']), 0x0af40900, 'absent'],
    ['ready when it carries the pod CIDR route', new Set(['knode0']), 0x0af40900, 'ready'],
    ['unconfigured when its route is for another CIDR', new Set(['knode0']), 0x0af40a00, 'unconfigured'],
  ] as const)('%s', (_n, links, net, want) => {
    expect(bridgeStateOf(links, routes, 'knode0', net, 24)).toBe(want);
  });
});

describe('pickUnderlay', () => {
  const links = parseIpLinks(
    JSON.stringify([
      { ifname: 'lo', mtu: 65536 },
      { ifname: 'eth0', mtu: 9000, linkinfo: { info_kind: 'veth' } },
      { ifname: 'knode0', mtu: 1450, linkinfo: { info_kind: 'bridge' } },
      { ifname: 'vethabc', mtu: 1450, master: 'knode0', linkinfo: { info_kind: 'veth' } },
      { ifname: 'knode-vxlan', mtu: 1450, linkinfo: { info_kind: 'vxlan' } },
    ]),
  );
  const r = (iface: string, dst: number, mask: number): ProcRoute => ({ iface, dst, mask, gateway: 0, metric: 0 });
  it('prefers the default route device', () => {
    expect(pickUnderlay([r('knode0', 0x0af40900, 0xffffff00), r('eth0', 0, 0)], links, 'knode0')?.ifname).toBe('eth0');
  });
  it('without a default route, takes the device with most routes, never the bridge, its ports or VXLAN', () => {
    const routes = [
      r('knode0', 0x0af40100, 0xffffff00),
      r('knode-vxlan', 0x0af40200, 0xffffff00),
      r('knode-vxlan', 0x0af40300, 0xffffff00),
      r('eth0', 0xac1ffa00, 0xffffff00),
    ];
    expect(pickUnderlay(routes, links, 'knode0')).toEqual({ ifname: 'eth0', mtu: 9000, kind: 'veth' });
  });
  it('finds nothing on a node with only a bridge', () => {
    expect(pickUnderlay([r('knode0', 0x0af40100, 0xffffff00)], links, 'knode0')).toBeUndefined();
  });
});
