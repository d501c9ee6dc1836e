/**
 * Taint-based eviction decisions (upstream's NoExecuteTaintManager, now taint-eviction-controller),
 * pure: which pods on a node with NoExecute taints go now, which go later, which stay; and the token
 * bucket that paces both tainting (nodes/s per zone) and deleting (pods/s).
 *
 * When "later" starts: upstream counts tolerationSeconds from the moment its in-memory queue first saw
 * the pod under the taint, which a new leader forgets. We count from each taint's `timeAdded` (stamped
 * by this controller when it adds the taint, so it survives a leader change), per taint: a pod leaves at
 * the earliest `timeAdded + tolerationSeconds` over the NoExecute taints, using for each taint the first
 * toleration that tolerates it (upstream GetMatchingTolerations). A taint without timeAdded (added by a
 * user) counts from `firstSeenMs`, the time the caller first saw it. tolerationSeconds <= 0 means now;
 * no tolerationSeconds means forever.
 */
import type { Pod } from '../../api/core/pod.js';
import type { Taint } from '../../api/core/scheduling.js';
import { matchingToleration } from '../../api/core/tolerations.js';

export const DISRUPTION_TARGET = 'DisruptionTarget';
export const REASON_DELETION_BY_TAINT_MANAGER = 'DeletionByTaintManager';
export const MESSAGE_DELETION_BY_TAINT_MANAGER = 'Taint manager: deleting due to NoExecute taint';
export const EVENT_TAINT_MANAGER_EVICTION = 'TaintManagerEviction';

export type EvictionDecision =
  /** No NoExecute taint applies, or every one is tolerated forever. */
  | { readonly kind: 'keep'; readonly pod: Pod }
  /** An untolerated NoExecute taint, or a toleration whose time is up. */
  | { readonly kind: 'evict'; readonly pod: Pod }
  /** Tolerated for a while: re-check at `atMs`. */
  | { readonly kind: 'wait'; readonly pod: Pod; readonly atMs: number };

const timeMs = (s: string | undefined): number | undefined => {
  const t = s !== undefined ? Date.parse(s) : Number.NaN;
  return Number.isNaN(t) ? undefined : t;
};

/**
 * The decision for each pod bound to a node whose NoExecute taints are `taints` (other effects are
 * ignored). Pods already being deleted are left out: there is nothing more to do for them.
 */
export function planEvictions(
  pods: readonly Pod[],
  taints: readonly Taint[],
  nowMs: number,
  firstSeenMs: (t: Taint) => number = () => nowMs,
): EvictionDecision[] {
  const noExecute = taints.filter((t) => t.effect === 'NoExecute');
  const out: EvictionDecision[] = [];
  for (const pod of pods) {
    if (pod.metadata.deletionTimestamp !== undefined) continue;
    if (noExecute.length === 0) {
      out.push({ kind: 'keep', pod });
      continue;
    }
    let deadline = Number.POSITIVE_INFINITY;
    for (const taint of noExecute) {
      const tol = matchingToleration(pod.spec.tolerations, taint);
      if (tol === undefined) {
        deadline = Number.NEGATIVE_INFINITY;
        break;
      }
      if (tol.tolerationSeconds === undefined || tol.tolerationSeconds === null) continue;
      const start = timeMs(taint.timeAdded) ?? firstSeenMs(taint);
      deadline = Math.min(deadline, start + Math.max(0, tol.tolerationSeconds) * 1000);
    }
    if (deadline === Number.POSITIVE_INFINITY) out.push({ kind: 'keep', pod });
    else if (deadline <= nowMs) out.push({ kind: 'evict', pod });
    else out.push({ kind: 'wait', pod, atMs: deadline });
  }
  return out;
}

/**
 * A token bucket on caller-supplied time (ms): `rate` tokens per second up to `burst`, starting full.
 * Rate 0 gives nothing (upstream's zero-QPS limiter in a partially disrupted small zone).
 */
export class TokenBucket {
  private tokens: number;
  private lastMs: number;

  constructor(
    private rate: number,
    private readonly burst: number,
    nowMs: number,
  ) {
    this.tokens = burst;
    this.lastMs = nowMs;
  }

  private refill(nowMs: number): void {
    if (nowMs > this.lastMs) this.tokens = Math.min(this.burst, this.tokens + ((nowMs - this.lastMs) / 1000) * this.rate);
    this.lastMs = Math.max(this.lastMs, nowMs);
  }

  /** Changes the rate; tokens earned so far at the old rate are kept. */
  setRate(rate: number, nowMs: number): void {
    this.refill(nowMs);
    this.rate = rate;
  }

  tryTake(nowMs: number): boolean {
    this.refill(nowMs);
    if (this.rate <= 0 || this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Returns a token taken for work that did not happen. */
  giveBack(): void {
    this.tokens = Math.min(this.burst, this.tokens + 1);
  }

  /** Milliseconds until a token is available (Infinity at rate 0). */
  waitMs(nowMs: number): number {
    this.refill(nowMs);
    if (this.rate <= 0) return Number.POSITIVE_INFINITY;
    return this.tokens >= 1 ? 0 : Math.ceil(((1 - this.tokens) / this.rate) * 1000);
  }
}
