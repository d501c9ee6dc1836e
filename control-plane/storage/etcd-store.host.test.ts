import { afterEach, describe, expect, it } from 'vitest';
import { startEtcd } from '../../test/helpers/etcd.js';
import type { EtcdCluster } from '../../test/helpers/etcd.js';
import { EtcdClient } from './etcd/client.js';
import { EtcdStore } from './etcd-store.js';
import { KeyExistsError, StoreError } from './errors.js';
import { describeStoreContract, recordWatch } from './store-contract.js';

// Every contract test gets a fresh single-member etcd (~0.5 s to start), so revisions start from
// an empty cluster as the contract expects.
describeStoreContract('EtcdStore (real etcd)', async () => {
  const etcd = await startEtcd();
  let store: EtcdStore;
  try {
    store = await EtcdStore.connect({ endpoints: etcd.endpoints });
  } catch (err) {
    await etcd.stop(); // a store that cannot connect must not leave its etcd running
    throw err;
  }
  return {
    store,
    cleanup: async () => {
      await store.close();
      await etcd.stop();
    },
  };
});

describe('EtcdStore specifics', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  async function cluster(members: number): Promise<EtcdCluster> {
    const etcd = await startEtcd({ members });
    cleanups.push(() => etcd.stop());
    return etcd;
  }
  async function connect(endpoints: readonly string[], extra: { watchResumeMs?: number; watchFeedEvents?: number } = {}): Promise<EtcdStore> {
    const store = await EtcdStore.connect({ endpoints, requestTimeoutMs: 10_000, ...extra });
    cleanups.push(() => store.close());
    return store;
  }

  it('stores keys as etcd keys, values verbatim, and resourceVersion = mod_revision - 1', async () => {
    const etcd = await cluster(1);
    const store = await connect(etcd.endpoints);
    const created = await store.create('/registry/configmaps/default/a', '{"x":1}');
    const raw = await EtcdClient.create({ endpoints: etcd.endpoints });
    try {
      const res = await raw.range({ key: Buffer.from('/registry/configmaps/default/a') });
      expect(res.kvs).toHaveLength(1);
      expect(res.kvs[0]!.value.toString()).toBe('{"x":1}');
      expect(res.kvs[0]!.mod_revision).toBe(created.modRevision + 1);
    } finally {
      raw.close();
    }
  });

  it('two stores on one cluster see each other: one revision sequence, one winner of a race', async () => {
    const etcd = await cluster(1);
    const a = await connect(etcd.endpoints);
    const b = await connect(etcd.endpoints);
    const w = recordWatch(b, '/shared/', await b.currentRevision());
    const results = await Promise.allSettled([a.create('/shared/k', 'from-a'), b.create('/shared/k', 'from-b')]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const lost = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(lost.reason).toBeInstanceOf(KeyExistsError);
    await w.untilEvents(1);
    expect(w.events[0]!.kv.value).toBe((await a.get('/shared/k'))!.value);
    // A compaction by one is seen by the other (it asks etcd, it is not told).
    await a.create('/shared/l', '1');
    await a.compact(await a.currentRevision());
    expect(await b.compactedRevision()).toBe(await a.currentRevision());
    w.abort();
  });

  it('a three-member cluster keeps serving writes, reads and a running watch when the connected member dies', async () => {
    const etcd = await cluster(3);
    const store = await connect(etcd.endpoints);
    const w = recordWatch(store, '/ha/', await store.currentRevision());
    await store.create('/ha/1', 'a');
    await w.untilEvents(1);
    // pick_first connects to the first endpoint that answers: the first member.
    await etcd.members[0]!.kill();
    // Calls in flight at the kill may fail (not retried, see the client); the next ones go to another member.
    let created = false;
    for (let i = 0; i < 50 && !created; i++) {
      try {
        await store.create('/ha/2', 'b');
        created = true;
      } catch (err) {
        if (err instanceof KeyExistsError) created = true;
        else expect(err).toBeInstanceOf(StoreError);
      }
    }
    expect(created).toBe(true);
    await store.create('/ha/3', 'c');
    expect((await store.list('/ha/')).items.map((i) => i.value)).toEqual(['a', 'b', 'c']);
    // The watch resumed on another member from the last revision it delivered: no gap, no duplicate.
    await w.untilEvents(3);
    expect(w.events.map((e) => `${e.kv.key}=${e.kv.value}`)).toEqual(['/ha/1=a', '/ha/2=b', '/ha/3=c']);
    expect(w.errors).toEqual([]);
    w.abort();
  }, 60_000);

  it('a watch ends with an error naming the prefix when no member comes back in time', async () => {
    const etcd = await cluster(1);
    const store = await connect(etcd.endpoints, { watchResumeMs: 1_000 });
    const w = recordWatch(store, '/gone/', await store.currentRevision());
    await store.create('/gone/1', 'a');
    await w.untilEvents(1);
    await etcd.members[0]!.kill();
    await w.until(() => w.errors.length > 0, 'the watch to give up');
    expect(w.errors[0]).toBeInstanceOf(StoreError);
    expect(w.errors[0]!.message).toContain('/gone/');
  }, 30_000);

  it('many watchers share the feed; one starting before what the feed holds gets its own stream, and all see the same', async () => {
    const etcd = await cluster(1);
    const store = await connect(etcd.endpoints, { watchFeedEvents: 5 });
    const start = await store.currentRevision();
    const first = recordWatch(store, '/f/', start); // starts the feed at `start`
    for (let i = 0; i < 10; i++) await store.create(`/f/${i}`, `${i}`);
    await first.untilEvents(10);
    // The feed now holds only the last 5 events: a watcher from `start` needs history it dropped.
    const late = recordWatch(store, '/f/', start);
    const recent = recordWatch(store, '/f/', start + 7);
    const many = Array.from({ length: 30 }, () => recordWatch(store, '/f/', start + 10));
    for (let i = 10; i < 15; i++) await store.create(`/f/${i}`, `${i}`);
    await late.untilEvents(15);
    await recent.untilEvents(8);
    for (const w of many) await w.untilEvents(5);
    const values = (w: typeof first): string[] => w.events.map((e) => e.kv.value);
    expect(values(first)).toEqual(Array.from({ length: 15 }, (_, i) => `${i}`));
    expect(values(late)).toEqual(values(first));
    expect(values(recent)).toEqual(values(first).slice(7));
    for (const w of many) expect(values(w)).toEqual(['10', '11', '12', '13', '14']);
    for (const w of [first, late, recent, ...many]) {
      expect(w.errors).toEqual([]);
      w.abort();
    }
  });

  it('refuses to start against an address where no etcd answers, naming it', async () => {
    const err = await EtcdStore.connect({ endpoints: ['http://127.0.0.1:1'], dialTimeoutMs: 1_000 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toContain('http://127.0.0.1:1');
    expect((err as { code?: string }).code).toBe('ERR_ETCD_UNAVAILABLE');
  });
});

describe('EtcdStore over TLS', () => {
  it('talks to members that require a client certificate, and names the problem without one', async () => {
    const { readFile } = await import('node:fs/promises');
    const etcd = await startEtcd({ tls: true });
    try {
      const tls = etcd.tls!;
      const [ca, cert, key] = await Promise.all([readFile(tls.caFile), readFile(tls.certFile), readFile(tls.keyFile)]);
      const store = await EtcdStore.connect({ endpoints: etcd.endpoints, tls: { ca, cert, key } });
      try {
        const created = await store.create('/registry/secure', 'v');
        expect(await store.get('/registry/secure')).toEqual(created);
      } finally {
        await store.close();
      }
      // Without the client certificate the members refuse the handshake: no member answers.
      const err = await EtcdStore.connect({ endpoints: etcd.endpoints, tls: { ca }, dialTimeoutMs: 2_000 }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect((err as { code?: string }).code).toBe('ERR_ETCD_UNAVAILABLE');
      expect((err as Error).message).toContain(etcd.endpoints[0]);
      // http:// endpoints with TLS files is a mistake worth naming.
      await expect(EtcdStore.connect({ endpoints: ['http://127.0.0.1:2379'], tls: { ca } })).rejects.toThrow('use https:// URLs');
    } finally {
      await etcd.stop();
    }
  }, 30_000);
});
