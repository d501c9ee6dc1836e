import { mkdtemp, mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cgroupHierarchies, cgroupTree, labCgroupRoots, pidsInTree, trackingHierarchy } from './cgroups.js';
import { parseMountinfo } from './mounts.js';

const HYBRID = parseMountinfo(
  [
    '31 23 0:28 / /sys/fs/cgroup rw - tmpfs tmpfs rw,mode=755',
    '32 31 0:29 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu',
    '39 31 0:36 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids',
    '40 31 0:37 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,name=systemd',
    '41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw',
  ].join('\n'),
);
const PURE_V2 = parseMountinfo('30 23 0:27 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n');

describe('cgroup hierarchies', () => {
  it('finds v1 controllers from the super options and the cgroup2 mount', () => {
    expect(cgroupHierarchies(HYBRID)).toEqual([
      { mountPoint: '/sys/fs/cgroup/cpu', version: 1, controllers: ['cpu'] },
      { mountPoint: '/sys/fs/cgroup/pids', version: 1, controllers: ['pids'] },
      { mountPoint: '/sys/fs/cgroup/systemd', version: 1, controllers: ['xattr', 'name=systemd'] },
      { mountPoint: '/sys/fs/cgroup/unified', version: 2, controllers: [] },
    ]);
  });
  it.each([
    ['the v1 pids hierarchy on a hybrid machine', HYBRID, '/sys/fs/cgroup/pids'],
    ['the cgroup2 root on a pure v2 machine', PURE_V2, '/sys/fs/cgroup'],
    ['nothing without cgroups', [], undefined],
  ])('tracks processes in %s', (_n, mounts, want) => {
    expect(trackingHierarchy(cgroupHierarchies(mounts))?.mountPoint).toBe(want);
  });
  it('sweeps knode-<lab> on every hierarchy', () => {
    expect(labCgroupRoots(cgroupHierarchies(PURE_V2), 'knode-t1')).toEqual(['/sys/fs/cgroup/knode-t1']);
    expect(labCgroupRoots(cgroupHierarchies(HYBRID), 'knode-t1')).toHaveLength(4);
  });
});

describe('cgroup trees (on a plain directory standing in for cgroupfs)', () => {
  it('lists directories deepest first and reads pids from every cgroup.procs', async () => {
    const root = await mkdtemp(join(tmpdir(), 'cg-'));
    try {
      await mkdir(join(root, 'w1', 'pod'), { recursive: true });
      await mkdir(join(root, 'cp'));
      await writeFile(join(root, 'w1', 'cgroup.procs'), '10\n11\n');
      await writeFile(join(root, 'w1', 'pod', 'cgroup.procs'), '12\n');
      const tree = await cgroupTree(root);
      expect(tree.indexOf(join(root, 'w1', 'pod'))).toBeLessThan(tree.indexOf(join(root, 'w1')));
      expect(tree.at(-1)).toBe(root);
      expect((await pidsInTree(root)).sort()).toEqual([10, 11, 12]);
      expect(await cgroupTree(join(root, 'missing'))).toEqual([]);
      await stat(root);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
