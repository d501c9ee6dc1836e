/**
 * Drivers shared by the knode and etcd runs: a closed-loop pool (C workers, each sends its next request
 * as soon as the previous one answered, so at most C are in flight) and the ConfigMap used as the
 * payload. Closed loop means throughput = ops / wall time and latency is measured at saturation, the
 * way a controller fleet or a bulk `kubectl apply` loads an apiserver.
 */
import { performance } from 'node:perf_hooks';
import type { LatencySummary } from './stats.js';
import { summarize } from './stats.js';
import type { Progress } from './progress.js';

export interface OpResult {
  readonly ok: boolean;
  /** ms, from sending the request to the last byte of the answer. */
  readonly latencyMs: number;
  /** Why the op failed (status and message), kept for the first failure only. */
  readonly error?: string;
}

export interface PhaseResult {
  readonly name: string;
  readonly ops: number;
  readonly errors: number;
  readonly firstError?: string;
  readonly wallMs: number;
  /** Successful ops per second of wall time. */
  readonly perSecond: number;
  readonly latency: LatencySummary;
}

/** Runs op(0..count-1) with `concurrency` workers; a thrown op counts as a failed one. */
export async function runClosedLoop(
  name: string,
  count: number,
  concurrency: number,
  op: (i: number) => Promise<OpResult>,
  progress: Progress,
  signal: AbortSignal,
): Promise<PhaseResult> {
  const latencies: number[] = [];
  let next = 0;
  let errors = 0;
  let firstError: string | undefined;
  const started = performance.now();
  progress.start(name, count);
  const worker = async (): Promise<void> => {
    while (!signal.aborted) {
      const i = next++;
      if (i >= count) return;
      const t0 = performance.now();
      let r: OpResult;
      try {
        r = await op(i);
      } catch (err) {
        r = { ok: false, latencyMs: performance.now() - t0, error: err instanceof Error ? err.message : String(err) };
      }
      if (r.ok) latencies.push(r.latencyMs);
      else {
        errors++;
        firstError ??= r.error ?? 'failed';
      }
      progress.tick();
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  const wallMs = performance.now() - started;
  progress.done();
  if (signal.aborted) throw new Error(`${name}: aborted (${String(signal.reason)})`);
  return {
    name,
    ops: count,
    errors,
    ...(firstError !== undefined ? { firstError } : {}),
    wallMs,
    perSecond: latencies.length / (wallMs / 1000),
    latency: summarize(latencies),
  };
}

export const NAMESPACE = 'bench';

export function configMapName(i: number): string {
  return `cm-${String(i).padStart(6, '0')}`;
}

/**
 * About 300 bytes of data in three keys, shaped like a real application config (a properties file, a
 * log level, a feature list), plus the labels and an annotation most ConfigMaps carry. `generation`
 * changes the values so an update is a real change.
 */
export function configMapData(i: number, generation: number): Record<string, string> {
  return {
    'application.properties':
      `server.port=8080\nserver.shutdown=graceful\nspring.datasource.url=jdbc:postgresql://db-${i % 7}.bench.svc:5432/app\n` +
      `spring.datasource.pool.max-size=${16 + (i % 16)}\ncache.ttl-seconds=${300 + generation}\nfeature.flags=search,export,audit\nmanagement.endpoints=health,info,metrics\n`,
    'log-level': generation % 2 === 0 ? 'info' : 'debug',
    'revision': `r${generation}-${(i * 2654435761) % 4294967296}`.padEnd(48, '0'),
  };
}

export interface ConfigMapBody {
  readonly apiVersion: 'v1';
  readonly kind: 'ConfigMap';
  readonly metadata: {
    readonly name: string;
    readonly namespace: string;
    readonly labels: Readonly<Record<string, string>>;
    readonly annotations: Readonly<Record<string, string>>;
    readonly resourceVersion?: string;
  };
  readonly data: Readonly<Record<string, string>>;
}

export function configMap(name: string, i: number, generation: number, resourceVersion?: string): ConfigMapBody {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name,
      namespace: NAMESPACE,
      labels: { 'app.kubernetes.io/name': 'bench', 'app.kubernetes.io/instance': `shard-${i % 32}`, tier: 'backend' },
      annotations: { 'bench.knode.dev/generation': String(generation) },
      ...(resourceVersion !== undefined ? { resourceVersion } : {}),
    },
    data: configMapData(i, generation),
  };
}

/** Bytes of the ConfigMap's data values (the "~300 bytes of data" of the brief). */
export function dataBytes(body: ConfigMapBody): number {
  let n = 0;
  for (const v of Object.values(body.data)) n += Buffer.byteLength(v, 'utf8');
  return n;
}
