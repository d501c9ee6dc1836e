/**
 * Waiting between attempts: exponential back-off (upstream's registration and lease loops start at
 * 100-200 ms and double up to 7 s), jittered periods (wait.JitterUntil), and a sleep that reports an
 * abort as `false` instead of throwing, so loops end quietly when their signal fires.
 */
import type { Clock } from '../../lib/clock.js';

export interface BackoffPolicy {
  readonly initialMs: number;
  readonly maxMs: number;
  readonly factor?: number;
}

/** Upstream's nodeRegistrationMaxBackoff and the lease controller's maxBackoff. */
export const API_BACKOFF: BackoffPolicy = { initialMs: 200, maxMs: 7_000 };

/** Delay before retry number `attempt` (0-based): initial * factor^attempt, capped. */
export function backoffDelay(attempt: number, policy: BackoffPolicy): number {
  const factor = policy.factor ?? 2;
  const raw = policy.initialMs * factor ** Math.max(0, attempt);
  return Math.min(policy.maxMs, Number.isFinite(raw) ? raw : policy.maxMs);
}

/** `ms` stretched by up to `factor` of itself (wait.Jitter); `random` in [0, 1). */
export function jittered(ms: number, factor: number, random: () => number = Math.random): number {
  return factor > 0 ? ms + Math.floor(ms * factor * random()) : ms;
}

/** Sleeps on the clock; false when the signal aborted (before or during the sleep). */
export async function pause(clock: Clock, ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return false;
  try {
    await clock.sleep(ms, signal);
    return !signal.aborted;
  } catch (err) {
    if (signal.aborted) return false;
    throw err;
  }
}

/** One line for a log field, whatever was thrown. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
