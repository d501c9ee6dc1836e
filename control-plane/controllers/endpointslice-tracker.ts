/**
 * The EndpointSlice controller's own writes its informer has not shown yet (upstream's
 * endpointSliceTracker). A sync that planned from a cache missing a slice it just created would
 * create a second one; so after each write the controller records what the cache must show (a slice
 * at least at the written resourceVersion, or a deleted slice gone), events clear the records, and a
 * Service with records left is not synced until they clear: the informer event that clears the last
 * one queues the Service again.
 *
 * resourceVersions are compared as numbers: knode's (the store's revision) and etcd's are; upstream
 * compares the generation, which knode does not bump on objects without a spec. A record older than
 * `ttlMs` is dropped, so a write whose event was lost to a re-list cannot block a Service forever.
 */
import type { EndpointSlice } from '../../api/discovery/endpointslice.js';
import type { Clock } from '../../lib/clock.js';

interface Expectation {
  /** undefined: the slice must be gone. */
  readonly resourceVersion: string | undefined;
  readonly at: number;
}

/** `a` is at least as new as `b`. */
export function rvAtLeast(a: string | undefined, b: string): boolean {
  if (a === undefined) return false;
  if (/^[0-9]+$/.test(a) && /^[0-9]+$/.test(b)) return BigInt(a) >= BigInt(b);
  return a === b;
}

export class SliceTracker {
  private readonly expected = new Map<string, Map<string, Expectation>>();

  constructor(
    private readonly clock: Clock,
    /** The informer cache's view of a slice. */
    private readonly cached: (namespace: string, name: string) => EndpointSlice | undefined,
    private readonly ttlMs = 30_000,
  ) {}

  /** After a create or update answered with `slice`. */
  wrote(serviceKey: string, slice: EndpointSlice): void {
    const { namespace = '', name = '', resourceVersion = '' } = slice.metadata;
    // the watch may have been faster than the answer
    if (rvAtLeast(this.cached(namespace, name)?.metadata.resourceVersion, resourceVersion)) return;
    this.set(serviceKey, name, { resourceVersion, at: this.clock.now().getTime() });
  }

  /** After a delete answered (or said NotFound). */
  deleted(serviceKey: string, namespace: string, name: string): void {
    const c = this.cached(namespace, name);
    if (c === undefined || c.metadata.deletionTimestamp !== undefined) return;
    this.set(serviceKey, name, { resourceVersion: undefined, at: this.clock.now().getTime() });
  }

  /** An informer add or update. */
  observe(serviceKey: string, slice: EndpointSlice): void {
    const name = slice.metadata.name ?? '';
    const e = this.expected.get(serviceKey)?.get(name);
    if (e === undefined) return;
    const done = e.resourceVersion === undefined ? slice.metadata.deletionTimestamp !== undefined : rvAtLeast(slice.metadata.resourceVersion, e.resourceVersion);
    if (done) this.clear(serviceKey, name);
  }

  /** An informer delete: whatever was expected of that slice is settled. */
  observeDeleted(serviceKey: string, name: string): void {
    this.clear(serviceKey, name);
  }

  /** Whether the cache still lacks some of this Service's writes. */
  stale(serviceKey: string): boolean {
    const m = this.expected.get(serviceKey);
    if (m === undefined) return false;
    const now = this.clock.now().getTime();
    for (const [name, e] of m) if (now - e.at > this.ttlMs) m.delete(name);
    if (m.size === 0) this.expected.delete(serviceKey);
    return m.size > 0;
  }

  forget(serviceKey: string): void {
    this.expected.delete(serviceKey);
  }

  private set(serviceKey: string, name: string, e: Expectation): void {
    let m = this.expected.get(serviceKey);
    if (m === undefined) {
      m = new Map();
      this.expected.set(serviceKey, m);
    }
    m.set(name, e);
  }

  private clear(serviceKey: string, name: string): void {
    const m = this.expected.get(serviceKey);
    if (m === undefined) return;
    m.delete(name);
    if (m.size === 0) this.expected.delete(serviceKey);
  }
}
