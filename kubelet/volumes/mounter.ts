/**
 * Mounts the volume manager needs: tmpfs for memory-backed volumes, unmount on teardown, and the list
 * of mount points below a pod's directory. `ExecMounter` runs mount(8)/umount(8) through the Exec
 * interface and reads /proc/self/mountinfo; `FakeMounter` keeps the same semantics in memory
 * (unmounting something that is not mounted fails, like umount does).
 *
 * The mount table, not in-memory state, says what is mounted, so a restarted agent still unmounts
 * what its predecessor mounted. Cost model: one fork+exec per mount or unmount, one read of
 * mountinfo (a few KB) per query.
 */
import { readFile } from 'node:fs/promises';
import type { Exec } from '../../lib/exec.js';
import { mustRun } from '../../lib/exec.js';

export interface Mounter {
  /** Mounts a fresh tmpfs at `dir` (which must exist); without a size the kernel's default applies. */
  mountTmpfs(dir: string, sizeBytes?: number): Promise<void>;
  unmount(dir: string): Promise<void>;
  /** Mount points equal to or below `dir`, deepest first (the order to unmount them in). */
  mountPointsUnder(dir: string): Promise<string[]>;
}

/** mountinfo escapes space, tab, newline and backslash as octal (`\040`). */
function unescapeMountPath(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/** The mount points listed in /proc/<pid>/mountinfo (field 5), in file order. */
export function parseMountInfo(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const fields = line.split(' ');
    const mountPoint = fields[4];
    if (mountPoint !== undefined && mountPoint !== '') out.push(unescapeMountPath(mountPoint));
  }
  return out;
}

/** Mount points at or below `dir`, deepest first; a mount listed twice (stacked) appears twice. */
export function mountPointsBelow(all: readonly string[], dir: string): string[] {
  const base = dir.replace(/\/+$/, '');
  // a child path is always longer than its parent, so longest first unmounts children first
  return all.filter((m) => m === base || m.startsWith(`${base}/`)).sort((a, b) => b.length - a.length || (a < b ? -1 : a > b ? 1 : 0));
}

export class ExecMounter implements Mounter {
  constructor(
    private readonly exec: Exec,
    private readonly mountInfoPath = '/proc/self/mountinfo',
  ) {}

  async mountTmpfs(dir: string, sizeBytes?: number): Promise<void> {
    const opts = sizeBytes !== undefined ? ['-o', `size=${sizeBytes}`] : [];
    await mustRun(this.exec, ['mount', '-t', 'tmpfs', ...opts, 'tmpfs', dir]);
  }

  async unmount(dir: string): Promise<void> {
    await mustRun(this.exec, ['umount', dir]);
  }

  async mountPointsUnder(dir: string): Promise<string[]> {
    return mountPointsBelow(parseMountInfo(await readFile(this.mountInfoPath, 'utf8')), dir);
  }
}

export interface FakeMount {
  readonly dir: string;
  readonly sizeBytes?: number;
}

export class FakeMounter implements Mounter {
  readonly mounts: FakeMount[] = [];
  readonly calls: string[] = [];

  mountTmpfs(dir: string, sizeBytes?: number): Promise<void> {
    this.calls.push(sizeBytes !== undefined ? `mount tmpfs ${dir} size=${sizeBytes}` : `mount tmpfs ${dir}`);
    this.mounts.push({ dir, ...(sizeBytes !== undefined ? { sizeBytes } : {}) });
    return Promise.resolve();
  }

  unmount(dir: string): Promise<void> {
    this.calls.push(`umount ${dir}`);
    // the most recent mount on a path is the one umount removes
    for (let i = this.mounts.length - 1; i >= 0; i--) {
      if (this.mounts[i]?.dir === dir) {
        this.mounts.splice(i, 1);
        return Promise.resolve();
      }
    }
    return Promise.reject(new Error(`umount: ${dir}: not mounted.`));
  }

  mountPointsUnder(dir: string): Promise<string[]> {
    return Promise.resolve(mountPointsBelow(this.mounts.map((m) => m.dir), dir));
  }
}
