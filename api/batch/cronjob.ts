/**
 * batch/v1 CronJob: a Job created from `spec.jobTemplate` on a cron schedule. Types, schema, defaults and
 * validation as upstream (k8s.io/api/batch/v1, pkg/apis/batch/v1/defaults.go, pkg/apis/batch/validation);
 * the cronjob controller fills in `status`. The schedule parser and the next-activation search the
 * controller needs are in ./cron.ts.
 *
 * Defaults: concurrencyPolicy Allow, suspend false, successfulJobsHistoryLimit 3, failedJobsHistoryLimit 1,
 * and for the job template only what upstream's defaulter reaches there: the pod template's defaults and
 * onPodConditions status True (no completions, parallelism or backoffLimit: the Job gets those when the
 * controller creates it, and its selector then).
 * Validation: schedule required and valid (robfig/cron syntax, see ./cron.ts), no `TZ=`/`CRON_TZ=` in it
 * (spec.timeZone instead; an existing object whose schedule already had one may keep it), timeZone a
 * known IANA zone (checked on create and when it changes), name at most 52 characters on create (the
 * controller appends an 11-character suffix to name Jobs), non-negative deadline and history limits, and
 * the job template as a Job spec without a selector. No immutable fields.
 */
import type { KindDefinition } from '../kind.js';
import type { FieldError, FieldPath } from '../field-errors.js';
import { invalid, notSupported, required } from '../field-errors.js';
import type { KubeObject, ObjectMeta } from '../meta.js';
import { objectMetaSchema, typeMetaFields } from '../meta-schema.js';
import { arrayOf, bool, int, obj, str, time } from '../schema.js';
import type { ObjectSchema } from '../schema.js';
import type { ObjectReference } from '../core/common.js';
import { objectReferenceSchema } from '../core/common.js';
import { DNS1035_LABEL_MAX_LENGTH, maxLenError } from '../names.js';
import { validateNonnegativeField, validateObjectMeta, validateObjectMetaUpdate } from '../validate-meta.js';
import { paths } from '../apps/common.js';
import { isCronParseError, isValidTimeZone, parseSchedule } from './cron.js';
import type { JobSpec } from './job.js';
import { defaultJobSpecTemplateFields, jobSpecSchema, validateJobSpecFields } from './job.js';

/** Annotation on Jobs a CronJob created: the scheduled time they stand for (RFC 3339). */
export const CRONJOB_SCHEDULED_TIMESTAMP_ANNOTATION = 'batch.kubernetes.io/cronjob-scheduled-timestamp';
/** CronJob names are at most 63 - 11 characters: Job names get `-<minutes since epoch>` appended. */
export const CRONJOB_NAME_MAX_LENGTH = DNS1035_LABEL_MAX_LENGTH - 11;

export type ConcurrencyPolicy = 'Allow' | 'Forbid' | 'Replace';
export const CONCURRENCY_POLICIES: readonly ConcurrencyPolicy[] = ['Allow', 'Forbid', 'Replace'];

export interface JobTemplateSpec {
  readonly metadata?: ObjectMeta;
  readonly spec?: JobSpec;
}

export interface CronJobSpec {
  readonly schedule: string;
  /** IANA zone the schedule is read in; the controller's (UTC in knode) when absent. */
  readonly timeZone?: string;
  /** A run missed by more than this many seconds is skipped. */
  readonly startingDeadlineSeconds?: number;
  readonly concurrencyPolicy?: ConcurrencyPolicy;
  readonly suspend?: boolean;
  readonly jobTemplate: JobTemplateSpec;
  readonly successfulJobsHistoryLimit?: number;
  readonly failedJobsHistoryLimit?: number;
}

export interface CronJobStatus {
  /** The Jobs of this CronJob still running. */
  readonly active?: readonly ObjectReference[];
  readonly lastScheduleTime?: string;
  readonly lastSuccessfulTime?: string;
}

export interface CronJob extends KubeObject {
  readonly metadata: ObjectMeta;
  readonly spec: CronJobSpec;
  readonly status?: CronJobStatus;
}

// ---------------------------------------------------------------------------------------------
// Schema

export const jobTemplateSpecSchema: ObjectSchema = obj({ metadata: objectMetaSchema, spec: jobSpecSchema });

export const cronJobSpecSchema: ObjectSchema = obj(
  {
    schedule: str('The schedule in Cron format.'),
    timeZone: str('The time zone name for the given schedule.'),
    startingDeadlineSeconds: int('Deadline in seconds for starting the job if it misses its scheduled time.'),
    concurrencyPolicy: { type: 'string', enum: ['Allow', 'Forbid', 'Replace'], description: 'How to treat concurrent executions of a Job.' },
    suspend: bool('Suspends subsequent executions; does not apply to started ones.'),
    jobTemplate: jobTemplateSpecSchema,
    successfulJobsHistoryLimit: int('The number of successful finished jobs to retain. Defaults to 3.'),
    failedJobsHistoryLimit: int('The number of failed finished jobs to retain. Defaults to 1.'),
  },
  { required: ['schedule', 'jobTemplate'] },
);

export const cronJobStatusSchema: ObjectSchema = obj({
  active: arrayOf(objectReferenceSchema, { description: 'Currently running jobs.' }),
  lastScheduleTime: time('When the job was last successfully scheduled.'),
  lastSuccessfulTime: time('When the job last successfully completed.'),
});

export const cronJobSchema: ObjectSchema = obj({
  ...typeMetaFields,
  metadata: objectMetaSchema,
  spec: cronJobSpecSchema,
  status: cronJobStatusSchema,
});

// ---------------------------------------------------------------------------------------------
// Defaults

export function defaultCronJob(cj: CronJob): CronJob {
  const spec = cj.spec ?? ({} as CronJobSpec);
  const jobTemplate = spec.jobTemplate ?? {};
  return {
    ...cj,
    spec: {
      ...spec,
      concurrencyPolicy: spec.concurrencyPolicy || 'Allow',
      suspend: spec.suspend ?? false,
      successfulJobsHistoryLimit: spec.successfulJobsHistoryLimit ?? 3,
      failedJobsHistoryLimit: spec.failedJobsHistoryLimit ?? 1,
      jobTemplate: { ...jobTemplate, spec: defaultJobSpecTemplateFields(jobTemplate.spec ?? ({} as JobSpec)) },
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Validation

export function validateCronJob(cj: CronJob): FieldError[] {
  const errs = [
    ...validateObjectMeta(cj.metadata, { namespaced: true }, paths.metadata),
    ...validateCronJobSpec(cj.spec ?? ({} as CronJobSpec), undefined, paths.spec),
  ];
  const name = cj.metadata?.name ?? '';
  if (name.length > CRONJOB_NAME_MAX_LENGTH) errs.push(invalid(paths.metadata.child('name'), name, maxLenError(CRONJOB_NAME_MAX_LENGTH)));
  return errs;
}

/** On update the 52-character name limit is not checked, so older, longer names stay usable. */
export function validateCronJobUpdate(cj: CronJob, old: CronJob): FieldError[] {
  return [
    ...validateObjectMetaUpdate(cj.metadata, old.metadata, paths.metadata),
    ...validateCronJobSpec(cj.spec ?? ({} as CronJobSpec), old.spec ?? ({} as CronJobSpec), paths.spec),
  ];
}

export function validateCronJobSpec(spec: CronJobSpec, old: CronJobSpec | undefined, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const schedule = spec.schedule ?? '';
  if (schedule === '') errs.push(required(path.child('schedule'), ''));
  else errs.push(...validateSchedule(schedule, (old?.schedule ?? '').includes('TZ'), spec.timeZone, path.child('schedule')));
  errs.push(...validateNonnegativeField(spec.startingDeadlineSeconds, path.child('startingDeadlineSeconds')));
  if (old === undefined || old.timeZone !== spec.timeZone) errs.push(...validateTimeZone(spec.timeZone, path.child('timeZone')));
  const policy: string = spec.concurrencyPolicy ?? '';
  if (policy === '') errs.push(required(path.child('concurrencyPolicy'), ''));
  else if (!(CONCURRENCY_POLICIES as readonly string[]).includes(policy)) errs.push(notSupported(path.child('concurrencyPolicy'), policy, CONCURRENCY_POLICIES));
  errs.push(...validateJobTemplateSpec(spec.jobTemplate ?? {}, path.child('jobTemplate')));
  errs.push(...validateNonnegativeField(spec.successfulJobsHistoryLimit, path.child('successfulJobsHistoryLimit')));
  errs.push(...validateNonnegativeField(spec.failedJobsHistoryLimit, path.child('failedJobsHistoryLimit')));
  return errs;
}

function validateSchedule(schedule: string, allowTZ: boolean, timeZone: string | undefined, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const parsed = parseSchedule(schedule);
  if (isCronParseError(parsed)) errs.push(invalid(path, schedule, parsed.message));
  if (schedule.includes('TZ')) {
    if (!allowTZ) errs.push(invalid(path, schedule, 'cannot use TZ or CRON_TZ in schedule, use timeZone field instead'));
    else if (timeZone !== undefined) errs.push(invalid(path, schedule, 'cannot use both timeZone field and TZ or CRON_TZ in schedule'));
  }
  return errs;
}

// IANA naming rules (https://data.iana.org/time-zones/theory.html#naming), digits and '+' tolerated
const TIME_ZONE_PART = /^[A-Za-z.\-_0-9+]{1,14}$/;

/** upstream validateTimeZone: absent is fine; otherwise a real IANA zone, not `Local`. */
export function validateTimeZone(timeZone: string | undefined, path: FieldPath): FieldError[] {
  if (timeZone === undefined) return [];
  if (timeZone === '') return [invalid(path, timeZone, 'timeZone must be nil or non-empty string')];
  for (const part of timeZone.split('/')) {
    if (part === '.' || part === '..' || part.startsWith('-') || !TIME_ZONE_PART.test(part)) {
      return [invalid(path, timeZone, `unknown time zone ${timeZone}`)];
    }
  }
  if (timeZone.toLowerCase() === 'local') {
    return [invalid(path, timeZone, 'timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones')];
  }
  return isValidTimeZone(timeZone) ? [] : [invalid(path, timeZone, `unknown time zone ${timeZone}`)];
}

/** upstream ValidateJobTemplateSpec: a Job spec whose selector the Job will get generated. */
export function validateJobTemplateSpec(t: JobTemplateSpec, path: FieldPath): FieldError[] {
  const spec = t.spec ?? ({} as JobSpec);
  const at = path.child('spec');
  const errs = validateJobSpecFields(spec, at);
  if (spec.selector !== undefined && spec.selector !== null) errs.push(invalid(at.child('selector'), spec.selector, '`selector` will be auto-generated'));
  if (spec.manualSelector === true) errs.push(notSupported(at.child('manualSelector'), true, ['nil', 'false']));
  return errs;
}

export const cronJobKind: KindDefinition<CronJob> = {
  group: 'batch',
  version: 'v1',
  kind: 'CronJob',
  plural: 'cronjobs',
  singular: 'cronjob',
  namespaced: true,
  shortNames: ['cj'],
  categories: ['all'],
  schema: cronJobSchema,
  hasStatusSubresource: true,
  default: defaultCronJob,
  validate: validateCronJob,
  validateUpdate: validateCronJobUpdate,
};

