/**
 * The mutating phases against knode: N ConfigMap creates, then PUTs of the first M with the
 * resourceVersion each create returned (an optimistic-concurrency update, as controllers do), then
 * DELETEs of M. All closed-loop with C clients on C keep-alive TLS connections.
 *
 * Latency is request sent -> last response byte, so it includes TLS, the HTTP parse, JSON decode,
 * validation, defaulting, admission, the store transaction with its fsync, and encoding the answer.
 */
import type { CpuMeter } from './cpu-accounting.js';
import type { KubeHttp, Timed } from './kube-http.js';
import type { Progress } from './progress.js';
import type { OpResult, PhaseResult } from './workload.js';
import { NAMESPACE, configMap, configMapName, runClosedLoop } from './workload.js';

const BASE = `/api/v1/namespaces/${NAMESPACE}/configmaps`;

export interface WriteResults {
  readonly creates: PhaseResult;
  readonly updates: PhaseResult;
  /** Size of one created ConfigMap as the server returns it (used as the etcd value size). */
  readonly storedObjectBytes: number;
}

function outcome(r: Timed, want: number): OpResult {
  const latencyMs = r.doneAt - r.sentAt;
  if (r.status === want) return { ok: true, latencyMs };
  return { ok: false, latencyMs, error: `HTTP ${r.status}: ${r.body.toString('utf8').slice(0, 300)}` };
}

function resourceVersionOf(body: Buffer): string | undefined {
  const parsed = JSON.parse(body.toString('utf8')) as { metadata?: { resourceVersion?: unknown } };
  const rv = parsed.metadata?.resourceVersion;
  return typeof rv === 'string' ? rv : undefined;
}

export async function ensureNamespace(http: KubeHttp): Promise<void> {
  const body = JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } });
  const r = await http.request({ method: 'POST', path: '/api/v1/namespaces', body });
  if (r.status !== 201 && r.status !== 409) throw new Error(`creating namespace ${NAMESPACE} answered ${r.status}: ${r.body.toString('utf8')}`);
}

/** Creates and updates; deletes run later (after the LIST and watch phases) through runDeletes. */
export async function runCreatesAndUpdates(
  http: KubeHttp,
  opts: { readonly objects: number; readonly clients: number; readonly mutations: number },
  progress: Progress,
  signal: AbortSignal,
  meter: CpuMeter,
): Promise<WriteResults> {
  const versions = new Map<number, string>();
  let storedObjectBytes = 0;
  const create = async (i: number): Promise<OpResult> => {
    const r = await http.request({ method: 'POST', path: BASE, body: JSON.stringify(configMap(configMapName(i), i, 0)) });
    const o = outcome(r, 201);
    if (o.ok && i < opts.mutations) {
      const rv = resourceVersionOf(r.body);
      if (rv !== undefined) versions.set(i, rv);
    }
    if (o.ok && i === 0) storedObjectBytes = r.body.length;
    return o;
  };
  const update = async (i: number): Promise<OpResult> => {
    const rv = versions.get(i);
    if (rv === undefined) return { ok: false, latencyMs: 0, error: `create of ${configMapName(i)} returned no resourceVersion` };
    const name = configMapName(i);
    const r = await http.request({ method: 'PUT', path: `${BASE}/${name}`, body: JSON.stringify(configMap(name, i, 1, rv)) });
    return outcome(r, 200);
  };
  const creates = await meter.measure('create', () => runClosedLoop('create', opts.objects, opts.clients, create, progress, signal));
  const updates = await meter.measure('update', () => runClosedLoop('update', opts.mutations, opts.clients, update, progress, signal));
  return { creates, updates, storedObjectBytes };
}

export async function runDeletes(
  http: KubeHttp,
  opts: { readonly clients: number; readonly mutations: number },
  progress: Progress,
  signal: AbortSignal,
): Promise<PhaseResult> {
  return runClosedLoop(
    'delete',
    opts.mutations,
    opts.clients,
    async (i) => outcome(await http.request({ method: 'DELETE', path: `${BASE}/${configMapName(i)}` }), 200),
    progress,
    signal,
  );
}
