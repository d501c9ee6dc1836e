import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../lib/clock.js';
import { Expectations, slowStartBatch } from './replicaset-expectations.js';

describe('Expectations', () => {
  it('a key never recorded is satisfied', () => {
    expect(new Expectations(new FakeClock()).satisfied('ns/web')).toBe(true);
  });
  it('creates: satisfied once every create is observed', () => {
    const e = new Expectations(new FakeClock());
    e.expectCreations('ns/web', 2);
    expect(e.satisfied('ns/web')).toBe(false);
    e.creationObserved('ns/web');
    expect(e.satisfied('ns/web')).toBe(false);
    e.creationObserved('ns/web');
    expect(e.satisfied('ns/web')).toBe(true);
  });
  it('creates that failed are lowered at once', () => {
    const e = new Expectations(new FakeClock());
    e.expectCreations('ns/web', 5);
    e.creationObserved('ns/web', 5);
    expect(e.satisfied('ns/web')).toBe(true);
  });
  it('deletes: each expected pod counts once (deletionTimestamp, then gone)', () => {
    const e = new Expectations(new FakeClock());
    e.expectDeletions('ns/web', ['ns/a', 'ns/b']);
    e.deletionObserved('ns/web', 'ns/a');
    e.deletionObserved('ns/web', 'ns/a');
    e.deletionObserved('ns/web', 'ns/unrelated');
    expect(e.pending('ns/web')).toEqual({ add: 0, del: 1 });
    e.deletionObserved('ns/web', 'ns/b');
    expect(e.satisfied('ns/web')).toBe(true);
  });
  it('a record older than 5 minutes no longer blocks', async () => {
    const clock = new FakeClock();
    const e = new Expectations(clock);
    e.expectCreations('ns/web', 1);
    await clock.advance(5 * 60_000);
    expect(e.satisfied('ns/web')).toBe(false);
    await clock.advance(1);
    expect(e.satisfied('ns/web')).toBe(true);
  });
  it('delete forgets the key', () => {
    const e = new Expectations(new FakeClock());
    e.expectCreations('ns/web', 1);
    e.delete('ns/web');
    expect(e.satisfied('ns/web')).toBe(true);
  });
});

describe('slowStartBatch', () => {
  async function run(count: number, failAt?: number): Promise<{ batches: number[]; successes: number; failed: boolean }> {
    const batches: number[] = [];
    let calls = 0;
    let inFlight = 0;
    let maxInFlight = 0;
    let started = 0;
    const result = await slowStartBatch(count, 1, async () => {
      calls++;
      const n = calls;
      inFlight++;
      started++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((r) => setImmediate(r));
      inFlight--;
      if (inFlight === 0) {
        batches.push(started);
        started = 0;
      }
      if (n === failAt) throw new Error(`create ${n} failed`);
    });
    return { batches, successes: result.successes, failed: result.error !== undefined };
  }
  it('issues 1, 2, 4, ... in parallel, the last batch what is left', async () => {
    expect(await run(10)).toEqual({ batches: [1, 2, 4, 3], successes: 10, failed: false });
    expect((await run(500)).batches).toEqual([1, 2, 4, 8, 16, 32, 64, 128, 245]);
  });
  it('stops after the batch in which something failed', async () => {
    expect(await run(100, 2)).toEqual({ batches: [1, 2], successes: 2, failed: true });
  });
  it('zero is nothing', async () => {
    expect(await run(0)).toEqual({ batches: [], successes: 0, failed: false });
  });
});
