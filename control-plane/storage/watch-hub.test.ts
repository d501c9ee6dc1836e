import { describe, expect, it } from 'vitest';
import { CompactedError, StoreClosedError, WatchOverflowError } from './errors.js';
import type { WatchEvent, WatchHandlers } from './store.js';
import { WatchHub, type WatchHistory } from './watch-hub.js';

/** A history the test writes to directly: event i has revision i + 1. */
class FakeHistory implements WatchHistory {
  readonly events: WatchEvent[] = [];
  compacted = 0;
  failReads: Error | undefined;
  readEvents(prefix: string, after: number, limit: number): readonly WatchEvent[] {
    if (this.failReads) throw this.failReads;
    return this.events.filter((e) => e.kv.modRevision > after && e.kv.key.startsWith(prefix)).slice(0, limit);
  }
  currentRevision(): number {
    return this.events.length;
  }
  compactedRevision(): number {
    return this.compacted;
  }
  /** Appends a put and returns it, without publishing. */
  append(key: string): WatchEvent {
    const revision = this.events.length + 1;
    const event: WatchEvent = { type: 'put', kv: { key, value: `v${revision}`, createRevision: revision, modRevision: revision } };
    this.events.push(event);
    return event;
  }
}

function setup(opts: { maxQueue?: number; pageSize?: number } = {}) {
  const history = new FakeHistory();
  const hub = new WatchHub(history, opts);
  const write = (key: string): void => hub.publish(history.append(key));
  return { history, hub, write };
}

interface Recorded {
  revisions: number[];
  errors: Error[];
  handlers: WatchHandlers;
  settled: Promise<void>;
}

/** Records deliveries; `settled` resolves on the first error. */
function recorder(onBatch?: (batch: readonly WatchEvent[]) => void): Recorded {
  const revisions: number[] = [];
  const errors: Error[] = [];
  let resolve = (): void => {};
  const settled = new Promise<void>((r) => (resolve = r));
  return {
    revisions,
    errors,
    settled,
    handlers: {
      onEvents: (batch) => {
        revisions.push(...batch.map((e) => e.kv.modRevision));
        onBatch?.(batch);
      },
      onError: (err) => {
        errors.push(err);
        resolve();
      },
    },
  };
}

/** Waits until every pending catch-up page and delivery has run. */
const drain = async (): Promise<void> => {
  for (let i = 0; i < 10; i++) await new Promise<void>((r) => setImmediate(r));
};

describe('WatchHub', () => {
  it('closeAll delivers what was queued, then reports the error once', async () => {
    const { hub, write } = setup();
    const r = recorder();
    hub.add('/', { fromRevision: 0, signal: new AbortController().signal }, r.handlers);
    write('/a');
    write('/b');
    hub.closeAll(new StoreClosedError());
    write('/c');
    await r.settled;
    expect(r.revisions).toEqual([1, 2]);
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toBeInstanceOf(StoreClosedError);
    expect(hub.size).toBe(0);
  });

  it('ends only the watcher whose onEvents throws, with the thrown error', async () => {
    const { hub, write } = setup();
    const bad = recorder(() => {
      throw new Error('consumer bug');
    });
    const good = recorder();
    hub.add('/', { fromRevision: 0, signal: new AbortController().signal }, bad.handlers);
    hub.add('/', { fromRevision: 0, signal: new AbortController().signal }, good.handlers);
    write('/a');
    await bad.settled;
    write('/b');
    await drain();
    expect(bad.errors.map((e) => e.message)).toEqual(['consumer bug']);
    expect(bad.revisions).toEqual([1]);
    expect(good.revisions).toEqual([1, 2]);
    expect(good.errors).toEqual([]);
  });

  it('fails a catching-up watcher with CompactedError when compaction overtakes it', async () => {
    const { history, hub } = setup({ pageSize: 2 });
    for (let i = 0; i < 10; i++) history.append(`/k${i}`);
    const r = recorder(() => {
      history.compacted = 8; // compacted right after the first page was delivered
    });
    hub.add('/', { fromRevision: 0, signal: new AbortController().signal }, r.handlers);
    await r.settled;
    expect(r.revisions).toEqual([1, 2]);
    expect(r.errors[0]).toBeInstanceOf(CompactedError);
    expect(r.errors[0]).toMatchObject({ requested: 2, compacted: 8 });
  });

  it('reports a history read failure through onError', async () => {
    const { history, hub } = setup();
    history.append('/a');
    history.failReads = new Error('disk I/O error');
    const r = recorder();
    hub.add('/', { fromRevision: 0, signal: new AbortController().signal }, r.handlers);
    await r.settled;
    expect(r.errors.map((e) => e.message)).toEqual(['disk I/O error']);
    expect(hub.size).toBe(0);
  });

  it('stops at once when onEvents aborts its own watch', async () => {
    const { hub, write } = setup();
    const controller = new AbortController();
    const r = recorder(() => controller.abort());
    hub.add('/', { fromRevision: 0, signal: controller.signal }, r.handlers);
    write('/a');
    await drain();
    write('/b');
    await drain();
    expect(r.revisions).toEqual([1]);
    expect(r.errors).toEqual([]);
    expect(hub.size).toBe(0);
  });

  it('drops the queue of an overflowing watcher and reports WatchOverflowError with the limit', async () => {
    const { hub, write } = setup({ maxQueue: 2 });
    const r = recorder();
    hub.add('/', { fromRevision: 0, signal: new AbortController().signal }, r.handlers);
    write('/a');
    write('/b');
    write('/c');
    await r.settled;
    expect(r.revisions).toEqual([]);
    expect(r.errors[0]).toBeInstanceOf(WatchOverflowError);
    expect(r.errors[0]).toMatchObject({ limit: 2, code: 'ERR_STORE_WATCH_OVERFLOW' });
  });

  it('ignores live events while catching up and takes them from history instead, once each', async () => {
    const { history, hub, write } = setup({ pageSize: 2 });
    for (let i = 0; i < 5; i++) history.append(`/k${i}`);
    const r = recorder();
    hub.add('/', { fromRevision: 1, signal: new AbortController().signal }, r.handlers);
    write('/live1'); // revision 6, published while the watcher has not read anything yet
    await drain();
    write('/live2'); // revision 7, after it went live
    await drain();
    expect(r.revisions).toEqual([2, 3, 4, 5, 6, 7]);
  });

  it('reports CompactedError for a start below the compacted revision, asynchronously', async () => {
    const { history, hub } = setup();
    history.append('/a');
    history.append('/b');
    history.compacted = 2;
    const r = recorder();
    hub.add('/', { fromRevision: 1, signal: new AbortController().signal }, r.handlers);
    expect(r.errors).toEqual([]);
    await r.settled;
    expect(r.errors[0]).toBeInstanceOf(CompactedError);
    expect(hub.size).toBe(0);
  });
});
