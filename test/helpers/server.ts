/**
 * Starts the real `knode server` (the built CLI, as a user runs it) on loopback with a temporary data
 * directory, and drives it with the real kubectl. Every server is stopped and its directory removed by
 * `stop()`; tests call it in afterAll/afterEach.
 */
import { spawn, execFile } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { LOOPBACK } from './ip-plan.js';

export const REPO = resolve(import.meta.dirname, '..', '..');
export const CLI = join(REPO, 'dist', 'cli', 'main.js');

/**
 * Flags for suites that test the apiserver itself: no controllers or scheduler writing to the objects
 * they create, so their expectations stay exact (upstream's apiserver integration tests run without
 * kube-controller-manager too).
 */
export const APISERVER_ONLY: readonly string[] = ['--controllers', 'none'];

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, LOOPBACK, () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => res(port));
    });
  });
}

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface TestServer {
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  readonly kubeconfig: string;
  readonly proc: ChildProcess;
  /** Runs the real kubectl against this server. */
  kubectl(args: readonly string[], opts?: { input?: string; timeoutMs?: number }): Promise<RunResult>;
  /** Like kubectl, but throws with stderr when it exits non-zero. */
  kubectlOk(args: readonly string[], opts?: { input?: string; timeoutMs?: number }): Promise<string>;
  /** Stops with SIGTERM (or SIGKILL) and waits for the exit. */
  stopProcess(signal?: NodeJS.Signals): Promise<number | null>;
  /** Starts the server again on the same port and data directory. */
  restart(): Promise<void>;
  /** Stops the process and removes the data directory. */
  stop(): Promise<void>;
}

function run(cmd: string, args: readonly string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((res) => {
    const child = execFile(cmd, args, { timeout: opts.timeoutMs ?? 60_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
      res({ code, stdout: String(stdout), stderr: String(stderr) });
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

async function launch(dataDir: string, port: number, extra: readonly string[]): Promise<{ proc: ChildProcess; url: string; kubeconfig: string }> {
  // No cluster DNS unless a test asks for it (--dns-port): test servers share 127.0.0.1 and port 53.
  const dns = extra.includes('--dns-port') ? [] : ['--dns-port', '0'];
  const proc = spawn(process.execPath, [CLI, 'server', '--data-dir', dataDir, '--port', String(port), ...dns, ...extra], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, KNODE_LOG_LEVEL: process.env['KNODE_LOG_LEVEL'] ?? 'warn' },
  });
  let stderr = '';
  proc.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const ready = await new Promise<{ url: string; kubeconfig: string }>((res, rej) => {
    let out = '';
    const timer = setTimeout(() => {
      proc.kill('SIGKILL'); // by pid: the child we started
      rej(new Error(`knode server did not become ready in 30 s; stderr:\n${stderr}`));
    }, 30_000);
    proc.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /ready at (\S+); kubeconfig: (\S+)/.exec(out);
      if (m?.[1] && m[2]) {
        clearTimeout(timer);
        res({ url: m[1], kubeconfig: m[2] });
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      rej(new Error(`knode server exited with ${code} before it was ready; stderr:\n${stderr}`));
    });
  });
  return { proc, ...ready };
}

export async function startServer(extraArgs: readonly string[] = []): Promise<TestServer> {
  const dataDir = await mkdtemp(join(tmpdir(), 'knode-test-'));
  const port = await freePort();
  let current: Awaited<ReturnType<typeof launch>>;
  try {
    current = await launch(dataDir, port, extraArgs);
  } catch (err) {
    // a server that never became ready must not leave its directory behind
    await rm(dataDir, { recursive: true, force: true });
    throw err;
  }
  const server: TestServer = {
    get url() {
      return current.url;
    },
    port,
    dataDir,
    get kubeconfig() {
      return current.kubeconfig;
    },
    get proc() {
      return current.proc;
    },
    kubectl: (args, opts) => run('kubectl', ['--kubeconfig', current.kubeconfig, ...args], opts),
    kubectlOk: async (args, opts) => {
      const r = await run('kubectl', ['--kubeconfig', current.kubeconfig, ...args], opts);
      if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
      return r.stdout;
    },
    stopProcess: (signal = 'SIGTERM') =>
      new Promise((res) => {
        const p = current.proc;
        if (p.exitCode !== null || p.signalCode !== null) {
          res(p.exitCode);
          return;
        }
        p.once('exit', (code) => res(code));
        p.kill(signal);
      }),
    restart: async () => {
      current = await launch(dataDir, port, extraArgs);
    },
    stop: async () => {
      await server.stopProcess('SIGTERM');
      await rm(dataDir, { recursive: true, force: true });
    },
  };
  return server;
}
