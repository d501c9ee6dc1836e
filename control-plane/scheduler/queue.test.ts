import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../lib/clock.js';
import type { FilterPlugin } from './filters.js';
import { eventMayHelp, SchedulingQueue } from './queue.js';
import type { QueuedPod } from './queue.js';
import { makePod, mutated } from './test-fixtures.js';

const signal = new AbortController().signal;
const opts = { initialBackoffMs: 1000, maxBackoffMs: 10_000, maxUnschedulableMs: 60_000 };

async function popKey(q: SchedulingQueue): Promise<QueuedPod> {
  const p = await q.pop(signal);
  if (p === undefined) throw new Error('queue closed');
  return p;
}

const plugins = (...p: FilterPlugin[]): ReadonlySet<FilterPlugin> => new Set(p);

describe('SchedulingQueue', () => {
  it('pops by priority, then oldest first, and de-duplicates', async () => {
    const clock = new FakeClock();
    const q = new SchedulingQueue(clock, opts);
    q.add(makePod('a'), 'default/a');
    await clock.advance(1);
    q.add(mutated(makePod('b'), (p) => void (p.spec.priority = 10)), 'default/b');
    await clock.advance(1);
    q.add(makePod('c'), 'default/c');
    q.add(makePod('a'), 'default/a');
    expect(q.pending().active).toBe(3);
    expect([(await popKey(q)).key, (await popKey(q)).key, (await popKey(q)).key]).toEqual(['default/b', 'default/a', 'default/c']);
  });

  it('keeps an unschedulable pod until an event that may help, then honours its back-off', async () => {
    const clock = new FakeClock();
    const q = new SchedulingQueue(clock, opts);
    q.add(makePod('p'), 'default/p');
    const p = await popKey(q);
    q.addUnschedulable(p, plugins('TaintToleration'));
    expect(q.has('default/p')).toBe('unschedulable');
    expect(q.moveOnEvent('AssignedPodDelete')).toBe(0); // a deleted pod removes no taint
    expect(q.has('default/p')).toBe('unschedulable');
    expect(q.moveOnEvent('NodeAdd')).toBe(1);
    expect(q.has('default/p')).toBe('backoff'); // first failure: 1 s back-off
    await clock.advance(999);
    q.flushBackoffCompleted();
    expect(q.has('default/p')).toBe('backoff');
    await clock.advance(1);
    q.flushBackoffCompleted();
    expect(q.has('default/p')).toBe('active');
  });

  it('moves a resource-starved pod when an assigned pod is deleted', async () => {
    const clock = new FakeClock();
    const q = new SchedulingQueue(clock, opts);
    q.add(makePod('p'), 'default/p');
    q.addUnschedulable(await popKey(q), plugins('NodeResourcesFit'));
    await clock.advance(5000);
    expect(q.moveOnEvent('AssignedPodDelete')).toBe(1);
    expect(q.has('default/p')).toBe('active');
  });

  it('sends a pod that failed after an event during its cycle to backoff, not unschedulable', async () => {
    const clock = new FakeClock();
    const q = new SchedulingQueue(clock, opts);
    q.add(makePod('p'), 'default/p');
    const p = await popKey(q);
    q.moveOnEvent('NodeAdd'); // arrives while p is being scheduled
    q.addUnschedulable(p, plugins('NodeResourcesFit'));
    expect(q.has('default/p')).toBe('backoff');
  });

  it('doubles the back-off per attempt up to the maximum', async () => {
    const clock = new FakeClock();
    const q = new SchedulingQueue(clock, opts);
    q.add(makePod('p'), 'default/p');
    const delays: number[] = [];
    for (let i = 0; i < 6; i++) {
      const p = await popKey(q);
      q.addBackoff(p);
      delays.push(q.backoffExpiry(p) - clock.now().getTime());
      await clock.advance(delays[i] ?? 0);
      q.flushBackoffCompleted();
    }
    expect(delays).toEqual([1000, 2000, 4000, 8000, 10_000, 10_000]);
  });

  it('flushes pods unschedulable for longer than the maximum, whatever happened', async () => {
    const clock = new FakeClock();
    const q = new SchedulingQueue(clock, opts);
    const abort = new AbortController();
    const flushing = q.run(abort.signal);
    q.add(makePod('p'), 'default/p');
    q.addUnschedulable(await popKey(q), plugins('TaintToleration'));
    await clock.advance(59_000);
    expect(q.has('default/p')).toBe('unschedulable');
    await clock.advance(2_000);
    expect(q.has('default/p')).toBe('active');
    abort.abort();
    await flushing;
  });

  it('retries an unschedulable pod at once when its spec changes, not when only its status does', async () => {
    const clock = new FakeClock();
    const q = new SchedulingQueue(clock, opts);
    const pod = makePod('p');
    q.add(pod, 'default/p');
    q.addUnschedulable(await popKey(q), plugins('TaintToleration'));
    await clock.advance(2000);
    q.update(mutated(pod, (p) => void (p.status = { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False' }] })), 'default/p');
    expect(q.has('default/p')).toBe('unschedulable');
    q.update(mutated(pod, (p) => void (p.spec.tolerations = [{ operator: 'Exists' }])), 'default/p');
    expect(q.has('default/p')).toBe('active');
  });

  it('forgets deleted pods wherever they wait', async () => {
    const clock = new FakeClock();
    const q = new SchedulingQueue(clock, opts);
    q.add(makePod('a'), 'default/a');
    q.add(makePod('b'), 'default/b');
    q.delete('default/a');
    expect((await popKey(q)).key).toBe('default/b');
    expect(q.pending()).toEqual({ active: 0, backoff: 0, unschedulable: 0 });
  });

  it('pop waits for an add and returns undefined on abort', async () => {
    const q = new SchedulingQueue(new FakeClock(), opts);
    const abort = new AbortController();
    const waiting = q.pop(abort.signal);
    q.add(makePod('late'), 'default/late');
    expect((await waiting)?.key).toBe('default/late');
    const idle = q.pop(abort.signal);
    abort.abort();
    expect(await idle).toBeUndefined();
  });
});

describe('eventMayHelp', () => {
  it.each<[string, Parameters<typeof eventMayHelp>[0], FilterPlugin[], boolean]>([
    ['a new node may help anything', 'NodeAdd', ['TaintToleration'], true],
    ['a deleted pod frees resources', 'AssignedPodDelete', ['NodeResourcesFit'], true],
    ['a deleted pod frees ports', 'AssignedPodDelete', ['NodePorts'], true],
    ['a new pod cannot free resources', 'AssignedPodAdd', ['NodeResourcesFit'], false],
    ['a new pod may satisfy affinity', 'AssignedPodAdd', ['InterPodAffinity'], true],
    ['a pod with no recorded failure moves on any event', 'AssignedPodUpdate', [], true],
  ])('%s', (_n, event, failed, want) => {
    expect(eventMayHelp(event, new Set(failed))).toBe(want);
  });
});
