/**
 * The Job controller, as upstream's (pkg/controller/job): runs a Job's pods to completion.
 *
 * Loop: job and pod informers (shared) -> the keys of the Jobs concerned -> KeyQueue -> sync(key):
 *   1. claim the namespace's pods by selector (any phase: finished pods count);
 *   2. count the pods newly finished without losing or doubling any (job-plan.ts: uncountedTerminatedPods,
 *      the `batch.kubernetes.io/job-tracking` finalizer removed, then the counters);
 *   3. decide (job-plan.ts planJob): suspension, failure (backoffLimit, OnFailure restarts,
 *      activeDeadlineSeconds, podFailurePolicy, backoffLimitPerIndex/maxFailedIndexes), success
 *      (completions, successPolicy), pods to create (NonIndexed or one per missing index, 10 s doubling
 *      back-off after failures, at most 500 per sync) or to delete;
 *   4. create/delete (expectations as the ReplicaSet controller's), write the status, record events
 *      (SuccessfulCreate, SuccessfulDelete, Completed, the failure's reason, Suspended, Resumed), from
 *      component `job-controller`.
 * A finished or deleted Job's pods, and pods left with the finalizer by a Job that is gone or orphaned
 * them, lose the finalizer so the garbage collector and pod GC can remove them.
 *
 * Every status write is guarded by the resourceVersion the sync read, and a sync never starts from a
 * Job older than its own last write, so a pod is never counted twice; a conflict retries the key.
 */
import type { Pod } from '../../api/core/pod.js';
import type { Job } from '../../api/batch/job.js';
import { JOB_CONTROLLER_NAME, JOB_TRACKING_FINALIZER, isJobFinished } from '../../api/batch/job.js';
import { matches } from '../../api/labels.js';
import type { OwnerReference } from '../../api/meta.js';
import type { Selector } from '../../api/labels.js';
import { workloadSelector } from '../../api/apps/common.js';
import { isNotFound, isNamespaceTerminating } from '../../lib/client/errors.js';
import type { Informer } from '../../lib/client/informer.js';
import { resources } from '../../lib/client/resource.js';
import type { Controller, ControllerContext } from '../controller-manager/controller.js';
import { KeyQueue, objectKey, splitKey } from '../controller-manager/controller.js';
import { adoptPatch, controllerRefOf, controllerRefTo, planClaim, releasePatch } from './replicaset-claim.js';
import { Expectations, SLOW_START_INITIAL_BATCH, slowStartBatch } from './replicaset-expectations.js';
import { DelayedRequeue } from './replicaset-requeue.js';
import { controllerEvents, SpamFilteredEvents } from './replicaset-events.js';
import type { BackoffRecord, JobDecision } from './job-plan.js';
import {
  JOB_REF,
  NO_BACKOFF,
  countUncounted,
  hasNewlyFinished,
  hasTrackingFinalizer,
  indexFailuresSoFar,
  jobPodFromTemplate,
  jobStatusChanged,
  newlyFinished,
  nextBackoff,
  planJob,
  withUncounted,
} from './job-plan.js';

const errMessage = (err: unknown): string => (err instanceof Error ? err.message : String(err));


const selectorOf = (job: Job): Selector | undefined => workloadSelector(job.spec.selector);

/** The newer of two versions of an object, by their (numeric, in knode) resourceVersions. */
function newest(cached: Job, written: Job | undefined): Job {
  if (written === undefined || written.metadata.uid !== cached.metadata.uid) return cached;
  const a = cached.metadata.resourceVersion ?? '';
  const b = written.metadata.resourceVersion ?? '';
  if (!/^\d+$/.test(a) || !/^\d+$/.test(b)) return cached;
  return BigInt(b) > BigInt(a) ? written : cached;
}

export class JobController implements Controller {
  readonly name = 'job';
  readonly expectations: Expectations;
  private readonly jobInformer: Informer<Job>;
  private readonly podInformer: Informer<Pod>;
  private readonly queue: KeyQueue;
  private readonly orphans: KeyQueue;
  private readonly later: DelayedRequeue;
  private readonly events: SpamFilteredEvents;
  private readonly backoff = new Map<string, BackoffRecord>();
  /** Each Job as this controller last wrote it (the cache may not show that write yet). */
  private readonly written = new Map<string, Job>();
  /**
   * Per Job key, the uids of pods whose finalizer removal was sent but is not in the pod cache yet
   * (upstream's finalizer expectations): those pods are counted, and a sync seeing them with the
   * finalizer from a lagging cache must not count them again.
   */
  private readonly removing = new Map<string, Set<string>>();
  private signal: AbortSignal | undefined;

  constructor(private readonly ctx: ControllerContext) {
    this.expectations = new Expectations(ctx.clock);
    this.queue = new KeyQueue(this.name, ctx);
    this.orphans = new KeyQueue('job-orphan-pods', ctx);
    this.later = new DelayedRequeue(ctx.clock, (key) => this.queue.add(key));
    this.events = controllerEvents(ctx, 'job-controller');
    this.jobInformer = ctx.informers.informerFor<Job>(resources.jobs);
    this.podInformer = ctx.informers.informerFor<Pod>(resources.pods);
    this.jobInformer.addEventHandler({
      onAdd: (job) => this.queue.add(objectKey(job)),
      onUpdate: (_old, job) => this.queue.add(objectKey(job)),
      onDelete: (job) => {
        const key = objectKey(job);
        this.expectations.delete(key);
        this.backoff.delete(key);
        this.written.delete(key);
        this.queue.add(key);
      },
    });
    this.podInformer.addEventHandler({
      onAdd: (pod) => this.podChanged(undefined, pod, 'add'),
      onUpdate: (old, pod) => this.podChanged(old, pod, 'update'),
      onDelete: (pod) => this.podChanged(undefined, pod, 'delete'),
    });
  }

  async run(signal: AbortSignal): Promise<void> {
    this.signal = signal;
    try {
      await Promise.all([this.jobInformer.waitForSync(signal), this.podInformer.waitForSync(signal)]);
    } catch {
      return;
    }
    await Promise.all([this.queue.run(signal, (key) => this.sync(key)), this.orphans.run(signal, (key) => this.syncOrphan(key))]);
    await this.events.flush();
  }

  // ---- pod events --------------------------------------------------------------------------------

  private jobRef(pod: Pod): OwnerReference | undefined {
    const ref = controllerRefOf(pod);
    return ref !== undefined && ref.kind === JOB_REF.kind && ref.apiVersion.startsWith('batch/') ? ref : undefined;
  }

  private podChanged(old: Pod | undefined, pod: Pod, what: 'add' | 'update' | 'delete'): void {
    if (old !== undefined && old.metadata.resourceVersion === pod.metadata.resourceVersion) return;
    const ns = pod.metadata.namespace ?? '';
    if (what === 'delete' || !hasTrackingFinalizer(pod)) {
      const was = this.jobRef(pod) ?? (old !== undefined ? this.jobRef(old) : undefined);
      if (was !== undefined) this.removalObserved(`${ns}/${was.name}`, pod.metadata.uid ?? '');
    }
    const ref = this.jobRef(pod);
    if (ref === undefined) {
      if (controllerRefOf(pod) === undefined && hasTrackingFinalizer(pod) && what !== 'delete') this.orphans.add(objectKey(pod));
      if (controllerRefOf(pod) === undefined) for (const job of this.selecting(pod)) this.queue.add(objectKey(job));
      if (old !== undefined) {
        const oldRef = this.jobRef(old);
        if (oldRef !== undefined) this.queue.add(`${ns}/${oldRef.name}`);
      }
      return;
    }
    const key = `${ns}/${ref.name}`;
    const job = this.jobInformer.getByName(ref.name, ns);
    if (job !== undefined && job.metadata.uid === ref.uid) {
      if (what === 'add' && pod.metadata.deletionTimestamp === undefined) this.expectations.creationObserved(key);
      if (what === 'delete' || pod.metadata.deletionTimestamp !== undefined) this.expectations.deletionObserved(key, objectKey(pod));
    }
    this.queue.add(key);
  }

  private selecting(pod: Pod): Job[] {
    const ns = pod.metadata.namespace ?? '';
    return this.jobInformer.list().filter((j) => {
      if ((j.metadata.namespace ?? '') !== ns) return false;
      const sel = selectorOf(j);
      return sel !== undefined && matches(sel, pod.metadata.labels);
    });
  }

  // ---- sync --------------------------------------------------------------------------------------

  private async sync(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const cached = this.jobInformer.getByName(name, namespace);
    if (cached === undefined) {
      this.expectations.delete(key);
      this.backoff.delete(key);
      this.written.delete(key);
      await this.releaseFinalizers(key, this.podsIn(namespace).filter((p) => this.jobRef(p)?.name === name && hasTrackingFinalizer(p)));
      return;
    }
    let job = newest(cached, this.written.get(key));
    // pods of an earlier Job of the same name lose the finalizer too
    await this.releaseFinalizers(key, this.podsIn(namespace).filter((p) => { const r = this.jobRef(p); return r?.name === name && r.uid !== job.metadata.uid && hasTrackingFinalizer(p); }));
    if (job.spec.managedBy !== undefined && job.spec.managedBy !== JOB_CONTROLLER_NAME) return; // another controller's
    if (selectorOf(job) === undefined) {
      this.ctx.log.warn({ controller: this.name, key }, 'job has no selector; not syncing it');
      return;
    }
    const pods = this.withExpectedRemovals(key, await this.claim(job, this.podsIn(namespace)));
    if (isJobFinished(job) || job.metadata.deletionTimestamp !== undefined) {
      await this.releaseFinalizers(key, pods.filter(hasTrackingFinalizer));
      return;
    }
    const now = this.ctx.clock.now();

    // count what finished: record, release, count (job-plan.ts)
    const finished = newlyFinished(job, pods);
    if (hasNewlyFinished(finished)) {
      job = await this.writeStatus(key, job, withUncounted(job, finished, now));
      this.backoff.set(key, nextBackoff(this.backoff.get(key) ?? NO_BACKOFF, finished, now.getTime()));
    }
    const uncounted = new Set([...(job.status?.uncountedTerminatedPods?.succeeded ?? []), ...(job.status?.uncountedTerminatedPods?.failed ?? [])]);
    const uncountable = new Set(finished.uncountable.map((p) => p.metadata.uid));
    const release = pods.filter((p) => hasTrackingFinalizer(p) && (uncounted.has(p.metadata.uid ?? '') || uncountable.has(p.metadata.uid)));
    const failedRelease = await this.releaseFinalizers(key, release);
    const tracked = new Set(pods.filter((p) => hasTrackingFinalizer(p) && (!release.includes(p) || failedRelease.has(p.metadata.uid ?? ''))).map((p) => p.metadata.uid ?? ''));
    const base = job;
    job = { ...job, status: countUncounted(job, tracked) };

    const decision = planJob(job, pods, now, this.backoff.get(key) ?? NO_BACKOFF, this.expectations.satisfied(key));
    const manageErr = await this.manage(job, key, decision, pods);
    let status = decision.status;
    if (manageErr !== undefined) status = { ...status, active: (status.active ?? 0) - manageErr.notCreated };
    if (jobStatusChanged(base, status)) await this.writeStatus(key, job, status);
    for (const e of decision.events) this.events.record(job, JOB_REF, e.type, e.reason, e.message);
    if (decision.requeueAfterMs !== undefined) this.later.after(key, decision.requeueAfterMs + 1, this.signal);
    if (manageErr !== undefined) throw new Error(`job ${key}: ${manageErr.message}`);
  }

  private removalObserved(key: string, uid: string): void {
    const set = this.removing.get(key);
    if (set === undefined) return;
    set.delete(uid);
    if (set.size === 0) this.removing.delete(key);
  }

  /** The pods as they are once the finalizer removals sent are applied (the cache may lag behind). */
  private withExpectedRemovals(key: string, pods: Pod[]): Pod[] {
    const set = this.removing.get(key);
    if (set === undefined) return pods;
    return pods.map((p) =>
      set.has(p.metadata.uid ?? '') && hasTrackingFinalizer(p) ? { ...p, metadata: { ...p.metadata, finalizers: (p.metadata.finalizers ?? []).filter((f) => f !== JOB_TRACKING_FINALIZER) } } : p,
    );
  }

  private podsIn(namespace: string | undefined): Pod[] {
    const ns = namespace ?? '';
    return this.podInformer.list().filter((p) => (p.metadata.namespace ?? '') === ns);
  }

  /** Adopts orphans the selector matches and releases pods it no longer matches; returns the Job's pods. */
  private async claim(job: Job, pods: readonly Pod[]): Promise<Pod[]> {
    const sel = selectorOf(job);
    const plan = planClaim(job, pods, (p) => sel !== undefined && matches(sel, p.metadata.labels));
    const owned = [...plan.owned];
    const ns = job.metadata.namespace;
    const nsOpt = ns !== undefined ? { namespace: ns } : {};
    if (plan.adopt.length > 0 && job.metadata.deletionTimestamp === undefined) {
      const ref = controllerRefTo(job, JOB_REF.apiVersion, JOB_REF.kind);
      for (const pod of plan.adopt) {
        try {
          // adopted pods get the tracking finalizer too, or their end would never be counted (upstream)
          const patch = { metadata: { ...(adoptPatch(ref, pod.metadata.uid ?? '') as { metadata: object }).metadata, finalizers: [JOB_TRACKING_FINALIZER] } };
          owned.push(await this.ctx.client.patch<Pod>(resources.pods, pod.metadata.name ?? '', patch, { type: 'strategic', ...nsOpt }));
        } catch (err) {
          if (!isNotFound(err)) throw err;
        }
      }
    }
    for (const pod of plan.release) {
      try {
        await this.ctx.client.patch(resources.pods, pod.metadata.name ?? '', releasePatch(job.metadata.uid ?? '', pod.metadata.uid ?? ''), { type: 'strategic', ...nsOpt });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    return owned;
  }

  /**
   * Removes the tracking finalizer (a JSON patch testing the pod's uid and the finalizer's position, so it
   * cannot land on a namesake or drop another finalizer). Returns the uids whose removal failed.
   */
  private async releaseFinalizers(key: string | undefined, pods: readonly Pod[]): Promise<Set<string>> {
    const failed = new Set<string>();
    if (key !== undefined && pods.length > 0) {
      let set = this.removing.get(key);
      if (set === undefined) this.removing.set(key, (set = new Set()));
      for (const p of pods) set.add(p.metadata.uid ?? '');
    }
    await Promise.all(
      pods.map(async (pod) => {
        const finalizers = pod.metadata.finalizers ?? [];
        const at = finalizers.indexOf(JOB_TRACKING_FINALIZER);
        if (at < 0) return;
        const patch = [
          { op: 'test', path: '/metadata/uid', value: pod.metadata.uid },
          { op: 'test', path: `/metadata/finalizers/${at}`, value: JOB_TRACKING_FINALIZER },
          { op: 'remove', path: `/metadata/finalizers/${at}` },
        ];
        try {
          await this.ctx.client.patch(resources.pods, pod.metadata.name ?? '', patch, { type: 'json', ...(pod.metadata.namespace !== undefined ? { namespace: pod.metadata.namespace } : {}) });
        } catch (err) {
          if (isNotFound(err)) return; // gone: nothing holds it any more
          failed.add(pod.metadata.uid ?? '');
          if (key !== undefined) this.removalObserved(key, pod.metadata.uid ?? '');
          this.ctx.log.warn({ controller: this.name, pod: objectKey(pod), err: errMessage(err) }, 'could not remove the job-tracking finalizer; retrying');
        }
      }),
    );
    return failed;
  }

  private async manage(job: Job, key: string, decision: JobDecision, pods: readonly Pod[]): Promise<{ message: string; notCreated: number } | undefined> {
    const { client } = this.ctx;
    const { create, delete: toDelete } = decision;
    let message: string | undefined;
    let notCreated = 0;
    if (toDelete.length > 0) {
      this.expectations.expectDeletions(key, toDelete.map((p) => objectKey(p)));
      await Promise.all(
        toDelete.map(async (pod) => {
          const name = pod.metadata.name ?? '';
          try {
            if (decision.releaseBeforeDelete && hasTrackingFinalizer(pod) && (await this.releaseFinalizers(key, [pod])).size > 0) {
              throw new Error(`could not remove the job-tracking finalizer of pod ${name} before deleting it`);
            }
            await client.delete(resources.pods, name, { ...(pod.metadata.namespace !== undefined ? { namespace: pod.metadata.namespace } : {}) });
            this.events.record(job, JOB_REF, 'Normal', 'SuccessfulDelete', `Deleted pod: ${name}`);
          } catch (err) {
            this.expectations.deletionObserved(key, objectKey(pod));
            if (isNotFound(err)) return;
            this.events.record(job, JOB_REF, 'Warning', 'FailedDelete', `Error deleting: ${errMessage(err)}`);
            message ??= errMessage(err);
          }
        }),
      );
    }
    if (create.length > 0) {
      this.expectations.expectCreations(key, create.length);
      let next = 0;
      const result = await slowStartBatch(create.length, SLOW_START_INITIAL_BATCH, async () => {
        const index = create[next++];
        const template = jobPodFromTemplate(job, index, index !== undefined && job.spec.backoffLimitPerIndex !== undefined ? indexFailuresSoFar(job, pods, index) : 0);
        try {
          const pod = await client.create<Pod>(resources.pods, template);
          this.events.record(job, JOB_REF, 'Normal', 'SuccessfulCreate', `Created pod: ${pod.metadata.name ?? ''}`);
        } catch (err) {
          if (isNamespaceTerminating(err)) return;
          this.events.record(job, JOB_REF, 'Warning', 'FailedCreate', `Error creating: ${errMessage(err)}`);
          throw err;
        }
      });
      notCreated = create.length - result.successes;
      if (notCreated > 0) this.expectations.creationObserved(key, notCreated);
      if (result.error !== undefined) message ??= errMessage(result.error);
    }
    return message !== undefined ? { message, notCreated } : undefined;
  }

  /** A status write guarded by the Job's resourceVersion (a conflict throws: the key is synced again). */
  private async writeStatus(key: string, job: Job, status: Job['status']): Promise<Job> {
    const next = await this.ctx.client.updateStatus<Job>(resources.jobs, { ...job, ...(status !== undefined ? { status } : {}) });
    this.written.set(key, next);
    return next;
  }

  // ---- orphans -----------------------------------------------------------------------------------

  /** A pod with the tracking finalizer and no controller (orphaned by its Job's deletion) loses it. */
  private async syncOrphan(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const pod = this.podInformer.getByName(name, namespace);
    if (pod === undefined || controllerRefOf(pod) !== undefined || !hasTrackingFinalizer(pod)) return;
    const failed = await this.releaseFinalizers(undefined, [pod]);
    if (failed.size > 0) throw new Error(`pod ${key}: could not remove the job-tracking finalizer`);
  }
}
