/**
 * A Deployment's status and conditions, as upstream's deployment controller writes them (sync.go,
 * progress.go, util/deployment_util.go). `kubectl rollout status` reads exactly these: observedGeneration,
 * updatedReplicas, replicas, availableReplicas and the Progressing condition's reason.
 *
 *   Available    True  MinimumReplicasAvailable   at least replicas - maxUnavailable available
 *                False MinimumReplicasUnavailable
 *   Progressing  True  NewReplicaSetCreated / FoundNewReplicaSet / ReplicaSetUpdated / NewReplicaSetAvailable
 *                False ProgressDeadlineExceeded / ReplicaSetCreateError
 *                Unknown DeploymentPaused / DeploymentResumed
 *   ReplicaFailure copied from the ReplicaSets' own condition.
 * A condition keeps its lastTransitionTime while its status does not change, and is not rewritten at all
 * while status and reason stay the same, so a quiet Deployment's status does not churn.
 */
import type { Deployment, DeploymentCondition, DeploymentStatus } from '../../api/apps/deployment.js';
import type { ReplicaSet } from '../../api/apps/replicaset.js';
import { rfc3339 } from '../../lib/clock.js';
import {
  actualReplicas,
  availableReplicas,
  hasProgressDeadline,
  maxUnavailable,
  readyReplicas,
  replicasOf,
  specReplicas,
} from './deployment-util.js';
import { timeMs } from './replicaset-pods.js';

export const AVAILABLE = 'Available';
export const PROGRESSING = 'Progressing';
export const REPLICA_FAILURE = 'ReplicaFailure';

export const reasons = {
  minimumReplicasAvailable: 'MinimumReplicasAvailable',
  minimumReplicasUnavailable: 'MinimumReplicasUnavailable',
  newRSCreated: 'NewReplicaSetCreated',
  foundNewRS: 'FoundNewReplicaSet',
  rsUpdated: 'ReplicaSetUpdated',
  newRSAvailable: 'NewReplicaSetAvailable',
  timedOut: 'ProgressDeadlineExceeded',
  failedRSCreate: 'ReplicaSetCreateError',
  paused: 'DeploymentPaused',
  resumed: 'DeploymentResumed',
} as const;

type Status = 'True' | 'False' | 'Unknown';

export function newCondition(type: string, status: Status, reason: string, message: string, now: Date): DeploymentCondition {
  const t = rfc3339(now);
  return { type, status, lastUpdateTime: t, lastTransitionTime: t, reason, message };
}

export function getCondition(status: DeploymentStatus | undefined, type: string): DeploymentCondition | undefined {
  return status?.conditions?.find((c) => c.type === type);
}

/** Upstream SetDeploymentCondition: no-op for the same status+reason; keeps lastTransitionTime for the same status. */
export function setCondition(status: DeploymentStatus, cond: DeploymentCondition): DeploymentStatus {
  const cur = getCondition(status, cond.type);
  if (cur !== undefined && cur.status === cond.status && cur.reason === cond.reason) return status;
  const next = cur !== undefined && cur.status === cond.status && cur.lastTransitionTime !== undefined ? { ...cond, lastTransitionTime: cur.lastTransitionTime } : cond;
  return { ...status, conditions: [...(status.conditions ?? []).filter((c) => c.type !== cond.type), next] };
}

export function removeCondition(status: DeploymentStatus, type: string): DeploymentStatus {
  if (getCondition(status, type) === undefined) return status;
  const conditions = (status.conditions ?? []).filter((c) => c.type !== type);
  const { conditions: _c, ...rest } = status;
  return conditions.length > 0 ? { ...rest, conditions } : rest;
}

/** Upstream calculateStatus: counts from the ReplicaSets, the old conditions, and Available recomputed. */
export function calculateStatus(d: Deployment, allRSs: readonly ReplicaSet[], newRS: ReplicaSet | undefined, now: Date): DeploymentStatus {
  const available = availableReplicas(allRSs);
  const total = specReplicas(allRSs);
  let status: DeploymentStatus = {
    ...(d.metadata.generation !== undefined ? { observedGeneration: d.metadata.generation } : {}),
    replicas: actualReplicas(allRSs),
    updatedReplicas: newRS !== undefined ? actualReplicas([newRS]) : 0,
    readyReplicas: readyReplicas(allRSs),
    availableReplicas: available,
    unavailableReplicas: Math.max(total - available, 0),
    ...(d.status?.conditions !== undefined && d.status.conditions.length > 0 ? { conditions: d.status.conditions } : {}),
    ...(d.status?.collisionCount !== undefined ? { collisionCount: d.status.collisionCount } : {}),
  };
  status =
    available >= replicasOf(d) - maxUnavailable(d)
      ? setCondition(status, newCondition(AVAILABLE, 'True', reasons.minimumReplicasAvailable, 'Deployment has minimum availability.', now))
      : setCondition(status, newCondition(AVAILABLE, 'False', reasons.minimumReplicasUnavailable, 'Deployment does not have minimum availability.', now));
  return status;
}

/** Upstream DeploymentComplete: every replica updated and available, and the latest spec observed. */
export function deploymentComplete(d: Deployment, s: DeploymentStatus): boolean {
  const want = replicasOf(d);
  return (s.updatedReplicas ?? 0) === want && (s.replicas ?? 0) === want && (s.availableReplicas ?? 0) === want && (s.observedGeneration ?? 0) >= (d.metadata.generation ?? 0);
}

/** Upstream DeploymentProgressing: more updated/ready/available pods, or fewer old ones, than last time. */
export function deploymentProgressing(d: Deployment, s: DeploymentStatus): boolean {
  const old = d.status ?? {};
  const oldOld = (old.replicas ?? 0) - (old.updatedReplicas ?? 0);
  const newOld = (s.replicas ?? 0) - (s.updatedReplicas ?? 0);
  return (
    (s.updatedReplicas ?? 0) > (old.updatedReplicas ?? 0) ||
    newOld < oldOld ||
    (s.readyReplicas ?? 0) > (old.readyReplicas ?? 0) ||
    (s.availableReplicas ?? 0) > (old.availableReplicas ?? 0)
  );
}

/** Upstream DeploymentTimedOut: no progress recorded for progressDeadlineSeconds. */
export function deploymentTimedOut(d: Deployment, s: DeploymentStatus, now: Date): boolean {
  if (!hasProgressDeadline(d)) return false;
  const cond = getCondition(s, PROGRESSING);
  if (cond === undefined || cond.reason === reasons.newRSAvailable) return false;
  if (cond.reason === reasons.timedOut) return true;
  const from = timeMs(cond.lastUpdateTime);
  return from !== undefined && from + (d.spec.progressDeadlineSeconds ?? 0) * 1000 < now.getTime();
}

/**
 * Upstream syncRolloutStatus (the status part): calculateStatus plus the Progressing condition (complete,
 * progressing, or timed out) and ReplicaFailure from the ReplicaSets.
 */
export function rolloutStatus(d: Deployment, allRSs: readonly ReplicaSet[], newRS: ReplicaSet | undefined, now: Date): DeploymentStatus {
  let s = calculateStatus(d, allRSs, newRS, now);
  if (!hasProgressDeadline(d)) s = removeCondition(s, PROGRESSING);
  const cur = getCondition(d.status, PROGRESSING);
  const complete = s.replicas === s.updatedReplicas && cur?.reason === reasons.newRSAvailable;
  if (hasProgressDeadline(d) && !complete) {
    const rsName = newRS?.metadata.name;
    if (deploymentComplete(d, s)) {
      const msg = rsName !== undefined ? `ReplicaSet "${rsName}" has successfully progressed.` : `Deployment "${d.metadata.name ?? ''}" has successfully progressed.`;
      s = setCondition(s, newCondition(PROGRESSING, 'True', reasons.newRSAvailable, msg, now));
    } else if (deploymentProgressing(d, s)) {
      const msg = rsName !== undefined ? `ReplicaSet "${rsName}" is progressing.` : `Deployment "${d.metadata.name ?? ''}" is progressing.`;
      let cond = newCondition(PROGRESSING, 'True', reasons.rsUpdated, msg, now);
      // progress refreshes lastUpdateTime (the deadline's start) even when status and reason are the same
      if (cur !== undefined) {
        if (cur.status === 'True' && cur.lastTransitionTime !== undefined) cond = { ...cond, lastTransitionTime: cur.lastTransitionTime };
        s = removeCondition(s, PROGRESSING);
      }
      s = setCondition(s, cond);
    } else if (deploymentTimedOut(d, s, now)) {
      const msg = rsName !== undefined ? `ReplicaSet "${rsName}" has timed out progressing.` : `Deployment "${d.metadata.name ?? ''}" has timed out progressing.`;
      s = setCondition(s, newCondition(PROGRESSING, 'False', reasons.timedOut, msg, now));
    }
  }
  const failure = replicaFailure(allRSs, newRS);
  return failure !== undefined ? setCondition(s, failure) : removeCondition(s, REPLICA_FAILURE);
}

/** The first ReplicaFailure condition of the new ReplicaSet, else of an old one (upstream getReplicaFailures). */
function replicaFailure(allRSs: readonly ReplicaSet[], newRS: ReplicaSet | undefined): DeploymentCondition | undefined {
  const ordered = newRS !== undefined ? [newRS, ...allRSs.filter((rs) => rs !== newRS)] : allRSs;
  for (const rs of ordered) {
    const c = rs.status?.conditions?.find((x) => x.type === REPLICA_FAILURE);
    if (c !== undefined) {
      return {
        type: REPLICA_FAILURE,
        status: c.status,
        ...(c.lastTransitionTime !== undefined ? { lastUpdateTime: c.lastTransitionTime, lastTransitionTime: c.lastTransitionTime } : {}),
        ...(c.reason !== undefined ? { reason: c.reason } : {}),
        ...(c.message !== undefined ? { message: c.message } : {}),
      };
    }
  }
  return undefined;
}

/** Upstream checkPausedConditions: Progressing Unknown while paused, and once more on resume. */
export function pausedConditions(d: Deployment, status: DeploymentStatus, now: Date): DeploymentStatus {
  if (!hasProgressDeadline(d)) return status;
  const paused = getCondition(status, PROGRESSING)?.reason === reasons.paused;
  if (d.spec.paused === true && !paused) return setCondition(status, newCondition(PROGRESSING, 'Unknown', reasons.paused, 'Deployment is paused', now));
  if (d.spec.paused !== true && paused) return setCondition(status, newCondition(PROGRESSING, 'Unknown', reasons.resumed, 'Deployment is resumed', now));
  return status;
}

/**
 * Upstream requeueStuckDeployment: when a rollout is still in progress, look again just after its
 * deadline would pass, so ProgressDeadlineExceeded is set on time without any event. Undefined: no need.
 */
export function stuckRequeueMs(d: Deployment, s: DeploymentStatus, now: Date): number | undefined {
  const cur = getCondition(d.status, PROGRESSING);
  if (!hasProgressDeadline(d) || cur === undefined) return undefined;
  if (deploymentComplete(d, s) || cur.reason === reasons.timedOut) return undefined;
  const from = timeMs(cur.lastUpdateTime);
  if (from === undefined) return undefined;
  const after = from + (d.spec.progressDeadlineSeconds ?? 0) * 1000 - now.getTime();
  return after < 1000 ? 0 : after + 1000;
}
