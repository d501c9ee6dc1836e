/**
 * The probe worker's decisions, pure: what to publish and whether to probe on each tick
 * (`planTick`), and what a probe's verdict changes (`applyVerdict`). Mirrors upstream's
 * worker.doProbe:
 * - a new container instance resets the published result to the kind's initial value
 *   (readiness: failure, liveness: success, startup: unknown) and resumes probing;
 * - a liveness failure or any startup verdict past its threshold puts the worker on hold until
 *   the next container instance (the container is about to be restarted, or has started);
 * - a container that stopped reads as failure; the worker ends when it will not be restarted;
 * - once the pod is being deleted, liveness and startup publish success and stop;
 * - nothing runs before initialDelaySeconds, and liveness/readiness wait until the startup probe
 *   succeeded (startup stops probing then);
 * - a verdict must repeat failureThreshold / successThreshold times before it is published.
 * Deliberate differences: threshold counters restart with each container instance, and a created
 * but not yet started container publishes nothing (upstream never observes that state).
 */
import type { ProbeKind, ProbeResult, RuntimeContainerState } from '../types.js';
import type { ProbeSettings } from './settings.js';

export interface WorkerState {
  /** The container instance being probed. */
  readonly containerId?: string;
  readonly lastVerdict?: 'success' | 'failure';
  /** How many times in a row lastVerdict came back. */
  readonly resultRun: number;
  readonly onHold: boolean;
}

export const initialWorkerState: WorkerState = { resultRun: 0, onHold: false };

export interface ObservedContainer {
  readonly id: string;
  readonly state: RuntimeContainerState;
  /** ms since the epoch */
  readonly startedAt?: number;
}

export interface TickInput {
  readonly kind: ProbeKind;
  readonly settings: ProbeSettings;
  /** The newest instance of the worker's container, if one exists. */
  readonly container?: ObservedContainer;
  /** The container counts as started: no startup probe, or it succeeded. */
  readonly started: boolean;
  readonly podDeleting: boolean;
  /** A stopped instance will be followed by a new one (restart policy, sidecar). */
  readonly willRestart: boolean;
  /** ms since the epoch */
  readonly now: number;
}

export type ResultOp =
  | { readonly op: 'set'; readonly containerId: string; readonly result: ProbeResult }
  | { readonly op: 'remove'; readonly containerId: string };

export type TickNext = 'probe' | 'wait' | 'stop';

export interface TickPlan {
  readonly state: WorkerState;
  readonly ops: readonly ResultOp[];
  readonly next: TickNext;
}

export function initialResult(kind: ProbeKind): ProbeResult {
  switch (kind) {
    case 'readiness':
      return 'failure';
    case 'liveness':
      return 'success';
    case 'startup':
      return 'unknown';
    default: {
      const never: never = kind;
      return never;
    }
  }
}

export function planTick(state: WorkerState, input: TickInput): TickPlan {
  const c = input.container;
  if (!c) return { state, ops: [], next: 'wait' };
  const ops: ResultOp[] = [];
  let s = state;
  if (c.id !== s.containerId) {
    if (s.containerId !== undefined) ops.push({ op: 'remove', containerId: s.containerId });
    ops.push({ op: 'set', containerId: c.id, result: initialResult(input.kind) });
    s = { containerId: c.id, resultRun: 0, onHold: false };
  }
  if (s.onHold) return { state: s, ops, next: 'wait' };

  if (c.state !== 'running') {
    if (c.state === 'created') return { state: s, ops, next: 'wait' };
    ops.push({ op: 'set', containerId: c.id, result: 'failure' });
    const terminated = c.state === 'exited';
    return { state: s, ops, next: terminated && !input.willRestart ? 'stop' : 'wait' };
  }

  if (input.podDeleting && (input.kind === 'liveness' || input.kind === 'startup')) {
    // a quiet shutdown: nothing may restart a container of a pod that is going away
    ops.push({ op: 'set', containerId: c.id, result: 'success' });
    return { state: s, ops, next: 'stop' };
  }

  if (c.startedAt !== undefined && input.now - c.startedAt < input.settings.initialDelaySeconds * 1000) {
    return { state: s, ops, next: 'wait' };
  }

  if (input.started ? input.kind === 'startup' : input.kind !== 'startup') return { state: s, ops, next: 'wait' };
  return { state: s, ops, next: 'probe' };
}

export interface VerdictPlan {
  readonly state: WorkerState;
  readonly ops: readonly ResultOp[];
}

/** Counts a probe's verdict against the thresholds; an errored probe changes nothing. */
export function applyVerdict(state: WorkerState, kind: ProbeKind, settings: ProbeSettings, verdict: 'success' | 'failure' | 'error'): VerdictPlan {
  if (verdict === 'error' || state.containerId === undefined) return { state, ops: [] };
  const resultRun = state.lastVerdict === verdict ? state.resultRun + 1 : 1;
  const counted: WorkerState = { ...state, lastVerdict: verdict, resultRun };
  const threshold = verdict === 'failure' ? settings.failureThreshold : settings.successThreshold;
  if (resultRun < threshold) return { state: counted, ops: [] };
  const ops: ResultOp[] = [{ op: 'set', containerId: state.containerId, result: verdict }];
  if ((kind === 'liveness' && verdict === 'failure') || kind === 'startup') {
    return { state: { ...counted, onHold: true, resultRun: 0 }, ops };
  }
  return { state: counted, ops };
}
