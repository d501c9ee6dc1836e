import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExecError, FakeExec } from '../../lib/exec.js';
import { ExecMounter, FakeMounter, mountPointsBelow, parseMountInfo } from './mounter.js';

const MOUNTINFO = [
  '22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw',
  '98 22 0:45 / /var/lib/kubelet/pods/u1/volumes/kubernetes.io~empty-dir/cache rw,relatime shared:50 - tmpfs tmpfs rw,size=65536k',
  '99 22 0:46 / /var/lib/kubelet/pods/u1/volumes/kubernetes.io~secret/my\\040certs rw,relatime - tmpfs tmpfs rw',
  '100 22 0:47 / /var/lib/kubelet/pods/u10/volumes/kubernetes.io~secret/x rw,relatime - tmpfs tmpfs rw',
  '',
].join('\n');

describe('parseMountInfo and mountPointsBelow', () => {
  it('reads mount points and unescapes octal sequences', () => {
    expect(parseMountInfo(MOUNTINFO)).toEqual([
      '/',
      '/var/lib/kubelet/pods/u1/volumes/kubernetes.io~empty-dir/cache',
      '/var/lib/kubelet/pods/u1/volumes/kubernetes.io~secret/my certs',
      '/var/lib/kubelet/pods/u10/volumes/kubernetes.io~secret/x',
    ]);
  });

  it('keeps only mounts at or below the directory (not a sibling with a longer name), deepest first', () => {
    const all = [...parseMountInfo(MOUNTINFO), '/var/lib/kubelet/pods/u1', '/var/lib/kubelet/pods/u1/volumes/kubernetes.io~empty-dir/cache/inner'];
    expect(mountPointsBelow(all, '/var/lib/kubelet/pods/u1/')).toEqual([
      '/var/lib/kubelet/pods/u1/volumes/kubernetes.io~empty-dir/cache/inner',
      '/var/lib/kubelet/pods/u1/volumes/kubernetes.io~empty-dir/cache',
      '/var/lib/kubelet/pods/u1/volumes/kubernetes.io~secret/my certs',
      '/var/lib/kubelet/pods/u1',
    ]);
  });
});

describe('ExecMounter', () => {
  it('runs mount and umount with argv, size only when given', async () => {
    const exec = new FakeExec();
    const m = new ExecMounter(exec);
    await m.mountTmpfs('/v/a', 1048576);
    await m.mountTmpfs('/v/b');
    await m.unmount('/v/a');
    expect(exec.commands()).toEqual(['mount -t tmpfs -o size=1048576 tmpfs /v/a', 'mount -t tmpfs tmpfs /v/b', 'umount /v/a']);
  });

  it('turns a failed mount into an ExecError with stderr', async () => {
    const m = new ExecMounter(new FakeExec(() => ({ code: 32, stderr: 'mount: only root can do that' })));
    await expect(m.mountTmpfs('/v/a')).rejects.toThrow(ExecError);
    await expect(m.mountTmpfs('/v/a')).rejects.toThrow('only root can do that');
  });

  it('reads the mount table from the given file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'knode-mountinfo-'));
    try {
      await writeFile(join(dir, 'mountinfo'), MOUNTINFO);
      const m = new ExecMounter(new FakeExec(), join(dir, 'mountinfo'));
      expect(await m.mountPointsUnder('/var/lib/kubelet/pods/u10')).toEqual(['/var/lib/kubelet/pods/u10/volumes/kubernetes.io~secret/x']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('FakeMounter', () => {
  it('tracks mounts and refuses to unmount what is not mounted', async () => {
    const m = new FakeMounter();
    await m.mountTmpfs('/p/a', 10);
    expect(await m.mountPointsUnder('/p')).toEqual(['/p/a']);
    await m.unmount('/p/a');
    expect(await m.mountPointsUnder('/p')).toEqual([]);
    await expect(m.unmount('/p/a')).rejects.toThrow('not mounted');
    expect(m.calls).toEqual(['mount tmpfs /p/a size=10', 'umount /p/a', 'umount /p/a']);
  });
});
