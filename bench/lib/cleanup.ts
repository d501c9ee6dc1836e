/**
 * Everything the bench starts or creates (server and etcd processes, temp directories) registers an
 * undo here, so it is removed on success, on an exception, on Ctrl-C and on the overall deadline.
 *
 * Each undo has two forms: `async` for the normal path (SIGTERM, wait for the exit, then remove files)
 * and `sync` for the signal path, where the process is about to exit and awaiting is not safe
 * (SIGKILL by pid, rmSync). Undos run newest first, each at most once.
 */
import { rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import type { ChildProcess } from 'node:child_process';

export interface Undo {
  readonly what: string;
  readonly async: () => Promise<void>;
  readonly sync: () => void;
}

export class Cleanup {
  private readonly undos: Undo[] = [];
  private installed = false;

  add(undo: Undo): void {
    this.undos.push(undo);
  }

  /** Registers the removal of a directory tree. */
  addDir(dir: string): void {
    this.add({
      what: `remove ${dir}`,
      async: () => rm(dir, { recursive: true, force: true }),
      sync: () => rmSync(dir, { recursive: true, force: true }),
    });
  }

  /** Registers the stop of a child process, by its pid only. */
  addProcess(name: string, child: ChildProcess): void {
    this.add({
      what: `stop ${name} (pid ${child.pid ?? '?'})`,
      async: () => stopChild(child, 5000),
      sync: () => {
        if (isRunning(child) && child.pid !== undefined) {
          try {
            process.kill(child.pid, 'SIGKILL');
          } catch {
            // already gone
          }
        }
      },
    });
  }

  /** Runs every undo (newest first); reports failures on stderr but keeps going. */
  async runAll(): Promise<void> {
    while (this.undos.length > 0) {
      const u = this.undos.pop();
      if (u === undefined) break;
      try {
        await u.async();
      } catch (err) {
        process.stderr.write(`cleanup: ${u.what} failed: ${String(err)}\n`);
        try {
          u.sync();
        } catch {
          // the sync form is the last resort; nothing more to try
        }
      }
    }
  }

  runAllSync(): void {
    while (this.undos.length > 0) {
      const u = this.undos.pop();
      if (u === undefined) break;
      try {
        u.sync();
      } catch (err) {
        process.stderr.write(`cleanup: ${u.what} failed: ${String(err)}\n`);
      }
    }
  }

  /** On SIGINT/SIGTERM: undo synchronously and exit 130/143. On normal exit: undo what is left. */
  installSignalHandlers(): void {
    if (this.installed) return;
    this.installed = true;
    const onSignal = (signal: NodeJS.Signals, code: number) => (): void => {
      process.stderr.write(`\n${signal}: cleaning up\n`);
      this.runAllSync();
      process.exit(code);
    };
    process.once('SIGINT', onSignal('SIGINT', 130));
    process.once('SIGTERM', onSignal('SIGTERM', 143));
    process.once('exit', () => this.runAllSync());
  }
}

export function isRunning(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

/** SIGTERM, then SIGKILL if the child has not exited within `graceMs`; resolves once it has exited. */
export function stopChild(child: ChildProcess, graceMs: number): Promise<void> {
  if (!isRunning(child) || child.pid === undefined) return Promise.resolve();
  const pid = child.pid;
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        resolve();
      }
    }, graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      clearTimeout(timer);
      resolve();
    }
  });
}
