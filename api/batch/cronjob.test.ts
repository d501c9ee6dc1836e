import { describe, expect, it } from 'vitest';
import { formatFieldError } from '../field-errors.js';
import type { CronJob, CronJobSpec } from './cronjob.js';
import { cronJobKind } from './cronjob.js';

const raw: CronJob = {
  apiVersion: 'batch/v1',
  kind: 'CronJob',
  metadata: { name: 'hello', namespace: 'default', uid: 'u1' },
  spec: {
    schedule: '*/5 * * * *',
    jobTemplate: { spec: { template: { spec: { containers: [{ name: 'hello', image: 'busybox' }], restartPolicy: 'OnFailure' } } } },
  },
};

const base = cronJobKind.default(raw);
const withSpec = (patch: Partial<CronJobSpec>): CronJob => ({ ...base, spec: { ...base.spec, ...patch } });
const messages = (cj: CronJob): string[] => cronJobKind.validate(cj).map(formatFieldError);
const updateMessages = (cj: CronJob, old: CronJob = base): string[] => cronJobKind.validateUpdate(cj, old).map(formatFieldError);
const jobSpec = base.spec.jobTemplate.spec!;

describe('cronJobKind', () => {
  it('is batch/v1 cronjobs, namespaced, short name cj, in category all, with a status subresource', () => {
    expect(cronJobKind).toMatchObject({
      group: 'batch',
      version: 'v1',
      kind: 'CronJob',
      plural: 'cronjobs',
      singular: 'cronjob',
      namespaced: true,
      shortNames: ['cj'],
      categories: ['all'],
      hasStatusSubresource: true,
    });
  });
});

describe('defaultCronJob', () => {
  it('applies upstream defaults, and only the pod template defaults to the job template', () => {
    expect(base.spec).toMatchObject({ concurrencyPolicy: 'Allow', suspend: false, successfulJobsHistoryLimit: 3, failedJobsHistoryLimit: 1 });
    expect(jobSpec.template.spec).toMatchObject({ dnsPolicy: 'ClusterFirst', terminationGracePeriodSeconds: 30, restartPolicy: 'OnFailure' });
    for (const k of ['completions', 'parallelism', 'backoffLimit', 'selector', 'completionMode', 'suspend'] as const) expect(jobSpec[k], k).toBeUndefined();
  });

  it('keeps user values and defaults onPodConditions status', () => {
    const cj = cronJobKind.default({
      ...raw,
      spec: {
        ...raw.spec,
        concurrencyPolicy: 'Forbid',
        suspend: true,
        successfulJobsHistoryLimit: 0,
        jobTemplate: { spec: { ...raw.spec.jobTemplate.spec!, podFailurePolicy: { rules: [{ action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget' }] }] } } },
      },
    });
    expect(cj.spec).toMatchObject({ concurrencyPolicy: 'Forbid', suspend: true, successfulJobsHistoryLimit: 0, failedJobsHistoryLimit: 1 });
    expect(cj.spec.jobTemplate.spec?.podFailurePolicy?.rules[0]?.onPodConditions).toEqual([{ type: 'DisruptionTarget', status: 'True' }]);
    expect(cronJobKind.default(base)).toEqual(base);
  });
});

describe('validateCronJob', () => {
  it('accepts the defaulted CronJob, descriptors and a time zone', () => {
    expect(messages(base)).toEqual([]);
    expect(messages(withSpec({ schedule: '@hourly', timeZone: 'Europe/Paris' }))).toEqual([]);
    expect(messages(withSpec({ schedule: '0 9 * jan-jun mon-fri', timeZone: 'Etc/UTC' }))).toEqual([]);
  });

  it('requires a valid schedule', () => {
    expect(messages(withSpec({ schedule: '' }))).toEqual(['spec.schedule: Required value']);
    expect(messages(withSpec({ schedule: '* * *' }))).toEqual(['spec.schedule: Invalid value: "* * *": expected exactly 5 fields, found 3: [* * *]']);
    expect(messages(withSpec({ schedule: '0 25 * * *' }))).toEqual(['spec.schedule: Invalid value: "0 25 * * *": end of range (25) above maximum (23): 25']);
  });

  it('rejects TZ= and CRON_TZ= in the schedule, pointing to timeZone', () => {
    expect(messages(withSpec({ schedule: 'TZ=UTC 0 * * * *' }))).toEqual([
      'spec.schedule: Invalid value: "TZ=UTC 0 * * * *": cannot use TZ or CRON_TZ in schedule, use timeZone field instead',
    ]);
    expect(messages(withSpec({ schedule: 'CRON_TZ=Nowhere 0 * * * *' }))).toEqual([
      'spec.schedule: Invalid value: "CRON_TZ=Nowhere 0 * * * *": provided bad location Nowhere: unknown time zone Nowhere',
      'spec.schedule: Invalid value: "CRON_TZ=Nowhere 0 * * * *": cannot use TZ or CRON_TZ in schedule, use timeZone field instead',
    ]);
    // an object that already had one keeps it, but not together with timeZone
    const legacy = withSpec({ schedule: 'TZ=UTC 0 * * * *' });
    expect(updateMessages(withSpec({ schedule: 'TZ=UTC 5 * * * *' }), legacy)).toEqual([]);
    expect(updateMessages(withSpec({ schedule: 'TZ=UTC 5 * * * *', timeZone: 'UTC' }), legacy)).toEqual([
      'spec.schedule: Invalid value: "TZ=UTC 5 * * * *": cannot use both timeZone field and TZ or CRON_TZ in schedule',
    ]);
  });

  it('requires a known time zone', () => {
    expect(messages(withSpec({ timeZone: 'Mars/Olympus' }))).toEqual(['spec.timeZone: Invalid value: "Mars/Olympus": unknown time zone Mars/Olympus']);
    expect(messages(withSpec({ timeZone: '' }))).toEqual(['spec.timeZone: Invalid value: "": timeZone must be nil or non-empty string']);
    expect(messages(withSpec({ timeZone: 'Local' }))).toEqual([
      'spec.timeZone: Invalid value: "Local": timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones',
    ]);
    expect(messages(withSpec({ timeZone: '../etc/passwd' }))).toEqual(['spec.timeZone: Invalid value: "../etc/passwd": unknown time zone ../etc/passwd']);
  });

  it('checks the name length on create only', () => {
    const long = 'a'.repeat(53);
    const cj = { ...base, metadata: { ...base.metadata, name: long } };
    expect(messages(cj)).toEqual([`metadata.name: Invalid value: "${long}": must be no more than 52 characters`]);
    expect(messages({ ...cj, metadata: { ...cj.metadata, name: 'a'.repeat(52) } })).toEqual([]);
    expect(updateMessages(cj, cj)).toEqual([]);
  });

  it('checks the concurrency policy and non-negative numbers', () => {
    expect(messages(withSpec({ concurrencyPolicy: 'Sometimes' as never }))).toEqual([
      'spec.concurrencyPolicy: Unsupported value: "Sometimes": supported values: "Allow", "Forbid", "Replace"',
    ]);
    const { concurrencyPolicy: _c, ...spec } = base.spec;
    expect(messages({ ...base, spec })).toEqual(['spec.concurrencyPolicy: Required value']);
    expect(messages(withSpec({ startingDeadlineSeconds: -1, successfulJobsHistoryLimit: -1, failedJobsHistoryLimit: -2 }))).toEqual([
      'spec.startingDeadlineSeconds: Invalid value: -1: must be greater than or equal to 0',
      'spec.successfulJobsHistoryLimit: Invalid value: -1: must be greater than or equal to 0',
      'spec.failedJobsHistoryLimit: Invalid value: -2: must be greater than or equal to 0',
    ]);
  });

  it('validates the job template as a Job spec without a selector', () => {
    const template = (patch: object): CronJob => withSpec({ jobTemplate: { spec: { ...jobSpec, ...patch } } });
    expect(messages(template({ template: { ...jobSpec.template, spec: { ...jobSpec.template.spec, restartPolicy: 'Always' } } }))).toEqual([
      'spec.jobTemplate.spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"',
    ]);
    expect(messages(template({ selector: { matchLabels: { a: 'b' } }, manualSelector: true }))).toEqual([
      'spec.jobTemplate.spec.selector: Invalid value: {"matchLabels":{"a":"b"}}: `selector` will be auto-generated',
      'spec.jobTemplate.spec.manualSelector: Unsupported value: true: supported values: "nil", "false"',
    ]);
    expect(messages(template({ parallelism: -1 }))).toEqual(['spec.jobTemplate.spec.parallelism: Invalid value: -1: must be greater than or equal to 0']);
  });
});

describe('validateCronJobUpdate', () => {
  it('allows changing everything in the spec', () => {
    expect(updateMessages(withSpec({ schedule: '@daily', suspend: true, concurrencyPolicy: 'Replace', timeZone: 'Asia/Tokyo' }))).toEqual([]);
  });

  it('checks the time zone only when it changes', () => {
    const stale = withSpec({ timeZone: 'Mars/Olympus' });
    expect(updateMessages(withSpec({ timeZone: 'Mars/Olympus', suspend: true }), stale)).toEqual([]);
    expect(updateMessages(withSpec({ timeZone: 'Mars/Phobos' }), stale)).toEqual(['spec.timeZone: Invalid value: "Mars/Phobos": unknown time zone Mars/Phobos']);
  });
});
