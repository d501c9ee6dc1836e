/**
 * `node dist/bench/pod-start.js`: how fast does knode's kubelet start pods, and what does it cost?
 *
 * Brings up a one-worker lab (`knode lab up --nodes 1`, the built CLI), then creates N pods (default
 * 50) bound to w1 (all at once, or --in-flight N at a time), each running the local testserver image (already imported: no pull), and
 * times every pod from just before its POST to the first watch event that shows it Running. Then it
 * reads the agent's RSS with N pods, and its CPU over a quiet window (PLEG relists, resyncs, probes
 * none). The reference run drives the same containerd directly through the CRI (RunPodSandbox +
 * CreateContainer + StartContainer, same concurrency): the floor the runtime and CNI impose, so the
 * ratio is the kubelet's and the apiserver's share. Reference sandboxes carry no pod UID label, so
 * the agent leaves them alone; they are removed afterwards.
 *
 * Flags: --pods N (1..200, default 50), --no-reference, --settle S (quiet window, default 15),
 * --timeout S (default 600). Report on stdout, progress on stderr. `lab down` runs on success,
 * failure, Ctrl-C and the deadline. Needs root and the lab's Debian packages.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Command, InvalidArgumentError } from 'commander';
import type { Pod } from '../api/core/pod.js';
import { connectCri } from '../kubelet/cri/connect.js';
import type { RuntimeService } from '../kubelet/cri/services.js';
import { readLabState } from '../lab/state.js';
import { KubeClient } from '../lib/client/client.js';
import { resources } from '../lib/client/resource.js';
import { Cleanup } from './lib/cleanup.js';
import { cliPath, readProcMemory } from './lib/knode-server.js';
import { Progress } from './lib/progress.js';
import { fmtBytes, fmtMs, fmtRatio, summarize } from './lib/stats.js';
import type { LatencySummary } from './lib/stats.js';
import { renderTable } from './lib/table.js';

const IMAGE = 'knode.local/testserver:1.0';
const NAMESPACE = 'bench';

interface Options {
  pods: number;
  /** Pods created but not yet Running at most (default: all at once). */
  inFlight?: number;
  reference: boolean;
  settle: number;
  timeout: number;
}

function intFlag(name: string, min: number, max: number): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!/^\d+$/.test(v) || n < min || n > max) throw new InvalidArgumentError(`${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(v)}.`);
    return n;
  };
}

function knode(args: readonly string[]): string {
  return execFileSync(process.execPath, [cliPath(), ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 });
}

/** utime + stime of a process, in clock ticks (fields 14 and 15 of /proc/<pid>/stat). */
async function cpuTicks(pid: number): Promise<number> {
  const text = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

function podManifest(name: string): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NAMESPACE, labels: { app: 'bench' } },
    spec: { nodeName: 'w1', terminationGracePeriodSeconds: 1, containers: [{ name: 'app', image: IMAGE, imagePullPolicy: 'IfNotPresent' }] },
  };
}

/** Runs `n` tasks with at most `limit` in flight. */
async function limited<T>(n: number, limit: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array<T>(n);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, n) }, async () => {
      while (next < n) {
        const i = next++;
        out[i] = await task(i);
      }
    }),
  );
  return out;
}

/**
 * Creates the pods with at most `inFlight` of them not yet Running (n = all at once); resolves with
 * create -> Running latency per pod (ms).
 */
async function knodePodStarts(client: KubeClient, n: number, inFlight: number, progress: Progress, signal: AbortSignal): Promise<number[]> {
  const list = await client.list<Pod>(resources.pods, { namespace: NAMESPACE });
  const sent = new Map<string, number>();
  const running = new Map<string, number>();
  let allRunning: () => void = () => undefined;
  const done = new Promise<void>((r) => (allRunning = r));
  let wakeCreator: () => void = () => undefined;
  const watchAbort = new AbortController();
  const stop = (): void => watchAbort.abort();
  signal.addEventListener('abort', stop, { once: true });
  const watching = (async () => {
    for await (const ev of client.watch<Pod>(resources.pods, { namespace: NAMESPACE, resourceVersion: list.metadata.resourceVersion ?? '0', signal: watchAbort.signal })) {
      if (ev.type !== 'ADDED' && ev.type !== 'MODIFIED') continue;
      const name = ev.object.metadata.name ?? '';
      if (ev.object.status?.phase === 'Running' && !running.has(name)) {
        running.set(name, performance.now());
        progress.tick();
        wakeCreator();
        if (running.size === n) allRunning();
      }
    }
  })().catch(() => undefined);
  progress.start('pods create -> Running', n);
  for (let i = 0; i < n; i++) {
    while (i - running.size >= inFlight) await new Promise<void>((r) => (wakeCreator = r));
    const name = `bench-${i}`;
    sent.set(name, performance.now());
    void client.create(resources.pods, podManifest(name), { namespace: NAMESPACE });
  }
  await done;
  progress.done();
  watchAbort.abort();
  signal.removeEventListener('abort', stop);
  await watching;
  return [...running].map(([name, t]) => t - (sent.get(name) ?? t));
}

/** The runtime floor: sandbox + container + start straight through the CRI, same concurrency. */
async function criStarts(runtime: RuntimeService, n: number, inFlight: number, logDir: string, cgroupParent: string, progress: Progress): Promise<{ latencies: number[]; sandboxes: string[] }> {
  const sandboxes: string[] = [];
  progress.start('CRI reference sandbox + container', n);
  const latencies = await limited(n, inFlight, async (i) => {
      const t0 = performance.now();
      const config = {
        metadata: { name: `ref-${i}`, namespace: 'bench-ref', uid: randomUUID(), attempt: 0 },
        hostname: `ref-${i}`,
        logDirectory: join(logDir, `ref-${i}`),
        labels: { 'bench.knode.io/reference': 'true' },
        linux: { cgroupParent: `${cgroupParent}/ref-${i}`, securityContext: { namespaceOptions: { network: 'POD' as const, pid: 'CONTAINER' as const, ipc: 'POD' as const } } },
      };
      await mkdir(config.logDirectory, { recursive: true });
      const { podSandboxId } = await runtime.runPodSandbox({ config });
      sandboxes.push(podSandboxId);
      await runtime.podSandboxStatus({ podSandboxId });
      const { containerId } = await runtime.createContainer({
        podSandboxId,
        config: { metadata: { name: 'app', attempt: 0 }, image: { image: IMAGE }, logPath: 'app/0.log', labels: { 'bench.knode.io/reference': 'true' } },
        sandboxConfig: config,
      });
      await runtime.startContainer({ containerId });
      progress.tick();
      return performance.now() - t0;
  });
  progress.done();
  return { latencies, sandboxes };
}

function latencyRow(name: string, s: LatencySummary, wallMs: number): string[] {
  return [name, String(s.count), fmtMs(s.p50), fmtMs(s.p90), fmtMs(s.p99), fmtMs(s.max), fmtMs(wallMs)];
}

async function main(opts: Options): Promise<void> {
  const progress = new Progress();
  const cleanup = new Cleanup();
  cleanup.installSignalHandlers();
  const lab = `pb${Math.floor(Math.random() * 1e6).toString(36)}`;
  const deadline = setTimeout(() => {
    process.stderr.write(`deadline of ${opts.timeout} s reached: cleaning up\n`);
    cleanup.runAllSync();
    process.exit(124);
  }, opts.timeout * 1000);
  deadline.unref();
  try {
    progress.note(`creating lab ${lab} (1 worker)`);
    cleanup.add({
      what: `knode lab down --name ${lab}`,
      async: async () => {
        knode(['lab', 'down', '--name', lab]);
      },
      sync: () => {
        knode(['lab', 'down', '--name', lab]);
      },
    });
    knode(['lab', 'up', '--nodes', '1', '--name', lab]);
    const state = await readLabState(join('/var/lib/knode-lab', lab));
    const agent = state?.processes.find((p) => p.kind === 'agent' && p.host === 'w1');
    const worker = state?.plan.workers[0];
    if (!state || !agent || !worker) throw new Error(`lab ${lab} has no agent on w1`);
    const client = await KubeClient.fromKubeconfigFile(state.plan.api.kubeconfig);
    await client.create(resources.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } });
    const idle = await readProcMemory(agent.pid);

    const ac = new AbortController();
    const wallStart = performance.now();
    const knodeLat = await knodePodStarts(client, opts.pods, opts.inFlight ?? opts.pods, progress, ac.signal);
    const knodeWall = performance.now() - wallStart;
    const loaded = await readProcMemory(agent.pid);

    progress.note(`quiet window of ${opts.settle} s with ${opts.pods} pods`);
    const ticks0 = await cpuTicks(agent.pid);
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, opts.settle * 1000));
    const cpuPercent = (((await cpuTicks(agent.pid)) - ticks0) / 100 / ((performance.now() - t0) / 1000)) * 100;
    const settled = await readProcMemory(agent.pid);

    let ref: { summary: LatencySummary; wall: number } | undefined;
    if (opts.reference) {
      const cri = await connectCri({ endpoint: `unix://${worker.socket}` });
      try {
        const refStart = performance.now();
        const r = await criStarts(cri.runtime, opts.pods, opts.inFlight ?? opts.pods, join(state.stateDir, 'w1', 'bench-ref-logs'), `/knode-${lab}/w1/bench-ref`, progress);
        ref = { summary: summarize(r.latencies), wall: performance.now() - refStart };
        for (const id of r.sandboxes) {
          await cri.runtime.stopPodSandbox({ podSandboxId: id }).catch(() => undefined);
          await cri.runtime.removePodSandbox({ podSandboxId: id }).catch(() => undefined);
        }
      } finally {
        cri.close();
      }
    }
    client.close();

    const k = summarize(knodeLat);
    const out: string[] = [];
    out.push(`pod start: ${opts.pods} pods on one node, ${opts.inFlight === undefined || opts.inFlight >= opts.pods ? 'created at once' : `at most ${opts.inFlight} starting at a time`} (image present), knode lab ${lab}`);
    out.push('');
    const rows = [latencyRow('knode: POST -> Running (watch)', k, knodeWall)];
    if (ref) rows.push(latencyRow('reference: CRI sandbox+container', ref.summary, ref.wall));
    out.push(renderTable(['run', 'pods', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'all ms'], rows, ['left', 'right', 'right', 'right', 'right', 'right', 'right']));
    if (ref) out.push(`\nknode / reference: p50 ${fmtRatio(k.p50, ref.summary.p50)}, p99 ${fmtRatio(k.p99, ref.summary.p99)}, all ${fmtRatio(knodeWall, ref.wall)}`);
    out.push('');
    out.push(
      renderTable(
        ['agent', 'RSS', 'peak RSS'],
        [
          ['idle, no pods', fmtBytes(idle?.rss ?? Number.NaN), fmtBytes(idle?.hwm ?? Number.NaN)],
          [`${opts.pods} pods just Running`, fmtBytes(loaded?.rss ?? Number.NaN), fmtBytes(loaded?.hwm ?? Number.NaN)],
          [`${opts.pods} pods after ${opts.settle} s`, fmtBytes(settled?.rss ?? Number.NaN), fmtBytes(settled?.hwm ?? Number.NaN)],
        ],
        ['left', 'right', 'right'],
      ),
    );
    out.push(`\nagent CPU with ${opts.pods} quiet pods: ${cpuPercent.toFixed(1)}% of one core (PLEG relist every 1 s, resync every 10 s)`);
    process.stdout.write(`${out.join('\n')}\n`);
  } finally {
    progress.note('removing the lab');
    await cleanup.runAll();
    clearTimeout(deadline);
  }
}

const program = new Command('pod-start')
  .option('--pods <n>', 'pods to start', intFlag('--pods', 1, 200), 50)
  .option('--in-flight <n>', 'at most this many pods starting at a time (default: all at once)', intFlag('--in-flight', 1, 200))
  .option('--no-reference', 'skip the direct-CRI reference run')
  .option('--settle <s>', 'seconds of quiet measured for CPU', intFlag('--settle', 1, 600), 15)
  .option('--timeout <s>', 'abort the whole run after this long', intFlag('--timeout', 30, 7200), 600)
  .action(async (o: Options) => main(o));

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`bench pod-start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
