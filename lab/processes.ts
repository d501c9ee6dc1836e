/**
 * Long-running lab processes (knode server, containerd, knode agent): started detached inside a lab
 * namespace through `nsenter --net=/run/netns/<ns>` (which execs, so the pid we get is the daemon's),
 * output appended to a log file, and identified afterwards by pid + start time (field 22 of
 * /proc/<pid>/stat), so a pid reused by an unrelated process after a reboot is never signalled.
 *
 * Stopping is by pid only: SIGTERM, wait up to a grace period, then SIGKILL. Finding a lab's stray
 * processes is by pid too: every pid whose network namespace is one of the lab's (compare the inode
 * of /proc/<pid>/ns/net with the namespace file's), as `ip netns pids` does.
 *
 * Cost: spawning is one fork+exec; liveness is one small /proc read; the netns sweep reads one
 * symlink per process on the machine (a few hundred: ~5 ms).
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { readdir, readFile, readlink, stat } from 'node:fs/promises';
import { realClock } from '../lib/clock.js';
import type { Clock } from '../lib/clock.js';

export function netnsPath(netns: string): string {
  return `/run/netns/${netns}`;
}

/** argv that runs `argv` inside a named network namespace (and nothing else changed). */
export function inNetns(netns: string, argv: readonly string[]): string[] {
  return ['nsenter', `--net=${netnsPath(netns)}`, '--', ...argv];
}

export interface StartedProcess {
  readonly pid: number;
}

/** Starts daemons that outlive the caller. A fake records the argv. */
export interface Launcher {
  start(argv: readonly string[], opts: { readonly logFile: string; readonly env?: Readonly<Record<string, string>> }): Promise<StartedProcess>;
}

export const realLauncher: Launcher = {
  start(argv, opts) {
    const [file, ...args] = argv;
    if (file === undefined) return Promise.reject(new Error('empty argv'));
    const fd = openSync(opts.logFile, 'a', 0o600);
    try {
      return new Promise((resolve, reject) => {
        const child = spawn(file, args, {
          detached: true,
          stdio: ['ignore', fd, fd],
          env: { ...process.env, ...(opts.env ?? {}) },
        });
        child.once('error', reject);
        child.once('spawn', () => {
          child.unref();
          if (child.pid === undefined) reject(new Error(`${file} started without a pid`));
          else resolve({ pid: child.pid });
        });
      });
    } finally {
      closeSync(fd);
    }
  },
};

/** Start time (field 22) and state (field 3) of a process, or undefined when it does not exist. */
export async function procStat(pid: number): Promise<{ startTime: string; state: string } | undefined> {
  let text: string;
  try {
    text = await readFile(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // the command name (field 2) may contain spaces and parentheses: fields restart after the last ')'
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const state = rest[0];
  const startTime = rest[19];
  return state !== undefined && startTime !== undefined ? { startTime, state } : undefined;
}

/** True while the process with this pid and start time exists and is not a zombie. */
export async function isAlive(p: { readonly pid: number; readonly startTime: string }): Promise<boolean> {
  const s = await procStat(p.pid);
  return s !== undefined && s.startTime === p.startTime && s.state !== 'Z' && s.state !== 'X';
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

/**
 * SIGTERM, then SIGKILL after `graceMs`; resolves once every process is gone. Processes whose start
 * time no longer matches (already gone, pid reused) are left alone.
 */
export async function stopProcesses(
  procs: readonly { readonly pid: number; readonly startTime: string }[],
  graceMs = 5_000,
  clock: Clock = realClock,
): Promise<{ readonly killed: number }> {
  type Proc = { readonly pid: number; readonly startTime: string };
  const aliveOf = async (ps: readonly Proc[]): Promise<Proc[]> => {
    const out: Proc[] = [];
    for (const p of ps) if (await isAlive(p)) out.push(p);
    return out;
  };
  let alive = await aliveOf(procs);
  for (const p of alive) signal(p.pid, 'SIGTERM');
  const deadline = clock.now().getTime() + graceMs;
  let killed = 0;
  for (;;) {
    alive = await aliveOf(alive);
    if (alive.length === 0) return { killed };
    if (clock.now().getTime() >= deadline) {
      for (const p of alive) signal(p.pid, 'SIGKILL');
      killed += alive.length;
      // SIGKILL cannot be ignored; a process in uninterruptible sleep still goes shortly
      const hard = clock.now().getTime() + 5_000;
      while (alive.length > 0 && clock.now().getTime() < hard) {
        await clock.sleep(50);
        alive = await aliveOf(alive);
      }
      return { killed };
    }
    await clock.sleep(50);
  }
}

/** The inode numbers of network namespace files (named netns, nsfs bind mounts); missing ones skipped. */
export async function netnsInodes(paths: readonly string[]): Promise<Set<number>> {
  const out = new Set<number>();
  for (const p of paths) {
    try {
      out.add((await stat(p)).ino);
    } catch {
      // not there (already deleted)
    }
  }
  return out;
}

/** Every process (pid + start time) whose network namespace is one of `inodes`. */
export async function processesInNetns(inodes: ReadonlySet<number>): Promise<Array<{ pid: number; startTime: string }>> {
  if (inodes.size === 0) return [];
  const out: Array<{ pid: number; startTime: string }> = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    if (pid === process.pid) continue;
    try {
      const m = /^net:\[(\d+)\]$/.exec(await readlink(`/proc/${pid}/ns/net`));
      if (m?.[1] === undefined || !inodes.has(Number(m[1]))) continue;
      const s = await procStat(pid);
      if (s !== undefined) out.push({ pid, startTime: s.startTime });
    } catch {
      // exited meanwhile, or a kernel thread without ns links
    }
  }
  return out;
}

/** Polls `check` until it returns a value, or throws `onTimeout()` after `timeoutMs`. */
export async function waitFor<T>(
  check: () => Promise<T | undefined>,
  timeoutMs: number,
  onTimeout: () => Promise<Error> | Error,
  clock: Clock = realClock,
  intervalMs = 50,
): Promise<T> {
  const deadline = clock.now().getTime() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (clock.now().getTime() >= deadline) throw await onTimeout();
    await clock.sleep(intervalMs);
  }
}

/** The last `n` lines of a log file (for error messages), or '' when it cannot be read. */
export async function logTail(path: string, n = 15): Promise<string> {
  try {
    const lines = (await readFile(path, 'utf8')).trimEnd().split('\n');
    return lines.slice(-n).join('\n');
  } catch {
    return '';
  }
}
