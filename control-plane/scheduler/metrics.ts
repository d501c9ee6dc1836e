/**
 * Scheduler metrics, named after upstream's scheduler_* ones under the knode_ prefix:
 *   knode_scheduler_schedule_attempts_total{result=scheduled|unschedulable|error}
 *   knode_scheduler_pod_scheduling_duration_seconds  first time in the queue -> bound (end-to-end)
 *   knode_scheduler_scheduling_algorithm_duration_seconds  one filter+score pass
 *   knode_scheduler_pending_pods{queue=active|backoff|unschedulable}
 * Created once per Registry (a scheduler rebuilt after a lost and regained lease reuses them).
 */
import { Counter, Gauge, Histogram } from 'prom-client';
import { Registry } from 'prom-client';

export type AttemptResult = 'scheduled' | 'unschedulable' | 'error';

export class SchedulerMetrics {
  readonly attempts: Counter<'result'>;
  readonly e2eLatency: Histogram;
  readonly algorithmDuration: Histogram;
  readonly pending: Gauge<'queue'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.attempts = new Counter({ name: 'knode_scheduler_schedule_attempts_total', help: 'Scheduling attempts by result', labelNames: ['result'], registers });
    this.e2eLatency = new Histogram({
      name: 'knode_scheduler_pod_scheduling_duration_seconds',
      help: 'Time from a pod first entering the scheduling queue to its binding',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers,
    });
    this.algorithmDuration = new Histogram({
      name: 'knode_scheduler_scheduling_algorithm_duration_seconds',
      help: 'Time of one filter and score pass for one pod',
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1],
      registers,
    });
    this.pending = new Gauge({ name: 'knode_scheduler_pending_pods', help: 'Pods waiting in the scheduling queue, by queue', labelNames: ['queue'], registers });
  }
}

const byRegistry = new WeakMap<Registry, SchedulerMetrics>();

/** The scheduler metrics of `registry` (a private registry when none is given). */
export function schedulerMetricsFor(registry?: Registry): SchedulerMetrics {
  const r = registry ?? new Registry();
  let m = byRegistry.get(r);
  if (m === undefined) {
    m = new SchedulerMetrics(r);
    byRegistry.set(r, m);
  }
  return m;
}
