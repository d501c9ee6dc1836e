/**
 * The fast path helper (knode-fastpath) against the real kernel, as root: the programs the build
 * made (dist/cni/fastpath/) loaded into a throwaway bpffs directory, attached to links of a throwaway
 * network namespace, and the map and errors as the agent sees them. Both are removed afterwards (also
 * after failures). What the programs do to packets is checked on a lab (test/overlay.test.ts).
 *
 * Namespace: knode-fpt-<random>, with veth pairs v0/v1 (a "pod veth"), knode.1/k1 (knode.1 stands for
 * the VXLAN device) and u0/u1 (u0 for the underlay); nothing is added to the root namespace.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mustRun, realExec } from '../../lib/exec.js';
import type { ExecResult } from '../../lib/exec.js';
import { parsePeers, parsePods, parseStats } from './fastpath.js';

const isRoot = process.getuid?.() === 0;
const NS = `knode-fpt-${randomBytes(3).toString('hex')}`;
const DIR = `/sys/fs/bpf/knode-test-${randomBytes(3).toString('hex')}`;
const BUILT = join(import.meta.dirname, '..', '..', 'dist', 'cni', 'fastpath');
const HELPER = join(BUILT, 'knode-fastpath');
const OBJECT = join(BUILT, 'fastpath.bpf.o');

/** The helper inside the namespace; nsenter keeps the mount namespace, where bpffs is (ip netns exec would hide it). */
function helper(...args: string[]): Promise<ExecResult> {
  return realExec.run(['nsenter', `--net=/run/netns/${NS}`, HELPER, ...args]);
}

async function ingressFilters(dev: string): Promise<string> {
  return (await mustRun(realExec, ['ip', 'netns', 'exec', NS, 'tc', 'filter', 'show', 'dev', dev, 'ingress'])).stdout;
}

async function ifindex(dev: string): Promise<number> {
  const out = (await mustRun(realExec, ['ip', '-n', NS, '-j', 'link', 'show', dev])).stdout;
  return (JSON.parse(out) as Array<{ ifindex: number }>)[0]?.ifindex ?? -1;
}

describe.skipIf(!isRoot)('knode-fastpath on the real kernel', () => {
  beforeAll(async () => {
    for (const f of [HELPER, OBJECT]) {
      if (!existsSync(f)) throw new Error(`${f} is missing: run npm run build (it needs clang and libbpf-dev)`);
    }
    await mustRun(realExec, ['ip', 'netns', 'add', NS]);
    for (const args of [
      ['link', 'add', 'v0', 'type', 'veth', 'peer', 'name', 'v1'],
      ['link', 'add', 'knode.1', 'type', 'veth', 'peer', 'name', 'k1'],
      ['link', 'add', 'u0', 'type', 'veth', 'peer', 'name', 'u1'],
      ['link', 'set', 'v0', 'up'],
    ]) {
      await mustRun(realExec, ['ip', '-n', NS, ...args]);
    }
  });

  afterAll(async () => {
    if (existsSync(`/run/netns/${NS}`)) await mustRun(realExec, ['ip', 'netns', 'del', NS]);
    rmSync(DIR, { recursive: true, force: true });
  });

  it('says what is missing when the fast path was never loaded, naming the pin', async () => {
    const r = await helper('pods', DIR);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`knode-fastpath: opening ${DIR}/maps/knode_pods: No such file or directory (is the fast path loaded?)\n`);
  });

  it('loads the programs and pins them with their maps', async () => {
    const r = await helper('load', DIR, OBJECT);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(readdirSync(DIR).sort()).toEqual(['from_pod', 'from_underlay', 'maps']);
    expect(readdirSync(join(DIR, 'maps')).sort()).toEqual(['knode_config', 'knode_peers', 'knode_pods', 'knode_stats']);
    const early = await helper('enable', DIR);
    expect([early.code, early.stderr]).toEqual([1, `knode-fastpath: ${DIR} has no settings yet: run config first\n`]);
  });

  it('refuses bad settings with the value named, and attaches from_underlay with good ones', async () => {
    const bad = [
      [['10.244.0.0/33', '10.244.1.0/24', '172.31.99.1', 'knode.1', '1', '8472'], 'knode-fastpath: invalid CIDR 10.244.0.0/33\n'],
      [['10.244.0.0/16', '10.244.1.0/24', '172.31.99.1', 'nosuch0', '1', '8472'], 'knode-fastpath: no link nosuch0: No such device\n'],
      [['10.244.0.0/16', '10.244.1.0/24', '172.31.99.1', 'knode.1', '16777216', '8472'], 'knode-fastpath: invalid VNI 16777216\n'],
      [['10.244.0.0/16', '10.244.1.0/24', '172.31.99.1', 'knode.1', '1', '65536'], 'knode-fastpath: invalid port 65536\n'],
    ] as const;
    for (const [args, message] of bad) {
      const r = await helper('config', DIR, ...args);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(message);
    }
    expect((await helper('config', DIR, '10.244.0.0/16', '10.244.1.0/24', '172.31.99.1', 'knode.1', '1', '8472')).code).toBe(0);
    expect((await helper('disable', DIR)).code).toBe(0);
    expect((await helper('enable', DIR)).code).toBe(0);
    expect((await helper('attach', DIR, 'from_underlay', 'u0')).code).toBe(0);
    expect(await ingressFilters('u0')).toMatch(/bpf chain 0 handle 0x1 from_underlay.* direct-action/);
    const r = await helper('attach', DIR, 'from_nowhere', 'u0');
    expect([r.code, r.stderr]).toEqual([1, 'knode-fastpath: unknown program from_nowhere (from_pod, from_underlay)\n']);
  });

  it('takes a pod: from_pod on its veth and an entry in the map; bad input changes nothing', async () => {
    expect((await helper('pod-add', DIR, '10.244.1.5', 'v0', '0a:58:0a:f4:01:05', '02:11:22:33:44:55')).code).toBe(0);
    expect(await ingressFilters('v0')).toMatch(/from_pod.* direct-action/);
    const expected = [{ ip: '10.244.1.5', ifindex: await ifindex('v0'), podMac: '0a:58:0a:f4:01:05', hostMac: '02:11:22:33:44:55' }];
    expect(parsePods((await helper('pods', DIR)).stdout)).toEqual(expected);
    for (const [args, message] of [
      [['10.244.1.600', 'v0', '0a:58:0a:f4:01:05', '02:11:22:33:44:55'], 'knode-fastpath: invalid IPv4 address 10.244.1.600\n'],
      [['10.244.1.6', 'v0', '0a:58:0a:f4:01', '02:11:22:33:44:55'], 'knode-fastpath: invalid MAC address 0a:58:0a:f4:01\n'],
      [['10.244.1.6', 'nosuch0', '0a:58:0a:f4:01:06', '02:11:22:33:44:55'], 'knode-fastpath: no link nosuch0: No such device\n'],
    ] as const) {
      const r = await helper('pod-add', DIR, ...args);
      expect([r.code, r.stderr]).toEqual([1, message]);
    }
    expect(parsePods((await helper('pods', DIR)).stdout)).toEqual(expected);
  });

  it('keeps the map across a reload (an agent restart), and removes a pod twice without complaint', async () => {
    expect((await helper('load', DIR, OBJECT)).code).toBe(0);
    expect(parsePods((await helper('pods', DIR)).stdout).map((e) => e.ip)).toEqual(['10.244.1.5']);
    expect((await helper('pod-del', DIR, '10.244.1.5')).code).toBe(0);
    expect((await helper('pod-del', DIR, '10.244.1.5')).code).toBe(0);
    expect((await helper('pods', DIR)).stdout).toBe('');
  });

  it('sets the peer map to exactly the given VTEPs; a bad argument changes nothing and is named', async () => {
    expect((await helper('peers', DIR)).stdout).toBe('');
    const a = { mac: '02:8e:ce:68:e5:f0', ip: '172.31.250.12' };
    const b = { mac: '12:7d:a2:aa:a0:ee', ip: '172.31.250.13' };
    const byMac = (x: { mac: string }, y: { mac: string }): number => x.mac.localeCompare(y.mac);
    expect((await helper('peers-set', DIR, `${a.mac}=${a.ip}`, `${b.mac.toUpperCase()}=${b.ip}`)).code).toBe(0);
    expect(parsePeers((await helper('peers', DIR)).stdout).sort(byMac)).toEqual([a, b]);
    for (const [arg, message] of [
      ['02:8e:ce:68:e5:f0', 'knode-fastpath: invalid peer 02:8e:ce:68:e5:f0 (want MAC=IP)\n'],
      ['02:8e:ce:68:e5=172.31.250.12', 'knode-fastpath: invalid MAC address 02:8e:ce:68:e5\n'],
      ['02:8e:ce:68:e5:f1=172.31.250.300', 'knode-fastpath: invalid IPv4 address 172.31.250.300\n'],
    ] as const) {
      const r = await helper('peers-set', DIR, `${b.mac}=172.31.250.99`, arg);
      expect([r.code, r.stderr]).toEqual([1, message]);
    }
    expect(parsePeers((await helper('peers', DIR)).stdout).sort(byMac)).toEqual([a, b]);
    const moved = { ...b, ip: '172.31.250.14' };
    expect((await helper('peers-set', DIR, `${moved.mac}=${moved.ip}`)).code).toBe(0);
    expect(parsePeers((await helper('peers', DIR)).stdout)).toEqual([moved]);
    expect((await helper('peers-set', DIR)).code).toBe(0);
    expect((await helper('peers', DIR)).stdout).toBe('');
  });

  it('replaces a full peer map by another full one (the old entries go first, making room)', async () => {
    const set = (first: number): string[] =>
      Array.from({ length: 1024 }, (_, i) => {
        const n = first + i;
        return `02:00:00:00:${((n >> 8) & 0xff).toString(16).padStart(2, '0')}:${(n & 0xff).toString(16).padStart(2, '0')}=172.31.${(n >> 8) & 0xff}.${n & 0xff}`;
      });
    for (const first of [0, 1024]) {
      const r = await helper('peers-set', DIR, ...set(first));
      expect([r.code, r.stderr]).toEqual([0, '']);
      const peers = parsePeers((await helper('peers', DIR)).stdout);
      expect(peers).toHaveLength(1024);
      expect(peers.map((p) => `${p.mac}=${p.ip}`).sort()).toEqual(set(first).sort());
    }
    const over = await helper('peers-set', DIR, ...set(0), '02:00:00:00:ff:ff=172.31.255.255');
    expect([over.code, over.stderr]).toEqual([1, 'knode-fastpath: 1025 peers: the map holds 1024\n']);
    expect((await helper('peers-set', DIR)).code).toBe(0);
  });

  it('reports its five counters, and detaches from a link (twice, and from a missing one, quietly)', async () => {
    const stats = parseStats((await helper('stats', DIR)).stdout);
    expect([...stats.keys()]).toEqual(['pod_redirected', 'pod_passed', 'pod_encapsulated', 'underlay_redirected', 'underlay_passed']);
    for (const dev of ['u0', 'u0', 'nosuch0']) expect((await helper('detach', dev)).code).toBe(0);
    expect(await ingressFilters('u0')).toBe('');
  });

  it('answers a wrong command line with its usage (exit 2)', async () => {
    const r = await helper('pods');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^knode-fastpath: usage: load DIR OBJECT \| config /);
  });
});
