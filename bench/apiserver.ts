/**
 * `npm run bench:apiserver`: how fast is knode's apiserver, next to etcd doing the same writes?
 *
 * Starts a fresh `knode server` in a temp dir on loopback and measures, with HTTPS keep-alive clients
 * using the admin client certificate: ConfigMap creates, updates and deletes from C concurrent
 * clients; LIST of all N as JSON and as a Table plus a paginated pass; watch delivery latency to W
 * watchers; the server's RSS. Then a private etcd takes the same N puts for reference. The report goes
 * to stdout, progress to stderr; see bench/README.md for the methodology.
 *
 * Everything started (server, etcd, temp dirs) is undone on success, failure, Ctrl-C and the overall
 * deadline (lib/cleanup.ts). Phases after the writes are independent: one failing is reported and the
 * rest still run, and its goals read n/a.
 */
import { mkdir } from 'node:fs/promises';
import { arch, cpus, loadavg, platform, release } from 'node:os';
import { BenchArgError, USAGE, parseBenchArgs } from './lib/args.js';
import type { BenchOptions } from './lib/args.js';
import { Cleanup, stopChild } from './lib/cleanup.js';
import { CpuMeter } from './lib/cpu-accounting.js';
import { readCpuProfile, summarizeProfile } from './lib/cpu-profile.js';
import type { ProfileSummary } from './lib/cpu-profile.js';
import { runEtcdReference, startBenchEtcd } from './lib/etcd-reference.js';
import type { EtcdResults } from './lib/etcd-reference.js';
import { KubeHttp, loadCreds, warmConnections } from './lib/kube-http.js';
import { runLists } from './lib/knode-lists.js';
import type { ListResults } from './lib/knode-lists.js';
import { newestCpuProfile, readProcMemory, startKnodeServer } from './lib/knode-server.js';
import type { KnodeServer, ProcMemory } from './lib/knode-server.js';
import { ensureNamespace, runCreatesAndUpdates, runDeletes } from './lib/knode-writes.js';
import { Progress } from './lib/progress.js';
import { renderReport } from './lib/report.js';
import { fmtBytes } from './lib/stats.js';
import { runWatchLatency } from './lib/watch-latency.js';
import type { WatchResults } from './lib/watch-latency.js';
import { NAMESPACE, configMap, configMapName, dataBytes } from './lib/workload.js';
import type { PhaseResult } from './lib/workload.js';

function environment(): string {
  const cpu = cpus();
  return `node ${process.version}, ${platform()} ${release()} ${arch()}, ${cpu.length} CPUs (${cpu[0]?.model.trim() ?? '?'}); client, server and etcd share them`;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

type MemorySteps = Array<{ readonly after: string; readonly memory: ProcMemory }>;

async function noteMemory(progress: Progress, server: KnodeServer, after: string, steps: MemorySteps): Promise<void> {
  const m = await readProcMemory(server.pid);
  if (m === undefined) return;
  steps.push({ after, memory: m });
  progress.note(`server RSS after ${after}: ${fmtBytes(m.rss)} (peak ${fmtBytes(m.hwm)})`);
}

/** Optional phase: its failure is reported, and the run goes on. */
async function attempt<T>(what: string, failures: string[], progress: Progress, fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await fn();
  } catch (err) {
    progress.note(`${what} failed: ${message(err)}`);
    failures.push(`${what}: ${message(err)}`);
    return undefined;
  }
}

async function run(opts: BenchOptions, cleanup: Cleanup, progress: Progress, signal: AbortSignal): Promise<string> {
  const failures: string[] = [];
  if (opts.cpuProfDir !== undefined) await mkdir(opts.cpuProfDir, { recursive: true });
  // --store etcd: the server keeps everything in a private etcd of its own (not the reference's).
  const store = opts.store === 'etcd' ? await startBenchEtcd(cleanup, progress, 'knode') : undefined;
  progress.note(`starting knode server (${store !== undefined ? `--etcd-servers ${store.clientUrl}` : `--store-sync ${opts.sync}`}${opts.cpuProfDir !== undefined ? ', under --cpu-prof' : ''})`);
  const server = await startKnodeServer(cleanup, {
    sync: opts.sync,
    ...(store !== undefined ? { etcdServers: store.clientUrl } : {}),
    ...(opts.cpuProfDir !== undefined ? { cpuProfDir: opts.cpuProfDir } : {}),
  });
  progress.note(`knode server pid ${server.pid} at ${server.url}`);
  const creds = await loadCreds(server.kubeconfigPath);
  const http = new KubeHttp(creds, opts.clients);
  const meter = new CpuMeter(server.pid);
  const memorySteps: MemorySteps = [];

  let creates: PhaseResult;
  let updates: PhaseResult;
  let storedObjectBytes: number;
  let deletes: PhaseResult | undefined;
  let lists: ListResults | undefined;
  let watch: WatchResults | undefined;
  let memoryAfter: ProcMemory | undefined;
  try {
    await ensureNamespace(http);
    progress.note(`opening ${opts.clients} keep-alive TLS connections`);
    await warmConnections(http, opts.clients, `/api/v1/namespaces/${NAMESPACE}`);
    ({ creates, updates, storedObjectBytes } = await runCreatesAndUpdates(http, opts, progress, signal, meter));
    if (creates.errors === creates.ops) throw new Error(`every create failed; first: ${creates.firstError ?? '?'}`);
    await noteMemory(progress, server, 'writes', memorySteps);
    lists = await attempt('LIST phase', failures, progress, () =>
      meter.measure('LIST (all runs)', () => runLists(http, opts.objects - creates.errors, progress, (step) => noteMemory(progress, server, step, memorySteps))),
    );
    if (opts.watchers > 0) {
      watch = await attempt('watch phase', failures, progress, () =>
        meter.measure('watch (incl. opening watches)', () =>
          runWatchLatency(creds, { watchers: opts.watchers, writes: opts.watchWrites, intervalMs: opts.watchIntervalMs }, progress, signal),
        ),
      );
      await noteMemory(progress, server, 'watches', memorySteps);
    }
    deletes = await attempt('delete phase', failures, progress, () => meter.measure('delete', () => runDeletes(http, opts, progress, signal)));
    await noteMemory(progress, server, 'deletes', memorySteps);
    memoryAfter = memorySteps[memorySteps.length - 1]?.memory;
  } catch (err) {
    throw new Error(`${message(err)}\nserver stderr (tail):\n${server.stderrTail()}`);
  } finally {
    http.close();
  }

  progress.note('stopping knode server');
  await server.stop();
  const storeMemory = store?.child.pid !== undefined ? await readProcMemory(store.child.pid) : undefined;
  if (store !== undefined) await stopChild(store.child, 5000);
  let profile: ProfileSummary | undefined;
  let cpuProfilePath: string | undefined;
  if (opts.cpuProfDir !== undefined) {
    const dir = opts.cpuProfDir;
    cpuProfilePath = await newestCpuProfile(dir, server.pid);
    if (cpuProfilePath === undefined) failures.push(`no CPU profile of pid ${server.pid} in ${dir}`);
    else {
      const path = cpuProfilePath;
      profile = await attempt('reading the CPU profile', failures, progress, async () => summarizeProfile(await readCpuProfile(path)));
    }
  }

  let etcd: EtcdResults | undefined;
  let etcdError: string | undefined;
  if (opts.etcd) {
    try {
      etcd = await runEtcdReference(cleanup, { objects: opts.objects, clients: opts.clients, valueBytes: storedObjectBytes }, progress, signal);
    } catch (err) {
      etcdError = message(err);
      progress.note(`etcd reference failed: ${etcdError}`);
    }
  }

  const report = renderReport({
    options: opts,
    environment: environment(),
    dataBytes: dataBytes(configMap(configMapName(0), 0, 0)),
    storedObjectBytes,
    creates,
    updates,
    ...(deletes !== undefined ? { deletes } : {}),
    ...(lists !== undefined ? { lists } : {}),
    ...(watch !== undefined ? { watch } : {}),
    ...(memoryAfter !== undefined ? { memoryAfter } : {}),
    memorySteps,
    cpu: meter.results(),
    load: loadavg(),
    ...(etcd !== undefined ? { etcd } : {}),
    ...(etcdError !== undefined ? { etcdError } : {}),
    ...(store !== undefined ? { storeEtcd: { version: store.version, ...(storeMemory !== undefined ? { memory: storeMemory } : {}) } } : {}),
    ...(profile !== undefined ? { profile } : {}),
    ...(cpuProfilePath !== undefined ? { cpuProfilePath } : {}),
  });
  return failures.length > 0 ? `${report}\n## Failures\n${failures.map((f) => `- ${f}`).join('\n')}\n` : report;
}

async function main(): Promise<number> {
  let opts: BenchOptions;
  try {
    opts = parseBenchArgs(process.argv.slice(2));
  } catch (err) {
    if (err instanceof BenchArgError) {
      process.stderr.write(`${err.message}\n${USAGE}\n`);
      return 2;
    }
    throw err;
  }
  if (opts.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const cleanup = new Cleanup();
  cleanup.installSignalHandlers();
  const progress = new Progress();
  const abort = new AbortController();
  // The hard stop: a hung request or a stuck server must not keep processes and dirs around.
  const deadline = setTimeout(() => {
    progress.note(`the run exceeded --timeout ${opts.timeoutSeconds} s; cleaning up`);
    abort.abort(new Error('deadline'));
    cleanup.runAllSync();
    process.exit(124);
  }, opts.timeoutSeconds * 1000);
  try {
    const report = await run(opts, cleanup, progress, abort.signal);
    process.stdout.write(report);
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
