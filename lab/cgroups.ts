/**
 * The lab's cgroups. Every cgroup the lab or its nodes create lives under a top-level `knode-<lab>`
 * directory on some hierarchy: the lab's own tracking cgroups `knode-<lab>/<host>` (each long-running
 * process the lab starts is moved there at once, and everything it forks later, such as containerd's
 * shims, inherits it), and the agents' pod cgroups (`--cgroup-root /knode-<lab>/<node>`).
 *
 * So `down` can (1) find every process of the lab by pid, even ones it never recorded, by reading
 * `cgroup.procs` throughout those trees, and (2) remove the trees, deepest directory first (a cgroup
 * is removed with rmdir, never by deleting its files).
 *
 * Tracking uses one hierarchy: the v1 `pids` controller when mounted (cgroup v1 machines), else the
 * cgroup2 mount. Only membership is used, never limits, and the session's own cgroups are not touched.
 * Pure parsing (cgroupHierarchies, trackingHierarchy) plus small effects.
 */
import { mkdir, readdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { MountEntry } from './mounts.js';

export interface CgroupHierarchy {
  readonly mountPoint: string;
  readonly version: 1 | 2;
  /** v1: the mount's super options minus rw/ro (`pids`, `cpu`, `cpuacct`, `name=systemd`). */
  readonly controllers: readonly string[];
}

/** The cgroup hierarchies among the mounts; v1 controllers come from the super options. */
export function cgroupHierarchies(mounts: readonly MountEntry[]): CgroupHierarchy[] {
  const out: CgroupHierarchy[] = [];
  for (const m of mounts) {
    if (m.fsType === 'cgroup2') out.push({ mountPoint: m.mountPoint, version: 2, controllers: [] });
    else if (m.fsType === 'cgroup') out.push({ mountPoint: m.mountPoint, version: 1, controllers: m.superOptions.split(',').filter((o) => o !== 'rw' && o !== 'ro') });
  }
  return out;
}

/** Where the lab tracks its processes: v1 `pids` if mounted, else cgroup2, else nowhere. */
export function trackingHierarchy(hs: readonly CgroupHierarchy[]): CgroupHierarchy | undefined {
  return hs.find((h) => h.version === 1 && h.controllers.includes('pids')) ?? hs.find((h) => h.version === 2);
}

/** `<mount>/knode-<lab>` on every hierarchy: the roots `down` sweeps. */
export function labCgroupRoots(hs: readonly CgroupHierarchy[], cgroupName: string): string[] {
  return hs.map((h) => join(h.mountPoint, cgroupName));
}

/** Creates `<mount>/knode-<lab>/<host>` on the tracking hierarchy and returns it. */
export async function ensureTrackingCgroup(h: CgroupHierarchy, cgroupName: string, host: string): Promise<string> {
  const dir = join(h.mountPoint, cgroupName, host);
  await mkdir(dir, { recursive: true });
  return dir;
}

export async function joinCgroup(dir: string, pid: number): Promise<void> {
  await writeFile(join(dir, 'cgroup.procs'), `${pid}\n`);
}

/** Every cgroup directory of a tree, deepest first (the order rmdir needs). Missing root: none. */
export async function cgroupTree(root: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(root, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const below: string[] = [];
  for (const e of entries) if (e.isDirectory()) below.push(...(await cgroupTree(join(root, e.name))));
  return [...below, root];
}

/** Pids in any cgroup of the tree. */
export async function pidsInTree(root: string): Promise<number[]> {
  const pids: number[] = [];
  for (const dir of await cgroupTree(root)) {
    try {
      const text = await readFile(join(dir, 'cgroup.procs'), 'utf8');
      for (const l of text.split('\n')) if (/^\d+$/.test(l)) pids.push(Number(l));
    } catch {
      // removed meanwhile
    }
  }
  return pids;
}

/** Removes the tree deepest first; returns the dirs that could not be removed (still busy). */
export async function removeTree(root: string): Promise<string[]> {
  const left: string[] = [];
  for (const dir of await cgroupTree(root)) {
    try {
      await rmdir(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') left.push(dir);
    }
  }
  return left;
}
