/**
 * `node dist/bench/replicaset.js`: how long does the ReplicaSet controller take to bring a ReplicaSet of
 * 1,000 replicas to 1,000 pods, and what does the controller add on top of the pod writes themselves?
 *
 * Starts a fresh `knode server --controllers none` (the built CLI) and runs the ReplicaSet controller in
 * this process through runControllerManager, as a `knode controller-manager` would. After a warm-up (a
 * 200-replica ReplicaSet and 200 direct pod creates, untimed), each round has two phases (in ABBA order
 * over rounds) in their own namespace, each timed from just before its first write, with a pod watch
 * opened beforehand:
 *   - controller: POST one ReplicaSet of N replicas; time until the N-th pod's ADDED event reaches the
 *     bench, and until the ReplicaSet's status.replicas == N (watched too);
 *   - reference: the bench POSTs the same N pods itself with the controller's own write pattern (slow-start
 *     batches 1, 2, 4... of at most 500 per burst, the next burst once the previous answered): the floor
 *     the apiserver imposes on that pattern. The ratio is the controller's share (informer lag,
 *     expectations, status writes, events).
 * Per-pod figures are each pod's ADDED arrival minus the phase start. The controller shares this process's
 * event loop with the watches, so its CPU shows in the "bench" column.
 *
 * Flags: --replicas N (1..5000, default 1000), --rounds R (1..5, default 3), --timeout S (default 300).
 * Report on stdout, progress on stderr. The server and its data dir are removed on success, failure,
 * Ctrl-C and the deadline.
 */
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { Command, InvalidArgumentError } from 'commander';
import type { ReplicaSet } from '../api/apps/replicaset.js';
import type { Pod } from '../api/core/pod.js';
import { KubeClient } from '../lib/client/client.js';
import { resources } from '../lib/client/resource.js';
import { ReplicaSetController } from '../control-plane/controllers/replicaset.js';
import { slowStartBatch } from '../control-plane/controllers/replicaset-expectations.js';
import { BURST_REPLICAS, podFromTemplate } from '../control-plane/controllers/replicaset-plan.js';
import { Cleanup } from './lib/cleanup.js';
import { startControllerBench, syncCounts } from './lib/controller-bench.js';
import { CpuMeter } from './lib/cpu-accounting.js';
import type { CpuShare } from './lib/cpu-accounting.js';
import { Progress } from './lib/progress.js';
import { fmtMs, fmtRate, fmtRatio, median, summarize } from './lib/stats.js';
import type { LatencySummary } from './lib/stats.js';
import { renderTable } from './lib/table.js';

/** Pods the untimed warm-up creates each way (JIT, caches, the store's first pages). */
const WARMUP = 200;

interface Options {
  replicas: number;
  rounds: number;
  timeout: number;
}

interface PhaseResult {
  readonly name: string;
  /** Phase start to the N-th pod's ADDED event, ms. */
  readonly allCreatedMs: number;
  /** Phase start to the ReplicaSet's status.replicas == N (controller phase only), ms. */
  readonly statusMs?: number;
  readonly perPod: LatencySummary;
  readonly cpu?: CpuShare;
}

function intFlag(name: string, min: number, max: number): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!/^\d+$/.test(v) || n < min || n > max) throw new InvalidArgumentError(`${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(v)}.`);
    return n;
  };
}

function replicaSet(ns: string, replicas: number): ReplicaSet {
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name: 'bench', namespace: ns },
    spec: {
      replicas,
      selector: { matchLabels: { app: 'bench' } },
      template: { metadata: { labels: { app: 'bench' } }, spec: { containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.10' }] } },
    },
  };
}

/** Records when each pod of a namespace first arrives on a watch opened now; resolves `ready` once watching. */
class PodArrivals {
  readonly times: number[] = [];
  private readonly seen = new Set<string>();
  private readonly ac = new AbortController();
  private waiter: { n: number; resolve: () => void } | undefined;

  constructor(
    private readonly client: KubeClient,
    private readonly ns: string,
  ) {}

  async start(): Promise<void> {
    const list = await this.client.list<Pod>(resources.pods, { namespace: this.ns });
    const rv = list.metadata.resourceVersion ?? '';
    void (async () => {
      try {
        for await (const ev of this.client.watch<Pod>(resources.pods, { namespace: this.ns, resourceVersion: rv, signal: this.ac.signal, timeoutSeconds: 3600 })) {
          if (ev.type !== 'ADDED') continue;
          const key = ev.object.metadata.name ?? '';
          if (this.seen.has(key)) continue;
          this.seen.add(key);
          this.times.push(performance.now());
          if (this.waiter !== undefined && this.times.length >= this.waiter.n) this.waiter.resolve();
        }
      } catch {
        // aborted, or the phase's own timeout reports it
      }
    })();
  }

  waitFor(n: number, signal: AbortSignal): Promise<void> {
    if (this.times.length >= n) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.waiter = { n, resolve };
      signal.addEventListener('abort', () => reject(new Error(`only ${this.times.length} of ${n} pods seen before the deadline`)), { once: true });
    });
  }

  stop(): void {
    this.ac.abort();
  }
}

/** Resolves with the time the ReplicaSet's status.replicas first reads `n`. */
async function statusReaches(client: KubeClient, ns: string, n: number, signal: AbortSignal): Promise<number> {
  for (;;) {
    const rs = await client.get<ReplicaSet>(resources.replicaSets, 'bench', { namespace: ns });
    if ((rs.status?.replicas ?? 0) >= n) return performance.now();
    for await (const ev of client.watch<ReplicaSet>(resources.replicaSets, { namespace: ns, resourceVersion: rs.metadata.resourceVersion ?? '', signal, timeoutSeconds: 600 })) {
      if (ev.type !== 'ADDED' && ev.type !== 'MODIFIED') continue;
      if (ev.object.metadata.name === 'bench' && (ev.object.status?.replicas ?? 0) >= n) return performance.now();
    }
    if (signal.aborted) throw new Error('deadline');
  }
}

async function controllerPhase(client: KubeClient, ns: string, n: number, meter: CpuMeter, progress: Progress, signal: AbortSignal): Promise<PhaseResult> {
  const arrivals = new PodArrivals(client, ns);
  await arrivals.start();
  progress.note(`controller: ReplicaSet of ${n} replicas in ${ns}`);
  let t0 = 0;
  let statusAt = 0;
  await meter.measure(`controller (${ns})`, async () => {
    t0 = performance.now();
    await client.create(resources.replicaSets, replicaSet(ns, n));
    const status = statusReaches(client, ns, n, signal);
    await arrivals.waitFor(n, signal);
    statusAt = await status;
  });
  arrivals.stop();
  const cpu = meter.results().at(-1)?.share;
  return {
    name: 'controller',
    allCreatedMs: (arrivals.times[n - 1] ?? Number.NaN) - t0,
    statusMs: statusAt - t0,
    perPod: summarize(arrivals.times.slice(0, n).map((t) => t - t0)),
    ...(cpu !== undefined ? { cpu } : {}),
  };
}

async function referencePhase(client: KubeClient, ns: string, n: number, meter: CpuMeter, progress: Progress, signal: AbortSignal): Promise<PhaseResult> {
  const arrivals = new PodArrivals(client, ns);
  await arrivals.start();
  progress.note(`reference: ${n} direct pod creates in ${ns}`);
  const template = podFromTemplate(replicaSet(ns, n));
  const { ownerReferences: _o, ...meta } = template.metadata;
  const pod: Pod = { ...template, metadata: meta };
  let t0 = 0;
  await meter.measure(`reference (${ns})`, async () => {
    t0 = performance.now();
    for (let left = n; left > 0; left -= BURST_REPLICAS) {
      const r = await slowStartBatch(Math.min(left, BURST_REPLICAS), 1, async () => {
        await client.create(resources.pods, pod);
      });
      if (r.error !== undefined) throw r.error;
    }
    await arrivals.waitFor(n, signal);
  });
  arrivals.stop();
  const cpu = meter.results().at(-1)?.share;
  return {
    name: 'reference',
    allCreatedMs: (arrivals.times[n - 1] ?? Number.NaN) - t0,
    perPod: summarize(arrivals.times.slice(0, n).map((t) => t - t0)),
    ...(cpu !== undefined ? { cpu } : {}),
  };
}

async function namespace(client: KubeClient, name: string): Promise<void> {
  await client.create(resources.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
}

function report(opts: Options, phases: readonly PhaseResult[], syncs: string): string {
  const pct = (v: number | undefined): string => (v === undefined || !Number.isFinite(v) ? '-' : `${v.toFixed(0)}%`);
  const rows = phases.map((p) => [
    p.name,
    fmtMs(p.allCreatedMs),
    fmtRate((opts.replicas * 1000) / p.allCreatedMs),
    fmtMs(p.perPod.p50),
    fmtMs(p.perPod.p99),
    p.statusMs !== undefined ? fmtMs(p.statusMs) : '-',
    pct(p.cpu?.serverPercent),
    pct(p.cpu?.benchPercent),
    pct(p.cpu?.othersPercent),
  ]);
  const ctl = phases.filter((p) => p.name === 'controller');
  const ref = phases.filter((p) => p.name === 'reference');
  const med = (list: readonly PhaseResult[], f: (p: PhaseResult) => number): number => median(list.map(f));
  const ratio = (f: (p: PhaseResult) => number): string => fmtRatio(med(ctl, f), med(ref, f));
  const cpu = cpus();
  return [
    `# ReplicaSet controller: ${opts.replicas} replicas, ${opts.rounds} round(s)`,
    '',
    `node ${process.version}, ${cpu.length} CPUs (${cpu[0]?.model.trim() ?? '?'}), load ${loadavg().map((l) => l.toFixed(2)).join(' ')}; server, bench and controller share them`,
    '',
    renderTable(
      ['phase', 'all pods (ms)', 'pods/s', 'per-pod p50 (ms)', 'per-pod p99 (ms)', 'status.replicas=N (ms)', 'server CPU', 'bench CPU', 'others'],
      rows,
      ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
    ),
    '',
    `controller / reference (medians over rounds): all pods ${ratio((p) => p.allCreatedMs)}, per-pod p50 ${ratio((p) => p.perPod.p50)}, per-pod p99 ${ratio((p) => p.perPod.p99)}`,
    `controller time to status.replicas == ${opts.replicas}: median ${fmtMs(med(ctl, (p) => p.statusMs ?? Number.NaN))} ms`,
    `controller syncs (whole run, warm-up included): ${syncs}`,
    '',
  ].join('\n');
}

async function run(opts: Options, cleanup: Cleanup, progress: Progress, signal: AbortSignal): Promise<string> {
  const bench = await startControllerBench(cleanup, progress, (ctx) => [new ReplicaSetController(ctx)]);
  const { client } = bench;
  const meter = new CpuMeter(bench.serverPid);
  const phases: PhaseResult[] = [];
  try {
    progress.note(`warm-up: a ReplicaSet of ${WARMUP} and ${WARMUP} direct pods (untimed)`);
    await namespace(client, 'warmup');
    await client.create(resources.replicaSets, replicaSet('warmup', WARMUP));
    const warmPod = podFromTemplate(replicaSet('warmup-direct', 1));
    const { ownerReferences: _o, ...meta } = warmPod.metadata;
    await slowStartBatch(WARMUP, 1, async () => {
      await client.create(resources.pods, { ...warmPod, metadata: { ...meta, namespace: 'warmup', labels: { app: 'direct' } } });
    });
    await statusReaches(client, 'warmup', WARMUP, signal);
    // ABBA: odd rounds run the controller first, even rounds the reference, so a drift in the machine's
    // load (it is shared) weighs on both sides
    for (let r = 1; r <= opts.rounds; r++) {
      await namespace(client, `ctl-${r}`);
      await namespace(client, `ref-${r}`);
      const order = r % 2 === 1 ? (['controller', 'reference'] as const) : (['reference', 'controller'] as const);
      for (const which of order) {
        const phase =
          which === 'controller'
            ? await controllerPhase(client, `ctl-${r}`, opts.replicas, meter, progress, signal)
            : await referencePhase(client, `ref-${r}`, opts.replicas, meter, progress, signal);
        phases.push(phase);
        progress.note(`round ${r} ${which}: ${opts.replicas} pods in ${fmtMs(phase.allCreatedMs)} ms`);
      }
    }
  } finally {
    await bench.stop();
  }
  return report(opts, phases, await syncCounts(bench.registry));
}

async function main(): Promise<number> {
  const cmd = new Command('replicaset')
    .option('--replicas <n>', 'replicas of the ReplicaSet (and direct pods of the reference)', intFlag('--replicas', 1, 5000), 1000)
    .option('--rounds <n>', 'controller + reference rounds (ABBA order)', intFlag('--rounds', 1, 5), 3)
    .option('--timeout <s>', 'abort the whole run after S seconds', intFlag('--timeout', 10, 3600), 300)
    .exitOverride();
  try {
    cmd.parse(process.argv);
  } catch (err) {
    return err instanceof Error && 'exitCode' in err ? Number((err as { exitCode: number }).exitCode) : 2;
  }
  const opts = cmd.opts<Options>();
  const cleanup = new Cleanup();
  cleanup.installSignalHandlers();
  const progress = new Progress();
  const abort = new AbortController();
  const deadline = setTimeout(() => {
    progress.note(`the run exceeded --timeout ${opts.timeout} s; cleaning up`);
    abort.abort(new Error('deadline'));
    cleanup.runAllSync();
    process.exit(124);
  }, opts.timeout * 1000);
  try {
    process.stdout.write(await run(opts, cleanup, progress, abort.signal));
    return 0;
  } catch (err) {
    process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return 1;
  } finally {
    clearTimeout(deadline);
    progress.note('cleaning up');
    await cleanup.runAll();
  }
}

process.exitCode = await main();
