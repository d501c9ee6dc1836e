/**
 * Mounts under the lab's state dir (containerd's overlay snapshots, sandbox /dev/shm, pod network
 * namespace files, bind mounts of volumes) and their removal, deepest first.
 *
 * parseMountinfo and mountsUnder are pure; unmountUnder re-reads /proc/self/mountinfo after each
 * round because unmounting a parent can take its children with it and stacked mounts reappear one
 * layer down. Cost: one small file read and one `umount` exec per mount.
 */
import { readFile } from 'node:fs/promises';
import type { Exec } from '../lib/exec.js';

export interface MountEntry {
  readonly id: number;
  readonly parentId: number;
  readonly mountPoint: string;
  readonly fsType: string;
  readonly source: string;
  /** Per-superblock options (for cgroup v1: `rw,pids`). */
  readonly superOptions: string;
}

/** mountinfo escapes space, tab, newline and backslash as \ooo octal. */
function unescapeOctal(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** Parses /proc/<pid>/mountinfo (see proc(5)); malformed lines are skipped. */
export function parseMountinfo(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const [left, right] = line.split(' - ');
    if (left === undefined || right === undefined) continue;
    const f = left.split(' ');
    const r = right.split(' ');
    const id = Number(f[0]);
    const parentId = Number(f[1]);
    const mp = f[4];
    if (!Number.isInteger(id) || mp === undefined || r[0] === undefined) continue;
    out.push({ id, parentId, mountPoint: unescapeOctal(mp), fsType: r[0], source: unescapeOctal(r[1] ?? ''), superOptions: r[2] ?? '' });
  }
  return out;
}

function isUnder(path: string, dir: string): boolean {
  const d = dir.endsWith('/') ? dir.slice(0, -1) : dir;
  return path === d || path.startsWith(`${d}/`);
}

/**
 * Mount points at or below `dir`, deepest first (by path depth, then later-mounted first, so stacked
 * mounts on one point come off top layer first).
 */
export function mountsUnder(entries: readonly MountEntry[], dir: string): MountEntry[] {
  const depth = (p: string): number => p.split('/').length;
  return entries
    .map((e, order) => ({ e, order }))
    .filter(({ e }) => isUnder(e.mountPoint, dir))
    .sort((a, b) => depth(b.e.mountPoint) - depth(a.e.mountPoint) || b.order - a.order)
    .map(({ e }) => e);
}

export async function readMounts(): Promise<MountEntry[]> {
  return parseMountinfo(await readFile('/proc/self/mountinfo', 'utf8'));
}

export interface UnmountResult {
  readonly unmounted: readonly string[];
  /** Mount points still present after every attempt. */
  readonly left: readonly string[];
}

/**
 * Unmounts everything under `dir`, deepest first. A busy mount gets a lazy detach (`umount -l`) as a
 * last resort, which takes it out of the tree at once (the kernel frees it when its users go).
 */
export async function unmountUnder(exec: Exec, dir: string, maxRounds = 5): Promise<UnmountResult> {
  const unmounted: string[] = [];
  for (let round = 0; round < maxRounds; round++) {
    const todo = mountsUnder(await readMounts(), dir);
    if (todo.length === 0) return { unmounted, left: [] };
    for (const m of todo) {
      const r = await exec.run(['umount', m.mountPoint]);
      if (r.code === 0) {
        unmounted.push(m.mountPoint);
        continue;
      }
      if (round >= 1) {
        const lazy = await exec.run(['umount', '-l', m.mountPoint]);
        if (lazy.code === 0) unmounted.push(m.mountPoint);
      }
    }
  }
  return { unmounted, left: mountsUnder(await readMounts(), dir).map((m) => m.mountPoint) };
}
