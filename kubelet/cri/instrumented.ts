/**
 * Per-operation latency and error metrics around any RuntimeService/ImageService (remote or fake),
 * named as upstream's kubelet names them so dashboards carry over:
 *   kubelet_runtime_operations_duration_seconds{operation_type}  histogram
 *   kubelet_runtime_operations_total{operation_type}             counter
 *   kubelet_runtime_operations_errors_total{operation_type}      counter
 * operation_type values are upstream's (`run_podsandbox`, `container_status`, ...; services.ts).
 * Cost: two counter increments and one histogram observation per call.
 */
import { Counter, Histogram, Registry, exponentialBuckets } from 'prom-client';
import { imageOperations, runtimeOperations } from './services.js';
import type { ImageService, OperationInfo, RuntimeService } from './services.js';
import type { CallOptions } from './types-common.js';

export class CriMetrics {
  readonly registry: Registry;
  readonly duration: Histogram<'operation_type'>;
  readonly total: Counter<'operation_type'>;
  readonly errors: Counter<'operation_type'>;

  /** Metrics register in `registry`; a private one by default so several clients can coexist. */
  constructor(registry: Registry = new Registry()) {
    this.registry = registry;
    this.duration = new Histogram({
      name: 'kubelet_runtime_operations_duration_seconds',
      help: 'Duration in seconds of runtime operations. Broken down by operation type.',
      labelNames: ['operation_type'],
      // upstream's buckets: 5 ms to ~5 min
      buckets: exponentialBuckets(0.005, 2.5, 14),
      registers: [registry],
    });
    this.total = new Counter({
      name: 'kubelet_runtime_operations_total',
      help: 'Cumulative number of runtime operations by operation type.',
      labelNames: ['operation_type'],
      registers: [registry],
    });
    this.errors = new Counter({
      name: 'kubelet_runtime_operations_errors_total',
      help: 'Cumulative number of runtime operation errors by operation type.',
      labelNames: ['operation_type'],
      registers: [registry],
    });
  }

  /** Starts timing one operation; call the returned function once with its outcome. */
  start(operation: string): (failed: boolean) => void {
    const t0 = process.hrtime.bigint();
    return (failed) => {
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      this.duration.observe({ operation_type: operation }, seconds);
      this.total.inc({ operation_type: operation });
      if (failed) this.errors.inc({ operation_type: operation });
    };
  }
}

type Method = (req: unknown, opts?: CallOptions) => Promise<unknown>;

/**
 * Wraps every method listed in `ops`. The operation tables are complete by construction (mapped
 * types over the interfaces), so the result implements the whole interface; the casts only bridge
 * from a dynamically built object to that interface.
 */
function instrument<S extends object>(svc: S, ops: { readonly [K in keyof S]: OperationInfo }, metrics: CriMetrics): S {
  const out: Record<string, Method> = {};
  for (const [name, op] of Object.entries(ops) as [string, OperationInfo][]) {
    const fn = (svc as unknown as Record<string, Method>)[name];
    if (typeof fn !== 'function') throw new TypeError(`service lacks method ${name}`);
    out[name] = async (req, opts) => {
      const done = metrics.start(op.metric);
      try {
        const res = await fn.call(svc, req, opts);
        done(false);
        return res;
      } catch (err) {
        done(true);
        throw err;
      }
    };
  }
  return out as unknown as S;
}

export function instrumentRuntimeService(svc: RuntimeService, metrics: CriMetrics): RuntimeService {
  return instrument(svc, runtimeOperations, metrics);
}

export function instrumentImageService(svc: ImageService, metrics: CriMetrics): ImageService {
  return instrument(svc, imageOperations, metrics);
}
