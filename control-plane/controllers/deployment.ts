/**
 * The deployment controller, as upstream's (pkg/controller/deployment): a Deployment owns one ReplicaSet
 * per pod template it has had; the one matching the current template is "new", the rest are "old".
 * A rollout (RollingUpdate within maxSurge/maxUnavailable, or Recreate) moves replicas from the old to
 * the new ReplicaSet; the ReplicaSet controller turns sizes into pods.
 *
 * What kubectl relies on (its rollout commands are client-side):
 *   - `deployment.kubernetes.io/revision` on every ReplicaSet (and the Deployment), raised when an old
 *     template comes back (`rollout undo`), with `revision-history`; the Deployment's own annotations
 *     (`kubernetes.io/change-cause`) copied onto its new ReplicaSet (`rollout history`);
 *   - `desired-replicas`/`max-replicas` on each ReplicaSet (proportional scaling);
 *   - status counts, observedGeneration and the Progressing condition (`rollout status`);
 *   - spec.paused: no rollout, only scaling, while paused (`rollout pause/resume`); a template change
 *     (`rollout restart`'s restartedAt annotation) is just a new template.
 *
 * Loop: Deployment, ReplicaSet and pod informers -> the Deployment's key -> KeyQueue -> sync(key):
 * claim ReplicaSets by selector (adopt/release, replicaset-claim.ts), `planRollout` (deployment-plan.ts,
 * pure), then carry out its ReplicaSet writes in order and write the Deployment's status. Any failed write
 * ends the sync and the key is retried with back-off; the next sync recomputes everything from the caches.
 * Events as upstream from `deployment-controller`: ScalingReplicaSet "Scaled up replica set web-x to 3".
 *
 * Cost model: a sync is O(ReplicaSets in the namespace) plus, for Recreate only, O(pods in the
 * namespace); writes are one request per resized/created/deleted ReplicaSet and at most one status PUT.
 */
import type { Deployment } from '../../api/apps/deployment.js';
import type { ReplicaSet } from '../../api/apps/replicaset.js';
import type { Pod } from '../../api/core/pod.js';
import { selectorOrUndefined } from '../../api/apps/common.js';
import { isEverything, matches } from '../../api/labels.js';
import type { Selector } from '../../api/labels.js';
import type { OwnerReference } from '../../api/meta.js';
import { isAlreadyExists, isNotFound } from '../../lib/client/errors.js';
import type { Informer } from '../../lib/client/informer.js';
import { resources } from '../../lib/client/resource.js';
import type { Controller, ControllerContext } from '../controller-manager/controller.js';
import { KeyQueue, objectKey, queueKeys, splitKey } from '../controller-manager/controller.js';
import { adoptPatch, controllerRefOf, controllerRefTo, planClaim, releasePatch } from './replicaset-claim.js';
import type { RolloutAction, RolloutPlan } from './deployment-plan.js';
import { planRollout } from './deployment-plan.js';
import { equalIgnoreHash, hasProgressDeadline } from './deployment-util.js';
import { newCondition, PROGRESSING, reasons, setCondition } from './deployment-status.js';
import { DelayedRequeue } from './replicaset-requeue.js';
import { controllerEvents, SpamFilteredEvents } from './replicaset-events.js';

const D_REF = { apiVersion: 'apps/v1', kind: 'Deployment' } as const;

const errMessage = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** A sync that must run again (e.g. a stale cache met an existing object); retried with back-off. */
export class RetrySyncError extends Error {}

export class DeploymentController implements Controller {
  readonly name = 'deployment';
  private readonly dInformer: Informer<Deployment>;
  private readonly rsInformer: Informer<ReplicaSet>;
  private readonly podInformer: Informer<Pod>;
  private readonly queue: KeyQueue;
  private readonly later: DelayedRequeue;
  private readonly events: SpamFilteredEvents;
  private signal: AbortSignal | undefined;

  constructor(private readonly ctx: ControllerContext) {
    this.queue = new KeyQueue(this.name, ctx);
    this.later = new DelayedRequeue(ctx.clock, (key) => this.queue.add(key));
    this.events = controllerEvents(ctx, 'deployment-controller');
    this.dInformer = ctx.informers.informerFor<Deployment>(resources.deployments);
    this.rsInformer = ctx.informers.informerFor<ReplicaSet>(resources.replicaSets);
    this.podInformer = ctx.informers.informerFor<Pod>(resources.pods);
    this.dInformer.addEventHandler(queueKeys(this.queue));
    this.rsInformer.addEventHandler({
      onAdd: (rs) => this.rsChanged(undefined, rs),
      onUpdate: (old, rs) => this.rsChanged(old, rs),
      onDelete: (rs) => this.enqueueOwner(controllerRefOf(rs), rs.metadata.namespace),
    });
    this.podInformer.addEventHandler({ onDelete: (pod) => this.podDeleted(pod) });
  }

  async run(signal: AbortSignal): Promise<void> {
    this.signal = signal;
    try {
      await Promise.all([this.dInformer.waitForSync(signal), this.rsInformer.waitForSync(signal), this.podInformer.waitForSync(signal)]);
    } catch {
      return;
    }
    await this.queue.run(signal, (key) => this.sync(key));
    await this.events.flush();
  }

  // ---- event handlers --------------------------------------------------------------------------

  private resolve(ref: OwnerReference | undefined, namespace: string | undefined): Deployment | undefined {
    if (ref === undefined || ref.kind !== D_REF.kind) return undefined;
    const d = this.dInformer.getByName(ref.name, namespace);
    return d !== undefined && d.metadata.uid === ref.uid ? d : undefined;
  }

  private enqueueOwner(ref: OwnerReference | undefined, namespace: string | undefined): void {
    const d = this.resolve(ref, namespace);
    if (d !== undefined) this.queue.add(objectKey(d));
  }

  private rsChanged(old: ReplicaSet | undefined, rs: ReplicaSet): void {
    if (old !== undefined && old.metadata.resourceVersion === rs.metadata.resourceVersion) return;
    const ref = controllerRefOf(rs);
    const oldRef = old !== undefined ? controllerRefOf(old) : undefined;
    if (oldRef !== undefined && oldRef.uid !== ref?.uid) this.enqueueOwner(oldRef, rs.metadata.namespace);
    if (ref !== undefined) {
      this.enqueueOwner(ref, rs.metadata.namespace);
      return;
    }
    // an orphan: every Deployment that would adopt it
    const labelsChanged = old === undefined || JSON.stringify(old.metadata.labels ?? {}) !== JSON.stringify(rs.metadata.labels ?? {});
    if (!labelsChanged && oldRef === undefined) return;
    for (const d of this.dInformer.list()) {
      if (d.metadata.namespace !== rs.metadata.namespace) continue;
      const sel = selectorOrUndefined(d.spec.selector);
      if (sel !== undefined && matches(sel, rs.metadata.labels)) this.queue.add(objectKey(d));
    }
  }

  /** Recreate waits for old pods to be gone: a pod deletion may unblock it. */
  private podDeleted(pod: Pod): void {
    const rs = this.rsInformer.getByName(controllerRefOf(pod)?.name ?? '', pod.metadata.namespace);
    if (rs === undefined) return;
    const d = this.resolve(controllerRefOf(rs), rs.metadata.namespace);
    if (d?.spec.strategy?.type === 'Recreate') this.queue.add(objectKey(d));
  }

  // ---- sync ------------------------------------------------------------------------------------

  private async sync(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const d = this.dInformer.getByName(name, namespace);
    if (d === undefined) return;
    const sel = selectorOrUndefined(d.spec.selector);
    if (sel === undefined || sel.type === 'nothing') {
      this.ctx.log.warn({ controller: this.name, key }, 'deployment has an invalid selector; not syncing it');
      return;
    }
    if (isEverything(sel)) {
      // apps/v1 validation refuses this; an object stored before could still carry one
      this.events.record(d, D_REF, 'Warning', 'SelectingAll', 'This deployment is selecting all pods. A non-empty selector is required.');
      return;
    }
    const owned = await this.claimReplicaSets(d, sel);
    const podsByRs = d.spec.strategy?.type === 'Recreate' ? this.podsByReplicaSet(d, sel, owned) : new Map<string, Pod[]>();
    const plan = planRollout(d, owned, podsByRs, this.ctx.clock.now());
    await this.execute(d, plan);
    // upstream re-adds a deadline already (nearly) passed rate-limited; one second is our equivalent
    if (plan.requeueAfterMs !== undefined) this.later.after(key, Math.max(plan.requeueAfterMs, 1000), this.signal);
  }

  /** The Deployment's ReplicaSets after adopting orphans it selects and releasing those it no longer does. */
  private async claimReplicaSets(d: Deployment, sel: Selector): Promise<ReplicaSet[]> {
    const inNs = this.rsInformer.list().filter((rs) => rs.metadata.namespace === d.metadata.namespace);
    const plan = planClaim(d, inNs, (rs) => matches(sel, rs.metadata.labels));
    const owned = [...plan.owned];
    const ns = d.metadata.namespace;
    const nsOpt = ns !== undefined ? { namespace: ns } : {};
    if (plan.adopt.length > 0 && (await this.canAdopt(d))) {
      const ref = controllerRefTo(d, D_REF.apiVersion, D_REF.kind);
      for (const rs of plan.adopt) {
        try {
          owned.push(await this.ctx.client.patch<ReplicaSet>(resources.replicaSets, rs.metadata.name ?? '', adoptPatch(ref, rs.metadata.uid ?? ''), { type: 'strategic', ...nsOpt }));
        } catch (err) {
          if (!isNotFound(err)) throw err;
        }
      }
    }
    for (const rs of plan.release) {
      try {
        await this.ctx.client.patch(resources.replicaSets, rs.metadata.name ?? '', releasePatch(d.metadata.uid ?? '', rs.metadata.uid ?? ''), { type: 'strategic', ...nsOpt });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    return owned;
  }

  /** A fresh read: a Deployment deleted or recreated since the cache saw it must not adopt. */
  private async canAdopt(d: Deployment): Promise<boolean> {
    try {
      const fresh = await this.ctx.client.get<Deployment>(resources.deployments, d.metadata.name ?? '', { ...(d.metadata.namespace !== undefined ? { namespace: d.metadata.namespace } : {}) });
      return fresh.metadata.uid === d.metadata.uid && fresh.metadata.deletionTimestamp === undefined;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  /** Upstream getPodMapForDeployment: the selected pods, grouped by the owned ReplicaSet controlling them. */
  private podsByReplicaSet(d: Deployment, sel: Selector, owned: readonly ReplicaSet[]): Map<string, Pod[]> {
    const map = new Map<string, Pod[]>();
    for (const rs of owned) map.set(rs.metadata.uid ?? '', []);
    for (const pod of this.podInformer.list()) {
      if (pod.metadata.namespace !== d.metadata.namespace || !matches(sel, pod.metadata.labels)) continue;
      map.get(controllerRefOf(pod)?.uid ?? '')?.push(pod);
    }
    return map;
  }

  // ---- executor --------------------------------------------------------------------------------

  private async execute(d: Deployment, plan: RolloutPlan): Promise<void> {
    const written = new Map<string, ReplicaSet>();
    for (const action of plan.actions) {
      if ((await this.apply(d, action, written)) === 'stale') return;
    }
    if (plan.deployment === undefined) return;
    try {
      await this.ctx.client.updateStatus<Deployment>(resources.deployments, plan.deployment);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  /** 'stale': the plan was made from a cache that lacks a ReplicaSet we created; its event will resync us. */
  private async apply(d: Deployment, action: RolloutAction, written: Map<string, ReplicaSet>): Promise<'stale' | undefined> {
    const { client } = this.ctx;
    switch (action.type) {
      case 'createReplicaSet': {
        try {
          const rs = await client.create<ReplicaSet>(resources.replicaSets, action.rs);
          written.set(rs.metadata.name ?? '', rs);
        } catch (err) {
          if (isAlreadyExists(err)) return await this.nameTaken(d, action.rs);
          await this.createFailed(d, action.rs, err);
          throw err;
        }
        if (action.event !== undefined) this.events.record(d, D_REF, action.event.type, action.event.reason, action.event.message);
        return undefined;
      }
      case 'updateReplicaSet': {
        // The planned copy carries the resourceVersion the plan was made from, so a ReplicaSet changed
        // since (the cache moved on while we awaited earlier writes) fails with a conflict instead of
        // being overwritten with sizes computed from its older state. One written earlier in this sync
        // is updated from what that write returned.
        const name = action.rs.metadata.name ?? '';
        const prev = written.get(name);
        const body: ReplicaSet = prev === undefined ? action.rs : { ...prev, metadata: { ...prev.metadata, annotations: action.rs.metadata.annotations ?? {} }, spec: action.rs.spec };
        written.set(name, await client.update<ReplicaSet>(resources.replicaSets, body));
        if (action.event !== undefined) this.events.record(d, D_REF, action.event.type, action.event.reason, action.event.message);
        return undefined;
      }
      case 'deleteReplicaSet': {
        try {
          await client.delete(resources.replicaSets, action.name, { ...(d.metadata.namespace !== undefined ? { namespace: d.metadata.namespace } : {}), preconditions: { uid: action.uid } });
        } catch (err) {
          if (!isNotFound(err)) throw err;
        }
        return undefined;
      }
      default: {
        const never: never = action;
        throw new Error(`unknown rollout action ${JSON.stringify(never)}`);
      }
    }
  }

  /**
   * The new ReplicaSet's name exists. If it is ours with this template, our cache was behind (the watch
   * of Deployments can run ahead of the watch of ReplicaSets): stop here, its ADDED event syncs us again.
   * Otherwise the hash collided with another template: bump status.collisionCount so the next hash
   * differs (upstream's collision handling), and sync again.
   */
  private async nameTaken(d: Deployment, rs: ReplicaSet): Promise<'stale'> {
    const name = rs.metadata.name ?? '';
    const nsOpt = d.metadata.namespace !== undefined ? { namespace: d.metadata.namespace } : {};
    const existing = await this.ctx.client.get<ReplicaSet>(resources.replicaSets, name, nsOpt);
    if (controllerRefOf(existing)?.uid === d.metadata.uid && equalIgnoreHash(existing.spec.template, d.spec.template)) {
      if (this.rsInformer.getByName(name, d.metadata.namespace) !== undefined) this.queue.add(objectKey(d));
      return 'stale';
    }
    const collisionCount = (d.status?.collisionCount ?? 0) + 1;
    await this.ctx.client.updateStatus<Deployment>(resources.deployments, { ...d, status: { ...d.status, collisionCount } });
    this.ctx.log.info({ controller: this.name, deployment: objectKey(d), collisionCount }, 'found a hash collision for the new replica set');
    throw new RetrySyncError(`replica set name ${name} is taken by another template; collisionCount is now ${collisionCount}`);
  }

  /** Upstream: Progressing False ReplicaSetCreateError and a warning event. */
  private async createFailed(d: Deployment, rs: ReplicaSet, err: unknown): Promise<void> {
    const msg = `Failed to create new replica set "${rs.metadata.name ?? ''}": ${errMessage(err)}`;
    this.events.record(d, D_REF, 'Warning', reasons.failedRSCreate, msg);
    if (!hasProgressDeadline(d)) return;
    const status = setCondition(d.status ?? {}, newCondition(PROGRESSING, 'False', reasons.failedRSCreate, msg, this.ctx.clock.now()));
    try {
      await this.ctx.client.updateStatus<Deployment>(resources.deployments, { ...d, status });
    } catch (e) {
      this.ctx.log.warn({ controller: this.name, deployment: objectKey(d), err: errMessage(e) }, 'could not record the failed replica set create');
    }
  }
}
