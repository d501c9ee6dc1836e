import { describe, expect, it } from 'vitest';
import { FakeExec } from '../../lib/exec.js';
import { ImageImportError } from './errors.js';
import { importImage, importImageArgv } from './import.js';

describe('importImage', () => {
  it.each([
    ['a socket path', '/run/k/containerd.sock'],
    ['a unix:// address', 'unix:///run/k/containerd.sock'],
  ])('runs ctr against %s in the k8s.io namespace', (_name, address) => {
    expect(importImageArgv({ address, tarPath: '/tmp/p.tar' })).toEqual([
      'ctr', '--address', '/run/k/containerd.sock', '--namespace', 'k8s.io', 'images', 'import', '/tmp/p.tar',
    ]);
  });

  it('returns the references ctr unpacked', async () => {
    const exec = new FakeExec(() => ({
      stdout: 'unpacking knode.local/pause:3.10 (sha256:0123abcd)...done\nunpacking knode.local/testserver:1.0 (sha256:ffee)...done\n',
    }));
    expect(await importImage({ address: '/s.sock', tarPath: '/t.tar', exec })).toEqual(['knode.local/pause:3.10', 'knode.local/testserver:1.0']);
    expect(exec.commands()).toEqual(['ctr --address /s.sock --namespace k8s.io images import /t.tar']);
  });

  it('reports ctr failures with its own words', async () => {
    const exec = new FakeExec(() => ({ code: 1, stderr: 'ctr: failed to dial "/s.sock": connection refused\n' }));
    const err = await importImage({ address: '/s.sock', tarPath: '/t.tar', exec }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ImageImportError);
    expect(err).toMatchObject({ code: 'ERR_IMAGE_IMPORT', message: expect.stringContaining('connection refused') });
  });
});
