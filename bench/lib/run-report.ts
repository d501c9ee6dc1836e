/**
 * What every report-printing bench's main() does around its run: signal handlers that clean up,
 * a --timeout deadline (exit 124 after cleaning up), the report on stdout, a failure on stderr with
 * exit code 1, and the cleanup in every case. Plus the whole-number flag parser they share.
 */
import { InvalidArgumentError } from 'commander';
import { Cleanup } from './cleanup.js';
import { Progress } from './progress.js';

/** A commander parser for a whole number in [min, max], naming the flag when it is not one. */
export function intFlag(name: string, min: number, max: number): (v: string) => number {
  return (v) => {
    if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) throw new InvalidArgumentError(`${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(v)}.`);
    return Number(v);
  };
}

/** Runs `run` under a deadline of `timeoutSeconds`, printing its report; cleans up whatever happens. */
export async function runReport(timeoutSeconds: number, run: (cleanup: Cleanup, progress: Progress) => Promise<string>): Promise<void> {
  const cleanup = new Cleanup();
  cleanup.installSignalHandlers();
  const progress = new Progress();
  const deadline = setTimeout(() => {
    progress.note(`the run exceeded --timeout ${timeoutSeconds} s; cleaning up`);
    cleanup.runAllSync();
    process.exit(124);
  }, timeoutSeconds * 1000);
  deadline.unref();
  try {
    process.stdout.write(await run(cleanup, progress));
  } catch (err) {
    process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  } finally {
    await cleanup.runAll();
  }
}
