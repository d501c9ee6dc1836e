/**
 * MemoryStore: the Store fake for unit tests, with the real semantics (global revisions, history,
 * list at an old revision, watch from the past, compaction, conflicts, close), so code tested
 * against it behaves the same on SQLite or etcd. It passes the same contract suite.
 *
 * Layout: `live` maps each key to its current value; `history` keeps every version of every key
 * (tombstones included) since the last compaction, oldest first; `sortedKeys` lists the keys that
 * have history, in key order, for range scans; `log` holds the watch events of revisions
 * compacted+1..current, one per revision, so the event of revision r sits at log[r - compacted - 1].
 *
 * Cost: get O(1); list O(log k + keys in range) (old revisions add a binary search per key);
 * writes O(1) except the first write of a key, an O(k) sorted insert; compaction O(total history).
 * Every operation runs synchronously when called, so writes are linearised in call order.
 */
import { ConflictError, FutureRevisionError, KeyExistsError, KeyNotFoundError, StoreClosedError } from './errors.js';
import { compareKeys, effectiveLimit, inRange, rangeFor, resolveReadRevision } from './ranges.js';
import type { KeyValue, ListOptions, ListResult, Store, WatchEvent, WatchHandlers, WatchOptions } from './store.js';
import { WatchHub, type WatchHubOptions } from './watch-hub.js';

/** One version of a key: its value from `revision` on, or undefined if it was deleted then. */
interface Version {
  readonly revision: number;
  readonly kv: KeyValue | undefined;
}

export interface MemoryStoreOptions {
  /** See WatchHubOptions.maxQueue. */
  readonly maxWatchQueue?: number;
  /** See WatchHubOptions.pageSize. */
  readonly watchPageSize?: number;
}

function lowerBound(keys: readonly string[], key: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareKeys(keys[mid] ?? '', key) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The value of a key as of `revision`, from its versions (oldest first). */
function versionAt(versions: readonly Version[], revision: number): KeyValue | undefined {
  let lo = 0;
  let hi = versions.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((versions[mid]?.revision ?? 0) <= revision) lo = mid + 1;
    else hi = mid;
  }
  return lo === 0 ? undefined : versions[lo - 1]?.kv;
}

export class MemoryStore implements Store {
  private revision = 0;
  private compacted = 0;
  private closed = false;
  private readonly live = new Map<string, KeyValue>();
  private readonly history = new Map<string, Version[]>();
  private sortedKeys: string[] = [];
  private log: WatchEvent[] = [];
  private readonly hub: WatchHub;

  constructor(opts: MemoryStoreOptions = {}) {
    const hubOpts: WatchHubOptions = {
      ...(opts.maxWatchQueue !== undefined ? { maxQueue: opts.maxWatchQueue } : {}),
      ...(opts.watchPageSize !== undefined ? { pageSize: opts.watchPageSize } : {}),
    };
    this.hub = new WatchHub(
      {
        readEvents: (prefix, after, limit) => this.readEvents(prefix, after, limit),
        currentRevision: () => this.revision,
        compactedRevision: () => this.compacted,
      },
      hubOpts,
    );
  }

  /** Registered watchers, for tests that check aborts clean up. */
  get watcherCount(): number {
    return this.hub.size;
  }

  async get(key: string): Promise<KeyValue | undefined> {
    this.checkOpen();
    return this.live.get(key);
  }

  async list(prefix: string, opts: ListOptions = {}): Promise<ListResult> {
    this.checkOpen();
    const revision = resolveReadRevision(opts.revision, this.revision, this.compacted);
    const range = rangeFor(prefix, opts.startKey);
    const limit = effectiveLimit(opts.limit);
    const items: KeyValue[] = [];
    let total = 0;
    for (let i = lowerBound(this.sortedKeys, range.start); i < this.sortedKeys.length; i++) {
      const key = this.sortedKeys[i] ?? '';
      if (!inRange(key, range)) break;
      const kv = revision === this.revision ? this.live.get(key) : versionAt(this.history.get(key) ?? [], revision);
      if (kv === undefined) continue;
      total++;
      if (items.length < limit) items.push(kv);
    }
    const remaining = total - items.length;
    return { items, revision, more: remaining > 0, remaining };
  }

  async count(prefix: string): Promise<number> {
    return (await this.list(prefix)).items.length;
  }

  async create(key: string, value: string): Promise<KeyValue> {
    this.checkOpen();
    if (this.live.has(key)) throw new KeyExistsError(key);
    const revision = this.revision + 1;
    const kv = Object.freeze({ key, value, createRevision: revision, modRevision: revision });
    this.commit(kv.key, kv, { type: 'put', kv });
    return kv;
  }

  async update(key: string, value: string, expectedRevision: number): Promise<KeyValue> {
    this.checkOpen();
    const prev = this.live.get(key);
    if (prev === undefined) throw new KeyNotFoundError(key);
    if (prev.modRevision !== expectedRevision) throw new ConflictError(key, expectedRevision, prev);
    const kv = Object.freeze({ key, value, createRevision: prev.createRevision, modRevision: this.revision + 1 });
    this.commit(key, kv, { type: 'put', kv, prev });
    return kv;
  }

  async delete(key: string, expectedRevision?: number): Promise<KeyValue> {
    this.checkOpen();
    const prev = this.live.get(key);
    if (prev === undefined) throw new KeyNotFoundError(key);
    if (expectedRevision !== undefined && prev.modRevision !== expectedRevision) {
      throw new ConflictError(key, expectedRevision, prev);
    }
    const kv = Object.freeze({ ...prev, modRevision: this.revision + 1 });
    this.commit(key, undefined, { type: 'delete', kv, prev });
    return kv;
  }

  watch(prefix: string, opts: WatchOptions, handlers: WatchHandlers): void {
    if (this.closed) {
      if (!opts.signal.aborted) queueMicrotask(() => handlers.onError(new StoreClosedError()));
      return;
    }
    this.hub.add(prefix, opts, handlers);
  }

  async compact(revision: number): Promise<void> {
    this.checkOpen();
    if (revision <= this.compacted) return;
    if (revision > this.revision) throw new FutureRevisionError(revision, this.revision);
    const keep: string[] = [];
    for (const key of this.sortedKeys) {
      const versions = this.history.get(key) ?? [];
      // The newest version at or below the compaction point stays readable, unless it is a tombstone.
      let firstKept = 0;
      while ((versions[firstKept + 1]?.revision ?? Number.POSITIVE_INFINITY) <= revision) firstKept++;
      const base = versions[firstKept];
      const dropBase = base !== undefined && base.revision <= revision && base.kv === undefined;
      const kept = versions.slice(dropBase ? firstKept + 1 : firstKept);
      if (kept.length === 0) {
        this.history.delete(key);
      } else {
        this.history.set(key, kept);
        keep.push(key);
      }
    }
    this.sortedKeys = keep;
    this.log = this.log.slice(revision - this.compacted);
    this.compacted = revision;
  }

  async currentRevision(): Promise<number> {
    this.checkOpen();
    return this.revision;
  }

  async compactedRevision(): Promise<number> {
    this.checkOpen();
    return this.compacted;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.hub.closeAll(new StoreClosedError());
  }

  private readEvents(prefix: string, afterRevision: number, limit: number): readonly WatchEvent[] {
    const out: WatchEvent[] = [];
    for (let i = Math.max(0, afterRevision - this.compacted); i < this.log.length && out.length < limit; i++) {
      const event = this.log[i];
      if (event !== undefined && event.kv.key.startsWith(prefix)) out.push(event);
    }
    return out;
  }

  private checkOpen(): void {
    if (this.closed) throw new StoreClosedError();
  }

  private commit(key: string, kv: KeyValue | undefined, event: WatchEvent): void {
    const revision = ++this.revision;
    if (kv === undefined) this.live.delete(key);
    else this.live.set(key, kv);
    let versions = this.history.get(key);
    if (versions === undefined) {
      versions = [];
      this.history.set(key, versions);
      this.sortedKeys.splice(lowerBound(this.sortedKeys, key), 0, key);
    }
    versions.push({ revision, kv });
    this.log.push(Object.freeze(event));
    this.hub.publish(event);
  }
}
