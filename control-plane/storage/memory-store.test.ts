import { describe, expect, it } from 'vitest';
import { WatchOverflowError } from './errors.js';
import { MemoryStore } from './memory-store.js';
import { describeStoreContract, recordWatch } from './store-contract.js';

describeStoreContract('MemoryStore', async () => {
  const store = new MemoryStore();
  return { store, cleanup: () => store.close() };
});

describe('MemoryStore specifics', () => {
  it('returns frozen values so callers cannot rewrite history', async () => {
    const store = new MemoryStore();
    const created = await store.create('/a', '1');
    expect(Object.isFrozen(created)).toBe(true);
    expect(Object.isFrozen(await store.get('/a'))).toBe(true);
  });

  it('ends a watcher that falls more than maxWatchQueue events behind with WatchOverflowError', async () => {
    const store = new MemoryStore({ maxWatchQueue: 5 });
    const w = recordWatch(store, '/', 0);
    const steady = recordWatch(store, '/other/', 0);
    // Unawaited writes all land in one tick, before any delivery can run.
    await Promise.all(Array.from({ length: 6 }, (_, i) => store.create(`/k${i}`, 'v')));
    await w.until(() => w.errors.length > 0, 'overflow');
    expect(w.errors[0]).toBeInstanceOf(WatchOverflowError);
    expect(w.events).toEqual([]);
    expect(steady.errors).toEqual([]);
    expect(store.watcherCount).toBe(1);
    steady.abort();
    expect(store.watcherCount).toBe(0);
  });

  it('replays history in pages of watchPageSize without losing events', async () => {
    const store = new MemoryStore({ watchPageSize: 3 });
    for (let i = 0; i < 10; i++) await store.create(`/p/${i}`, `${i}`);
    const w = recordWatch(store, '/p/', 2);
    await w.untilEvents(8);
    expect(w.events.map((e) => e.kv.modRevision)).toEqual([3, 4, 5, 6, 7, 8, 9, 10]);
    expect(w.batchSizes).toEqual([3, 3, 2]);
    w.abort();
  });

  it('forgets watchers on abort', async () => {
    const store = new MemoryStore();
    const w = recordWatch(store, '/', 0);
    expect(store.watcherCount).toBe(1);
    w.abort();
    expect(store.watcherCount).toBe(0);
  });
});
