/**
 * Pod workers: one serial async worker per pod UID, as upstream's podWorkers. Every source of work
 * (the API informer, static pod manifests, the PLEG, probe results, the periodic resync) only calls
 * `update`, `remove` or `trigger`; the worker for that UID syncs the pod one pass at a time.
 *
 * Latest update wins: a worker holds at most one pending update. An update arriving while a pass runs
 * replaces whatever was pending (older pending updates are dropped unseen), and the worker runs it
 * right after the current pass.
 *
 * Life of a worker: `syncing` (syncPod every update and at least every `resyncIntervalMs`) ->
 * `terminating` (the pod got a deletionTimestamp, was removed from its source, or is an orphan found
 * in the runtime: terminatePod until every container stopped, retried every `retryIntervalMs`) ->
 * `terminated` (cleanupPod: volumes torn down, deletion confirmed to the apiserver; retried until it
 * succeeds) -> forgotten. A pod never goes back from terminating to syncing: a UID names one pod.
 *
 * A failing pass never throws out: it is logged and the worker retries with a doubling delay
 * (retryIntervalMs .. resyncIntervalMs), as upstream requeues with back-off.
 *
 * Cost model: one promise chain per UID; a 1 s ticker scans the workers for due resyncs (O(pods)).
 */
import type { Pod } from '../api/core/pod.js';
import type { Clock } from '../lib/clock.js';
import { realClock } from '../lib/clock.js';
import type { Logger } from '../lib/log.js';
import { silentLogger } from '../lib/log.js';

/** What a sync pass may ask of its worker. */
export interface SyncOutcome {
  /** Sync again after this long (a back-off window ends), if sooner than the periodic resync. */
  readonly requeueAfterMs?: number;
}

/** What a pass of the worker does; implemented by pod-sync.ts (and fakes in tests). */
export interface PodSyncHandler {
  /** Brings the pod to its spec and reports its status. */
  syncPod(pod: Pod, signal: AbortSignal): Promise<SyncOutcome | void>;
  /**
   * Stops every container and the sandbox within `gracePeriodSeconds`; true when nothing runs any
   * more. `pod` is undefined for an orphan known only from the runtime.
   */
  terminatePod(uid: string, pod: Pod | undefined, gracePeriodSeconds: number | undefined, removed: boolean, signal: AbortSignal): Promise<boolean>;
  /** After termination: tear down volumes, write the final status, confirm deletion. True when done. */
  cleanupPod(uid: string, pod: Pod | undefined, removed: boolean, signal: AbortSignal): Promise<boolean>;
}

export type WorkerState = 'syncing' | 'terminating' | 'terminated';

export interface PodWorkersOptions {
  readonly handler: PodSyncHandler;
  readonly clock?: Clock;
  readonly log?: Logger;
  /** Periodic resync of a healthy pod (upstream --sync-frequency is 1 min; knode 10 s). */
  readonly resyncIntervalMs?: number;
  /** First retry after a failed pass or an unfinished termination. */
  readonly retryIntervalMs?: number;
  /** How often due resyncs are looked for. */
  readonly tickMs?: number;
}

interface Pending {
  readonly pod: Pod | undefined;
  /** Removed from its source (API or manifest) or an orphan: terminate. */
  readonly removed: boolean;
  readonly gracePeriodSeconds?: number;
}

interface Worker {
  readonly uid: string;
  state: WorkerState;
  /** The newest pod object seen (kept through termination for its grace period and hooks). */
  pod: Pod | undefined;
  removed: boolean;
  gracePeriodSeconds: number | undefined;
  pending: Pending | undefined;
  running: boolean;
  lastPassAt: number;
  /** When a failed pass may be retried (0: no retry scheduled). */
  retryAt: number;
  /** When the pass asked to be run again (0: at the periodic resync). */
  requeueAt: number;
  failures: number;
  passes: number;
}

export interface PodWorkerInfo {
  readonly uid: string;
  readonly state: WorkerState;
  readonly passes: number;
  readonly failures: number;
}

/** Upstream: the grace period a deletion asked for, else the spec's, else 30 s. */
export function gracePeriodOf(pod: Pod | undefined, override?: number): number | undefined {
  if (override !== undefined) return override;
  if (pod === undefined) return undefined;
  return pod.metadata.deletionGracePeriodSeconds ?? pod.spec.terminationGracePeriodSeconds ?? 30;
}

/** Whether an update asks the worker to terminate its pod. */
export function wantsTermination(p: Pick<Pending, 'pod' | 'removed'>): boolean {
  return p.removed || p.pod?.metadata.deletionTimestamp !== undefined;
}

export class PodWorkers {
  private readonly workers = new Map<string, Worker>();
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly resyncMs: number;
  private readonly retryMs: number;
  private readonly tickMs: number;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly abort = new AbortController();
  private idleWaiters: Array<() => void> = [];

  constructor(private readonly opts: PodWorkersOptions) {
    this.clock = opts.clock ?? realClock;
    this.log = (opts.log ?? silentLogger()).child({ component: 'pod-workers' });
    this.resyncMs = opts.resyncIntervalMs ?? 10_000;
    this.retryMs = opts.retryIntervalMs ?? 1_000;
    this.tickMs = opts.tickMs ?? 1_000;
  }

  /** A new or changed pod from a source. */
  update(pod: Pod): void {
    const uid = pod.metadata.uid ?? '';
    if (uid === '') return;
    this.enqueue(uid, { pod, removed: false });
  }

  /** The pod left its source (deleted from the API, manifest removed): kill it and forget it. */
  remove(uid: string, pod?: Pod): void {
    const w = this.workers.get(uid);
    this.enqueue(uid, { pod: pod ?? w?.pod, removed: true });
  }

  /** Kills a pod known only from the runtime (no source has it), with an optional grace period. */
  killOrphan(uid: string, gracePeriodSeconds?: number): void {
    const w = this.workers.get(uid);
    if (w !== undefined && w.state !== 'syncing') return;
    this.enqueue(uid, { pod: w?.pod, removed: true, ...(gracePeriodSeconds !== undefined ? { gracePeriodSeconds } : {}) });
  }

  /** Something changed for this pod (PLEG, probe result): sync it again with the pod it has. */
  trigger(uid: string): void {
    const w = this.workers.get(uid);
    if (w === undefined) return;
    if (w.pending !== undefined) return; // a pass is already due
    this.enqueue(uid, { pod: w.pod, removed: w.removed });
  }

  has(uid: string): boolean {
    return this.workers.has(uid);
  }

  info(uid: string): PodWorkerInfo | undefined {
    const w = this.workers.get(uid);
    return w === undefined ? undefined : { uid, state: w.state, passes: w.passes, failures: w.failures };
  }

  /** UIDs with a worker (any state). */
  uids(): string[] {
    return [...this.workers.keys()];
  }

  /** Runs the resync ticker until `signal` aborts, then waits for running passes to finish. */
  async run(signal: AbortSignal): Promise<void> {
    const onAbort = (): void => this.abort.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      while (!signal.aborted) {
        try {
          await this.clock.sleep(this.tickMs, signal);
        } catch {
          break;
        }
        this.tick();
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
      this.abort.abort();
      await Promise.allSettled([...this.inFlight]);
    }
  }

  /** Queues resyncs and retries that are due. Exposed for tests. */
  tick(): void {
    const now = this.clock.now().getTime();
    for (const w of this.workers.values()) {
      if (w.running || w.pending !== undefined) continue;
      const due =
        w.retryAt > 0 ? now >= w.retryAt : w.state === 'syncing' && (now - w.lastPassAt >= this.resyncMs || (w.requeueAt > 0 && now >= w.requeueAt));
      if (due) this.enqueue(w.uid, { pod: w.pod, removed: w.removed });
    }
  }

  /** Resolves when no worker runs or has pending work (tests). */
  async idle(): Promise<void> {
    while ([...this.workers.values()].some((w) => w.running || w.pending !== undefined)) {
      await new Promise<void>((r) => this.idleWaiters.push(r));
    }
  }

  private enqueue(uid: string, p: Pending): void {
    if (this.abort.signal.aborted) return;
    let w = this.workers.get(uid);
    if (w === undefined) {
      w = {
        uid,
        state: 'syncing',
        pod: p.pod,
        removed: false,
        gracePeriodSeconds: undefined,
        pending: undefined,
        running: false,
        lastPassAt: 0,
        retryAt: 0,
        requeueAt: 0,
        failures: 0,
        passes: 0,
      };
      this.workers.set(uid, w);
    }
    // a termination request is never downgraded by a later plain update
    const removed = p.removed || (w.pending?.removed ?? false);
    const grace = p.gracePeriodSeconds ?? w.pending?.gracePeriodSeconds;
    w.pending = { pod: p.pod ?? w.pending?.pod ?? w.pod, removed, ...(grace !== undefined ? { gracePeriodSeconds: grace } : {}) };
    if (!w.running) this.start(w);
  }

  private start(w: Worker): void {
    w.running = true;
    const p = this.loop(w).finally(() => {
      this.inFlight.delete(p);
      w.running = false;
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const r of waiters) r();
    });
    this.inFlight.add(p);
  }

  private async loop(w: Worker): Promise<void> {
    while (w.pending !== undefined && !this.abort.signal.aborted) {
      const work = w.pending;
      w.pending = undefined;
      if (work.pod !== undefined) w.pod = work.pod;
      if (work.removed) w.removed = true;
      if (work.gracePeriodSeconds !== undefined) w.gracePeriodSeconds = work.gracePeriodSeconds;
      if (w.state === 'syncing' && wantsTermination({ pod: w.pod, removed: w.removed })) {
        w.state = 'terminating';
        this.log.info({ pod: podName(w), uid: w.uid, removed: w.removed }, 'terminating pod');
      }
      const ok = await this.pass(w);
      w.passes++;
      w.lastPassAt = this.clock.now().getTime();
      if (ok === 'forget') {
        this.workers.delete(w.uid);
        return;
      }
      if (ok === 'done') {
        w.failures = 0;
        w.retryAt = 0;
      } else {
        w.failures++;
        const delay = Math.min(this.resyncMs, this.retryMs * 2 ** Math.min(w.failures - 1, 10));
        w.retryAt = w.lastPassAt + delay;
      }
    }
  }

  /** One pass in the worker's current state; never throws. */
  private async pass(w: Worker): Promise<'done' | 'retry' | 'forget'> {
    const signal = this.abort.signal;
    w.requeueAt = 0;
    try {
      switch (w.state) {
        case 'syncing': {
          if (w.pod === undefined) return 'forget';
          const outcome = await this.opts.handler.syncPod(w.pod, signal);
          const after = outcome?.requeueAfterMs;
          if (after !== undefined && after < this.resyncMs) w.requeueAt = this.clock.now().getTime() + Math.max(0, after);
          return 'done';
        }
        case 'terminating': {
          const stopped = await this.opts.handler.terminatePod(w.uid, w.pod, gracePeriodOf(w.pod, w.gracePeriodSeconds), w.removed, signal);
          if (!stopped) return 'retry';
          w.state = 'terminated';
          return this.cleanup(w, signal);
        }
        case 'terminated':
          return this.cleanup(w, signal);
        default: {
          const never: never = w.state;
          return never;
        }
      }
    } catch (err) {
      if (signal.aborted) return 'retry';
      this.log.warn({ pod: podName(w), uid: w.uid, state: w.state, err: err instanceof Error ? err.message : String(err) }, 'pod sync failed; will retry');
      return 'retry';
    }
  }

  private async cleanup(w: Worker, signal: AbortSignal): Promise<'done' | 'retry' | 'forget'> {
    const done = await this.opts.handler.cleanupPod(w.uid, w.pod, w.removed, signal);
    if (!done) return 'retry';
    this.log.info({ pod: podName(w), uid: w.uid }, 'pod terminated and cleaned up');
    return 'forget';
  }
}

function podName(w: Worker): string {
  const m = w.pod?.metadata;
  return m === undefined ? w.uid : `${m.namespace ?? ''}/${m.name ?? ''}`;
}
