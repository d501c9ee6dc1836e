/**
 * Pure helpers of the deployment controller, as upstream's pkg/controller/deployment/util: rollout
 * arithmetic (maxSurge rounded up, maxUnavailable rounded down, never both 0), revisions and the
 * annotations kubectl reads, finding the new and old ReplicaSets, sort orders and replica counts.
 */
import type { Deployment } from '../../api/apps/deployment.js';
import type { ReplicaSet } from '../../api/apps/replicaset.js';
import type { IntOrString } from '../../api/apps/common.js';
import type { PodTemplateSpec } from '../../api/core/pod.js';
import { semanticEqual } from '../../api/core/semantic.js';
import { timeMs } from './replicaset-pods.js';

export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';
export const REVISION_HISTORY_ANNOTATION = 'deployment.kubernetes.io/revision-history';
export const DESIRED_REPLICAS_ANNOTATION = 'deployment.kubernetes.io/desired-replicas';
export const MAX_REPLICAS_ANNOTATION = 'deployment.kubernetes.io/max-replicas';
export const CHANGE_CAUSE_ANNOTATION = 'kubernetes.io/change-cause';
export const POD_TEMPLATE_HASH_LABEL = 'pod-template-hash';
/** Upstream caps revision-history at this many characters. */
export const MAX_REV_HISTORY_CHARS = 2000;

/** Deployment annotations never copied to its ReplicaSets (upstream skipCopyAnnotation). */
const SKIP_COPY = new Set([
  'kubectl.kubernetes.io/last-applied-configuration',
  REVISION_ANNOTATION,
  REVISION_HISTORY_ANNOTATION,
  DESIRED_REPLICAS_ANNOTATION,
  MAX_REPLICAS_ANNOTATION,
  'deprecated.deployment.rollback.to',
]);

/** math.MaxInt32: upstream's "no progress deadline". */
const NO_DEADLINE = 2_147_483_647;

export const replicasOf = (o: { spec: { replicas?: number } }): number => o.spec.replicas ?? 1;

/** Upstream GetScaledValueFromIntOrPercent. */
export function scaledValue(v: IntOrString | undefined, total: number, roundUp: boolean): number {
  if (v === undefined) return 0;
  if (typeof v === 'number') return v;
  const m = /^(\d+)%$/.exec(v);
  if (m?.[1] === undefined) return /^\d+$/.test(v) ? Number(v) : 0;
  const x = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(x) : Math.floor(x);
}

/** Upstream ResolveFenceposts: surge rounds up, unavailable down; both 0 would deadlock, so 1 unavailable. */
export function resolveFenceposts(d: Deployment): { surge: number; unavailable: number } {
  const ru = d.spec.strategy?.rollingUpdate;
  const desired = replicasOf(d);
  const surge = scaledValue(ru?.maxSurge ?? '25%', desired, true);
  const unavailable = scaledValue(ru?.maxUnavailable ?? '25%', desired, false);
  return surge === 0 && unavailable === 0 ? { surge, unavailable: 1 } : { surge, unavailable };
}

export const isRollingUpdate = (d: Deployment): boolean => (d.spec.strategy?.type ?? 'RollingUpdate') === 'RollingUpdate';

export function maxSurge(d: Deployment): number {
  return isRollingUpdate(d) ? resolveFenceposts(d).surge : 0;
}

/** Upstream MaxUnavailable: 0 for Recreate or 0 replicas, and never more than the replicas. */
export function maxUnavailable(d: Deployment): number {
  const desired = replicasOf(d);
  if (!isRollingUpdate(d) || desired === 0) return 0;
  return Math.min(resolveFenceposts(d).unavailable, desired);
}

export function hasProgressDeadline(d: Deployment): boolean {
  const pds = d.spec.progressDeadlineSeconds;
  return pds !== undefined && pds !== NO_DEADLINE;
}

export function hasRevisionHistoryLimit(d: Deployment): boolean {
  const l = d.spec.revisionHistoryLimit;
  return l !== undefined && l !== NO_DEADLINE;
}

/** The revision annotation as a number; 0 when missing or not a number (upstream logs and skips). */
export function revisionOf(obj: { metadata: { annotations?: Readonly<Record<string, string>> } }): number {
  const v = obj.metadata.annotations?.[REVISION_ANNOTATION];
  return v !== undefined && /^\d+$/.test(v) ? Number(v) : 0;
}

export function maxRevision(rsList: readonly ReplicaSet[]): number {
  return rsList.reduce((m, rs) => Math.max(m, revisionOf(rs)), 0);
}

function withoutHash(t: PodTemplateSpec | undefined): PodTemplateSpec {
  const labels = { ...(t?.metadata?.labels ?? {}) };
  delete labels[POD_TEMPLATE_HASH_LABEL];
  return { ...t, metadata: { ...t?.metadata, labels } };
}

/** Upstream EqualIgnoreHash: templates semantically equal once pod-template-hash is dropped. */
export function equalIgnoreHash(a: PodTemplateSpec | undefined, b: PodTemplateSpec | undefined): boolean {
  return semanticEqual(withoutHash(a), withoutHash(b));
}

export function desiredReplicasAnnotation(rs: ReplicaSet): number | undefined {
  const v = rs.metadata.annotations?.[DESIRED_REPLICAS_ANNOTATION];
  return v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined;
}

export function maxReplicasAnnotation(rs: ReplicaSet): number | undefined {
  const v = rs.metadata.annotations?.[MAX_REPLICAS_ANNOTATION];
  return v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined;
}

// ---- sort orders (upstream controller.ReplicaSetsBy*) -----------------------------------------

const created = (rs: ReplicaSet): number => timeMs(rs.metadata.creationTimestamp) ?? 0;

/** Oldest first; ties by name. */
export function byCreation(a: ReplicaSet, b: ReplicaSet): number {
  const d = created(a) - created(b);
  if (d !== 0) return d;
  const na = a.metadata.name ?? '';
  const nb = b.metadata.name ?? '';
  return na < nb ? -1 : na > nb ? 1 : 0;
}

/** Larger first; ties oldest first (used when scaling down proportionally). */
export function bySizeOlder(a: ReplicaSet, b: ReplicaSet): number {
  return replicasOf(b) - replicasOf(a) || byCreation(a, b);
}

/** Larger first; ties newest first (used when scaling up proportionally). */
export function bySizeNewer(a: ReplicaSet, b: ReplicaSet): number {
  return replicasOf(b) - replicasOf(a) || byCreation(b, a);
}

/** Lowest revision first; ties oldest first (cleanup order). */
export function byRevision(a: ReplicaSet, b: ReplicaSet): number {
  return revisionOf(a) - revisionOf(b) || byCreation(a, b);
}

// ---- counts ------------------------------------------------------------------------------------

export const activeReplicaSets = (rsList: readonly ReplicaSet[]): ReplicaSet[] => rsList.filter((rs) => replicasOf(rs) > 0);
/** Sum of spec.replicas. */
export const specReplicas = (rsList: readonly ReplicaSet[]): number => rsList.reduce((n, rs) => n + replicasOf(rs), 0);
/** Sum of status.replicas. */
export const actualReplicas = (rsList: readonly ReplicaSet[]): number => rsList.reduce((n, rs) => n + (rs.status?.replicas ?? 0), 0);
export const readyReplicas = (rsList: readonly ReplicaSet[]): number => rsList.reduce((n, rs) => n + (rs.status?.readyReplicas ?? 0), 0);
export const availableReplicas = (rsList: readonly ReplicaSet[]): number => rsList.reduce((n, rs) => n + (rs.status?.availableReplicas ?? 0), 0);

// ---- new and old ReplicaSets -------------------------------------------------------------------

/** Upstream FindNewReplicaSet: the oldest ReplicaSet whose template is the Deployment's. */
export function findNewReplicaSet(d: Deployment, rsList: readonly ReplicaSet[]): ReplicaSet | undefined {
  return [...rsList].sort(byCreation).find((rs) => equalIgnoreHash(rs.spec.template, d.spec.template));
}

/** Every ReplicaSet but the new one. */
export function findOldReplicaSets(rsList: readonly ReplicaSet[], newRS: ReplicaSet | undefined): ReplicaSet[] {
  return rsList.filter((rs) => newRS === undefined || rs.metadata.name !== newRS.metadata.name);
}

/**
 * Upstream IsSaturated: the new ReplicaSet runs all the Deployment's replicas, all available, and its
 * desired-replicas annotation agrees.
 */
export function isSaturated(d: Deployment, rs: ReplicaSet | undefined): boolean {
  if (rs === undefined) return false;
  const desired = replicasOf(d);
  return replicasOf(rs) === desired && desiredReplicasAnnotation(rs) === desired && (rs.status?.availableReplicas ?? 0) === desired;
}

/** Upstream NewRSNewReplicas: how big the new ReplicaSet may be now. */
export function newRSNewReplicas(d: Deployment, allRSs: readonly ReplicaSet[], newRS: ReplicaSet): number {
  if (!isRollingUpdate(d)) return replicasOf(d);
  const current = specReplicas(allRSs);
  const maxTotal = replicasOf(d) + maxSurge(d);
  if (current >= maxTotal) return replicasOf(newRS);
  const up = Math.min(maxTotal - current, replicasOf(d) - replicasOf(newRS));
  return replicasOf(newRS) + up;
}

// ---- annotations -------------------------------------------------------------------------------

type Annotations = Record<string, string>;

/** Upstream SetReplicasAnnotations; returns whether anything changed. */
export function setReplicasAnnotations(ann: Annotations, desired: number, max: number): boolean {
  let changed = false;
  for (const [k, v] of [[DESIRED_REPLICAS_ANNOTATION, String(desired)], [MAX_REPLICAS_ANNOTATION, String(max)]] as const) {
    if (ann[k] !== v) {
      ann[k] = v;
      changed = true;
    }
  }
  return changed;
}

/**
 * Upstream SetNewReplicaSetAnnotations: copy the Deployment's own annotations (change-cause...), raise
 * the revision to `newRevision` (a ReplicaSet coming back through `rollout undo` keeps its earlier
 * revisions in revision-history), and on a new ReplicaSet set desired/max replicas.
 */
export function setNewReplicaSetAnnotations(d: Deployment, ann: Annotations, newRevision: number, exists: boolean): boolean {
  let changed = false;
  for (const [k, v] of Object.entries(d.metadata.annotations ?? {})) {
    if (SKIP_COPY.has(k) || ann[k] === v) continue;
    ann[k] = v;
    changed = true;
  }
  const oldText = ann[REVISION_ANNOTATION];
  if (oldText !== undefined && oldText !== '' && !/^\d+$/.test(oldText)) return changed;
  const old = oldText === undefined || oldText === '' ? 0 : Number(oldText);
  if (old < newRevision) {
    ann[REVISION_ANNOTATION] = String(newRevision);
    changed = true;
    if (oldText !== undefined && oldText !== '') appendRevisionHistory(ann, oldText);
  }
  if (!exists && setReplicasAnnotations(ann, replicasOf(d), replicasOf(d) + maxSurge(d))) changed = true;
  return changed;
}

function appendRevisionHistory(ann: Annotations, oldRevision: string): void {
  const history = ann[REVISION_HISTORY_ANNOTATION] ?? '';
  if (history === '') {
    ann[REVISION_HISTORY_ANNOTATION] = oldRevision;
    return;
  }
  const revs = history.split(',');
  let total = history.length + oldRevision.length + 1;
  let start = 0;
  while (total > MAX_REV_HISTORY_CHARS && start < revs.length) {
    total -= (revs[start] ?? '').length + 1;
    start++;
  }
  if (total <= MAX_REV_HISTORY_CHARS) ann[REVISION_HISTORY_ANNOTATION] = [...revs.slice(start), oldRevision].join(',');
}
