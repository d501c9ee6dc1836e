/**
 * The container runtime's health as the Ready condition sees it (upstream's runtimeState, pure):
 * each CRI Status answer updates the runtime and network errors; the runtime counts as down when no
 * answer with RuntimeReady=true arrived within the threshold. Messages are upstream's, word for word,
 * because users and tools grep for them:
 *   container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:...
 *   container runtime not ready: RuntimeReady=false reason:... message:...
 *   container runtime is down
 *   container runtime status check may not have completed yet
 * Several errors aggregate as upstream's utilerrors do: one alone as is, more as `[a, b]`.
 */
import type { RuntimeCondition, StatusResponse } from '../cri/types-sandbox.js';

export interface RuntimeHealth {
  /** Last Status answer with RuntimeReady=true (ms since the epoch). */
  readonly lastSyncAt?: number;
  readonly runtimeError?: string;
  readonly networkError?: string;
}

export const INITIAL_RUNTIME_HEALTH: RuntimeHealth = {};

/** A CRI Status call's outcome, as the reporter observed it. */
export type RuntimeStatusObservation =
  | { readonly kind: 'answered'; readonly status: StatusResponse }
  | { readonly kind: 'failed'; readonly error: string };

/** Go's `%v` of kubelet's RuntimeCondition pointer: `<nil>` when the runtime did not report it. */
export function formatRuntimeCondition(c: RuntimeCondition | undefined): string {
  if (c === undefined) return '<nil>';
  return `${c.type}=${String(c.status)} reason:${c.reason} message:${c.message}`;
}

/**
 * Folds one observation into the health. A failed call changes nothing but the clock's meaning: the
 * errors of the last answer stay, and `runtimeErrors` turns the silence into `is down` after the threshold.
 */
export function observeRuntimeStatus(prev: RuntimeHealth, obs: RuntimeStatusObservation, nowMs: number): RuntimeHealth {
  switch (obs.kind) {
    case 'failed':
      return prev;
    case 'answered': {
      const conditions = obs.status.status?.conditions ?? [];
      const find = (type: string): RuntimeCondition | undefined => conditions.find((c) => c.type === type);
      const network = find('NetworkReady');
      const runtime = find('RuntimeReady');
      const networkError = network?.status === true ? undefined : `container runtime network not ready: ${formatRuntimeCondition(network)}`;
      if (runtime?.status !== true) {
        // upstream returns before recording the sync time: a runtime that answers "not ready" is not up
        return {
          ...(prev.lastSyncAt !== undefined ? { lastSyncAt: prev.lastSyncAt } : {}),
          runtimeError: `container runtime not ready: ${formatRuntimeCondition(runtime)}`,
          ...(networkError !== undefined ? { networkError } : {}),
        };
      }
      return { lastSyncAt: nowMs, ...(networkError !== undefined ? { networkError } : {}) };
    }
    default: {
      const never: never = obs;
      return never;
    }
  }
}

export function runtimeErrors(h: RuntimeHealth, nowMs: number, thresholdMs: number): string[] {
  const errs: string[] = [];
  if (h.lastSyncAt === undefined) errs.push('container runtime status check may not have completed yet');
  else if (h.lastSyncAt + thresholdMs <= nowMs) errs.push('container runtime is down');
  if (h.runtimeError !== undefined) errs.push(h.runtimeError);
  return errs;
}

export function networkErrors(h: RuntimeHealth): string[] {
  return h.networkError !== undefined ? [h.networkError] : [];
}

/** utilerrors.NewAggregate(...).Error(): duplicates dropped, one message bare, several bracketed. */
export function aggregateMessage(errs: readonly string[]): string {
  const unique = [...new Set(errs)];
  if (unique.length === 1) return unique[0] ?? '';
  return `[${unique.join(', ')}]`;
}
