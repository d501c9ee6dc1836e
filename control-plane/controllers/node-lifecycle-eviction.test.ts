import { describe, expect, it } from 'vitest';
import type { Pod } from '../../api/core/pod.js';
import type { Taint, Toleration } from '../../api/core/scheduling.js';
import { FakeClock, rfc3339 } from '../../lib/clock.js';
import { planEvictions, TokenBucket } from './node-lifecycle-eviction.js';
import { TAINT_NOT_READY, TAINT_UNREACHABLE } from './node-lifecycle-taints.js';

const T0 = Date.UTC(2026, 0, 1);
const at = (s: number): string => rfc3339(new Date(T0 + s * 1000));
const pod = (name: string, tolerations: Toleration[] = [], deleting = false): Pod => ({
  metadata: { name, namespace: 'ns', ...(deleting ? { deletionTimestamp: at(0) } : {}) },
  spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'i' }], tolerations },
});
const unreachable = (addedS?: number): Taint => ({ key: TAINT_UNREACHABLE, effect: 'NoExecute', ...(addedS !== undefined ? { timeAdded: at(addedS) } : {}) });
const notReady = (addedS?: number): Taint => ({ key: TAINT_NOT_READY, effect: 'NoExecute', ...(addedS !== undefined ? { timeAdded: at(addedS) } : {}) });
const tol = (key: string, seconds?: number): Toleration => ({ key, operator: 'Exists', effect: 'NoExecute', ...(seconds !== undefined ? { tolerationSeconds: seconds } : {}) });

type Summary = Array<[string, string, number?]>;
const summarize = (d: ReturnType<typeof planEvictions>): Summary =>
  d.map((x) => (x.kind === 'wait' ? [x.pod.metadata.name ?? '', x.kind, (x.atMs - T0) / 1000] : [x.pod.metadata.name ?? '', x.kind]));

describe('planEvictions', () => {
  const cases: Array<[string, Pod[], Taint[], number, Summary]> = [
    ['no NoExecute taint: everyone stays', [pod('a')], [{ key: 'x', effect: 'NoSchedule' }], 10, [['a', 'keep']]],
    ['no toleration: evicted at once', [pod('a')], [unreachable(0)], 0, [['a', 'evict']]],
    ['tolerationSeconds 300 from timeAdded: waits until then', [pod('a', [tol(TAINT_UNREACHABLE, 300)])], [unreachable(10)], 20, [['a', 'wait', 310]]],
    ['... and goes once the time is up', [pod('a', [tol(TAINT_UNREACHABLE, 300)])], [unreachable(10)], 310, [['a', 'evict']]],
    ['tolerated forever (no seconds): stays', [pod('a', [tol(TAINT_UNREACHABLE)])], [unreachable(0)], 9999, [['a', 'keep']]],
    ['tolerate-everything stays', [pod('a', [{ operator: 'Exists' }])], [unreachable(0), notReady(0)], 9999, [['a', 'keep']]],
    ['tolerationSeconds 0 or negative: at once', [pod('a', [tol(TAINT_UNREACHABLE, 0)]), pod('b', [tol(TAINT_UNREACHABLE, -5)])], [unreachable(10)], 10, [['a', 'evict'], ['b', 'evict']]],
    ['one untolerated taint among tolerated ones: at once', [pod('a', [tol(TAINT_UNREACHABLE)])], [unreachable(0), { key: 'maint', effect: 'NoExecute' }], 0, [['a', 'evict']]],
    ['several taints: the earliest deadline wins', [pod('a', [tol(TAINT_UNREACHABLE, 100), tol('maint', 20)])], [unreachable(0), { key: 'maint', effect: 'NoExecute', timeAdded: at(50) }], 60, [['a', 'wait', 70]]],
    ['forever on one taint, 30 s on another: 30 s', [pod('a', [tol(TAINT_UNREACHABLE), tol('maint', 30)])], [unreachable(0), { key: 'maint', effect: 'NoExecute', timeAdded: at(0) }], 1, [['a', 'wait', 30]]],
    ['the FIRST matching toleration decides (upstream GetMatchingTolerations)', [pod('a', [{ operator: 'Exists' }, tol(TAINT_UNREACHABLE, 5)])], [unreachable(0)], 10, [['a', 'keep']]],
    ['pods already being deleted are left out', [pod('a', [], true), pod('b')], [unreachable(0)], 0, [['b', 'evict']]],
  ];
  for (const [name, pods, taints, nowS, expected] of cases) it(name, () => expect(summarize(planEvictions(pods, taints, T0 + nowS * 1000))).toEqual(expected));

  it('a taint without timeAdded counts from when the caller first saw it', () => {
    const d = planEvictions([pod('a', [tol('maint', 30)])], [{ key: 'maint', effect: 'NoExecute' }], T0 + 100_000, () => T0 + 90_000);
    expect(summarize(d)).toEqual([['a', 'wait', 120]]);
  });
});

describe('TokenBucket', () => {
  it('starts full, then gives `rate` tokens per second (FakeClock)', async () => {
    const clock = new FakeClock(T0);
    const now = (): number => clock.now().getTime();
    const b = new TokenBucket(2, 2, now());
    expect([b.tryTake(now()), b.tryTake(now()), b.tryTake(now())]).toEqual([true, true, false]);
    expect(b.waitMs(now())).toBe(500);
    await clock.advance(500);
    expect(b.tryTake(now())).toBe(true);
    expect(b.tryTake(now())).toBe(false);
    await clock.advance(10_000);
    // never more than the burst
    expect([b.tryTake(now()), b.tryTake(now()), b.tryTake(now())]).toEqual([true, true, false]);
  });

  it('0.1 nodes/s with burst 1: one node at once, the next 10 s later', () => {
    const b = new TokenBucket(0.1, 1, T0);
    expect(b.tryTake(T0)).toBe(true);
    expect(b.tryTake(T0 + 9_000)).toBe(false);
    expect(b.tryTake(T0 + 10_000)).toBe(true);
  });

  it('giveBack returns a token, never above the burst', () => {
    const b = new TokenBucket(0.1, 1, T0);
    expect(b.tryTake(T0)).toBe(true);
    b.giveBack();
    b.giveBack();
    expect([b.tryTake(T0), b.tryTake(T0)]).toEqual([true, false]);
  });

  it('rate 0 gives nothing, even when full; setRate brings it back', () => {
    const b = new TokenBucket(0, 1, T0);
    expect(b.tryTake(T0)).toBe(false);
    expect(b.waitMs(T0)).toBe(Number.POSITIVE_INFINITY);
    b.setRate(1, T0);
    expect(b.tryTake(T0)).toBe(true);
  });
});
