/**
 * Event spam filtering as client-go's recorder does it for upstream's controllers
 * (EventSourceObjectSpamFilter): per (source, involved object, type, reason) a token bucket of 25 events
 * refilled at one per 5 minutes. A ReplicaSet scaled to 1,000 records "Created pod: ..." 25 times, not
 * 1,000, as `kubectl describe rs` shows upstream, and the apiserver is not asked for 1,000 event writes
 * while it is busy creating the pods. Events dropped here are dropped for good (events are best-effort).
 *
 * Cost: one map entry per key (at most 4,096, oldest dropped first), O(1) per event.
 */
import type { KubeObject } from '../../api/meta.js';
import type { Clock } from '../../lib/clock.js';
import type { EventType, Involved } from '../../lib/client/events.js';
import { clientEventSink, EventRecorder } from '../../lib/client/events.js';
import type { ControllerContext } from '../controller-manager/controller.js';

export const SPAM_BURST = 25;
export const SPAM_REFILL_MS = 5 * 60_000;
const MAX_KEYS = 4096;

interface Bucket {
  tokens: number;
  at: number;
}

/** The part of EventRecorder the controllers use. */
export interface EventSink {
  record(obj: KubeObject, involved: Involved, type: EventType, reason: string, message: string): void;
  flush(): Promise<void>;
}

export class SpamFilteredEvents implements EventSink {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly recorder: Pick<EventRecorder, 'record' | 'flush'>,
    private readonly clock: Pick<Clock, 'now'>,
    private readonly burst = SPAM_BURST,
    private readonly refillMs = SPAM_REFILL_MS,
  ) {}

  /** Whether an event for this key may go out now (takes a token when it may). */
  allow(key: string): boolean {
    const now = this.clock.now().getTime();
    let b = this.buckets.get(key);
    if (b === undefined) {
      if (this.buckets.size >= MAX_KEYS) {
        const oldest = this.buckets.keys().next().value;
        if (oldest !== undefined) this.buckets.delete(oldest);
      }
      b = { tokens: this.burst, at: now };
      this.buckets.set(key, b);
    } else {
      b.tokens = Math.min(this.burst, b.tokens + (now - b.at) / this.refillMs);
      b.at = now;
    }
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  record(obj: KubeObject, involved: Involved, type: EventType, reason: string, message: string): void {
    const m = obj.metadata;
    const key = [involved.apiVersion, involved.kind, m.namespace ?? '', m.name ?? '', m.uid ?? '', type, reason].join('\u0000');
    if (this.allow(key)) this.recorder.record(obj, involved, type, reason, message);
  }

  flush(): Promise<void> {
    return this.recorder.flush();
  }
}

/** A controller's event recorder as upstream's controllers have it: component `name`, spam-filtered. */
export function controllerEvents(ctx: Pick<ControllerContext, 'client' | 'clock' | 'log'>, component: string): SpamFilteredEvents {
  return new SpamFilteredEvents(new EventRecorder(clientEventSink(ctx.client), component, ctx.clock, ctx.log), ctx.clock);
}
