import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../lib/clock.js';
import { DelayedRequeue, MAX_TIMER_MS } from './replicaset-requeue.js';

describe('DelayedRequeue', () => {
  it('keeps one timer per key unless an earlier one is asked for', async () => {
    const clock = new FakeClock();
    const added: string[] = [];
    const r = new DelayedRequeue(clock, (k) => added.push(k));
    r.after('a', 10_000, undefined);
    r.after('a', 10_000, undefined);
    r.after('a', 20_000, undefined);
    expect(clock.pendingSleepers()).toBe(1);
    r.after('a', 5_000, undefined);
    expect(clock.pendingSleepers()).toBe(2);
    await clock.advance(5_000);
    expect(added).toEqual(['a']);
    expect(r.size).toBe(0);
    await clock.advance(5_000);
    expect(added).toEqual(['a', 'a']);
  });
  it('drops its timers when the signal aborts', async () => {
    const clock = new FakeClock();
    const ac = new AbortController();
    const added: string[] = [];
    const r = new DelayedRequeue(clock, (k) => added.push(k));
    r.after('a', 1000, ac.signal);
    ac.abort();
    await clock.advance(2000);
    expect(added).toEqual([]);
    expect(r.size).toBe(0);
  });
  it('caps a delay beyond what a Node timer honours (a yearly schedule must not fire at once)', async () => {
    const clock = new FakeClock();
    const added: string[] = [];
    const r = new DelayedRequeue(clock, (k) => added.push(k));
    r.after('a', 365 * 24 * 3600_000, undefined);
    await clock.advance(1000);
    expect(added).toEqual([]);
    await clock.advance(MAX_TIMER_MS);
    expect(added).toEqual(['a']);
  });
});
