/**
 * The Store contract as a vitest suite: every backend (memory, SQLite, later etcd) registers it with
 * `describeStoreContract(name, open)` and must pass it unchanged. `open` returns a fresh, empty
 * store and a cleanup that closes it (if the test did not) and removes its files.
 *
 * Tests wait for conditions (events arriving, promises settling), never for fixed delays; a
 * recorder's `until` fails with a description after a deadline instead of hanging.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CompactedError, ConflictError, FutureRevisionError, KeyExistsError, KeyNotFoundError, StoreClosedError } from './errors.js';
import type { KeyValue, Store, WatchEvent } from './store.js';

export type OpenStore = () => Promise<{ store: Store; cleanup: () => Promise<void> }>;

const WAIT_MS = 10_000;

/** Records one watch's deliveries and lets a test wait until they satisfy a condition. */
export interface WatchRecorder {
  readonly events: WatchEvent[];
  readonly errors: Error[];
  /** Number of onEvents calls, to check batches are never empty. */
  readonly batchSizes: number[];
  abort(): void;
  until(condition: () => boolean, what: string): Promise<void>;
  untilEvents(n: number): Promise<void>;
}

export function recordWatch(store: Store, prefix: string, fromRevision: number): WatchRecorder {
  const controller = new AbortController();
  const events: WatchEvent[] = [];
  const errors: Error[] = [];
  const batchSizes: number[] = [];
  const waiters = new Set<() => void>();
  const notify = (): void => {
    for (const w of [...waiters]) w();
  };
  store.watch(prefix, { fromRevision, signal: controller.signal }, {
    onEvents(batch) {
      batchSizes.push(batch.length);
      events.push(...batch);
      notify();
    },
    onError(err) {
      errors.push(err);
      notify();
    },
  });
  const until = (condition: () => boolean, what: string): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const check = (): void => {
        if (!condition()) return;
        waiters.delete(check);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`timed out waiting for ${what}: ${events.length} events, errors [${errors.map((e) => e.message).join('; ')}]`));
      }, WAIT_MS);
      waiters.add(check);
      check();
    });
  return {
    events,
    errors,
    batchSizes,
    abort: () => controller.abort(),
    until,
    untilEvents: (n) => until(() => events.length >= n || errors.length > 0, `${n} events`),
  };
}

const kv = (key: string, value: string, createRevision: number, modRevision: number): KeyValue => ({
  key,
  value,
  createRevision,
  modRevision,
});

/** Compact view of events for exact sequence assertions. */
const summary = (events: readonly WatchEvent[]): string[] =>
  events.map((e) => `${e.type} ${e.kv.key}=${e.kv.value}@${e.kv.modRevision} prev=${e.prev ? `${e.prev.value}@${e.prev.modRevision}` : '-'}`);

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected the promise to reject');
}

export function describeStoreContract(name: string, open: OpenStore): void {
  describe(`Store contract: ${name}`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;

    beforeEach(async () => {
      ({ store, cleanup } = await open());
    });
    afterEach(async () => {
      await cleanup();
    });

    describe('create, get, update, delete', () => {
      it('starts empty at revision 0 with nothing compacted', async () => {
        expect(await store.currentRevision()).toBe(0);
        expect(await store.compactedRevision()).toBe(0);
        expect(await store.get('/a')).toBeUndefined();
        expect(await store.list('')).toEqual({ items: [], revision: 0, more: false, remaining: 0 });
      });

      it('create returns the value at a new revision and get reads it back', async () => {
        const created = await store.create('/a', 'v1');
        expect(created).toEqual(kv('/a', 'v1', 1, 1));
        expect(await store.get('/a')).toEqual(created);
        expect(await store.currentRevision()).toBe(1);
      });

      it('create of an existing key fails with KeyExistsError and consumes no revision', async () => {
        await store.create('/a', 'v1');
        const err = await rejection(store.create('/a', 'v2'));
        expect(err).toBeInstanceOf(KeyExistsError);
        expect((err as KeyExistsError).code).toBe('ERR_STORE_KEY_EXISTS');
        expect(await store.get('/a')).toEqual(kv('/a', 'v1', 1, 1));
        expect(await store.currentRevision()).toBe(1);
      });

      it('update with the current revision replaces the value and keeps createRevision', async () => {
        await store.create('/other', 'x');
        const created = await store.create('/a', 'v1');
        const updated = await store.update('/a', 'v2', created.modRevision);
        expect(updated).toEqual(kv('/a', 'v2', 2, 3));
        const again = await store.update('/a', 'v3', updated.modRevision);
        expect(again).toEqual(kv('/a', 'v3', 2, 4));
        expect(await store.get('/a')).toEqual(again);
      });

      it('update with a stale revision fails with ConflictError carrying the current value', async () => {
        const created = await store.create('/a', 'v1');
        const updated = await store.update('/a', 'v2', created.modRevision);
        const err = await rejection(store.update('/a', 'v3', created.modRevision));
        expect(err).toBeInstanceOf(ConflictError);
        expect((err as ConflictError).current).toEqual(updated);
        expect((err as ConflictError).expectedRevision).toBe(created.modRevision);
        expect(await store.get('/a')).toEqual(updated);
        expect(await store.currentRevision()).toBe(2);
      });

      it('update of a missing key fails with KeyNotFoundError', async () => {
        expect(await rejection(store.update('/missing', 'v', 1))).toBeInstanceOf(KeyNotFoundError);
        expect(await store.currentRevision()).toBe(0);
      });

      it('delete returns the last value with the deletion revision and removes the key', async () => {
        const created = await store.create('/a', 'v1');
        const deleted = await store.delete('/a');
        expect(deleted).toEqual(kv('/a', 'v1', created.createRevision, 2));
        expect(await store.get('/a')).toBeUndefined();
        expect(await store.currentRevision()).toBe(2);
      });

      it('delete with the current revision succeeds, with a stale one fails with ConflictError', async () => {
        const created = await store.create('/a', 'v1');
        const updated = await store.update('/a', 'v2', created.modRevision);
        const err = await rejection(store.delete('/a', created.modRevision));
        expect(err).toBeInstanceOf(ConflictError);
        expect((err as ConflictError).current).toEqual(updated);
        expect(await store.get('/a')).toEqual(updated);
        expect(await store.delete('/a', updated.modRevision)).toEqual(kv('/a', 'v2', 1, 3));
      });

      it('delete of a missing key fails with KeyNotFoundError', async () => {
        expect(await rejection(store.delete('/missing'))).toBeInstanceOf(KeyNotFoundError);
        expect(await rejection(store.delete('/missing', 3))).toBeInstanceOf(KeyNotFoundError);
      });

      it('a key created again after deletion gets a new createRevision', async () => {
        await store.create('/a', 'v1');
        await store.delete('/a');
        expect(await store.create('/a', 'v2')).toEqual(kv('/a', 'v2', 3, 3));
      });

      it('values are stored verbatim, including empty and non-ASCII strings', async () => {
        const values = ['', ' ', '{"a":[1,2]}', 'héllo wörld ✓ 😀', 'line\nbreak\u0000nul', 'x'.repeat(100_000)];
        for (const [i, value] of values.entries()) await store.create(`/v/${i}`, value);
        for (const [i, value] of values.entries()) expect((await store.get(`/v/${i}`))?.value).toBe(value);
      });
    });

    describe('revisions', () => {
      it('are strictly increasing and shared by all keys and all kinds of write', async () => {
        const seen: number[] = [];
        const a = await store.create('/a', '1');
        seen.push(a.modRevision);
        const b = await store.create('/b', '1');
        seen.push(b.modRevision);
        seen.push((await store.update('/a', '2', a.modRevision)).modRevision);
        seen.push((await store.delete('/b')).modRevision);
        seen.push((await store.create('/c', '1')).modRevision);
        expect(seen).toEqual([1, 2, 3, 4, 5]);
        expect(await store.currentRevision()).toBe(5);
      });

      it('failed writes do not consume revisions', async () => {
        await store.create('/a', '1');
        await rejection(store.create('/a', '2'));
        await rejection(store.update('/a', '2', 99));
        await rejection(store.delete('/zzz'));
        expect((await store.create('/b', '1')).modRevision).toBe(2);
      });
    });

    describe('list and count', () => {
      const keys = ['/a', '/a/', '/a/x', '/a/y/z', '/a0', '/ab/x', '/ab/y', '/b/x'];

      beforeEach(async () => {
        // Created out of order, so sorting is the store's work.
        for (const key of [...keys].reverse()) await store.create(key, `v${key}`);
      });

      it.each([
        ['/a/', ['/a/', '/a/x', '/a/y/z']],
        ['/ab/', ['/ab/x', '/ab/y']],
        ['/a', ['/a', '/a/', '/a/x', '/a/y/z', '/a0', '/ab/x', '/ab/y']],
        ['/c/', []],
        ['', keys],
      ])('prefix %j lists exactly its keys, sorted', async (prefix, expected) => {
        const result = await store.list(prefix);
        expect(result.items.map((i) => i.key)).toEqual(expected);
        expect(result.revision).toBe(keys.length);
        expect(result.more).toBe(false);
        expect(result.remaining).toBe(0);
        expect(await store.count(prefix)).toBe(expected.length);
      });

      it('returns full values with their revisions', async () => {
        const result = await store.list('/ab/');
        expect(result.items).toEqual([kv('/ab/x', 'v/ab/x', 3, 3), kv('/ab/y', 'v/ab/y', 2, 2)]);
      });

      it('sorts by code point (UTF-8 byte) order, as etcd does', async () => {
        const odd = ['/u/a', '/u/b', '/u/é', '/u/\uffef', '/u/😀', '/u/Z'];
        for (const key of odd) await store.create(key, 'v');
        const listed = (await store.list('/u/')).items.map((i) => i.key);
        expect(listed).toEqual(['/u/Z', '/u/a', '/u/b', '/u/é', '/u/\uffef', '/u/😀']);
      });

      it('pages with limit and startKey, reporting more and remaining', async () => {
        const first = await store.list('/a', { limit: 3 });
        expect(first.items.map((i) => i.key)).toEqual(['/a', '/a/', '/a/x']);
        expect(first).toMatchObject({ more: true, remaining: 4, revision: keys.length });
        const second = await store.list('/a', { limit: 3, startKey: '/a/x\u0000' });
        expect(second.items.map((i) => i.key)).toEqual(['/a/y/z', '/a0', '/ab/x']);
        expect(second).toMatchObject({ more: true, remaining: 1 });
        const third = await store.list('/a', { limit: 3, startKey: '/ab/x\u0000' });
        expect(third.items.map((i) => i.key)).toEqual(['/ab/y']);
        expect(third).toMatchObject({ more: false, remaining: 0 });
      });

      it('treats startKey as inclusive and a limit equal to the rest as the last page', async () => {
        const page = await store.list('/a/', { startKey: '/a/x', limit: 2 });
        expect(page.items.map((i) => i.key)).toEqual(['/a/x', '/a/y/z']);
        expect(page).toMatchObject({ more: false, remaining: 0 });
      });

      it('walking all pages yields every key exactly once', async () => {
        const seen: string[] = [];
        let startKey: string | undefined;
        for (let pages = 0; pages < 20; pages++) {
          const page = await store.list('', { limit: 2, ...(startKey !== undefined ? { startKey } : {}) });
          seen.push(...page.items.map((i) => i.key));
          const last = page.items[page.items.length - 1];
          if (!page.more || last === undefined) break;
          startKey = `${last.key}\u0000`;
        }
        expect(seen).toEqual(keys);
      });

      it('a limit of 0 means no limit', async () => {
        expect((await store.list('', { limit: 0 })).items).toHaveLength(keys.length);
      });

      it('count follows creates and deletes', async () => {
        expect(await store.count('/ab/')).toBe(2);
        await store.delete('/ab/x');
        expect(await store.count('/ab/')).toBe(1);
        await store.create('/ab/z', 'v');
        expect(await store.count('/ab/')).toBe(2);
        expect(await store.count('')).toBe(keys.length);
      });
    });

    describe('list at an older revision', () => {
      it('sees values, deleted keys and absent keys as they were at that revision', async () => {
        const a = await store.create('/p/a', 'a1'); // 1
        await store.create('/p/b', 'b1'); // 2
        const at = await store.currentRevision();
        await store.update('/p/a', 'a2', a.modRevision); // 3
        await store.delete('/p/b'); // 4
        await store.create('/p/c', 'c1'); // 5
        await store.create('/q/x', 'x'); // 6

        const old = await store.list('/p/', { revision: at });
        expect(old).toEqual({ items: [kv('/p/a', 'a1', 1, 1), kv('/p/b', 'b1', 2, 2)], revision: at, more: false, remaining: 0 });
        expect((await store.list('/p/', { revision: 4 })).items).toEqual([kv('/p/a', 'a2', 1, 3)]);
        expect((await store.list('/p/')).items).toEqual([kv('/p/a', 'a2', 1, 3), kv('/p/c', 'c1', 5, 5)]);
      });

      it('pages consistently at a fixed revision while writes continue', async () => {
        for (const k of ['a', 'b', 'c', 'd', 'e']) await store.create(`/p/${k}`, k);
        const first = await store.list('/p/', { limit: 2 });
        await store.delete('/p/c');
        await store.create('/p/bb', 'new');
        const second = await store.list('/p/', { limit: 2, revision: first.revision, startKey: '/p/b\u0000' });
        expect(second.items.map((i) => i.key)).toEqual(['/p/c', '/p/d']);
        expect(second).toMatchObject({ revision: first.revision, more: true, remaining: 1 });
      });

      it('refuses a revision in the future with FutureRevisionError', async () => {
        await store.create('/a', 'v');
        expect(await rejection(store.list('/', { revision: 2 }))).toBeInstanceOf(FutureRevisionError);
      });
    });

    describe('watch', () => {
      it('from the current revision delivers later writes in order, with prev values and deletes', async () => {
        await store.create('/w/old', 'o');
        const w = recordWatch(store, '/w/', await store.currentRevision());
        const a = await store.create('/w/a', '1');
        const a2 = await store.update('/w/a', '2', a.modRevision);
        await store.delete('/w/a', a2.modRevision);
        await store.delete('/w/old');
        await w.untilEvents(4);
        expect(w.events).toEqual([
          { type: 'put', kv: kv('/w/a', '1', 2, 2) },
          { type: 'put', kv: kv('/w/a', '2', 2, 3), prev: kv('/w/a', '1', 2, 2) },
          { type: 'delete', kv: kv('/w/a', '2', 2, 4), prev: kv('/w/a', '2', 2, 3) },
          { type: 'delete', kv: kv('/w/old', 'o', 1, 5), prev: kv('/w/old', 'o', 1, 1) },
        ]);
        expect(w.errors).toEqual([]);
        expect(w.batchSizes.every((n) => n > 0)).toBe(true);
        w.abort();
      });

      it('from a past revision replays history exactly, then continues live without gap or duplicate', async () => {
        const a = await store.create('/w/a', '1'); // 1
        await store.create('/w/b', '1'); // 2
        await store.update('/w/a', '2', a.modRevision); // 3
        await store.delete('/w/b'); // 4
        const w = recordWatch(store, '/w/', 1);
        await store.create('/w/c', '1'); // 5, written before replay could have run
        await w.untilEvents(4);
        await store.create('/w/d', '1'); // 6
        await w.untilEvents(5);
        expect(summary(w.events)).toEqual([
          'put /w/b=1@2 prev=-',
          'put /w/a=2@3 prev=1@1',
          'delete /w/b=1@4 prev=1@2',
          'put /w/c=1@5 prev=-',
          'put /w/d=1@6 prev=-',
        ]);
        w.abort();
      });

      it('from revision 0 replays everything, across many history pages, while writes go on', async () => {
        const before = 2_500;
        for (let i = 0; i < before; i++) await store.create(`/h/${String(i).padStart(5, '0')}`, `${i}`);
        const w = recordWatch(store, '/h/', 0);
        for (let i = before; i < before + 100; i++) await store.create(`/h/${String(i).padStart(5, '0')}`, `${i}`);
        await w.untilEvents(before + 100);
        expect(w.errors).toEqual([]);
        expect(w.events.map((e) => e.kv.modRevision)).toEqual(Array.from({ length: before + 100 }, (_, i) => i + 1));
        w.abort();
      });

      it('a burst of unawaited writes reaches the watcher complete and in revision order', async () => {
        // Writes in flight together are ordered by the store, not by the order they were issued in
        // (etcd serves concurrent requests in parallel): each event must be the write that got its revision.
        const w = recordWatch(store, '/burst/', 0);
        const writes = await Promise.all(Array.from({ length: 500 }, (_, i) => store.create(`/burst/${i}`, `${i}`)));
        await w.untilEvents(500);
        const byRevision = [...writes].sort((a, b) => a.modRevision - b.modRevision);
        expect(w.events.map((e) => `${e.kv.modRevision}=${e.kv.value}`)).toEqual(byRevision.map((kv) => `${kv.modRevision}=${kv.value}`));
        expect(w.events.map((e) => e.kv.modRevision)).toEqual(Array.from({ length: 500 }, (_, i) => i + 1));
        w.abort();
      });

      it('from a future revision delivers only events after it', async () => {
        const w = recordWatch(store, '/f/', 2);
        await store.create('/f/1', 'a'); // 1
        await store.create('/f/2', 'b'); // 2
        await store.create('/f/3', 'c'); // 3
        await w.untilEvents(1);
        expect(summary(w.events)).toEqual(['put /f/3=c@3 prev=-']);
        w.abort();
      });

      it('sees only keys under its prefix (/a/ does not see /ab/ or /a)', async () => {
        const w = recordWatch(store, '/a/', 0);
        await store.create('/ab/x', '1');
        await store.create('/a', '1');
        await store.create('/b/a/', '1');
        await store.create('/a/x', '1');
        await w.untilEvents(1);
        expect(summary(w.events)).toEqual(['put /a/x=1@4 prev=-']);
        w.abort();
      });

      it('replays only keys under its prefix when starting in the past', async () => {
        await store.create('/a/1', '1');
        await store.create('/ab/1', '1');
        await store.create('/a', '1');
        await store.create('/a/2', '1');
        const w = recordWatch(store, '/a/', 0);
        await store.create('/ab/2', '1');
        await store.create('/a/3', '1');
        await w.untilEvents(3);
        expect(w.events.map((e) => e.kv.key)).toEqual(['/a/1', '/a/2', '/a/3']);
        w.abort();
      });

      it('several watchers on overlapping prefixes each get their own events', async () => {
        const all = recordWatch(store, '', 0);
        const narrow = recordWatch(store, '/n/1', 0);
        await store.create('/n/1', 'a');
        await store.create('/n/2', 'b');
        await store.create('/n/10', 'c');
        await all.untilEvents(3);
        await narrow.untilEvents(2);
        expect(all.events.map((e) => e.kv.key)).toEqual(['/n/1', '/n/2', '/n/10']);
        expect(narrow.events.map((e) => e.kv.key)).toEqual(['/n/1', '/n/10']);
        all.abort();
        narrow.abort();
      });

      it('stops delivering after abort, without calling onError', async () => {
        const w = recordWatch(store, '/x/', 0);
        await store.create('/x/1', '1');
        await w.untilEvents(1);
        w.abort();
        await store.create('/x/2', '2');
        // A second watcher seeing /x/2 proves the write was fanned out after the abort.
        const probe = recordWatch(store, '/x/', 1);
        await probe.untilEvents(1);
        expect(summary(w.events)).toEqual(['put /x/1=1@1 prev=-']);
        expect(w.errors).toEqual([]);
        probe.abort();
      });

      it('with an already aborted signal delivers nothing', async () => {
        const controller = new AbortController();
        controller.abort();
        const got: unknown[] = [];
        store.watch('/', { fromRevision: 0, signal: controller.signal }, { onEvents: (e) => got.push(...e), onError: (e) => got.push(e) });
        await store.create('/z', '1');
        const probe = recordWatch(store, '/', 0);
        await probe.untilEvents(1);
        expect(got).toEqual([]);
        probe.abort();
      });
    });

    describe('compaction', () => {
      async function history(): Promise<number> {
        const a = await store.create('/c/a', 'a1'); // 1
        await store.create('/c/b', 'b1'); // 2
        const a2 = await store.update('/c/a', 'a2', a.modRevision); // 3
        await store.delete('/c/b'); // 4
        await store.update('/c/a', 'a3', a2.modRevision); // 5
        await store.create('/c/d', 'd1'); // 6
        return store.currentRevision();
      }

      it('keeps the latest values and the state at the compacted revision', async () => {
        await history();
        await store.compact(4);
        expect(await store.compactedRevision()).toBe(4);
        expect((await store.list('/c/')).items).toEqual([kv('/c/a', 'a3', 1, 5), kv('/c/d', 'd1', 6, 6)]);
        expect((await store.list('/c/', { revision: 4 })).items).toEqual([kv('/c/a', 'a2', 1, 3)]);
        expect((await store.list('/c/', { revision: 5 })).items).toEqual([kv('/c/a', 'a3', 1, 5)]);
        expect(await store.get('/c/a')).toEqual(kv('/c/a', 'a3', 1, 5));
        expect(await store.get('/c/b')).toBeUndefined();
        expect(await store.count('/c/')).toBe(2);
      });

      it('refuses list and watch below the compacted revision with CompactedError', async () => {
        await history();
        await store.compact(4);
        const err = await rejection(store.list('/c/', { revision: 3 }));
        expect(err).toBeInstanceOf(CompactedError);
        expect(err).toMatchObject({ requested: 3, compacted: 4, code: 'ERR_STORE_COMPACTED' });
        const w = recordWatch(store, '/c/', 3);
        await w.until(() => w.errors.length > 0, 'CompactedError');
        expect(w.errors[0]).toBeInstanceOf(CompactedError);
        expect(w.events).toEqual([]);
      });

      it('a watch from the compacted revision still replays every later event with prev values', async () => {
        await history();
        await store.compact(4);
        const w = recordWatch(store, '/c/', 4);
        await w.untilEvents(2);
        expect(summary(w.events)).toEqual(['put /c/a=a3@5 prev=a2@3', 'put /c/d=d1@6 prev=-']);
        w.abort();
      });

      it('compacting to the current revision keeps every live key and the revision counter', async () => {
        const current = await history();
        await store.compact(current);
        expect((await store.list('/c/')).items.map((i) => i.key)).toEqual(['/c/a', '/c/d']);
        expect(await store.currentRevision()).toBe(current);
        expect((await store.create('/c/e', 'e')).modRevision).toBe(current + 1);
      });

      it('compacting after a trailing delete keeps the revision counter', async () => {
        await store.create('/t', '1');
        await store.delete('/t');
        await store.compact(2);
        expect(await store.currentRevision()).toBe(2);
        expect((await store.create('/t', '2')).modRevision).toBe(3);
      });

      it('is a no-op at or below the compacted revision and refuses the future', async () => {
        await history();
        await store.compact(4);
        await store.compact(4);
        await store.compact(2);
        expect(await store.compactedRevision()).toBe(4);
        expect(await rejection(store.compact(100))).toBeInstanceOf(FutureRevisionError);
      });

      it('repeated compactions keep exactly what a fresh reader of each revision sees', async () => {
        const a = await store.create('/r/a', '1');
        let last = a;
        for (let i = 2; i <= 10; i++) {
          last = await store.update('/r/a', `${i}`, last.modRevision);
          if (i % 3 === 0) await store.compact(last.modRevision - 1);
        }
        expect(await store.compactedRevision()).toBe(8);
        expect((await store.list('/r/', { revision: 8 })).items).toEqual([kv('/r/a', '8', 1, 8)]);
        expect((await store.list('/r/', { revision: 9 })).items).toEqual([kv('/r/a', '9', 1, 9)]);
      });
    });

    describe('concurrency', () => {
      it('of N racing updates with the same expected revision exactly one succeeds', async () => {
        const created = await store.create('/race', '0');
        const results = await Promise.allSettled(
          Array.from({ length: 20 }, (_, i) => store.update('/race', `${i + 1}`, created.modRevision)),
        );
        const won = results.filter((r) => r.status === 'fulfilled');
        const lost = results.filter((r) => r.status === 'rejected');
        expect(won).toHaveLength(1);
        expect(lost).toHaveLength(19);
        const winner = (won[0] as PromiseFulfilledResult<KeyValue>).value;
        for (const r of lost) {
          expect(r.reason).toBeInstanceOf(ConflictError);
          expect((r.reason as ConflictError).current).toEqual(winner);
        }
        expect(await store.get('/race')).toEqual(winner);
      });

      it('of N racing creates of one key exactly one succeeds', async () => {
        const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => store.create('/once', `${i}`)));
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(KeyExistsError);
      });

      it('of N racing conditional deletes exactly one succeeds', async () => {
        const created = await store.create('/gone', '0');
        const results = await Promise.allSettled(Array.from({ length: 10 }, () => store.delete('/gone', created.modRevision)));
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(KeyNotFoundError);
      });
    });

    describe('close', () => {
      it('ends every running watch with StoreClosedError', async () => {
        const live = recordWatch(store, '/a/', 0);
        await store.create('/a/1', '1');
        await live.untilEvents(1);
        await store.close();
        await live.until(() => live.errors.length > 0, 'StoreClosedError');
        expect(live.errors).toHaveLength(1);
        expect(live.errors[0]).toBeInstanceOf(StoreClosedError);
      });

      it('rejects later operations and watches with StoreClosedError', async () => {
        await store.create('/a', '1');
        await store.close();
        for (const op of [store.get('/a'), store.list(''), store.create('/b', '1'), store.update('/a', '2', 1), store.delete('/a')]) {
          expect(await rejection(op)).toBeInstanceOf(StoreClosedError);
        }
        const w = recordWatch(store, '', 0);
        await w.until(() => w.errors.length > 0, 'StoreClosedError');
        expect(w.errors[0]).toBeInstanceOf(StoreClosedError);
        await store.close(); // closing twice is harmless
      });
    });
  });
}
