/**
 * How a Deployment sizes its ReplicaSets, as upstream's sync.go (`scale`, proportional scaling) and
 * rolling.go (`reconcileNewReplicaSet`, `reconcileOldReplicaSets`) do, over a RolloutPlanner's working
 * copies. Pure: every size change becomes a planned write on the planner.
 *
 * Rolling update invariants (replicas R, surge S rounded up, unavailable U rounded down):
 *   - the ReplicaSets' spec.replicas never sum above R + S;
 *   - old ReplicaSets are scaled down only while at least R - U pods stay available (counted from the
 *     ReplicaSets' availableReplicas), unhealthy old pods first.
 */
import type { Deployment } from '../../api/apps/deployment.js';
import type { ReplicaSet } from '../../api/apps/replicaset.js';
import type { RolloutPlanner } from './deployment-plan.js';
import {
  activeReplicaSets,
  availableReplicas,
  byCreation,
  bySizeNewer,
  bySizeOlder,
  isRollingUpdate,
  isSaturated,
  maxReplicasAnnotation,
  maxSurge,
  maxUnavailable,
  newRSNewReplicas,
  replicasOf,
  specReplicas,
} from './deployment-util.js';

/** Upstream FindActiveOrLatest: the only active ReplicaSet, or the newest when none is active; else none. */
export function findActiveOrLatest(newRS: ReplicaSet | undefined, oldRSs: readonly ReplicaSet[]): ReplicaSet | undefined {
  if (newRS === undefined && oldRSs.length === 0) return undefined;
  const newestFirst = [...oldRSs].sort((a, b) => byCreation(b, a));
  const active = activeReplicaSets(newRS !== undefined ? [...newestFirst, newRS] : newestFirst);
  if (active.length === 0) return newRS ?? newestFirst[0];
  return active.length === 1 ? active[0] : undefined;
}

/** Upstream getReplicaSetFraction: this ReplicaSet's share of a size change, rounded half away from zero. */
export function replicaSetFraction(rs: ReplicaSet, d: Deployment): number {
  const want = replicasOf(d);
  if (want === 0) return -replicasOf(rs);
  const deploymentReplicas = want + maxSurge(d);
  const annotated = maxReplicasAnnotation(rs) ?? d.status?.replicas ?? 0;
  if (annotated === 0) return 0;
  const x = (replicasOf(rs) * deploymentReplicas) / annotated;
  const rounded = Math.sign(x) * Math.round(Math.abs(x));
  return rounded - replicasOf(rs);
}

/** Upstream GetProportion. */
export function proportion(rs: ReplicaSet, d: Deployment, toAdd: number, added: number): number {
  if (replicasOf(rs) === 0 || toAdd === 0 || toAdd === added) return 0;
  const fraction = replicaSetFraction(rs, d);
  const allowed = toAdd - added;
  return toAdd > 0 ? Math.min(fraction, allowed) : Math.max(fraction, allowed);
}

/**
 * Upstream scale: a Deployment resized (or paused) mid-rollout. With one active ReplicaSet it simply gets
 * the new size; a saturated new ReplicaSet takes everything; otherwise (rolling update) the change is
 * spread over the active ReplicaSets in proportion to their size, leftovers to the largest.
 */
export function planScale(p: RolloutPlanner, newRS: ReplicaSet | undefined, oldRSs: readonly ReplicaSet[]): void {
  const d = p.d;
  const want = replicasOf(d);
  const only = findActiveOrLatest(newRS, oldRSs);
  if (only !== undefined) {
    if (replicasOf(p.current(only)) !== want) p.scaleAndRecord(only, want);
    return;
  }
  if (isSaturated(d, newRS)) {
    for (const rs of activeReplicaSets(oldRSs)) p.scaleAndRecord(rs, 0);
    return;
  }
  if (!isRollingUpdate(d)) return;
  const all = activeReplicaSets(p.all(newRS, oldRSs));
  const allowed = want > 0 ? want + maxSurge(d) : 0;
  const toAdd = allowed - specReplicas(all);
  if (toAdd > 0) all.sort(bySizeNewer);
  else if (toAdd < 0) all.sort(bySizeOlder);
  const sizes = new Map<string, number>();
  let added = 0;
  for (const rs of all) {
    const share = toAdd !== 0 ? proportion(rs, d, toAdd, added) : 0;
    sizes.set(rs.metadata.name ?? '', replicasOf(rs) + share);
    added += share;
  }
  const first = all[0];
  if (toAdd !== 0 && first !== undefined) {
    const name = first.metadata.name ?? '';
    sizes.set(name, Math.max((sizes.get(name) ?? 0) + toAdd - added, 0));
  }
  // every active ReplicaSet gets the new desired/max annotations, resized or not
  for (const rs of all) p.scaleReplicaSet(rs, sizes.get(rs.metadata.name ?? '') ?? replicasOf(rs));
}

/** Upstream reconcileNewReplicaSet: grow the new ReplicaSet within the surge (or shrink it to the size). */
function reconcileNew(p: RolloutPlanner, newRS: ReplicaSet, oldRSs: readonly ReplicaSet[]): boolean {
  const d = p.d;
  const rs = p.current(newRS);
  if (replicasOf(rs) === replicasOf(d)) return false;
  if (replicasOf(rs) > replicasOf(d)) return p.scaleAndRecord(rs, replicasOf(d));
  return p.scaleAndRecord(rs, newRSNewReplicas(d, p.all(rs, oldRSs), rs));
}

/**
 * Upstream cleanupUnhealthyReplicas: first drop old pods that are not available anyway (oldest ReplicaSet
 * first). Undefined when an old ReplicaSet reports more available pods than it is sized for: its status
 * has not caught up with a scale-down yet, so availability cannot be judged (upstream fails the sync
 * there; we plan nothing more, and the ReplicaSet's next status update brings the Deployment back).
 */
function cleanupUnhealthy(p: RolloutPlanner, oldRSs: readonly ReplicaSet[], maxCleanup: number): number | undefined {
  const sorted = [...oldRSs].map((rs) => p.current(rs)).sort(byCreation);
  if (sorted.some((rs) => (rs.status?.availableReplicas ?? 0) > replicasOf(rs))) return undefined;
  let total = 0;
  for (const rs0 of sorted) {
    if (total >= maxCleanup) break;
    const replicas = replicasOf(rs0);
    const available = rs0.status?.availableReplicas ?? 0;
    if (replicas === 0 || replicas === available) continue;
    const n = Math.min(maxCleanup - total, replicas - available);
    p.scaleAndRecord(rs0, replicas - n);
    total += n;
  }
  return total;
}

/** Upstream scaleDownOldReplicaSetsForRollingUpdate: scale old ReplicaSets down while R - U stay available. */
function scaleDownOld(p: RolloutPlanner, newRS: ReplicaSet, oldRSs: readonly ReplicaSet[]): number {
  const d = p.d;
  const minAvailable = replicasOf(d) - maxUnavailable(d);
  const available = availableReplicas(p.all(newRS, oldRSs));
  if (available <= minAvailable) return 0;
  const target = available - minAvailable;
  let total = 0;
  for (const rs of [...oldRSs].map((x) => p.current(x)).sort(byCreation)) {
    if (total >= target) break;
    const replicas = replicasOf(rs);
    if (replicas === 0) continue;
    const n = Math.min(replicas, target - total);
    p.scaleAndRecord(rs, replicas - n);
    total += n;
  }
  return total;
}

/** Upstream reconcileOldReplicaSets. */
function reconcileOld(p: RolloutPlanner, newRS: ReplicaSet, oldRSs: readonly ReplicaSet[]): boolean {
  const d = p.d;
  const active = activeReplicaSets(oldRSs.map((rs) => p.current(rs)));
  if (specReplicas(active) === 0) return false;
  const nrs = p.current(newRS);
  const allPods = specReplicas(p.all(nrs, oldRSs));
  const minAvailable = replicasOf(d) - maxUnavailable(d);
  const newUnavailable = replicasOf(nrs) - (nrs.status?.availableReplicas ?? 0);
  const maxScaledDown = allPods - minAvailable - newUnavailable;
  if (maxScaledDown <= 0) return false;
  const cleaned = cleanupUnhealthy(p, active, maxScaledDown);
  if (cleaned === undefined) return false;
  const scaled = scaleDownOld(p, nrs, active);
  return cleaned + scaled > 0;
}

/** One rolling-update step: grow the new ReplicaSet, else shrink old ones. True when anything was resized. */
export function planRolling(p: RolloutPlanner, newRS: ReplicaSet, oldRSs: readonly ReplicaSet[]): boolean {
  if (reconcileNew(p, newRS, oldRSs)) return true;
  return reconcileOld(p, newRS, oldRSs);
}
