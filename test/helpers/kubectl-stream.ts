/**
 * Runs a long-lived kubectl (`get -w`, `rollout status`, `wait`) in the background so a test can act
 * while it runs and then look at what it printed. The output is kept whole in memory (tests print
 * little); `waitForOutput` polls it against a pattern with a deadline instead of sleeping.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import type { RunResult } from './server.js';
import { waitFor } from './wait.js';

export interface KubectlStream {
  readonly proc: ChildProcess;
  /** Everything printed on stdout so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves with the stdout once it matches `pattern`; rejects on timeout with what was printed. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Resolves when the process exits on its own. */
  readonly exited: Promise<RunResult>;
  /** Kills the process (if still running) and waits for the exit. */
  stop(): Promise<RunResult>;
}

export function spawnKubectl(kubeconfig: string, args: readonly string[]): KubectlStream {
  const proc = spawn('kubectl', ['--kubeconfig', kubeconfig, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  proc.stderr.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const exited = new Promise<RunResult>((res) => {
    proc.once('close', (code) => res({ code: code ?? 1, stdout: out, stderr: err }));
  });
  return {
    proc,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitForOutput: (pattern, timeoutMs = 20_000) =>
      waitFor(
        () => `kubectl ${args.join(' ')} to print ${String(pattern)} (stdout so far: ${JSON.stringify(out)}, stderr: ${JSON.stringify(err)})`,
        () => (pattern.test(out) ? out : undefined),
        { timeoutMs },
      ),
    stop: async () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      return exited;
    },
  };
}
