/**
 * Watch fan-out for the in-process backends (memory and SQLite): every committed write is published
 * here synchronously, right after its commit, and reaches each watcher whose prefix matches.
 *
 * A watcher goes through two phases:
 * - catching up (fromRevision below the current revision): it reads the backend's history in pages
 *   of `pageSize` events, one page per event-loop turn (setImmediate) so a long replay never starves
 *   I/O. Live writes are ignored meanwhile because the history will contain them. The page that comes
 *   back short is read in the same synchronous step that records the current revision and turns the
 *   watcher live, so there is neither a gap nor a duplicate between history and live events.
 * - live: published events are queued and delivered in a microtask, so an `await`ing writer loop
 *   still lets each batch out before its next write. A batch may span several revisions but never
 *   splits one (each write here is one revision anyway).
 *
 * A slow watcher must not hold back writers or grow memory without bound: when more than `maxQueue`
 * events wait for one watcher it is ended with WatchOverflowError and its queue dropped; the client
 * re-lists and watches again (the apiserver turns this into 410 Gone, as for a compacted revision).
 *
 * Ending: aborting the signal removes the watcher at once, with no further callbacks. Closing the
 * hub (store.close()) delivers what was already queued, then calls onError once. A throwing
 * onEvents ends that watcher with the thrown error. Cost: publish is O(distinct watched prefixes +
 * matching watchers); memory is one array per live watcher holding only undelivered events.
 */
import { CompactedError, WatchOverflowError } from './errors.js';
import type { WatchEvent, WatchHandlers, WatchOptions } from './store.js';

/** What the hub needs from a backend: synchronous reads, so catching up and going live share a tick. */
export interface WatchHistory {
  /** Up to `limit` events under `prefix` with revision > `afterRevision`, in revision order. */
  readEvents(prefix: string, afterRevision: number, limit: number): readonly WatchEvent[];
  currentRevision(): number;
  compactedRevision(): number;
}

export interface WatchHubOptions {
  /** Undelivered events a live watcher may accumulate before it is ended (default 10,000). */
  readonly maxQueue?: number;
  /** Events read from history per catch-up step (default 1,000). */
  readonly pageSize?: number;
}

export const DEFAULT_MAX_WATCH_QUEUE = 10_000;
export const DEFAULT_WATCH_PAGE_SIZE = 1_000;

type Phase = 'catching-up' | 'live' | 'ended';

interface Watcher {
  readonly prefix: string;
  readonly handlers: WatchHandlers;
  phase: Phase;
  /** Highest revision already taken (delivered or queued); later events only. */
  cursor: number;
  queue: WatchEvent[];
  scheduled: boolean;
  /** Set when the watch must end after delivering what is queued. */
  failure: Error | undefined;
  detach: () => void;
}

function hasEnded(watcher: Watcher): boolean {
  return watcher.phase === 'ended';
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

export class WatchHub {
  private readonly byPrefix = new Map<string, Set<Watcher>>();
  private readonly maxQueue: number;
  private readonly pageSize: number;

  constructor(
    private readonly history: WatchHistory,
    opts: WatchHubOptions = {},
  ) {
    this.maxQueue = opts.maxQueue ?? DEFAULT_MAX_WATCH_QUEUE;
    this.pageSize = opts.pageSize ?? DEFAULT_WATCH_PAGE_SIZE;
  }

  /** Number of registered watchers (ended and aborted ones are gone). */
  get size(): number {
    let n = 0;
    for (const set of this.byPrefix.values()) n += set.size;
    return n;
  }

  add(prefix: string, opts: WatchOptions, handlers: WatchHandlers): void {
    if (opts.signal.aborted) return;
    const compacted = this.history.compactedRevision();
    if (opts.fromRevision < compacted) {
      const err = new CompactedError(opts.fromRevision, compacted);
      queueMicrotask(() => handlers.onError(err));
      return;
    }
    const watcher: Watcher = {
      prefix,
      handlers,
      phase: opts.fromRevision >= this.history.currentRevision() ? 'live' : 'catching-up',
      cursor: opts.fromRevision,
      queue: [],
      scheduled: false,
      failure: undefined,
      detach: () => {},
    };
    const onAbort = (): void => this.abort(watcher);
    opts.signal.addEventListener('abort', onAbort, { once: true });
    watcher.detach = () => opts.signal.removeEventListener('abort', onAbort);
    let set = this.byPrefix.get(prefix);
    if (set === undefined) {
      set = new Set();
      this.byPrefix.set(prefix, set);
    }
    set.add(watcher);
    if (watcher.phase === 'catching-up') this.schedule(watcher);
  }

  /** Called by the backend right after a write commits, in commit order. */
  publish(event: WatchEvent): void {
    const revision = event.kv.modRevision;
    for (const [prefix, set] of this.byPrefix) {
      if (!event.kv.key.startsWith(prefix)) continue;
      for (const watcher of set) {
        if (watcher.phase !== 'live' || revision <= watcher.cursor) continue;
        watcher.cursor = revision;
        watcher.queue.push(event);
        if (watcher.queue.length > this.maxQueue) {
          watcher.queue = [];
          this.fail(watcher, new WatchOverflowError(this.maxQueue));
        } else {
          this.schedule(watcher);
        }
      }
    }
  }

  /** Ends every watcher with `err` after delivering what is already queued (used by close()). */
  closeAll(err: Error): void {
    for (const set of [...this.byPrefix.values()]) {
      for (const watcher of set) this.fail(watcher, err);
    }
  }

  private unregister(watcher: Watcher): void {
    const set = this.byPrefix.get(watcher.prefix);
    if (set === undefined) return;
    set.delete(watcher);
    if (set.size === 0) this.byPrefix.delete(watcher.prefix);
  }

  private abort(watcher: Watcher): void {
    this.unregister(watcher);
    watcher.phase = 'ended';
    watcher.queue = [];
    watcher.detach();
  }

  private fail(watcher: Watcher, err: Error): void {
    if (watcher.phase === 'ended' || watcher.failure !== undefined) return;
    watcher.failure = err;
    // No more events can join the queue; the pump flushes it and reports the error.
    this.unregister(watcher);
    this.schedule(watcher);
  }

  private schedule(watcher: Watcher): void {
    if (watcher.scheduled) return;
    watcher.scheduled = true;
    if (watcher.phase === 'catching-up' && watcher.failure === undefined) {
      setImmediate(() => this.pump(watcher));
    } else {
      queueMicrotask(() => this.pump(watcher));
    }
  }

  private pump(watcher: Watcher): void {
    watcher.scheduled = false;
    if (watcher.phase === 'ended') return;
    if (watcher.phase === 'catching-up' && watcher.failure === undefined) this.catchUp(watcher);
    const batch = watcher.queue;
    watcher.queue = [];
    if (batch.length > 0) {
      try {
        watcher.handlers.onEvents(batch);
      } catch (err) {
        this.fail(watcher, asError(err));
      }
    }
    // onEvents may have aborted the watch (TypeScript cannot see that, hence the helper).
    if (hasEnded(watcher)) return;
    if (watcher.failure !== undefined) {
      if (watcher.queue.length > 0) {
        this.schedule(watcher);
        return;
      }
      watcher.phase = 'ended';
      watcher.detach();
      watcher.handlers.onError(watcher.failure);
      return;
    }
    if (watcher.phase === 'catching-up' || watcher.queue.length > 0) this.schedule(watcher);
  }

  /** Reads the next page of history into the queue; turns the watcher live once it is caught up. */
  private catchUp(watcher: Watcher): void {
    const compacted = this.history.compactedRevision();
    if (watcher.cursor < compacted) {
      this.fail(watcher, new CompactedError(watcher.cursor, compacted));
      return;
    }
    let page: readonly WatchEvent[];
    try {
      page = this.history.readEvents(watcher.prefix, watcher.cursor, this.pageSize);
    } catch (err) {
      this.fail(watcher, asError(err));
      return;
    }
    const last = page[page.length - 1];
    if (page.length < this.pageSize) {
      // Same synchronous step as the read: no write can slip between history and live events.
      watcher.phase = 'live';
      watcher.cursor = Math.max(watcher.cursor, this.history.currentRevision());
    } else if (last !== undefined) {
      watcher.cursor = last.kv.modRevision;
    }
    watcher.queue.push(...page);
  }
}
