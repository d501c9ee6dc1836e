/**
 * Watches on etcd, two ways:
 *
 * - `resumableWatch`: one etcd Watch stream over a key range from a revision, handed over one
 *   revision at a time. When the stream breaks (the member went away), it is opened again on
 *   whichever member the channel reaches, from the last revision handed over, so the consumer sees
 *   no gap and no duplicate; after `resumeMs` without a member answering it ends with an error.
 *
 * - `WatchFeed`: what the apiserver's watchers share, so N watchers cost one etcd stream instead of
 *   N (each decoding every event; 100 watchers x 200 writes took seconds per event before). The feed
 *   is one resumable watch over the whole key space, started at the first watcher's revision, and
 *   keeps the last `maxEvents` events (at most `maxBytes` of keys and values) in memory. A watcher joins when its start revision is within
 *   what the feed holds or later: it gets the held events after its revision under its prefix, then
 *   the live ones. A watcher starting before that (a client resuming from an old resourceVersion)
 *   gets its own resumable watch instead. Same idea as kube-apiserver's watch cache, without the
 *   cached object state (lists still go to etcd).
 *
 * Revisions here are knode revisions (etcd's minus one); the conversion is in `toEtcd`/`fromEtcd`.
 */
import { CompactedError, StoreError } from '../errors.js';
import type { WatchEvent, WatchHandlers } from '../store.js';
import type { EtcdClient, EtcdEvent, EtcdKeyValue, WatchResponse, WatchStream } from './client.js';

/** etcd revision of knode revision r (etcd's empty store is its revision 1, knode's 0). */
export const toEtcd = (rev: number): number => rev + 1;
/** knode revision of etcd revision r. */
export const fromEtcd = (rev: number): number => rev - 1;

/** The smallest key greater than every key starting with `prefix` (etcd's range end); "\0" = to the end. */
export function prefixEnd(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i] = end[i]! + 1;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]);
}

/** etcd's range over every key under `prefix` ('' = the whole key space). */
export function prefixRange(prefix: string): { key: Buffer; rangeEnd: Buffer } {
  const p = Buffer.from(prefix);
  return { key: p.length === 0 ? Buffer.from([0]) : p, rangeEnd: prefixEnd(p) };
}

export function toKeyValue(kv: EtcdKeyValue): WatchEvent['kv'] {
  return { key: kv.key.toString('utf8'), value: kv.value.toString('utf8'), createRevision: fromEtcd(kv.create_revision), modRevision: fromEtcd(kv.mod_revision) };
}

/** An etcd event as the Store's event; pure. */
export function toWatchEvent(e: EtcdEvent): WatchEvent {
  if (e.type === 'PUT') {
    return e.prev_kv ? { type: 'put', kv: toKeyValue(e.kv), prev: toKeyValue(e.prev_kv) } : { type: 'put', kv: toKeyValue(e.kv) };
  }
  // etcd's delete event carries only the key and the deletion revision; the last value is prev_kv.
  const prev = e.prev_kv ? toKeyValue(e.prev_kv) : { key: e.kv.key.toString('utf8'), value: '', createRevision: 0, modRevision: 0 };
  return { type: 'delete', kv: { ...prev, modRevision: fromEtcd(e.kv.mod_revision) }, prev };
}

/** Splits events into runs of one revision each, in order; pure. */
export function byRevision(events: readonly WatchEvent[]): WatchEvent[][] {
  const out: WatchEvent[][] = [];
  for (const e of events) {
    const last = out[out.length - 1];
    if (last !== undefined && last[0]!.kv.modRevision === e.kv.modRevision) last.push(e);
    else out.push([e]);
  }
  return out;
}

export interface ResumableWatchOptions {
  readonly prefix: string;
  /** Events with a revision above this one. */
  readonly fromRevision: number;
  /** How long a broken stream may stay unresumed before the watch ends with an error. */
  readonly resumeMs: number;
  /** One revision's events, in revision order. */
  readonly onBatch: (batch: readonly WatchEvent[]) => void;
  /** Called once when the watch cannot go on (compacted, cancelled by etcd, no member for resumeMs). */
  readonly onEnd: (err: Error) => void;
}

export interface RunningWatch {
  /** Stops the watch; onEnd is not called. */
  cancel(): void;
}

export function resumableWatch(client: EtcdClient, opts: ResumableWatchOptions): RunningWatch {
  const { key, rangeEnd } = prefixRange(opts.prefix);
  let delivered = opts.fromRevision;
  let stream: WatchStream | undefined;
  let over = false;
  let retry: NodeJS.Timeout | undefined;
  let giveUp: NodeJS.Timeout | undefined; // runs while the stream is broken and not yet resumed

  const stop = (): void => {
    over = true;
    clearTimeout(retry);
    clearTimeout(giveUp);
    stream?.cancel();
  };
  const fail = (err: Error): void => {
    if (over) return;
    stop();
    opts.onEnd(err);
  };

  const open = (): void => {
    if (over) return;
    const s = client.watch();
    stream = s;
    s.on('data', (res: WatchResponse) => {
      if (over || stream !== s) return;
      clearTimeout(giveUp);
      giveUp = undefined;
      if (res.compact_revision > 0) {
        fail(new CompactedError(delivered, fromEtcd(res.compact_revision)));
        return;
      }
      if (res.canceled) {
        fail(new StoreError('ERR_ETCD_WATCH', `etcd cancelled the watch on ${JSON.stringify(opts.prefix)}: ${res.cancel_reason || 'no reason given'}`));
        return;
      }
      for (const batch of byRevision(res.events.map(toWatchEvent))) {
        if (over) return;
        delivered = batch[0]!.kv.modRevision;
        opts.onBatch(batch);
      }
    });
    // The member went away (or reset the stream): open it again from what was handed over, on
    // whichever member the channel reaches; give up if none answers within resumeMs.
    const broken = (why: string): void => {
      if (over || stream !== s) return;
      giveUp ??= setTimeout(() => {
        fail(new StoreError('ERR_ETCD_WATCH', `etcd watch ${opts.prefix === '' ? 'feed (all keys)' : `on ${JSON.stringify(opts.prefix)}`} broke (${why}) and no member resumed it within ${opts.resumeMs / 1000} s`));
      }, opts.resumeMs);
      clearTimeout(retry);
      retry = setTimeout(open, 200);
    };
    s.on('error', (err: Error) => broken(err.message));
    s.on('end', () => broken('the member ended the stream'));
    s.write({ create_request: { key, range_end: rangeEnd, start_revision: toEtcd(delivered + 1), prev_kv: true } });
  };
  open();
  return { cancel: stop };
}

interface Subscriber {
  readonly prefix: string;
  readonly handlers: WatchHandlers;
  /** The last revision handed to it. */
  cursor: number;
}

/** Hands `batch` to `sub` (the events under its prefix after its cursor); false if its handler threw. */
function deliver(sub: Subscriber, batch: readonly WatchEvent[]): boolean {
  const revision = batch[0]!.kv.modRevision;
  if (revision <= sub.cursor) return true;
  sub.cursor = revision;
  const mine = batch.filter((e) => e.kv.key.startsWith(sub.prefix));
  if (mine.length === 0) return true;
  try {
    sub.handlers.onEvents(mine);
    return true;
  } catch (err) {
    sub.handlers.onError(err instanceof Error ? err : new Error(String(err)));
    return false;
  }
}

export interface WatchFeedOptions {
  readonly resumeMs: number;
  /** Events kept for watchers that join late (default 10,000)... */
  readonly maxEvents?: number;
  /** ...and at most this many bytes of their keys and values (default 8 MiB). */
  readonly maxBytes?: number;
}

/** Bytes of keys and values an event holds (what the feed's memory grows with). */
function eventBytes(e: WatchEvent): number {
  return e.kv.key.length + e.kv.value.length + (e.prev?.value.length ?? 0);
}

export class WatchFeed {
  private readonly held: Array<{ readonly batch: WatchEvent[]; readonly bytes: number }> = [];
  private heldEvents = 0;
  private heldBytes = 0;
  /** Every event after this revision up to `head` is held. */
  private heldFrom: number;
  /** The last revision the feed has handed over. */
  private head: number;
  private readonly subscribers = new Set<Subscriber>();
  private readonly running: RunningWatch;
  private ended = false;

  constructor(
    client: EtcdClient,
    fromRevision: number,
    private readonly opts: WatchFeedOptions,
    /** Called once when the feed stops for good (the store then starts a new one on demand). */
    private readonly onEnd: () => void,
  ) {
    this.heldFrom = fromRevision;
    this.head = fromRevision;
    this.running = resumableWatch(client, {
      prefix: '',
      fromRevision,
      resumeMs: opts.resumeMs,
      onBatch: (batch) => this.publish(batch),
      onEnd: (err) => this.end(err),
    });
  }

  /** Whether a watcher from `fromRevision` can be served from this feed. */
  covers(fromRevision: number): boolean {
    return !this.ended && fromRevision >= this.heldFrom;
  }

  /**
   * Adds a watcher (the caller checked `covers`): the held events after its revision are handed over
   * at once, in this call (grpc-js may deliver the next live batch in any later microtask, so a replay
   * deferred to a microtask could come after it), then it follows the feed. The caller must not be
   * inside Store.watch() itself (the store joins from a later turn). Returns the function that
   * removes it.
   */
  join(prefix: string, fromRevision: number, handlers: WatchHandlers): () => void {
    const sub: Subscriber = { prefix, handlers, cursor: fromRevision };
    for (const h of this.held) {
      if (!deliver(sub, h.batch)) return () => {};
    }
    sub.cursor = Math.max(sub.cursor, this.head);
    this.subscribers.add(sub);
    return () => {
      this.subscribers.delete(sub);
    };
  }

  private publish(batch: readonly WatchEvent[]): void {
    this.head = batch[0]!.kv.modRevision;
    const bytes = batch.reduce((n, e) => n + eventBytes(e), 0);
    this.held.push({ batch: [...batch], bytes });
    this.heldEvents += batch.length;
    this.heldBytes += bytes;
    const maxEvents = this.opts.maxEvents ?? 10_000;
    const maxBytes = this.opts.maxBytes ?? 8 * 1024 * 1024;
    while ((this.heldEvents > maxEvents || this.heldBytes > maxBytes) && this.held.length > 1) {
      const dropped = this.held.shift()!;
      this.heldEvents -= dropped.batch.length;
      this.heldBytes -= dropped.bytes;
      this.heldFrom = dropped.batch[0]!.kv.modRevision;
    }
    for (const sub of [...this.subscribers]) {
      if (!deliver(sub, batch)) this.subscribers.delete(sub);
    }
  }

  /** Ends every watcher with `err` (the feed broke, or the store closed) and stops the stream. */
  end(err: Error): void {
    if (this.ended) return;
    this.ended = true;
    this.running.cancel();
    const subs = [...this.subscribers];
    this.subscribers.clear();
    this.onEnd();
    for (const sub of subs) {
      // A broken or cancelled feed is named for each watcher's own prefix; a compaction stays a CompactedError.
      const own = err instanceof StoreError && err.code === 'ERR_ETCD_WATCH' ? new StoreError('ERR_ETCD_WATCH', `watch on ${JSON.stringify(sub.prefix)} ended: ${err.message}`, { cause: err }) : err;
      try {
        sub.handlers.onError(own);
      } catch {
        // one watcher's failing handler must not keep the others from hearing the end
      }
    }
  }
}
