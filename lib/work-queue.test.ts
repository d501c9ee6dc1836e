import { describe, expect, it } from 'vitest';
import { FakeClock } from './clock.js';
import { WorkQueue } from './work-queue.js';

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('WorkQueue', () => {
  it('queues an item added twice before it is taken only once', async () => {
    const q = new WorkQueue<string>(new FakeClock());
    q.add('a');
    q.add('a');
    q.add('b');
    expect(q.length).toBe(2);
    const seen: string[] = [];
    const abort = new AbortController();
    const done = q.process(abort.signal, async (item) => {
      seen.push(item);
      if (seen.length === 2) abort.abort();
    }, () => undefined);
    await done;
    expect(seen).toEqual(['a', 'b']);
  });

  it.each([
    { failures: 1, delay: 5 },
    { failures: 2, delay: 10 },
    { failures: 5, delay: 80 },
    { failures: 30, delay: 60_000 },
  ])('waits $delay ms before retry number $failures', ({ failures, delay }) => {
    expect(new WorkQueue<string>(new FakeClock()).backoff(failures)).toBe(delay);
  });

  it('retries a failed item after its back-off and forgets failures on success', async () => {
    const clock = new FakeClock();
    const q = new WorkQueue<string>(clock, 100, 1000);
    const abort = new AbortController();
    let calls = 0;
    const errors: unknown[] = [];
    const done = q.process(abort.signal, async () => {
      calls++;
      if (calls < 3) throw new Error(`fail ${calls}`);
    }, (_item, err) => errors.push(err));
    q.add('x');
    await tick();
    expect(calls).toBe(1);
    expect(q.failureCount('x')).toBe(1);
    await clock.advance(99);
    expect(calls).toBe(1);
    await clock.advance(1);
    await tick();
    expect(calls).toBe(2);
    await clock.advance(200);
    await tick();
    expect(calls).toBe(3);
    expect(q.failureCount('x')).toBe(0);
    expect(errors).toHaveLength(2);
    abort.abort();
    await done;
  });

  it('addAfter adds the item only once the delay has passed', async () => {
    const clock = new FakeClock();
    const q = new WorkQueue<string>(clock);
    q.addAfter('later', 500);
    await clock.advance(499);
    expect(q.length).toBe(0);
    await clock.advance(1);
    expect(q.length).toBe(1);
  });

  it('stops an idle process loop when the signal aborts', async () => {
    const q = new WorkQueue<string>(new FakeClock());
    const abort = new AbortController();
    const done = q.process(abort.signal, async () => undefined, () => undefined);
    await tick();
    abort.abort();
    await expect(done).resolves.toBeUndefined();
  });
});
