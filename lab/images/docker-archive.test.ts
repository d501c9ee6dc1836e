import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { buildDockerArchive } from './docker-archive.js';
import type { DockerArchiveSpec } from './docker-archive.js';
import { buildRootfs } from './build.js';
import { readTar } from './tar.js';

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

const spec: DockerArchiveSpec = {
  repoTags: ['knode.local/testserver:1.0'],
  layer: [
    { type: 'dir', path: 'bin' },
    { type: 'file', path: 'bin/app', data: Buffer.from('#!app'), mode: 0o755 },
  ],
  config: {
    entrypoint: ['/bin/app'],
    cmd: ['--port=8083'],
    env: ['PATH=/bin', 'X=1'],
    user: '65535:65535',
    workingDir: '/',
    exposedPorts: ['8083/tcp', '8081/udp'],
    labels: { a: 'b' },
  },
};

describe('buildDockerArchive', () => {
  it('writes manifest.json naming the config and layer, with digests the runtime will report', () => {
    const archive = buildDockerArchive(spec);
    const files = new Map(readTar(archive.tar).map((e) => [e.path, e.data]));
    const manifest = JSON.parse(files.get('manifest.json')?.toString() ?? 'null') as Array<{ Config: string; RepoTags: string[]; Layers: string[] }>;
    expect(manifest).toHaveLength(1);
    const [m] = manifest;
    expect(m?.RepoTags).toEqual(['knode.local/testserver:1.0']);
    const config = files.get(m?.Config ?? '');
    const layer = files.get(m?.Layers[0] ?? '');
    expect(config && layer).toBeTruthy();
    expect(archive.imageId).toBe(`sha256:${sha(config!)}`);
    expect(m?.Config).toBe(`${sha(config!)}.json`);
    expect(archive.diffId).toBe(`sha256:${sha(layer!)}`);
    expect(readTar(layer!).map((e) => e.path)).toEqual(['bin/', 'bin/app']);
  });

  it('puts the image settings in the config where docker and containerd read them', () => {
    const archive = buildDockerArchive(spec);
    const configFile = readTar(archive.tar).find((e) => e.path.endsWith('.json') && e.path !== 'manifest.json');
    const config = JSON.parse(configFile?.data.toString() ?? '{}') as Record<string, unknown>;
    expect(config).toMatchObject({
      architecture: 'amd64',
      os: 'linux',
      config: {
        Entrypoint: ['/bin/app'],
        Cmd: ['--port=8083'],
        Env: ['PATH=/bin', 'X=1'],
        User: '65535:65535',
        WorkingDir: '/',
        ExposedPorts: { '8083/tcp': {}, '8081/udp': {} },
        Labels: { a: 'b' },
      },
      rootfs: { type: 'layers', diff_ids: [archive.diffId] },
    });
  });

  it('is reproducible: the same spec gives the same bytes and image id; a changed env a new id', () => {
    const a = buildDockerArchive(spec);
    expect(buildDockerArchive(spec).tar.equals(a.tar)).toBe(true);
    const b = buildDockerArchive({ ...spec, config: { ...spec.config, env: ['PATH=/bin', 'X=2'] } });
    expect(b.imageId).not.toBe(a.imageId);
    expect(b.diffId).toBe(a.diffId);
  });
});

describe('buildRootfs', () => {
  const rootfs = buildRootfs({
    programs: [{ dest: '/testserver', data: Buffer.from('elf') }, { dest: '/usr/local/bin/tool', data: Buffer.from('elf2') }],
    busybox: { data: Buffer.from('bb'), applets: ['sh', 'wget', 'nc', 'busybox', 'sh'] },
  });
  const byPath = new Map(rootfs.map((e) => [e.path, e]));

  it('links every busybox applet once into /bin, never busybox itself', () => {
    const links = rootfs.filter((e) => e.type === 'symlink' && e.path.startsWith('bin/')).map((e) => e.path);
    expect(links).toEqual(['bin/nc', 'bin/sh', 'bin/wget']);
    expect(byPath.get('bin/sh')).toMatchObject({ type: 'symlink', target: 'busybox' });
    expect(byPath.get('bin/busybox')).toMatchObject({ type: 'file', mode: 0o755 });
  });

  it('has the directories a runtime mounts over, a sticky /tmp, users, and programs at their paths', () => {
    for (const d of ['dev', 'etc', 'proc', 'sys', 'usr/local/bin']) expect(byPath.get(d)?.type).toBe('dir');
    expect(byPath.get('tmp')).toMatchObject({ type: 'dir', mode: 0o1777 });
    const passwd = byPath.get('etc/passwd');
    expect(passwd?.type === 'file' && Buffer.from(passwd.data).toString()).toContain('root:x:0:0:');
    expect(byPath.get('testserver')).toMatchObject({ type: 'file', mode: 0o755 });
    expect(byPath.get('usr/local/bin/tool')).toMatchObject({ type: 'file', mode: 0o755 });
  });

  it('lists every directory before anything inside it', () => {
    const seen = new Set<string>();
    for (const e of rootfs) {
      const parent = e.path.includes('/') ? e.path.slice(0, e.path.lastIndexOf('/')) : '';
      if (parent) expect(seen.has(parent)).toBe(true);
      seen.add(e.path);
    }
  });

  it('makes a pause-style image of programs only', () => {
    const paths = buildRootfs({ programs: [{ dest: '/pause', data: Buffer.from('p') }] }).map((e) => e.path);
    expect(paths).toEqual(['dev', 'etc', 'proc', 'sys', 'tmp', 'pause']);
  });
});
