/**
 * Event recording for controllers, the scheduler and the kubelet: core/v1 Events that `kubectl
 * describe` and `kubectl get events` show, written like upstream's record.EventRecorder:
 *   - name `<object name>.<16 hex digits of the first timestamp in ns>`, in the object's namespace
 *     (`default` for cluster-scoped objects), involvedObject with kind/name/namespace/uid/
 *     apiVersion/resourceVersion, source.component (+ host), reportingComponent, type Normal/Warning;
 *   - the same (object, type, reason, message) again within 10 minutes bumps `count` and
 *     `lastTimestamp` of the existing Event (a merge patch) instead of creating a new one, so a pod that
 *     stays unschedulable does not flood the store;
 *   - never throws and never blocks the caller: writes are queued and done in order in the background;
 *     a failed write is logged and dropped (events are best-effort, as upstream's are).
 * Cost: one POST per new (object, reason, message), one PATCH per repeat; a cache of at most 4096 keys.
 */
import { randomBytes } from 'node:crypto';
import type { Event } from '../../api/core/event.js';
import type { KubeObject } from '../../api/meta.js';
import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import type { KubeClient } from './client.js';
import { resources } from './resource.js';

export type EventType = 'Normal' | 'Warning';

export interface EventSink {
  create(ev: Event): Promise<Event>;
  patchCount(namespace: string, name: string, count: number, lastTimestamp: string): Promise<void>;
}

export function clientEventSink(client: Pick<KubeClient, 'create' | 'patch'>): EventSink {
  return {
    create: (ev) => client.create<Event>(resources.events, ev, { namespace: ev.metadata.namespace ?? 'default' }),
    patchCount: async (namespace, name, count, lastTimestamp) => {
      await client.patch(resources.events, name, { count, lastTimestamp }, { type: 'merge', namespace });
    },
  };
}

interface Seen {
  readonly namespace: string;
  readonly name: string;
  count: number;
  lastMs: number;
}

const DEDUP_WINDOW_MS = 10 * 60_000;
const MAX_KEYS = 4096;

/** The API version and kind of a reference to `obj` (objects from a typed list may lack them). */
export interface Involved {
  readonly apiVersion: string;
  readonly kind: string;
  /** e.g. `spec.containers{app}` for an event about one container of a pod. */
  readonly fieldPath?: string;
}

export class EventRecorder {
  private readonly seen = new Map<string, Seen>();
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly sink: EventSink,
    private readonly component: string,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly host?: string,
  ) {}

  /** Records an event about `obj`; returns at once (the write happens in the background). */
  record(obj: KubeObject, involved: Involved, type: EventType, reason: string, message: string): void {
    this.chain = this.chain.then(() => this.write(obj, involved, type, reason, message)).catch((err: unknown) => {
      this.log.warn({ reason, object: obj.metadata.name, err: err instanceof Error ? err.message : String(err) }, 'could not record an event');
    });
  }

  /** Resolves once every event recorded so far is written (tests, shutdown). */
  flush(): Promise<void> {
    return this.chain;
  }

  private async write(obj: KubeObject, involved: Involved, type: EventType, reason: string, message: string): Promise<void> {
    const now = this.clock.now();
    const ts = now.toISOString().replace(/\.\d+Z$/, 'Z');
    const namespace = obj.metadata.namespace ?? 'default';
    const key = [involved.kind, namespace, obj.metadata.name ?? '', obj.metadata.uid ?? '', involved.fieldPath ?? '', type, reason, message].join('\u0000');
    const prev = this.seen.get(key);
    if (prev !== undefined && now.getTime() - prev.lastMs < DEDUP_WINDOW_MS) {
      prev.count++;
      prev.lastMs = now.getTime();
      await this.sink.patchCount(prev.namespace, prev.name, prev.count, ts);
      return;
    }
    const ns = BigInt(now.getTime()) * 1_000_000n + BigInt(randomBytes(2).readUInt16BE(0));
    const name = `${obj.metadata.name ?? 'unknown'}.${ns.toString(16).padStart(16, '0')}`;
    await this.sink.create({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace },
      involvedObject: {
        apiVersion: involved.apiVersion,
        kind: involved.kind,
        name: obj.metadata.name ?? '',
        ...(obj.metadata.namespace !== undefined ? { namespace: obj.metadata.namespace } : {}),
        ...(obj.metadata.uid !== undefined ? { uid: obj.metadata.uid } : {}),
        ...(obj.metadata.resourceVersion !== undefined ? { resourceVersion: obj.metadata.resourceVersion } : {}),
        ...(involved.fieldPath !== undefined ? { fieldPath: involved.fieldPath } : {}),
      },
      reason,
      message,
      type,
      count: 1,
      firstTimestamp: ts,
      lastTimestamp: ts,
      source: { component: this.component, ...(this.host !== undefined ? { host: this.host } : {}) },
      reportingComponent: this.component,
      reportingInstance: this.host ?? '',
    });
    if (this.seen.size >= MAX_KEYS) {
      const oldest = this.seen.keys().next().value;
      if (oldest !== undefined) this.seen.delete(oldest);
    }
    this.seen.set(key, { namespace, name, count: 1, lastMs: now.getTime() });
  }
}
