/**
 * The TTL-after-finished controller, as upstream's (pkg/controller/ttlafterfinished): a finished Job
 * (Complete or Failed) with `spec.ttlSecondsAfterFinished` is deleted, with its pods (foreground
 * propagation, as upstream), that many seconds after it finished (the terminal condition's
 * lastTransitionTime). Before deleting it reads the Job from the server, so a TTL changed or removed
 * meanwhile is honoured, and deletes with that read's resourceVersion as a precondition.
 */
import type { Job } from '../../api/batch/job.js';
import { isJobFinished } from '../../api/batch/job.js';
import { isConflict, isNotFound } from '../../lib/client/errors.js';
import { resources } from '../../lib/client/resource.js';
import type { Informer } from '../../lib/client/informer.js';
import type { Controller, ControllerContext } from '../controller-manager/controller.js';
import { KeyQueue, objectKey, splitKey } from '../controller-manager/controller.js';
import { DelayedRequeue } from './replicaset-requeue.js';

/** When the Job expires (ms since the epoch), or undefined when it has no TTL or has not finished. */
export function jobExpiresAt(job: Job): number | undefined {
  const ttl = job.spec.ttlSecondsAfterFinished;
  if (ttl === undefined || !isJobFinished(job) || job.metadata.deletionTimestamp !== undefined) return undefined;
  const c = job.status?.conditions?.find((x) => (x.type === 'Complete' || x.type === 'Failed') && x.status === 'True');
  const finished = Date.parse(c?.lastTransitionTime ?? job.status?.completionTime ?? '');
  return Number.isNaN(finished) ? undefined : finished + ttl * 1000;
}

export class TTLAfterFinishedController implements Controller {
  readonly name = 'ttl-after-finished';
  private readonly jobs: Informer<Job>;
  private readonly queue: KeyQueue;
  private readonly later: DelayedRequeue;
  private signal: AbortSignal | undefined;

  constructor(private readonly ctx: ControllerContext) {
    this.queue = new KeyQueue(this.name, ctx);
    this.later = new DelayedRequeue(ctx.clock, (key) => this.queue.add(key));
    this.jobs = ctx.informers.informerFor<Job>(resources.jobs);
    const consider = (job: Job): void => {
      if (jobExpiresAt(job) !== undefined) this.queue.add(objectKey(job));
    };
    this.jobs.addEventHandler({ onAdd: consider, onUpdate: (_o, job) => consider(job) });
  }

  async run(signal: AbortSignal): Promise<void> {
    this.signal = signal;
    try {
      await this.jobs.waitForSync(signal);
    } catch {
      return;
    }
    await this.queue.run(signal, (key) => this.sync(key));
  }

  private async sync(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const cached = this.jobs.getByName(name, namespace);
    if (cached === undefined) return;
    const nowMs = this.ctx.clock.now().getTime();
    const at = jobExpiresAt(cached);
    if (at === undefined) return;
    if (at > nowMs) {
      this.later.after(key, at - nowMs, this.signal);
      return;
    }
    const nsOpt = namespace !== undefined ? { namespace } : {};
    let fresh: Job;
    try {
      fresh = await this.ctx.client.get<Job>(resources.jobs, name, nsOpt);
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
    const freshAt = jobExpiresAt(fresh);
    if (freshAt === undefined) return;
    if (freshAt > nowMs) {
      this.later.after(key, freshAt - nowMs, this.signal);
      return;
    }
    try {
      await this.ctx.client.delete(resources.jobs, name, { ...nsOpt, propagationPolicy: 'Foreground', preconditions: { uid: fresh.metadata.uid ?? '', resourceVersion: fresh.metadata.resourceVersion ?? '' } });
      this.ctx.log.info({ controller: this.name, job: key }, 'deleted a finished job whose TTL expired');
    } catch (err) {
      if (isNotFound(err)) return;
      if (isConflict(err)) {
        this.queue.add(key); // changed meanwhile: judge it again
        return;
      }
      throw err;
    }
  }
}
