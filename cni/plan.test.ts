import { describe, expect, it } from 'vitest';
import { parseNetConf } from './config.js';
import { parseCidr, podRangeOf } from './ipam/ipv4.js';
import { compareAttachment, parsePodObservation, planAdd, planDelLinks, type AddPlanInput } from './plan.js';

const conf = parseNetConf({ cniVersion: '1.1.0', name: 'knode', type: 'knode-cni' });
const base: AddPlanInput = {
  conf,
  key: { containerId: 'c1', ifname: 'eth0' },
  netns: '/run/netns/p1',
  ip: '10.244.1.7',
  range: podRangeOf(parseCidr('10.244.1.0/24')!)!,
  mtu: 1450,
  bridgeState: 'ready',
  staleHostVeth: false,
};

describe('planAdd', () => {
  it('on a ready bridge: only the veth pair in the node, address and route in the pod', () => {
    const p = planAdd(base);
    expect(p.nodeScript).toEqual([
      `link add name ${p.hostVeth} address ${p.result.interfaces[1]!.mac} mtu 1450 type veth peer name eth0 address 0a:58:0a:f4:01:07 mtu 1450 netns /run/netns/p1`,
      `link set dev ${p.hostVeth} master knode0`,
      `link set dev ${p.hostVeth} type bridge_slave hairpin on`,
      `link set dev ${p.hostVeth} up`,
    ]);
    expect(p.podScript).toEqual(['addr add 10.244.1.7/24 dev eth0', 'link set dev eth0 up', 'route replace default via 10.244.1.1 dev eth0']);
  });
  it('creates the bridge with the first address of the pod CIDR when it is absent', () => {
    const p = planAdd({ ...base, bridgeState: 'absent' });
    expect(p.nodeScript.slice(0, 3)).toEqual([
      `link add name knode0 address ${p.result.interfaces[0]!.mac} mtu 1450 type bridge`,
      'addr replace 10.244.1.1/24 dev knode0',
      'link set dev knode0 up',
    ]);
  });
  it('repairs a bridge without its address, and replaces a leftover veth of the same container', () => {
    const p = planAdd({ ...base, bridgeState: 'unconfigured', staleHostVeth: true });
    expect(p.nodeScript.slice(0, 3)).toEqual(['addr replace 10.244.1.1/24 dev knode0', 'link set dev knode0 up', `link del dev ${p.hostVeth}`]);
  });
  it('leaves hairpin alone when the config turns it off', () => {
    const p = planAdd({ ...base, conf: { ...conf, hairpinMode: false } });
    expect(p.nodeScript.some((l) => l.includes('hairpin'))).toBe(false);
  });
  it('reports bridge, host veth and the pod interface with its sandbox, IP, gateway and default route', () => {
    const p = planAdd(base);
    expect(p.result.interfaces.map((i) => i.name)).toEqual(['knode0', p.hostVeth, 'eth0']);
    expect(p.result.interfaces[2]).toEqual({ name: 'eth0', mac: '0a:58:0a:f4:01:07', sandbox: '/run/netns/p1', mtu: 1450 });
    expect(p.result.ips).toEqual([{ address: '10.244.1.7/24', gateway: '10.244.1.1', interface: 2 }]);
    expect(p.result.routes).toEqual([{ dst: '0.0.0.0/0', gw: '10.244.1.1' }]);
  });
});

describe('planDelLinks', () => {
  it('deletes the host veth only when it is there', () => {
    expect(planDelLinks('vethx', new Set(['vethx']))).toEqual(['link del dev vethx']);
    expect(planDelLinks('vethx', new Set())).toEqual([]);
  });
});

describe('CHECK comparison', () => {
  const out = `${JSON.stringify([{ ifname: 'eth0', mtu: 1450, addr_info: [{ family: 'inet', local: '10.244.1.7', prefixlen: 24 }, { family: 'inet6', local: 'fe80::1', prefixlen: 64 }] }])}\n${JSON.stringify([{ dst: 'default', gateway: '10.244.1.1', dev: 'eth0' }])}\n`;
  const prev = planAdd(base).result;
  const expected = { address: '10.244.1.7/24', gateway: '10.244.1.1', ifname: 'eth0' };
  it('reads ip -j output and finds nothing wrong on a healthy pod', () => {
    expect(parsePodObservation(out)).toEqual({ addresses: ['10.244.1.7/24'], defaultGateways: ['10.244.1.1'], mtu: 1450 });
    expect(compareAttachment(expected, prev, parsePodObservation(out))).toEqual([]);
  });
  it('names a missing address and a missing default route', () => {
    const seen = { addresses: [], defaultGateways: [] };
    expect(compareAttachment(expected, prev, seen)).toEqual([
      'eth0 lacks address 10.244.1.7/24 (has none)',
      'no default route via 10.244.1.1 in the pod namespace',
    ]);
  });
});
