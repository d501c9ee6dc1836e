/**
 * Delayed re-syncs without pile-up, as upstream's delaying queue keeps one entry per key at its earliest
 * time: a controller that asks "look again in 10 minutes" on every sync of a slow rollout would otherwise
 * hold one timer (and one abort listener) per sync until each fires. Here a key holds at most one timer
 * unless a strictly earlier one is asked for; a later or equal request is dropped.
 *
 * Used by the ReplicaSet controller (minReadySeconds) and the deployment controller (progress deadline).
 * It could live in KeyQueue (controller-manager/controller.ts) for every controller.
 */
import { setMaxListeners } from 'node:events';
import type { Clock } from '../../lib/clock.js';

/** The longest delay a Node timer honours. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export class DelayedRequeue {
  private readonly due = new Map<string, number>();
  /** One listener on the caller's signal; our timers listen on this child (many, legitimately). */
  private readonly children = new WeakMap<AbortSignal, AbortSignal>();

  constructor(
    private readonly clock: Clock,
    private readonly add: (key: string) => void,
  ) {}

  /** Adds `key` to the queue after `delayMs`, unless it is already due at or before then. */
  after(key: string, delayMs: number, signal: AbortSignal | undefined): void {
    // Node's timers fire at once beyond 2^31-1 ms (~24.8 days): wake up then and let the sync ask again
    delayMs = Math.min(delayMs, MAX_TIMER_MS);
    const at = this.clock.now().getTime() + delayMs;
    const pending = this.due.get(key);
    if (pending !== undefined && pending <= at) return;
    this.due.set(key, at);
    this.clock.sleep(delayMs, signal !== undefined ? this.child(signal) : undefined).then(
      () => {
        if (this.due.get(key) === at) this.due.delete(key);
        this.add(key);
      },
      () => {
        if (this.due.get(key) === at) this.due.delete(key);
      },
    );
  }

  private child(signal: AbortSignal): AbortSignal {
    let child = this.children.get(signal);
    if (child === undefined) {
      const ac = new AbortController();
      setMaxListeners(0, ac.signal);
      if (signal.aborted) ac.abort(signal.reason);
      else signal.addEventListener('abort', () => ac.abort(signal.reason), { once: true });
      child = ac.signal;
      this.children.set(signal, child);
    }
    return child;
  }

  /** Timers still pending (tests). */
  get size(): number {
    return this.due.size;
  }
}
