import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../lib/clock.js';
import { compactOnce, DEFAULT_COMPACTION_INTERVAL_MS, planCompaction, startCompactor } from './compactor.js';
import { MemoryStore } from './memory-store.js';
import type { Store } from './store.js';

describe('planCompaction', () => {
  it.each([
    { name: 'compacts to current minus the kept revisions', current: 5000, compacted: 0, keep: 1000, want: 4000 },
    { name: 'does nothing while history is shorter than the kept revisions', current: 900, compacted: 0, keep: 1000, want: undefined },
    { name: 'does nothing when the target was already compacted', current: 4500, compacted: 3500, keep: 1000, want: undefined },
    { name: 'moves forward from an earlier compaction', current: 4600, compacted: 3500, keep: 1000, want: 3600 },
    { name: 'keeping 0 revisions compacts to the head', current: 42, compacted: 0, keep: 0, want: 42 },
    { name: 'treats a negative keep as 0', current: 42, compacted: 0, keep: -5, want: 42 },
    { name: 'does nothing on an empty store', current: 0, compacted: 0, keep: 0, want: undefined },
  ])('$name', ({ current, compacted, keep, want }) => {
    expect(planCompaction(current, compacted, keep)).toBe(want);
  });
});

async function storeWithRevisions(n: number): Promise<MemoryStore> {
  const store = new MemoryStore();
  let last = await store.create('/k', '0');
  for (let i = 1; i < n; i++) last = await store.update('/k', `${i}`, last.modRevision);
  return store;
}

describe('compactOnce', () => {
  it('compacts the store and reports the new compacted revision', async () => {
    const store = await storeWithRevisions(30);
    expect(await compactOnce(store, 10)).toBe(20);
    expect(await store.compactedRevision()).toBe(20);
    expect(await compactOnce(store, 10)).toBeUndefined();
    expect((await store.get('/k'))?.value).toBe('29');
  });
});

describe('startCompactor', () => {
  it('waits an interval (5 minutes by default) before each compaction', async () => {
    const store = await storeWithRevisions(30);
    const clock = new FakeClock();
    const controller = new AbortController();
    const compactions: number[] = [];
    const loop = startCompactor(store, { keepRevisions: 10, clock, onCompacted: (r) => compactions.push(r) }, controller.signal);

    await clock.advance(DEFAULT_COMPACTION_INTERVAL_MS - 1);
    expect(await store.compactedRevision()).toBe(0);
    await clock.advance(1);
    expect(compactions).toEqual([20]);

    let last = await store.get('/k');
    for (let i = 0; i < 5; i++) last = await store.update('/k', 'x', last?.modRevision ?? 0);
    await clock.advance(DEFAULT_COMPACTION_INTERVAL_MS);
    expect(compactions).toEqual([20, 25]);
    await clock.advance(DEFAULT_COMPACTION_INTERVAL_MS);
    expect(compactions).toEqual([20, 25]);

    controller.abort();
    await loop;
    expect(clock.pendingSleepers()).toBe(0);
  });

  it('reports a failed pass and keeps going', async () => {
    const store = await storeWithRevisions(30);
    let failures = 1;
    const flaky: Pick<Store, 'currentRevision' | 'compactedRevision' | 'compact'> = {
      currentRevision: () => store.currentRevision(),
      compactedRevision: () => store.compactedRevision(),
      compact: (rev) => (failures-- > 0 ? Promise.reject(new Error('disk full')) : store.compact(rev)),
    };
    const clock = new FakeClock();
    const controller = new AbortController();
    const errors: unknown[] = [];
    const loop = startCompactor(flaky, { intervalMs: 1000, keepRevisions: 0, clock, onError: (e) => errors.push(e) }, controller.signal);
    await clock.advance(1000);
    expect(errors.map((e) => (e as Error).message)).toEqual(['disk full']);
    expect(await store.compactedRevision()).toBe(0);
    await clock.advance(1000);
    expect(await store.compactedRevision()).toBe(30);
    controller.abort();
    await loop;
  });

  it('returns at once when the signal is already aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    const clock = new FakeClock();
    await startCompactor(new MemoryStore(), { clock }, controller.signal);
    expect(clock.pendingSleepers()).toBe(0);
  });
});
