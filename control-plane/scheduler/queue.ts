/**
 * The scheduling queue (upstream's PriorityQueue, simplified), on an injected Clock:
 *   activeQ        pods to try now, highest spec.priority first, then oldest first;
 *   backoffQ       pods that failed recently, released after 1 s doubling per attempt up to 10 s;
 *   unschedulable  pods no node fits; they wait for a cluster event that may help them (a Node added
 *                  or changed; an assigned Pod deleted for resource/port/anti-affinity failures; an
 *                  assigned Pod added or changed for affinity failures: upstream's queueing hints, coarse)
 *                  or for 60 s at most (upstream: 5 min), then go back to activeQ (or backoffQ while
 *                  their back-off lasts).
 * A cluster event seen while a pod was being scheduled sends that pod to backoffQ rather than
 * unschedulable if it fails, so it cannot miss the event (upstream's moveRequestCycle).
 *
 * Cost: O(log n) per add/pop; O(backoffQ) per one-second flush; O(unschedulable) per cluster event.
 */
import type { Pod } from '../../api/core/pod.js';
import type { Clock } from '../../lib/clock.js';
import type { FilterPlugin } from './filters.js';

export type ClusterEvent = 'NodeAdd' | 'NodeUpdate' | 'AssignedPodAdd' | 'AssignedPodUpdate' | 'AssignedPodDelete';

/** Which failures an event may cure ('all': any). */
const EVENT_HELPS: Readonly<Record<ClusterEvent, 'all' | ReadonlySet<FilterPlugin>>> = {
  NodeAdd: 'all',
  NodeUpdate: 'all',
  AssignedPodAdd: new Set<FilterPlugin>(['InterPodAffinity', 'PodTopologySpread']),
  AssignedPodUpdate: new Set<FilterPlugin>(['InterPodAffinity', 'PodTopologySpread']),
  AssignedPodDelete: new Set<FilterPlugin>(['NodeResourcesFit', 'NodePorts', 'InterPodAffinity', 'PodTopologySpread']),
};

export interface QueueOptions {
  readonly initialBackoffMs: number;
  readonly maxBackoffMs: number;
  readonly maxUnschedulableMs: number;
}

export const DEFAULT_QUEUE_OPTIONS: QueueOptions = { initialBackoffMs: 1000, maxBackoffMs: 10_000, maxUnschedulableMs: 60_000 };

export interface QueuedPod {
  readonly key: string;
  pod: Pod;
  /** Scheduling attempts so far. */
  attempts: number;
  /** When the pod first entered the queue (ms): the start of its end-to-end scheduling latency. */
  readonly initialEnqueueMs: number;
  /** When it was last added or last failed (ms): orders activeQ and starts its back-off. */
  timestampMs: number;
  unschedulablePlugins: ReadonlySet<FilterPlugin>;
  /** The scheduling cycle it was last popped in. */
  cycle: number;
}

export function eventMayHelp(event: ClusterEvent, plugins: ReadonlySet<FilterPlugin>): boolean {
  const helps = EVENT_HELPS[event];
  if (helps === 'all' || plugins.size === 0) return true;
  for (const p of plugins) if (helps.has(p)) return true;
  return false;
}

/** Spec and labels: what a user changes to make a pod schedulable (status writes are ignored). */
function schedulingRelevant(pod: Pod): string {
  return JSON.stringify([pod.spec, pod.metadata.labels ?? {}]);
}

const before = (a: QueuedPod, b: QueuedPod): boolean => {
  const pa = a.pod.spec.priority ?? 0;
  const pb = b.pod.spec.priority ?? 0;
  return pa !== pb ? pa > pb : a.timestampMs < b.timestampMs;
};

export class SchedulingQueue {
  private readonly heap: QueuedPod[] = [];
  private readonly active = new Map<string, QueuedPod>();
  private readonly backoff = new Map<string, QueuedPod>();
  private readonly unschedulable = new Map<string, QueuedPod>();
  private readonly inFlight = new Map<string, QueuedPod>();
  private cycle = 0;
  private moveRequestCycle = -1;
  private wake: (() => void) | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly opts: QueueOptions = DEFAULT_QUEUE_OPTIONS,
  ) {}

  private now(): number {
    return this.clock.now().getTime();
  }

  /** A pending pod appeared (or was seen again): queued once; a queued pod just gets the newer object. */
  add(pod: Pod, key: string): void {
    const existing = this.active.get(key) ?? this.backoff.get(key) ?? this.unschedulable.get(key) ?? this.inFlight.get(key);
    if (existing !== undefined) {
      existing.pod = pod;
      return;
    }
    const now = this.now();
    this.pushActive({ key, pod, attempts: 0, initialEnqueueMs: now, timestampMs: now, unschedulablePlugins: new Set(), cycle: -1 });
  }

  /** A pending pod changed: an unschedulable pod whose spec or labels changed is tried again. */
  update(pod: Pod, key: string): void {
    const u = this.unschedulable.get(key);
    if (u !== undefined) {
      const changed = schedulingRelevant(u.pod) !== schedulingRelevant(pod);
      u.pod = pod;
      if (changed) {
        this.unschedulable.delete(key);
        this.requeueMoved(u);
      }
      return;
    }
    this.add(pod, key);
  }

  /** The pod was deleted or bound by someone else. */
  delete(key: string): void {
    this.backoff.delete(key);
    this.unschedulable.delete(key);
    if (this.active.delete(key)) {
      const i = this.heap.findIndex((q) => q.key === key);
      if (i >= 0) this.removeAt(i);
    }
  }

  /** Waits for the next pod to schedule; undefined once `signal` aborts. */
  async pop(signal: AbortSignal): Promise<QueuedPod | undefined> {
    while (this.heap.length === 0) {
      if (signal.aborted) return undefined;
      await new Promise<void>((resolve) => {
        const onAbort = (): void => resolve();
        this.wake = () => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        };
        signal.addEventListener('abort', onAbort, { once: true });
      });
    }
    if (signal.aborted) return undefined;
    const q = this.removeAt(0);
    this.active.delete(q.key);
    this.cycle++;
    q.cycle = this.cycle;
    q.attempts++;
    this.inFlight.set(q.key, q);
    return q;
  }

  /** The cycle for `key` ended (bound, assumed, or dropped): no longer in flight. */
  done(key: string): void {
    this.inFlight.delete(key);
  }

  /** No node fits: park the pod until an event that may help (or in backoffQ if one came meanwhile). */
  addUnschedulable(q: QueuedPod, plugins: ReadonlySet<FilterPlugin>): void {
    this.inFlight.delete(q.key);
    q.unschedulablePlugins = plugins;
    q.timestampMs = this.now();
    if (this.moveRequestCycle >= q.cycle) this.backoff.set(q.key, q);
    else this.unschedulable.set(q.key, q);
  }

  /** An error (e.g. the bind failed): try again after the back-off. */
  addBackoff(q: QueuedPod): void {
    this.inFlight.delete(q.key);
    q.timestampMs = this.now();
    this.backoff.set(q.key, q);
  }

  /** A cluster event: unschedulable pods it may help go to activeQ (or backoffQ while backing off). */
  moveOnEvent(event: ClusterEvent): number {
    this.moveRequestCycle = this.cycle;
    let moved = 0;
    for (const [key, q] of this.unschedulable) {
      if (!eventMayHelp(event, q.unschedulablePlugins)) continue;
      this.unschedulable.delete(key);
      this.requeueMoved(q);
      moved++;
    }
    return moved;
  }

  backoffExpiry(q: QueuedPod): number {
    const d = Math.min(this.opts.initialBackoffMs * 2 ** Math.max(q.attempts - 1, 0), this.opts.maxBackoffMs);
    return q.timestampMs + d;
  }

  /** Moves pods whose back-off is over to activeQ. */
  flushBackoffCompleted(): void {
    const now = this.now();
    for (const [key, q] of this.backoff) {
      if (this.backoffExpiry(q) > now) continue;
      this.backoff.delete(key);
      this.pushActive(q);
    }
  }

  /** Pods unschedulable for longer than maxUnschedulableMs are tried again whatever happened. */
  flushUnschedulableLeftover(): void {
    const now = this.now();
    for (const [key, q] of this.unschedulable) {
      if (now - q.timestampMs < this.opts.maxUnschedulableMs) continue;
      this.unschedulable.delete(key);
      this.requeueMoved(q);
    }
  }

  /** The periodic flushes (every second, and every 30 s for unschedulable pods), until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    let ticks = 0;
    while (!signal.aborted) {
      try {
        await this.clock.sleep(1000, signal);
      } catch {
        return;
      }
      this.flushBackoffCompleted();
      if (++ticks % 30 === 0) this.flushUnschedulableLeftover();
    }
  }

  pending(): { active: number; backoff: number; unschedulable: number } {
    return { active: this.active.size, backoff: this.backoff.size, unschedulable: this.unschedulable.size };
  }

  has(key: string): 'active' | 'backoff' | 'unschedulable' | 'inFlight' | undefined {
    if (this.active.has(key)) return 'active';
    if (this.backoff.has(key)) return 'backoff';
    if (this.unschedulable.has(key)) return 'unschedulable';
    return this.inFlight.has(key) ? 'inFlight' : undefined;
  }

  private requeueMoved(q: QueuedPod): void {
    if (q.attempts > 0 && this.backoffExpiry(q) > this.now()) this.backoff.set(q.key, q);
    else this.pushActive(q);
  }

  // ---- binary heap of activeQ ----

  private pushActive(q: QueuedPod): void {
    this.active.set(q.key, q);
    this.heap.push(q);
    this.siftUp(this.heap.length - 1);
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  private removeAt(i: number): QueuedPod {
    const h = this.heap;
    const top = h[i] as QueuedPod;
    const last = h.pop() as QueuedPod;
    if (i < h.length) {
      h[i] = last;
      this.siftDown(i);
      this.siftUp(i);
    }
    return top;
  }

  private siftUp(i: number): void {
    const h = this.heap;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(h[i] as QueuedPod, h[parent] as QueuedPod)) break;
      [h[i], h[parent]] = [h[parent] as QueuedPod, h[i] as QueuedPod];
      i = parent;
    }
  }

  private siftDown(i: number): void {
    const h = this.heap;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && before(h[l] as QueuedPod, h[m] as QueuedPod)) m = l;
      if (r < h.length && before(h[r] as QueuedPod, h[m] as QueuedPod)) m = r;
      if (m === i) return;
      [h[i], h[m]] = [h[m] as QueuedPod, h[i] as QueuedPod];
      i = m;
    }
  }
}
