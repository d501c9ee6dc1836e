import { describe, expect, it } from 'vitest';
import { decodeObject } from './object.js';
import { allMessages } from './kinds.js';
import { encodeByTable, pb } from './test-encoder.js';

const hex = (lines: readonly string[]): Buffer => Buffer.from(lines.join(' ').replace(/ /g, ''), 'hex');

/**
 * Bodies kubectl 1.32 sent, captured by a stub server that logged them (so the field numbers come from
 * the wire):
 *  - `kubectl create job x1 --image=busybox -- echo hi`: JobSpec template 6; JobStatus active 4,
 *    succeeded 5, failed 6 (zero ints) and completedIndexes 7 (empty string) are always written;
 *  - `kubectl create cronjob c1 --image=busybox --schedule='*\/5 * * * *' --restart=OnFailure -- echo hi`:
 *    CronJobSpec schedule 1, concurrencyPolicy 3 (empty, always written), jobTemplate 5
 *    {metadata 1, spec 2};
 *  - `kubectl create job j2 --from=cronjob/cj1`, the stub answering the GET of cj1 with a job template
 *    that sets every JobSpec field: parallelism 1, completions 2, activeDeadlineSeconds 3, selector 4,
 *    manualSelector 5, template 6, backoffLimit 7, ttlSecondsAfterFinished 8, completionMode 9,
 *    suspend 10, podFailurePolicy 11 (rules 1: action 1, onExitCodes 2 {containerName 1, operator 2,
 *    values 3, unpacked}, onPodConditions 3 {type 1, status 2}), backoffLimitPerIndex 12,
 *    maxFailedIndexes 13, podReplacementPolicy 14, managedBy 15, successPolicy 16 (rules 1:
 *    succeededIndexes 1, succeededCount 2).
 */
const KUBECTL_CREATE_JOB = hex([
  '6b 38 73 00 0a 0f 0a 08 62 61 74 63 68 2f 76 31',
  '12 03 4a 6f 62 12 84 01 0a 12 0a 02 78 31 12 00',
  '1a 00 22 00 2a 00 32 00 38 00 42 00 12 64 32 62',
  '0a 10 0a 00 12 00 1a 00 22 00 2a 00 32 00 38 00',
  '42 00 12 4e 12 2b 0a 02 78 31 12 07 62 75 73 79',
  '62 6f 78 1a 04 65 63 68 6f 1a 02 68 69 2a 00 42',
  '00 6a 00 72 00 80 01 00 88 01 00 90 01 00 a2 01',
  '00 1a 05 4e 65 76 65 72 32 00 42 00 4a 00 52 00',
  '58 00 60 00 68 00 82 01 00 8a 01 00 9a 01 00 c2',
  '01 00 1a 08 20 00 28 00 30 00 3a 00 1a 00 22 00',
]);

const KUBECTL_CREATE_CRONJOB = hex([
  '6b 38 73 00 0a 13 0a 08 62 61 74 63 68 2f 76 31',
  '12 07 43 72 6f 6e 4a 6f 62 12 a8 01 0a 12 0a 02',
  '63 31 12 00 1a 00 22 00 2a 00 32 00 38 00 42 00',
  '12 8f 01 0a 0b 2a 2f 35 20 2a 20 2a 20 2a 20 2a',
  '1a 00 2a 7e 0a 12 0a 02 63 31 12 00 1a 00 22 00',
  '2a 00 32 00 38 00 42 00 12 68 32 66 0a 10 0a 00',
  '12 00 1a 00 22 00 2a 00 32 00 38 00 42 00 12 52',
  '12 2b 0a 02 63 31 12 07 62 75 73 79 62 6f 78 1a',
  '04 65 63 68 6f 1a 02 68 69 2a 00 42 00 6a 00 72',
  '00 80 01 00 88 01 00 90 01 00 a2 01 00 1a 09 4f',
  '6e 46 61 69 6c 75 72 65 32 00 42 00 4a 00 52 00',
  '58 00 60 00 68 00 82 01 00 8a 01 00 9a 01 00 c2',
  '01 00 1a 00 1a 00 22 00',
]);

const KUBECTL_CREATE_JOB_FROM_CRONJOB = hex([
  '6b 38 73 00 0a 0f 0a 08 62 61 74 63 68 2f 76 31',
  '12 03 4a 6f 62 12 e3 02 0a 68 0a 02 6a 32 12 00',
  '1a 00 22 00 2a 00 32 00 38 00 42 00 5a 06 0a 01',
  '74 12 01 31 62 2b 0a 21 63 72 6f 6e 6a 6f 62 2e',
  '6b 75 62 65 72 6e 65 74 65 73 2e 69 6f 2f 69 6e',
  '73 74 61 6e 74 69 61 74 65 12 06 6d 61 6e 75 61',
  '6c 6a 1f 0a 07 43 72 6f 6e 4a 6f 62 1a 03 63 6a',
  '31 22 03 75 2d 31 2a 08 62 61 74 63 68 2f 76 31',
  '30 01 12 ec 01 08 02 10 05 18 ac 02 22 08 0a 06',
  '0a 01 61 12 01 62 28 01 32 5f 0a 18 0a 00 12 00',
  '1a 00 22 00 2a 00 32 00 38 00 42 00 5a 06 0a 01',
  '61 12 01 62 12 43 12 20 0a 01 63 12 07 62 75 73',
  '79 62 6f 78 2a 00 42 00 6a 00 72 00 80 01 00 88',
  '01 00 90 01 00 a2 01 00 1a 05 4e 65 76 65 72 32',
  '00 42 00 4a 00 52 00 58 00 60 00 68 00 82 01 00',
  '8a 01 00 9a 01 00 c2 01 00 38 03 40 3c 4a 07 49',
  '6e 64 65 78 65 64 50 00 5a 3e 0a 18 0a 09 46 61',
  '69 6c 49 6e 64 65 78 12 0b 0a 01 63 12 02 49 6e',
  '18 01 18 2a 0a 22 0a 06 49 67 6e 6f 72 65 1a 18',
  '0a 10 44 69 73 72 75 70 74 69 6f 6e 54 61 72 67',
  '65 74 12 04 54 72 75 65 60 01 68 02 72 06 46 61',
  '69 6c 65 64 7a 0f 65 78 61 6d 70 6c 65 2e 63 6f',
  '6d 2f 63 74 6c 82 01 09 0a 07 0a 03 30 2d 32 10',
  '02 1a 08 20 00 28 00 30 00 3a 00 1a 00 22 00',
]);

describe('Job and CronJob from kubectl (protobuf)', () => {
  it('decodes kubectl create job: the template, and no status (its zero counters are dropped)', () => {
    const obj = decodeObject(KUBECTL_CREATE_JOB);
    expect(obj['apiVersion']).toBe('batch/v1');
    expect(obj['kind']).toBe('Job');
    expect(obj['metadata']).toEqual({ name: 'x1' });
    expect(obj['spec']).toEqual({
      template: { spec: { containers: [{ name: 'x1', image: 'busybox', command: ['echo', 'hi'] }], restartPolicy: 'Never' } },
    });
    expect(obj['status']).toBeUndefined();
  });

  it('decodes kubectl create cronjob', () => {
    const obj = decodeObject(KUBECTL_CREATE_CRONJOB);
    expect(obj['kind']).toBe('CronJob');
    expect(obj['metadata']).toEqual({ name: 'c1' });
    expect(obj['spec']).toEqual({
      schedule: '*/5 * * * *',
      jobTemplate: {
        metadata: { name: 'c1' },
        spec: { template: { spec: { containers: [{ name: 'c1', image: 'busybox', command: ['echo', 'hi'] }], restartPolicy: 'OnFailure' } } },
      },
    });
  });

  it('decodes every JobSpec field from kubectl create job --from=cronjob', () => {
    const obj = decodeObject(KUBECTL_CREATE_JOB_FROM_CRONJOB);
    expect(obj['metadata']).toEqual({
      name: 'j2',
      labels: { t: '1' },
      annotations: { 'cronjob.kubernetes.io/instantiate': 'manual' },
      ownerReferences: [{ apiVersion: 'batch/v1', kind: 'CronJob', name: 'cj1', uid: 'u-1', controller: true }],
    });
    expect(obj['spec']).toEqual({
      parallelism: 2,
      completions: 5,
      activeDeadlineSeconds: 300,
      selector: { matchLabels: { a: 'b' } },
      manualSelector: true,
      template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'busybox' }], restartPolicy: 'Never' } },
      backoffLimit: 3,
      ttlSecondsAfterFinished: 60,
      completionMode: 'Indexed',
      // a pointer: false is kept
      suspend: false,
      podFailurePolicy: {
        rules: [
          { action: 'FailIndex', onExitCodes: { containerName: 'c', operator: 'In', values: [1, 42] } },
          { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] },
        ],
      },
      backoffLimitPerIndex: 1,
      maxFailedIndexes: 2,
      podReplacementPolicy: 'Failed',
      managedBy: 'example.com/ctl',
      successPolicy: { rules: [{ succeededIndexes: '0-2', succeededCount: 2 }] },
    });
  });

  it('reads the CronJobSpec and CronJobStatus fields kubectl does not send at generated.proto numbers', () => {
    const spec = pb.msg(
      pb.str(1, '0 3 * * *'),
      pb.int(2, 0), // startingDeadlineSeconds: a pointer, 0 kept
      pb.str(3, 'Forbid'),
      pb.bool(4, false), // suspend: a pointer, false kept
      pb.sub(5),
      pb.int(6, 0),
      pb.int(7, 2),
      pb.str(8, 'Europe/Paris'),
    );
    const status = pb.msg(
      pb.sub(1, pb.str(1, 'Job'), pb.str(2, 'default'), pb.str(3, 'c-1'), pb.str(4, 'u-2'), pb.str(5, 'batch/v1')),
      pb.time(4, 1767268800),
      pb.time(5, 1767268860),
    );
    const raw = pb.msg(pb.sub(1, pb.str(1, 'c')), pb.bytes(2, spec), pb.bytes(3, status));
    const obj = decodeObject(pb.envelope('batch/v1', 'CronJob', raw));
    expect(obj['spec']).toEqual({
      schedule: '0 3 * * *',
      startingDeadlineSeconds: 0,
      concurrencyPolicy: 'Forbid',
      suspend: false,
      successfulJobsHistoryLimit: 0,
      failedJobsHistoryLimit: 2,
      timeZone: 'Europe/Paris',
    });
    expect(obj['status']).toEqual({
      active: [{ kind: 'Job', namespace: 'default', name: 'c-1', uid: 'u-2', apiVersion: 'batch/v1' }],
      lastScheduleTime: '2026-01-01T12:00:00Z',
      lastSuccessfulTime: '2026-01-01T12:01:00Z',
    });
  });

  it('reads a JobStatus at generated.proto numbers: conditions, times, counters, indexes, uncounted pods', () => {
    const condition = pb.sub(1, pb.str(1, 'Complete'), pb.str(2, 'True'), pb.time(3, 1767268800), pb.time(4, 1767268800), pb.str(5, 'CompletionsReached'), pb.str(6, ''));
    const status = pb.msg(
      condition,
      pb.time(2, 1767268000),
      pb.time(3, 1767268800),
      pb.int(4, 0),
      pb.int(5, 3),
      pb.int(6, 1),
      pb.str(7, '0-2'),
      pb.sub(8, pb.str(1, 'u-a'), pb.str(2, 'u-b')),
      pb.int(9, 0), // ready: a pointer, 0 kept
      pb.str(10, ''), // failedIndexes: a pointer, '' kept
      pb.int(11, 0), // terminating: a pointer
    );
    const obj = decodeObject(pb.envelope('batch/v1', 'Job', pb.msg(pb.sub(1, pb.str(1, 'j')), pb.bytes(3, status))));
    expect(obj['status']).toEqual({
      conditions: [{ type: 'Complete', status: 'True', lastProbeTime: '2026-01-01T12:00:00Z', lastTransitionTime: '2026-01-01T12:00:00Z', reason: 'CompletionsReached' }],
      startTime: '2026-01-01T11:46:40Z',
      completionTime: '2026-01-01T12:00:00Z',
      succeeded: 3,
      failed: 1,
      completedIndexes: '0-2',
      uncountedTerminatedPods: { succeeded: ['u-a'], failed: ['u-b'] },
      ready: 0,
      failedIndexes: '',
      terminating: 0,
    });
  });

  it('round-trips a CronJob with a full job template through the tables', () => {
    const spec = {
      schedule: '@hourly',
      timeZone: 'UTC',
      concurrencyPolicy: 'Replace',
      suspend: true,
      successfulJobsHistoryLimit: 3,
      failedJobsHistoryLimit: 1,
      jobTemplate: {
        metadata: { labels: { team: 'a' } },
        spec: {
          backoffLimit: 0,
          podFailurePolicy: { rules: [{ action: 'Count', onExitCodes: { operator: 'NotIn', values: [0, 2] } }] },
          template: { spec: { containers: [{ name: 'c', image: 'busybox' }], restartPolicy: 'Never' } },
        },
      },
    };
    const raw = encodeByTable(allMessages, 'batch.v1.CronJob', { metadata: { name: 'c' }, spec });
    const obj = decodeObject(pb.envelope('batch/v1', 'CronJob', raw));
    expect(obj['spec']).toEqual(spec);
  });
});
