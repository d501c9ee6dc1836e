/**
 * Atomic projection of a set of files into a volume directory, the scheme of upstream's AtomicWriter
 * (pkg/volume/util/atomic_writer.go), so a process reading a ConfigMap volume never sees half an update:
 *
 *   <dir>/..2026_01_01_12_00_00.a1b2c3/   the real files of one version (0755)
 *   <dir>/..data -> ..2026_01_01_12_00_00.a1b2c3
 *   <dir>/config.yaml -> ..data/config.yaml   one symlink per top-level name
 *
 * An update writes a new timestamped directory, points `..data_tmp` at it and renames that over
 * `..data` (rename(2) is atomic), then prunes top-level links that left the payload and the old
 * directory. Nothing is written when content and modes are unchanged. Names starting with `..` are
 * reserved. The writer is not safe for concurrent use on one directory (the pod worker serializes).
 *
 * Cost model: a write costs one directory, one file per entry and a handful of renames/symlinks;
 * the no-change check reads every current file once.
 */
import { chmod, lstat, mkdir, mkdtemp, readdir, readFile, readlink, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { posix } from 'node:path';
import type { Clock } from '../../lib/clock.js';
import type { PlannedFile } from './plan.js';

const DATA_DIR = '..data';
const NEW_DATA_DIR = '..data_tmp';
const MAX_FILE_NAME_LENGTH = 255;
const MAX_PATH_LENGTH = 4096;

/** Upstream validatePath; returns the reason a payload path is refused, or undefined. */
export function payloadPathError(path: string): string | undefined {
  if (path === '') return `invalid path: must not be empty: ""`;
  if (path.startsWith('/')) return `invalid path: must be relative path: ${path}`;
  if (path.length > MAX_PATH_LENGTH) return `invalid path: must be less than or equal to ${MAX_PATH_LENGTH} characters`;
  const items = path.split('/');
  for (const item of items) {
    if (item === '..') return `invalid path: must not contain '..': ${path}`;
    if (item.length > MAX_FILE_NAME_LENGTH) return `invalid path: filenames must be less than or equal to ${MAX_FILE_NAME_LENGTH} characters`;
  }
  if ((items[0] ?? '').startsWith('..') && (items[0] ?? '').length > 2) return `invalid path: must not start with '..': ${path}`;
  return undefined;
}

/** `a//b/./c` -> `a/b/c`, as Go's filepath.Clean does for relative paths. */
export function cleanPayloadPath(path: string): string {
  return posix.normalize(path).replace(/\/$/, '');
}

/** The timestamped directory prefix, `..2006_01_02_15_04_05.` in UTC like upstream. */
export function timestampPrefix(now: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return `..${now.getUTCFullYear()}_${p(now.getUTCMonth() + 1)}_${p(now.getUTCDate())}_${p(now.getUTCHours())}_${p(now.getUTCMinutes())}_${p(now.getUTCSeconds())}.`;
}

const isNotFound = (err: unknown): boolean => (err as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';

async function readlinkOrUndefined(path: string): Promise<string | undefined> {
  try {
    return await readlink(path);
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** Every path (files and directories) below `dir`, relative to it. */
async function walk(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const rel = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
    out.push(rel);
    if (entry.isDirectory()) out.push(...(await walk(posix.join(dir, entry.name), rel)));
  }
  return out;
}

/** True when some file is missing, differs in content, or differs in mode. */
async function payloadChanged(files: readonly PlannedFile[], oldDir: string): Promise<boolean> {
  for (const f of files) {
    const path = posix.join(oldDir, f.path);
    try {
      const st = await lstat(path);
      if (!st.isFile() || (st.mode & 0o7777) !== f.mode) return true;
      const current = await readFile(path);
      if (!current.equals(Buffer.from(f.content))) return true;
    } catch (err) {
      if (isNotFound(err)) return true;
      throw err;
    }
  }
  return false;
}

/** Paths of the old version that the new payload no longer has (parents of new files are kept). */
function pathsToRemove(oldPaths: readonly string[], files: readonly PlannedFile[]): string[] {
  const keep = new Set<string>();
  for (const f of files) {
    const parts = f.path.split('/');
    for (let i = 1; i <= parts.length; i++) keep.add(parts.slice(0, i).join('/'));
  }
  return oldPaths.filter((p) => !keep.has(p));
}

/**
 * Writes `files` into `dir` atomically; returns false when nothing had to change. `dir` must exist.
 * Paths must be clean and valid (see payloadPathError); the plan step guarantees it.
 */
export async function writeAtomically(dir: string, files: readonly PlannedFile[], clock: Clock): Promise<boolean> {
  for (const f of files) {
    const reason = payloadPathError(f.path);
    if (reason !== undefined) throw new Error(reason);
  }
  const dataPath = posix.join(dir, DATA_DIR);
  const oldTs = await readlinkOrUndefined(dataPath);
  const oldTsPath = oldTs !== undefined ? posix.join(dir, oldTs) : undefined;
  let stale: string[] = [];
  if (oldTsPath !== undefined) {
    let oldPaths: string[] = [];
    try {
      oldPaths = await walk(oldTsPath);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    stale = pathsToRemove(oldPaths, files);
    if (stale.length === 0 && !(await payloadChanged(files, oldTsPath))) return false;
  }

  const tsDir = await mkdtemp(posix.join(dir, timestampPrefix(clock.now())));
  const tsName = posix.basename(tsDir);
  try {
    // group and others must be able to traverse, whatever the umask
    await chmod(tsDir, 0o755);
    for (const f of files) {
      const full = posix.join(tsDir, f.path);
      await mkdir(posix.dirname(full), { recursive: true });
      await writeFile(full, f.content, { mode: f.mode });
      // writeFile applies the umask; the volume's mode is what the pod asked for
      await chmod(full, f.mode);
    }
    const newDataPath = posix.join(dir, NEW_DATA_DIR);
    await rm(newDataPath, { force: true });
    await symlink(tsName, newDataPath);
    await rename(newDataPath, dataPath);
  } catch (err) {
    await rm(tsDir, { recursive: true, force: true });
    throw err;
  }

  // only top-level names are links in the volume root; deeper paths vanished with the old version
  for (const p of stale) {
    if (p.includes('/')) continue;
    await rm(posix.join(dir, p), { force: true });
  }
  for (const top of new Set(files.map((f) => f.path.split('/')[0] ?? ''))) {
    const visible = posix.join(dir, top);
    const st = await lstat(visible).catch((err: unknown) => {
      if (isNotFound(err)) return undefined;
      throw err;
    });
    if (st?.isSymbolicLink()) continue;
    // a regular file or directory in the way would shadow the payload: replace it
    if (st !== undefined) await rm(visible, { recursive: true, force: true });
    await symlink(posix.join(DATA_DIR, top), visible);
  }
  if (oldTsPath !== undefined && oldTs !== tsName) await rm(oldTsPath, { recursive: true, force: true });
  return true;
}

/** The files currently visible through `..data` (for tests and debugging): path -> content. */
export async function readProjection(dir: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  const ts = await readlinkOrUndefined(posix.join(dir, DATA_DIR));
  if (ts === undefined) return out;
  const base = posix.join(dir, ts);
  for (const p of await walk(base)) {
    const st = await stat(posix.join(base, p));
    if (st.isFile()) out.set(p, await readFile(posix.join(dir, p)));
  }
  return out;
}
