/**
 * The probe manager: keeps one ProbeWorker per (pod, container, probe kind) the pod's spec declares,
 * feeds the workers the latest runtime view of their pod, stores results (ProbeResults) and calls
 * `onChange` whenever a published result changes, so the pod worker re-syncs the pod (a liveness
 * failure restarts the container, readiness flips the Ready condition).
 *
 * The pod worker calls `updatePod(pod, runtimePod)` after each sync and `removePod(uid)` once the pod
 * is gone. Workers are created once per pod (as upstream's AddPod): a worker that finished because its
 * container will never run again is not recreated. Probed containers are the regular ones and
 * restartable init containers (sidecars), as upstream.
 *
 * Cost: O(containers x kinds) per updatePod; probes run on the workers' own timers.
 */
import type { Container, Pod } from '../../api/core/pod.js';
import type { Clock } from '../../lib/clock.js';
import { realClock } from '../../lib/clock.js';
import type { Logger } from '../../lib/log.js';
import type { RuntimeService } from '../cri/services.js';
import type { ProbeKind, ProbeResult, ProbeResults, RuntimeContainer, RuntimePod } from '../types.js';
import type { ResultOp } from './decision.js';
import type { ProberMetrics } from './metrics.js';
import { Prober } from './prober.js';
import type { ProbeRunner } from './prober.js';
import { ProbeResultsCache } from './results.js';
import { defaultProbeRunners } from './runners.js';
import { probeOf } from './settings.js';
import type { ContainerEventSink } from './settings.js';
import { ProbeWorker } from './worker.js';
import type { WorkerObservation } from './worker.js';

export const PROBE_KINDS: readonly ProbeKind[] = ['startup', 'liveness', 'readiness'];

export interface ProbeResultChange {
  readonly podUid: string;
  readonly containerName: string;
  readonly containerId: string;
  readonly kind: ProbeKind;
  readonly result: ProbeResult;
}

export interface ProbeManagerOptions {
  /** Runs exec probes; required unless `prober` is given. */
  readonly runtime?: Pick<RuntimeService, 'execSync'>;
  /** Replaces the real prober (unit tests). */
  readonly prober?: ProbeRunner;
  readonly clock?: Clock;
  readonly onChange?: (change: ProbeResultChange) => void;
  readonly events?: ContainerEventSink;
  readonly metrics?: ProberMetrics;
  /** The address hostNetwork pods are probed at (their pod IP is the node's). */
  readonly nodeIP?: string;
  readonly log?: Logger;
  /** For the start jitter after a kubelet restart; injected for deterministic tests. */
  readonly random?: () => number;
}

interface PodEntry {
  pod: Pod;
  runtimePod: RuntimePod | undefined;
  readonly workers: Map<string, ProbeWorker>;
  /** Workers that ended on their own; never recreated for this pod. */
  readonly finished: Set<string>;
}

/** Sidecars (init containers with restartPolicy Always) are probed like regular containers. */
export function probedContainers(pod: Pod): readonly Container[] {
  return [...(pod.spec.initContainers ?? []).filter((c) => c.restartPolicy === 'Always'), ...pod.spec.containers];
}

/** Whether a stopped container of this spec will be started again. */
export function willRestart(pod: Pod, container: Container, exitCode: number | undefined): boolean {
  if (container.restartPolicy === 'Always') return true;
  switch (pod.spec.restartPolicy ?? 'Always') {
    case 'Always':
      return true;
    case 'OnFailure':
      return exitCode !== 0;
    case 'Never':
      return false;
    default:
      return false;
  }
}

const workerKey = (name: string, kind: ProbeKind): string => `${name}/${kind}`;

export class ProbeManager implements ProbeResults {
  readonly results = new ProbeResultsCache();
  private readonly pods = new Map<string, PodEntry>();
  private readonly clock: Clock;
  private readonly runner: ProbeRunner;
  private readonly startedAt: number;

  constructor(private readonly opts: ProbeManagerOptions) {
    this.clock = opts.clock ?? realClock;
    if (opts.prober) this.runner = opts.prober;
    else if (opts.runtime) this.runner = new Prober(defaultProbeRunners(opts.runtime), opts.events);
    else throw new TypeError('ProbeManager needs a runtime or a prober');
    this.startedAt = this.clock.now().getTime();
  }

  get(containerId: string, kind: ProbeKind): ProbeResult {
    return this.results.get(containerId, kind);
  }

  /** Adds workers for new pods and gives every worker of the pod the latest runtime view. */
  updatePod(pod: Pod, runtimePod: RuntimePod | undefined): void {
    const uid = pod.metadata.uid ?? '';
    let entry = this.pods.get(uid);
    if (!entry) {
      entry = { pod, runtimePod, workers: new Map(), finished: new Set() };
      this.pods.set(uid, entry);
    }
    entry.pod = pod;
    entry.runtimePod = runtimePod;
    const existing = new Set(entry.workers.keys());
    for (const container of probedContainers(pod)) {
      for (const kind of PROBE_KINDS) {
        const probe = probeOf(container, kind);
        const key = workerKey(container.name, kind);
        if (!probe || entry.workers.has(key) || entry.finished.has(key)) continue;
        this.startWorker(entry, uid, container.name, kind, probe);
      }
    }
    // as upstream's UpdatePodStatus: a running container not yet ready gets its readiness probed now
    // (a worker created just now probes on its own first tick)
    for (const container of probedContainers(pod)) {
      const key = workerKey(container.name, 'readiness');
      const w = entry.workers.get(key);
      const c = newestInstance(runtimePod, container.name);
      if (w && existing.has(key) && c?.state === 'running' && this.results.get(c.id, 'readiness') !== 'success') w.trigger();
    }
  }

  removePod(uid: string): void {
    const entry = this.pods.get(uid);
    if (!entry) return;
    this.pods.delete(uid);
    for (const w of entry.workers.values()) w.stop();
  }

  /** Removes every pod not in `keep` (after a full relist). */
  cleanupPods(keep: ReadonlySet<string>): void {
    for (const uid of [...this.pods.keys()]) if (!keep.has(uid)) this.removePod(uid);
  }

  /**
   * Upstream's started/ready for a container status: a container is started once its startup probe
   * succeeded (or it has none); ready once its readiness probe succeeded (or it has none).
   */
  containerProbeStatus(podUid: string, containerName: string, containerId: string, running: boolean): { started: boolean; ready: boolean } {
    if (!running) return { started: false, ready: false };
    const entry = this.pods.get(podUid);
    const hasWorker = (kind: ProbeKind): boolean => entry?.workers.has(workerKey(containerName, kind)) ?? false;
    const startup = this.results.has(containerId, 'startup') ? this.results.get(containerId, 'startup') === 'success' : !hasWorker('startup');
    const ready = this.results.get(containerId, 'readiness') === 'success' || (!this.results.has(containerId, 'readiness') && !hasWorker('readiness'));
    return { started: startup, ready: startup && ready };
  }

  /** `container/kind` of every live worker of a pod, sorted (tests, debugging). */
  workersOf(uid: string): string[] {
    return [...(this.pods.get(uid)?.workers.keys() ?? [])].sort();
  }

  /** Stops every worker and waits for them to end. */
  async stop(): Promise<void> {
    const all = [...this.pods.values()].flatMap((e) => [...e.workers.values()]);
    this.pods.clear();
    for (const w of all) w.stop();
    await Promise.all(all.map((w) => w.done()));
  }

  private startWorker(entry: PodEntry, uid: string, containerName: string, kind: ProbeKind, probe: NonNullable<ReturnType<typeof probeOf>>): void {
    const key = workerKey(containerName, kind);
    const worker: ProbeWorker = new ProbeWorker(
      { podUid: uid, podName: entry.pod.metadata.name ?? '', namespace: entry.pod.metadata.namespace ?? '', containerName, kind },
      probe,
      {
        clock: this.clock,
        runner: this.runner,
        ...(this.opts.log ? { log: this.opts.log } : {}),
        ...(this.opts.metrics ? { metrics: this.opts.metrics } : {}),
        observe: () => this.observe(uid, containerName),
        apply: (ops) => this.apply(uid, containerName, kind, ops),
        finished: () => {
          const current = this.pods.get(uid);
          if (current?.workers.get(key) === worker) {
            current.workers.delete(key);
            current.finished.add(key);
          }
        },
      },
    );
    entry.workers.set(key, worker);
    const period = worker.settings.periodSeconds * 1000;
    // right after a kubelet restart every worker starts at once: spread them over one period
    const jitter = this.clock.now().getTime() - this.startedAt < period ? Math.floor((this.opts.random ?? Math.random)() * period) : 0;
    void worker.start(jitter);
  }

  private observe(uid: string, containerName: string): WorkerObservation | undefined {
    const entry = this.pods.get(uid);
    if (!entry) return undefined;
    const { pod, runtimePod } = entry;
    const spec = probedContainers(pod).find((c) => c.name === containerName);
    if (!spec) return undefined;
    const c = newestInstance(runtimePod, containerName);
    const podDeleting = pod.metadata.deletionTimestamp !== undefined;
    if (!c) return { input: { started: false, podDeleting, willRestart: true } };
    const started = spec.startupProbe === undefined || this.results.get(c.id, 'startup') === 'success';
    const sandbox = runtimePod?.sandboxes[0];
    const podIP = sandbox?.hostNetwork || pod.spec.hostNetwork ? (this.opts.nodeIP ?? pod.status?.hostIP ?? '127.0.0.1') : (sandbox?.ip ?? pod.status?.podIP ?? '');
    return {
      input: {
        container: { id: c.id, state: c.state, ...(c.startedAt !== undefined ? { startedAt: c.startedAt } : {}) },
        started,
        podDeleting,
        willRestart: willRestart(pod, spec, c.exitCode),
      },
      target: { pod, container: spec, containerId: c.id, podIP },
    };
  }

  private apply(uid: string, containerName: string, kind: ProbeKind, ops: readonly ResultOp[]): void {
    for (const op of ops) {
      switch (op.op) {
        case 'remove':
          this.results.remove(op.containerId, kind);
          break;
        case 'set':
          if (this.results.set(op.containerId, kind, op.result)) {
            try {
              this.opts.onChange?.({ podUid: uid, containerName, containerId: op.containerId, kind, result: op.result });
            } catch (err) {
              this.opts.log?.error({ err, podUid: uid, containerName, kind }, 'probe result callback failed');
            }
          }
          break;
        default: {
          const never: never = op;
          throw new Error(`unknown result op ${String(never)}`);
        }
      }
    }
  }
}

function newestInstance(runtimePod: RuntimePod | undefined, name: string): RuntimeContainer | undefined {
  return runtimePod?.containers.find((c) => c.name === name);
}
