/**
 * `node dist/bench/scheduler.js`: scheduler throughput on simulated nodes (issue 5; goal: >= 300 pods/s
 * at 1,000 nodes).
 *
 * For each node count (default 100, then 1,000) it starts a fresh `knode server --controllers none`
 * (nothing else schedules), creates N Node objects (Ready, 4 cpu / 8 Gi / 110 pods; no agent), a
 * ReplicaSet object to own the pods (no controller runs; it only gives them an owner to spread by), and
 * then runs three phases of P pods each (default 1,000; 100m cpu and 128 Mi requested, like a
 * Deployment's replicas):
 *   reference  a round-robin binder: the same binding POSTs, 16 in flight, no filtering or scoring:
 *              what the apiserver allows a scheduler at best on this machine;
 *   backlog    P pending pods exist, then the scheduler starts (in this process, as `knode scheduler`
 *              runs it): pods/s from the first bind to the last, as upstream's scheduler_perf counts;
 *   burst      the scheduler runs, P pods are created by 32 concurrent clients: pods/s first to last
 *              bind, and each pod's latency from its create request to the watch event showing it bound.
 * A bind is observed through a watch of the pods (an informer in this process), stamped on arrival.
 * The scheduler also writes one `Scheduled` event per pod (as upstream), the reference does not.
 *
 * Flags: --nodes 100,1000  --pods N (10..5000)  --sync FULL|NORMAL (the server's --store-sync, default FULL)
 *        --no-reference  --cpu-prof DIR (profile the server)  --timeout S (default 900). Report on stdout, progress on stderr. To profile the
 *        scheduler: `node --cpu-prof --cpu-prof-dir /tmp/prof dist/bench/scheduler.js`.
 * Cleanup: the server is stopped and its directory removed on success, failure, Ctrl-C and the deadline.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Command, InvalidArgumentError } from 'commander';
import { Registry } from 'prom-client';
import type { Node } from '../api/core/node.js';
import type { Pod } from '../api/core/pod.js';
import type { KubeObject } from '../api/meta.js';
import { schedulerMetricsFor } from '../control-plane/scheduler/metrics.js';
import { runScheduler } from '../control-plane/scheduler/scheduler.js';
import { makeNode, makePod } from '../control-plane/scheduler/test-fixtures.js';
import { realClock } from '../lib/clock.js';
import { KubeClient } from '../lib/client/client.js';
import { resourcePath, resources } from '../lib/client/resource.js';
import { SharedInformerFactory } from '../lib/client/shared-informer-factory.js';
import { silentLogger } from '../lib/log.js';
import { freePort } from '../test/helpers/server.js';
import { Cleanup, stopChild } from './lib/cleanup.js';
import type { ProfileSummary } from './lib/cpu-profile.js';
import { readCpuProfile, summarizeProfile } from './lib/cpu-profile.js';
import { cliPath, newestCpuProfile } from './lib/knode-server.js';
import { Progress } from './lib/progress.js';
import { fmtMs, fmtRate, fmtRatio, summarize } from './lib/stats.js';
import { renderTable } from './lib/table.js';

const NS = 'bench';
const GOAL_PODS_PER_SECOND = 300;
const GOAL_NODES = 1000;
const CREATORS = 32;
const BINDERS = 16;

interface Options {
  nodes: number[];
  pods: number;
  sync: 'FULL' | 'NORMAL';
  reference: boolean;
  timeout: number;
  cpuProf?: string;
}

interface BenchServer {
  readonly kubeconfig: string;
  readonly pid: number;
  stop(): Promise<void>;
}

/**
 * `knode server --controllers none` (so no scheduler but ours runs) in a temp dir on a free port,
 * optionally under --cpu-prof; registered with the cleanup before it can fail.
 */
async function startBenchServer(cleanup: Cleanup, sync: string, cpuProfDir?: string): Promise<BenchServer> {
  const dataDir = await mkdtemp(join(tmpdir(), 'knode-bench-sched-'));
  cleanup.addDir(dataDir);
  const port = await freePort();
  const prof = cpuProfDir !== undefined ? ['--cpu-prof', '--cpu-prof-dir', resolve(cpuProfDir)] : [];
  const child = spawn(process.execPath, [...prof, cliPath(), 'server', '--data-dir', dataDir, '--port', String(port), '--store-sync', sync, '--controllers', 'none', '--dns-port', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, KNODE_LOG_LEVEL: process.env['KNODE_LOG_LEVEL'] ?? 'warn' },
  });
  cleanup.addProcess('knode server', child);
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => void (stderr = (stderr + d.toString()).slice(-4000)));
  const kubeconfig = await new Promise<string>((res, rej) => {
    let out = '';
    const timer = setTimeout(() => rej(new Error(`knode server not ready in 30 s; stderr:\n${stderr}`)), 30_000);
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /ready at \S+; kubeconfig: (\S+)/.exec(out);
      if (m?.[1] !== undefined) {
        clearTimeout(timer);
        res(m[1]);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      rej(new Error(`knode server exited (${code}) before it was ready; stderr:\n${stderr}`));
    });
  });
  child.stdout?.resume();
  return { kubeconfig, pid: child.pid ?? 0, stop: () => stopChild(child, 10_000) };
}

interface PhaseResult {
  readonly pods: number;
  /** First bind to last bind (ms). */
  readonly spanMs: number;
  readonly rate: number;
  /** Per-pod create (sent) -> bound (observed), ms; burst only. */
  readonly latency?: ReturnType<typeof summarize>;
  /** Start of the phase (scheduler start, or first create) to the last bind, ms. */
  readonly makespanMs: number;
}

interface CaseResult {
  readonly nodes: number;
  readonly reference?: PhaseResult;
  readonly backlog: PhaseResult;
  readonly burst: PhaseResult;
  readonly algorithmMeanMs: number;
  readonly attempts: string;
  readonly schedulerCpuPct: number;
  readonly serverProfile?: ProfileSummary;
}

/** Runs `count` tasks with `workers` in flight. */
async function pool(count: number, workers: number, task: (i: number) => Promise<void>, progress?: Progress): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(workers, count) }, async () => {
      for (;;) {
        const i = next++;
        if (i >= count) return;
        await task(i);
        progress?.tick();
      }
    }),
  );
}

/** Records when the watch first shows each pod bound. */
class BindTracker {
  readonly boundAt = new Map<string, number>();
  private waiters: Array<() => void> = [];

  constructor(factory: SharedInformerFactory) {
    const see = (p: Pod): void => {
      const name = p.metadata.name ?? '';
      if ((p.spec.nodeName ?? '') === '' || this.boundAt.has(name)) return;
      this.boundAt.set(name, performance.now());
      for (const w of this.waiters.splice(0)) w();
    };
    factory.informerFor<Pod>(resources.pods, { namespace: NS }).addEventHandler({ onAdd: see, onUpdate: (_o, p) => see(p) });
  }

  async waitAll(names: readonly string[], signal: AbortSignal, progress: Progress): Promise<number[]> {
    let seen = 0;
    for (;;) {
      const n = names.filter((x) => this.boundAt.has(x)).length;
      progress.tick(n - seen);
      seen = n;
      if (n === names.length) return names.map((x) => this.boundAt.get(x) ?? Number.NaN);
      if (signal.aborted) throw new Error(`aborted with ${n}/${names.length} pods bound`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 1000);
      });
    }
  }
}

function phase(bound: readonly number[], startMs: number, sentAt?: readonly number[]): PhaseResult {
  const first = Math.min(...bound);
  const last = Math.max(...bound);
  const spanMs = last - first;
  return {
    pods: bound.length,
    spanMs,
    rate: spanMs > 0 ? ((bound.length - 1) * 1000) / spanMs : Number.NaN,
    ...(sentAt !== undefined ? { latency: summarize(bound.map((b, i) => b - (sentAt[i] ?? Number.NaN))) } : {}),
    makespanMs: last - startMs,
  };
}

async function runCase(nodes: number, opts: Options, cleanup: Cleanup, progress: Progress, signal: AbortSignal): Promise<CaseResult> {
  progress.note(`${nodes} nodes: starting knode server (--controllers none, --store-sync ${opts.sync})`);
  if (opts.cpuProf !== undefined) await mkdir(opts.cpuProf, { recursive: true });
  const server = await startBenchServer(cleanup, opts.sync, opts.cpuProf);
  const client = await KubeClient.fromKubeconfigFile(server.kubeconfig, { userAgent: 'bench-scheduler' });
  const schedClient = await KubeClient.fromKubeconfigFile(server.kubeconfig, { userAgent: 'knode-scheduler' });
  const factory = new SharedInformerFactory(client, { clock: realClock });
  const tracker = new BindTracker(factory);
  const stopInformers = new AbortController();
  const stopScheduler = new AbortController();
  try {
    await client.create(resources.namespaces, { metadata: { name: NS } });
    const rs = await client.create<KubeObject>(resources.replicaSets, {
      metadata: { name: 'bench', namespace: NS },
      spec: { replicas: 0, selector: { matchLabels: { app: 'bench' } }, template: { metadata: { labels: { app: 'bench' } }, spec: { containers: [{ name: 'c', image: 'x' }] } } },
    });
    const owner = rs.metadata.uid ?? '';

    progress.start(`create ${nodes} Ready nodes`, nodes);
    const nodeNames = Array.from({ length: nodes }, (_, i) => `node-${String(i).padStart(4, '0')}`);
    await pool(nodes, CREATORS, async (i) => {
      const node: Node = makeNode(nodeNames[i] ?? '', { cpu: '4', memory: '8Gi', pods: '110', labels: { 'topology.kubernetes.io/zone': `zone-${i % 3}` } });
      await client.create<Node>(resources.nodes, node);
      await client.patch(resources.nodes, node.metadata.name ?? '', { status: node.status }, { type: 'merge', subresource: 'status' });
    }, progress);
    progress.done();
    factory.start(stopInformers.signal);
    await factory.waitForCacheSync(signal);

    const podsNamed = (prefix: string): string[] => Array.from({ length: opts.pods }, (_, i) => `${prefix}-${String(i).padStart(4, '0')}`);
    const createPods = async (names: readonly string[], sentAt?: number[]): Promise<void> => {
      progress.start(`create ${names.length} pods`, names.length);
      await pool(names.length, CREATORS, async (i) => {
        const pod = makePod(names[i] ?? '', { namespace: NS, cpu: '100m', memory: '128Mi', labels: { app: 'bench' }, ownerUID: owner });
        const { uid: _uid, ...metadata } = pod.metadata;
        if (sentAt !== undefined) sentAt[i] = performance.now();
        await client.create<Pod>(resources.pods, { ...pod, metadata });
      }, progress);
      progress.done();
    };

    let reference: PhaseResult | undefined;
    if (opts.reference) {
      const names = podsNamed('ref');
      await createPods(names);
      progress.start('reference: round-robin binds', names.length);
      const start = performance.now();
      await pool(names.length, BINDERS, async (i) => {
        const name = names[i] ?? '';
        await client.request('POST', resourcePath(resources.pods, NS, name, 'binding'), {
          body: { apiVersion: 'v1', kind: 'Binding', metadata: { name, namespace: NS }, target: { kind: 'Node', name: nodeNames[i % nodes] } },
        });
      });
      reference = phase(await tracker.waitAll(names, signal, progress), start);
      progress.done();
    }

    const backlogNames = podsNamed('backlog');
    await createPods(backlogNames);
    const registry = new Registry();
    progress.start('backlog: scheduler started', backlogNames.length);
    const cpuBefore = process.cpuUsage();
    const start = performance.now();
    const { done } = runScheduler({ client: schedClient, clock: realClock, log: silentLogger(), registry }, stopScheduler.signal);
    const backlog = phase(await tracker.waitAll(backlogNames, signal, progress), start);
    const cpu = process.cpuUsage(cpuBefore);
    progress.done();

    const burstNames = podsNamed('burst');
    const sentAt: number[] = [];
    const burstStart = performance.now();
    const creating = createPods(burstNames, sentAt);
    const bindProgress = new Progress();
    bindProgress.start('burst: binds', burstNames.length);
    const burstBound = tracker.waitAll(burstNames, signal, bindProgress);
    await creating;
    progress.note('burst: waiting for the last binds');
    const burst = phase(await burstBound, burstStart, sentAt);

    stopScheduler.abort();
    await done;
    const m = schedulerMetricsFor(registry);
    const algo = await m.algorithmDuration.get();
    const sum = algo.values.find((v) => v.metricName?.endsWith('_sum'))?.value ?? Number.NaN;
    const count = algo.values.find((v) => v.metricName?.endsWith('_count'))?.value ?? Number.NaN;
    const attempts = (await m.attempts.get()).values.map((v) => `${String(v.labels['result'])}=${v.value}`).join(' ');
    let serverProfile: ProfileSummary | undefined;
    if (opts.cpuProf !== undefined) {
      await server.stop(); // SIGTERM: node writes the profile on a clean exit
      const path = await newestCpuProfile(opts.cpuProf, server.pid);
      if (path !== undefined) serverProfile = summarizeProfile(await readCpuProfile(path));
    }
    return {
      ...(serverProfile !== undefined ? { serverProfile } : {}),
      nodes,
      ...(reference !== undefined ? { reference } : {}),
      backlog,
      burst,
      algorithmMeanMs: (sum / count) * 1000,
      attempts,
      schedulerCpuPct: ((cpu.user + cpu.system) / 1000 / (backlog.makespanMs || 1)) * 100,
    };
  } finally {
    stopScheduler.abort();
    stopInformers.abort();
    await factory.stopped().catch(() => undefined);
    client.close();
    schedClient.close();
    await cleanup.runAll();
  }
}

/** The 1-minute load average: other work on the 2-core machine competes with the server and the scheduler. */
function loadAverage(): string {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ')[0] ?? '?';
  } catch {
    return '?';
  }
}

function report(results: readonly CaseResult[], opts: Options, loadBefore: string): string {
  const out: string[] = [];
  out.push(`# Scheduler throughput (${opts.pods} pods per phase, server --store-sync ${opts.sync}, binds ${BINDERS} in flight)`);
  out.push(`load average (1 min): ${loadBefore} at start, ${loadAverage()} at end`, '');
  const rows = results.flatMap((r) => {
    const row = (name: string, p: PhaseResult | undefined): string[] =>
      p === undefined
        ? [String(r.nodes), name, '-', '-', '-', '-', '-']
        : [String(r.nodes), name, fmtRate(p.rate), fmtMs(p.makespanMs), fmtMs(p.latency?.p50 ?? Number.NaN), fmtMs(p.latency?.p99 ?? Number.NaN), r.reference ? fmtRatio(p.rate, r.reference.rate) : '-'];
    return [row('reference binder', r.reference), row('scheduler, backlog', r.backlog), row('scheduler, burst', r.burst)];
  });
  out.push(renderTable(['nodes', 'run', 'pods/s', 'all bound ms', 'p50 ms', 'p99 ms', 'vs reference'], rows, ['right', 'left', 'right', 'right', 'right', 'right', 'right']));
  out.push('', 'pods/s: first bind to last bind. all bound: from the phase start (scheduler start; first create) to the last bind.');
  out.push('p50/p99: per pod, create request sent -> watch event showing it bound (burst only).', '');
  out.push(
    renderTable(
      ['nodes', 'filter+score per pod (mean ms)', 'scheduler process CPU (backlog)', 'attempts'],
      results.map((r) => [String(r.nodes), fmtMs(r.algorithmMeanMs), `${r.schedulerCpuPct.toFixed(0)}%`, r.attempts]),
      ['right', 'right', 'right', 'left'],
    ),
  );
  const goal = results.find((r) => r.nodes === GOAL_NODES);
  out.push('');
  if (goal === undefined) out.push(`goal (>= ${GOAL_PODS_PER_SECOND} pods/s at ${GOAL_NODES} nodes, backlog): n/a (not run at ${GOAL_NODES} nodes)`);
  else out.push(`goal (>= ${GOAL_PODS_PER_SECOND} pods/s at ${GOAL_NODES} nodes, backlog): ${goal.backlog.rate >= GOAL_PODS_PER_SECOND ? 'PASS' : 'MISS'} (${fmtRate(goal.backlog.rate)} pods/s)`);
  for (const r of results) {
    if (r.serverProfile === undefined) continue;
    out.push('', `## knode server CPU profile, ${r.nodes} nodes (whole run; ${fmtMs(r.serverProfile.totalMs - r.serverProfile.idleMs)} ms busy)`);
    out.push(renderTable(['self %', 'self ms', 'function', 'where'], r.serverProfile.hot.map((h) => [h.selfPercent.toFixed(1), fmtMs(h.selfMs), h.functionName || '(anonymous)', h.location]), ['right', 'right', 'left', 'left']));
  }
  return out.join('\n');
}

function intList(v: string): number[] {
  const out = v.split(',').map((x) => Number(x.trim()));
  if (out.length === 0 || out.some((n) => !Number.isInteger(n) || n < 1 || n > 5000)) throw new InvalidArgumentError(`--nodes takes comma-separated counts from 1 to 5000, got ${JSON.stringify(v)}.`);
  return out;
}

function intFlag(name: string, min: number, max: number): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!/^\d+$/.test(v) || n < min || n > max) throw new InvalidArgumentError(`${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(v)}.`);
    return n;
  };
}

async function main(): Promise<void> {
  const program = new Command('bench-scheduler')
    .option('--nodes <list>', 'node counts, comma-separated', intList, [100, 1000])
    .option('--pods <n>', 'pods per phase', intFlag('--pods', 10, 5000), 1000)
    .option('--sync <mode>', 'the server --store-sync (FULL or NORMAL)', (v: string) => {
      if (v !== 'FULL' && v !== 'NORMAL') throw new InvalidArgumentError('--sync must be FULL or NORMAL.');
      return v;
    }, 'FULL')
    .option('--no-reference', 'skip the round-robin binder reference')
    .option('--cpu-prof <dir>', 'run the server under node --cpu-prof, keep the profile in DIR and print its hot functions')
    .option('--timeout <s>', 'abort the whole run after this many seconds', intFlag('--timeout', 30, 7200), 900);
  program.parse(process.argv);
  const opts = program.opts<Options>();
  const cleanup = new Cleanup();
  cleanup.installSignalHandlers();
  const progress = new Progress();
  const abort = new AbortController();
  const deadline = setTimeout(() => abort.abort(), opts.timeout * 1000);
  const loadBefore = loadAverage();
  try {
    const results: CaseResult[] = [];
    for (const n of opts.nodes) results.push(await runCase(n, opts, cleanup, progress, abort.signal));
    process.stdout.write(`${report(results, opts, loadBefore)}\n`);
  } finally {
    clearTimeout(deadline);
    await cleanup.runAll();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench-scheduler: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
