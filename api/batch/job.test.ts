import { describe, expect, it } from 'vitest';
import { formatFieldError } from '../field-errors.js';
import type { Job, JobSpec, JobStatus, SuccessPolicy } from './job.js';
import { CONTROLLER_UID_LABEL, JOB_NAME_LABEL, MAX_INT32, isJobFinished, jobKind, parseIndexIntervals } from './job.js';

const UID = '0b7e5b8e-1111-2222-3333-444455556666';

const raw: Job = {
  apiVersion: 'batch/v1',
  kind: 'Job',
  metadata: { name: 'pi', namespace: 'default', uid: UID },
  spec: { template: { spec: { containers: [{ name: 'pi', image: 'perl' }], restartPolicy: 'Never' } } },
};

const generatedLabels = { 'job-name': 'pi', [JOB_NAME_LABEL]: 'pi', 'controller-uid': UID, [CONTROLLER_UID_LABEL]: UID };

const base = jobKind.default(raw);
const withSpec = (patch: Partial<JobSpec>): Job => ({ ...base, spec: { ...base.spec, ...patch } });
const withPodSpec = (patch: object): Job => withSpec({ template: { ...base.spec.template, spec: { ...base.spec.template.spec, ...patch } } });
const messages = (job: Job): string[] => jobKind.validate(job).map(formatFieldError);
const defaulted = (spec: Partial<JobSpec>, meta: object = {}): Job =>
  jobKind.default({ ...raw, metadata: { ...raw.metadata, ...meta }, spec: { ...raw.spec, ...spec } });
const updateMessages = (job: Job, old: Job = base): string[] => jobKind.validateUpdate(job, old).map(formatFieldError);

describe('jobKind', () => {
  it('is batch/v1 jobs, namespaced, in category all, with a status subresource', () => {
    expect(jobKind).toMatchObject({
      group: 'batch',
      version: 'v1',
      kind: 'Job',
      plural: 'jobs',
      singular: 'job',
      namespaced: true,
      shortNames: [],
      categories: ['all'],
      hasStatusSubresource: true,
    });
  });

  it('selects on status.successful', () => {
    expect(jobKind.selectableFields?.(base)).toEqual({ 'status.successful': '0' });
    expect(jobKind.selectableFields?.({ ...base, status: { succeeded: 3 } })).toEqual({ 'status.successful': '3' });
  });
});

describe('defaultJob', () => {
  it('applies upstream batch/v1 defaults and the pod template defaults', () => {
    expect(base.spec).toMatchObject({
      completions: 1,
      parallelism: 1,
      backoffLimit: 6,
      completionMode: 'NonIndexed',
      suspend: false,
      podReplacementPolicy: 'TerminatingOrFailed',
    });
    expect(base.spec.manualSelector).toBeUndefined();
    expect(base.spec.template.spec).toMatchObject({ dnsPolicy: 'ClusterFirst', schedulerName: 'default-scheduler', terminationGracePeriodSeconds: 30 });
  });

  it('generates the selector and template labels from the uid, and copies them to the Job labels', () => {
    expect(base.spec.selector).toEqual({ matchLabels: { [CONTROLLER_UID_LABEL]: UID } });
    expect(base.spec.template.metadata?.labels).toEqual(generatedLabels);
    expect(base.metadata.labels).toEqual(generatedLabels);
  });

  it('keeps the Job labels it has, and template labels the user set', () => {
    const job = defaulted({ template: { ...raw.spec.template, metadata: { labels: { app: 'pi', 'job-name': 'other' } } } }, { labels: { team: 'a' } });
    expect(job.metadata.labels).toEqual({ team: 'a' });
    expect(job.spec.template.metadata?.labels).toEqual({ ...generatedLabels, app: 'pi', 'job-name': 'other' });
  });

  it('adds the uid to a selector given without manualSelector (validation then rejects it), and leaves manual selectors alone', () => {
    expect(defaulted({ selector: { matchLabels: { app: 'pi' } } }).spec.selector).toEqual({ matchLabels: { app: 'pi', [CONTROLLER_UID_LABEL]: UID } });
    const manual = defaulted({ manualSelector: true, selector: { matchLabels: { app: 'pi' } } });
    expect(manual.spec.selector).toEqual({ matchLabels: { app: 'pi' } });
    expect(manual.spec.template.metadata?.labels).toBeUndefined();
  });

  it('generates nothing without a uid, and nothing new on an object that has its generated selector', () => {
    const noUid = jobKind.default({ ...raw, metadata: { name: 'pi', namespace: 'default' } });
    expect(noUid.spec.selector).toBeUndefined();
    expect(jobKind.default(base)).toEqual(base);
  });

  it('defaults completions only when parallelism is unset too', () => {
    expect(defaulted({ parallelism: 3 }).spec).toMatchObject({ parallelism: 3 });
    expect(defaulted({ parallelism: 3 }).spec.completions).toBeUndefined();
    expect(defaulted({ completions: 5 }).spec).toMatchObject({ completions: 5, parallelism: 1 });
  });

  it('defaults backoffLimit to MaxInt32 with backoffLimitPerIndex, podReplacementPolicy to Failed with a podFailurePolicy', () => {
    const job = defaulted({
      completionMode: 'Indexed',
      completions: 3,
      backoffLimitPerIndex: 1,
      podFailurePolicy: { rules: [{ action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget' }] }] },
    });
    expect(job.spec).toMatchObject({ backoffLimit: MAX_INT32, podReplacementPolicy: 'Failed', completionMode: 'Indexed' });
    expect(job.spec.podFailurePolicy?.rules[0]?.onPodConditions).toEqual([{ type: 'DisruptionTarget', status: 'True' }]);
  });
});

describe('validateJob', () => {
  it('accepts the defaulted Job, an Indexed one and a manual selector', () => {
    expect(messages(base)).toEqual([]);
    expect(messages(defaulted({ completionMode: 'Indexed', completions: 4, parallelism: 2, backoffLimitPerIndex: 1, maxFailedIndexes: 2 }))).toEqual([]);
    const manual = defaulted({
      manualSelector: true,
      selector: { matchLabels: { app: 'pi' } },
      template: { ...raw.spec.template, metadata: { labels: { app: 'pi' } } },
    });
    expect(messages(manual)).toEqual([]);
  });

  it('requires restartPolicy OnFailure or Never', () => {
    expect(messages(withPodSpec({ restartPolicy: 'Always' }))).toEqual(['spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"']);
    // unset becomes Always through the pod defaults
    const unset = defaulted({ template: { spec: { containers: [{ name: 'pi', image: 'perl' }] } } as JobSpec['template'] });
    expect(messages(unset)).toEqual(['spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"']);
    expect(messages(withPodSpec({ restartPolicy: 'OnFailure' }))).toEqual([]);
  });

  it('rejects negative numbers', () => {
    expect(messages(withSpec({ parallelism: -1, backoffLimit: -2, activeDeadlineSeconds: -3, ttlSecondsAfterFinished: -4 }))).toEqual([
      'spec.parallelism: Invalid value: -1: must be greater than or equal to 0',
      'spec.activeDeadlineSeconds: Invalid value: -3: must be greater than or equal to 0',
      'spec.backoffLimit: Invalid value: -2: must be greater than or equal to 0',
      'spec.ttlSecondsAfterFinished: Invalid value: -4: must be greater than or equal to 0',
    ]);
  });

  it('checks the generated selector and labels', () => {
    const wrongLabel = withSpec({ template: { ...base.spec.template, metadata: { labels: { ...generatedLabels, 'job-name': 'other' } } } });
    expect(messages(wrongLabel)).toEqual([
      expect.stringMatching(/^spec\.template\.metadata\.labels\[job-name\]: Invalid value: \{.*\}: must be 'pi'$/),
    ]);
    const userSelector = defaulted({ selector: { matchLabels: { app: 'pi' } }, template: { ...raw.spec.template, metadata: { labels: { app: 'pi' } } } });
    expect(messages(userSelector)).toEqual([expect.stringMatching(/^spec\.selector: Invalid value: .*: `selector` not auto-generated$/)]);
    const { uid: _u, ...meta } = base.metadata;
    expect(messages({ ...base, metadata: meta })).toContain('metadata.uid: Required value');
  });

  it('requires a selector that matches the template', () => {
    const manual = withSpec({ manualSelector: true, selector: { matchLabels: { app: 'x' } } });
    expect(messages(manual)).toEqual([expect.stringMatching(/^spec\.template\.metadata\.labels: Invalid value: .*: `selector` does not match template `labels`$/)]);
    const { selector: _s, ...spec } = base.spec;
    expect(messages({ ...base, spec: { ...spec, manualSelector: true } })).toEqual([
      'spec.selector: Required value',
      expect.stringMatching(/`selector` does not match template `labels`$/),
    ]);
  });

  it('reports a name too long for the job-name label on the template labels', () => {
    const long = 'a'.repeat(64);
    const job = jobKind.default({ ...raw, metadata: { ...raw.metadata, name: long } });
    expect(messages(job)).toContain(`spec.template.labels: Invalid value: "${long}": must be no more than 63 characters`);
  });

  it('checks Indexed Jobs: completions required, index limits, pod hostnames', () => {
    expect(messages(defaulted({ completionMode: 'Indexed', parallelism: 2 }))).toEqual(['spec.completions: Required value: when completion mode is Indexed']);
    expect(messages(defaulted({ completionMode: 'Indexed', completions: 2, parallelism: 100_001 }))).toEqual([
      'spec.parallelism: Invalid value: 100001: must be less than or equal to 100000 when completion mode is Indexed',
    ]);
    expect(messages(defaulted({ completionMode: 'Indexed', completions: 200_000, backoffLimitPerIndex: 1 }))).toEqual([
      'spec.maxFailedIndexes: Required value: must be specified when completions is above 100000',
    ]);
    expect(messages(defaulted({ completionMode: 'Indexed', completions: 2, backoffLimitPerIndex: 1, maxFailedIndexes: 3 }))).toEqual([
      'spec.maxFailedIndexes: Invalid value: 3: must be less than or equal to completions',
    ]);
    const long = jobKind.default({ ...raw, metadata: { ...raw.metadata, name: 'a'.repeat(62) }, spec: { ...raw.spec, completionMode: 'Indexed', completions: 10 } });
    expect(messages(long)).toContain(`metadata.name: Invalid value: "${'a'.repeat(62)}": will not able to create pod with invalid DNS label: ${'a'.repeat(62)}-9`);
    expect(messages(withSpec({ completionMode: 'Sometimes' as never }))).toEqual(['spec.completionMode: Unsupported value: "Sometimes": supported values: "NonIndexed", "Indexed"']);
  });

  it('allows backoffLimitPerIndex and maxFailedIndexes only on Indexed Jobs, maxFailedIndexes only with backoffLimitPerIndex', () => {
    expect(messages(withSpec({ backoffLimitPerIndex: 1 }))).toEqual(['spec.backoffLimitPerIndex: Invalid value: 1: requires indexed completion mode']);
    expect(messages(defaulted({ completionMode: 'Indexed', completions: 3, maxFailedIndexes: 1 }))).toEqual([
      'spec.backoffLimitPerIndex: Required value: when maxFailedIndexes is specified',
    ]);
  });

  it('checks the pod failure policy', () => {
    const rule = { action: 'FailJob' as const, onExitCodes: { operator: 'In' as const, values: [1, 2] } };
    expect(messages(withSpec({ podFailurePolicy: { rules: [rule] }, podReplacementPolicy: 'Failed' }))).toEqual([]);
    // only with restartPolicy Never
    expect(messages({ ...withPodSpec({ restartPolicy: 'OnFailure' }), spec: { ...withPodSpec({ restartPolicy: 'OnFailure' }).spec, podFailurePolicy: { rules: [rule] }, podReplacementPolicy: 'Failed' } })).toEqual([
      'spec.template.spec.restartPolicy: Invalid value: "OnFailure": only "Never" is supported when podFailurePolicy is specified',
    ]);
    // FailIndex only with backoffLimitPerIndex
    expect(messages(withSpec({ podFailurePolicy: { rules: [{ ...rule, action: 'FailIndex' }] }, podReplacementPolicy: 'Failed' }))).toEqual([
      'spec.podFailurePolicy.rules[0].action: Invalid value: "FailIndex": requires the backoffLimitPerIndex to be set',
    ]);
    expect(messages(withSpec({ podFailurePolicy: { rules: [rule] }, podReplacementPolicy: 'TerminatingOrFailed' }))).toEqual([
      'spec.podReplacementPolicy: Unsupported value: "TerminatingOrFailed": supported values: "Failed"',
    ]);
    const bad = withSpec({
      podReplacementPolicy: 'Failed',
      podFailurePolicy: {
        rules: [
          { action: 'Retry' as never, onExitCodes: { operator: 'In', containerName: 'nope', values: [3, 0, 3] } },
          { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'Maybe' as never }] },
          { action: 'Count' },
        ],
      },
    });
    expect(messages(bad)).toEqual([
      'spec.podFailurePolicy.rules[0].action: Unsupported value: "Retry": supported values: "Count", "FailIndex", "FailJob", "Ignore"',
      'spec.podFailurePolicy.rules[0].onExitCodes.containerName: Invalid value: "nope": must be one of the container or initContainer names in the pod template',
      'spec.podFailurePolicy.rules[0].onExitCodes.values[1]: Invalid value: 0: must not be 0 for the In operator',
      'spec.podFailurePolicy.rules[0].onExitCodes.values[2]: Duplicate value: 3',
      'spec.podFailurePolicy.rules[0].onExitCodes.values: Invalid value: [3,0,3]: must be ordered',
      'spec.podFailurePolicy.rules[1].onPodConditions[0].status: Unsupported value: "Maybe": supported values: "False", "True", "Unknown"',
      'spec.podFailurePolicy.rules[2]: Invalid value: specifying one of OnExitCodes and OnPodConditions is required',
    ]);
  });

  it('allows a success policy only on Indexed Jobs and checks its rules', () => {
    expect(messages(withSpec({ successPolicy: { rules: [{ succeededCount: 1 }] } }))).toEqual([
      expect.stringMatching(/^spec\.successPolicy: Invalid value: .*: requires indexed completion mode$/),
    ]);
    const indexed = (rules: SuccessPolicy): Job => defaulted({ completionMode: 'Indexed', completions: 5, successPolicy: rules });
    expect(messages(indexed({ rules: [{ succeededIndexes: '0,2-4', succeededCount: 3 }] }))).toEqual([]);
    expect(messages(indexed({ rules: [{ succeededIndexes: '3-1' }, { succeededIndexes: '0-1', succeededCount: 3 }, {}] }))).toEqual([
      'spec.successPolicy.rules[0].succeededIndexes: Invalid value: "3-1": error parsing succeededIndexes: non-increasing order, previous: 3, current: 1',
      'spec.successPolicy.rules[1].succeededCount: Invalid value: 3: must be less than or equal to 2 (the number of indexes in the specified succeededIndexes field)',
      'spec.successPolicy.rules[2]: Required value: at least one of succeededCount or succeededIndexes must be specified',
    ]);
    expect(messages(indexed({ rules: [] }))).toEqual([
      'spec.successPolicy.rules: Required value: at least one rules must be specified when the successPolicy is specified',
    ]);
  });

  it('checks managedBy', () => {
    expect(messages(withSpec({ managedBy: 'example.com/queue' }))).toEqual([]);
    expect(messages(withSpec({ managedBy: 'queue' }))).toEqual(['spec.managedBy: Invalid value: "queue": must be a domain-prefixed path (such as "acme.io/foo")']);
  });
});

describe('validateJobUpdate', () => {
  it('accepts an unchanged Job and mutable fields', () => {
    expect(updateMessages(base)).toEqual([]);
    expect(updateMessages(withSpec({ parallelism: 3, activeDeadlineSeconds: 60, suspend: true, ttlSecondsAfterFinished: 10 }))).toEqual([]);
  });

  it('keeps the selector, completions, completionMode and podFailurePolicy immutable', () => {
    expect(updateMessages(withSpec({ completions: 2 }))).toEqual(['spec.completions: Invalid value: 2: field is immutable']);
    expect(updateMessages(withSpec({ selector: { matchLabels: { [CONTROLLER_UID_LABEL]: UID, extra: 'x' } } }))).toEqual([
      expect.stringMatching(/`selector` not auto-generated$/),
      expect.stringMatching(/`selector` does not match template `labels`$/),
      expect.stringMatching(/^spec\.selector: Invalid value: .*: field is immutable$/),
    ]);
    const pfp = withSpec({ podFailurePolicy: { rules: [{ action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] }] }, podReplacementPolicy: 'Failed' });
    expect(updateMessages(pfp)).toEqual([expect.stringMatching(/^spec\.podFailurePolicy: Invalid value: .*: field is immutable$/)]);
  });

  it('lets an elastic Indexed Job change completions together with parallelism', () => {
    const old = defaulted({ completionMode: 'Indexed', completions: 4, parallelism: 4 });
    const scaled = { ...old, spec: { ...old.spec, completions: 6, parallelism: 6 } };
    expect(updateMessages(scaled, old)).toEqual([]);
    expect(updateMessages({ ...old, spec: { ...old.spec, completions: 6 } }, old)).toEqual([
      'spec.completions: Invalid value: 6: can only be modified in tandem with spec.parallelism',
    ]);
  });

  it('keeps the template immutable, but for scheduling directives of a suspended Job that never started', () => {
    const changed = withPodSpec({ nodeSelector: { disk: 'ssd' } });
    expect(updateMessages(changed)).toEqual([expect.stringMatching(/^spec\.template: Invalid value: .*: field is immutable$/)]);
    const suspended = withSpec({ suspend: true });
    const moved = { ...changed, spec: { ...changed.spec, suspend: true } };
    expect(updateMessages(moved, suspended)).toEqual([]);
    expect(updateMessages(moved, { ...suspended, status: { startTime: '2026-01-01T00:00:00Z' } })).toEqual([
      expect.stringMatching(/^spec\.template: Invalid value: .*: field is immutable$/),
    ]);
    const image = { ...suspended, spec: { ...suspended.spec, template: { ...suspended.spec.template, spec: { ...suspended.spec.template.spec, containers: [{ ...suspended.spec.template.spec.containers[0]!, image: 'perl:2' }] } } } };
    expect(updateMessages(image, suspended)).toEqual([expect.stringMatching(/^spec\.template: Invalid value: .*: field is immutable$/)]);
  });
});

describe('status updates', () => {
  const running: Job = { ...base, status: { startTime: '2026-01-01T10:00:00Z', active: 1, ready: 0, uncountedTerminatedPods: {} } };
  const status = (s: JobStatus, old: Job = running): string[] => updateMessages({ ...old, status: s }, old);
  const cond = (type: string, st = 'True'): { type: never; status: never } => ({ type: type as never, status: st as never });

  it('accepts a normal completion', () => {
    expect(status({ ...running.status, active: 0, succeeded: 1, completionTime: '2026-01-01T10:01:00Z', conditions: [cond('SuccessCriteriaMet'), cond('Complete')] })).toEqual([]);
  });

  it('rejects negative counters, duplicate uncounted pods and decreasing counters', () => {
    const old = { ...running, status: { ...running.status, failed: 2, succeeded: 1 } };
    expect(status({ ...running.status, active: -1, failed: 1, uncountedTerminatedPods: { succeeded: ['a'], failed: ['a', ''] } }, old)).toEqual([
      'status.active: Invalid value: -1: must be greater than or equal to 0',
      'status.uncountedTerminatedPods.failed[0]: Duplicate value: "a"',
      'status.uncountedTerminatedPods.failed[1]: Invalid value: "": must not be empty',
      'status.failed: Invalid value: 1: cannot decrease the failed counter',
      'status.succeeded: Invalid value: 0: cannot decrease the succeeded counter',
    ]);
  });

  it('checks finished Jobs', () => {
    expect(status({ active: 1, conditions: [cond('Complete')] })).toEqual([
      'status.completionTime: Required value: completionTime is required for Complete jobs',
      'status.active: Invalid value: 1: active>0 is invalid for finished job',
      'status.startTime: Required value: startTime is required for finished job',
      'status.startTime: Required value: startTime cannot be removed for unsuspended job',
    ]);
    const done: Job = { ...running, status: { startTime: '2026-01-01T10:00:00Z', completionTime: '2026-01-01T10:01:00Z', conditions: [cond('Complete')] } };
    expect(status({ ...done.status, conditions: [] }, done)).toEqual([
      'status.completionTime: Invalid value: "2026-01-01T10:01:00Z": cannot set completionTime when there is no Complete=True condition',
      'status.conditions: Invalid value: cannot disable the terminal Complete=True condition',
    ]);
    expect(status({ ...running.status, active: 0, completionTime: '2026-01-01T09:00:00Z', conditions: [cond('Complete')] })).toEqual([
      'status.completionTime: Invalid value: "2026-01-01T09:00:00Z": must be equal to or after `startTime`',
    ]);
  });

  it('checks index lists of Indexed Jobs', () => {
    const indexed = defaulted({ completionMode: 'Indexed', completions: 5, backoffLimitPerIndex: 1 });
    const old = { ...indexed, status: {} };
    expect(status({ completedIndexes: '0-2', failedIndexes: '4' }, old)).toEqual([]);
    expect(status({ completedIndexes: '0-5' }, old)).toEqual(['status.completedIndexes: Invalid value: "0-5": error parsing completedIndexes: too large index: "5"']);
    expect(status({ completedIndexes: '0-2', failedIndexes: '2' }, old)).toEqual([
      'status.failedIndexes: Invalid value: "2": failedIndexes and completedIndexes overlap at index: 2',
    ]);
    expect(status({ ...running.status, completedIndexes: '0' })).toEqual([
      'status.completedIndexes: Invalid value: "0": cannot set non-empty completedIndexes when non-indexed completion mode',
    ]);
  });
});

describe('helpers', () => {
  it('parses index lists', () => {
    expect(parseIndexIntervals('', 3)).toEqual([]);
    expect(parseIndexIntervals('0,2-4,7', 8)).toEqual([[0, 0], [2, 4], [7, 7]]);
    expect(parseIndexIntervals('1,1', 3)).toBe('non-increasing order, previous: 1, current: 1');
    expect(parseIndexIntervals('x', 3)).toBe('cannot convert string to integer for index: "x"');
  });

  it('tells finished Jobs', () => {
    expect(isJobFinished(base)).toBe(false);
    expect(isJobFinished({ status: { conditions: [{ type: 'Failed', status: 'True' }] } })).toBe(true);
    expect(isJobFinished({ status: { conditions: [{ type: 'Complete', status: 'False' }] } })).toBe(false);
  });
});
