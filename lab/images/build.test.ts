import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeExec } from '../../lib/exec.js';
import type { ExecCall } from '../../lib/exec.js';
import { buildImage } from './build.js';
import { ImagePrerequisiteError } from './errors.js';
import { ensureLabImages, pauseImageDefinition, testserverImageDefinition } from './lab-images.js';
import { readTar } from './tar.js';

/** gcc and busybox as a FakeExec: "compiles" by writing the -o file. */
function fakeToolchain(opts: { gcc?: boolean } = {}): FakeExec {
  return new FakeExec((call: ExecCall) => {
    const [cmd, ...args] = call.argv;
    if (cmd === 'gcc' && opts.gcc === false) throw new Error('spawn gcc ENOENT');
    if (cmd === 'gcc' && args[0] === '-dumpfullversion') return { stdout: '12.2.0\n' };
    if (cmd === 'gcc') {
      const out = args[args.indexOf('-o') + 1];
      if (out) writeFileSync(out, `ELF compiled from ${args[args.length - 1]}`);
      return {};
    }
    if (args[0] === '--list') return { stdout: 'sh\nnc\nwget\nbusybox\n' };
    return { code: 127, stderr: `unexpected ${call.argv.join(' ')}` };
  });
}

describe('buildImage and ensureLabImages', () => {
  let dir: string;
  let busybox: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'knode-img-'));
    busybox = join(dir, 'busybox');
    writeFileSync(busybox, 'BUSYBOX');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('builds pause and both testserver tags, then serves them from the cache without running gcc', async () => {
    const exec = fakeToolchain();
    const out = join(dir, 'out');
    const first = await ensureLabImages(out, { exec, busyboxPath: busybox });
    expect(first.images.map((i) => [i.ref, i.cached])).toEqual([
      ['knode.local/pause:3.10', false],
      ['knode.local/testserver:1.0', false],
      ['knode.local/testserver:2.0', false],
    ]);
    expect(first.all).toEqual([first.pause, first.testserver['1.0'], first.testserver['2.0']]);
    // one compile per program: both testserver tags share the binary
    expect(exec.commands().filter((c) => c.startsWith('gcc -static'))).toHaveLength(2);

    const again = fakeToolchain();
    const second = await ensureLabImages(out, { exec: again, busyboxPath: busybox });
    expect(second.images.every((i) => i.cached)).toBe(true);
    expect(second.all).toEqual(first.all);
    expect(second.images.map((i) => i.imageId)).toEqual(first.images.map((i) => i.imageId));
    expect(again.commands().filter((c) => c.startsWith('gcc -static'))).toEqual([]);
  });

  it('gives the two testserver tags different image ids (rolling updates see a change)', async () => {
    const r = await ensureLabImages(join(dir, 'out'), { exec: fakeToolchain(), busyboxPath: busybox });
    expect(new Set(r.images.map((i) => i.imageId)).size).toBe(3);
  });

  it('puts the compiled program and busybox in the layer', async () => {
    const built = await buildImage(testserverImageDefinition('1.0'), join(dir, 'out'), { exec: fakeToolchain(), busyboxPath: busybox });
    const outer = readTar(readFileSync(built.path));
    const layer = readTar(outer.find((e) => e.path.endsWith('/layer.tar'))!.data);
    const files = new Map(layer.map((e) => [e.path, e]));
    expect(files.get('testserver')?.data.toString()).toMatch(/^ELF compiled from .*testserver\.c$/);
    expect(files.get('bin/busybox')?.data.toString()).toBe('BUSYBOX');
    expect(files.get('bin/wget')?.linkname).toBe('busybox');
  });

  it('rebuilds when an input changes and removes the superseded archive', async () => {
    const out = join(dir, 'out');
    const a = await buildImage(testserverImageDefinition('1.0'), out, { exec: fakeToolchain(), busyboxPath: busybox });
    writeFileSync(busybox, 'BUSYBOX v2');
    const b = await buildImage(testserverImageDefinition('1.0'), out, { exec: fakeToolchain(), busyboxPath: busybox });
    expect(b.cached).toBe(false);
    expect(b.path).not.toBe(a.path);
    expect(readdirSync(out).filter((f) => f.endsWith('.tar'))).toEqual([b.path.slice(out.length + 1)]);
  });

  it('explains which Debian packages are missing', async () => {
    await expect(buildImage(pauseImageDefinition(), join(dir, 'out'), { exec: fakeToolchain({ gcc: false }) })).rejects.toThrow(
      expect.objectContaining({ code: 'ERR_IMAGE_PREREQUISITE', message: expect.stringContaining('gcc and libc6-dev') }),
    );
    await expect(
      buildImage(testserverImageDefinition('1.0'), join(dir, 'out'), { exec: fakeToolchain(), busyboxPath: join(dir, 'nope') }),
    ).rejects.toBeInstanceOf(ImagePrerequisiteError);
  });
});
