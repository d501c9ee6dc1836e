import { describe, expect, it } from 'vitest';
import type { Pod } from '../../api/core/pod.js';
import type { Job, JobSpec, JobStatus } from '../../api/batch/job.js';
import { JOB_TRACKING_FINALIZER, validateJobStatusUpdate } from '../../api/batch/job.js';
import {
  NO_BACKOFF,
  backoffRemainingMs,
  countUncounted,
  indexFailuresSoFar,
  jobPodFromTemplate,
  jobStatusChanged,
  matchPodFailurePolicy,
  newlyFinished,
  nextBackoff,
  planJob,
  withUncounted,
} from './job-plan.js';

const NOW = new Date('2026-12-06T12:00:00Z');

/** planJob, and the status it wants written must pass the apiserver's status update validation. */
function planChecked(...args: Parameters<typeof planJob>): ReturnType<typeof planJob> {
  const d = planJob(...args);
  const [j] = args;
  expect(validateJobStatusUpdate({ ...j, status: d.status }, j).map((e) => `${e.field}: ${e.detail ?? ''}`)).toEqual([]);
  return d;
}


function job(spec: Partial<JobSpec> = {}, status?: JobStatus): Job {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: 'pi', namespace: 'ns', uid: 'job-uid', resourceVersion: '5' },
    spec: {
      parallelism: 1,
      completions: 1,
      backoffLimit: 6,
      completionMode: 'NonIndexed',
      selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': 'job-uid' } },
      template: { metadata: { labels: { 'batch.kubernetes.io/controller-uid': 'job-uid' } }, spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'i' }] } },
      ...spec,
    },
    ...(status !== undefined ? { status } : {}),
  };
}

let n = 0;
function pod(phase: 'Pending' | 'Running' | 'Succeeded' | 'Failed', opts: { index?: number; finalizer?: boolean; deleting?: boolean; ready?: boolean; exitCode?: number; restarts?: number; failures?: number; created?: string; conditions?: { type: string; status: string }[] } = {}): Pod {
  n++;
  const annotations: Record<string, string> = {};
  if (opts.index !== undefined) annotations['batch.kubernetes.io/job-completion-index'] = String(opts.index);
  if (opts.failures !== undefined) annotations['batch.kubernetes.io/job-index-failure-count'] = String(opts.failures);
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: `pi-${n}`,
      namespace: 'ns',
      uid: `pod-${n}`,
      creationTimestamp: opts.created ?? `2026-12-06T11:00:${String(n % 60).padStart(2, '0')}Z`,
      annotations,
      ...(opts.finalizer !== false ? { finalizers: [JOB_TRACKING_FINALIZER] } : {}),
      ...(opts.deleting === true ? { deletionTimestamp: '2026-12-06T11:59:00Z' } : {}),
      ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: 'pi', uid: 'job-uid', controller: true }],
    },
    spec: { containers: [{ name: 'c', image: 'i' }] },
    status: {
      phase,
      conditions: [...(opts.ready === true ? [{ type: 'Ready', status: 'True' }] : []), ...(opts.conditions ?? [])],
      containerStatuses: [
        {
          name: 'c',
          image: 'i',
          imageID: '',
          ready: opts.ready === true,
          restartCount: opts.restarts ?? 0,
          state: opts.exitCode !== undefined ? { terminated: { exitCode: opts.exitCode } } : { running: {} },
        },
      ],
    },
  } as Pod;
}

/** One sync's counting as the controller does it: record, release every recorded finalizer, count. */
function counted(j: Job, pods: Pod[]): Job {
  const f = newlyFinished(j, pods);
  const recorded = { ...j, status: withUncounted(j, f, NOW) };
  return { ...recorded, status: countUncounted(recorded, new Set()) };
}

describe('job plan: pods to create and delete', () => {
  it('creates min(parallelism, completions - succeeded) pods and sets startTime', () => {
    const d = planChecked(job({ parallelism: 3, completions: 5 }), [], NOW, NO_BACKOFF, true);
    expect(d.create).toEqual([undefined, undefined, undefined]);
    expect(d.status.active).toBe(3);
    expect(d.status.startTime).toBe('2026-12-06T12:00:00Z');
    const near = planChecked(job({ parallelism: 3, completions: 5 }, { succeeded: 4 }), [], NOW, NO_BACKOFF, true);
    expect(near.create).toHaveLength(1);
  });

  it('creates nothing while earlier creates are unobserved (expectations)', () => {
    expect(planChecked(job({ parallelism: 3, completions: 5 }), [], NOW, NO_BACKOFF, false).create).toEqual([]);
  });

  it('deletes surplus pods when parallelism goes down, unready ones first', () => {
    const pods = [pod('Running', { ready: true }), pod('Running'), pod('Running', { ready: true })];
    const d = planChecked(job({ parallelism: 1, completions: 5 }), pods, NOW, NO_BACKOFF, true);
    expect(d.delete).toHaveLength(2);
    expect(d.delete.map((p) => p.metadata.name)).toContain(pods[1]?.metadata.name);
    expect(d.status.active).toBe(1);
    expect(d.status.terminating).toBe(2);
  });

  it('without completions: no new pod once one succeeded; complete when the others are done', () => {
    const running = pod('Running');
    const j = job({ parallelism: 2 }, { succeeded: 1 });
    const noCompl: Job = { ...j, spec: { ...j.spec, completions: undefined } } as unknown as Job;
    const d = planChecked(noCompl, [running], NOW, NO_BACKOFF, true);
    expect(d.create).toEqual([]);
    expect(d.delete).toEqual([]);
    expect(d.status.conditions ?? []).toEqual([]);
    const done = planChecked(noCompl, [], NOW, NO_BACKOFF, true);
    expect(done.status.conditions?.map((c) => c.type)).toEqual(['SuccessCriteriaMet', 'Complete']);
  });

  it('waits out the failure back-off (10 s doubling, at most 6 min) before replacing a failed pod', () => {
    const b = nextBackoff(NO_BACKOFF, { succeeded: [], failed: ['a'] }, NOW.getTime());
    expect(backoffRemainingMs(b, NOW.getTime())).toBe(10_000);
    const b3 = nextBackoff(nextBackoff(b, { succeeded: [], failed: ['b'] }, NOW.getTime()), { succeeded: [], failed: ['c'] }, NOW.getTime());
    expect(backoffRemainingMs(b3, NOW.getTime())).toBe(40_000);
    expect(backoffRemainingMs({ failuresAfterLastSuccess: 12, lastFailureMs: NOW.getTime() }, NOW.getTime())).toBe(360_000);
    expect(nextBackoff(b3, { succeeded: ['d'], failed: [] }, NOW.getTime())).toEqual(NO_BACKOFF);
    const d = planChecked(job({}, { failed: 1 }), [], NOW, b, true);
    expect(d.create).toEqual([]);
    expect(d.requeueAfterMs).toBe(10_000);
    const later = planChecked(job({}, { failed: 1 }), [], new Date(NOW.getTime() + 10_000), b, true);
    expect(later.create).toHaveLength(1);
  });
});

describe('job plan: counting finished pods through uncountedTerminatedPods', () => {
  it('records newly finished pods once, then counts them when their finalizer is gone', () => {
    const ok = pod('Succeeded', { exitCode: 0 });
    const bad = pod('Failed', { exitCode: 1 });
    const j = job({ completions: 3, parallelism: 2 });
    const f = newlyFinished(j, [ok, bad, pod('Running')]);
    expect(f.succeeded).toEqual([ok.metadata.uid]);
    expect(f.failed).toEqual([bad.metadata.uid]);
    const recorded = { ...j, status: withUncounted(j, f, NOW) };
    expect(recorded.status.uncountedTerminatedPods).toEqual({ succeeded: [ok.metadata.uid], failed: [bad.metadata.uid] });
    // a second look at the same pods finds nothing new
    expect(newlyFinished(recorded, [ok, bad]).succeeded).toEqual([]);
    // the failed pod's finalizer removal failed: it stays uncounted, the other is counted
    const status = countUncounted(recorded, new Set([bad.metadata.uid ?? '']));
    expect(status.succeeded).toBe(1);
    expect(status.failed ?? 0).toBe(0);
    expect(status.uncountedTerminatedPods).toEqual({ failed: [bad.metadata.uid] });
  });

  it('a finished pod without the finalizer was counted before and is not counted again', () => {
    expect(newlyFinished(job(), [pod('Succeeded', { finalizer: false })]).succeeded).toEqual([]);
  });

  it('a pod being deleted that did not succeed counts as failed, unless only Failed pods are replaced', () => {
    const deleting = pod('Running', { deleting: true });
    expect(newlyFinished(job(), [deleting]).failed).toEqual([deleting.metadata.uid]);
    expect(newlyFinished(job({ podReplacementPolicy: 'Failed' }), [deleting]).failed).toEqual([]);
  });

  it('Indexed: a succeeded pod completes its index; a duplicate or out-of-range index is not counted', () => {
    const j = job({ completionMode: 'Indexed', completions: 3, parallelism: 3 });
    const a = pod('Succeeded', { index: 1 });
    const dup = pod('Succeeded', { index: 1 });
    const out = pod('Succeeded', { index: 7 });
    const f = newlyFinished(j, [a, dup, out]);
    expect(f.succeeded).toEqual([a.metadata.uid]);
    expect(f.completedIndexes).toEqual([1]);
    expect(f.uncountable.map((p) => p.metadata.uid)).toEqual([dup.metadata.uid, out.metadata.uid]);
    const after = counted(j, [a, dup, out]);
    expect(after.status?.completedIndexes).toBe('1');
    expect(after.status?.succeeded).toBe(1);
  });
});

describe('job plan: success and failure', () => {
  it('completions reached: SuccessCriteriaMet, remaining pods deleted, then Complete with completionTime', () => {
    const extra = pod('Running');
    const j = job({ completions: 2, parallelism: 2 }, { succeeded: 2, startTime: '2026-12-06T11:00:00Z' });
    const d = planChecked(j, [extra], NOW, NO_BACKOFF, true);
    expect(d.status.conditions?.map((c) => `${c.type}=${c.status}`)).toEqual(['SuccessCriteriaMet=True']);
    expect(d.delete).toEqual([extra]);
    const d2 = planChecked({ ...j, status: d.status }, [], NOW, NO_BACKOFF, true);
    expect(d2.status.conditions?.map((c) => c.type)).toEqual(['SuccessCriteriaMet', 'Complete']);
    expect(d2.status.conditions?.[1]?.reason).toBe('CompletionsReached');
    expect(d2.status.completionTime).toBe('2026-12-06T12:00:00Z');
    expect(d2.events).toContainEqual({ type: 'Normal', reason: 'Completed', message: 'Job completed' });
  });

  it('waits for terminating pods and uncounted ones before the terminal condition', () => {
    const j = job({ completions: 1 }, { succeeded: 1 });
    expect(planChecked(j, [pod('Running', { deleting: true })], NOW, NO_BACKOFF, true).status.conditions?.map((c) => c.type)).toEqual(['SuccessCriteriaMet']);
    const unc = job({ completions: 1 }, { uncountedTerminatedPods: { succeeded: ['x'] } });
    expect(planChecked(unc, [], NOW, NO_BACKOFF, true).status.conditions?.map((c) => c.type)).toEqual(['SuccessCriteriaMet']);
  });

  it('more failures than backoffLimit: FailureTarget then Failed BackoffLimitExceeded, no completionTime', () => {
    const j = job({ backoffLimit: 1, completions: 2 }, { failed: 2, startTime: '2026-12-06T11:00:00Z' });
    const running = pod('Running');
    const d = planChecked(j, [running], NOW, NO_BACKOFF, true);
    expect(d.status.conditions?.[0]).toMatchObject({ type: 'FailureTarget', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' });
    expect(d.delete).toEqual([running]);
    expect(d.create).toEqual([]);
    const d2 = planChecked({ ...j, status: d.status }, [], NOW, NO_BACKOFF, true);
    expect(d2.status.conditions?.map((c) => c.type)).toEqual(['FailureTarget', 'Failed']);
    expect(d2.status.completionTime).toBeUndefined();
    expect(d2.events).toContainEqual({ type: 'Warning', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' });
  });

  it('restartPolicy OnFailure: container restarts count against backoffLimit', () => {
    const base = job({ backoffLimit: 2 });
    const onFailure: Job = { ...base, spec: { ...base.spec, template: { ...base.spec.template, spec: { ...base.spec.template.spec, restartPolicy: 'OnFailure' } } } };
    expect(planChecked(onFailure, [pod('Running', { restarts: 1 })], NOW, NO_BACKOFF, true).status.conditions ?? []).toEqual([]);
    expect(planChecked(onFailure, [pod('Running', { restarts: 2 })], NOW, NO_BACKOFF, true).status.conditions?.[0]?.reason).toBe('BackoffLimitExceeded');
  });

  it('activeDeadlineSeconds: requeued for the deadline, DeadlineExceeded once past it', () => {
    const j = job({ activeDeadlineSeconds: 60 }, { startTime: '2026-12-06T11:59:30Z' });
    const d = planChecked(j, [pod('Running')], NOW, NO_BACKOFF, true);
    expect(d.requeueAfterMs).toBe(30_000);
    const past = planChecked(j, [pod('Running')], new Date(NOW.getTime() + 30_000), NO_BACKOFF, true);
    expect(past.status.conditions?.[0]?.reason).toBe('DeadlineExceeded');
    expect(past.delete).toHaveLength(1);
  });

  it('podFailurePolicy: FailJob fails the Job at once, Ignore does not count the pod', () => {
    const j = job({
      podReplacementPolicy: 'Failed',
      podFailurePolicy: {
        rules: [
          { action: 'FailJob', onExitCodes: { containerName: 'c', operator: 'In', values: [42] } },
          { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget' }] },
        ],
      },
    });
    const fatal = pod('Failed', { exitCode: 42 });
    const m = matchPodFailurePolicy(j, fatal);
    expect(m).toEqual({ action: 'FailJob', message: 'Container c for pod ns/' + (fatal.metadata.name ?? '') + ' failed with exit code 42 matching FailJob rule at index 0' });
    const f = newlyFinished(j, [fatal]);
    expect(f.failJob?.reason).toBe('PodFailurePolicy');
    const recorded = withUncounted(j, f, NOW);
    expect(recorded.conditions?.[0]).toMatchObject({ type: 'FailureTarget', reason: 'PodFailurePolicy' });
    const disrupted = pod('Failed', { exitCode: 137, conditions: [{ type: 'DisruptionTarget', status: 'True' }] });
    const g = newlyFinished(j, [disrupted]);
    expect(g.failed).toEqual([]);
    expect(g.uncountable).toEqual([disrupted]);
    // exit code 0 never matches a NotIn rule
    const notIn = job({ podFailurePolicy: { rules: [{ action: 'FailJob', onExitCodes: { operator: 'NotIn', values: [1] } }] } });
    expect(matchPodFailurePolicy(notIn, pod('Failed', { exitCode: 0 }))).toBeUndefined();
    expect(matchPodFailurePolicy(notIn, pod('Failed', { exitCode: 2 }))?.action).toBe('FailJob');
  });

  it('suspend deletes the pods, sets Suspended and drops startTime; resuming sets it anew', () => {
    const j = job({ suspend: true, parallelism: 2, completions: 4 }, { startTime: '2026-12-06T10:00:00Z' });
    const pods = [pod('Running'), pod('Pending')];
    const d = planChecked(j, pods, NOW, NO_BACKOFF, true);
    expect(d.delete).toHaveLength(2);
    expect(d.create).toEqual([]);
    expect(d.status.conditions?.[0]).toMatchObject({ type: 'Suspended', status: 'True', reason: 'JobSuspended' });
    expect(d.status.startTime).toBeUndefined(); // the API refuses a changed startTime on a running Job
    const resumed = planChecked({ ...j, spec: { ...j.spec, suspend: false }, status: d.status }, [], new Date(NOW.getTime() + 5000), NO_BACKOFF, true);
    expect(resumed.status.conditions?.[0]).toMatchObject({ type: 'Suspended', status: 'False', reason: 'JobResumed' });
    expect(resumed.status.startTime).toBe('2026-12-06T12:00:05Z');
    expect(resumed.create).toHaveLength(2);
  });
});

describe('job plan: Indexed jobs', () => {
  it('creates the lowest missing indexes, deletes duplicates and completed ones', () => {
    const j = job({ completionMode: 'Indexed', completions: 5, parallelism: 3 }, { completedIndexes: '0' });
    const keep = pod('Running', { index: 1, created: '2026-12-06T11:00:00Z' });
    const dup = pod('Running', { index: 1, created: '2026-12-06T11:00:05Z' });
    const done = pod('Running', { index: 0 });
    const d = planChecked(j, [keep, dup, done], NOW, NO_BACKOFF, true);
    expect(d.delete.map((p) => p.metadata.uid).sort()).toEqual([dup.metadata.uid, done.metadata.uid].sort());
    expect(d.create).toEqual([2, 3]);
  });

  it('all indexes completed: Complete; successPolicy can finish it earlier', () => {
    const j = job({ completionMode: 'Indexed', completions: 3, parallelism: 3 }, { completedIndexes: '0-2' });
    expect(planChecked(j, [], NOW, NO_BACKOFF, true).status.conditions?.map((c) => c.type)).toEqual(['SuccessCriteriaMet', 'Complete']);
    const sp = job({ completionMode: 'Indexed', completions: 5, parallelism: 5, successPolicy: { rules: [{ succeededIndexes: '0', succeededCount: 1 }] } }, { completedIndexes: '0' });
    const running = pod('Running', { index: 3 });
    const d = planChecked(sp, [running], NOW, NO_BACKOFF, true);
    expect(d.status.conditions?.[0]).toMatchObject({ type: 'SuccessCriteriaMet', reason: 'SuccessPolicy', message: 'Matched rules at index 0' });
    expect(d.delete).toEqual([running]);
  });

  it('pods get their index, JOB_COMPLETION_INDEX, hostname and the tracking finalizer', () => {
    const p = jobPodFromTemplate(job({ completionMode: 'Indexed', completions: 3 }), 2);
    expect(p.metadata.generateName).toBe('pi-2-');
    expect(p.metadata.annotations?.['batch.kubernetes.io/job-completion-index']).toBe('2');
    expect(p.metadata.labels?.['batch.kubernetes.io/job-completion-index']).toBe('2');
    expect(p.spec.hostname).toBe('pi-2');
    expect(p.spec.containers[0]?.env).toContainEqual({ name: 'JOB_COMPLETION_INDEX', valueFrom: { fieldRef: { fieldPath: "metadata.annotations['batch.kubernetes.io/job-completion-index']" } } });
    expect(p.metadata.finalizers).toEqual([JOB_TRACKING_FINALIZER]);
    expect(p.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'Job', name: 'pi', uid: 'job-uid', controller: true });
    const plain = jobPodFromTemplate(job(), undefined);
    expect(plain.metadata.generateName).toBe('pi-');
    expect(plain.spec.hostname).toBeUndefined();
  });

  it('backoffLimitPerIndex: an index fails for good past its limit, maxFailedIndexes fails the Job', () => {
    const j = job({ completionMode: 'Indexed', completions: 3, parallelism: 3, backoffLimitPerIndex: 1, maxFailedIndexes: 0, backoffLimit: 2 ** 31 - 1 });
    const first = pod('Failed', { index: 0, failures: 0, exitCode: 1 });
    expect(newlyFinished(j, [first]).failedIndexes).toEqual([]);
    expect(indexFailuresSoFar(j, [first], 0)).toBe(1);
    const second = pod('Failed', { index: 0, failures: 1, exitCode: 1 });
    const f = newlyFinished(j, [second]);
    expect(f.failedIndexes).toEqual([0]);
    const after = counted(j, [second]);
    expect(after.status?.failedIndexes).toBe('0');
    const d = planChecked(after, [], NOW, NO_BACKOFF, true);
    expect(d.status.conditions?.map((c) => `${c.type}:${c.reason}`)).toEqual(['FailureTarget:MaxFailedIndexesExceeded', 'Failed:MaxFailedIndexesExceeded']);
  });
});

describe('job status comparison', () => {
  it('ignores key order and zero values, sees real changes', () => {
    const j = job({}, { active: 1, failed: 0 });
    expect(jobStatusChanged(j, { failed: 0, active: 1, ready: 0 })).toBe(false);
    expect(jobStatusChanged(j, { active: 2 })).toBe(true);
  });
});

describe('job plan: review findings', () => {
  it('pods deleted for suspension or success lose the finalizer first; a failing Job counts its deleted pods', () => {
    const running = pod('Running');
    expect(planChecked(job({ suspend: true }), [running], NOW, NO_BACKOFF, true).releaseBeforeDelete).toBe(true);
    expect(planChecked(job({ completions: 1 }, { succeeded: 1 }), [running], NOW, NO_BACKOFF, true).releaseBeforeDelete).toBe(true);
    const failing = planChecked(job({ backoffLimit: 0 }, { failed: 1 }), [running], NOW, NO_BACKOFF, true);
    expect(failing.delete).toEqual([running]);
    expect(failing.releaseBeforeDelete).toBe(false);
  });

  it('a FailJob match after the success criteria were met does not add FailureTarget', () => {
    const j = job(
      { completionMode: 'Indexed', completions: 3, parallelism: 3, successPolicy: { rules: [{ succeededCount: 1 }] }, podFailurePolicy: { rules: [{ action: 'FailJob', onExitCodes: { operator: 'In', values: [143] } }] } },
      { completedIndexes: '0', conditions: [{ type: 'SuccessCriteriaMet', status: 'True', reason: 'SuccessPolicy', message: 'Matched rules at index 0' }] },
    );
    const killed = pod('Failed', { index: 1, exitCode: 143 });
    const f = newlyFinished(j, [killed]);
    expect(f.failJob).toBeUndefined();
    expect(f.failed).toEqual([killed.metadata.uid]);
    expect(withUncounted(j, f, NOW).conditions?.map((c) => c.type)).toEqual(['SuccessCriteriaMet']);
  });

  it('backoffLimit still holds with backoffLimitPerIndex', () => {
    const j = job({ completionMode: 'Indexed', completions: 4, parallelism: 4, backoffLimitPerIndex: 1, backoffLimit: 2 }, { failed: 3 });
    expect(planChecked(j, [], NOW, NO_BACKOFF, true).status.conditions?.[0]?.reason).toBe('BackoffLimitExceeded');
  });

  it('podReplacementPolicy Failed: a terminating pod is not replaced until it has failed', () => {
    const terminating = pod('Running', { deleting: true });
    expect(planChecked(job({ podReplacementPolicy: 'Failed', parallelism: 2, completions: 4 }), [terminating, pod('Running')], NOW, NO_BACKOFF, true).create).toEqual([]);
    expect(planChecked(job({ parallelism: 2, completions: 4 }), [terminating, pod('Running')], NOW, NO_BACKOFF, true).create).toHaveLength(1);
    const idx = job({ podReplacementPolicy: 'Failed', completionMode: 'Indexed', completions: 3, parallelism: 3 });
    const t1 = pod('Running', { index: 1, deleting: true });
    expect(planChecked(idx, [t1, pod('Running', { index: 0 })], NOW, NO_BACKOFF, true).create).toEqual([2]);
  });

  it('Indexed: a failed pod without a valid index is not counted', () => {
    const j = job({ completionMode: 'Indexed', completions: 2, parallelism: 2 });
    const stray = pod('Failed', { index: 5, exitCode: 1 });
    const f = newlyFinished(j, [stray]);
    expect(f.failed).toEqual([]);
    expect(f.uncountable).toEqual([stray]);
  });

  it('a suspended Job that is failing still reaches Failed once nothing runs', () => {
    const j = job({ suspend: true, backoffLimit: 0 }, { failed: 1, conditions: [{ type: 'FailureTarget', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' }] });
    const d = planChecked(j, [], NOW, NO_BACKOFF, true);
    expect(d.status.conditions?.map((c) => c.type)).toContain('Failed');
    expect(d.status.startTime).toBe('2026-12-06T12:00:00Z');
  });

  it('a failure the policy ignores does not add to its index failure count', () => {
    const j = job({ completionMode: 'Indexed', completions: 2, parallelism: 2, backoffLimitPerIndex: 2, podFailurePolicy: { rules: [{ action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget' }] }] } });
    const ignored = pod('Failed', { index: 0, failures: 1, exitCode: 137, conditions: [{ type: 'DisruptionTarget', status: 'True' }] });
    expect(indexFailuresSoFar(j, [ignored], 0)).toBe(1);
  });
});
