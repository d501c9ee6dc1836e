/**
 * What every workload controller (ReplicaSet, Deployment, DaemonSet, EndpointSlice, node lifecycle...)
 * and the scheduler share, as upstream's kube-controller-manager gives its controllers:
 *   - a `ControllerContext`: the API client, ONE SharedInformerFactory (one list+watch per kind for
 *     all controllers), the clock, a logger, the metrics registry and an EventRecorder;
 *   - `Controller`: a name and `run(signal)`, started only while this process holds the leader lease;
 *   - `runKeyQueue`: the usual loop over a de-duplicating WorkQueue of object keys with rate-limited
 *     retries (5 ms doubling to 60 s), never throwing out, instrumented with the metrics below.
 * Metrics (labelled by controller): knode_controller_queue_depth, knode_controller_sync_duration_seconds,
 * knode_controller_syncs_total{result}.
 *
 * A controller reads from informer caches and writes through the client; its decisions live in pure
 * `plan*` functions beside it, which is what its unit tests drive.
 */
import { Counter, Gauge, Histogram } from 'prom-client';
import type { Registry } from 'prom-client';
import type { Clock } from '../../lib/clock.js';
import type { KubeClient } from '../../lib/client/client.js';
import type { EventRecorder } from '../../lib/client/events.js';
import type { SharedInformerFactory } from '../../lib/client/shared-informer-factory.js';
import type { Logger } from '../../lib/log.js';
import type { KubeObject } from '../../api/meta.js';
import type { InformerHandlers } from '../../lib/client/informer.js';
import { WorkQueue } from '../../lib/work-queue.js';

export interface ControllerContext {
  readonly client: KubeClient;
  readonly informers: SharedInformerFactory;
  readonly clock: Clock;
  readonly log: Logger;
  readonly metrics: ControllerMetrics;
  readonly events: EventRecorder;
}

export interface Controller {
  /** e.g. `replicaset`, as in upstream's --controllers list. */
  readonly name: string;
  /** Runs until `signal` aborts; must not throw out for a failed sync. */
  run(signal: AbortSignal): Promise<void>;
}

export class ControllerMetrics {
  readonly queueDepth: Gauge<'controller'>;
  readonly syncDuration: Histogram<'controller'>;
  readonly syncs: Counter<'controller' | 'result'>;

  /** Several managers (controllers, scheduler) may share one registry: the metrics are shared too. */
  constructor(registry: Registry) {
    const registers = [registry];
    this.queueDepth =
      (registry.getSingleMetric('knode_controller_queue_depth') as Gauge<'controller'> | undefined) ??
      new Gauge({ name: 'knode_controller_queue_depth', help: 'Keys waiting in a controller work queue', labelNames: ['controller'], registers });
    this.syncDuration =
      (registry.getSingleMetric('knode_controller_sync_duration_seconds') as Histogram<'controller'> | undefined) ??
      new Histogram({
        name: 'knode_controller_sync_duration_seconds',
        help: 'Time of one controller sync of one key',
        labelNames: ['controller'],
        buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
        registers,
      });
    this.syncs =
      (registry.getSingleMetric('knode_controller_syncs_total') as Counter<'controller' | 'result'> | undefined) ??
      new Counter({ name: 'knode_controller_syncs_total', help: 'Controller syncs by result', labelNames: ['controller', 'result'], registers });
  }
}

/** Informer handlers that queue the key of every object added, updated or deleted. */
export function queueKeys<T extends KubeObject>(queue: Pick<KeyQueue, 'add'>): InformerHandlers<T> {
  return { onAdd: (o) => queue.add(objectKey(o)), onUpdate: (_old, o) => queue.add(objectKey(o)), onDelete: (o) => queue.add(objectKey(o)) };
}

/** `namespace/name`, or `name` for cluster-scoped objects: the key informers cache by. */
export function objectKey(obj: { metadata: { name?: string; namespace?: string } }): string {
  const ns = obj.metadata.namespace;
  return ns !== undefined && ns !== '' ? `${ns}/${obj.metadata.name ?? ''}` : (obj.metadata.name ?? '');
}

export function splitKey(key: string): { namespace?: string; name: string } {
  const i = key.indexOf('/');
  return i < 0 ? { name: key } : { namespace: key.slice(0, i), name: key.slice(i + 1) };
}

/**
 * A WorkQueue of keys drained by one loop calling `sync(key)` (one key at a time, so a key is never
 * synced twice at once; a controller that needs parallel writes does them inside its sync, as
 * upstream's slow-start batches); a sync that throws is logged, counted and retried with back-off.
 * Resolves when `signal` aborts.
 */
export class KeyQueue {
  readonly queue: WorkQueue<string>;

  constructor(
    private readonly name: string,
    private readonly ctx: Pick<ControllerContext, 'clock' | 'log' | 'metrics'>,
  ) {
    this.queue = new WorkQueue<string>(ctx.clock);
  }

  add(key: string): void {
    this.queue.add(key);
    this.ctx.metrics.queueDepth.set({ controller: this.name }, this.queue.length);
  }

  addAfter(key: string, delayMs: number, signal?: AbortSignal): void {
    this.queue.addAfter(key, delayMs, signal);
  }

  async run(signal: AbortSignal, sync: (key: string) => Promise<void>): Promise<void> {
    const { metrics, log } = this.ctx;
    await this.queue.process(
        signal,
        async (key) => {
          metrics.queueDepth.set({ controller: this.name }, this.queue.length);
          const end = metrics.syncDuration.startTimer({ controller: this.name });
          try {
            await sync(key);
            metrics.syncs.inc({ controller: this.name, result: 'ok' });
          } finally {
            end();
          }
        },
        (key, err) => {
          metrics.syncs.inc({ controller: this.name, result: 'error' });
          log.warn({ controller: this.name, key, failures: this.queue.failureCount(key) + 1, err: err instanceof Error ? err.message : String(err) }, 'sync failed; retrying with back-off');
        },
      );
  }
}
