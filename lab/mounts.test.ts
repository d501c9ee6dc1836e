import { describe, expect, it } from 'vitest';
import { mountsUnder, parseMountinfo } from './mounts.js';

const MOUNTINFO = [
  '23 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw',
  '39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids',
  '100 23 0:50 / /var/lib/knode-lab/lab/w1/containerd/state/io.containerd.runtime.v2.task/k8s.io/abc/rootfs rw - overlay overlay rw,lowerdir=/x',
  '101 23 0:51 / /var/lib/knode-lab/lab/w1/containerd/state/io.containerd.grpc.v1.cri/sandboxes/abc/shm rw - tmpfs shm rw',
  '102 23 0:4 net:[4026532999] /var/lib/knode-lab/lab/w1/containerd/state/netns/cni-1 rw - nsfs nsfs rw',
  '103 23 0:52 / /var/lib/knode-lab/lab2/x rw - tmpfs tmpfs rw',
  '104 23 0:53 / /var/lib/knode-lab/lab/with\\040space rw - tmpfs tmpfs rw',
  '105 101 0:54 / /var/lib/knode-lab/lab/w1/containerd/state/io.containerd.grpc.v1.cri/sandboxes/abc/shm rw - tmpfs shm2 rw',
  'garbage line',
  '',
].join('\n');

describe('parseMountinfo', () => {
  it('reads ids, mount point, type, source and super options, decoding octal escapes', () => {
    const m = parseMountinfo(MOUNTINFO);
    expect(m).toHaveLength(8);
    expect(m[1]).toEqual({ id: 39, parentId: 31, mountPoint: '/sys/fs/cgroup/pids', fsType: 'cgroup', source: 'cgroup', superOptions: 'rw,pids' });
    expect(m[6]?.mountPoint).toBe('/var/lib/knode-lab/lab/with space');
  });
});

describe('mountsUnder', () => {
  it('lists mounts under the dir, deepest first, the top of a stacked mount before the one below', () => {
    expect(mountsUnder(parseMountinfo(MOUNTINFO), '/var/lib/knode-lab/lab').map((m) => m.id)).toEqual([105, 101, 100, 102, 104]);
  });
  it('does not mistake a sibling with a common prefix for a child', () => {
    expect(mountsUnder(parseMountinfo(MOUNTINFO), '/var/lib/knode-lab/lab').some((m) => m.mountPoint.includes('lab2'))).toBe(false);
  });
  it('includes a mount on the dir itself and accepts a trailing slash', () => {
    const m = parseMountinfo('1 0 0:1 / /s rw - tmpfs t rw\n2 1 0:2 / /s/a rw - tmpfs t rw\n');
    expect(mountsUnder(m, '/s/').map((x) => x.mountPoint)).toEqual(['/s/a', '/s']);
  });
});
