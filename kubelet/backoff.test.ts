import { describe, expect, it } from 'vitest';
import type { Pod } from '../api/core/pod.js';
import { FakeClock } from '../lib/clock.js';
import { Backoff, BACKOFF_INITIAL_MS, BACKOFF_MAX_MS, formatGoDuration, imagePullBackoffKey, restartBackoffKey } from './backoff.js';

const T0 = Date.UTC(2026, 0, 1);

function fresh(): { clock: FakeClock; b: Backoff } {
  const clock = new FakeClock(T0);
  return { clock, b: new Backoff(clock) };
}

describe('Backoff: restart windows counted from the container finish', () => {
  it('an unknown key is never in back-off', () => {
    const { b } = fresh();
    expect(b.inBackoff('k', T0, T0)).toEqual({ inBackoff: false, remainingMs: 0, delayMs: 0 });
  });

  it('the first failure opens a 10 s window from the finish time', () => {
    const { b } = fresh();
    b.next('k', T0);
    expect(b.inBackoff('k', T0 + 4000, T0)).toEqual({ inBackoff: true, remainingMs: 6000, delayMs: 10_000 });
    expect(b.inBackoff('k', T0 + 10_000, T0).inBackoff).toBe(false);
  });

  it('each further failure doubles the window up to 300 s', async () => {
    const { clock, b } = fresh();
    const seen: number[] = [];
    for (let i = 0; i < 8; i++) {
      b.next('k', clock.now().getTime());
      seen.push(b.delay('k'));
      await clock.advance(1000);
    }
    expect(seen).toEqual([10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000, 300_000]);
  });

  it('a container that ran 10 minutes before failing again starts over at 10 s', async () => {
    const { clock, b } = fresh();
    b.next('k', T0); // started at T0 after a crash
    b.next('k', T0); // 20 s
    await clock.advance(1000); // restarted: lastUpdate = T0+1s
    b.next('k', T0);
    expect(b.delay('k')).toBe(40_000);
    // the next failure comes more than 2 x 300 s after the last restart
    const finishedAt = clock.now().getTime() + 2 * BACKOFF_MAX_MS + 1;
    expect(b.inBackoff('k', finishedAt + 1, finishedAt).inBackoff).toBe(false);
    await clock.advance(2 * BACKOFF_MAX_MS + 2);
    b.next('k', finishedAt);
    expect(b.delay('k')).toBe(BACKOFF_INITIAL_MS);
  });

  it('reset forgets a key and gc drops keys idle for more than 10 minutes', async () => {
    const { clock, b } = fresh();
    b.next('a');
    b.next('b');
    b.reset('a');
    expect(b.delay('a')).toBe(0);
    await clock.advance(2 * BACKOFF_MAX_MS + 1);
    b.next('c');
    b.gc();
    expect(b.size).toBe(1);
    expect(b.delay('c')).toBe(BACKOFF_INITIAL_MS);
  });
});

describe('Backoff: image pull windows counted from the last failed pull', () => {
  it('is in back-off until the window after the last next() has passed', async () => {
    const { clock, b } = fresh();
    b.next('img');
    await clock.advance(3000);
    expect(b.inBackoff('img')).toEqual({ inBackoff: true, remainingMs: 7000, delayMs: 10_000 });
    await clock.advance(7000);
    expect(b.inBackoff('img').inBackoff).toBe(false);
    b.next('img');
    expect(b.inBackoff('img', clock.now().getTime() + 19_999).inBackoff).toBe(true);
  });
});

describe('back-off keys', () => {
  const pod: Pod = { metadata: { name: 'web', namespace: 'ns', uid: 'u1' }, spec: { containers: [] } };
  it('a restart key names the pod, the container and its spec hash, so a new image starts over', () => {
    const a = restartBackoffKey(pod, { name: 'app', image: 'busybox:1' });
    const b = restartBackoffKey(pod, { name: 'app', image: 'busybox:2' });
    expect(a.startsWith('web_ns_u1_app_')).toBe(true);
    expect(a).not.toBe(b);
  });
  it('an image key is <uid>_<image>', () => {
    expect(imagePullBackoffKey('u1', 'busybox:1')).toBe('u1_busybox:1');
  });
});

describe('formatGoDuration prints like Go time.Duration', () => {
  it.each([
    [0, '0s'],
    [500, '500ms'],
    [1500, '1.5s'],
    [10_000, '10s'],
    [80_000, '1m20s'],
    [160_000, '2m40s'],
    [300_000, '5m0s'],
    [3_600_000, '1h0m0s'],
  ])('%i ms -> %s', (ms, want) => {
    expect(formatGoDuration(ms)).toBe(want);
  });
});
