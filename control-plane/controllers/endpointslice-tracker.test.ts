import { describe, expect, it } from 'vitest';
import type { EndpointSlice } from '../../api/discovery/endpointslice.js';
import { FakeClock } from '../../lib/clock.js';
import { SliceTracker, rvAtLeast } from './endpointslice-tracker.js';

const slice = (name: string, rv: string, deleting = false): EndpointSlice => ({
  metadata: { name, namespace: 'ns', resourceVersion: rv, ...(deleting ? { deletionTimestamp: 'x' } : {}) },
  addressType: 'IPv4',
  endpoints: [],
});

function setup() {
  const clock = new FakeClock();
  const cache = new Map<string, EndpointSlice>();
  const tracker = new SliceTracker(clock, (_ns, name) => cache.get(name), 30_000);
  return { clock, cache, tracker };
}

describe('rvAtLeast', () => {
  it('compares numeric versions as numbers', () => {
    expect(rvAtLeast('10', '9')).toBe(true);
    expect(rvAtLeast('9', '10')).toBe(false);
    expect(rvAtLeast(undefined, '1')).toBe(false);
    expect(rvAtLeast('abc', 'abc')).toBe(true);
  });
});

describe('SliceTracker', () => {
  it('a created slice is stale until the informer shows it', () => {
    const { tracker } = setup();
    tracker.wrote('ns/web', slice('web-1', '5'));
    expect(tracker.stale('ns/web')).toBe(true);
    tracker.observe('ns/web', slice('web-1', '4'));
    expect(tracker.stale('ns/web')).toBe(true);
    tracker.observe('ns/web', slice('web-1', '5'));
    expect(tracker.stale('ns/web')).toBe(false);
  });
  it('nothing is recorded when the watch was faster than the answer', () => {
    const { tracker, cache } = setup();
    cache.set('web-1', slice('web-1', '6'));
    tracker.wrote('ns/web', slice('web-1', '5'));
    expect(tracker.stale('ns/web')).toBe(false);
  });
  it('a deleted slice is stale until the informer drops it', () => {
    const { tracker, cache } = setup();
    cache.set('web-1', slice('web-1', '5'));
    tracker.deleted('ns/web', 'ns', 'web-1');
    expect(tracker.stale('ns/web')).toBe(true);
    tracker.observeDeleted('ns/web', 'web-1');
    expect(tracker.stale('ns/web')).toBe(false);
  });
  it('a created slice deleted by someone else before we saw it settles too', () => {
    const { tracker } = setup();
    tracker.wrote('ns/web', slice('web-1', '5'));
    tracker.observeDeleted('ns/web', 'web-1');
    expect(tracker.stale('ns/web')).toBe(false);
  });
  it('records expire, so a lost event cannot block a Service', async () => {
    const { tracker, clock } = setup();
    tracker.wrote('ns/web', slice('web-1', '5'));
    await clock.advance(30_001);
    expect(tracker.stale('ns/web')).toBe(false);
  });
  it('records are per Service', () => {
    const { tracker } = setup();
    tracker.wrote('ns/web', slice('web-1', '5'));
    expect(tracker.stale('ns/db')).toBe(false);
    tracker.forget('ns/web');
    expect(tracker.stale('ns/web')).toBe(false);
  });
});
