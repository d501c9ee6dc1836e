import { describe, expect, it } from 'vitest';
import type { Job } from '../../api/batch/job.js';
import type { CronJob, CronJobSpec, CronJobStatus } from '../../api/batch/cronjob.js';
import { checkSchedule, cronJobStatusChanged, jobFromTemplate, jobNameFor, scheduleOf, viewJobs } from './cronjob-plan.js';

function cronJob(spec: Partial<CronJobSpec> = {}, status?: CronJobStatus, created = '2026-12-06T10:00:00Z'): CronJob {
  return {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name: 'tick', namespace: 'ns', uid: 'cj-uid', creationTimestamp: created },
    spec: {
      schedule: '*/5 * * * *',
      concurrencyPolicy: 'Allow',
      successfulJobsHistoryLimit: 3,
      failedJobsHistoryLimit: 1,
      jobTemplate: { metadata: { labels: { app: 'tick' } }, spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'i' }] } } } },
      ...spec,
    },
    ...(status !== undefined ? { status } : {}),
  } as CronJob;
}

function schedule(cj: CronJob) {
  const s = scheduleOf(cj);
  if (typeof s === 'string') throw new Error(s);
  return s;
}

let n = 0;
function job(state: 'running' | 'Complete' | 'Failed', start: string): Job {
  n++;
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: `tick-${n}`, namespace: 'ns', uid: `job-${n}`, creationTimestamp: start, ownerReferences: [{ apiVersion: 'batch/v1', kind: 'CronJob', name: 'tick', uid: 'cj-uid', controller: true }] },
    spec: { template: { spec: { containers: [] } } },
    status: {
      startTime: start,
      ...(state === 'Complete' ? { completionTime: start.replace(/:00Z$/, ':30Z') } : {}),
      ...(state !== 'running' ? { conditions: [{ type: state, status: 'True' }] } : {}),
    },
  } as Job;
}

describe('cronjob schedule', () => {
  it('nothing due before the first schedule time after creation; the next time is given', () => {
    const cj = cronJob();
    const c = checkSchedule(cj, schedule(cj), new Date('2026-12-06T10:04:00Z'));
    expect(c.due).toBeUndefined();
    expect(c.next?.toISOString()).toBe('2026-12-06T10:05:00.000Z');
  });

  it('the most recent due time after lastScheduleTime, and how many were missed', () => {
    const cj = cronJob({}, { lastScheduleTime: '2026-12-06T10:05:00Z' });
    const c = checkSchedule(cj, schedule(cj), new Date('2026-12-06T10:21:00Z'));
    expect(c.due?.toISOString()).toBe('2026-12-06T10:20:00.000Z');
    expect(c.missed).toBe(2);
    // the run of 10:05 was started (lastScheduleTime): nothing due until 10:10
    expect(checkSchedule(cj, schedule(cj), new Date('2026-12-06T10:09:00Z')).due).toBeUndefined();
  });

  it('startingDeadlineSeconds: a run older than the deadline is not due', () => {
    const cj = cronJob({ startingDeadlineSeconds: 30 }, { lastScheduleTime: '2026-12-06T10:00:00Z' });
    expect(checkSchedule(cj, schedule(cj), new Date('2026-12-06T10:06:00Z')).due).toBeUndefined();
    expect(checkSchedule(cj, schedule(cj), new Date('2026-12-06T10:05:20Z')).due?.toISOString()).toBe('2026-12-06T10:05:00.000Z');
  });

  it('a schedule left for a year finds its latest time without walking every minute', () => {
    const cj = cronJob({ schedule: '* * * * *' }, undefined, '2025-12-06T10:00:00Z');
    const c = checkSchedule(cj, schedule(cj), new Date('2026-12-06T10:00:30Z'));
    expect(c.due?.toISOString()).toBe('2026-12-06T10:00:00.000Z');
    expect(c.missed).toBeGreaterThan(100);
  });

  it('@every: the latest run is computed, not walked, however long the controller was away', () => {
    const cj = cronJob({ schedule: '@every 1s' }, { lastScheduleTime: '2025-12-06T10:00:00Z' });
    const c = checkSchedule(cj, schedule(cj), new Date('2026-12-06T10:00:00.500Z'));
    expect(c.due?.toISOString()).toBe('2026-12-06T10:00:00.000Z');
    expect(c.missed).toBe(365 * 24 * 3600 - 1);
  });

  it('reads the schedule in spec.timeZone', () => {
    const cj = cronJob({ schedule: '0 9 * * *', timeZone: 'Europe/Paris' }, undefined, '2026-12-06T07:00:00Z');
    const c = checkSchedule(cj, schedule(cj), new Date('2026-12-06T08:30:00Z'));
    expect(c.due?.toISOString()).toBe('2026-12-06T08:00:00.000Z'); // 09:00 in Paris (UTC+1)
  });

  it('an invalid schedule is reported, not thrown', () => {
    expect(typeof scheduleOf(cronJob({ schedule: 'every day' }))).toBe('string');
  });
});

describe('cronjob jobs', () => {
  it('names the run after its minute and carries the template and the scheduled time', () => {
    const cj = cronJob();
    const at = new Date('2026-12-06T10:05:00Z');
    const j = jobFromTemplate(cj, at);
    expect(j.metadata.name).toBe(`tick-${Math.floor(at.getTime() / 60000)}`);
    expect(jobNameFor(cj, at)).toBe(j.metadata.name);
    expect(j.metadata.labels).toEqual({ app: 'tick' });
    expect(j.metadata.annotations?.['batch.kubernetes.io/cronjob-scheduled-timestamp']).toBe('2026-12-06T10:05:00Z');
    expect(j.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'CronJob', uid: 'cj-uid', controller: true });
  });

  it('active follows the running Jobs; finished ones give lastSuccessfulTime and SawCompletedJob', () => {
    const running = job('running', '2026-12-06T10:10:00Z');
    const done = job('Complete', '2026-12-06T10:05:00Z');
    const cj = cronJob({}, { active: [{ uid: running.metadata.uid ?? '', name: running.metadata.name ?? '' }, { uid: done.metadata.uid ?? '', name: done.metadata.name ?? '' }] });
    const v = viewJobs(cj, [running, done]);
    expect(v.status.active?.map((r) => r.uid)).toEqual([running.metadata.uid]);
    expect(v.status.lastSuccessfulTime).toBe('2026-12-06T10:05:30Z');
    expect(v.justFinished.map((x) => [x.job.metadata.name, x.type])).toEqual([[done.metadata.name, 'Complete']]);
    expect(cronJobStatusChanged(cj, v.status)).toBe(true);
    expect(cronJobStatusChanged({ ...cj, status: v.status }, v.status)).toBe(false);
  });

  it('prunes the oldest finished Jobs beyond the history limits', () => {
    const ok = ['10:00', '10:05', '10:10', '10:15'].map((t) => job('Complete', `2026-12-06T${t}:00Z`));
    const bad = ['10:02', '10:07'].map((t) => job('Failed', `2026-12-06T${t}:00Z`));
    const v = viewJobs(cronJob({ successfulJobsHistoryLimit: 2, failedJobsHistoryLimit: 1 }), [...ok, ...bad]);
    expect(v.prune.map((j) => j.metadata.name)).toEqual([ok[0], ok[1], bad[0]].map((j) => j?.metadata.name));
  });
});
