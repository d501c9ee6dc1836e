/**
 * Helpers for e2e tests on a real lab (`knode lab up` through the built CLI): run a command and get
 * its output whatever its exit code, kubectl against the lab, commands inside a lab host's network
 * namespace, and an agent restart that `lab down` still finds (the state file is updated with the
 * new pid and the process joins the host's tracking cgroup).
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { joinCgroup } from '../../lab/cgroups.js';
import { procStat, realLauncher } from '../../lab/processes.js';
import { readLabState, stateFilePath, writeFileAtomic } from '../../lab/state.js';
import type { LabState, ProcessRecord } from '../../lab/state.js';
import { CLI } from './server.js';
import { waitFor } from './wait.js';

export interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export function run(file: string, args: readonly string[], input?: string, timeoutMs = 120_000): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(file, args, { timeout: timeoutMs, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

/** A random lab name with a prefix (labs are [a-z][a-z0-9]{0,8}). */
export function labName(prefix: string): string {
  return `${prefix}${Math.random().toString(36).slice(2, 8).replace(/[^a-z0-9]/g, 'a').padEnd(6, 'a')}`.slice(0, 9);
}

export class TestLab {
  readonly stateDir: string;
  readonly kubeconfig: string;
  constructor(readonly name: string) {
    this.stateDir = join('/var/lib/knode-lab', name);
    this.kubeconfig = join(this.stateDir, 'cp', 'admin.kubeconfig');
  }

  knode(args: readonly string[]): Promise<Run> {
    return run(process.execPath, [CLI, ...args], undefined, 180_000);
  }

  /** `etcd`: members of the lab's etcd cluster (`--etcd`); omitted: the server's embedded store. */
  async up(workers: number, opts: { readonly proxyMode?: 'nftables' | 'iptables'; readonly etcd?: number } = {}): Promise<void> {
    const mode = opts.proxyMode !== undefined ? ['--proxy-mode', opts.proxyMode] : [];
    const etcd = opts.etcd !== undefined ? ['--etcd', String(opts.etcd)] : [];
    const r = await this.knode(['lab', 'up', '--nodes', String(workers), '--name', this.name, ...mode, ...etcd]);
    if (r.code !== 0) throw new Error(`knode lab up failed (${r.code}):\n${r.stderr}`);
  }

  async down(): Promise<void> {
    const r = await this.knode(['lab', 'down', '--name', this.name]);
    if (r.code !== 0) throw new Error(`knode lab down failed (${r.code}):\n${r.stderr}`);
  }

  kubectl(args: readonly string[], input?: string): Promise<Run> {
    return run('kubectl', ['--kubeconfig', this.kubeconfig, ...args], input, 60_000);
  }

  async kubectlOk(args: readonly string[], input?: string): Promise<string> {
    const r = await this.kubectl(args, input);
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
    return r.stdout;
  }

  apply(obj: unknown): Promise<string> {
    return this.kubectlOk(['apply', '-f', '-'], JSON.stringify(obj));
  }

  netns(host: string): string {
    return `knode-${this.name}-${host}`;
  }

  /** Runs argv inside a lab host's network namespace (`sw`, `cp`, `w1`, ...). */
  inHost(host: string, argv: readonly string[], timeoutMs = 15_000): Promise<Run> {
    return run('ip', ['netns', 'exec', this.netns(host), ...argv], undefined, timeoutMs);
  }

  async state(): Promise<LabState> {
    const s = await readLabState(this.stateDir);
    if (s === undefined) throw new Error(`no lab state in ${this.stateDir}`);
    return s;
  }

  /** Replaces the record of a restarted process, so `lab down` stops the new one by pid. */
  async recordRestart(host: string, kind: ProcessRecord['kind'], pid: number, extra: Partial<ProcessRecord> = {}): Promise<void> {
    const st = await procStat(pid);
    const state = await this.state();
    const processes = state.processes.map((p) => (p.host === host && p.kind === kind ? { ...p, ...extra, pid, startTime: st?.startTime ?? '' } : p));
    await writeFileAtomic(stateFilePath(this.stateDir), `${JSON.stringify({ ...state, processes }, null, 2)}\n`);
    const cg = state.cgroups.find((c) => c.endsWith(`/${host}`));
    if (cg !== undefined) await joinCgroup(cg, pid).catch(() => undefined);
  }

  /** kill -9 of a host's agent, then the same argv again; answers the new pid. */
  async restartAgent(host: string): Promise<number> {
    const agent = (await this.state()).processes.find((p) => p.host === host && p.kind === 'agent');
    if (!agent) throw new Error(`no agent recorded for ${host}`);
    process.kill(agent.pid, 'SIGKILL');
    await waitFor(`the old agent on ${host} to exit`, async () => (await procStat(agent.pid))?.startTime !== agent.startTime);
    const { pid } = await realLauncher.start(agent.argv, { logFile: agent.logFile });
    await this.recordRestart(host, 'agent', pid);
    return pid;
  }
}
