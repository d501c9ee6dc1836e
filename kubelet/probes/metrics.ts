/**
 * Prober metrics named and labelled as upstream's kubelet exports them:
 *   prober_probe_total{probe_type,result,container,pod,namespace,pod_uid}   counter
 *   prober_probe_duration_seconds{probe_type,container,pod,namespace}        histogram (success/unknown)
 * probe_type is Liveness/Readiness/Startup, result successful/failed/unknown. A worker deletes its
 * series when it stops, so series do not outlive their pods. Cost: one increment per probe.
 */
import { Counter, Histogram, Registry } from 'prom-client';

export type ProbeMetricResult = 'successful' | 'failed' | 'unknown';

export interface ProbeSeries {
  readonly probeType: string;
  readonly container: string;
  readonly pod: string;
  readonly namespace: string;
  readonly podUid: string;
}

export class ProberMetrics {
  readonly registry: Registry;
  readonly total: Counter<'probe_type' | 'result' | 'container' | 'pod' | 'namespace' | 'pod_uid'>;
  readonly duration: Histogram<'probe_type' | 'container' | 'pod' | 'namespace'>;

  constructor(registry: Registry = new Registry()) {
    this.registry = registry;
    this.total = new Counter({
      name: 'prober_probe_total',
      help: 'Cumulative number of a liveness, readiness or startup probe for a container by result.',
      labelNames: ['probe_type', 'result', 'container', 'pod', 'namespace', 'pod_uid'],
      registers: [registry],
    });
    this.duration = new Histogram({
      name: 'prober_probe_duration_seconds',
      help: 'Duration in seconds for a probe response.',
      labelNames: ['probe_type', 'container', 'pod', 'namespace'],
      registers: [registry],
    });
  }

  observe(series: ProbeSeries, result: ProbeMetricResult, seconds: number): void {
    this.total.inc({ ...totalLabels(series), result });
    if (result !== 'failed') this.duration.observe(durationLabels(series), seconds);
  }

  forget(series: ProbeSeries): void {
    for (const result of ['successful', 'failed', 'unknown'] as const) this.total.remove({ ...totalLabels(series), result });
    this.duration.remove(durationLabels(series));
  }
}

function totalLabels(s: ProbeSeries): { probe_type: string; container: string; pod: string; namespace: string; pod_uid: string } {
  return { probe_type: s.probeType, container: s.container, pod: s.pod, namespace: s.namespace, pod_uid: s.podUid };
}

function durationLabels(s: ProbeSeries): { probe_type: string; container: string; pod: string; namespace: string } {
  return { probe_type: s.probeType, container: s.container, pod: s.pod, namespace: s.namespace };
}
