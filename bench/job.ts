/**
 * `node dist/bench/job.js` (`npm run bench:job`): what the Job controller costs on top of the writes a
 * Job's life needs, for a Job of N completions run N at a time.
 *
 * Starts a fresh `knode server --controllers none` (the built CLI) and runs the Job controller in this
 * process through runControllerManager, as `knode controller-manager` would. No kubelet: the bench
 * plays it, marking pods Succeeded through pods/status (16 in flight). Each round has two phases (ABBA
 * order over rounds), each in its own namespace with a pod watch opened beforehand:
 *   - controller: POST a Job (completions = parallelism = N); "create" is the time until the N-th pod's
 *     ADDED event; then the bench marks every pod Succeeded and "finish" is the time from its first
 *     status write until the Job's Complete condition (the controller records each finished pod in
 *     uncountedTerminatedPods, removes its tracking finalizer, counts it, then writes Complete);
 *   - reference: the bench creates the same N pods itself (with a finalizer of its own; slow-start batches 1, 2,
 *     4... of at most 500, the controller's pattern), then per pod the status write followed at once by
 *     the finalizer removal (16 pods in flight): the floor of the writes, with no status writes on a Job.
 * The ratios controller / reference are what the controller adds (informer lag, expectations, its
 * Job status writes). Everything shares this machine's CPUs; medians over rounds.
 *
 * Flags: --completions N (1..5000, default 500), --rounds R (1..5, default 3), --timeout S (default 600).
 * Report on stdout, progress on stderr. The server and its data dir are removed in every case.
 */
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { Command } from 'commander';
import type { Job } from '../api/batch/job.js';
import type { Pod } from '../api/core/pod.js';
import { KubeClient } from '../lib/client/client.js';
import { resources } from '../lib/client/resource.js';
import { JobController } from '../control-plane/controllers/job.js';
import { slowStartBatch } from '../control-plane/controllers/replicaset-expectations.js';
import { MAX_CREATE_DELETE_PER_SYNC } from '../control-plane/controllers/job-plan.js';
import type { Cleanup } from './lib/cleanup.js';
import type { Progress } from './lib/progress.js';
import { intFlag, runReport } from './lib/run-report.js';
import { startControllerBench, syncCounts } from './lib/controller-bench.js';
import { fmtMs, fmtRate, fmtRatio, median } from './lib/stats.js';
import { renderTable } from './lib/table.js';

const KUBELET_IN_FLIGHT = 16;
/** The reference's finalizer: the same write as the controller's, under a name the controller leaves alone. */
const REFERENCE_FINALIZER = 'bench.knode.io/tracking';

interface Options {
  completions: number;
  rounds: number;
  timeout: number;
}

interface PhaseResult {
  readonly name: 'controller' | 'reference';
  readonly createMs: number;
  readonly finishMs: number;
}

const IMAGE = 'registry.k8s.io/pause:3.10';

function job(ns: string, n: number): Job {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: 'bench', namespace: ns },
    spec: { completions: n, parallelism: n, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: IMAGE }] } } },
  } as Job;
}

/** Pod names of a namespace as their ADDED events arrive on a watch opened before the phase. */
class PodArrivals {
  readonly names: string[] = [];
  readonly times: number[] = [];
  private readonly ac = new AbortController();
  private waiter: { n: number; resolve: () => void } | undefined;

  constructor(
    private readonly client: KubeClient,
    private readonly ns: string,
  ) {}

  async start(): Promise<void> {
    const list = await this.client.list<Pod>(resources.pods, { namespace: this.ns });
    const seen = new Set<string>();
    void (async () => {
      try {
        for await (const ev of this.client.watch<Pod>(resources.pods, { namespace: this.ns, resourceVersion: list.metadata.resourceVersion ?? '', signal: this.ac.signal, timeoutSeconds: 3600 })) {
          if (ev.type !== 'ADDED') continue;
          const name = ev.object.metadata.name ?? '';
          if (seen.has(name)) continue;
          seen.add(name);
          this.names.push(name);
          this.times.push(performance.now());
          if (this.waiter !== undefined && this.names.length >= this.waiter.n) this.waiter.resolve();
        }
      } catch {
        // aborted, or the deadline reports it
      }
    })();
  }

  waitFor(n: number): Promise<void> {
    if (this.names.length >= n) return Promise.resolve();
    return new Promise((resolve) => {
      this.waiter = { n, resolve };
    });
  }

  stop(): void {
    this.ac.abort();
  }
}

/** What the kubelet writes when a pod's only container exited 0. */
const SUCCEEDED = {
  status: {
    phase: 'Succeeded',
    conditions: [{ type: 'Ready', status: 'False', reason: 'PodCompleted' }],
    containerStatuses: [{ name: 'c', image: IMAGE, imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode: 0, reason: 'Completed' } } }],
  },
};

/** Runs `fn` over the items with at most `inFlight` at once. */
async function pool<T>(items: readonly T[], inFlight: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(inFlight, items.length) }, async () => {
      while (next < items.length) await fn(items[next++] as T);
    }),
  );
}

async function jobComplete(client: KubeClient, ns: string): Promise<number> {
  for (;;) {
    const j = await client.get<Job>(resources.jobs, 'bench', { namespace: ns });
    const done = (x: Job): boolean => (x.status?.conditions ?? []).some((c) => c.type === 'Complete' && c.status === 'True');
    if (done(j)) return performance.now();
    for await (const ev of client.watch<Job>(resources.jobs, { namespace: ns, resourceVersion: j.metadata.resourceVersion ?? '', timeoutSeconds: 600 })) {
      if ((ev.type === 'ADDED' || ev.type === 'MODIFIED') && ev.object.metadata.name === 'bench' && done(ev.object)) return performance.now();
    }
  }
}

async function controllerPhase(client: KubeClient, ns: string, n: number, progress: Progress): Promise<PhaseResult> {
  const arrivals = new PodArrivals(client, ns);
  await arrivals.start();
  progress.note(`controller: a Job of ${n} completions in ${ns}`);
  const t0 = performance.now();
  await client.create(resources.jobs, job(ns, n));
  await arrivals.waitFor(n);
  const created = arrivals.times[n - 1] ?? Number.NaN;
  const t1 = performance.now();
  const complete = jobComplete(client, ns);
  await pool(arrivals.names.slice(0, n), KUBELET_IN_FLIGHT, async (name) => {
    await client.patch(resources.pods, name, SUCCEEDED, { type: 'merge', namespace: ns, subresource: 'status' });
  });
  const finished = await complete;
  arrivals.stop();
  return { name: 'controller', createMs: created - t0, finishMs: finished - t1 };
}

async function referencePhase(client: KubeClient, ns: string, n: number, progress: Progress): Promise<PhaseResult> {
  const arrivals = new PodArrivals(client, ns);
  await arrivals.start();
  progress.note(`reference: ${n} direct pod creates, status writes and finalizer removals in ${ns}`);
  const pod: Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { generateName: 'bench-', namespace: ns, labels: { app: 'bench' }, finalizers: [REFERENCE_FINALIZER] },
    spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: IMAGE }] },
  } as Pod;
  const t0 = performance.now();
  for (let left = n; left > 0; left -= MAX_CREATE_DELETE_PER_SYNC) {
    const r = await slowStartBatch(Math.min(left, MAX_CREATE_DELETE_PER_SYNC), 1, async () => {
      await client.create(resources.pods, pod);
    });
    if (r.error !== undefined) throw r.error;
  }
  await arrivals.waitFor(n);
  const created = arrivals.times[n - 1] ?? Number.NaN;
  const t1 = performance.now();
  await pool(arrivals.names.slice(0, n), KUBELET_IN_FLIGHT, async (name) => {
    await client.patch(resources.pods, name, SUCCEEDED, { type: 'merge', namespace: ns, subresource: 'status' });
    await client.patch(resources.pods, name, [{ op: 'test', path: '/metadata/finalizers/0', value: REFERENCE_FINALIZER }, { op: 'remove', path: '/metadata/finalizers/0' }], { type: 'json', namespace: ns });
  });
  const finished = performance.now();
  arrivals.stop();
  return { name: 'reference', createMs: created - t0, finishMs: finished - t1 };
}

function report(opts: Options, phases: readonly PhaseResult[], syncs: string): string {
  const ctl = phases.filter((p) => p.name === 'controller');
  const ref = phases.filter((p) => p.name === 'reference');
  const med = (list: readonly PhaseResult[], f: (p: PhaseResult) => number): number => median(list.map(f));
  const cpu = cpus();
  const n = opts.completions;
  return [
    `# Job controller: a Job of ${n} completions, parallelism ${n}, ${opts.rounds} round(s), the bench playing the kubelet`,
    '',
    `node ${process.version}, ${cpu.length} CPUs (${cpu[0]?.model.trim() ?? '?'}), load ${loadavg().map((l) => l.toFixed(2)).join(' ')}; server, bench and controller share them`,
    '',
    renderTable(
      ['phase', 'create N pods (ms)', 'pods/s', 'finish: first pod status to Complete (ms)', 'pods/s'],
      phases.map((p) => [p.name, fmtMs(p.createMs), fmtRate((n * 1000) / p.createMs), fmtMs(p.finishMs), fmtRate((n * 1000) / p.finishMs)]),
      ['left', 'right', 'right', 'right', 'right'],
    ),
    '',
    `controller / reference (medians over rounds): create ${fmtRatio(med(ctl, (p) => p.createMs), med(ref, (p) => p.createMs))}, finish ${fmtRatio(med(ctl, (p) => p.finishMs), med(ref, (p) => p.finishMs))}`,
    `controller syncs (whole run): ${syncs}`,
    '',
  ].join('\n');
}

async function run(opts: Options, cleanup: Cleanup, progress: Progress): Promise<string> {
  const bench = await startControllerBench(cleanup, progress, (ctx) => [new JobController(ctx)]);
  const { client } = bench;
  const phases: PhaseResult[] = [];
  try {
    progress.note('warm-up: a Job of 100 (untimed)');
    await client.create(resources.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'warmup' } });
    await controllerPhase(client, 'warmup', 100, progress);
    for (let r = 1; r <= opts.rounds; r++) {
      const order = r % 2 === 1 ? (['controller', 'reference'] as const) : (['reference', 'controller'] as const);
      for (const which of order) {
        const ns = `${which === 'controller' ? 'ctl' : 'ref'}-${r}`;
        await client.create(resources.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
        const phase = which === 'controller' ? await controllerPhase(client, ns, opts.completions, progress) : await referencePhase(client, ns, opts.completions, progress);
        phases.push(phase);
        progress.note(`round ${r} ${which}: create ${fmtMs(phase.createMs)} ms, finish ${fmtMs(phase.finishMs)} ms`);
      }
    }
  } finally {
    await bench.stop();
  }
  return report(opts, phases, await syncCounts(bench.registry));
}

async function main(): Promise<void> {
  const opts = new Command('bench-job')
    .option('--completions <n>', 'completions (and parallelism) of the Job', intFlag('--completions', 1, 5000), 500)
    .option('--rounds <n>', 'controller + reference rounds (ABBA order)', intFlag('--rounds', 1, 5), 3)
    .option('--timeout <s>', 'abort the whole run after S seconds', intFlag('--timeout', 10, 3600), 600)
    .parse(process.argv)
    .opts<Options>();
  await runReport(opts.timeout, (cleanup, progress) => run(opts, cleanup, progress));
}

await main();
