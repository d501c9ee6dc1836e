/**
 * Rows of batch/v1 Jobs and CronJobs, as upstream's printJob and printCronJob:
 *  - jobs: NAME, STATUS (the first of Complete, Failed, Terminating (being deleted), Suspended,
 *    FailureTarget, SuccessCriteriaMet whose condition is True, else Running), COMPLETIONS
 *    (`succeeded/completions`; without completions `succeeded/1`, or `succeeded/1 of N` when parallelism
 *    N > 1), DURATION (start to completion, or to now while running; empty before the start), AGE;
 *    wide: CONTAINERS, IMAGES, SELECTOR;
 *  - cronjobs: NAME, SCHEDULE, TIMEZONE (`<none>`), SUSPEND (`True`/`False`, `<unset>`), ACTIVE,
 *    LAST SCHEDULE (`<none>` before the first run), AGE; wide: CONTAINERS, IMAGES, SELECTOR of the job
 *    template.
 */
import type { Printer } from './printer.js';
import { humanDuration, parseTimestamp, translateTimestampSince } from './duration.js';
import { ageColumn, ageOf, arr, at, col, containerCells, count, formatLabelSelector, nameColumn, nameOf, rec, text } from './format.js';

const containersColumn = col('Containers', 'string', 'Names of each container in the template.', { priority: 1 });
const imagesColumn = col('Images', 'string', 'Images referenced by each container in the template.', { priority: 1 });

/** upstream hasJobCondition: the first condition of the type decides. */
function hasCondition(job: unknown, type: string): boolean {
  const c = arr(at(job, 'status', 'conditions')).map(rec).find((x) => x['type'] === type);
  return c !== undefined && c['status'] === 'True';
}

function jobStatus(job: unknown): string {
  if (hasCondition(job, 'Complete')) return 'Complete';
  if (hasCondition(job, 'Failed')) return 'Failed';
  if (text(at(job, 'metadata', 'deletionTimestamp')) !== '') return 'Terminating';
  if (hasCondition(job, 'Suspended')) return 'Suspended';
  if (hasCondition(job, 'FailureTarget')) return 'FailureTarget';
  if (hasCondition(job, 'SuccessCriteriaMet')) return 'SuccessCriteriaMet';
  return 'Running';
}

function completions(job: unknown): string {
  const succeeded = count(at(job, 'status', 'succeeded'));
  const wanted = at(job, 'spec', 'completions');
  if (typeof wanted === 'number') return `${succeeded}/${wanted}`;
  const parallelism = count(at(job, 'spec', 'parallelism'));
  return parallelism > 1 ? `${succeeded}/1 of ${parallelism}` : `${succeeded}/1`;
}

function jobDuration(job: unknown, now: Date): string {
  const start = parseTimestamp(at(job, 'status', 'startTime'));
  if (start === undefined) return '';
  const end = parseTimestamp(at(job, 'status', 'completionTime'));
  return humanDuration((end ?? now.getTime()) - start);
}

export const jobPrinter: Printer = {
  columns: [
    nameColumn,
    col('Status', 'string', 'Status of the job.'),
    col('Completions', 'string', 'The number of pods which reached phase Succeeded.'),
    col('Duration', 'string', 'Time required to complete the job.'),
    ageColumn,
    containersColumn,
    imagesColumn,
    col('Selector', 'string', 'A label query over pods that should match the pod count.', { priority: 1 }),
  ],
  cells(job, now) {
    const [containers, images] = containerCells(at(job, 'spec', 'template', 'spec'));
    return [
      nameOf(job),
      jobStatus(job),
      completions(job),
      jobDuration(job, now),
      ageOf(job, now),
      containers,
      images,
      formatLabelSelector(at(job, 'spec', 'selector')),
    ];
  },
};

/** upstream printBoolPtr. */
function boolCell(v: unknown): string {
  if (typeof v !== 'boolean') return '<unset>';
  return v ? 'True' : 'False';
}

export const cronJobPrinter: Printer = {
  columns: [
    nameColumn,
    col('Schedule', 'string', 'The schedule in Cron format.'),
    col('Timezone', 'string', 'The time zone name for the given schedule.'),
    col('Suspend', 'boolean', 'This flag tells the controller to suspend subsequent executions.'),
    col('Active', 'integer', 'A list of pointers to currently running jobs.'),
    col('Last Schedule', 'string', 'Information when was the last time the job was successfully scheduled.'),
    ageColumn,
    containersColumn,
    imagesColumn,
    col('Selector', 'string', 'A label query over pods that should match the pod count.', { priority: 1 }),
  ],
  cells(cj, now) {
    const [containers, images] = containerCells(at(cj, 'spec', 'jobTemplate', 'spec', 'template', 'spec'));
    const lastSchedule = at(cj, 'status', 'lastScheduleTime');
    const timeZone = at(cj, 'spec', 'timeZone');
    return [
      nameOf(cj),
      text(at(cj, 'spec', 'schedule')),
      typeof timeZone === 'string' ? timeZone : '<none>',
      boolCell(at(cj, 'spec', 'suspend')),
      arr(at(cj, 'status', 'active')).length,
      lastSchedule === undefined || lastSchedule === null ? '<none>' : translateTimestampSince(lastSchedule, now),
      ageOf(cj, now),
      containers,
      images,
      formatLabelSelector(at(cj, 'spec', 'jobTemplate', 'spec', 'selector')),
    ];
  },
};
