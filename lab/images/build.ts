/**
 * Builds one image into a docker-archive tarball, cached by the hash of everything that goes in.
 *
 * An image here is: optional busybox-static (/bin/busybox plus one symlink per applet, minimal
 * /etc), small C programs compiled with `gcc -static` at build time (so the rootfs needs no libc),
 * and an image config. The cache key covers the builder version, the definition, the C sources, the
 * gcc version and the busybox binary; a hit costs a few hashes (~10 ms), a miss one gcc run per
 * program (~300 ms each, themselves cached) plus ~20 ms of tar writing. Outputs are written to a
 * temp file and renamed, so a crashed build never leaves a truncated archive behind.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ExecError, mustRun, realExec } from '../../lib/exec.js';
import type { Exec } from '../../lib/exec.js';
import { buildDockerArchive } from './docker-archive.js';
import type { ImageConfigSpec } from './docker-archive.js';
import { ImageBuildError, ImagePrerequisiteError } from './errors.js';
import type { TarEntry } from './tar.js';

/** Bump when the rootfs layout or archive format changes: invalidates every cached archive. */
export const BUILDER_VERSION = 1;

export interface ProgramSpec {
  /** File name under lab/images/src, e.g. `pause.c`. */
  readonly source: string;
  /** Absolute path inside the image, e.g. `/pause`. */
  readonly dest: string;
}

export interface ImageDefinition {
  /** Repository without tag, e.g. `knode.local/pause`. */
  readonly repository: string;
  readonly tag: string;
  readonly programs: readonly ProgramSpec[];
  /** Include busybox-static with every applet linked into /bin, plus /etc/passwd, /etc/group. */
  readonly busybox: boolean;
  readonly config: ImageConfigSpec;
}

export interface BuiltImage {
  readonly path: string;
  /** `repository:tag`. */
  readonly ref: string;
  /** `sha256:<config digest>`: what the CRI reports as the image id after import. */
  readonly imageId: string;
  readonly cached: boolean;
}

export interface BuildDeps {
  readonly exec?: Exec;
  /** busybox-static's binary (Debian: /bin/busybox from `busybox-static`). */
  readonly busyboxPath?: string;
}

const sha256 = (data: string | Uint8Array): string => createHash('sha256').update(data).digest('hex');

/** lab/images/src/<name>, found by walking up from this module (source tree or dist/ bundle). */
export function findImageSource(name: string, start = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = start; ; dir = dirname(dir)) {
    for (const candidate of [join(dir, 'src', name), join(dir, 'lab', 'images', 'src', name)]) {
      if (existsSync(candidate)) return candidate;
    }
    if (dirname(dir) === dir) throw new ImageBuildError(`cannot find lab/images/src/${name} above ${start}`);
  }
}

const PASSWD = 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n';
const GROUP = 'root:x:0:\nnobody:x:65534:\n';
// static glibc's getaddrinfo reads this; "files dns" is what pods expect
const NSSWITCH = 'hosts: files dns\n';

/**
 * The image's single layer (pure). Directories first, then files, each in a fixed order, so equal
 * inputs give an equal tar.
 */
export function buildRootfs(input: {
  readonly programs: readonly { readonly dest: string; readonly data: Uint8Array }[];
  readonly busybox?: { readonly data: Uint8Array; readonly applets: readonly string[] };
}): TarEntry[] {
  const entries: TarEntry[] = [];
  const dirs = new Set<string>();
  const addDir = (path: string, mode?: number): void => {
    const parts = path.split('/').filter(Boolean);
    for (let i = 1; i <= parts.length; i++) {
      const p = parts.slice(0, i).join('/');
      if (dirs.has(p)) continue;
      dirs.add(p);
      entries.push({ type: 'dir', path: p, ...(i === parts.length && mode !== undefined ? { mode } : {}) });
    }
  };
  // mount points the runtime expects to find
  for (const d of ['dev', 'etc', 'proc', 'sys']) addDir(d);
  addDir('tmp', 0o1777);
  if (input.busybox) {
    addDir('bin');
    addDir('root', 0o700);
    addDir('usr/bin');
    addDir('var');
    entries.push({ type: 'file', path: 'bin/busybox', data: input.busybox.data, mode: 0o755 });
    for (const applet of [...new Set(input.busybox.applets)].sort()) {
      if (applet === 'busybox' || applet.includes('/') || applet === '') continue;
      entries.push({ type: 'symlink', path: `bin/${applet}`, target: 'busybox' });
    }
    entries.push({ type: 'symlink', path: 'usr/bin/env', target: '/bin/env' });
    entries.push({ type: 'file', path: 'etc/passwd', data: Buffer.from(PASSWD) });
    entries.push({ type: 'file', path: 'etc/group', data: Buffer.from(GROUP) });
    entries.push({ type: 'file', path: 'etc/nsswitch.conf', data: Buffer.from(NSSWITCH) });
  }
  for (const p of [...input.programs].sort((a, b) => a.dest.localeCompare(b.dest))) {
    const rel = p.dest.replace(/^\/+/, '');
    const parent = dirname(rel);
    if (parent !== '.') addDir(parent);
    entries.push({ type: 'file', path: rel, data: p.data, mode: 0o755 });
  }
  return entries;
}

async function gccVersion(exec: Exec): Promise<string> {
  try {
    return (await mustRun(exec, ['gcc', '-dumpfullversion'])).stdout.trim();
  } catch (err) {
    throw new ImagePrerequisiteError(
      'gcc is needed to build the lab images (their helper programs are compiled statically): install the Debian packages gcc and libc6-dev.',
      { cause: err },
    );
  }
}

/** Compiles one C program statically, cached under `<dir>/bin` by source and compiler version. */
async function compileProgram(exec: Exec, dir: string, sourcePath: string, compiler: string): Promise<Uint8Array> {
  const source = await readFile(sourcePath);
  const key = sha256(`${BUILDER_VERSION}\0${compiler}\0`).slice(0, 8) + sha256(source).slice(0, 16);
  const out = join(dir, 'bin', `${basename(sourcePath, '.c')}-${key}`);
  if (existsSync(out)) return readFile(out);
  await mkdir(dirname(out), { recursive: true });
  const tmp = `${out}.tmp-${process.pid}`;
  try {
    await mustRun(exec, ['gcc', '-static', '-O2', '-s', '-o', tmp, sourcePath], { timeoutMs: 120_000 });
  } catch (err) {
    await rm(tmp, { force: true });
    const stderr = err instanceof ExecError ? err.stderr : String(err);
    if (/cannot find -lc|crt1\.o/.test(stderr)) {
      throw new ImagePrerequisiteError('gcc -static needs the static C library: install the Debian package libc6-dev.', { cause: err });
    }
    throw new ImageBuildError(`compiling ${sourcePath} failed: ${stderr.trim().split('\n').slice(-5).join(' | ')}`, { cause: err });
  }
  await rename(tmp, out);
  return readFile(out);
}

async function readBusybox(exec: Exec, path: string): Promise<{ data: Uint8Array; applets: string[] }> {
  let data: Buffer;
  try {
    data = await readFile(path);
  } catch (err) {
    throw new ImagePrerequisiteError(`${path} is missing: install the Debian package busybox-static.`, { cause: err });
  }
  const list = await mustRun(exec, [path, '--list']);
  return { data, applets: list.stdout.split('\n').map((s) => s.trim()).filter(Boolean) };
}

function archiveName(def: ImageDefinition, key: string): string {
  return `${def.repository.replace(/[^A-Za-z0-9._-]/g, '_')}-${def.tag}-${key.slice(0, 12)}.tar`;
}

/**
 * Builds `def` into `<dir>/<repo>-<tag>-<key>.tar` unless that archive exists; older archives of
 * the same image are removed.
 */
export async function buildImage(def: ImageDefinition, dir: string, deps: BuildDeps = {}): Promise<BuiltImage> {
  const exec = deps.exec ?? realExec;
  const busyboxPath = deps.busyboxPath ?? '/bin/busybox';
  const compiler = def.programs.length > 0 ? await gccVersion(exec) : '';
  const sources = await Promise.all(def.programs.map(async (p) => sha256(await readFile(findImageSource(p.source)))));
  const busyboxHash = def.busybox ? sha256(await readFile(busyboxPath).catch(() => Buffer.alloc(0))) : '';
  const key = sha256(JSON.stringify({ v: BUILDER_VERSION, def, sources, compiler, busyboxHash }));
  const path = join(dir, archiveName(def, key));
  const ref = `${def.repository}:${def.tag}`;
  await mkdir(dir, { recursive: true });
  if (existsSync(path)) {
    const manifest = await readArchiveImageId(path);
    if (manifest) return { path, ref, imageId: manifest, cached: true };
  }
  const programs = [];
  for (const p of def.programs) programs.push({ dest: p.dest, data: await compileProgram(exec, dir, findImageSource(p.source), compiler) });
  const layer = buildRootfs({ programs, ...(def.busybox ? { busybox: await readBusybox(exec, busyboxPath) } : {}) });
  const archive = buildDockerArchive({ repoTags: [ref], layer, config: def.config });
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, archive.tar);
  await writeFile(`${path}.id`, archive.imageId);
  await rename(tmp, path);
  const prefix = archiveName(def, key).slice(0, -('-'.length + 12 + '.tar'.length));
  for (const f of await readdir(dir)) {
    const rest = f.startsWith(`${prefix}-`) ? f.slice(prefix.length + 1) : '';
    if (/^[0-9a-f]{12}\.tar(\.id)?$/.test(rest) && f !== basename(path) && f !== `${basename(path)}.id`) {
      await rm(join(dir, f), { force: true });
    }
  }
  return { path, ref, imageId: archive.imageId, cached: false };
}

async function readArchiveImageId(path: string): Promise<string | undefined> {
  try {
    const id = (await readFile(`${path}.id`, 'utf8')).trim();
    return /^sha256:[0-9a-f]{64}$/.test(id) ? id : undefined;
  } catch {
    return undefined;
  }
}
