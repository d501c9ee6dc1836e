/**
 * Watch delivery latency: W watches on the namespace's ConfigMaps, all from the same current
 * resourceVersion, then K creates at a steady open-loop rate (one every `intervalMs`, whether or not the
 * previous one answered). For every (watcher, write) pair:
 *
 *   latency = arrival of the event's chunk at the watcher - the moment the client sent the write.
 *
 * That is what a controller experiences between "someone wrote" and "I know", so it includes the
 * write's own commit (fsync) plus the fan-out. The bench also reports arrival - write response, which
 * isolates the fan-out (it can be negative: the event may overtake the HTTP answer).
 *
 * Watchers and writer share the bench's event loop; its delay during the phase is measured and
 * reported so a busy client is not mistaken for a slow server.
 */
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { KubeCreds, WatchHandle } from './kube-http.js';
import { KubeHttp } from './kube-http.js';
import type { Progress } from './progress.js';
import type { LatencySummary } from './stats.js';
import { summarize } from './stats.js';
import { NAMESPACE, configMap } from './workload.js';

const PATH = `/api/v1/namespaces/${NAMESPACE}/configmaps`;
const PREFIX = 'watch-';

export interface WatchResults {
  readonly watchers: number;
  readonly writes: number;
  readonly writeErrors: number;
  readonly expected: number;
  readonly delivered: number;
  /** Event arrival - write request sent (the goal's figure). */
  readonly fromSend: LatencySummary;
  /** Event arrival - write response received. */
  readonly fromResponse: LatencySummary;
  /** The watched writes' own latency (sent -> answered), the floor under `fromSend`. */
  readonly writeLatency: LatencySummary;
  /** p99 and max of the bench process's own event-loop delay during the phase, ms. */
  readonly clientLoopDelayP99Ms: number;
  readonly clientLoopDelayMaxMs: number;
}

function writeName(i: number): string {
  return `${PREFIX}${String(i).padStart(6, '0')}`;
}

/**
 * The index of a watched write from an ADDED event line. A regex on the line's head is tried first so
 * the hundred watchers do not each parse every object on the shared event loop; any other layout
 * falls back to JSON.parse.
 */
export function writeIndexOf(line: string): number | undefined {
  const fast = /^\{"type":"([A-Z]+)","object":\{.*?"metadata":\{"name":"watch-(\d{6})"/.exec(line);
  if (fast?.[1] !== undefined && fast[2] !== undefined) return fast[1] === 'ADDED' ? Number(fast[2]) : undefined;
  let ev: { type?: unknown; object?: { metadata?: { name?: unknown } } };
  try {
    ev = JSON.parse(line) as typeof ev;
  } catch {
    return undefined;
  }
  const name = ev.object?.metadata?.name;
  if (ev.type !== 'ADDED' || typeof name !== 'string') return undefined;
  const m = /^watch-(\d{6})$/.exec(name);
  return m?.[1] !== undefined ? Number(m[1]) : undefined;
}

async function currentResourceVersion(http: KubeHttp): Promise<string> {
  const r = await http.ok({ method: 'GET', path: `${PATH}?limit=1` });
  const parsed = JSON.parse(r.body.toString('utf8')) as { metadata?: { resourceVersion?: unknown } };
  const rv = parsed.metadata?.resourceVersion;
  if (typeof rv !== 'string' || rv === '') throw new Error('LIST returned no metadata.resourceVersion to watch from');
  return rv;
}

export async function runWatchLatency(
  creds: KubeCreds,
  opts: { readonly watchers: number; readonly writes: number; readonly intervalMs: number },
  progress: Progress,
  signal: AbortSignal,
): Promise<WatchResults> {
  const watchHttp = new KubeHttp(creds, opts.watchers + 1);
  const writeHttp = new KubeHttp(creds, 16);
  const handles: WatchHandle[] = [];
  try {
    const rv = await currentResourceVersion(writeHttp);
    // arrivals[w][i]: when watcher w saw write i (NaN until it did).
    const arrivals = Array.from({ length: opts.watchers }, () => new Float64Array(opts.writes).fill(Number.NaN));
    let delivered = 0;
    let allDelivered: () => void = () => undefined;
    const everyone = new Promise<void>((res) => (allDelivered = res));
    const expected = opts.watchers * opts.writes;
    if (expected === 0) allDelivered();

    progress.note(`opening ${opts.watchers} watches from resourceVersion ${rv}`);
    const path = `${PATH}?watch=1&resourceVersion=${encodeURIComponent(rv)}&allowWatchBookmarks=false&timeoutSeconds=600`;
    for (let start = 0; start < opts.watchers; start += 20) {
      const batch = Array.from({ length: Math.min(20, opts.watchers - start) }, (_, k) => {
        const seen = arrivals[start + k];
        if (seen === undefined) throw new Error('watcher index out of range');
        return watchHttp.watch(path, (line, at) => {
          const i = writeIndexOf(line);
          if (i === undefined || i >= opts.writes || !Number.isNaN(seen[i] ?? 0)) return;
          seen[i] = at;
          if (++delivered === expected) allDelivered();
        });
      });
      for (const h of await Promise.all(batch)) {
        handles.push(h);
        if (h.status !== 200) throw new Error(`a watch answered HTTP ${h.status}`);
      }
    }
    // Connect the writer before the clock starts so its TLS handshake is not in the first write.
    await writeHttp.ok({ method: 'GET', path: `${PATH}?limit=1` });

    const sentAt = new Float64Array(opts.writes).fill(Number.NaN);
    const doneAt = new Float64Array(opts.writes).fill(Number.NaN);
    let writeErrors = 0;
    let firstError: string | undefined;
    const loop = monitorEventLoopDelay({ resolution: 1 });
    loop.enable();
    progress.start(`watch: ${opts.writes} writes, one every ${opts.intervalMs} ms, to ${opts.watchers} watchers`, opts.writes);
    const t0 = performance.now() + 20;
    const inflight: Array<Promise<void>> = [];
    for (let i = 0; i < opts.writes && !signal.aborted; i++) {
      const wait = t0 + i * opts.intervalMs - performance.now();
      if (wait > 0) await sleep(wait);
      const name = writeName(i);
      inflight.push(
        writeHttp.request({ method: 'POST', path: PATH, body: JSON.stringify(configMap(name, i, 0)) }).then(
          (r) => {
            sentAt[i] = r.sentAt;
            doneAt[i] = r.doneAt;
            if (r.status !== 201) {
              writeErrors++;
              firstError ??= `HTTP ${r.status}: ${r.body.toString('utf8').slice(0, 300)}`;
            }
            progress.tick();
          },
          (err: unknown) => {
            writeErrors++;
            firstError ??= String(err);
          },
        ),
      );
    }
    await Promise.all(inflight);
    const deadline = new Promise<void>((res) => setTimeout(res, 30_000).unref());
    await Promise.race([everyone, deadline]);
    loop.disable();
    progress.done();
    if (firstError !== undefined) progress.note(`watch phase: ${writeErrors} writes failed, first: ${firstError}`);

    const fromSend: number[] = [];
    const fromResponse: number[] = [];
    const writeLatency: number[] = [];
    for (let i = 0; i < opts.writes; i++) {
      const d = (doneAt[i] ?? Number.NaN) - (sentAt[i] ?? Number.NaN);
      if (!Number.isNaN(d)) writeLatency.push(d);
    }
    for (const seen of arrivals) {
      for (let i = 0; i < opts.writes; i++) {
        const at = seen[i] ?? Number.NaN;
        const s = sentAt[i] ?? Number.NaN;
        if (Number.isNaN(at) || Number.isNaN(s)) continue;
        fromSend.push(at - s);
        fromResponse.push(at - (doneAt[i] ?? Number.NaN));
      }
    }
    return {
      watchers: opts.watchers,
      writes: opts.writes,
      writeErrors,
      expected,
      delivered,
      fromSend: summarize(fromSend),
      fromResponse: summarize(fromResponse),
      writeLatency: summarize(writeLatency),
      clientLoopDelayP99Ms: loop.percentile(99) / 1e6,
      clientLoopDelayMaxMs: loop.max / 1e6,
    };
  } finally {
    for (const h of handles) h.close();
    watchHttp.close();
    writeHttp.close();
  }
}
