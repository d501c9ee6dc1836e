/**
 * The CronJob controller, as upstream's (pkg/controller/cronjob): starts a Job for each schedule time.
 *
 * Loop: CronJob and Job informers -> the CronJob keys concerned -> KeyQueue -> sync(key):
 *   1. its Jobs (controlled by it): status.active follows them, lastSuccessfulTime the latest
 *      completion, a "SawCompletedJob" event per Job seen finishing, finished Jobs beyond the history
 *      limits deleted (background propagation);
 *   2. unless suspended or being deleted: the most recent schedule time due (cronjob-plan.ts); too old
 *      for startingDeadlineSeconds: skipped with a "MissSchedule" warning; concurrencyPolicy Forbid
 *      with a Job active: skipped ("JobAlreadyActive"); Replace: the active Jobs deleted first; then the
 *      Job created (its name carries the schedule time, so a repeated sync finds it exists) and
 *      lastScheduleTime written;
 *   3. requeued for the next schedule time.
 * Events from component `cronjob-controller`: SuccessfulCreate "Created job X", SuccessfulDelete
 * "Deleted job X", SawCompletedJob "Saw completed job: X, condition: Complete", UnexpectedJob,
 * InvalidSchedule, MissSchedule, TooManyMissedTimes, JobAlreadyActive, FailedCreate.
 */
import type { Job } from '../../api/batch/job.js';
import type { CronJob, CronJobStatus } from '../../api/batch/cronjob.js';
import { isAlreadyExists, isConflict, isNamespaceTerminating, isNotFound } from '../../lib/client/errors.js';
import type { Informer } from '../../lib/client/informer.js';
import { resources } from '../../lib/client/resource.js';
import { rfc3339 } from '../../lib/clock.js';
import type { Controller, ControllerContext } from '../controller-manager/controller.js';
import { KeyQueue, objectKey, queueKeys, splitKey } from '../controller-manager/controller.js';
import { controllerRefOf } from './replicaset-claim.js';
import { DelayedRequeue } from './replicaset-requeue.js';
import { controllerEvents, SpamFilteredEvents } from './replicaset-events.js';
import { CRONJOB_REF, MANY_MISSED, checkSchedule, cronJobStatusChanged, jobFromTemplate, jobRef, scheduleOf, viewJobs } from './cronjob-plan.js';

const errMessage = (err: unknown): string => (err instanceof Error ? err.message : String(err));

export class CronJobController implements Controller {
  readonly name = 'cronjob';
  private readonly cronJobs: Informer<CronJob>;
  private readonly jobs: Informer<Job>;
  private readonly queue: KeyQueue;
  private readonly later: DelayedRequeue;
  private readonly events: SpamFilteredEvents;
  private signal: AbortSignal | undefined;

  constructor(private readonly ctx: ControllerContext) {
    this.queue = new KeyQueue(this.name, ctx);
    this.later = new DelayedRequeue(ctx.clock, (key) => this.queue.add(key));
    this.events = controllerEvents(ctx, 'cronjob-controller');
    this.cronJobs = ctx.informers.informerFor<CronJob>(resources.cronJobs);
    this.jobs = ctx.informers.informerFor<Job>(resources.jobs);
    this.cronJobs.addEventHandler(queueKeys(this.queue));
    const jobChanged = (job: Job): void => {
      const ref = controllerRefOf(job);
      if (ref?.kind === CRONJOB_REF.kind) this.queue.add(`${job.metadata.namespace ?? ''}/${ref.name}`);
    };
    this.jobs.addEventHandler({ onAdd: jobChanged, onUpdate: (_o, j) => jobChanged(j), onDelete: jobChanged });
  }

  async run(signal: AbortSignal): Promise<void> {
    this.signal = signal;
    try {
      await Promise.all([this.cronJobs.waitForSync(signal), this.jobs.waitForSync(signal)]);
    } catch {
      return;
    }
    await this.queue.run(signal, (key) => this.sync(key));
    await this.events.flush();
  }

  private ownJobs(cj: CronJob): Job[] {
    const ns = cj.metadata.namespace ?? '';
    return this.jobs.list().filter((j) => (j.metadata.namespace ?? '') === ns && controllerRefOf(j)?.uid === cj.metadata.uid);
  }

  private async sync(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const cj = this.cronJobs.getByName(name, namespace);
    if (cj === undefined) return;
    const { client } = this.ctx;
    const nsOpt = namespace !== undefined ? { namespace } : {};
    const now = this.ctx.clock.now();

    // 1. the Jobs (one listed active but not in the cache yet, e.g. just created, is read from the server)
    const own = this.ownJobs(cj);
    for (const ref of cj.status?.active ?? []) {
      if (own.some((j) => j.metadata.uid === ref.uid)) continue;
      try {
        const j = await client.get<Job>(resources.jobs, ref.name ?? '', nsOpt);
        if (j.metadata.uid === ref.uid) own.push(j);
        else this.events.record(cj, CRONJOB_REF, 'Warning', 'MissingJob', `Active job went missing: ${ref.name ?? ''}`);
      } catch (err) {
        if (!isNotFound(err)) throw err;
        this.events.record(cj, CRONJOB_REF, 'Warning', 'MissingJob', `Active job went missing: ${ref.name ?? ''}`);
      }
    }
    const view = viewJobs(cj, own);
    for (const { job, type } of view.justFinished) this.events.record(cj, CRONJOB_REF, 'Normal', 'SawCompletedJob', `Saw completed job: ${job.metadata.name ?? ''}, condition: ${type}`);
    let status: CronJobStatus = view.status;
    for (const job of view.prune) {
      try {
        await client.delete(resources.jobs, job.metadata.name ?? '', { ...nsOpt, propagationPolicy: 'Background' });
        this.events.record(cj, CRONJOB_REF, 'Normal', 'SuccessfulDelete', `Deleted job ${job.metadata.name ?? ''}`);
      } catch (err) {
        if (!isNotFound(err)) this.ctx.log.warn({ controller: this.name, key, job: job.metadata.name, err: errMessage(err) }, 'could not delete a finished job beyond the history limit');
      }
    }
    if (cj.metadata.deletionTimestamp !== undefined) return;

    // 2. a run due?
    const schedule = scheduleOf(cj);
    if (typeof schedule === 'string') {
      this.events.record(cj, CRONJOB_REF, 'Warning', 'InvalidSchedule', `invalid schedule: ${cj.spec.schedule} : ${schedule}`);
      await this.writeStatus(cj, status);
      return;
    }
    let check;
    try {
      check = checkSchedule(cj, schedule, now);
    } catch (err) {
      this.events.record(cj, CRONJOB_REF, 'Warning', 'UnknownTimeZone', `invalid timeZone: ${cj.spec.timeZone ?? ''}: ${errMessage(err)}`);
      await this.writeStatus(cj, status);
      return;
    }
    if (cj.spec.suspend !== true && check.due !== undefined) {
      const due = check.due;
      if (check.missed > MANY_MISSED) this.events.record(cj, CRONJOB_REF, 'Warning', 'TooManyMissedTimes', `too many missed start times: ${check.missed}. Set or decrease .spec.startingDeadlineSeconds or check clock skew`);
      const already = own.some((j) => j.metadata.name === jobFromTemplate(cj, due).metadata.name);
      if (already) {
        status = { ...status, lastScheduleTime: rfc3339(due) };
      } else if (cj.spec.concurrencyPolicy === 'Forbid' && view.active.length > 0) {
        this.events.record(cj, CRONJOB_REF, 'Normal', 'JobAlreadyActive', 'Not starting job because prior execution is running and concurrency policy is Forbid');
      } else {
        if (cj.spec.concurrencyPolicy === 'Replace') {
          for (const job of view.active) {
            try {
              await client.delete(resources.jobs, job.metadata.name ?? '', { ...nsOpt, propagationPolicy: 'Background' });
              this.events.record(cj, CRONJOB_REF, 'Normal', 'SuccessfulDelete', `Deleted job ${job.metadata.name ?? ''}`);
            } catch (err) {
              if (!isNotFound(err)) throw err;
            }
          }
          status = { ...status, active: [] };
        }
        try {
          const created = await client.create<Job>(resources.jobs, jobFromTemplate(cj, due));
          this.events.record(cj, CRONJOB_REF, 'Normal', 'SuccessfulCreate', `Created job ${created.metadata.name ?? ''}`);
          status = { ...status, active: [...(status.active ?? []), jobRef(created)], lastScheduleTime: rfc3339(due) };
        } catch (err) {
          if (isAlreadyExists(err)) {
            // created by an earlier attempt whose status write was lost: that run is started
            status = { ...status, lastScheduleTime: rfc3339(due) };
          } else {
            if (!isNamespaceTerminating(err)) {
              this.events.record(cj, CRONJOB_REF, 'Warning', 'FailedCreate', `Error creating job: ${errMessage(err)}`);
            }
            await this.writeStatus(cj, status);
            throw err;
          }
        }
      }
    }
    await this.writeStatus(cj, status);

    // 3. next time
    if (check.next !== undefined) this.later.after(key, Math.max(0, check.next.getTime() - now.getTime()) + 100, this.signal);
  }

  private async writeStatus(cj: CronJob, status: CronJobStatus): Promise<void> {
    if (!cronJobStatusChanged(cj, status)) return;
    try {
      await this.ctx.client.updateStatus<CronJob>(resources.cronJobs, { ...cj, status });
    } catch (err) {
      if (isNotFound(err)) return;
      if (isConflict(err)) throw new Error(`cronjob ${objectKey(cj)}: status conflict, retrying`);
      throw err;
    }
  }
}
