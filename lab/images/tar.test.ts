import { describe, expect, it } from 'vitest';
import { TAR_MTIME, TarError, buildTar, readTar } from './tar.js';
import type { TarEntry } from './tar.js';

/** Zero blocks after the last entry. */
function endBlocks(buf: Buffer): number {
  let n = 0;
  for (let off = buf.length - 512; off >= 0 && buf.subarray(off, off + 512).every((b) => b === 0); off -= 512) n++;
  return n;
}

describe('buildTar', () => {
  it('writes files, directories and symlinks a ustar reader reads back with valid checksums', () => {
    const data = Buffer.from('hello\n');
    const tar = buildTar([
      { type: 'dir', path: 'bin' },
      { type: 'file', path: 'bin/busybox', data, mode: 0o755 },
      { type: 'symlink', path: 'bin/sh', target: 'busybox' },
      { type: 'dir', path: 'tmp/', mode: 0o1777 },
    ]);
    expect(tar.length % 512).toBe(0);
    const entries = readTar(tar);
    expect(endBlocks(tar)).toBe(2);
    expect(entries.map((e) => [e.path, e.typeflag, e.mode.toString(8), e.data.length, e.linkname, e.valid])).toEqual([
      ['bin/', '5', '755', 0, '', true],
      ['bin/busybox', '0', '755', 6, '', true],
      ['bin/sh', '2', '777', 0, 'busybox', true],
      ['tmp/', '5', '1777', 0, '', true],
    ]);
    expect(entries[1]?.data.toString()).toBe('hello\n');
    expect(entries.every((e) => e.mtime === TAR_MTIME)).toBe(true);
  });

  it('pads file data to 512-byte blocks', () => {
    for (const size of [0, 1, 511, 512, 513, 4096]) {
      const tar = buildTar([{ type: 'file', path: 'f', data: Buffer.alloc(size, 7) }]);
      expect(tar.length).toBe(512 + Math.ceil(size / 512) * 512 + 1024);
      expect(readTar(tar)[0]?.data.equals(Buffer.alloc(size, 7))).toBe(true);
    }
  });

  it('splits paths longer than 100 bytes into the ustar prefix field', () => {
    const long = `${'d'.repeat(60)}/${'e'.repeat(60)}/${'f'.repeat(50)}`;
    const entries = readTar(buildTar([{ type: 'file', path: long, data: Buffer.from('x') }]));
    expect(entries[0]?.path).toBe(long);
    expect(entries[0]?.valid).toBe(true);
  });

  it('is deterministic: equal entries give byte-identical archives', () => {
    const entries: TarEntry[] = [{ type: 'dir', path: 'a' }, { type: 'file', path: 'a/b', data: Buffer.from('1') }];
    expect(buildTar(entries).equals(buildTar(entries))).toBe(true);
  });

  it.each<[string, TarEntry[]]>([
    ['an absolute path', [{ type: 'file', path: '/etc/passwd', data: Buffer.alloc(0) }]],
    ['a path escaping the archive', [{ type: 'file', path: 'a/../../x', data: Buffer.alloc(0) }]],
    ['a duplicate path', [{ type: 'dir', path: 'a' }, { type: 'dir', path: 'a/' }]],
    ['a name that cannot be split', [{ type: 'file', path: 'x'.repeat(120), data: Buffer.alloc(0) }]],
    ['a symlink target over 100 bytes', [{ type: 'symlink', path: 'l', target: 't'.repeat(101) }]],
  ])('refuses %s with ERR_TAR_INVALID_ENTRY', (_name, entries) => {
    expect(() => buildTar(entries)).toThrow(TarError);
    expect(() => buildTar(entries)).toThrow(expect.objectContaining({ code: 'ERR_TAR_INVALID_ENTRY' }));
  });
});
