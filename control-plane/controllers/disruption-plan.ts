/**
 * PodDisruptionBudget arithmetic, pure (upstream's pkg/controller/disruption and the eviction REST
 * handler): what a budget's status is, and whether one more voluntary disruption (an eviction) fits.
 *
 *   expectedPods    integer minAvailable: the pods the selector matches; percentages and
 *                   maxUnavailable: the replicas their controllers want (one per pod without one)
 *   desiredHealthy  minAvailable (an integer, or a percentage of expected rounded up), or expected
 *                   minus maxUnavailable (a percentage rounded up); neither set: all expected pods
 *   currentHealthy  matching pods that are Ready, not being deleted, and not just evicted
 *                   (status.disruptedPods, for 2 minutes, until the pod is seen going)
 *   disruptionsAllowed = max(0, currentHealthy - desiredHealthy)
 */
import { scaledIntOrPercent } from '../../api/policy/pdb.js';
import type { PodDisruptionBudgetCondition, PodDisruptionBudgetSpec, PodDisruptionBudgetStatus } from '../../api/policy/pdb.js';

export interface PodView {
  readonly name: string;
  readonly ready: boolean;
  readonly deleting: boolean;
  /** `Running`, `Pending`, `Succeeded`, `Failed`. */
  readonly phase: string;
  /** Kind/name of its controller, when it has one (ReplicaSet/web-5d8), else undefined. */
  readonly controller?: string;
}

/** The parts of a budget's spec the arithmetic reads. */
export type BudgetSpec = Pick<PodDisruptionBudgetSpec, 'minAvailable' | 'maxUnavailable' | 'unhealthyPodEvictionPolicy'>;
export type BudgetStatus = PodDisruptionBudgetStatus;
type BudgetCondition = PodDisruptionBudgetCondition;

/** How long an eviction is remembered in status.disruptedPods if its pod is not seen going (upstream). */
export const DISRUPTED_POD_TIMEOUT_MS = 2 * 60_000;

/** expectedPods: see the file comment; `replicasOf` answers a controller's desired replicas. */
export function expectedPods(spec: BudgetSpec, pods: readonly PodView[], replicasOf: (controller: string) => number | undefined): number {
  if (spec.maxUnavailable === undefined && typeof spec.minAvailable !== 'string') return pods.length;
  let total = 0;
  const seen = new Set<string>();
  for (const p of pods) {
    if (p.controller === undefined) {
      total++;
      continue;
    }
    if (seen.has(p.controller)) continue;
    seen.add(p.controller);
    total += replicasOf(p.controller) ?? pods.filter((q) => q.controller === p.controller).length;
  }
  return total;
}

export function desiredHealthy(spec: BudgetSpec, expected: number): number {
  if (spec.minAvailable !== undefined) return scaledIntOrPercent(spec.minAvailable, expected, true) ?? expected;
  if (spec.maxUnavailable !== undefined) return Math.max(0, expected - (scaledIntOrPercent(spec.maxUnavailable, expected, true) ?? 0));
  return expected;
}

/** The disrupted pods still to be counted out: not seen going and younger than the timeout. */
export function liveDisruptions(disrupted: Readonly<Record<string, string>> | undefined, pods: readonly PodView[], nowMs: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, at] of Object.entries(disrupted ?? {})) {
    const pod = pods.find((p) => p.name === name);
    if (pod === undefined || pod.deleting) continue;
    if (nowMs - Date.parse(at) > DISRUPTED_POD_TIMEOUT_MS) continue;
    out[name] = at;
  }
  return out;
}

/** The budget's status from its pods (pure). */
export function budgetStatus(
  spec: BudgetSpec,
  generation: number,
  pods: readonly PodView[],
  previous: BudgetStatus | undefined,
  replicasOf: (controller: string) => number | undefined,
  now: Date,
): BudgetStatus {
  const disrupted = liveDisruptions(previous?.disruptedPods, pods, now.getTime());
  const expected = expectedPods(spec, pods, replicasOf);
  const desired = desiredHealthy(spec, expected);
  const healthy = pods.filter((p) => p.ready && !p.deleting && disrupted[p.name] === undefined).length;
  const allowed = Math.max(0, healthy - desired);
  const ok = allowed > 0;
  const old = previous?.conditions?.find((c) => c.type === 'DisruptionAllowed');
  const condition: BudgetCondition = {
    type: 'DisruptionAllowed',
    status: ok ? 'True' : 'False',
    reason: ok ? 'SufficientPods' : 'InsufficientPods',
    message: ok ? '' : `The disruption budget needs ${desired} healthy pods and has ${healthy} currently`,
    observedGeneration: generation,
    lastTransitionTime: (old !== undefined && old.status === (ok ? 'True' : 'False') ? old.lastTransitionTime : undefined) ?? now.toISOString().replace(/\.\d+Z$/, 'Z'),
  };
  return {
    observedGeneration: generation,
    ...(Object.keys(disrupted).length > 0 ? { disruptedPods: disrupted } : {}),
    disruptionsAllowed: allowed,
    currentHealthy: healthy,
    desiredHealthy: desired,
    expectedPods: expected,
    conditions: [condition],
  };
}

export type EvictionVerdict =
  | { readonly kind: 'allow'; readonly status?: BudgetStatus }
  | { readonly kind: 'refuse'; readonly cause: string };

/**
 * May `pod` be evicted under this budget (upstream's eviction handler)? A pod not running (pending,
 * done) always may; an unready one may when the policy is AlwaysAllow or the budget is met
 * (IfHealthyBudget, the default); otherwise one disruption must be allowed, and the returned status
 * spends it (disruptionsAllowed - 1, the pod recorded in disruptedPods).
 */
export function evictionVerdict(pdbName: string, generation: number, spec: BudgetSpec, status: BudgetStatus | undefined, pod: PodView, now: Date): EvictionVerdict {
  if (pod.phase === 'Pending' || pod.phase === 'Succeeded' || pod.phase === 'Failed') return { kind: 'allow' };
  if (status === undefined || (status.observedGeneration ?? 0) < generation) {
    return { kind: 'refuse', cause: `The disruption budget ${pdbName} is still being processed by the server.` };
  }
  if (!pod.ready) {
    const policy = spec.unhealthyPodEvictionPolicy ?? 'IfHealthyBudget';
    if (policy === 'AlwaysAllow' || status.currentHealthy >= status.desiredHealthy) return { kind: 'allow' };
  }
  if (status.disruptionsAllowed <= 0) {
    return { kind: 'refuse', cause: `The disruption budget ${pdbName} needs ${status.desiredHealthy} healthy pods and has ${status.currentHealthy} currently` };
  }
  if (!pod.ready) return { kind: 'allow' };
  return {
    kind: 'allow',
    status: {
      ...status,
      disruptionsAllowed: status.disruptionsAllowed - 1,
      disruptedPods: { ...(status.disruptedPods ?? {}), [pod.name]: now.toISOString().replace(/\.\d+Z$/, 'Z') },
    },
  };
}
