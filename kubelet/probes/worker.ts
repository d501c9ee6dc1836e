/**
 * One probe worker per (pod, container, probe kind): a loop that asks its manager for the latest
 * facts, runs the pure decisions of decision.ts, runs the probe when they say so, and publishes
 * result changes through the manager. It sleeps periodSeconds between ticks on the injected Clock;
 * `trigger()` cuts a sleep short (upstream's manual run, used to re-check readiness at once).
 * A worker ends when told to stop or when the decisions say its container is finished; either way
 * it removes the result it published.
 *
 * Cost: one timer per worker, one probe per period.
 */
import type { Probe } from '../../api/core/pod.js';
import type { Clock } from '../../lib/clock.js';
import type { Logger } from '../../lib/log.js';
import type { ProbeKind } from '../types.js';
import { applyVerdict, initialWorkerState, planTick } from './decision.js';
import type { ResultOp, TickInput, WorkerState } from './decision.js';
import type { ProberMetrics, ProbeSeries } from './metrics.js';
import type { ProbeRunner, ProbeTarget } from './prober.js';
import { probeKindTitle, probeSettings } from './settings.js';
import type { ProbeSettings } from './settings.js';

export interface WorkerObservation {
  readonly input: Omit<TickInput, 'kind' | 'settings' | 'now'>;
  /** Present when the container exists; what the probe runs against. */
  readonly target?: ProbeTarget;
}

export interface WorkerHost {
  readonly clock: Clock;
  readonly runner: ProbeRunner;
  readonly log?: Logger;
  readonly metrics?: ProberMetrics;
  /** The latest facts, or undefined once the pod is gone (the worker then stops). */
  observe(): WorkerObservation | undefined;
  /** Publishes result operations (the manager stores them and reports changes). */
  apply(ops: readonly ResultOp[]): void;
  /** Called once when the loop has ended and its result is removed. */
  finished(): void;
}

export interface WorkerKey {
  readonly podUid: string;
  readonly podName: string;
  readonly namespace: string;
  readonly containerName: string;
  readonly kind: ProbeKind;
}

export class ProbeWorker {
  readonly settings: ProbeSettings;
  private state: WorkerState = initialWorkerState;
  private readonly stopper = new AbortController();
  private wake: AbortController | undefined;
  private pendingTrigger = false;
  private loop: Promise<void> | undefined;
  private readonly series: ProbeSeries;

  constructor(
    readonly key: WorkerKey,
    private readonly probe: Probe,
    private readonly host: WorkerHost,
  ) {
    this.settings = probeSettings(probe);
    this.series = {
      probeType: probeKindTitle(key.kind),
      container: key.containerName,
      pod: key.podName,
      namespace: key.namespace,
      podUid: key.podUid,
    };
  }

  /** Starts the loop; the first tick happens after `initialDelayMs` (jitter after a kubelet restart). */
  start(initialDelayMs = 0): Promise<void> {
    this.loop ??= this.run(initialDelayMs);
    return this.loop;
  }

  stop(): void {
    this.stopper.abort();
  }

  get stopped(): boolean {
    return this.stopper.signal.aborted;
  }

  /** Resolves when the loop has ended. */
  done(): Promise<void> {
    return this.loop ?? Promise.resolve();
  }

  /** Probes now instead of at the end of the current period. */
  trigger(): void {
    this.pendingTrigger = true;
    this.wake?.abort();
  }

  /** One tick: decide, maybe probe, publish. Returns false when the worker should end. Exposed for tests. */
  async tick(): Promise<boolean> {
    const obs = this.host.observe();
    if (!obs) return false;
    const now = this.host.clock.now().getTime();
    const plan = planTick(this.state, { ...obs.input, kind: this.key.kind, settings: this.settings, now });
    this.state = plan.state;
    this.host.apply(plan.ops);
    if (plan.next !== 'probe') return plan.next === 'wait';
    if (!obs.target) return true;
    const started = this.host.clock.now().getTime();
    const verdict = await this.host.runner.probe(this.key.kind, this.probe, obs.target, this.stopper.signal);
    if (this.stopped) return false;
    const seconds = (this.host.clock.now().getTime() - started) / 1000;
    this.host.metrics?.observe(this.series, verdict.result === 'success' ? 'successful' : verdict.result === 'failure' ? 'failed' : 'unknown', seconds);
    if (verdict.result === 'error') {
      this.host.log?.debug({ ...this.key, err: verdict.error }, 'probe errored; result discarded');
    }
    // the container may have been replaced while the probe ran: only count verdicts for the one probed
    if (obs.target.containerId !== this.state.containerId) return true;
    const next = applyVerdict(this.state, this.key.kind, this.settings, verdict.result);
    this.state = next.state;
    this.host.apply(next.ops);
    return true;
  }

  private async run(initialDelayMs: number): Promise<void> {
    try {
      if (initialDelayMs > 0 && !(await this.sleep(initialDelayMs))) return;
      while (!this.stopped) {
        let keep: boolean;
        try {
          keep = await this.tick();
        } catch (err) {
          // a worker never dies of one bad tick; it tries again next period
          this.host.log?.error({ ...this.key, err }, 'probe worker tick failed');
          keep = true;
        }
        if (!keep || this.stopped) break;
        if (!(await this.sleep(this.settings.periodSeconds * 1000))) break;
      }
    } finally {
      this.stopper.abort();
      if (this.state.containerId !== undefined) this.host.apply([{ op: 'remove', containerId: this.state.containerId }]);
      this.host.metrics?.forget(this.series);
      this.host.finished();
    }
  }

  /** Sleeps on the clock; false when the worker was stopped meanwhile. A trigger ends it early. */
  private async sleep(ms: number): Promise<boolean> {
    if (this.pendingTrigger) {
      this.pendingTrigger = false;
      return !this.stopped;
    }
    const wake = new AbortController();
    this.wake = wake;
    const onStop = (): void => wake.abort();
    this.stopper.signal.addEventListener('abort', onStop, { once: true });
    try {
      await this.host.clock.sleep(ms, wake.signal);
    } catch {
      // woken early by trigger() or stop()
    } finally {
      this.stopper.signal.removeEventListener('abort', onStop);
      this.wake = undefined;
    }
    this.pendingTrigger = false;
    return !this.stopped;
  }
}
