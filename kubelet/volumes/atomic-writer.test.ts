import { lstat, mkdtemp, readdir, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../lib/clock.js';
import { payloadPathError, readProjection, timestampPrefix, writeAtomically } from './atomic-writer.js';
import type { PlannedFile } from './plan.js';

const file = (path: string, content: string, mode = 0o644): PlannedFile => ({ path, mode, content: new Uint8Array(Buffer.from(content)) });

describe('payloadPathError (upstream validatePath)', () => {
  it.each<[string, string | undefined]>([
    ['a', undefined],
    ['a/b/c', undefined],
    ['..a/b', "invalid path: must not start with '..': ..a/b"],
    ['a/../b', "invalid path: must not contain '..': a/../b"],
    ['/abs', 'invalid path: must be relative path: /abs'],
    ['', 'invalid path: must not be empty: ""'],
    ['x'.repeat(256), 'invalid path: filenames must be less than or equal to 255 characters'],
  ])('%j -> %j', (path, want) => {
    expect(payloadPathError(path)).toBe(want);
  });
});

describe('timestampPrefix', () => {
  it('formats UTC like ..2006_01_02_15_04_05.', () => {
    expect(timestampPrefix(new Date(Date.UTC(2026, 0, 2, 3, 4, 5)))).toBe('..2026_01_02_03_04_05.');
  });
});

describe('writeAtomically', () => {
  let dir = '';
  const clock = new FakeClock(Date.UTC(2026, 0, 1, 12, 0, 0));
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'knode-atomic-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('lays files out behind ..data with one link per top-level name', async () => {
    expect(await writeAtomically(dir, [file('a.txt', 'A', 0o600), file('conf/b.yaml', 'B')], clock)).toBe(true);
    const data = await readlink(join(dir, '..data'));
    expect(data).toMatch(/^\.\.2026_01_01_12_00_00\./);
    expect(await readlink(join(dir, 'a.txt'))).toBe('..data/a.txt');
    expect(await readlink(join(dir, 'conf'))).toBe('..data/conf');
    expect(await readFile(join(dir, 'conf', 'b.yaml'), 'utf8')).toBe('B');
    expect((await stat(join(dir, data, 'a.txt'))).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, data))).mode & 0o777).toBe(0o755);
    expect((await readdir(dir)).sort()).toEqual(['..data', data, 'a.txt', 'conf'].sort());
  });

  it('does nothing when content and modes are unchanged', async () => {
    await writeAtomically(dir, [file('a', 'A')], clock);
    const before = await readlink(join(dir, '..data'));
    expect(await writeAtomically(dir, [file('a', 'A')], clock)).toBe(false);
    expect(await readlink(join(dir, '..data'))).toBe(before);
  });

  it('swaps in a new version, prunes removed names and the old directory', async () => {
    await writeAtomically(dir, [file('keep', '1'), file('drop', 'x'), file('sub/old', 'o')], clock);
    const first = await readlink(join(dir, '..data'));
    await clock.advance(1000);
    expect(await writeAtomically(dir, [file('keep', '2'), file('sub/new', 'n')], clock)).toBe(true);
    const second = await readlink(join(dir, '..data'));
    expect(second).not.toBe(first);
    expect((await readdir(dir)).sort()).toEqual(['..data', second, 'keep', 'sub'].sort());
    expect(Object.fromEntries([...(await readProjection(dir))].map(([k, v]) => [k, v.toString()]))).toEqual({ keep: '2', 'sub/new': 'n' });
  });

  it('rewrites when only a mode changes', async () => {
    await writeAtomically(dir, [file('a', 'A', 0o644)], clock);
    expect(await writeAtomically(dir, [file('a', 'A', 0o400)], clock)).toBe(true);
    expect((await stat(join(dir, 'a'))).mode & 0o777).toBe(0o400);
  });

  it('writes an empty payload as an empty ..data', async () => {
    expect(await writeAtomically(dir, [], clock)).toBe(true);
    expect((await lstat(join(dir, '..data'))).isSymbolicLink()).toBe(true);
    expect(await readProjection(dir)).toEqual(new Map());
  });

  it('replaces a stray regular file that shadows a payload name', async () => {
    await writeFile(join(dir, 'a'), 'stray');
    await writeAtomically(dir, [file('a', 'real')], clock);
    expect(await readlink(join(dir, 'a'))).toBe('..data/a');
    expect(await readFile(join(dir, 'a'), 'utf8')).toBe('real');
  });

  it('refuses invalid paths before touching the directory', async () => {
    await expect(writeAtomically(dir, [file('../x', 'bad')], clock)).rejects.toThrow("must not contain '..'");
    expect(await readdir(dir)).toEqual([]);
  });
});
