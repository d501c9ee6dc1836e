/**
 * Private containerd instances on the real machine (root only): start in a throwaway network
 * namespace `knode-t-<random>`, refuse a second instance on the same socket, report a daemon that
 * cannot start, and a full stop while pods still run (hostNetwork pods: no CNI in this test) leaves
 * no process, mount, socket or dir behind.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { readlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mustRun, realExec } from '../../lib/exec.js';
import { connectCri } from '../../kubelet/cri/connect.js';
import { mountsUnder, readMounts } from '../mounts.js';
import { procStat } from '../processes.js';
import { importImage } from '../images/import.js';
import { TESTSERVER_IMAGE, ensureLabImages } from '../images/lab-images.js';
import { ContainerdRunningError, ContainerdStartError } from './errors.js';
import { startContainerd, stopContainerd } from './instance.js';
import type { ContainerdInstance } from './instance.js';
import { findShims, findTasks } from './tasks.js';

const isRoot = process.getuid?.() === 0;

describe.skipIf(!isRoot)('private containerd instances (host)', () => {
  const ns = `knode-t-${randomBytes(3).toString('hex')}`;
  let dir = '';
  let nsCreated = false;
  const started: ContainerdInstance[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'knode-ctrd-'));
    await mustRun(realExec, ['ip', 'netns', 'add', ns]);
    nsCreated = true;
    await mustRun(realExec, ['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
  });

  afterAll(async () => {
    try {
      for (const inst of started) if (existsSync(inst.layout.dir)) await stopContainerd(inst, { graceMs: 2_000 });
    } finally {
      if (nsCreated) await realExec.run(['ip', 'netns', 'del', ns]);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('starts in the namespace, refuses a second instance on its socket, and a full stop kills running pods', async () => {
    const images = await ensureLabImages(join(dir, 'images'));
    const inst = await startContainerd({ dir: join(dir, 'a'), netns: ns });
    started.push(inst);
    const nsIno = (await readlink(`/proc/${inst.pid}/ns/net`));
    const wanted = (await mustRun(realExec, ['stat', '-L', '-c', '%i', `/run/netns/${ns}`])).stdout.trim();
    expect(nsIno).toBe(`net:[${wanted}]`);

    await expect(startContainerd({ dir: join(dir, 'a') })).rejects.toBeInstanceOf(ContainerdRunningError);

    for (const tar of [images.pause, images.testserver['1.0']]) await importImage({ address: inst.socket, tarPath: tar });
    const conn = await connectCri({ endpoint: inst.address });
    const pids: number[] = [];
    try {
      for (const name of ['p1', 'p2']) {
        const config = {
          metadata: { name, uid: `uid-${name}`, namespace: 'default', attempt: 0 },
          hostname: '',
          linux: { securityContext: { namespaceOptions: { network: 'NODE' as const, pid: 'CONTAINER' as const } } },
        };
        const { podSandboxId } = await conn.runtime.runPodSandbox({ config });
        const port = name === 'p1' ? 18083 : 18084;
        const { containerId } = await conn.runtime.createContainer({
          podSandboxId,
          sandboxConfig: config,
          config: { metadata: { name: 'srv', attempt: 0 }, image: { image: TESTSERVER_IMAGE }, args: [`--http-port=${port}`, `--udp-port=${port}`] },
        });
        await conn.runtime.startContainer({ containerId });
        const info = await conn.runtime.containerStatus({ containerId, verbose: true });
        const pid = (JSON.parse(info.info['info'] ?? '{}') as { pid?: number }).pid;
        expect(pid).toBeGreaterThan(1);
        pids.push(pid!);
      }
    } finally {
      conn.close();
    }
    const shims = await findShims(inst.socket);
    expect(shims.length).toBeGreaterThanOrEqual(1);
    const tasks = await findTasks(inst.layout.state);
    const shimSockets = tasks.flatMap((t) => (t.shimSocket ? [t.shimSocket] : []));
    expect(shimSockets.every((s) => existsSync(s))).toBe(true);

    const report = await stopContainerd(inst, { graceMs: 5_000 });
    expect(report.killedTasks).toBeGreaterThanOrEqual(4); // 2 pauses + 2 servers (+ shims)
    for (const pid of [inst.pid, ...pids, ...shims.map((s) => s.pid)]) {
      const s = await procStat(pid);
      expect(s === undefined || s.state === 'Z', `pid ${pid} still running`).toBe(true);
    }
    expect(report.unmounted.length).toBeGreaterThanOrEqual(4); // rootfs of each task, sandbox shm
    expect(mountsUnder(await readMounts(), inst.layout.dir)).toEqual([]);
    expect(shimSockets.some((s) => existsSync(s))).toBe(false);
    expect(existsSync(inst.layout.dir)).toBe(false);
  });

  it('reports a daemon that exits at once, with its log', async () => {
    const err = await startContainerd({ dir: join(dir, 'b'), containerdPath: '/bin/false', readyTimeoutMs: 3_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ContainerdStartError);
    expect(err).toMatchObject({ code: 'ERR_CONTAINERD_START', message: expect.stringContaining('it exited') });
  });

  it('refuses a dir whose socket path cannot be a unix socket', async () => {
    await expect(startContainerd({ dir: join(dir, 'x'.repeat(120)) })).rejects.toMatchObject({ code: 'ERR_CONTAINERD_CONFIG' });
  });
});
