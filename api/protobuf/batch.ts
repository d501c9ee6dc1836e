/**
 * batch/v1 messages (k8s.io/api/batch/v1/generated.proto): Job and CronJob, as kubectl `create job`,
 * `create job --from=cronjob/...` and `create cronjob` send them. Pointer flags from batch/v1 types.go:
 * every optional JobSpec knob is a pointer, so `parallelism: 0` or `suspend: false` survive; the status
 * counters active/succeeded/failed and completedIndexes are plain values (zero means absent).
 * Numbers checked against kubectl 1.32's request bodies (api/protobuf/batch.test.ts): every JobSpec
 * field, CronJobSpec schedule, concurrencyPolicy and jobTemplate, JobStatus active/succeeded/failed/
 * completedIndexes; the rest are generated.proto's.
 */
import type { MessageTable } from './types.js';
import { PTR, bool, int32, int32s, int64, msg, msgs, str, strs, time } from './types.js';

export const batchMessages: MessageTable = {
  'batch.v1.Job': {
    1: msg('metadata', 'meta.v1.ObjectMeta'),
    2: msg('spec', 'batch.v1.JobSpec'),
    3: msg('status', 'batch.v1.JobStatus'),
  },
  'batch.v1.JobSpec': {
    1: int32('parallelism', PTR),
    2: int32('completions', PTR),
    3: int64('activeDeadlineSeconds', PTR),
    11: msg('podFailurePolicy', 'batch.v1.PodFailurePolicy', PTR),
    16: msg('successPolicy', 'batch.v1.SuccessPolicy', PTR),
    7: int32('backoffLimit', PTR),
    12: int32('backoffLimitPerIndex', PTR),
    13: int32('maxFailedIndexes', PTR),
    4: msg('selector', 'meta.v1.LabelSelector', PTR),
    5: bool('manualSelector', PTR),
    6: msg('template', 'core.v1.PodTemplateSpec'),
    8: int32('ttlSecondsAfterFinished', PTR),
    9: str('completionMode', PTR),
    10: bool('suspend', PTR),
    14: str('podReplacementPolicy', PTR),
    15: str('managedBy', PTR),
  },
  'batch.v1.PodFailurePolicy': {
    1: msgs('rules', 'batch.v1.PodFailurePolicyRule'),
  },
  'batch.v1.PodFailurePolicyRule': {
    1: str('action'),
    2: msg('onExitCodes', 'batch.v1.PodFailurePolicyOnExitCodesRequirement', PTR),
    3: msgs('onPodConditions', 'batch.v1.PodFailurePolicyOnPodConditionsPattern'),
  },
  'batch.v1.PodFailurePolicyOnExitCodesRequirement': {
    1: str('containerName', PTR),
    2: str('operator'),
    3: int32s('values'),
  },
  'batch.v1.PodFailurePolicyOnPodConditionsPattern': {
    1: str('type'),
    2: str('status'),
  },
  'batch.v1.SuccessPolicy': {
    1: msgs('rules', 'batch.v1.SuccessPolicyRule'),
  },
  'batch.v1.SuccessPolicyRule': {
    1: str('succeededIndexes', PTR),
    2: int32('succeededCount', PTR),
  },
  'batch.v1.JobStatus': {
    1: msgs('conditions', 'batch.v1.JobCondition'),
    2: time('startTime', PTR),
    3: time('completionTime', PTR),
    4: int32('active'),
    5: int32('succeeded'),
    6: int32('failed'),
    11: int32('terminating', PTR),
    7: str('completedIndexes'),
    10: str('failedIndexes', PTR),
    8: msg('uncountedTerminatedPods', 'batch.v1.UncountedTerminatedPods', PTR),
    9: int32('ready', PTR),
  },
  'batch.v1.JobCondition': {
    1: str('type'),
    2: str('status'),
    3: time('lastProbeTime'),
    4: time('lastTransitionTime'),
    5: str('reason'),
    6: str('message'),
  },
  'batch.v1.UncountedTerminatedPods': {
    1: strs('succeeded'),
    2: strs('failed'),
  },
  'batch.v1.CronJob': {
    1: msg('metadata', 'meta.v1.ObjectMeta'),
    2: msg('spec', 'batch.v1.CronJobSpec'),
    3: msg('status', 'batch.v1.CronJobStatus'),
  },
  'batch.v1.CronJobSpec': {
    1: str('schedule'),
    8: str('timeZone', PTR),
    2: int64('startingDeadlineSeconds', PTR),
    3: str('concurrencyPolicy'),
    4: bool('suspend', PTR),
    5: msg('jobTemplate', 'batch.v1.JobTemplateSpec'),
    6: int32('successfulJobsHistoryLimit', PTR),
    7: int32('failedJobsHistoryLimit', PTR),
  },
  'batch.v1.JobTemplateSpec': {
    1: msg('metadata', 'meta.v1.ObjectMeta'),
    2: msg('spec', 'batch.v1.JobSpec'),
  },
  'batch.v1.CronJobStatus': {
    1: msgs('active', 'core.v1.ObjectReference'),
    4: time('lastScheduleTime', PTR),
    5: time('lastSuccessfulTime', PTR),
  },
};
