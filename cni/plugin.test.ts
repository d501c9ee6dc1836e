import { describe, expect, it } from 'vitest';
import { FakeExec, type ExecCall } from '../lib/exec.js';
import { CniError } from './errors.js';
import { NetExecutor } from './executor.js';
import { FakeStore } from './ipam/store.js';
import type { FastPathPod, PodFastPath } from './fastpath/fastpath.js';
import { hostVethMac, hostVethName } from './names.js';
import { FakeNodeNet, NodeNetUnavailableError, type NodeNet } from './netlink-node.js';
import { FakeNodeHost } from './node-host.js';
import { createPlugin } from './plugin.js';
import { renderNodeOp } from './plan.js';
import { parseRequest } from './request.js';
import type { AddRequest, CheckRequest, DelRequest, GcRequest, StatusRequest } from './types.js';

const NETNS = '/run/netns/pod1';
const key = { containerId: 'c1', ifname: 'eth0' };
const veth = hostVethName(key);

/** A node whose `ip` acts on FakeNodeHost's link set, with one underlay link eth0 (MTU 1500). */
function rig(opts: { failPod?: boolean; failNft?: boolean; nodeNet?: NodeNet; fastPath?: PodFastPath } = {}) {
  const host = new FakeNodeHost();
  host.files.set(NETNS, '');
  host.links.add('eth0');
  host.routeTable = [{ iface: 'eth0', dst: 0xac1f6300, mask: 0xffffff00, gateway: 0, metric: 0 }];
  const exec = new FakeExec((call: ExecCall) => {
    const argv = call.argv.join(' ');
    if (argv.includes(' -j ')) {
      return { stdout: `${JSON.stringify([...host.links].map((ifname) => ({ ifname, mtu: ifname === 'lo' ? 65536 : 1500 })))}\n` };
    }
    if (argv.startsWith('/ns/nsenter')) return opts.failPod ? { code: 1, stderr: 'RTNETLINK answers: File exists\nCommand failed -:3' } : {};
    if (argv.startsWith('/ip/ip')) {
      for (const line of (call.stdin ?? '').split('\n')) {
        const add = /^link add name (\S+)/.exec(line);
        if (add?.[1]) host.links.add(add[1]);
        const del = /^link del dev (\S+)/.exec(line);
        if (del?.[1]) host.links.delete(del[1]);
        if (line.startsWith('addr replace')) host.routeTable.push({ iface: 'knode0', dst: 0x0af40100, mask: 0xffffff00, gateway: 0, metric: 0 });
      }
      return {};
    }
    if (argv.startsWith('/nft/nft')) return opts.failNft ? { code: 1, stderr: 'Error: nope' } : {};
    return { code: 127 };
  });
  const store = new FakeStore();
  const plugin = createPlugin({
    net: new NetExecutor(exec, { ip: '/ip/ip', nft: '/nft/nft', nsenter: '/ns/nsenter' }),
    host,
    openStore: () => store,
    ...(opts.nodeNet !== undefined ? { nodeNet: opts.nodeNet } : {}),
    ...(opts.fastPath !== undefined ? { fastPath: opts.fastPath } : {}),
  });
  return { host, exec, store, plugin };
}

const conf = (extra: Record<string, unknown> = {}) =>
  JSON.stringify({ cniVersion: '1.1.0', name: 'knode', type: 'knode-cni', podCIDR: '10.244.1.0/24', dataDir: '/data', ...extra });
const env = (command: string) => ({ CNI_COMMAND: command, CNI_CONTAINERID: 'c1', CNI_NETNS: NETNS, CNI_IFNAME: 'eth0', CNI_PATH: '/opt/cni/bin' });
const addReq = (extra: Record<string, unknown> = {}) => parseRequest(env('ADD'), conf(extra)) as AddRequest;
const delReq = () => parseRequest(env('DEL'), conf()) as DelRequest;

async function cniCode(p: Promise<unknown>): Promise<number | undefined> {
  try {
    await p;
    return undefined;
  } catch (err) {
    return err instanceof CniError ? err.cniCode : -1;
  }
}

describe('ADD', () => {
  it('served with a NodeNet (the agent netlink socket): the node ops go there, only the pod part is an exec', async () => {
    const nodeNet = new FakeNodeNet();
    const { plugin, exec } = rig({ nodeNet });
    const result = await plugin.add(addReq({ mtu: 1450 }));
    expect(result.ips[0]?.address).toBe('10.244.1.2/24');
    expect(exec.calls.map((c) => c.argv.slice(0, 3).join(' '))).toEqual(['/ns/nsenter --net=/run/netns/pod1 --']);
    expect(nodeNet.applied.map((ops) => ops.map(renderNodeOp))).toEqual([
      [
        expect.stringMatching(/^link add name knode0 address \S+ mtu 1450 type bridge$/),
        'addr replace 10.244.1.1/24 dev knode0',
        'link set dev knode0 up',
        expect.stringMatching(new RegExp(`^link add name ${veth} address \\S+ mtu 1450 type veth peer name eth0 address \\S+ mtu 1450 netns /run/netns/pod1$`)),
        `link set dev ${veth} master knode0`,
        `link set dev ${veth} type bridge_slave hairpin on`,
        `link set dev ${veth} up`,
      ],
    ]);
  });

  it('served with a NodeNet whose socket cannot be opened: the node ops go through one ip -batch instead', async () => {
    const nodeNet: NodeNet = { apply: () => Promise.reject(new NodeNetUnavailableError('cannot open a netlink socket: ENOMEM')) };
    const { plugin, exec } = rig({ nodeNet });
    const result = await plugin.add(addReq({ mtu: 1450 }));
    expect(result.ips[0]?.address).toBe('10.244.1.2/24');
    const batches = exec.calls.filter((c) => c.argv.includes('-batch'));
    expect(batches.map((c) => c.stdin ?? '').join('')).toContain('type bridge_slave hairpin on');
  });

  it('served with a NodeNet that fails: rolls back the IP and the record, reports code 101', async () => {
    const nodeNet = new FakeNodeNet((op) => op.kind === 'veth-add');
    const { plugin, store } = rig({ nodeNet });
    expect(await cniCode(plugin.add(addReq({ mtu: 1450 })))).toBe(101);
    expect(store.getAttachment(key)).toBeUndefined();
    expect(store.ipOwner('10.244.1.2')).toBeUndefined();
  });

  it('on a fresh node: detects MTU 1500 - 50, creates the bridge and the pair, records and reserves the IP', async () => {
    const { plugin, exec, store, host } = rig();
    const result = await plugin.add(addReq());
    expect(result.ips).toEqual([{ address: '10.244.1.2/24', gateway: '10.244.1.1', interface: 2 }]);
    expect(result.interfaces.map((i) => i.mtu)).toEqual([1450, 1450, 1450]);
    expect(exec.calls.map((c) => c.argv.slice(0, 3).join(' '))).toEqual(['/ip/ip -j -d', '/ip/ip -batch -', '/ns/nsenter --net=/run/netns/pod1 --']);
    expect(exec.calls[1]!.stdin).toContain('link add name knode0');
    expect(store.getAttachment(key)).toMatchObject({ ip: '10.244.1.2', hostVeth: veth, netns: NETNS });
    expect(store.ipOwner('10.244.1.2')).toEqual(key);
    expect(host.files.get('/data/bridge.json')).toBe('{"bridge":"knode0","mtu":1450}\n');
  });

  it('on a ready bridge with a remembered MTU: two execs, no query', async () => {
    const { plugin, exec } = rig();
    await plugin.add(addReq());
    exec.calls.length = 0;
    await plugin.add(parseRequest({ ...env('ADD'), CNI_CONTAINERID: 'c2' }, conf()) as AddRequest);
    expect(exec.calls).toHaveLength(2);
    expect(exec.calls[0]!.stdin).not.toContain('link add name knode0');
  });

  it('takes the pod CIDR and MTU from the node state file the agent writes', async () => {
    const { plugin, host, exec } = rig();
    host.files.set('/run/knode/cni/knode/node.json', JSON.stringify({ podCIDR: '10.244.7.0/24', mtu: 1400 }));
    const r = await plugin.add(parseRequest(env('ADD'), conf({ podCIDR: undefined })) as AddRequest);
    expect(r.ips[0]!.address).toBe('10.244.7.2/24');
    expect(r.interfaces[0]!.mtu).toBe(1400);
    expect(exec.calls.some((c) => c.argv.includes('-j'))).toBe(false);
  });

  it('answers 11 (try again later) while the node has no pod CIDR yet, and changes nothing', async () => {
    const { plugin, exec, store } = rig();
    expect(await cniCode(plugin.add(parseRequest(env('ADD'), conf({ podCIDR: undefined })) as AddRequest))).toBe(11);
    expect(exec.calls).toEqual([]);
    expect(store.ips.size).toBe(0);
  });

  it('answers 4 when the netns does not exist', async () => {
    const { plugin } = rig();
    expect(await cniCode(plugin.add(parseRequest({ ...env('ADD'), CNI_NETNS: '/run/netns/gone' }, conf()) as AddRequest))).toBe(4);
  });

  it('rolls everything back when the pod side fails: veth deleted, record gone, IP free', async () => {
    const { plugin, store, host, exec } = rig({ failPod: true });
    expect(await cniCode(plugin.add(addReq()))).toBe(101);
    expect(host.links.has(veth)).toBe(false);
    expect(exec.calls.at(-1)!.stdin).toBe(`link del dev ${veth}\n`);
    expect(store.attachments.size).toBe(0);
    expect(store.ips.size).toBe(0);
  });

  it('programs host ports with route_localnet on the bridge, and removes them again when nft fails', async () => {
    const ports = { runtimeConfig: { portMappings: [{ HostPort: 8080, ContainerPort: 80, Protocol: 'TCP' }] } };
    const ok = rig();
    await ok.plugin.add(addReq(ports));
    const nft = ok.exec.calls.find((c) => c.argv[0] === '/nft/nft');
    expect(nft?.stdin).toContain('tcp . 8080 : 10.244.1.2 . 80');
    expect(ok.host.sysctls.get('net/ipv4/conf/knode0/route_localnet')).toBe('1');

    const bad = rig({ failNft: true });
    expect(await cniCode(bad.plugin.add(addReq(ports)))).toBe(101);
    expect(bad.store.attachments.size).toBe(0);
    expect(bad.store.ips.size).toBe(0);
    expect(bad.host.links.has(veth)).toBe(false);
  });
});

describe('DEL', () => {
  it('removes veth, IP and record, and a second DEL is a quiet no-op', async () => {
    const { plugin, store, host, exec } = rig();
    await plugin.add(addReq());
    await plugin.del(delReq());
    expect(host.links.has(veth)).toBe(false);
    expect(store.ips.size + store.attachments.size).toBe(0);
    exec.calls.length = 0;
    await plugin.del(delReq());
    expect(exec.calls).toEqual([]);
  });

  it('frees an IP reserved by an ADD killed before it wrote its record', async () => {
    const { plugin, store } = rig();
    store.reserveIp('10.244.1.9', key);
    await plugin.del(delReq());
    expect(store.ips.size).toBe(0);
  });

  it('rebuilds the host-port table without the pod', async () => {
    const { plugin, exec } = rig();
    await plugin.add(addReq({ runtimeConfig: { portMappings: [{ hostPort: 8080, containerPort: 80 }] } }));
    await plugin.del(delReq());
    expect(exec.calls.at(-1)!.stdin).toBe('add table inet knode-hostport\ndelete table inet knode-hostport\n');
  });
});

describe('GC', () => {
  it('removes attachments the runtime no longer lists and keeps the valid ones', async () => {
    const { plugin, store, host } = rig();
    await plugin.add(addReq());
    await plugin.add(parseRequest({ ...env('ADD'), CNI_CONTAINERID: 'keep' }, conf()) as AddRequest);
    store.reserveIp('10.244.1.200', { containerId: 'killed', ifname: 'eth0' });
    const gc = parseRequest({ CNI_COMMAND: 'GC', CNI_PATH: '/x' }, conf({ 'cni.dev/valid-attachments': [{ containerID: 'keep', ifname: 'eth0' }] }));
    await plugin.gc(gc as GcRequest);
    expect([...store.ips.keys()]).toEqual(['10.244.1.3']);
    expect(store.listAttachments().map((a) => a.containerId)).toEqual(['keep']);
    expect(host.links.has(veth)).toBe(false);
    expect(host.links.has(hostVethName({ containerId: 'keep', ifname: 'eth0' }))).toBe(true);
  });
});

describe('the pod fast path', () => {
  class RecordingFastPath implements PodFastPath {
    readonly events: string[] = [];
    readonly added: FastPathPod[] = [];
    async addPod(p: FastPathPod): Promise<void> {
      this.events.push(`add ${p.ip}`);
      this.added.push(p);
    }
    async removePod(ip: string): Promise<void> {
      this.events.push(`remove ${ip}`);
    }
  }

  it('gets each pod after a successful ADD, and loses it at DEL and GC before its veth goes', async () => {
    const fastPath = new RecordingFastPath();
    const { plugin, host } = rig({ fastPath });
    await plugin.add(addReq());
    expect(fastPath.added).toEqual([{ ip: '10.244.1.2', hostVeth: veth, podMac: '0a:58:0a:f4:01:02', hostMac: hostVethMac(key) }]);
    await plugin.add(parseRequest({ ...env('ADD'), CNI_CONTAINERID: 'other' }, conf()) as AddRequest);
    let vethAtRemoval: boolean | undefined;
    fastPath.removePod = async (ip) => {
      fastPath.events.push(`remove ${ip}`);
      vethAtRemoval ??= host.links.has(veth);
    };
    await plugin.del(delReq());
    expect(vethAtRemoval).toBe(true);
    await plugin.del(delReq()); // nothing recorded any more: nothing to remove
    await plugin.gc(parseRequest({ CNI_COMMAND: 'GC', CNI_PATH: '/x' }, conf({ 'cni.dev/valid-attachments': [] })) as GcRequest);
    expect(fastPath.events).toEqual(['add 10.244.1.2', 'add 10.244.1.3', 'remove 10.244.1.2', 'remove 10.244.1.3']);
  });

  it('is not told about an ADD that failed and was rolled back', async () => {
    const fastPath = new RecordingFastPath();
    const { plugin } = rig({ fastPath, failPod: true });
    expect(await cniCode(plugin.add(addReq()))).not.toBeUndefined();
    expect(fastPath.events).toEqual([]);
  });
});

describe('CHECK and STATUS', () => {
  it('CHECK of an unknown container is code 3', async () => {
    const { plugin } = rig();
    const req = parseRequest(env('CHECK'), conf({ prevResult: { ips: [] } })) as CheckRequest;
    expect(await cniCode(plugin.check(req))).toBe(3);
  });

  it('STATUS is 50 until the node has a pod CIDR, then fine', async () => {
    const { plugin, host } = rig();
    const req = parseRequest({ CNI_COMMAND: 'STATUS', CNI_PATH: '/x' }, conf({ podCIDR: undefined })) as StatusRequest;
    expect(await cniCode(plugin.status(req))).toBe(50);
    host.files.set('/run/knode/cni/knode/node.json', '{"podCIDR":"10.244.3.0/24"}');
    expect(await cniCode(plugin.status(req))).toBeUndefined();
  });
});
