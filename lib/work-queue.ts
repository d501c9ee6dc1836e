/**
 * A de-duplicating work queue with per-item exponential back-off, as controllers use upstream: an item
 * added while queued is queued once; an item that fails is retried after `baseDelayMs` (5 ms), doubling
 * up to `maxDelayMs` (60 s); success forgets its failures. One consumer at a time (callers run one
 * `process` loop). Shared by the control plane's controllers and the node agent.
 *
 * Cost: O(1) per add/take; one pending Clock sleep per item waiting for a retry.
 */
import type { Clock } from './clock.js';

export class WorkQueue<T> {
  private readonly items: T[] = [];
  private readonly queued = new Set<T>();
  private readonly failures = new Map<T, number>();
  private wake: (() => void) | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly baseDelayMs = 5,
    private readonly maxDelayMs = 60_000,
  ) {}

  get length(): number {
    return this.items.length;
  }

  add(item: T): void {
    if (this.queued.has(item)) return;
    this.queued.add(item);
    this.items.push(item);
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  /** Adds `item` once `delayMs` has passed on the queue's clock (dropped if `signal` aborts first). */
  addAfter(item: T, delayMs: number, signal?: AbortSignal): void {
    this.clock.sleep(delayMs, signal).then(
      () => this.add(item),
      () => undefined,
    );
  }

  /** How many times in a row `item` has failed. */
  failureCount(item: T): number {
    return this.failures.get(item) ?? 0;
  }

  /** The delay before retry number `failures` (1-based). */
  backoff(failures: number): number {
    return Math.min(this.baseDelayMs * 2 ** (failures - 1), this.maxDelayMs);
  }

  async process(signal: AbortSignal, fn: (item: T) => Promise<void>, onError: (item: T, err: unknown) => void): Promise<void> {
    while (!signal.aborted) {
      const item = this.items.shift();
      if (item === undefined) {
        await new Promise<void>((resolve) => {
          const onAbort = (): void => resolve();
          this.wake = () => {
            // one listener per wait, removed again so a long-lived loop does not pile them up
            signal.removeEventListener('abort', onAbort);
            resolve();
          };
          signal.addEventListener('abort', onAbort, { once: true });
        });
        continue;
      }
      this.queued.delete(item);
      try {
        await fn(item);
        this.failures.delete(item);
      } catch (err) {
        onError(item, err);
        const n = (this.failures.get(item) ?? 0) + 1;
        this.failures.set(item, n);
        this.addAfter(item, this.backoff(n), signal);
      }
    }
  }
}
