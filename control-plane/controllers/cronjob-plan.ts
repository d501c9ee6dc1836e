/**
 * The CronJob controller's decisions (upstream pkg/controller/cronjob, the "v2" controller), pure:
 *   - which of its Jobs are still active, which finished (lastSuccessfulTime), which finished Jobs go
 *     beyond successfulJobsHistoryLimit / failedJobsHistoryLimit (oldest first);
 *   - whether a run is due now: the most recent schedule time after lastScheduleTime (or creation) up to
 *     now, skipped when older than startingDeadlineSeconds; with Forbid skipped while a Job is active,
 *     with Replace the active Jobs deleted first;
 *   - the Job to create: named `<cronjob>-<scheduled time in minutes since the epoch>` (so a retried sync
 *     cannot start the same run twice: the name exists), the jobTemplate's labels, annotations and spec,
 *     the `batch.kubernetes.io/cronjob-scheduled-timestamp` annotation, a controller reference.
 * Times are computed in spec.timeZone, else UTC (upstream: the controller manager's local zone).
 */
import type { Job } from '../../api/batch/job.js';
import { isJobFinished } from '../../api/batch/job.js';
import type { CronJob, CronJobStatus } from '../../api/batch/cronjob.js';
import { CRONJOB_SCHEDULED_TIMESTAMP_ANNOTATION } from '../../api/batch/cronjob.js';
import type { CronSchedule } from '../../api/batch/cron.js';
import { isCronParseError, nextAfter, parseSchedule } from '../../api/batch/cron.js';
import type { ObjectReference } from '../../api/core/common.js';
import { rfc3339 } from '../../lib/clock.js';
import { controllerRefTo } from './replicaset-claim.js';

export const CRONJOB_REF = { apiVersion: 'batch/v1', kind: 'CronJob' } as const;
/** Upstream warns when more than this many start times were missed (and still starts the latest). */
export const MANY_MISSED = 100;

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export function jobFinishedType(job: Job): 'Complete' | 'Failed' | undefined {
  for (const c of job.status?.conditions ?? []) {
    if ((c.type === 'Complete' || c.type === 'Failed') && c.status === 'True') return c.type;
  }
  return undefined;
}

/** The parsed schedule, or the parse error's message. */
export function scheduleOf(cj: CronJob): CronSchedule | string {
  const s = parseSchedule(cj.spec.schedule);
  return isCronParseError(s) ? s.message : s;
}

export interface ScheduleCheck {
  /** The run to start now, if one is due. */
  readonly due?: Date;
  /** How many schedule times passed unstarted (more than MANY_MISSED: upstream's warning). */
  readonly missed: number;
  /** The next schedule time after now (to look again then). */
  readonly next?: Date;
  /** The due run is older than startingDeadlineSeconds: skipped. */
  readonly tooLate?: Date;
}

/**
 * Upstream mostRecentScheduleTime + the starting deadline check: the latest schedule time in
 * (max(lastScheduleTime or creation, now - startingDeadlineSeconds), now].
 */
export function checkSchedule(cj: CronJob, schedule: CronSchedule, now: Date): ScheduleCheck {
  const tz = cj.spec.timeZone;
  const created = Date.parse(cj.metadata.creationTimestamp ?? '');
  const last = Date.parse(cj.status?.lastScheduleTime ?? '');
  let earliest = !Number.isNaN(last) ? last : !Number.isNaN(created) ? created : now.getTime();
  const deadline = cj.spec.startingDeadlineSeconds;
  if (deadline !== undefined) earliest = Math.max(earliest, now.getTime() - deadline * 1000);
  const next = nextAfter(schedule, now, tz);
  if (schedule.kind === 'every') {
    // a constant period: the runs since `earliest` are counted, not walked
    const period = schedule.seconds * 1000;
    const first = Math.floor(earliest / 1000) * 1000 + period;
    if (first > now.getTime()) return { missed: 0, ...(next !== undefined ? { next } : {}) };
    const k = Math.floor((now.getTime() - first) / period);
    return { missed: k, due: new Date(first + k * period), ...(next !== undefined ? { next } : {}) };
  }
  let t = nextAfter(schedule, new Date(earliest), tz);
  let latest: Date | undefined;
  let missed = 0;
  while (t !== undefined && t.getTime() <= now.getTime()) {
    latest = t;
    missed++;
    if (missed > MANY_MISSED + 1) {
      // jump: only the latest matters; find it by walking back from now in the remaining span
      latest = latestAtOrBefore(schedule, t, now, tz) ?? latest;
      break;
    }
    t = nextAfter(schedule, t, tz);
  }
  const base = { missed: Math.max(0, missed - 1), ...(next !== undefined ? { next } : {}) };
  if (latest === undefined) return base;
  return { ...base, due: latest };
}

/** The last activation in [from, to] (a few steps: activations are at least a minute apart). */
function latestAtOrBefore(schedule: CronSchedule, from: Date, to: Date, tz: string | undefined): Date | undefined {
  // halve the window until the next activation after its start lies beyond `to`
  let lo = from.getTime();
  let hi = to.getTime();
  let best: Date | undefined = from;
  while (hi - lo > 60_000) {
    const mid = lo + Math.floor((hi - lo) / 2);
    const n = nextAfter(schedule, new Date(mid), tz);
    if (n !== undefined && n.getTime() <= to.getTime()) {
      best = n;
      lo = n.getTime();
    } else hi = mid;
  }
  const n = best !== undefined ? nextAfter(schedule, best, tz) : undefined;
  return n !== undefined && n.getTime() <= to.getTime() ? n : best;
}

/** The Job name for a run: `<cronjob>-<minutes since the epoch>`, as upstream's getJobName. */
export function jobNameFor(cj: CronJob, scheduled: Date): string {
  return `${cj.metadata.name ?? ''}-${Math.floor(scheduled.getTime() / 60_000)}`;
}

/** The Job for the run scheduled at `scheduled` (upstream getJobFromTemplate2). */
export function jobFromTemplate(cj: CronJob, scheduled: Date): Job {
  const t = cj.spec.jobTemplate;
  const m = t.metadata ?? {};
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: jobNameFor(cj, scheduled),
      ...(cj.metadata.namespace !== undefined ? { namespace: cj.metadata.namespace } : {}),
      ...(m.labels !== undefined ? { labels: { ...m.labels } } : {}),
      annotations: { ...(m.annotations ?? {}), [CRONJOB_SCHEDULED_TIMESTAMP_ANNOTATION]: rfc3339(scheduled) },
      ownerReferences: [controllerRefTo(cj, CRONJOB_REF.apiVersion, CRONJOB_REF.kind)],
    },
    spec: t.spec ?? ({} as Job['spec']),
  } as Job;
}

export function jobRef(job: Job): ObjectReference {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    name: job.metadata.name ?? '',
    ...(job.metadata.namespace !== undefined ? { namespace: job.metadata.namespace } : {}),
    ...(job.metadata.uid !== undefined ? { uid: job.metadata.uid } : {}),
    ...(job.metadata.resourceVersion !== undefined ? { resourceVersion: job.metadata.resourceVersion } : {}),
  };
}

export interface JobsView {
  /** The status with `active` and `lastSuccessfulTime` following the Jobs. */
  readonly status: CronJobStatus;
  /** Jobs seen finishing since the status last listed them active (upstream's SawCompletedJob events). */
  readonly justFinished: readonly { readonly job: Job; readonly type: 'Complete' | 'Failed' }[];
  /** Finished Jobs beyond the history limits, oldest first. */
  readonly prune: readonly Job[];
  /** Jobs still running. */
  readonly active: readonly Job[];
}

function startOf(job: Job): number {
  const t = Date.parse(job.status?.startTime ?? job.metadata.creationTimestamp ?? '');
  return Number.isNaN(t) ? 0 : t;
}

/** Upstream's syncCronJob first half over the CronJob's own Jobs (`jobs`: controlled by it). */
export function viewJobs(cj: CronJob, jobs: readonly Job[]): JobsView {
  const status: Mutable<CronJobStatus> = { ...(cj.status ?? {}) };
  const listed = new Set((status.active ?? []).map((r) => r.uid));
  const active = jobs.filter((j) => !isJobFinished(j) && j.metadata.deletionTimestamp === undefined);
  const justFinished: { job: Job; type: 'Complete' | 'Failed' }[] = [];
  let lastSuccess = Date.parse(status.lastSuccessfulTime ?? '');
  for (const j of jobs) {
    const type = jobFinishedType(j);
    if (type === undefined) continue;
    if (listed.has(j.metadata.uid)) justFinished.push({ job: j, type });
    if (type === 'Complete') {
      const done = Date.parse(j.status?.completionTime ?? '');
      if (!Number.isNaN(done) && (Number.isNaN(lastSuccess) || done > lastSuccess)) lastSuccess = done;
    }
  }
  status.active = active.map(jobRef);
  if (!Number.isNaN(lastSuccess)) status.lastSuccessfulTime = rfc3339(new Date(lastSuccess));
  const prune: Job[] = [];
  const over = (type: 'Complete' | 'Failed', limit: number | undefined): void => {
    if (limit === undefined) return;
    const done = jobs.filter((j) => jobFinishedType(j) === type && j.metadata.deletionTimestamp === undefined).sort((a, b) => startOf(a) - startOf(b));
    prune.push(...done.slice(0, Math.max(0, done.length - limit)));
  };
  over('Complete', cj.spec.successfulJobsHistoryLimit);
  over('Failed', cj.spec.failedJobsHistoryLimit);
  return { status, justFinished, prune, active };
}

/** True when the CronJob's status differs from `next` in what the controller writes. */
export function cronJobStatusChanged(cj: CronJob, next: CronJobStatus): boolean {
  const a = cj.status ?? {};
  const uids = (s: CronJobStatus): string => (s.active ?? []).map((r) => r.uid ?? '').join(',');
  return uids(a) !== uids(next) || (a.lastScheduleTime ?? '') !== (next.lastScheduleTime ?? '') || (a.lastSuccessfulTime ?? '') !== (next.lastSuccessfulTime ?? '');
}
