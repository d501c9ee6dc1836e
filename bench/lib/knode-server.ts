/**
 * Starts a fresh `knode server` (the built CLI, as a user runs it) in its own temp directory on a free
 * loopback port, optionally under `node --cpu-prof`, and reads its memory from /proc. The process and
 * the directory are registered with the Cleanup before anything can fail.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { freePort } from '../../test/helpers/server.js';
import type { Cleanup } from './cleanup.js';
import { stopChild } from './cleanup.js';
import type { SyncMode } from './args.js';

export interface KnodeServer {
  readonly url: string;
  readonly kubeconfigPath: string;
  readonly pid: number;
  readonly child: ChildProcess;
  /** Last lines the server wrote on stderr (for error messages). */
  stderrTail(): string;
  /** SIGTERM and wait (a graceful exit is what makes --cpu-prof write its profile). */
  stop(): Promise<void>;
}

export interface StartKnodeOptions {
  readonly sync: SyncMode;
  /** Client URL of an etcd to store in (`--etcd-servers`) instead of the embedded SQLite. */
  readonly etcdServers?: string;
  /** Port of the cluster DNS server (default 0: none); extra flags for `knode server`. */
  readonly dnsPort?: number;
  readonly extraArgs?: readonly string[];
  readonly cpuProfDir?: string;
  readonly readyTimeoutMs?: number;
}

/** dist/cli/main.js of the repository this file lives in (bundled into dist/bench/ or run from source). */
export function cliPath(): string {
  let dir = import.meta.dirname;
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`no package.json above ${import.meta.dirname}; run the bench from the knode repository`);
    dir = up;
  }
  const cli = join(dir, 'dist', 'cli', 'main.js');
  if (!existsSync(cli)) throw new Error(`${cli} is missing; run \`npm run build\` first`);
  return cli;
}

export async function startKnodeServer(cleanup: Cleanup, opts: StartKnodeOptions): Promise<KnodeServer> {
  const dataDir = await mkdtemp(join(tmpdir(), 'knode-bench-'));
  cleanup.addDir(dataDir);
  const port = await freePort();
  const nodeFlags = opts.cpuProfDir !== undefined ? ['--cpu-prof', '--cpu-prof-dir', resolve(opts.cpuProfDir)] : [];
  const child = spawn(
    process.execPath,
    [...nodeFlags, cliPath(), 'server', '--data-dir', dataDir, '--port', String(port), '--store-sync', opts.sync, '--dns-port', String(opts.dnsPort ?? 0), ...(opts.etcdServers !== undefined ? ['--etcd-servers', opts.etcdServers] : []), ...(opts.extraArgs ?? [])],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, KNODE_LOG_LEVEL: process.env['KNODE_LOG_LEVEL'] ?? 'warn' } },
  );
  cleanup.addProcess('knode server', child);
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const timeoutMs = opts.readyTimeoutMs ?? 30_000;
  const ready = await new Promise<{ url: string; kubeconfigPath: string }>((res, rej) => {
    let out = '';
    const timer = setTimeout(() => rej(new Error(`knode server did not print "ready" within ${timeoutMs} ms; stderr:\n${stderr}`)), timeoutMs);
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /ready at (\S+); kubeconfig: (\S+)/.exec(out);
      if (m?.[1] !== undefined && m[2] !== undefined) {
        clearTimeout(timer);
        res({ url: m[1], kubeconfigPath: m[2] });
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      rej(new Error(`knode server exited (${code ?? signal}) before it was ready; stderr:\n${stderr}`));
    });
    child.once('error', (err) => {
      clearTimeout(timer);
      rej(err);
    });
  });
  // Keep draining stdout so a chatty server never blocks on a full pipe.
  child.stdout?.resume();
  if (child.pid === undefined) throw new Error('knode server has no pid');
  return {
    ...ready,
    pid: child.pid,
    child,
    stderrTail: () => stderr,
    stop: () => stopChild(child, 10_000),
  };
}

export interface ProcMemory {
  /** Resident set now, bytes. */
  readonly rss: number;
  /** Peak resident set since the process started ("high water mark"), bytes. */
  readonly hwm: number;
}

/** Parses VmRSS and VmHWM (kB) out of /proc/<pid>/status text. */
export function parseProcStatus(text: string): ProcMemory | undefined {
  const kb = (key: string): number | undefined => {
    const m = new RegExp(`^${key}:\\s+(\\d+)\\s+kB`, 'm').exec(text);
    return m?.[1] !== undefined ? Number(m[1]) * 1024 : undefined;
  };
  const rss = kb('VmRSS');
  const hwm = kb('VmHWM');
  return rss !== undefined && hwm !== undefined ? { rss, hwm } : undefined;
}

export async function readProcMemory(pid: number): Promise<ProcMemory | undefined> {
  try {
    return parseProcStatus(await readFile(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** The newest .cpuprofile in `dir` (node names them CPU.<date>.<time>.<pid>.<tid>.<seq>.cpuprofile). */
export async function newestCpuProfile(dir: string, pid: number): Promise<string | undefined> {
  const names = (await readdir(dir)).filter((n) => n.endsWith('.cpuprofile') && n.includes(`.${pid}.`));
  names.sort();
  const last = names[names.length - 1];
  return last !== undefined ? join(dir, last) : undefined;
}
