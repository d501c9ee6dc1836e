/**
 * Turns one run's results into the printed report (stdout): a section per measurement, the etcd
 * reference with knode/etcd ratios, the server's hot functions when profiled, and the goal summary.
 * Pure: results in, text out.
 */
import type { BenchOptions } from './args.js';
import type { EtcdResults } from './etcd-reference.js';
import type { GoalRow } from './goals.js';
import { evaluateGoals } from './goals.js';
import type { ListResults } from './knode-lists.js';
import type { ProcMemory } from './knode-server.js';
import type { CpuShare } from './cpu-accounting.js';
import type { ProfileSummary } from './cpu-profile.js';
import { fmtBytes, fmtMs, fmtRate, fmtRatio } from './stats.js';
import { renderTable } from './table.js';
import type { WatchResults } from './watch-latency.js';
import type { PhaseResult } from './workload.js';

export interface BenchResults {
  readonly options: BenchOptions;
  readonly environment: string;
  /** Bytes of data in one ConfigMap, and its size as stored/returned by knode. */
  readonly dataBytes: number;
  readonly storedObjectBytes: number;
  readonly creates: PhaseResult;
  readonly updates: PhaseResult;
  readonly deletes?: PhaseResult;
  readonly lists?: ListResults;
  readonly watch?: WatchResults;
  readonly memoryAfter?: ProcMemory;
  /** The server's memory after each step, in order (the peak is cumulative). */
  readonly memorySteps: ReadonlyArray<{ readonly after: string; readonly memory: ProcMemory }>;
  /** CPU use per knode phase, and the machine's load averages (1, 5, 15 min) at the end. */
  readonly cpu: ReadonlyArray<{ readonly phase: string; readonly share: CpuShare }>;
  readonly load: readonly number[];
  readonly etcd?: EtcdResults;
  readonly etcdError?: string;
  /** --store etcd: the version and final memory of the etcd the server stored in. */
  readonly storeEtcd?: { readonly version: string; readonly memory?: ProcMemory };
  readonly profile?: ProfileSummary;
  readonly cpuProfilePath?: string;
}

function phaseRow(label: string, p: PhaseResult): string[] {
  const l = p.latency;
  return [label, String(p.ops), String(p.errors), fmtRate(p.perSecond), fmtMs(l.p50), fmtMs(l.p90), fmtMs(l.p99), fmtMs(l.max)];
}

const PHASE_HEADERS = ['phase', 'ops', 'failed', 'ops/s', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms'];
const PHASE_ALIGN = ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'right'] as const;

function writesSection(r: BenchResults): string {
  const rows = [phaseRow('create', r.creates), phaseRow('update (PUT with resourceVersion)', r.updates)];
  if (r.deletes !== undefined) rows.push(phaseRow('delete', r.deletes));
  const failures = [r.creates, r.updates, r.deletes].filter((p) => p?.firstError !== undefined).map((p) => `  first ${p?.name} failure: ${p?.firstError}`);
  return [
    `## Writes (knode, ${r.options.clients} concurrent clients, closed loop)`,
    renderTable(PHASE_HEADERS, rows, PHASE_ALIGN),
    ...failures,
  ].join('\n');
}

function listSection(l: ListResults, objects: number): string {
  const rows = [
    ['JSON', String(l.json.items), fmtBytes(l.json.bytes), fmtMs(l.json.medianMs), fmtMs(l.json.maxMs), l.json.runsMs.map(fmtMs).join(' ')],
    ['Table', String(l.table.items), fmtBytes(l.table.bytes), fmtMs(l.table.medianMs), fmtMs(l.table.maxMs), l.table.runsMs.map(fmtMs).join(' ')],
  ];
  return [
    `## LIST of ${objects} ConfigMaps (sequential, 5 runs each)`,
    renderTable(['as', 'items', 'size', 'median ms', 'max ms', 'runs ms'], rows, ['left', 'right', 'right', 'right', 'right', 'left']),
    `paginated, limit=500: ${l.paged.pages} pages, ${l.paged.items} items, ${fmtMs(l.paged.totalMs)} ms in all; ` +
      `per page p50 ${fmtMs(l.paged.perPage.p50)} ms, max ${fmtMs(l.paged.perPage.max)} ms`,
  ].join('\n');
}

function watchSection(w: WatchResults): string {
  const rows = [
    ['event arrival - write sent', fmtMs(w.fromSend.p50), fmtMs(w.fromSend.p90), fmtMs(w.fromSend.p99), fmtMs(w.fromSend.max)],
    ['event arrival - write answered', fmtMs(w.fromResponse.p50), fmtMs(w.fromResponse.p90), fmtMs(w.fromResponse.p99), fmtMs(w.fromResponse.max)],
    ['(the watched writes themselves)', fmtMs(w.writeLatency.p50), fmtMs(w.writeLatency.p90), fmtMs(w.writeLatency.p99), fmtMs(w.writeLatency.max)],
  ];
  return [
    `## Watch delivery (${w.watchers} watchers x ${w.writes} creates)`,
    `delivered ${w.delivered}/${w.expected} events; ${w.writeErrors} writes failed`,
    renderTable(['latency', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms'], rows, ['left', 'right', 'right', 'right', 'right']),
    `bench client event-loop delay during the phase: p99 ${fmtMs(w.clientLoopDelayP99Ms)} ms, max ${fmtMs(w.clientLoopDelayMaxMs)} ms ` +
      '(part of every figure above; large values mean the client, not the server, was busy)',
  ].join('\n');
}

function memorySection(steps: BenchResults['memorySteps']): string {
  const rows = steps.map(({ after, memory }) => [after, fmtBytes(memory.rss), fmtBytes(memory.hwm)]);
  return [
    '## Server memory (/proc/<pid>/status)',
    renderTable(['after', 'VmRSS', 'peak so far (VmHWM)'], rows, ['left', 'right', 'right']),
  ].join('\n');
}

function pct(v: number): string {
  return Number.isFinite(v) ? `${v.toFixed(0)}%` : '-';
}

function cpuSection(r: BenchResults): string {
  const rows = r.cpu.map(({ phase, share }) => [phase, share.wallSeconds.toFixed(1), pct(share.serverPercent), pct(share.benchPercent), pct(share.othersPercent)]);
  return [
    '## CPU during the knode phases (% of one core; 100% = one core busy)',
    renderTable(['phase', 'wall s', 'server', 'bench client', 'other processes'], rows, ['left', 'right', 'right', 'right', 'right']),
    `load average at the end: ${r.load.map((l) => l.toFixed(2)).join(' ')}. The server is one Node.js thread: near 100% it is CPU-bound;`,
    'a large "other processes" share means the run competed with something else and its latencies are inflated.',
  ].join('\n');
}

function etcdSection(r: BenchResults, e: EtcdResults): string {
  const k = r.creates;
  const ratioRows = [
    ['write latency p50', fmtMs(k.latency.p50), fmtMs(e.puts.latency.p50), fmtRatio(k.latency.p50, e.puts.latency.p50)],
    ['write latency p99', fmtMs(k.latency.p99), fmtMs(e.puts.latency.p99), fmtRatio(k.latency.p99, e.puts.latency.p99)],
    ['writes/s', fmtRate(k.perSecond), fmtRate(e.puts.perSecond), fmtRatio(k.perSecond, e.puts.perSecond)],
  ];
  if (r.lists !== undefined) ratioRows.push(['read all (LIST JSON / range) ms', fmtMs(r.lists.json.medianMs), fmtMs(e.rangeMedianMs), fmtRatio(r.lists.json.medianMs, e.rangeMedianMs)]);
  return [
    `## Reference: etcd ${e.version} (same ${r.options.objects} writes, ${r.options.clients} in flight, ${fmtBytes(e.valueBytes)} values)`,
    renderTable(PHASE_HEADERS, [phaseRow('etcd put', e.puts)], PHASE_ALIGN),
    `range get of the ${e.rangeKeys} keys: median ${fmtMs(e.rangeMedianMs)} ms, max ${fmtMs(e.rangeMaxMs)} ms (5 runs)` +
      (e.memory !== undefined ? `; etcd RSS ${fmtBytes(e.memory.rss)}, peak ${fmtBytes(e.memory.hwm)}` : ''),
    '',
    renderTable(['knode create vs etcd put', 'knode', 'etcd', 'knode/etcd'], ratioRows, ['left', 'right', 'right', 'right']),
    'Note: a knode create does much more than a raw etcd put: TLS, HTTP, JSON decoding, validation, defaulting,',
    'admission, managed fields, encoding the answer and notifying watchers. etcd here is plaintext gRPC on one',
    'HTTP/2 connection. The ratio bounds the overhead from above; it is not a like-for-like storage comparison.',
  ].join('\n');
}

function hotSection(p: ProfileSummary, path: string | undefined): string {
  const rows = p.hot.map((h) => [h.selfPercent.toFixed(1), fmtMs(h.selfMs), h.functionName, h.location]);
  const busy = p.totalMs - p.idleMs;
  return [
    `## Server CPU profile: top functions by self time${path !== undefined ? ` (${path})` : ''}`,
    `profiled ${fmtMs(p.totalMs)} ms, busy ${fmtMs(busy)} ms (${p.totalMs > 0 ? ((100 * busy) / p.totalMs).toFixed(0) : '-'}%); % is of busy time`,
    renderTable(['self %', 'self ms', 'function', 'where'], rows, ['right', 'right', 'left', 'left']),
  ].join('\n');
}

function summarySection(goals: readonly GoalRow[]): string {
  const rows = goals.map((g) => [g.figure, g.value, g.goal, g.verdict]);
  return ['## Summary', renderTable(['figure', 'value', 'goal', 'result'], rows, ['left', 'right', 'right', 'left'])].join('\n');
}

export function renderReport(r: BenchResults): string {
  const o = r.options;
  const sections = [
    '# knode apiserver benchmark',
    `${r.environment}\n` +
      `objects ${o.objects}, clients ${o.clients}, watchers ${o.watchers}, ` +
      `${r.storeEtcd !== undefined ? `store: a private etcd ${r.storeEtcd.version} (one member, WAL fsync per commit${r.storeEtcd.memory !== undefined ? `, its RSS at the end ${fmtBytes(r.storeEtcd.memory.rss)}` : ''})` : `store: embedded SQLite, sync ${o.sync}`}; ` +
      `ConfigMap with ${r.dataBytes} bytes of data, ${fmtBytes(r.storedObjectBytes)} as returned by the server`,
    writesSection(r),
  ];
  if (r.lists !== undefined) sections.push(listSection(r.lists, o.objects));
  if (r.watch !== undefined && r.watch.watchers > 0) sections.push(watchSection(r.watch));
  if (r.memorySteps.length > 0) sections.push(memorySection(r.memorySteps));
  if (r.cpu.length > 0) sections.push(cpuSection(r));
  if (r.etcd !== undefined) sections.push(etcdSection(r, r.etcd));
  else if (r.etcdError !== undefined) sections.push(`## Reference: etcd\nnot measured: ${r.etcdError}`);
  if (r.profile !== undefined && r.profile.hot.length > 0) sections.push(hotSection(r.profile, r.cpuProfilePath));
  sections.push(
    summarySection(
      evaluateGoals({
        objects: o.objects,
        creates: r.creates,
        updates: r.updates,
        ...(r.deletes !== undefined ? { deletes: r.deletes } : {}),
        ...(r.lists !== undefined ? { lists: r.lists } : {}),
        ...(r.watch !== undefined ? { watch: r.watch } : {}),
        ...(r.memoryAfter !== undefined ? { memory: r.memoryAfter } : {}),
      }),
    ),
  );
  return `${sections.join('\n\n')}\n`;
}
