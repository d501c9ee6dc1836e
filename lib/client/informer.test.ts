import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { KubeObject } from '../../api/meta.js';
import { FakeClock } from '../clock.js';
import { ClientApiError } from './errors.js';
import type { CacheChange } from './informer.js';
import { backoffDelay, DEFAULT_BACKOFF, Informer, keyOf, planReplace } from './informer.js';
import { FakeListerWatcher } from './testing/fake-lister-watcher.js';

const obj = (name: string, rv: string, namespace?: string): KubeObject => ({
  metadata: { name, resourceVersion: rv, ...(namespace !== undefined ? { namespace } : {}) },
});

const settle = async (): Promise<void> => {
  for (let i = 0; i < 10; i++) await new Promise<void>((r) => setImmediate(r));
};

describe('keyOf', () => {
  it.each([
    [obj('web', '1', 'default'), 'default/web'],
    [obj('w1', '1'), 'w1'],
  ])('keys %o as %s', (o, key) => {
    expect(keyOf(o)).toBe(key);
  });
});

describe('planReplace', () => {
  const cache = new Map([
    ['a', obj('a', '1')],
    ['b', obj('b', '1')],
    ['c', obj('c', '1')],
  ]);
  const summary = (changes: CacheChange<KubeObject>[]): string[] => changes.map((c) => `${c.type}:${c.key}`);
  it.each([
    ['the same objects: nothing', [obj('a', '1'), obj('b', '1'), obj('c', '1')], []],
    ['a changed resourceVersion: update', [obj('a', '2'), obj('b', '1'), obj('c', '1')], ['update:a']],
    ['a new object: add', [obj('a', '1'), obj('b', '1'), obj('c', '1'), obj('d', '1')], ['add:d']],
    ['a missing object: delete', [obj('a', '1'), obj('c', '1')], ['delete:b']],
    ['all at once', [obj('a', '3'), obj('e', '1')], ['update:a', 'add:e', 'delete:b', 'delete:c']],
  ])('%s', (_name, items, expected) => {
    expect(summary(planReplace(cache, items))).toEqual(expected);
  });
});

describe('backoffDelay', () => {
  it.each([
    [1, 0, 800],
    [2, 0, 1600],
    [3, 0.5, 3200 * 1.25],
    [10, 0, 30_000],
    [10, 1, 45_000],
  ])('retry %i with random %d waits %i ms', (failures, random, ms) => {
    expect(backoffDelay(failures, DEFAULT_BACKOFF, random)).toBe(ms);
  });
});

describe('Informer', () => {
  let clock: FakeClock;
  let lw: FakeListerWatcher<KubeObject>;
  let informer: Informer<KubeObject>;
  let abort: AbortController;
  let running: Promise<void>;
  let log: string[];

  beforeEach(() => {
    clock = new FakeClock();
    lw = new FakeListerWatcher();
    informer = new Informer(lw, { clock, random: () => 0, name: 'test' });
    abort = new AbortController();
    log = [];
    informer.addEventHandler({
      onAdd: (o) => log.push(`add ${o.metadata.name}@${o.metadata.resourceVersion}`),
      onUpdate: (old, o) => log.push(`update ${o.metadata.name} ${old.metadata.resourceVersion}->${o.metadata.resourceVersion}`),
      onDelete: (o) => log.push(`delete ${o.metadata.name}`),
    });
  });

  afterEach(async () => {
    abort.abort();
    await running;
  });

  const start = (): void => {
    running = informer.run(abort.signal);
  };

  it('lists, reports the listed objects as adds, syncs, then watches from the list resourceVersion', async () => {
    lw.nextList({ items: [obj('a', '5'), obj('b', '6')], resourceVersion: '10' });
    expect(informer.hasSynced()).toBe(false);
    start();
    await informer.waitForSync();
    const watch = await lw.waitForWatch(1);
    expect(informer.hasSynced()).toBe(true);
    expect(watch.resourceVersion).toBe('10');
    expect(log).toEqual(['add a@5', 'add b@6']);
    expect(informer.list().map(keyOf).sort()).toEqual(['a', 'b']);
  });

  it('applies watch events to the cache and the handlers, and follows bookmarks', async () => {
    lw.nextList({ items: [obj('a', '5')], resourceVersion: '10' });
    start();
    const watch = await lw.waitForWatch(1);
    watch.push({ type: 'ADDED', object: obj('b', '11', 'ns') });
    watch.push({ type: 'MODIFIED', object: obj('a', '12') });
    watch.push({ type: 'DELETED', object: obj('a', '13') });
    watch.push({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '20' } } });
    await settle();
    expect(log).toEqual(['add a@5', 'add b@11', 'update a 5->12', 'delete a']);
    expect(informer.getByName('b', 'ns')?.metadata.resourceVersion).toBe('11');
    expect(informer.get('a')).toBeUndefined();
    expect(informer.lastSyncResourceVersion()).toBe('20');
    // the server ends the watch (its timeout): the informer resumes from the bookmark, without a list
    watch.end();
    const next = await lw.waitForWatch(2);
    expect(next.resourceVersion).toBe('20');
    expect(lw.listCalls).toBe(1);
  });

  it('re-lists at once on 410 Expired and reports only the difference', async () => {
    lw.nextList({ items: [obj('a', '5'), obj('b', '6')], resourceVersion: '10' });
    lw.nextList({ items: [obj('a', '7'), obj('c', '8')], resourceVersion: '30' });
    start();
    const watch = await lw.waitForWatch(1);
    watch.push({ type: 'ERROR', object: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', code: 410, reason: 'Expired', message: 'too old' } });
    const next = await lw.waitForWatch(2);
    expect(lw.listCalls).toBe(2);
    expect(next.resourceVersion).toBe('30');
    expect(log).toEqual(['add a@5', 'add b@6', 'update a 5->7', 'add c@8', 'delete b']);
  });

  it('retries a failed list after a back-off on its clock', async () => {
    lw.nextList(new Error('connection refused'));
    lw.nextList({ items: [], resourceVersion: '3' });
    start();
    await settle();
    expect(lw.listCalls).toBe(1);
    expect(informer.hasSynced()).toBe(false);
    await clock.advance(799);
    expect(lw.listCalls).toBe(1);
    await clock.advance(1);
    await informer.waitForSync();
    expect(lw.listCalls).toBe(2);
  });

  it('re-watches from the last resourceVersion after a watch failure, without re-listing', async () => {
    lw.nextList({ items: [], resourceVersion: '10' });
    start();
    const watch = await lw.waitForWatch(1);
    watch.push({ type: 'ADDED', object: obj('a', '11') });
    await settle();
    watch.fail(new Error('connection reset'));
    await settle();
    expect(lw.watches).toHaveLength(1);
    await clock.advance(800);
    const next = await lw.waitForWatch(2);
    expect(next.resourceVersion).toBe('11');
    expect(lw.listCalls).toBe(1);
  });

  it('re-lists when the watch request itself answers 410', async () => {
    lw.nextList({ items: [], resourceVersion: '10' });
    lw.nextList({ items: [], resourceVersion: '40' });
    start();
    const watch = await lw.waitForWatch(1);
    watch.fail(new ClientApiError({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', code: 410, reason: 'Expired' }, 'GET', '/api/v1/nodes'));
    await settle();
    await clock.advance(800);
    const next = await lw.waitForWatch(2);
    expect(lw.listCalls).toBe(2);
    expect(next.resourceVersion).toBe('40');
  });

  it('backs off when a watch ends at once without delivering anything', async () => {
    lw.nextList({ items: [], resourceVersion: '10' });
    start();
    (await lw.waitForWatch(1)).end();
    await settle();
    expect(lw.watches).toHaveLength(1);
    await clock.advance(800);
    await lw.waitForWatch(2);
  });

  it('keeps following the server when a handler throws', async () => {
    informer.addEventHandler({
      onAdd: () => {
        throw new Error('boom');
      },
    });
    lw.nextList({ items: [], resourceVersion: '1' });
    start();
    const watch = await lw.waitForWatch(1);
    watch.push({ type: 'ADDED', object: obj('a', '2') });
    watch.push({ type: 'ADDED', object: obj('b', '3') });
    await settle();
    expect(informer.list()).toHaveLength(2);
    expect(log).toEqual(['add a@2', 'add b@3']);
  });

  it('replays cached objects to a handler added late, and stops calling a removed one', async () => {
    lw.nextList({ items: [obj('a', '1')], resourceVersion: '1' });
    start();
    const watch = await lw.waitForWatch(1);
    const late: string[] = [];
    const remove = informer.addEventHandler({ onAdd: (o) => late.push(o.metadata.name ?? '') });
    expect(late).toEqual(['a']);
    remove();
    watch.push({ type: 'ADDED', object: obj('b', '2') });
    await settle();
    expect(late).toEqual(['a']);
  });

  it('rejects waitForSync with the abort reason when stopped before syncing', async () => {
    const waiting = new AbortController();
    const p = informer.waitForSync(waiting.signal);
    waiting.abort(new Error('gave up'));
    await expect(p).rejects.toThrow('gave up');
    running = Promise.resolve();
  });

  it('ends its loop when the signal aborts during a watch', async () => {
    lw.nextList({ items: [], resourceVersion: '1' });
    start();
    await lw.waitForWatch(1);
    abort.abort();
    await expect(running).resolves.toBeUndefined();
  });
});
