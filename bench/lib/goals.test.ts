import { describe, expect, it } from 'vitest';
import type { GoalInputs } from './goals.js';
import { evaluateGoals } from './goals.js';
import type { ListResults } from './knode-lists.js';
import { summarize } from './stats.js';
import type { WatchResults } from './watch-latency.js';
import type { PhaseResult } from './workload.js';

const MiB = 1024 * 1024;

function phase(name: string, p99: number, errors = 0): PhaseResult {
  return { name, ops: 100, errors, wallMs: 1000, perSecond: 100, latency: { count: 100 - errors, p50: p99 / 2, p90: p99, p99, max: p99, mean: p99 / 2 } };
}

function lists(medianMs: number): ListResults {
  const runs = { runsMs: [medianMs], medianMs, maxMs: medianMs, bytes: 1, items: 10_000 };
  return { json: runs, table: runs, paged: { totalMs: 1, pages: 20, items: 10_000, perPage: summarize([1]) } };
}

function watch(p99: number, delivered = 20_000): WatchResults {
  const lat = { count: delivered, p50: 1, p90: 2, p99, max: p99, mean: 1 };
  return { watchers: 100, writes: 200, writeErrors: 0, expected: 20_000, delivered, fromSend: lat, fromResponse: lat, writeLatency: lat, clientLoopDelayP99Ms: 1, clientLoopDelayMaxMs: 2 };
}

const good: GoalInputs = {
  objects: 10_000,
  creates: phase('create', 10),
  updates: phase('update', 10),
  deletes: phase('delete', 10),
  lists: lists(400),
  watch: watch(5),
  memory: { rss: 150 * MiB, hwm: 200 * MiB },
};

const verdicts = (inputs: GoalInputs): Record<string, string> => Object.fromEntries(evaluateGoals(inputs).map((g) => [g.figure, g.verdict]));

describe('evaluateGoals', () => {
  it('passes every goal of a run within all limits', () => {
    const rows = evaluateGoals(good);
    expect(rows.map((r) => r.figure)).toEqual([
      'create p99',
      'update p99',
      'delete p99',
      'watch delivery p99 (100 watchers)',
      'LIST 10000 as JSON, median of 5',
      'LIST 10000 as Table, median of 5',
      'server peak RSS (VmHWM)',
    ]);
    expect(rows.every((r) => r.verdict === 'PASS')).toBe(true);
  });

  const without = (key: 'deletes' | 'memory') => (g: GoalInputs): GoalInputs => {
    const copy: Record<string, unknown> = { ...g };
    delete copy[key];
    return copy as unknown as GoalInputs;
  };
  const cases: ReadonlyArray<{ name: string; mutate: Partial<GoalInputs> | ((g: GoalInputs) => GoalInputs); figure: string; verdict: string }> = [
    { name: 'a create p99 over 50 ms misses', mutate: { creates: phase('create', 51) }, figure: 'create p99', verdict: 'MISS' },
    { name: 'a p99 of exactly 50 ms passes', mutate: { updates: phase('update', 50) }, figure: 'update p99', verdict: 'PASS' },
    { name: 'a phase with failed requests is n/a', mutate: { deletes: phase('delete', 5, 3) }, figure: 'delete p99', verdict: 'n/a' },
    { name: 'deletes that never ran are n/a', mutate: without('deletes'), figure: 'delete p99', verdict: 'n/a' },
    { name: 'a watch p99 over 20 ms misses', mutate: { watch: watch(21) }, figure: 'watch delivery p99 (100 watchers)', verdict: 'MISS' },
    { name: 'missing watch events make the watch figure n/a', mutate: { watch: watch(5, 19_999) }, figure: 'watch delivery p99 (100 watchers)', verdict: 'n/a' },
    { name: 'a LIST median over 1 s misses', mutate: { lists: lists(1001) }, figure: 'LIST 10000 as JSON, median of 5', verdict: 'MISS' },
    { name: 'a LIST of fewer than 10,000 objects cannot pass', mutate: { objects: 500 }, figure: 'LIST 500 as Table, median of 5', verdict: 'n/a' },
    { name: 'a peak RSS over 300 MiB misses', mutate: { memory: { rss: 100 * MiB, hwm: 301 * MiB } }, figure: 'server peak RSS (VmHWM)', verdict: 'MISS' },
    { name: 'an unread RSS is n/a', mutate: without('memory'), figure: 'server peak RSS (VmHWM)', verdict: 'n/a' },
  ];
  it.each(cases)('$name', ({ mutate, figure, verdict }) => {
    const inputs = typeof mutate === 'function' ? mutate(good) : { ...good, ...mutate };
    expect(verdicts(inputs)[figure]).toBe(verdict);
  });
});
