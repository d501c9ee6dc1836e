/**
 * A store prefix mirrored in memory (the authorizers' caches, the in-process controllers): list once, then follow the store's watch.
 * Each change reaches the consumer as `apply(key, value | undefined)`; after the watch fails (store
 * closed, history compacted, an etcd member lost for good) the mirror lists again and hands the
 * consumer a fresh start (`reset`, then every key). Values are parsed JSON objects.
 *
 * Lag: a change is applied when the store's watch delivers it, a few milliseconds after the write
 * returns; a request racing with a Role change may be judged by the old Role, as upstream's
 * informer-fed RBAC authorizer does.
 */
import type { Clock } from '../../../lib/clock.js';
import type { Store } from '../../storage/store.js';

export interface MirrorConsumer<T> {
  /** Forget everything (before a full relist). */
  reset(): void;
  /** `value` undefined: the key was deleted. */
  apply(key: string, value: T | undefined): void;
}

export interface MirrorLog {
  warn(obj: object, msg: string): void;
}

export class StoreMirror<T> {
  private firstList: Promise<void> | undefined;

  constructor(
    private readonly store: Store,
    private readonly prefix: string,
    private readonly consumer: MirrorConsumer<T>,
    private readonly deps: { readonly clock: Clock; readonly log: MirrorLog; readonly retryMs?: number },
  ) {}

  /**
   * Lists the prefix and starts following it; resolves once the first list is applied (so requests
   * are never judged on an empty mirror). Runs until `signal` aborts.
   */
  start(signal: AbortSignal): Promise<void> {
    this.firstList ??= new Promise<void>((resolve, reject) => {
      void this.loop(signal, resolve, reject);
    });
    return this.firstList;
  }

  private async loop(signal: AbortSignal, listed: () => void, failed: (err: Error) => void): Promise<void> {
    let first = true;
    while (!signal.aborted) {
      try {
        const revision = await this.relist();
        if (first) listed();
        first = false;
        await this.follow(revision, signal);
      } catch (err) {
        if (first) {
          failed(err instanceof Error ? err : new Error(String(err)));
          return;
        }
        if (signal.aborted) return;
        this.deps.log.warn({ prefix: this.prefix, err: String(err) }, 'authorization cache: watch ended, listing again');
      }
      await this.deps.clock.sleep(this.deps.retryMs ?? 1_000, signal).catch(() => undefined);
    }
    // stopped before the first list: nothing to wait for
    if (first) listed();
  }

  private async relist(): Promise<number> {
    const list = await this.store.list(this.prefix);
    this.consumer.reset();
    for (const kv of list.items) this.applyValue(kv.key, kv.value);
    return list.revision;
  }

  private applyValue(key: string, value: string | undefined): void {
    if (value === undefined) return this.consumer.apply(key, undefined);
    let parsed: T;
    try {
      parsed = JSON.parse(value) as T;
    } catch {
      this.deps.log.warn({ key }, 'authorization cache: stored value is not JSON; ignored');
      return this.consumer.apply(key, undefined);
    }
    this.consumer.apply(key, parsed);
  }

  /** Resolves when `signal` aborts, rejects when the watch fails. */
  private follow(fromRevision: number, signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal.aborted) return resolve();
      const stop = new AbortController();
      const onAbort = (): void => {
        stop.abort();
        resolve();
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.store.watch(this.prefix, { fromRevision, signal: stop.signal }, {
        onEvents: (events) => {
          for (const ev of events) this.applyValue(ev.kv.key, ev.type === 'put' ? ev.kv.value : undefined);
        },
        onError: (err) => {
          signal.removeEventListener('abort', onAbort);
          stop.abort();
          reject(err);
        },
      });
    });
  }
}
