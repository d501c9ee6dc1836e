/**
 * Real etcd for tests: Debian's `etcd` (etcd-server), one to N members on loopback, each with its
 * own temporary data dir and free client/peer ports. `stop()` kills every member and removes the
 * dirs; a member can be killed or restarted alone to test fail-over.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './server.js';

export interface EtcdMember {
  readonly name: string;
  readonly clientUrl: string;
  readonly peerUrl: string;
  readonly dataDir: string;
  /** Kills the member (SIGKILL) and waits for it to exit. */
  kill(): Promise<void>;
  /** Starts it again on the same ports and data dir; resolves when it answers /health. */
  restart(): Promise<void>;
  running(): boolean;
}

export interface EtcdCluster {
  readonly members: readonly EtcdMember[];
  readonly endpoints: readonly string[];
  stop(): Promise<void>;
}

async function waitHealthy(url: string, proc: () => ChildProcess | undefined, log: () => string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const p = proc();
    if (p === undefined || p.exitCode !== null) throw new Error(`etcd at ${url} exited: ${log().slice(-2000)}`);
    try {
      const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1_000) });
      const body = (await res.json()) as { health?: string };
      if (body.health === 'true') return;
    } catch {
      // not listening yet, or no leader yet
    }
    await sleep(50);
  }
  throw new Error(`etcd at ${url} not healthy after ${timeoutMs / 1000} s: ${log().slice(-2000)}`);
}

/** Starts an N-member cluster (default 1) and waits until every member reports healthy. */
export async function startEtcd(opts: { members?: number } = {}): Promise<EtcdCluster> {
  const n = opts.members ?? 1;
  const root = await mkdtemp(join(tmpdir(), 'knode-etcd-'));
  const specs: Array<{ name: string; client: number; peer: number }> = [];
  for (let i = 0; i < n; i++) specs.push({ name: `m${i}`, client: await freePort(), peer: await freePort() });
  const initialCluster = specs.map((s) => `${s.name}=http://127.0.0.1:${s.peer}`).join(',');

  const started = specs.map((s) => {
    const clientUrl = `http://127.0.0.1:${s.client}`;
    const peerUrl = `http://127.0.0.1:${s.peer}`;
    const dataDir = join(root, s.name);
    let proc: ChildProcess | undefined;
    let log = '';
    let started = false;
    const start = (): void => {
      log = '';
      proc = spawn('etcd', [
        '--name', s.name,
        '--data-dir', dataDir,
        '--listen-client-urls', clientUrl,
        '--advertise-client-urls', clientUrl,
        '--listen-peer-urls', peerUrl,
        '--initial-advertise-peer-urls', peerUrl,
        '--initial-cluster', initialCluster,
        '--initial-cluster-state', started ? 'existing' : 'new',
        '--initial-cluster-token', `knode-test-${process.pid}`,
        '--log-level', 'error',
      ], { stdio: ['ignore', 'ignore', 'pipe'] });
      proc.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
        log = (log + chunk).slice(-8_000);
      });
      started = true;
    };
    const kill = async (): Promise<void> => {
      const p = proc;
      if (p === undefined || p.exitCode !== null || p.signalCode !== null) return;
      const exited = new Promise<void>((res) => p.once('exit', () => res()));
      p.kill('SIGKILL');
      await exited;
    };
    start();
    const member: EtcdMember = {
      name: s.name,
      clientUrl,
      peerUrl,
      dataDir,
      kill,
      restart: async () => {
        await kill();
        start();
        await waitHealthy(clientUrl, () => proc, () => log);
      },
      running: () => proc !== undefined && proc.exitCode === null && proc.signalCode === null,
    };
    return { member, healthy: () => waitHealthy(clientUrl, () => proc, () => log) };
  });
  const members = started.map((m) => m.member);
  const stop = async (): Promise<void> => {
    await Promise.all(members.map((m) => m.kill()));
    await rm(root, { recursive: true, force: true });
  };
  try {
    await Promise.all(started.map((m) => m.healthy()));
  } catch (err) {
    await stop();
    throw err;
  }
  return { members, endpoints: members.map((m) => m.clientUrl), stop };
}
