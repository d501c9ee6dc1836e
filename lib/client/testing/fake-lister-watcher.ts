/**
 * A ListerWatcher driven by the test: queue list answers (or failures) with `nextList`, then drive each
 * watch the informer opens through the channel `waitForWatch` returns (push events, end, fail). Watches
 * honour their abort signal like the real one. Records every list call and the resourceVersion of
 * every watch.
 */
import type { KubeObject } from '../../../api/meta.js';
import type { ListerWatcher, ListResult } from '../informer.js';
import type { WatchEvent } from '../watch-decoder.js';

export class WatchChannel<T extends KubeObject> {
  private readonly queue: Array<WatchEvent<T>> = [];
  private done = false;
  private failure: unknown;
  private wake: (() => void) | undefined;

  constructor(readonly resourceVersion: string) {}

  push(ev: WatchEvent<T>): void {
    this.queue.push(ev);
    this.poke();
  }
  end(): void {
    this.done = true;
    this.poke();
  }
  fail(err: unknown): void {
    this.failure = err;
    this.done = true;
    this.poke();
  }
  private poke(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  async *events(signal: AbortSignal): AsyncGenerator<WatchEvent<T>> {
    for (;;) {
      const ev = this.queue.shift();
      if (ev !== undefined) {
        yield ev;
        continue;
      }
      if (this.done) {
        if (this.failure !== undefined) throw this.failure;
        return;
      }
      if (signal.aborted) return;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        signal.addEventListener('abort', () => resolve(), { once: true });
      });
    }
  }
}

export class FakeListerWatcher<T extends KubeObject> implements ListerWatcher<T> {
  listCalls = 0;
  readonly watches: Array<WatchChannel<T>> = [];
  private readonly lists: Array<ListResult<T> | Error> = [];
  private readonly watchWaiters: Array<() => void> = [];

  nextList(result: ListResult<T> | Error): void {
    this.lists.push(result);
  }

  async list(): Promise<ListResult<T>> {
    this.listCalls++;
    const next = this.lists.shift();
    if (next === undefined) throw new Error('no list answer queued');
    if (next instanceof Error) throw next;
    return next;
  }

  watch(resourceVersion: string, signal: AbortSignal): AsyncIterable<WatchEvent<T>> {
    const ch = new WatchChannel<T>(resourceVersion);
    this.watches.push(ch);
    for (const w of this.watchWaiters.splice(0)) w();
    return ch.events(signal);
  }

  /** The n-th watch (1-based) once the informer has opened it. */
  async waitForWatch(n: number): Promise<WatchChannel<T>> {
    while (this.watches.length < n) await new Promise<void>((resolve) => this.watchWaiters.push(resolve));
    const ch = this.watches[n - 1];
    if (ch === undefined) throw new Error(`watch ${n} missing`);
    return ch;
  }
}
