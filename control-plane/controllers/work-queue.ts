/**
 * A de-duplicating work queue with per-item exponential back-off, as controllers use upstream:
 * an item added while queued is queued once; an item that fails is retried after 5 ms, doubling up to
 * 60 s; success forgets its failures. One consumer at a time (callers run one `process` loop).
 */
import type { Clock } from '../../lib/clock.js';

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

  /** The delay before retry number `failures` (1-based). */
  backoff(failures: number): number {
    return Math.min(this.baseDelayMs * 2 ** (failures - 1), this.maxDelayMs);
  }

  async process(signal: AbortSignal, fn: (item: T) => Promise<void>, onError: (item: T, err: unknown) => void): Promise<void> {
    while (!signal.aborted) {
      const item = this.items.shift();
      if (item === undefined) {
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          signal.addEventListener('abort', () => resolve(), { once: true });
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
        this.clock.sleep(this.backoff(n), signal).then(
          () => this.add(item),
          () => undefined,
        );
      }
    }
  }
}
