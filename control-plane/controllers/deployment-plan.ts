/**
 * The deployment controller's decisions for one sync, pure: `planRollout(deployment, its ReplicaSets,
 * their pods, now)` returns the ReplicaSet writes to make, in order, and the Deployment (annotations +
 * status) to write at the end. It follows upstream's syncDeployment step by step (sync.go, rolling.go,
 * recreate.go): paused or scaling-only -> `sync` (proportional scaling, status); otherwise the strategy.
 *
 * Upstream writes as it goes and returns early after most writes, reading the next state from its caches
 * on the following sync. We run the same steps against working copies of the objects, so one plan holds
 * what upstream does in one sync, minus the writes that would have raced each other (upstream updates
 * the same ReplicaSet twice from a stale copy and retries on the conflict; we make one write). The
 * Deployment's own writes (revision annotation, NewReplicaSetCreated, the final status) are merged into
 * one status write at the end.
 */
import type { Deployment } from '../../api/apps/deployment.js';
import type { ReplicaSet } from '../../api/apps/replicaset.js';
import type { Pod } from '../../api/core/pod.js';
import { rfc3339 } from '../../lib/clock.js';
import { semanticEqual } from '../../api/core/semantic.js';
import { controllerRefTo } from './replicaset-claim.js';
import { computeTemplateHash } from './deployment-hash.js';
import { planRolling, planScale } from './deployment-scale.js';
import {
  activeReplicaSets,
  actualReplicas,
  byRevision,
  desiredReplicasAnnotation,
  findNewReplicaSet,
  findOldReplicaSets,
  hasProgressDeadline,
  hasRevisionHistoryLimit,
  maxRevision,
  maxSurge,
  newRSNewReplicas,
  POD_TEMPLATE_HASH_LABEL,
  REVISION_ANNOTATION,
  replicasOf,
  setNewReplicaSetAnnotations,
  setReplicasAnnotations,
} from './deployment-util.js';
import {
  calculateStatus,
  deploymentComplete,
  getCondition,
  newCondition,
  pausedConditions,
  PROGRESSING,
  reasons,
  rolloutStatus,
  setCondition,
  stuckRequeueMs,
} from './deployment-status.js';

export interface PlannedEvent {
  readonly type: 'Normal' | 'Warning';
  readonly reason: string;
  readonly message: string;
}

export type RolloutAction =
  | { readonly type: 'createReplicaSet'; readonly rs: ReplicaSet; readonly event?: PlannedEvent }
  /** Write `rs`'s spec and annotations onto the ReplicaSet of that name as last seen. */
  | { readonly type: 'updateReplicaSet'; readonly rs: ReplicaSet; readonly event?: PlannedEvent }
  | { readonly type: 'deleteReplicaSet'; readonly name: string; readonly uid: string };

export interface RolloutPlan {
  readonly actions: readonly RolloutAction[];
  /** The Deployment with its new annotations and status, when either changed (written through /status). */
  readonly deployment?: Deployment;
  /** Sync again after this long (the progress deadline of a rollout in progress). */
  readonly requeueAfterMs?: number;
}

/** Working state of one sync: the Deployment and its ReplicaSets as the planned writes leave them. */
export class RolloutPlanner {
  d: Deployment;
  private rss: ReplicaSet[];
  readonly actions: RolloutAction[] = [];

  constructor(
    private readonly orig: Deployment,
    rsList: readonly ReplicaSet[],
    readonly now: Date,
  ) {
    this.d = { ...orig, metadata: { ...orig.metadata }, status: orig.status ?? {} };
    this.rss = [...rsList];
  }

  current(rs: ReplicaSet): ReplicaSet {
    return this.rss.find((x) => x.metadata.name === rs.metadata.name) ?? rs;
  }

  private put(rs: ReplicaSet): void {
    const i = this.rss.findIndex((x) => x.metadata.name === rs.metadata.name);
    if (i >= 0) this.rss[i] = rs;
    else this.rss.push(rs);
  }

  private setDeploymentRevision(revision: string): void {
    const ann = this.d.metadata.annotations ?? {};
    if (ann[REVISION_ANNOTATION] !== revision) this.d = { ...this.d, metadata: { ...this.d.metadata, annotations: { ...ann, [REVISION_ANNOTATION]: revision } } };
  }

  private setStatusCondition(type: string, status: 'True' | 'False' | 'Unknown', reason: string, message: string): void {
    this.d = { ...this.d, status: setCondition(this.d.status ?? {}, newCondition(type, status, reason, message, this.now)) };
  }

  /** Upstream getAllReplicaSetsAndSyncRevision (+ getNewReplicaSet). */
  allAndSyncRevision(createIfMissing: boolean): { newRS: ReplicaSet | undefined; oldRSs: ReplicaSet[] } {
    const d = this.d;
    const existing = findNewReplicaSet(d, this.rss);
    const oldRSs = findOldReplicaSets(this.rss, existing);
    const newRevision = maxRevision(oldRSs) + 1;
    if (existing !== undefined) {
      const ann = { ...(existing.metadata.annotations ?? {}) };
      const annChanged = setNewReplicaSetAnnotations(d, ann, newRevision, true);
      const minReady = d.spec.minReadySeconds ?? 0;
      let rs = existing;
      if (annChanged || (existing.spec.minReadySeconds ?? 0) !== minReady) {
        rs = { ...existing, metadata: { ...existing.metadata, annotations: ann }, spec: { ...existing.spec, minReadySeconds: minReady } };
        this.actions.push({ type: 'updateReplicaSet', rs });
        this.put(rs);
      }
      // upstream records these on the next sync, after its ReplicaSet write; we know them already
      this.setDeploymentRevision(rs.metadata.annotations?.[REVISION_ANNOTATION] ?? '');
      if (hasProgressDeadline(d) && getCondition(this.d.status, PROGRESSING) === undefined) {
        this.setStatusCondition(PROGRESSING, 'True', reasons.foundNewRS, `Found new replica set "${rs.metadata.name ?? ''}"`);
      }
      return { newRS: rs, oldRSs };
    }
    if (!createIfMissing) return { newRS: undefined, oldRSs };
    const created = this.newReplicaSet(oldRSs, newRevision);
    this.setDeploymentRevision(String(newRevision));
    if (hasProgressDeadline(d)) this.setStatusCondition(PROGRESSING, 'True', reasons.newRSCreated, `Created new replica set "${created.metadata.name ?? ''}"`);
    return { newRS: created, oldRSs };
  }

  private newReplicaSet(oldRSs: readonly ReplicaSet[], revision: number): ReplicaSet {
    const d = this.d;
    const hash = computeTemplateHash(d.spec.template, d.status?.collisionCount);
    const tmeta = d.spec.template.metadata ?? {};
    const labels = { ...(tmeta.labels ?? {}), [POD_TEMPLATE_HASH_LABEL]: hash };
    const selector = d.spec.selector ?? {};
    const draft: ReplicaSet = {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: {
        name: `${d.metadata.name ?? ''}-${hash}`,
        ...(d.metadata.namespace !== undefined ? { namespace: d.metadata.namespace } : {}),
        labels,
        ownerReferences: [controllerRefTo(d, 'apps/v1', 'Deployment')],
      },
      spec: {
        replicas: 0,
        minReadySeconds: d.spec.minReadySeconds ?? 0,
        selector: { ...selector, matchLabels: { ...(selector.matchLabels ?? {}), [POD_TEMPLATE_HASH_LABEL]: hash } },
        template: { ...d.spec.template, metadata: { ...tmeta, labels } },
      },
    };
    const replicas = newRSNewReplicas(d, [...oldRSs, draft], draft);
    const annotations: Record<string, string> = {};
    setNewReplicaSetAnnotations(d, annotations, revision, false);
    const rs: ReplicaSet = { ...draft, metadata: { ...draft.metadata, annotations }, spec: { ...draft.spec, replicas } };
    const name = rs.metadata.name ?? '';
    this.actions.push({
      type: 'createReplicaSet',
      rs,
      ...(replicas > 0 ? { event: { type: 'Normal', reason: 'ScalingReplicaSet', message: `Scaled up replica set ${name} to ${replicas}` } } : {}),
    });
    // the working copy sorts as the newest ReplicaSet, as the created object will
    const working = { ...rs, metadata: { ...rs.metadata, creationTimestamp: rfc3339(this.now) } };
    this.put(working);
    return working;
  }

  /** Upstream scaleReplicaSet: new size and/or the desired/max annotations; an event when the size changes. */
  scaleReplicaSet(rs0: ReplicaSet, newScale: number): ReplicaSet {
    const rs = this.current(rs0);
    const d = this.d;
    const old = replicasOf(rs);
    const ann = { ...(rs.metadata.annotations ?? {}) };
    const annChanged = setReplicasAnnotations(ann, replicasOf(d), replicasOf(d) + maxSurge(d));
    if (old === newScale && !annChanged) return rs;
    const next: ReplicaSet = { ...rs, metadata: { ...rs.metadata, annotations: ann }, spec: { ...rs.spec, replicas: newScale } };
    const name = rs.metadata.name ?? '';
    const op = old < newScale ? 'up' : 'down';
    this.actions.push({
      type: 'updateReplicaSet',
      rs: next,
      ...(old !== newScale ? { event: { type: 'Normal', reason: 'ScalingReplicaSet', message: `Scaled ${op} replica set ${name} to ${newScale} from ${old}` } } : {}),
    });
    this.put(next);
    return next;
  }

  /** Upstream scaleReplicaSetAndRecordEvent: true when the size changed. */
  scaleAndRecord(rs0: ReplicaSet, newScale: number): boolean {
    const rs = this.current(rs0);
    if (replicasOf(rs) === newScale) return false;
    this.scaleReplicaSet(rs, newScale);
    return true;
  }

  /** Upstream cleanupDeployment: delete the oldest fully scaled-down ReplicaSets beyond revisionHistoryLimit. */
  cleanup(oldRSs: readonly ReplicaSet[]): void {
    const d = this.d;
    if (!hasRevisionHistoryLimit(d)) return;
    const cleanable = oldRSs.map((rs) => this.current(rs)).filter((rs) => rs.metadata.deletionTimestamp === undefined);
    const diff = cleanable.length - (d.spec.revisionHistoryLimit ?? 10);
    if (diff <= 0) return;
    cleanable.sort(byRevision);
    for (const rs of cleanable.slice(0, diff)) {
      const busy = (rs.status?.replicas ?? 0) !== 0 || replicasOf(rs) !== 0 || (rs.metadata.generation ?? 0) > (rs.status?.observedGeneration ?? 0);
      if (busy || rs.metadata.uid === undefined) continue;
      this.actions.push({ type: 'deleteReplicaSet', name: rs.metadata.name ?? '', uid: rs.metadata.uid });
      this.rss = this.rss.filter((x) => x.metadata.name !== rs.metadata.name);
    }
  }

  /** Upstream isScalingEvent: an active ReplicaSet was sized for a different replica count. */
  isScalingEvent(): boolean {
    const { newRS, oldRSs } = this.allAndSyncRevision(false);
    const want = replicasOf(this.d);
    return activeReplicaSets(newRS !== undefined ? [...oldRSs, newRS] : oldRSs).some((rs) => {
      const desired = desiredReplicasAnnotation(rs);
      return desired !== undefined && desired !== want;
    });
  }

  all(newRS: ReplicaSet | undefined, oldRSs: readonly ReplicaSet[]): ReplicaSet[] {
    const list = oldRSs.map((rs) => this.current(rs)).filter((rs) => this.rss.includes(rs));
    return newRS !== undefined ? [...list, this.current(newRS)] : list;
  }

  /** Upstream sync: scale (paused or scaling only), clean up while paused, then the plain status. */
  sync(): void {
    const { newRS, oldRSs } = this.allAndSyncRevision(false);
    planScale(this, newRS, oldRSs);
    if (this.d.spec.paused === true) this.cleanup(oldRSs);
    const nrs = newRS !== undefined ? this.current(newRS) : undefined;
    this.d = { ...this.d, status: calculateStatus(this.d, this.all(nrs, oldRSs), nrs, this.now) };
  }

  /** Upstream syncRolloutStatus: returns the requeue delay for a rollout still in progress. */
  syncRolloutStatus(newRS: ReplicaSet | undefined, oldRSs: readonly ReplicaSet[]): number | undefined {
    const nrs = newRS !== undefined ? this.current(newRS) : undefined;
    const status = rolloutStatus(this.d, this.all(nrs, oldRSs), nrs, this.now);
    this.d = { ...this.d, status };
    return stuckRequeueMs(this.d, status, this.now);
  }

  rolloutRolling(): number | undefined {
    const { newRS, oldRSs } = this.allAndSyncRevision(true);
    if (newRS === undefined) return undefined;
    if (planRolling(this, newRS, oldRSs)) return this.syncRolloutStatus(newRS, oldRSs);
    if (deploymentComplete(this.orig, this.orig.status ?? {})) this.cleanup(oldRSs);
    return this.syncRolloutStatus(newRS, oldRSs);
  }

  /** Upstream rolloutRecreate: old ReplicaSets to 0, wait until no old pod runs, then the new one to full size. */
  rolloutRecreate(podsByRs: ReadonlyMap<string, readonly Pod[]>): number | undefined {
    let { newRS, oldRSs } = this.allAndSyncRevision(false);
    let scaledDown = false;
    for (const rs of activeReplicaSets(oldRSs)) if (this.scaleAndRecord(rs, 0)) scaledDown = true;
    if (scaledDown || oldPodsRunning(newRS, oldRSs, podsByRs)) return this.syncRolloutStatus(newRS, oldRSs);
    if (newRS === undefined) ({ newRS, oldRSs } = this.allAndSyncRevision(true));
    if (newRS !== undefined) this.scaleAndRecord(newRS, replicasOf(this.d));
    if (deploymentComplete(this.orig, this.orig.status ?? {})) this.cleanup(oldRSs);
    return this.syncRolloutStatus(newRS, oldRSs);
  }

  result(requeueAfterMs?: number): RolloutPlan {
    const o = this.orig;
    const changed = !semanticEqual(o.metadata.annotations, this.d.metadata.annotations) || !semanticEqual(o.status, this.d.status);
    return { actions: this.actions, ...(changed ? { deployment: this.d } : {}), ...(requeueAfterMs !== undefined ? { requeueAfterMs } : {}) };
  }
}

/** Upstream oldPodsRunning: old ReplicaSets still report pods, or a pod not of the new one is not finished. */
export function oldPodsRunning(newRS: ReplicaSet | undefined, oldRSs: readonly ReplicaSet[], podsByRs: ReadonlyMap<string, readonly Pod[]>): boolean {
  if (actualReplicas(oldRSs) > 0) return true;
  for (const [uid, pods] of podsByRs) {
    if (newRS !== undefined && newRS.metadata.uid === uid) continue;
    if (pods.some((p) => p.status?.phase !== 'Failed' && p.status?.phase !== 'Succeeded')) return true;
  }
  return false;
}

/**
 * One sync of a Deployment. `rsList` are the ReplicaSets it owns (after adoption), `podsByRs` their pods
 * by ReplicaSet uid (only the Recreate strategy looks at them).
 */
export function planRollout(d: Deployment, rsList: readonly ReplicaSet[], podsByRs: ReadonlyMap<string, readonly Pod[]>, now: Date): RolloutPlan {
  const p = new RolloutPlanner(d, rsList, now);
  if (d.metadata.deletionTimestamp !== undefined) {
    const { newRS, oldRSs } = p.allAndSyncRevision(false);
    p.d = { ...p.d, status: calculateStatus(p.d, p.all(newRS, oldRSs), newRS, now) };
    return p.result();
  }
  p.d = { ...p.d, status: pausedConditions(d, p.d.status ?? {}, now) };
  if (d.spec.paused === true || p.isScalingEvent()) {
    p.sync();
    return p.result();
  }
  return p.result(d.spec.strategy?.type === 'Recreate' ? p.rolloutRecreate(podsByRs) : p.rolloutRolling());
}
