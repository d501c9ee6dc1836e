import { mkdtemp, mkdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureHostPath, observeHostPath, planHostPathCheck } from './host-path.js';
import type { HostFileType } from './host-path.js';

describe('planHostPathCheck', () => {
  it.each<[string, HostFileType, string]>([
    ['', 'missing', 'none'],
    ['', 'File', 'none'],
    ['DirectoryOrCreate', 'missing', 'mkdir'],
    ['DirectoryOrCreate', 'Directory', 'none'],
    ['DirectoryOrCreate', 'File', 'error: hostPath type check failed: /p is not a directory, it\'s a File'],
    ['Directory', 'Directory', 'none'],
    ['Directory', 'missing', "error: hostPath /p doesn't exist"],
    ['Directory', 'Socket', "error: hostPath type check failed: /p is not a directory, it's a Socket"],
    ['FileOrCreate', 'missing', 'touch'],
    ['FileOrCreate', 'File', 'none'],
    ['FileOrCreate', 'Directory', "error: hostPath type check failed: /p is not a file, it's a Directory"],
    ['File', 'missing', "error: hostPath /p doesn't exist"],
    ['Socket', 'Socket', 'none'],
    ['Socket', 'File', "error: hostPath type check failed: /p is not a socket file, it's a File"],
    ['CharDevice', 'CharDevice', 'none'],
    ['CharDevice', 'BlockDevice', "error: hostPath type check failed: /p is not a character device, it's a BlockDevice"],
    ['BlockDevice', 'CharDevice', "error: hostPath type check failed: /p is not a block device, it's a CharDevice"],
    ['File', 'other', 'error: hostPath type check failed, /p is not a file, unable to determine its type: only recognise file, directory, socket, block device and character device'],
    ['Pipe', 'File', 'error: Pipe is an invalid volume type'],
  ])('type %j with %s -> %s', (type, observed, want) => {
    const a = planHostPathCheck('/p', type, observed);
    expect(a.kind === 'error' ? `error: ${a.message}` : a.kind).toBe(want);
  });
});

describe('ensureHostPath on a real directory', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'knode-hostpath-'));
    await writeFile(join(dir, 'file'), 'x');
    await mkdir(join(dir, 'sub'));
    await symlink(join(dir, 'sub'), join(dir, 'link-to-dir'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('observes files, directories, devices and follows symlinks', async () => {
    expect(await observeHostPath(join(dir, 'file'))).toBe('File');
    expect(await observeHostPath(join(dir, 'sub'))).toBe('Directory');
    expect(await observeHostPath(join(dir, 'link-to-dir'))).toBe('Directory');
    expect(await observeHostPath('/dev/null')).toBe('CharDevice');
    expect(await observeHostPath(join(dir, 'missing'))).toBe('missing');
    expect(await observeHostPath(join(dir, 'file', 'below-a-file'))).toBe('missing');
  });

  it('creates a directory with its parents for DirectoryOrCreate', async () => {
    await ensureHostPath(join(dir, 'a', 'b'), 'DirectoryOrCreate');
    expect((await stat(join(dir, 'a', 'b'))).isDirectory()).toBe(true);
  });

  it('creates an empty file for FileOrCreate, but not its parent', async () => {
    await ensureHostPath(join(dir, 'new-file'), 'FileOrCreate');
    expect((await stat(join(dir, 'new-file'))).size).toBe(0);
    await expect(ensureHostPath(join(dir, 'no-parent', 'f'), 'FileOrCreate')).rejects.toThrow(/ENOENT/);
  });

  it('fails with the type mismatch message', async () => {
    await expect(ensureHostPath(join(dir, 'file'), 'Directory')).rejects.toThrow(`hostPath type check failed: ${join(dir, 'file')} is not a directory, it's a File`);
  });
});
