import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CompactedError, StoreInUseError, WatchOverflowError } from './errors.js';
import { SqliteStore } from './sqlite-store.js';
import { describeStoreContract, recordWatch } from './store-contract.js';

function tempDir(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'knode-sqlite-store-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

describeStoreContract('SqliteStore', async () => {
  const { dir, remove } = tempDir();
  const store = SqliteStore.open(join(dir, 'state.db'));
  return {
    store,
    cleanup: async () => {
      await store.close();
      remove();
    },
  };
});

describe('SqliteStore specifics', () => {
  let dir: string;
  let remove: () => void;
  let path: string;
  const open: SqliteStore[] = [];
  const openStore = (opts?: Parameters<typeof SqliteStore.open>[1]): SqliteStore => {
    const store = SqliteStore.open(path, opts);
    open.push(store);
    return store;
  };

  beforeEach(() => {
    ({ dir, remove } = tempDir());
    path = join(dir, 'state.db');
  });
  afterEach(async () => {
    for (const store of open.splice(0)) await store.close();
    remove();
  });

  it('keeps data, the revision counter and the compacted revision across close and reopen', async () => {
    const first = openStore();
    const a = await first.create('/a', '1');
    await first.update('/a', '2', a.modRevision);
    await first.create('/b', '1');
    await first.delete('/b');
    await first.compact(3);
    await first.close();

    const second = openStore();
    expect(await second.currentRevision()).toBe(4);
    expect(await second.compactedRevision()).toBe(3);
    expect(await second.get('/a')).toEqual({ key: '/a', value: '2', createRevision: 1, modRevision: 2 });
    expect(await second.get('/b')).toBeUndefined();
    expect(await second.list('', { revision: 2 }).catch((e: unknown) => e)).toBeInstanceOf(CompactedError);
    expect((await second.create('/c', '1')).modRevision).toBe(5);
  });

  it('replays a watch from before the reopen out of the persisted log', async () => {
    const first = openStore();
    await first.create('/w/a', '1');
    await first.create('/w/b', '1');
    await first.close();
    const second = openStore();
    const w = recordWatch(second, '/w/', 0);
    await second.delete('/w/a');
    await w.untilEvents(3);
    expect(w.events.map((e) => `${e.type} ${e.kv.key}@${e.kv.modRevision}`)).toEqual(['put /w/a@1', 'put /w/b@2', 'delete /w/a@3']);
    w.abort();
  });

  it('keeps the revision counter after compacting away a trailing delete, across reopen', async () => {
    const first = openStore();
    await first.create('/t', '1');
    await first.delete('/t');
    await first.compact(2);
    await first.close();
    const second = openStore();
    expect(await second.currentRevision()).toBe(2);
    expect((await second.create('/t', '2')).modRevision).toBe(3);
  });

  it('refuses a second open of the same file with StoreInUseError', () => {
    openStore();
    expect(() => SqliteStore.open(path)).toThrow(StoreInUseError);
  });

  it.each([
    [undefined, 'FULL'],
    ['FULL' as const, 'FULL'],
    ['NORMAL' as const, 'NORMAL'],
  ])('synchronous=%s runs with PRAGMA synchronous=%s, WAL and an exclusive lock', (synchronous, expected) => {
    const store = openStore(synchronous !== undefined ? { synchronous } : {});
    expect(store.settings()).toEqual({ journalMode: 'wal', lockingMode: 'exclusive', synchronous: expected });
  });

  it('compaction removes superseded rows and tombstones from the log', async () => {
    const store = openStore();
    let last = await store.create('/a', '0');
    for (let i = 1; i <= 50; i++) last = await store.update('/a', `${i}`, last.modRevision);
    await store.create('/b', '1');
    await store.delete('/b');
    await store.compact(await store.currentRevision());
    await store.close();
    const db = new Database(path);
    try {
      const rows = db.prepare('SELECT revision, key, deleted FROM log ORDER BY revision').all();
      expect(rows).toEqual([{ revision: 51, key: '/a', deleted: 0 }]);
    } finally {
      db.close();
    }
  });

  it('ends a watcher that falls more than maxWatchQueue events behind with WatchOverflowError', async () => {
    const store = openStore({ maxWatchQueue: 3, synchronous: 'NORMAL' });
    const w = recordWatch(store, '/', 0);
    await Promise.all(Array.from({ length: 4 }, (_, i) => store.create(`/k${i}`, 'v')));
    await w.until(() => w.errors.length > 0, 'overflow');
    expect(w.errors[0]).toBeInstanceOf(WatchOverflowError);
    expect(store.watcherCount).toBe(0);
  });
});
