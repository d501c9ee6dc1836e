/**
 * What the ReplicaSet (and Deployment) controllers need to know about a pod, as upstream's
 * pkg/controller/controller_utils.go and pkg/api/v1/pod say it: active (counts toward replicas), ready,
 * available (ready for minReadySeconds), and the order in which pods are given up when scaling down
 * (upstream's ActivePodsWithRanks). Pure functions over API objects; times come in as `now`.
 */
import type { Pod, PodCondition } from '../../api/core/pod.js';

/** `controller.kubernetes.io/pod-deletion-cost`: a lower cost is deleted first (int32, default 0). */
export const POD_DELETION_COST_ANNOTATION = 'controller.kubernetes.io/pod-deletion-cost';

/** Milliseconds since the epoch of an RFC 3339 time, or undefined (upstream's zero time). */
export function timeMs(t: string | null | undefined): number | undefined {
  if (t === undefined || t === null || t === '') return undefined;
  const ms = Date.parse(t);
  return Number.isNaN(ms) ? undefined : ms;
}

/** Upstream IsPodActive: not Succeeded, not Failed, not being deleted. Only these count as replicas. */
export function isPodActive(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase !== 'Succeeded' && phase !== 'Failed' && pod.metadata.deletionTimestamp === undefined;
}

export function podReadyCondition(pod: Pod): PodCondition | undefined {
  return pod.status?.conditions?.find((c) => c.type === 'Ready');
}

/** The Ready condition is True: what `kubectl get` counts in READY and a Service sends traffic to. */
export function isPodReady(pod: Pod): boolean {
  return podReadyCondition(pod)?.status === 'True';
}

/**
 * Upstream IsPodAvailable: ready, and (with minReadySeconds > 0) ready since more than minReadySeconds.
 * A Ready condition without lastTransitionTime never becomes available when minReadySeconds > 0.
 */
export function isPodAvailable(pod: Pod, minReadySeconds: number, now: Date): boolean {
  if (!isPodReady(pod)) return false;
  if (minReadySeconds <= 0) return true;
  const since = timeMs(podReadyCondition(pod)?.lastTransitionTime);
  return since !== undefined && since + minReadySeconds * 1000 < now.getTime();
}

/** When the pod last became ready, or undefined when it is not ready (upstream podReadyTime). */
export function podReadyTime(pod: Pod): number | undefined {
  return isPodReady(pod) ? timeMs(podReadyCondition(pod)?.lastTransitionTime) : undefined;
}

/**
 * The most restarts of any one container. Upstream also weighs restartable init containers (sidecars)
 * separately; we take the plain containers only, which is what decides the order in practice.
 */
export function maxContainerRestarts(pod: Pod): number {
  let max = 0;
  for (const c of pod.status?.containerStatuses ?? []) max = Math.max(max, c.restartCount);
  return max;
}

/** The pod-deletion-cost annotation as an int32; missing or invalid means 0, as upstream. */
export function podDeletionCost(pod: Pod): number {
  const raw = pod.metadata.annotations?.[POD_DELETION_COST_ANNOTATION];
  if (raw === undefined || !/^[+-]?\d+$/.test(raw)) return 0;
  const n = Number(raw);
  return n >= -(2 ** 31) && n <= 2 ** 31 - 1 ? n : 0;
}

const PHASE_ORDINAL: Readonly<Record<string, number>> = { Pending: 0, Unknown: 1, Running: 2 };

/**
 * Upstream's logarithmicRankDiff: which of two times is "newer" on a log2 scale of their age in
 * nanoseconds, so pods created or ready within the same power-of-two age bucket count as equally new
 * (then the uid decides, which spreads scale-downs randomly over them: LogarithmicScaleDown, on by
 * default since 1.22 and what we implement).
 */
export function logarithmicRankDiff(t1: number, t2: number, now: number): number {
  const bucket = (t: number): number => {
    const ns = (now - t) * 1e6;
    return ns > 0 ? Math.floor(Math.log2(ns)) : -1;
  };
  return bucket(t1) - bucket(t2);
}

/** Is `a` "after or zero" relative to `b` (upstream afterOrZero): a zero time sorts first. */
function afterOrZero(a: number | undefined, b: number | undefined): boolean {
  if (a === undefined || b === undefined) return a === undefined;
  return a > b;
}

export interface RankedPod {
  readonly pod: Pod;
  /** How many related pods share this pod's node; doubled-up pods are deleted first. */
  readonly rank: number;
}

function newerFirst(a: Pod, b: Pod, ta: number | undefined, tb: number | undefined, now: number): boolean | undefined {
  if (ta === tb) return undefined;
  if (ta === undefined || tb === undefined) return afterOrZero(ta, tb);
  const diff = logarithmicRankDiff(ta, tb, now);
  if (diff === 0) return (a.metadata.uid ?? '') < (b.metadata.uid ?? '');
  return diff < 0;
}

/**
 * Upstream ActivePodsWithRanks.Less: true when `a` should be deleted before `b`.
 *  1. unassigned < assigned
 *  2. Pending < Unknown < Running
 *  3. not ready < ready
 *  4. lower pod-deletion-cost < higher
 *  5. higher rank (more related pods on its node) < lower
 *  6. both ready: ready more recently < ready longer (log scale)
 *  7. more container restarts < fewer
 *  8. created more recently < created earlier (log scale)
 */
export function deleteBefore(a: RankedPod, b: RankedPod, now: Date): boolean {
  const pa = a.pod;
  const pb = b.pod;
  const na = pa.spec.nodeName ?? '';
  const nb = pb.spec.nodeName ?? '';
  if (na !== nb && (na === '' || nb === '')) return na === '';
  const oa = PHASE_ORDINAL[pa.status?.phase ?? ''] ?? 0;
  const ob = PHASE_ORDINAL[pb.status?.phase ?? ''] ?? 0;
  if (oa !== ob) return oa < ob;
  const ra = isPodReady(pa);
  const rb = isPodReady(pb);
  if (ra !== rb) return !ra;
  const ca = podDeletionCost(pa);
  const cb = podDeletionCost(pb);
  if (ca !== cb) return ca < cb;
  if (a.rank !== b.rank) return a.rank > b.rank;
  const nowMs = now.getTime();
  if (ra && rb) {
    const r = newerFirst(pa, pb, podReadyTime(pa), podReadyTime(pb), nowMs);
    if (r !== undefined) return r;
  }
  const xa = maxContainerRestarts(pa);
  const xb = maxContainerRestarts(pb);
  if (xa !== xb) return xa > xb;
  const r = newerFirst(pa, pb, timeMs(pa.metadata.creationTimestamp), timeMs(pb.metadata.creationTimestamp), nowMs);
  return r ?? false;
}

/**
 * Upstream getPodsRankedByRelatedPodsOnSameNode: each pod's rank is the number of active related pods
 * (the pods of every ReplicaSet with the same controller) on its node.
 */
export function rankByRelatedPodsOnSameNode(pods: readonly Pod[], related: readonly Pod[]): RankedPod[] {
  const onNode = new Map<string, number>();
  for (const p of related) {
    if (!isPodActive(p)) continue;
    const n = p.spec.nodeName ?? '';
    onNode.set(n, (onNode.get(n) ?? 0) + 1);
  }
  return pods.map((pod) => ({ pod, rank: onNode.get(pod.spec.nodeName ?? '') ?? 0 }));
}

/** Upstream getPodsToDelete: the `count` pods to give up first (all of them when count >= pods). */
export function podsToDelete(pods: readonly Pod[], related: readonly Pod[], count: number, now: Date): Pod[] {
  if (count >= pods.length) return [...pods];
  const ranked = rankByRelatedPodsOnSameNode(pods, related);
  ranked.sort((a, b) => (deleteBefore(a, b, now) ? -1 : deleteBefore(b, a, now) ? 1 : 0));
  return ranked.slice(0, count).map((r) => r.pod);
}
