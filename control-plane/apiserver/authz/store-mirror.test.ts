import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../../lib/clock.js';
import { MemoryStore } from '../../storage/memory-store.js';
import { StoreClosedError } from '../../storage/errors.js';
import { StoreMirror } from './store-mirror.js';
import type { MirrorConsumer } from './store-mirror.js';

type Entry = ['reset'] | ['apply', string, unknown];

class Recorder implements MirrorConsumer<unknown> {
  readonly log: Entry[] = [];
  readonly items = new Map<string, unknown>();
  reset(): void {
    this.log.push(['reset']);
    this.items.clear();
  }
  apply(key: string, value: unknown): void {
    this.log.push(['apply', key, value]);
    if (value === undefined) this.items.delete(key);
    else this.items.set(key, value);
  }
}

/** Lets queued microtasks and one macrotask turn run (watch events are delivered in a microtask). */
const flush = (): Promise<void> => new Promise((r) => setImmediate(r));

const P = '/registry/things/';
const json = (v: object): string => JSON.stringify(v);

describe('StoreMirror', () => {
  const aborts: AbortController[] = [];
  afterEach(() => {
    for (const a of aborts.splice(0)) a.abort();
  });

  function setup(store: MemoryStore): { rec: Recorder; clock: FakeClock; warns: Array<[object, string]>; mirror: StoreMirror<unknown>; signal: AbortSignal; abort: AbortController } {
    const rec = new Recorder();
    const clock = new FakeClock();
    const warns: Array<[object, string]> = [];
    const mirror = new StoreMirror<unknown>(store, P, rec, { clock, log: { warn: (o, m) => warns.push([o, m]) }, retryMs: 500 });
    const abort = new AbortController();
    aborts.push(abort);
    return { rec, clock, warns, mirror, signal: abort.signal, abort };
  }

  it('start() resolves once the first list is applied, with the prefix only', async () => {
    const store = new MemoryStore();
    await store.create(`${P}a`, json({ n: 1 }));
    await store.create(`${P}b`, json({ n: 2 }));
    await store.create('/registry/thingsX/c', json({ n: 3 }));
    const { rec, mirror, signal } = setup(store);
    const started = mirror.start(signal);
    expect(mirror.start(signal)).toBe(started);
    await started;
    expect(rec.log).toEqual([['reset'], ['apply', `${P}a`, { n: 1 }], ['apply', `${P}b`, { n: 2 }]]);
  });

  it('later creates, updates and deletes arrive through apply, in order', async () => {
    const store = new MemoryStore();
    const a = await store.create(`${P}a`, json({ n: 1 }));
    const { rec, mirror, signal } = setup(store);
    await mirror.start(signal);
    rec.log.length = 0;
    await store.create(`${P}b`, json({ n: 2 }));
    await store.update(`${P}a`, json({ n: 10 }), a.modRevision);
    await store.delete(`${P}b`);
    await store.create('/registry/other/x', json({}));
    await flush();
    expect(rec.log).toEqual([
      ['apply', `${P}b`, { n: 2 }],
      ['apply', `${P}a`, { n: 10 }],
      ['apply', `${P}b`, undefined],
    ]);
    expect([...rec.items]).toEqual([[`${P}a`, { n: 10 }]]);
  });

  it('a value that is not JSON is dropped with a warning', async () => {
    const store = new MemoryStore();
    await store.create(`${P}bad`, '{not json');
    const { rec, warns, mirror, signal } = setup(store);
    await mirror.start(signal);
    expect(rec.items.size).toBe(0);
    expect(rec.log).toContainEqual(['apply', `${P}bad`, undefined]);
    expect(warns).toEqual([[{ key: `${P}bad` }, 'authorization cache: stored value is not JSON; ignored']]);
  });

  it('after the watch fails it lists again after retryMs, starting from reset', async () => {
    const store = new MemoryStore({ maxWatchQueue: 1 });
    const a = await store.create(`${P}a`, json({ n: 1 }));
    const { rec, clock, warns, mirror, signal } = setup(store);
    await mirror.start(signal);
    // two writes before the watcher's microtask runs: its queue overflows and the watch ends
    void store.create(`${P}b`, json({ n: 2 }));
    void store.create(`${P}c`, json({ n: 3 }));
    await flush();
    expect(warns.map(([, m]) => m)).toEqual(['authorization cache: watch ended, listing again']);
    expect(rec.items.has(`${P}b`)).toBe(false);
    // changes while no watch runs are picked up by the relist
    await store.delete(`${P}a`, a.modRevision);
    await flush();
    expect(rec.items.has(`${P}a`)).toBe(true);
    rec.log.length = 0;
    await clock.advance(499);
    expect(rec.log).toEqual([]);
    await clock.advance(1);
    await flush();
    expect(rec.log).toEqual([['reset'], ['apply', `${P}b`, { n: 2 }], ['apply', `${P}c`, { n: 3 }]]);
    // and follows again from there
    await store.create(`${P}d`, json({ n: 4 }));
    await flush();
    expect([...rec.items.keys()]).toEqual([`${P}b`, `${P}c`, `${P}d`]);
  });

  it('a failing first list rejects start()', async () => {
    const store = new MemoryStore();
    await store.close();
    const { mirror, signal } = setup(store);
    await expect(mirror.start(signal)).rejects.toBeInstanceOf(StoreClosedError);
  });

  it('stops following when the signal aborts', async () => {
    const store = new MemoryStore();
    const { rec, mirror, signal, abort } = setup(store);
    await mirror.start(signal);
    expect(store.watcherCount).toBe(1);
    abort.abort();
    await flush();
    expect(store.watcherCount).toBe(0);
    await store.create(`${P}late`, json({}));
    await flush();
    expect(rec.items.size).toBe(0);
  });
});
