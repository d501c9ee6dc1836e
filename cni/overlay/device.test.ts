import { describe, expect, it } from 'vitest';
import { FakeExec } from '../../lib/exec.js';
import type { DeviceSpec, ObservedLink } from './device.js';
import { VxlanDevice, deviceMAC, deviceSpec, findUnderlay, parseLinks, planDevice } from './device.js';
import { OverlayApplyError, OverlayError, OverlayObserveError } from './errors.js';

// IP plan: underlay 172.31.99.0/24 (the node is .1 on veth0), pod CIDR of this node 10.244.1.0/24, so
// its VTEP address is 10.244.1.0/32. The JSON below is what iproute2 6.1 (Debian 12) prints inside a
// throwaway namespace; fields the parser ignores are trimmed.
const NS = '/run/netns/knode-ovt-unit';
const MAC = '0e:11:22:33:44:55';

const LINK_JSON = JSON.stringify([
  { ifindex: 1, ifname: 'lo', flags: ['LOOPBACK', 'UP', 'LOWER_UP'], mtu: 65536, operstate: 'UNKNOWN', link_type: 'loopback', address: '00:00:00:00:00:00', broadcast: '00:00:00:00:00:00' },
  {
    ifindex: 2, link: 'veth0', ifname: 'veth1', flags: ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP'], mtu: 1500, operstate: 'UP', link_type: 'ether',
    address: '96:a0:52:91:bc:17', broadcast: 'ff:ff:ff:ff:ff:ff', linkinfo: { info_kind: 'veth' },
  },
  {
    ifindex: 3, link: 'veth1', ifname: 'veth0', flags: ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP'], mtu: 1500, operstate: 'UP', link_type: 'ether',
    address: '1E:53:FF:FB:E2:AC', broadcast: 'ff:ff:ff:ff:ff:ff', linkinfo: { info_kind: 'veth' },
  },
  // verbatim from the machine (`ip -j -d link show knode.1`, the device down and without its address)
  { ifindex: 4, ifname: 'knode.1', flags: ['BROADCAST', 'MULTICAST'], mtu: 1450, address: MAC, linkinfo: { info_kind: 'vxlan', info_data: { id: 1, local: '172.31.99.1', link: 'veth0', port: 8472, learning: false } } },
]);

const ADDR_JSON = JSON.stringify([
  { ifindex: 1, ifname: 'lo', flags: ['LOOPBACK', 'UP', 'LOWER_UP'], mtu: 65536, addr_info: [{ family: 'inet', local: '127.0.0.1', prefixlen: 8, scope: 'host', label: 'lo' }] },
  {
    ifindex: 3, link: 'veth1', ifname: 'veth0', flags: ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP'], mtu: 1500,
    addr_info: [
      { family: 'inet', local: '172.31.99.1', prefixlen: 24, scope: 'global', label: 'veth0' },
      { family: 'inet', local: '172.31.99.9', prefixlen: 24, scope: 'global', secondary: true, label: 'veth0' },
    ],
  },
  { ifindex: 4, ifname: 'knode.1', flags: ['BROADCAST', 'MULTICAST'], mtu: 1450, addr_info: [{ family: 'inet', local: '10.244.1.0', prefixlen: 32, scope: 'global', label: 'knode.1' }] },
]);

const lo: ObservedLink = { name: 'lo', ifindex: 1, mtu: 65536, up: true, addresses: ['127.0.0.1/8'] };
const veth1: ObservedLink = { name: 'veth1', ifindex: 2, mtu: 1500, up: true, addresses: [], kind: 'veth', mac: '96:a0:52:91:bc:17' };
const veth0: ObservedLink = { name: 'veth0', ifindex: 3, mtu: 1500, up: true, addresses: ['172.31.99.1/24', '172.31.99.9/24'], kind: 'veth', mac: '1e:53:ff:fb:e2:ac' };
const vxlan: ObservedLink = {
  name: 'knode.1', ifindex: 4, mtu: 1450, up: false, addresses: ['10.244.1.0/32'], kind: 'vxlan', mac: MAC,
  vni: 1, port: 8472, localIP: '172.31.99.1', underlay: 'veth0', learning: false,
};

const want: DeviceSpec = { name: 'knode.1', vni: 1, port: 8472, localIP: '172.31.99.1', underlay: 'veth0', mtu: 1450, mac: MAC, address: '10.244.1.0/32' };
/** The device exactly as `want` describes it. */
const have: ObservedLink = { ...vxlan, up: true };

function withoutAddress(s: DeviceSpec): DeviceSpec {
  const { address: _dropped, ...rest } = s;
  return rest;
}
function withoutLearning(l: ObservedLink): ObservedLink {
  const { learning: _dropped, ...rest } = l;
  return rest;
}

const ADD = `link add knode.1 address ${MAC} type vxlan id 1 local 172.31.99.1 dev veth0 dstport 8472 nolearning`;
const CREATE = [ADD, 'link set knode.1 mtu 1450', 'addr replace 10.244.1.0/32 dev knode.1', 'link set knode.1 up'];
const RECREATE = ['link del knode.1', ...CREATE];

describe('deviceMAC', () => {
  it('is stable for a node name', () => expect(deviceMAC('node-1')).toBe(deviceMAC('node-1')));
  it('differs between node names', () => {
    const macs = new Set(['node-1', 'node-2', 'node-3', 'node-10', 'w1', 'cp'].map(deviceMAC));
    expect(macs.size).toBe(6);
  });
  it.each(['node-1', 'node-2', 'worker-a', 'cp', '', 'a-very-long-node-name.example.internal'])('is a lower-case, locally administered unicast MAC for %j', (name) => {
    const mac = deviceMAC(name);
    expect(mac).toMatch(/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/);
    const first = Number.parseInt(mac.slice(0, 2), 16);
    expect(first & 0x02).toBe(0x02); // locally administered
    expect(first & 0x01).toBe(0); // unicast
  });
});

describe('deviceSpec', () => {
  const base = { name: 'knode.1', vni: 1, port: 8472, nodeName: 'node-1', localIP: '172.31.99.1', underlay: veth0 };
  it('uses the underlay MTU minus 50 and the pod CIDR network address as a /32', () => {
    expect(deviceSpec({ ...base, podCIDR: '10.244.1.0/24' })).toEqual({
      name: 'knode.1', vni: 1, port: 8472, localIP: '172.31.99.1', underlay: 'veth0', mtu: 1450, mac: deviceMAC('node-1'), address: '10.244.1.0/32',
    } satisfies DeviceSpec);
  });
  it.each([
    ['10.244.1.130/25', '10.244.1.128/32'],
    ['10.244.3.7/24', '10.244.3.0/32'],
    ['10.245.0.0/16', '10.245.0.0/32'],
  ])('gives pod CIDR %s the address %s', (podCIDR, address) => expect(deviceSpec({ ...base, podCIDR }).address).toBe(address));
  it('follows a jumbo underlay MTU', () => expect(deviceSpec({ ...base, underlay: { ...veth0, mtu: 9000 } }).mtu).toBe(8950));
  it('has no address before the node has a pod CIDR', () => expect(deviceSpec(base)).not.toHaveProperty('address'));
  it('has no address for an IPv6 pod CIDR', () => expect(deviceSpec({ ...base, podCIDR: 'fd00:10:244::/64' })).not.toHaveProperty('address'));
});

describe('parseLinks', () => {
  it('reads lo, both veth ends and the vxlan device with their IPv4 addresses', () => {
    expect(parseLinks(LINK_JSON, ADDR_JSON)).toEqual([lo, veth1, veth0, vxlan]);
  });
  it('reads learning on, a different port and UP from a learning device', () => {
    const text = JSON.stringify([
      { ifindex: 7, ifname: 'flannel.1', flags: ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP'], mtu: 1450, address: '02:aa:bb:cc:dd:ee', linkinfo: { info_kind: 'vxlan', info_data: { id: 4, local: '172.31.99.1', link: 'veth0', port: 4789, learning: true } } },
    ]);
    expect(parseLinks(text, '[]')).toEqual([
      { name: 'flannel.1', ifindex: 7, mtu: 1450, up: true, addresses: [], kind: 'vxlan', mac: '02:aa:bb:cc:dd:ee', vni: 4, port: 4789, localIP: '172.31.99.1', underlay: 'veth0', learning: true },
    ]);
  });
  it('ignores IPv6 entries and links without a name, MTU or ifindex', () => {
    const links = JSON.stringify([{ ifname: 'x', mtu: 1500 }, { ifindex: 9, mtu: 1500 }, { ifindex: 3, ifname: 'veth0', mtu: 1500, flags: ['UP'] }, 'junk']);
    const addrs = JSON.stringify([{ ifname: 'veth0', addr_info: [{ family: 'inet6', local: 'fe80::1', prefixlen: 64 }, { family: 'inet', local: '172.31.99.1', prefixlen: 24 }] }]);
    expect(parseLinks(links, addrs)).toEqual([{ name: 'veth0', ifindex: 3, mtu: 1500, up: true, addresses: ['172.31.99.1/24'] }]);
  });
  it.each([
    ['empty output', '', ''],
    ['whitespace', '\n', ' \n'],
    ['empty arrays', '[]', '[]'],
  ])('reads %s as no links', (_name, links, addrs) => expect(parseLinks(links, addrs)).toEqual([]));
  it.each([
    ['link output that is not JSON', 'Error: nope', '[]'],
    ['address output that is not JSON', '[]', '[{"ifname":'],
    ['link output that is not an array', '{"ifname":"lo"}', '[]'],
  ])('rejects %s', (_name, links, addrs) => expect(() => parseLinks(links, addrs)).toThrow(OverlayObserveError));
});

describe('findUnderlay', () => {
  const links = [lo, veth1, veth0, vxlan];
  it('takes the interface named by --iface', () => expect(findUnderlay(links, '172.31.99.1', 'veth1')).toBe(veth1));
  it('takes the interface holding the node IP', () => expect(findUnderlay(links, '172.31.99.1')).toBe(veth0));
  it('matches a secondary address too', () => expect(findUnderlay(links, '172.31.99.9')).toBe(veth0));
  it('names the missing --iface and the interfaces there are', () => {
    let err: unknown;
    try {
      findUnderlay(links, '172.31.99.1', 'eth9');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(OverlayError);
    expect(err).toMatchObject({ code: 'ERR_OVERLAY_IFACE', message: expect.stringMatching(/--iface eth9: no such interface.*lo, veth1, veth0, knode\.1/) });
  });
  it.each(['172.31.99.2', '172.31.99.10', '172.31.9.1'])('names the node IP %s when no interface holds it, and points at --iface', (nodeIP) => {
    expect(() => findUnderlay(links, nodeIP)).toThrow(expect.objectContaining({ code: 'ERR_OVERLAY_IFACE', message: expect.stringMatching(new RegExp(`node IP ${nodeIP.replaceAll('.', '\\.')};.*--iface`)) }));
  });
});

describe('planDevice', () => {
  it('creates an absent device: add, mtu, address, up, in that order', () => expect(planDevice(want, undefined)).toEqual(CREATE));
  it('creates an absent device without an address before the pod CIDR is known', () => {
    expect(planDevice(withoutAddress(want), undefined)).toEqual([ADD, 'link set knode.1 mtu 1450', 'link set knode.1 up']);
  });
  it('leaves a matching device alone', () => expect(planDevice(want, have)).toEqual([]));
  it('leaves a matching device without an address alone while none is wanted', () => expect(planDevice(withoutAddress(want), { ...have, addresses: [] })).toEqual([]));

  it.each<[string, (l: ObservedLink) => ObservedLink]>([
    ['another VNI', (l) => ({ ...l, vni: 2 })],
    ['another UDP port', (l) => ({ ...l, port: 4789 })],
    ['another local address', (l) => ({ ...l, localIP: '172.31.99.9' })],
    ['another underlay link', (l) => ({ ...l, underlay: 'veth1' })],
    ['learning on', (l) => ({ ...l, learning: true })],
    ['learning not reported', withoutLearning],
    ['another MAC', (l) => ({ ...l, mac: '02:00:00:00:00:99' })],
    ['another kind (a veth named knode.1)', (l) => ({ ...l, kind: 'veth' })],
  ])('re-creates a device with %s', (_name, mutate) => expect(planDevice(want, mutate(have))).toEqual(RECREATE));

  it.each<[string, (l: ObservedLink) => ObservedLink, DeviceSpec, string[]]>([
    ['a wrong MTU: only the MTU', (l) => ({ ...l, mtu: 1500 }), want, ['link set knode.1 mtu 1450']],
    ['a missing address: adds it', (l) => ({ ...l, addresses: [] }), want, ['addr replace 10.244.1.0/32 dev knode.1']],
    ['an extra address: deletes it', (l) => ({ ...l, addresses: ['10.244.1.0/32', '10.244.9.9/24'] }), want, ['addr del 10.244.9.9/24 dev knode.1']],
    ['a changed address: deletes the old, adds the new', (l) => ({ ...l, addresses: ['10.244.2.0/32'] }), want, ['addr del 10.244.2.0/32 dev knode.1', 'addr replace 10.244.1.0/32 dev knode.1']],
    ['the right address with another prefix length', (l) => ({ ...l, addresses: ['10.244.1.0/24'] }), want, ['addr del 10.244.1.0/24 dev knode.1', 'addr replace 10.244.1.0/32 dev knode.1']],
    // the pod CIDR is not known yet (agent start): the address, and with it every peer route, stays
    ['an address while the pod CIDR is unknown: keeps it', (l) => l, withoutAddress(want), []],
    ['the device down: brings it up', (l) => ({ ...l, up: false }), want, ['link set knode.1 up']],
    ['everything repairable off at once', (l) => ({ ...l, mtu: 1400, up: false, addresses: [] }), want, ['link set knode.1 mtu 1450', 'addr replace 10.244.1.0/32 dev knode.1', 'link set knode.1 up']],
  ])('repairs in place %s', (_name, mutate, w, lines) => expect(planDevice(w, mutate(have))).toEqual(lines));

  it('re-creates without re-adding a stale address', () => {
    expect(planDevice(want, { ...have, vni: 7, addresses: ['10.244.2.0/32'] })).toEqual(RECREATE);
  });
});

describe('VxlanDevice', () => {
  const links = [lo, veth1, veth0];

  it('creates the device in one `ip -batch -`', async () => {
    const exec = new FakeExec();
    expect(await new VxlanDevice({ exec }).ensure(want, links)).toEqual(CREATE);
    expect(exec.calls).toEqual([{ argv: ['ip', '-batch', '-'], stdin: `${CREATE.join('\n')}\n` }]);
  });

  it('runs the batch inside the namespace it was given', async () => {
    const exec = new FakeExec();
    await new VxlanDevice({ exec, netns: NS }).ensure(want, [...links, { ...have, port: 4789 }]);
    expect(exec.calls).toEqual([{ argv: ['nsenter', `--net=${NS}`, 'ip', '-batch', '-'], stdin: `${RECREATE.join('\n')}\n` }]);
  });

  it('runs nothing when the device is already right', async () => {
    const exec = new FakeExec();
    expect(await new VxlanDevice({ exec, netns: NS }).ensure(want, [...links, have])).toEqual([]);
    expect(exec.calls).toEqual([]);
  });

  it('fails with the batch stderr when ip exits non-zero', async () => {
    const exec = new FakeExec(() => ({ code: 2, stderr: 'RTNETLINK answers: Address already in use\nCommand failed -:1\n' }));
    const ensure = new VxlanDevice({ exec }).ensure(want, links);
    await expect(ensure).rejects.toBeInstanceOf(OverlayApplyError);
    await expect(ensure).rejects.toThrow(/ip -batch - exited with code 2 setting up knode\.1: RTNETLINK answers: Address already in use/);
  });

  it('refuses, running nothing, when the underlay link is gone', async () => {
    const exec = new FakeExec();
    await expect(new VxlanDevice({ exec }).ensure(want, [lo, veth1])).rejects.toMatchObject({ code: 'ERR_OVERLAY_IFACE', message: expect.stringContaining('veth0') });
    expect(exec.calls).toEqual([]);
  });

  it('reads links and addresses inside its namespace', async () => {
    const exec = new FakeExec(({ argv }) => ({ stdout: argv.includes('addr') ? ADDR_JSON : LINK_JSON }));
    expect(await new VxlanDevice({ exec, netns: NS }).links()).toEqual([lo, veth1, veth0, vxlan]);
    expect(exec.commands().sort()).toEqual([`nsenter --net=${NS} ip -j -4 addr show`, `nsenter --net=${NS} ip -j -d link show`]);
  });

  it('fails links() with the stderr of a failing read', async () => {
    const exec = new FakeExec(() => ({ code: 1, stderr: 'Cannot open network namespace "x": No such file or directory' }));
    await expect(new VxlanDevice({ exec, netns: NS }).links()).rejects.toThrow(OverlayObserveError);
    await expect(new VxlanDevice({ exec, netns: NS }).links()).rejects.toThrow(/Cannot open network namespace/);
  });

  it.each([
    ['1\n', true],
    ['0\n', false],
  ])('reads ip_forward %j as %s', async (stdout, on) => {
    const exec = new FakeExec(() => ({ stdout }));
    expect(await new VxlanDevice({ exec, netns: NS }).forwarding()).toBe(on);
    expect(exec.commands()).toEqual([`nsenter --net=${NS} cat /proc/sys/net/ipv4/ip_forward`]);
  });
});
