import { describe, expect, it } from 'vitest';
import { FakeClock } from '../lib/clock.js';
import { StreamProgress } from './progress.js';

describe('StreamProgress', () => {
  it('prints the step title first and the outcome with its duration', async () => {
    let out = '';
    const clock = new FakeClock();
    const p = new StreamProgress((t) => (out += t), clock);
    const r = p.step(3, 9, 'starting containerd on w1');
    expect(out).toBe('[3/9] starting containerd on w1 ... ');
    await clock.advance(400);
    r.ok();
    p.step(8, 9, 'starting knode agent on w1').skipped('not yet');
    p.step(9, 9, 'x').failed(new Error('boom'));
    expect(out.split('\n')).toEqual([
      '[3/9] starting containerd on w1 ... ok (0.4s)',
      '[8/9] starting knode agent on w1 ... skipped (not yet)',
      '[9/9] x ... FAILED (0.0s): boom',
      '',
    ]);
  });
});
