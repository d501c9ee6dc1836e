/**
 * The one way knode starts short-lived processes: an argv array (never a shell string) and optional
 * stdin, answered with stdout, stderr and the exit code. Executors take an `Exec` so unit tests swap
 * in `FakeExec` and see every command that would have run.
 *
 * `run` resolves for every exit code (callers such as `ip netns del` on a missing namespace decide
 * what a failure means); `mustRun` turns a non-zero exit into an `ExecError` that keeps argv, code and
 * stderr. A program that cannot be started at all (ENOENT, EACCES) or that outlives its timeout rejects
 * with an `ExecError` too (code -1).
 *
 * Cost model: one fork+exec per call (~2-5 ms for a small binary); batch where the tool allows it
 * (`ip -batch -`, `nft -f -`, `iptables-restore`) rather than calling it once per object.
 */
import { spawn } from 'node:child_process';
import { KnodeError } from './errors.js';

export interface ExecOptions {
  /** Written to the process's stdin, which is then closed. Without it stdin is /dev/null. */
  readonly stdin?: string | Buffer;
  /** Killed with SIGKILL after this long (default 60 s). */
  readonly timeoutMs?: number;
  /** Replaces the environment (default: inherit). */
  readonly env?: Readonly<Record<string, string>>;
  readonly cwd?: string;
}

export interface ExecResult {
  readonly stdout: string;
  readonly stderr: string;
  /** The exit code, or 128+signal when the process was killed by a signal. */
  readonly code: number;
}

export interface Exec {
  run(argv: readonly string[], opts?: ExecOptions): Promise<ExecResult>;
}

export class ExecError extends KnodeError {
  readonly argv: readonly string[];
  readonly exitCode: number;
  readonly stderr: string;
  constructor(argv: readonly string[], exitCode: number, stderr: string, options?: { cause?: unknown }) {
    const detail = stderr.trim().split('\n').slice(-3).join(' | ');
    super(
      exitCode === -1 ? 'ERR_EXEC_START' : 'ERR_EXEC_FAILED',
      `${formatArgv(argv)} ${exitCode === -1 ? 'could not run' : `exited with code ${exitCode}`}${detail ? `: ${detail}` : ''}`,
      options,
    );
    this.argv = argv;
    this.exitCode = exitCode;
    this.stderr = stderr;
  }
}

/** Quotes only what needs it, for messages a user may copy into a shell. */
export function formatArgv(argv: readonly string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", "'\\''")}'`)).join(' ');
}

const SIGNALS: Readonly<Record<string, number>> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGSEGV: 11, SIGPIPE: 13, SIGTERM: 15 };

export const realExec: Exec = {
  run(argv, opts = {}) {
    const [file, ...args] = argv;
    if (file === undefined) return Promise.reject(new ExecError(argv, -1, 'empty argv'));
    return new Promise((resolve, reject) => {
      const child = spawn(file, args, {
        stdio: [opts.stdin !== undefined ? 'pipe' : 'ignore', 'pipe', 'pipe'],
        ...(opts.env !== undefined ? { env: { ...opts.env } } : {}),
        ...(opts.cwd !== undefined ? { cwd: opts.cwd } : {}),
      });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGKILL');
      }, opts.timeoutMs ?? 60_000);
      child.stdout?.on('data', (d: Buffer) => out.push(d));
      child.stderr?.on('data', (d: Buffer) => err.push(d));
      child.on('error', (e) => {
        clearTimeout(timer);
        reject(new ExecError(argv, -1, e.message, { cause: e }));
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        const stderr = Buffer.concat(err).toString('utf8');
        if (timedOut) {
          reject(new ExecError(argv, -1, `timed out after ${opts.timeoutMs ?? 60_000} ms; ${stderr}`));
          return;
        }
        resolve({
          stdout: Buffer.concat(out).toString('utf8'),
          stderr,
          code: code ?? 128 + (signal !== null ? (SIGNALS[signal] ?? 0) : 0),
        });
      });
      if (opts.stdin !== undefined) {
        // a process that exits without reading its stdin must not crash us with EPIPE
        child.stdin?.on('error', () => undefined);
        child.stdin?.end(opts.stdin);
      }
    });
  },
};

/** Runs and throws an ExecError unless the process exits with 0. */
export async function mustRun(exec: Exec, argv: readonly string[], opts?: ExecOptions): Promise<ExecResult> {
  const r = await exec.run(argv, opts);
  if (r.code !== 0) throw new ExecError(argv, r.code, r.stderr);
  return r;
}

export interface ExecCall {
  readonly argv: readonly string[];
  readonly stdin?: string;
}

/**
 * Records every call and answers from a handler (default: success with empty output). A handler may
 * return a partial result or throw to simulate a program that cannot start.
 */
export class FakeExec implements Exec {
  readonly calls: ExecCall[] = [];
  constructor(private readonly handler: (call: ExecCall) => Partial<ExecResult> | undefined = () => undefined) {}
  run(argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
    const call: ExecCall = { argv: [...argv], ...(opts.stdin !== undefined ? { stdin: opts.stdin.toString() } : {}) };
    this.calls.push(call);
    try {
      const r = this.handler(call) ?? {};
      return Promise.resolve({ stdout: r.stdout ?? '', stderr: r.stderr ?? '', code: r.code ?? 0 });
    } catch (err) {
      return Promise.reject(err instanceof ExecError ? err : new ExecError(argv, -1, String(err), { cause: err }));
    }
  }
  /** The argv of every call, each joined with spaces: handy for `toEqual` in tests. */
  commands(): string[] {
    return this.calls.map((c) => c.argv.join(' '));
  }
}
