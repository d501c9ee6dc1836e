/**
 * The reference run: a private single-member etcd (own temp data dir, client and peer URLs on free
 * loopback ports, default backend quota, default fsync of its WAL on every commit) and the same write
 * workload through the etcd3 client: N puts of a value the size of a stored ConfigMap under
 * /registry/configmaps/bench/, C in flight, then a range get of the prefix (median of 5).
 *
 * The etcd3 client multiplexes all C requests over one HTTP/2 connection, which is also how
 * kube-apiserver talks to etcd. A raw put does far less than a knode create (no TLS here, no JSON
 * decode, validation, defaulting or admission), so the ratio is an upper bound on the storage share.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Etcd3 } from 'etcd3';
import { freePort } from '../../test/helpers/server.js';
import type { Cleanup } from './cleanup.js';
import { stopChild } from './cleanup.js';
import type { ProcMemory } from './knode-server.js';
import { readProcMemory } from './knode-server.js';
import type { Progress } from './progress.js';
import { maxOf, median } from './stats.js';
import type { PhaseResult } from './workload.js';
import { NAMESPACE, configMapName, runClosedLoop } from './workload.js';

export interface EtcdResults {
  readonly version: string;
  readonly puts: PhaseResult;
  readonly rangeMedianMs: number;
  readonly rangeMaxMs: number;
  readonly rangeKeys: number;
  readonly valueBytes: number;
  readonly memory?: ProcMemory;
}

const PREFIX = `/registry/configmaps/${NAMESPACE}/`;

async function waitHealthy(url: string, isAlive: () => boolean, stderrTail: () => string): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (!isAlive()) throw new Error(`etcd exited before it was healthy:\n${stderrTail()}`);
    try {
      const r = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) });
      if (r.ok && /"health":\s*"true"/.test(await r.text())) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`etcd at ${url} was not healthy within 20 s:\n${stderrTail()}`);
    await sleep(100);
  }
}

export interface BenchEtcd {
  readonly clientUrl: string;
  readonly child: ChildProcess;
  readonly version: string;
}

/**
 * A private single-member etcd on free loopback ports with its own temp data dir (default quota,
 * fsync of its WAL on every commit), registered with the Cleanup; resolves once /health says true.
 */
export async function startBenchEtcd(cleanup: Cleanup, progress: Progress, name: string): Promise<BenchEtcd> {
  const dataDir = await mkdtemp(join(tmpdir(), 'knode-bench-etcd-'));
  cleanup.addDir(dataDir);
  const clientPort = await freePort();
  let peerPort = await freePort();
  while (peerPort === clientPort) peerPort = await freePort();
  const clientUrl = `http://127.0.0.1:${clientPort}`;
  const peerUrl = `http://127.0.0.1:${peerPort}`;
  progress.note(`starting etcd (client ${clientUrl}, data ${dataDir})`);
  const child = spawn(
    'etcd',
    [
      '--name', name,
      '--data-dir', join(dataDir, 'data'),
      '--listen-client-urls', clientUrl,
      '--advertise-client-urls', clientUrl,
      '--listen-peer-urls', peerUrl,
      '--initial-advertise-peer-urls', peerUrl,
      '--initial-cluster', `${name}=${peerUrl}`,
      '--initial-cluster-state', 'new',
      '--log-level', 'warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  cleanup.addProcess('etcd', child);
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const spawnError = new Promise<never>((_, rej) => child.once('error', (err) => rej(new Error(`cannot start etcd: ${err.message}`))));
  await Promise.race([waitHealthy(clientUrl, () => child.exitCode === null && child.signalCode === null, () => stderr), spawnError]);
  const version = await fetch(`${clientUrl}/version`).then(
    async (r) => ((await r.json()) as { etcdserver?: string }).etcdserver ?? '?',
    () => '?',
  );

  return { clientUrl, child, version };
}

export async function runEtcdReference(
  cleanup: Cleanup,
  opts: { readonly objects: number; readonly clients: number; readonly valueBytes: number },
  progress: Progress,
  signal: AbortSignal,
): Promise<EtcdResults> {
  const { clientUrl, child, version } = await startBenchEtcd(cleanup, progress, 'bench');
  // gRPC's default 4 MiB receive limit is smaller than a range of 10,000 ConfigMap-sized values;
  // etcd's own Go client (the one kube-apiserver uses) defaults to a 2 GiB limit, so lift it likewise.
  const client = new Etcd3({ hosts: clientUrl, grpcOptions: { 'grpc.max_receive_message_length': 1024 * 1024 * 1024 } });
  try {
    const value = Buffer.alloc(opts.valueBytes, 'x');
    // One untimed put opens the HTTP/2 channel, as the knode run's warm-up opens its TLS connections.
    await client.put(`${PREFIX}warmup`).value(value);
    await client.delete().key(`${PREFIX}warmup`);
    const puts = await runClosedLoop(
      'etcd put',
      opts.objects,
      opts.clients,
      async (i) => {
        const t0 = performance.now();
        await client.put(`${PREFIX}${configMapName(i)}`).value(value);
        return { ok: true, latencyMs: performance.now() - t0 };
      },
      progress,
      signal,
    );
    progress.start('etcd range get', 5);
    const times: number[] = [];
    let rangeKeys = 0;
    for (let r = 0; r < 5; r++) {
      const t0 = performance.now();
      const kvs = await client.getAll().prefix(PREFIX).buffers();
      times.push(performance.now() - t0);
      rangeKeys = Object.keys(kvs).length;
      progress.tick();
    }
    progress.done();
    if (rangeKeys !== opts.objects) throw new Error(`etcd range get returned ${rangeKeys} keys, expected ${opts.objects}`);
    const memory = child.pid !== undefined ? await readProcMemory(child.pid) : undefined;
    return {
      version,
      puts,
      rangeMedianMs: median(times),
      rangeMaxMs: maxOf(times),
      rangeKeys,
      valueBytes: opts.valueBytes,
      ...(memory !== undefined ? { memory } : {}),
    };
  } finally {
    client.close();
    await stopChild(child, 5000);
  }
}
