import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../lib/clock.js';
import { retryDelay, SyncRunner } from './sync-runner.js';

const settle = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
};

interface Harness {
  clock: FakeClock;
  runner: SyncRunner;
  /** [ms since start, periodic] of every sync. */
  runs: Array<[number, boolean]>;
  results: boolean[];
  stop(): Promise<void>;
}

const running: Harness[] = [];
async function advance(h: Harness, ms: number): Promise<void> {
  await h.clock.advance(ms);
  await settle();
}
afterEach(async () => {
  for (const h of running.splice(0)) await h.stop();
});

function start(results: boolean[] = []): Harness {
  const clock = new FakeClock();
  const t0 = clock.now().getTime();
  const runs: Array<[number, boolean]> = [];
  const runner = new SyncRunner({
    clock,
    minIntervalMs: 1_000,
    periodMs: 30_000,
    random: () => 0,
    sync: (periodic) => {
      runs.push([clock.now().getTime() - t0, periodic]);
      return Promise.resolve(results.shift() ?? true);
    },
  });
  const abort = new AbortController();
  const done = runner.run(abort.signal);
  const h: Harness = {
    clock,
    runner,
    runs,
    results,
    stop: async () => {
      abort.abort();
      await done;
    },
  };
  running.push(h);
  return h;
}

describe('SyncRunner', () => {
  it('syncs at once on start, then only when asked, at most once per min interval', async () => {
    const h = start();
    await settle();
    expect(h.runs).toEqual([[0, false]]);
    await advance(h, 5_000);
    expect(h.runs).toHaveLength(1);
    h.runner.request();
    await settle();
    expect(h.runs.at(-1)).toEqual([5_000, false]);
    // a burst right after: folded into one sync when the interval allows
    h.runner.request();
    h.runner.request();
    await advance(h, 400);
    expect(h.runs).toHaveLength(2);
    await advance(h, 600);
    expect(h.runs).toEqual([
      [0, false],
      [5_000, false],
      [6_000, false],
    ]);
  });

  it('runs a periodic sync every period even when nothing asks', async () => {
    const h = start();
    await settle();
    await advance(h, 30_000);
    await advance(h, 30_000);
    expect(h.runs).toEqual([
      [0, false],
      [30_000, true],
      [60_000, true],
    ]);
  });

  it('retries a failed sync with a back-off from 1 s doubling to the period', async () => {
    const h = start([false, false, false, true]);
    await settle();
    await advance(h, 10_000);
    expect(h.runs.map(([t]) => t)).toEqual([0, 1_000, 3_000, 7_000]);
    expect(h.runner.consecutiveFailures).toBe(0);
  });

  it('a request does not jump the back-off of a failed sync', async () => {
    const h = start([false]);
    await settle();
    h.runner.request();
    await advance(h, 999);
    expect(h.runs).toHaveLength(1);
    await advance(h, 1);
    expect(h.runs).toHaveLength(2);
  });

  it('retryDelay: jitter stretches by at most 20%, capped at the period', () => {
    expect(retryDelay(1, 1_000, 30_000, 0)).toBe(1_000);
    expect(retryDelay(3, 1_000, 30_000, 0.5)).toBe(4_400);
    expect(retryDelay(20, 1_000, 30_000, 0)).toBe(30_000);
    expect(retryDelay(1, 200, 30_000, 0)).toBe(1_000);
  });
});
