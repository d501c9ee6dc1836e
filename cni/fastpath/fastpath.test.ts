import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { FakeExec } from '../../lib/exec.js';
import { pino } from 'pino';
import { silentLogger } from '../../lib/log.js';
import type { AttachmentRecord } from '../ipam/store.js';
import { hostVethMac } from '../names.js';
import {
  builtFastPathFiles,
  configArgv,
  disableFastPath,
  FastPath,
  fastPathPods,
  loadFastPath,
  missingFastPathFiles,
  parsePeers,
  parsePods,
  parseStats,
  peersArgv,
  planReconcile,
} from './fastpath.js';
import type { FastPathNetwork, FastPathPod } from './fastpath.js';

const log = silentLogger();
const NET: FastPathNetwork = { clusterCIDR: '10.244.0.0/16', podCIDR: '10.244.1.0/24', nodeIP: '172.31.250.11', device: 'knode.1', vni: 1, port: 8472, underlay: 'eth0' };
const pod = (ip: string, hostVeth: string): FastPathPod => ({ ip, hostVeth, podMac: '0a:58:0a:f4:01:02', hostMac: '02:00:00:00:00:01' });

describe('parsePods / parsePeers / parseStats', () => {
  it('reads the helper\'s lines and ignores anything else', () => {
    expect(parsePods('10.244.1.2 5 0a:58:0a:f4:01:02 02:29:7e:8b:81:e2\n\n10.244.1.3 7 0a:58:0a:f4:01:03 02:00:00:00:00:09\ngarbage\n')).toEqual([
      { ip: '10.244.1.2', ifindex: 5, podMac: '0a:58:0a:f4:01:02', hostMac: '02:29:7e:8b:81:e2' },
      { ip: '10.244.1.3', ifindex: 7, podMac: '0a:58:0a:f4:01:03', hostMac: '02:00:00:00:00:09' },
    ]);
    expect(parsePods('')).toEqual([]);
    expect(parsePeers('02:8e:ce:68:e5:f0 172.31.250.12\nnoise\n\n12:7d:a2:aa:a0:ee 172.31.250.11\n')).toEqual([
      { mac: '02:8e:ce:68:e5:f0', ip: '172.31.250.12' },
      { mac: '12:7d:a2:aa:a0:ee', ip: '172.31.250.11' },
    ]);
    expect([...parseStats('pod_redirected 12\npod_passed 3\nnot a line\nunderlay_passed x\n')]).toEqual([
      ['pod_redirected', 12],
      ['pod_passed', 3],
    ]);
  });
});

describe('planReconcile', () => {
  it('attaches every known pod whose veth exists and removes the entries of IPs no such pod has', () => {
    const pods = [pod('10.244.1.2', 'vetha'), pod('10.244.1.3', 'vethb'), pod('10.244.1.4', 'vethgone')];
    const entries = [
      { ip: '10.244.1.2', ifindex: 5, podMac: 'x', hostMac: 'y' },
      { ip: '10.244.1.4', ifindex: 6, podMac: 'x', hostMac: 'y' }, // its veth is gone
      { ip: '10.244.1.9', ifindex: 9, podMac: 'x', hostMac: 'y' }, // no pod at all
    ];
    const plan = planReconcile(pods, entries, new Set(['vetha', 'vethb', 'eth0']));
    expect(plan.attach.map((p) => p.ip)).toEqual(['10.244.1.2', '10.244.1.3']);
    expect(plan.remove).toEqual(['10.244.1.4', '10.244.1.9']);
  });
});

describe('fastPathPods', () => {
  it('derives the MACs the way ADD chose them', () => {
    const rec: AttachmentRecord = { containerId: 'c'.repeat(64), ifname: 'eth0', ip: '10.244.1.7', podCidr: '10.244.1.0/24', hostVeth: 'veth0123456789a', netns: '/n', portMappings: [], createdAt: 0 };
    expect(fastPathPods([rec])).toEqual([{ ip: '10.244.1.7', hostVeth: 'veth0123456789a', podMac: '0a:58:0a:f4:01:07', hostMac: hostVethMac(rec) }]);
  });
});

describe('built files', () => {
  it('are looked for in dist/cni/fastpath, from the source tree and from the bundle', () => {
    expect(builtFastPathFiles('/repo/kubelet/main.ts')).toEqual({ helper: '/repo/dist/cni/fastpath/knode-fastpath', object: '/repo/dist/cni/fastpath/fastpath.bpf.o' });
    expect(builtFastPathFiles('/repo/dist/chunks/main-X.js').helper).toBe('/repo/dist/cni/fastpath/knode-fastpath');
  });

  it('name what is missing and how to build it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'knode-fp-'));
    try {
      const files = { helper: join(dir, 'knode-fastpath'), object: join(dir, 'fastpath.bpf.o') };
      writeFileSync(files.helper, '');
      expect(missingFastPathFiles(files)).toBe(`not built (${files.object} missing: the build needs clang and libbpf-dev)`);
      writeFileSync(files.object, '');
      expect(missingFastPathFiles(files)).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('FastPath', () => {
  const files = { helper: '/h/knode-fastpath', object: '/h/fastpath.bpf.o' };

  it('runs the helper with the node\'s settings, and configures again only when they change', async () => {
    const exec = new FakeExec();
    const fp = new FastPath({ ...files, dir: '/sys/fs/bpf/knode', exec, log });
    await fp.load();
    await fp.configure(NET);
    await fp.configure(NET);
    await fp.configure({ ...NET, underlay: 'ens3' });
    expect(exec.commands()).toEqual([
      '/h/knode-fastpath load /sys/fs/bpf/knode /h/fastpath.bpf.o',
      '/h/knode-fastpath config /sys/fs/bpf/knode 10.244.0.0/16 10.244.1.0/24 172.31.250.11 knode.1 1 8472',
      '/h/knode-fastpath attach /sys/fs/bpf/knode from_underlay eth0',
      '/h/knode-fastpath config /sys/fs/bpf/knode 10.244.0.0/16 10.244.1.0/24 172.31.250.11 knode.1 1 8472',
      '/h/knode-fastpath attach /sys/fs/bpf/knode from_underlay ens3',
    ]);
    expect(configArgv('/d', NET)).toEqual(['config', '/d', '10.244.0.0/16', '10.244.1.0/24', '172.31.250.11', 'knode.1', '1', '8472']);
  });

  it('sets the peer map to exactly the FDB\'s entries, sorted and in lower case, and again only when they change', async () => {
    const exec = new FakeExec();
    const fp = new FastPath({ ...files, dir: '/d', exec, log });
    const a = { mac: '12:7D:A2:AA:A0:EE', ip: '172.31.250.11' };
    const b = { mac: '02:8e:ce:68:e5:f0', ip: '172.31.250.12' };
    await fp.setPeers([a, b]);
    await fp.setPeers([b, a]);
    await fp.setPeers([b]);
    await fp.setPeers([]);
    expect(exec.commands()).toEqual([
      '/h/knode-fastpath peers-set /d 02:8e:ce:68:e5:f0=172.31.250.12 12:7d:a2:aa:a0:ee=172.31.250.11',
      '/h/knode-fastpath peers-set /d 02:8e:ce:68:e5:f0=172.31.250.12',
      '/h/knode-fastpath peers-set /d',
    ]);
    expect(peersArgv('/d', [a])).toEqual(['peers-set', '/d', '12:7d:a2:aa:a0:ee=172.31.250.11']);
  });

  it('throws from setPeers with the helper\'s message, counts it, and tries the same set again', async () => {
    const registry = new Registry();
    let fail = true;
    const exec = new FakeExec((c) => (fail && c.argv[1] === 'peers-set' ? { code: 1, stderr: 'knode-fastpath: invalid MAC address zz\n' } : undefined));
    const fp = new FastPath({ ...files, dir: '/d', exec, log, registry });
    const peers = [{ mac: '02:8e:ce:68:e5:f0', ip: '172.31.250.12' }];
    await expect(fp.setPeers(peers)).rejects.toThrow(/invalid MAC address zz/);
    expect(await registry.metrics()).toContain('knode_fastpath_failures_total{operation="set_peers"} 1');
    fail = false;
    await fp.setPeers(peers);
    expect(exec.commands().filter((c) => c.includes(' peers-set '))).toHaveLength(2);
  });

  it('throws from load and configure with the helper\'s message, and tries a failed configure again', async () => {
    let fail = true;
    const exec = new FakeExec((c) => (fail && c.argv[1] === 'config' ? { code: 1, stderr: 'knode-fastpath: no link knode.1: No such device\n' } : undefined));
    const fp = new FastPath({ ...files, dir: '/d', exec, log });
    await expect(fp.configure(NET)).rejects.toThrow(/no link knode\.1: No such device/);
    fail = false;
    await fp.configure(NET);
    expect(exec.commands().filter((c) => c.includes(' config '))).toHaveLength(2);
  });

  it('never fails a pod: add and remove errors are logged and counted, and the pod uses the normal path', async () => {
    const registry = new Registry();
    const exec = new FakeExec((c) => (c.argv[1] === 'pod-add' || c.argv[1] === 'pod-del' ? { code: 1, stderr: 'knode-fastpath: opening /d/maps/knode_pods: No such file or directory\n' } : undefined));
    const fp = new FastPath({ ...files, dir: '/d', exec, log, registry });
    await fp.addPod(pod('10.244.1.2', 'vetha'));
    await fp.removePod('10.244.1.2');
    expect(exec.commands()).toEqual(['/h/knode-fastpath pod-add /d 10.244.1.2 vetha 0a:58:0a:f4:01:02 02:00:00:00:00:01', '/h/knode-fastpath pod-del /d 10.244.1.2']);
    const metrics = await registry.metrics();
    expect(metrics).toContain('knode_fastpath_failures_total{operation="add_pod"} 1');
    expect(metrics).toContain('knode_fastpath_failures_total{operation="remove_pod"} 1');
  });

  it('exposes the programs\' counters as metrics', async () => {
    const registry = new Registry();
    const exec = new FakeExec((c) => (c.argv[1] === 'stats' ? { stdout: 'pod_redirected 10\npod_passed 2\npod_encapsulated 7\nunderlay_redirected 9\nunderlay_passed 40\n' } : undefined));
    new FastPath({ ...files, dir: '/d', exec, log, registry });
    const metrics = await registry.metrics();
    expect(metrics).toContain('knode_fastpath_packets{program="from_pod",action="redirected"} 10');
    expect(metrics).toContain('knode_fastpath_packets{program="from_pod",action="encapsulated"} 7');
    expect(metrics).toContain('knode_fastpath_packets{program="from_underlay",action="passed"} 40');
  });

  it('reconciles: attaches the live pods, removes the rest, and survives a failing listing', async () => {
    const exec = new FakeExec((c) => (c.argv[1] === 'pods' ? { stdout: '10.244.1.9 4 0a:58:0a:f4:01:09 02:00:00:00:00:09\n' } : undefined));
    const fp = new FastPath({ ...files, dir: '/d', exec, log });
    await fp.reconcile([pod('10.244.1.2', 'vetha')], new Set(['vetha']));
    expect(exec.commands()).toEqual([
      '/h/knode-fastpath pods /d',
      '/h/knode-fastpath pod-add /d 10.244.1.2 vetha 0a:58:0a:f4:01:02 02:00:00:00:00:01',
      '/h/knode-fastpath pod-del /d 10.244.1.9',
    ]);
    const broken = new FastPath({ ...files, dir: '/d', exec: new FakeExec(() => ({ code: 1, stderr: 'boom' })), log });
    await expect(broken.reconcile([pod('10.244.1.2', 'vetha')], new Set(['vetha']))).resolves.toBeUndefined();
  });
});

describe('loadFastPath', () => {
  it('is off, with the reason, when the files are missing or the kernel refuses the programs', async () => {
    const lines: string[] = [];
    const capture = pino({}, { write: (l: string) => lines.push(l) });
    const exec = new FakeExec();
    expect(await loadFastPath({ helper: '/nowhere/knode-fastpath', object: '/nowhere/fastpath.bpf.o' }, '/d', { exec, log: capture })).toBeUndefined();
    expect(exec.calls).toEqual([]);
    expect(lines.join('')).toContain('pod fast path off');
    expect(lines.join('')).toContain('not built (/nowhere/knode-fastpath, /nowhere/fastpath.bpf.o missing');

    const dir = mkdtempSync(join(tmpdir(), 'knode-fp-'));
    try {
      const built = { helper: join(dir, 'knode-fastpath'), object: join(dir, 'fastpath.bpf.o') };
      writeFileSync(built.helper, '');
      writeFileSync(built.object, '');
      const refusing = new FakeExec(() => ({ code: 1, stderr: 'knode-fastpath: loading the programs (the kernel\'s verifier log is above): Permission denied\n' }));
      lines.length = 0;
      expect(await loadFastPath(built, '/d', { exec: refusing, log: capture })).toBeUndefined();
      expect(lines.join('')).toContain('Permission denied');
      expect(await loadFastPath(built, '/d', { exec: new FakeExec(), log: capture })).toBeInstanceOf(FastPath);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('disableFastPath (--no-fast-path)', () => {
  it('switches off what an earlier start loaded, and does nothing where nothing was loaded', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'knode-fp-'));
    try {
      const helper = join(dir, 'knode-fastpath');
      writeFileSync(helper, '');
      const pins = join(dir, 'pins');
      const exec = new FakeExec();
      await disableFastPath({ helper }, pins, { exec, log });
      expect(exec.calls).toEqual([]);
      mkdirSync(join(pins, 'maps'), { recursive: true });
      writeFileSync(join(pins, 'maps', 'knode_config'), '');
      await disableFastPath({ helper }, pins, { exec, log });
      expect(exec.commands()).toEqual([`${helper} disable ${pins}`]);
      // a failing helper is logged, not thrown
      await expect(disableFastPath({ helper }, pins, { exec: new FakeExec(() => ({ code: 1, stderr: 'nope' })), log })).resolves.toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
