/**
 * The VXLAN device and the masquerade table against the real kernel, as root, inside one throwaway
 * network namespace that the suite creates and deletes (also after failures).
 *
 * IP plan (inside the namespace only; nothing is added to the root namespace):
 *   knode-ovt-<random>   lo up, underlay veth u0 172.31.99.1/24 MTU 1400 (peer u1, both ends inside,
 *                        so nothing leaves it), the VXLAN device knode.1 on u0
 *   10.244.0.0/16        cluster CIDR; this node's pod CIDR 10.244.1.0/24, VTEP address 10.244.1.0/32
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mustRun, realExec } from '../../lib/exec.js';
import type { DeviceSpec, ObservedLink } from './device.js';
import { VxlanDevice, deviceMAC, deviceSpec, findUnderlay } from './device.js';
import { MASQUERADE_TABLE, applyMasquerade } from './masquerade.js';

const isRoot = process.getuid?.() === 0;

const NS = `knode-ovt-${randomBytes(3).toString('hex')}`;
const NS_PATH = `/run/netns/${NS}`;
const NODE_IP = '172.31.99.1';
const CLUSTER_CIDR = '10.244.0.0/16';

function ipn(...args: string[]): Promise<unknown> {
  return mustRun(realExec, ['ip', '-n', NS, ...args]);
}

async function deleteNamespace(): Promise<void> {
  if (existsSync(NS_PATH)) await mustRun(realExec, ['ip', 'netns', 'del', NS]);
}

function device(links: readonly ObservedLink[]): ObservedLink | undefined {
  return links.find((l) => l.name === 'knode.1');
}

interface NftObject {
  readonly table?: { readonly family: string; readonly name: string };
  readonly chain?: { readonly name: string; readonly type?: string; readonly hook?: string; readonly prio?: number; readonly policy?: string };
  readonly rule?: { readonly chain: string; readonly expr: readonly Record<string, unknown>[] };
}

/** One line per rule of `nft -j list table`, e.g. `saddr 10.244.0.0/16 daddr 224.0.0.0/4 return`. */
function describeRule(expr: readonly Record<string, unknown>[]): string {
  return expr
    .map((e) => {
      const m = e['match'] as { left?: { payload?: { field?: string } }; right?: { prefix?: { addr: string; len: number } } } | undefined;
      if (m !== undefined) return `${m.left?.payload?.field ?? '?'} ${m.right?.prefix?.addr ?? '?'}/${m.right?.prefix?.len ?? '?'}`;
      return Object.keys(e).join(',');
    })
    .join(' ');
}

describe.skipIf(!isRoot)('VxlanDevice and masquerade on the real kernel', () => {
  const dev = new VxlanDevice({ exec: realExec, netns: NS_PATH });
  let spec: DeviceSpec;

  beforeAll(async () => {
    await mustRun(realExec, ['ip', 'netns', 'add', NS]);
    try {
      await ipn('link', 'set', 'lo', 'up');
      await ipn('link', 'add', 'u0', 'mtu', '1400', 'type', 'veth', 'peer', 'name', 'u1', 'mtu', '1400');
      await ipn('addr', 'add', `${NODE_IP}/24`, 'dev', 'u0');
      await ipn('link', 'set', 'u0', 'up');
      await ipn('link', 'set', 'u1', 'up');
      const links = await dev.links();
      spec = deviceSpec({ name: 'knode.1', vni: 1, port: 8472, nodeName: 'node-1', localIP: NODE_IP, underlay: findUnderlay(links, NODE_IP), podCIDR: '10.244.1.0/24' });
    } catch (err) {
      await deleteNamespace();
      throw err;
    }
  });

  afterAll(async () => {
    await deleteNamespace();
    expect(existsSync(NS_PATH)).toBe(false);
  });

  it('finds the underlay by the node IP and derives the spec from it', () => {
    expect(spec).toEqual({ name: 'knode.1', vni: 1, port: 8472, localIP: NODE_IP, underlay: 'u0', mtu: 1350, mac: deviceMAC('node-1'), address: '10.244.1.0/32' });
  });

  it('creates knode.1 as specified: vxlan, VNI, port, local, no learning, MAC, MTU, /32, up', async () => {
    const before = await dev.links();
    expect(device(before)).toBeUndefined();
    expect(await dev.ensure(spec, before)).toHaveLength(4);
    expect(device(await dev.links())).toMatchObject({
      kind: 'vxlan',
      vni: 1,
      port: 8472,
      localIP: NODE_IP,
      underlay: 'u0',
      learning: false,
      mac: spec.mac,
      mtu: 1350,
      addresses: ['10.244.1.0/32'],
      up: true,
    });
  });

  it('changes nothing on a second ensure and keeps the same link', async () => {
    const first = await dev.links();
    if (device(first) === undefined) await dev.ensure(spec, first);
    const links = await dev.links();
    const ifindex = device(links)?.ifindex;
    expect(ifindex).toBeTypeOf('number');
    expect(await dev.ensure(spec, links)).toEqual([]);
    expect(device(await dev.links())?.ifindex).toBe(ifindex);
  });

  it('repairs a changed MTU in place, keeping the link', async () => {
    await dev.ensure(spec, await dev.links());
    await ipn('link', 'set', 'knode.1', 'mtu', '1300');
    const links = await dev.links();
    const ifindex = device(links)?.ifindex;
    expect(await dev.ensure(spec, links)).toEqual(['link set knode.1 mtu 1350']);
    expect(device(await dev.links())).toMatchObject({ ifindex, mtu: 1350, up: true });
  });

  it('re-creates the device when the port changes, keeping its MAC and address', async () => {
    await dev.ensure(spec, await dev.links());
    const links = await dev.links();
    const ifindex = device(links)?.ifindex;
    const moved: DeviceSpec = { ...spec, port: 4789 };
    expect((await dev.ensure(moved, links))[0]).toBe('link del knode.1');
    const after = device(await dev.links());
    expect(after?.ifindex).not.toBe(ifindex);
    expect(after).toMatchObject({ kind: 'vxlan', vni: 1, port: 4789, learning: false, mac: spec.mac, mtu: 1350, addresses: ['10.244.1.0/32'], up: true });
    expect(await dev.ensure(moved, await dev.links())).toEqual([]);
  });

  it('reads ip_forward of the namespace (off in a fresh one)', async () => {
    expect(await dev.forwarding()).toBe(false);
  });

  it('loads the masquerade table idempotently: three rules after two loads', async () => {
    await applyMasquerade(realExec, CLUSTER_CIDR, NS_PATH);
    await applyMasquerade(realExec, CLUSTER_CIDR, NS_PATH);
    const r = await mustRun(realExec, ['nsenter', `--net=${NS_PATH}`, 'nft', '-j', 'list', 'table', 'ip', MASQUERADE_TABLE]);
    const objects = (JSON.parse(r.stdout) as { nftables: NftObject[] }).nftables;
    expect(objects.flatMap((o) => (o.table !== undefined ? [`${o.table.family} ${o.table.name}`] : []))).toEqual([`ip ${MASQUERADE_TABLE}`]);
    expect(objects.flatMap((o) => (o.chain !== undefined ? [o.chain] : []))).toEqual([
      expect.objectContaining({ name: 'postrouting', type: 'nat', hook: 'postrouting', prio: 100, policy: 'accept' }),
    ]);
    expect(objects.flatMap((o) => (o.rule !== undefined ? [`${o.rule.chain}: ${describeRule(o.rule.expr)}`] : []))).toEqual([
      'postrouting: saddr 10.244.0.0/16 daddr 10.244.0.0/16 return',
      'postrouting: saddr 10.244.0.0/16 daddr 224.0.0.0/4 return',
      'postrouting: saddr 10.244.0.0/16 masquerade',
    ]);
  });
});
