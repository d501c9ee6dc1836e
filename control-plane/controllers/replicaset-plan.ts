/**
 * The ReplicaSet controller's decisions (upstream pkg/controller/replicaset/replica_set.go and
 * replica_set_utils.go), pure: which pods to adopt and release, how many pods to create or which to
 * delete, and the status to write. replicaset.ts carries them out.
 */
import type { Pod } from '../../api/core/pod.js';
import type { ReplicaSet, ReplicaSetCondition, ReplicaSetStatus } from '../../api/apps/replicaset.js';
import { workloadSelector } from '../../api/apps/common.js';
import { matches } from '../../api/labels.js';
import type { Selector } from '../../api/labels.js';
import { semanticEqual } from '../../api/core/semantic.js';
import { rfc3339 } from '../../lib/clock.js';
import type { ClaimPlan } from './replicaset-claim.js';
import { controllerRefTo, planClaim } from './replicaset-claim.js';
import { isPodActive, isPodAvailable, isPodReady, podsToDelete } from './replicaset-pods.js';

/** Upstream BurstReplicas: at most this many creates or deletes per sync. */
export const BURST_REPLICAS = 500;

export const REPLICA_FAILURE = 'ReplicaFailure';

/** A create or delete that failed in this sync: becomes the ReplicaFailure condition. */
export interface ManageError {
  readonly kind: 'create' | 'delete';
  readonly message: string;
}

export interface ReplicaDecision {
  /** Pods to create from the template. */
  readonly create: number;
  /** Pods to delete, in the order they are given up. */
  readonly delete: readonly Pod[];
}

export interface ReplicaSetPlanInput {
  readonly rs: ReplicaSet;
  /** Every pod of the ReplicaSet's namespace, as the informer has them. */
  readonly pods: readonly Pod[];
  readonly now: Date;
  /** False while creates or deletes of an earlier sync are not yet observed: then nothing is managed. */
  readonly expectationsSatisfied?: boolean;
  /** Pods of every ReplicaSet with the same controller (scale-down prefers nodes they double up on). */
  readonly relatedPods?: readonly Pod[];
  readonly burstReplicas?: number;
}

export interface ReplicaSetPlan extends ClaimPlan<Pod>, ReplicaDecision {
  /** The status with every claim and no failed write (the controller recomputes it after a failure). */
  readonly status: ReplicaSetStatus;
}

/** The selector, or undefined when it cannot select anything (invalid or missing). */
export function replicaSetSelector(rs: ReplicaSet): Selector | undefined {
  return workloadSelector(rs.spec.selector);
}

/** Active pods claimed by selector: the pods this ReplicaSet counts. */
export function planPodClaims(rs: ReplicaSet, pods: readonly Pod[]): ClaimPlan<Pod> {
  const sel = replicaSetSelector(rs);
  if (sel === undefined) return { owned: [], adopt: [], release: [] };
  const ns = rs.metadata.namespace ?? '';
  const active = pods.filter((p) => (p.metadata.namespace ?? '') === ns && isPodActive(p));
  return planClaim(rs, active, (p) => matches(sel, p.metadata.labels));
}

/** Upstream manageReplicas' arithmetic over the claimed active pods. */
export function planReplicas(rs: ReplicaSet, claimed: readonly Pod[], now: Date, relatedPods: readonly Pod[] = [], burst = BURST_REPLICAS): ReplicaDecision {
  const diff = claimed.length - (rs.spec.replicas ?? 1);
  if (diff < 0) return { create: Math.min(-diff, burst), delete: [] };
  if (diff > 0) return { create: 0, delete: podsToDelete(claimed, relatedPods, Math.min(diff, burst), now) };
  return { create: 0, delete: [] };
}

export function planReplicaSet(input: ReplicaSetPlanInput): ReplicaSetPlan {
  const { rs, now } = input;
  const claims = planPodClaims(rs, input.pods);
  const claimed = [...claims.owned, ...claims.adopt];
  const manage = (input.expectationsSatisfied ?? true) && rs.metadata.deletionTimestamp === undefined;
  const decision = manage ? planReplicas(rs, claimed, now, input.relatedPods, input.burstReplicas) : { create: 0, delete: [] };
  return { ...claims, ...decision, status: computeReplicaSetStatus(rs, claimed, undefined, now) };
}

/**
 * Upstream calculateStatus: counts over the claimed active pods, ReplicaFailure set (once) when a create
 * or delete failed and removed after a sync without failure, observedGeneration = generation.
 */
export function computeReplicaSetStatus(rs: ReplicaSet, claimed: readonly Pod[], err: ManageError | undefined, now: Date): ReplicaSetStatus {
  const templateLabels = Object.entries(rs.spec.template?.metadata?.labels ?? {});
  const minReady = rs.spec.minReadySeconds ?? 0;
  let fullyLabeled = 0;
  let ready = 0;
  let available = 0;
  for (const p of claimed) {
    const labels = p.metadata.labels ?? {};
    if (templateLabels.every(([k, v]) => labels[k] === v)) fullyLabeled++;
    if (isPodReady(p)) ready++;
    if (isPodAvailable(p, minReady, now)) available++;
  }
  let conditions: readonly ReplicaSetCondition[] = rs.status?.conditions ?? [];
  const failure = conditions.find((c) => c.type === REPLICA_FAILURE);
  if (err !== undefined && failure === undefined) {
    conditions = [
      ...conditions,
      {
        type: REPLICA_FAILURE,
        status: 'True',
        lastTransitionTime: rfc3339(now),
        reason: err.kind === 'create' ? 'FailedCreate' : 'FailedDelete',
        message: err.message,
      },
    ];
  } else if (err === undefined && failure !== undefined) {
    conditions = conditions.filter((c) => c.type !== REPLICA_FAILURE);
  }
  return {
    replicas: claimed.length,
    fullyLabeledReplicas: fullyLabeled,
    readyReplicas: ready,
    availableReplicas: available,
    ...(rs.metadata.generation !== undefined ? { observedGeneration: rs.metadata.generation } : {}),
    ...(conditions.length > 0 ? { conditions } : {}),
  };
}

/** Whether writing `next` would change what is stored (upstream's skip in updateReplicaSetStatus). */
export function replicaSetStatusChanged(rs: ReplicaSet, next: ReplicaSetStatus): boolean {
  const cur = rs.status ?? {};
  return (
    (cur.replicas ?? 0) !== (next.replicas ?? 0) ||
    (cur.fullyLabeledReplicas ?? 0) !== (next.fullyLabeledReplicas ?? 0) ||
    (cur.readyReplicas ?? 0) !== (next.readyReplicas ?? 0) ||
    (cur.availableReplicas ?? 0) !== (next.availableReplicas ?? 0) ||
    cur.observedGeneration !== next.observedGeneration ||
    !semanticEqual(cur.conditions, next.conditions)
  );
}

/**
 * Upstream GetPodFromTemplate: the template's labels, annotations, finalizers and spec, a generated
 * name `<rs>-<5 random chars>` and a controller reference to the ReplicaSet.
 */
export function podFromTemplate(rs: ReplicaSet): Pod {
  const t = rs.spec.template ?? {};
  const m = t.metadata ?? {};
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      generateName: `${rs.metadata.name ?? ''}-`,
      ...(rs.metadata.namespace !== undefined ? { namespace: rs.metadata.namespace } : {}),
      ...(m.labels !== undefined ? { labels: { ...m.labels } } : {}),
      ...(m.annotations !== undefined ? { annotations: { ...m.annotations } } : {}),
      ...(m.finalizers !== undefined ? { finalizers: [...m.finalizers] } : {}),
      ownerReferences: [controllerRefTo(rs, 'apps/v1', 'ReplicaSet')],
    },
    spec: t.spec ?? { containers: [] },
  };
}
