/**
 * An informer: a local cache of one resource (optionally narrowed by namespace and selectors) kept in
 * step with the apiserver by one LIST followed by a WATCH from the list's resourceVersion, as
 * client-go's reflector does. Consumers read the cache (`get`, `list`) and react to onAdd/onUpdate/
 * onDelete; `hasSynced()` turns true once the first list is in the cache.
 *
 * Recovery: a watch that ends normally (server timeout) is resumed from the last resourceVersion seen
 * (bookmarks keep it fresh on quiet resources); a 410 Expired (compacted history) re-lists at once and
 * turns the difference into events (`planReplace`); any other failure is retried after a jittered
 * exponential back-off on the injected Clock. The loop never throws; it ends when its signal aborts.
 *
 * Cost model: memory = the objects of the selection; one long-lived watch per informer (share them
 * through SharedInformerFactory); a re-list costs one paginated LIST plus O(n) comparison.
 */
import type { KubeObject } from '../../api/meta.js';
import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import { ClientApiError } from './errors.js';
import type { WatchEvent } from './watch-decoder.js';

export interface ListResult<T extends KubeObject> {
  readonly items: readonly T[];
  readonly resourceVersion: string;
}

/** Where an informer gets its data: the apiserver over HTTPS (list-watch.ts) or in-process. */
export interface ListerWatcher<T extends KubeObject> {
  list(signal: AbortSignal): Promise<ListResult<T>>;
  /** Changes after `resourceVersion`, with bookmarks; ends when the source closes the stream. */
  watch(resourceVersion: string, signal: AbortSignal): AsyncIterable<WatchEvent<T>>;
}

export interface InformerHandlers<T extends KubeObject> {
  onAdd?(obj: T): void;
  onUpdate?(oldObj: T, newObj: T): void;
  onDelete?(obj: T): void;
}

export interface BackoffPolicy {
  readonly initialMs: number;
  readonly maxMs: number;
  /** Each delay is stretched by up to this fraction, so many agents do not retry in lockstep. */
  readonly jitter: number;
}

/** client-go's reflector uses 800 ms doubling to 30 s; we keep those figures. */
export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 800, maxMs: 30_000, jitter: 0.5 };

export interface InformerOptions {
  readonly clock: Clock;
  readonly log?: Logger;
  /** Names the informer in logs, e.g. `nodes`. */
  readonly name?: string;
  readonly backoff?: BackoffPolicy;
  /** Uniform in [0, 1); injected so tests get fixed delays. */
  readonly random?: () => number;
}

/** The cache key: `namespace/name`, or `name` for cluster-scoped objects (client-go's MetaNamespaceKeyFunc). */
export function keyOf(obj: KubeObject): string {
  const ns = obj.metadata.namespace;
  const name = obj.metadata.name ?? '';
  return ns !== undefined && ns !== '' ? `${ns}/${name}` : name;
}

/** The delay before retry number `failures` (1-based). Pure. */
export function backoffDelay(failures: number, policy: BackoffPolicy, random: number): number {
  const base = Math.min(policy.initialMs * 2 ** Math.max(failures - 1, 0), policy.maxMs);
  return Math.round(base * (1 + policy.jitter * random));
}

export type CacheChange<T extends KubeObject> =
  | { readonly type: 'add'; readonly key: string; readonly obj: T }
  | { readonly type: 'update'; readonly key: string; readonly old: T; readonly obj: T }
  | { readonly type: 'delete'; readonly key: string; readonly old: T };

/**
 * Pure: the events that turn `cache` into exactly `items` after a re-list. An object whose
 * resourceVersion did not change is not reported; one that vanished is a delete.
 */
export function planReplace<T extends KubeObject>(cache: ReadonlyMap<string, T>, items: readonly T[]): CacheChange<T>[] {
  const changes: CacheChange<T>[] = [];
  const seen = new Set<string>();
  for (const obj of items) {
    const key = keyOf(obj);
    seen.add(key);
    const old = cache.get(key);
    if (old === undefined) changes.push({ type: 'add', key, obj });
    else if (old.metadata.resourceVersion !== obj.metadata.resourceVersion) changes.push({ type: 'update', key, old, obj });
  }
  for (const [key, old] of cache) if (!seen.has(key)) changes.push({ type: 'delete', key, old });
  return changes;
}

type WatchOutcome = 'ended' | 'expired';

/** A watch that ends this fast without delivering anything counts as a failure, so a server that closes every watch at once is not hammered. */
const MIN_WATCH_MS = 1000;

export class Informer<T extends KubeObject> {
  private readonly cache = new Map<string, T>();
  private readonly handlers = new Set<InformerHandlers<T>>();
  private readonly syncWaiters: Array<() => void> = [];
  private synced = false;
  private rv = '';
  private running = false;

  constructor(
    private readonly source: ListerWatcher<T>,
    private readonly opts: InformerOptions,
  ) {}

  /** Registers handlers; objects already cached are replayed to onAdd. Returns the unregister function. */
  addEventHandler(h: InformerHandlers<T>): () => void {
    this.handlers.add(h);
    for (const obj of this.cache.values()) this.safely(() => h.onAdd?.(obj));
    return () => {
      this.handlers.delete(h);
    };
  }

  hasSynced(): boolean {
    return this.synced;
  }

  /** Resolves once the first list is cached; rejects with the signal's reason if it aborts first. */
  waitForSync(signal?: AbortSignal): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const onAbort = (): void => reject(signal?.reason);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.syncWaiters.push(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      });
    });
  }

  get(key: string): T | undefined {
    return this.cache.get(key);
  }

  getByName(name: string, namespace?: string): T | undefined {
    return this.cache.get(namespace !== undefined && namespace !== '' ? `${namespace}/${name}` : name);
  }

  list(): T[] {
    return [...this.cache.values()];
  }

  /** The resourceVersion the cache reflects (last list, event or bookmark). */
  lastSyncResourceVersion(): string {
    return this.rv;
  }

  /** Lists and watches until `signal` aborts. Call once. */
  async run(signal: AbortSignal): Promise<void> {
    if (this.running) throw new Error('informer is already running');
    this.running = true;
    const policy = this.opts.backoff ?? DEFAULT_BACKOFF;
    const random = this.opts.random ?? Math.random;
    let failures = 0;
    let needList = true;
    while (!signal.aborted) {
      try {
        if (needList) {
          const listed = await this.source.list(signal);
          this.replace(listed.items, listed.resourceVersion);
          needList = false;
        }
        const started = this.opts.clock.now().getTime();
        const { outcome, events } = await this.watchOnce(signal);
        if (outcome === 'expired') needList = true;
        if (outcome === 'ended' && events === 0 && this.opts.clock.now().getTime() - started < MIN_WATCH_MS && !signal.aborted) {
          throw new Error('watch closed at once without delivering anything');
        }
        failures = 0;
      } catch (err) {
        if (signal.aborted) break;
        failures++;
        // a 410 on the watch request itself (or on a paginated list) also means: list again
        if (err instanceof ClientApiError && err.httpCode === 410) needList = true;
        const delay = backoffDelay(failures, policy, random());
        this.opts.log?.warn({ informer: this.opts.name, err: err instanceof Error ? err.message : String(err), retryInMs: delay, relist: needList }, 'list/watch failed');
        try {
          await this.opts.clock.sleep(delay, signal);
        } catch {
          break;
        }
      }
    }
    this.running = false;
  }

  private async watchOnce(signal: AbortSignal): Promise<{ outcome: WatchOutcome; events: number }> {
    let events = 0;
    for await (const ev of this.source.watch(this.rv, signal)) {
      events++;
      switch (ev.type) {
        case 'ADDED':
        case 'MODIFIED': {
          const key = keyOf(ev.object);
          const old = this.cache.get(key);
          this.cache.set(key, ev.object);
          this.rv = ev.object.metadata.resourceVersion ?? this.rv;
          if (old === undefined) this.emit((h) => h.onAdd?.(ev.object));
          else this.emit((h) => h.onUpdate?.(old, ev.object));
          break;
        }
        case 'DELETED': {
          this.cache.delete(keyOf(ev.object));
          this.rv = ev.object.metadata.resourceVersion ?? this.rv;
          this.emit((h) => h.onDelete?.(ev.object));
          break;
        }
        case 'BOOKMARK':
          this.rv = ev.object.metadata.resourceVersion;
          break;
        case 'ERROR':
          if (ev.object.code === 410) return { outcome: 'expired', events };
          throw new ClientApiError(ev.object, 'WATCH', this.opts.name ?? '');
        default: {
          const never: never = ev;
          throw new Error(`unknown watch event ${JSON.stringify(never)}`);
        }
      }
      if (signal.aborted) break;
    }
    return { outcome: 'ended', events };
  }

  private replace(items: readonly T[], resourceVersion: string): void {
    for (const change of planReplace(this.cache, items)) {
      switch (change.type) {
        case 'add':
          this.cache.set(change.key, change.obj);
          this.emit((h) => h.onAdd?.(change.obj));
          break;
        case 'update':
          this.cache.set(change.key, change.obj);
          this.emit((h) => h.onUpdate?.(change.old, change.obj));
          break;
        case 'delete':
          this.cache.delete(change.key);
          this.emit((h) => h.onDelete?.(change.old));
          break;
        default: {
          const never: never = change;
          throw new Error(`unknown cache change ${JSON.stringify(never)}`);
        }
      }
    }
    this.rv = resourceVersion;
    if (!this.synced) {
      this.synced = true;
      for (const w of this.syncWaiters.splice(0)) w();
    }
  }

  private emit(call: (h: InformerHandlers<T>) => void): void {
    for (const h of this.handlers) this.safely(() => call(h));
  }

  /** A handler that throws must not stop the cache from following the server. */
  private safely(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.opts.log?.error({ informer: this.opts.name, err: err instanceof Error ? err.message : String(err) }, 'informer event handler failed');
    }
  }
}
