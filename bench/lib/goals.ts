/**
 * The goals knode's apiserver is held to, and the pure verdict of one run against them. A figure that
 * was not measured (no watchers, a phase with failures) is `n/a`, never a PASS: a broken run must not
 * look like a good one.
 */
import type { ProcMemory } from './knode-server.js';
import type { ListResults } from './knode-lists.js';
import type { WatchResults } from './watch-latency.js';
import type { PhaseResult } from './workload.js';
import { fmtBytes, fmtMs } from './stats.js';

export const GOALS = {
  mutatingP99Ms: 50,
  watchP99Ms: 20,
  list10kMs: 1000,
  rssBytes: 300 * 1024 * 1024,
} as const;

export type Verdict = 'PASS' | 'MISS' | 'n/a';

export interface GoalRow {
  readonly figure: string;
  readonly value: string;
  readonly goal: string;
  readonly verdict: Verdict;
}

export interface GoalInputs {
  readonly objects: number;
  readonly creates: PhaseResult;
  readonly updates: PhaseResult;
  readonly deletes?: PhaseResult;
  readonly lists?: ListResults;
  readonly watch?: WatchResults;
  readonly memory?: ProcMemory;
}

function judge(value: number, limit: number, valid: boolean): Verdict {
  if (!valid || !Number.isFinite(value)) return 'n/a';
  return value <= limit ? 'PASS' : 'MISS';
}

function mutatingRow(label: string, p: PhaseResult | undefined): GoalRow {
  const valid = p !== undefined && p.errors === 0 && p.latency.count > 0;
  const p99 = p?.latency.p99 ?? Number.NaN;
  return {
    figure: `${label} p99`,
    value: p === undefined ? 'not run' : `${fmtMs(p99)} ms${p.errors > 0 ? ` (${p.errors} failed)` : ''}`,
    goal: `<= ${GOALS.mutatingP99Ms} ms`,
    verdict: judge(p99, GOALS.mutatingP99Ms, valid),
  };
}

export function evaluateGoals(r: GoalInputs): GoalRow[] {
  const rows: GoalRow[] = [mutatingRow('create', r.creates), mutatingRow('update', r.updates), mutatingRow('delete', r.deletes)];

  const w = r.watch;
  const watchValid = w !== undefined && w.watchers > 0 && w.delivered === w.expected && w.writeErrors === 0;
  rows.push({
    figure: `watch delivery p99 (${w?.watchers ?? 0} watchers)`,
    value:
      w === undefined || w.watchers === 0
        ? 'not run'
        : `${fmtMs(w.fromSend.p99)} ms${w.delivered !== w.expected ? ` (${w.expected - w.delivered} events missing)` : ''}`,
    goal: `<= ${GOALS.watchP99Ms} ms`,
    verdict: judge(w?.fromSend.p99 ?? Number.NaN, GOALS.watchP99Ms, watchValid),
  });

  // The goal is stated for 10,000 objects; a smaller run cannot pass it.
  const listValid = r.lists !== undefined && r.objects >= 10_000;
  const scale = r.objects >= 10_000 ? '' : ' (goal is for >= 10,000: n/a)';
  for (const [label, runs] of [
    ['JSON', r.lists?.json],
    ['Table', r.lists?.table],
  ] as const) {
    rows.push({
      figure: `LIST ${r.objects} as ${label}, median of 5`,
      value: runs === undefined ? 'not run' : `${fmtMs(runs.medianMs)} ms${scale}`,
      goal: `<= ${GOALS.list10kMs} ms`,
      verdict: judge(runs?.medianMs ?? Number.NaN, GOALS.list10kMs, listValid),
    });
  }

  rows.push({
    figure: 'server peak RSS (VmHWM)',
    value: r.memory === undefined ? 'not read' : fmtBytes(r.memory.hwm),
    goal: `<= ${fmtBytes(GOALS.rssBytes)}`,
    verdict: judge(r.memory?.hwm ?? Number.NaN, GOALS.rssBytes, r.memory !== undefined),
  });
  return rows;
}
