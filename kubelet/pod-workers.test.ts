import { describe, expect, it } from 'vitest';
import type { Pod } from '../api/core/pod.js';
import { FakeClock } from '../lib/clock.js';
import { gracePeriodOf, PodWorkers, wantsTermination } from './pod-workers.js';
import type { PodSyncHandler } from './pod-workers.js';

function pod(uid: string, extra: { deletion?: boolean; grace?: number; gen?: number } = {}): Pod {
  return {
    metadata: {
      name: `p-${uid}`,
      namespace: 'default',
      uid,
      ...(extra.gen !== undefined ? { generation: extra.gen } : {}),
      ...(extra.deletion ? { deletionTimestamp: '2026-01-01T00:00:00Z', deletionGracePeriodSeconds: extra.grace ?? 30 } : {}),
    },
    spec: { containers: [{ name: 'c', image: 'img' }], terminationGracePeriodSeconds: 7 },
  };
}

type Call = { op: 'sync' | 'terminate' | 'cleanup'; uid: string; gen?: number; grace?: number; removed?: boolean };

class Handler implements PodSyncHandler {
  calls: Call[] = [];
  gate: Promise<void> | undefined;
  stopAfter = 1;
  failSync = 0;
  requeueAfterMs: number | undefined;
  private terminateCount = 0;
  async syncPod(p: Pod): Promise<{ requeueAfterMs?: number }> {
    this.calls.push({ op: 'sync', uid: p.metadata.uid ?? '', ...(p.metadata.generation !== undefined ? { gen: p.metadata.generation } : {}) });
    if (this.gate) await this.gate;
    if (this.failSync > 0) {
      this.failSync--;
      throw new Error('runtime down');
    }
    return this.requeueAfterMs !== undefined ? { requeueAfterMs: this.requeueAfterMs } : {};
  }
  async terminatePod(uid: string, _p: Pod | undefined, grace: number | undefined): Promise<boolean> {
    this.calls.push({ op: 'terminate', uid, ...(grace !== undefined ? { grace } : {}) });
    this.terminateCount++;
    return this.terminateCount >= this.stopAfter;
  }
  async cleanupPod(uid: string, _p: Pod | undefined, removed: boolean): Promise<boolean> {
    this.calls.push({ op: 'cleanup', uid, removed });
    return true;
  }
}

function setup(): { clock: FakeClock; h: Handler; w: PodWorkers } {
  const clock = new FakeClock();
  const h = new Handler();
  const w = new PodWorkers({ handler: h, clock, resyncIntervalMs: 10_000, retryIntervalMs: 1_000 });
  return { clock, h, w };
}

describe('gracePeriodOf', () => {
  it.each([
    ['an explicit override wins', pod('a', { deletion: true, grace: 3 }), 1, 1],
    ['the deletion grace period comes next', pod('a', { deletion: true, grace: 3 }), undefined, 3],
    ['then the spec', pod('a'), undefined, 7],
    ['an orphan without a pod has none', undefined, undefined, undefined],
  ])('%s', (_name, p, override, want) => {
    expect(gracePeriodOf(p, override)).toBe(want);
  });
});

describe('wantsTermination', () => {
  it('is true for a removed pod and for a pod with a deletionTimestamp only', () => {
    expect(wantsTermination({ pod: pod('a'), removed: false })).toBe(false);
    expect(wantsTermination({ pod: pod('a'), removed: true })).toBe(true);
    expect(wantsTermination({ pod: pod('a', { deletion: true }), removed: false })).toBe(true);
  });
});

describe('PodWorkers', () => {
  it('syncs a new pod once', async () => {
    const { h, w } = setup();
    w.update(pod('a'));
    await w.idle();
    expect(h.calls).toEqual([{ op: 'sync', uid: 'a' }]);
  });

  it('keeps only the latest update that arrives while a pass runs', async () => {
    const { h, w } = setup();
    let release!: () => void;
    h.gate = new Promise((r) => (release = r));
    w.update(pod('a', { gen: 1 }));
    await Promise.resolve();
    w.update(pod('a', { gen: 2 }));
    w.update(pod('a', { gen: 3 }));
    h.gate = undefined;
    release();
    await w.idle();
    expect(h.calls.map((c) => c.gen)).toEqual([1, 3]);
  });

  it('runs the workers of different pods independently', async () => {
    const { h, w } = setup();
    let release!: () => void;
    h.gate = new Promise((r) => (release = r));
    w.update(pod('a'));
    h.gate = undefined;
    w.update(pod('b'));
    await new Promise((r) => setImmediate(r));
    expect(h.calls.map((c) => c.uid).sort()).toEqual(['a', 'b']);
    release();
    await w.idle();
  });

  it('resyncs a pod once the resync interval passed, not before', async () => {
    const { clock, h, w } = setup();
    w.update(pod('a'));
    await w.idle();
    await clock.advance(9_000);
    w.tick();
    await w.idle();
    expect(h.calls).toHaveLength(1);
    await clock.advance(1_000);
    w.tick();
    await w.idle();
    expect(h.calls).toHaveLength(2);
  });

  it('syncs again when a pass asked for it before the resync (a back-off window ends)', async () => {
    const { clock, h, w } = setup();
    h.requeueAfterMs = 3_000;
    w.update(pod('a'));
    await w.idle();
    h.requeueAfterMs = undefined;
    await clock.advance(2_000);
    w.tick();
    await w.idle();
    expect(h.calls).toHaveLength(1);
    await clock.advance(1_000);
    w.tick();
    await w.idle();
    expect(h.calls).toHaveLength(2);
    await clock.advance(3_000);
    w.tick();
    await w.idle();
    expect(h.calls).toHaveLength(2); // no requeue asked the second time: back to the periodic resync
  });

  it('retries a failed pass after the retry interval, doubling', async () => {
    const { clock, h, w } = setup();
    h.failSync = 2;
    w.update(pod('a'));
    await w.idle();
    await clock.advance(1_000);
    w.tick();
    await w.idle();
    expect(h.calls).toHaveLength(2);
    await clock.advance(1_000);
    w.tick();
    await w.idle();
    expect(h.calls).toHaveLength(2); // second failure waits 2 s
    await clock.advance(1_000);
    w.tick();
    await w.idle();
    expect(h.calls).toHaveLength(3);
  });

  it('terminates a pod with a deletionTimestamp using its grace period, cleans up, then forgets it', async () => {
    const { h, w } = setup();
    w.update(pod('a'));
    await w.idle();
    w.update(pod('a', { deletion: true, grace: 5 }));
    await w.idle();
    expect(h.calls.slice(1)).toEqual([
      { op: 'terminate', uid: 'a', grace: 5 },
      { op: 'cleanup', uid: 'a', removed: false },
    ]);
    expect(w.has('a')).toBe(false);
  });

  it('retries a termination that left containers running', async () => {
    const { clock, h, w } = setup();
    h.stopAfter = 2;
    w.update(pod('a', { deletion: true, grace: 5 }));
    await w.idle();
    expect(w.info('a')?.state).toBe('terminating');
    await clock.advance(1_000);
    w.tick();
    await w.idle();
    expect(h.calls.map((c) => c.op)).toEqual(['terminate', 'terminate', 'cleanup']);
    expect(w.has('a')).toBe(false);
  });

  it('kills a pod removed from its source with the last known spec', async () => {
    const { h, w } = setup();
    w.update(pod('a'));
    await w.idle();
    w.remove('a');
    await w.idle();
    expect(h.calls.slice(1)).toEqual([
      { op: 'terminate', uid: 'a', grace: 7 },
      { op: 'cleanup', uid: 'a', removed: true },
    ]);
  });

  it('never goes back to syncing once terminating, whatever update follows', async () => {
    const { h, w } = setup();
    let release!: () => void;
    h.gate = new Promise((r) => (release = r));
    w.update(pod('a'));
    await Promise.resolve();
    w.remove('a');
    w.update(pod('a'));
    h.gate = undefined;
    release();
    await w.idle();
    expect(h.calls.map((c) => c.op)).toEqual(['sync', 'terminate', 'cleanup']);
  });

  it('kills an orphan with no pod object and the given grace period', async () => {
    const { h, w } = setup();
    w.killOrphan('z', 2);
    await w.idle();
    expect(h.calls).toEqual([
      { op: 'terminate', uid: 'z', grace: 2 },
      { op: 'cleanup', uid: 'z', removed: true },
    ]);
  });

  it('ignores a trigger for a pod it does not know', async () => {
    const { h, w } = setup();
    w.trigger('nope');
    await w.idle();
    expect(h.calls).toEqual([]);
  });

  it('stops scheduling work once run() is aborted', async () => {
    const { h, w } = setup();
    const ac = new AbortController();
    const running = w.run(ac.signal);
    ac.abort();
    await running;
    w.update(pod('a'));
    await w.idle();
    expect(h.calls).toEqual([]);
  });
});
