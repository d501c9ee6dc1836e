/**
 * The Job controller's decisions (upstream pkg/controller/job), pure: which finished pods to count,
 * whether the Job succeeded or failed, which pods to create or delete, and its status. The controller
 * (job.ts) reads caches, calls these in order and writes; the unit tests drive these.
 *
 * Counting finished pods without losing or doubling any (upstream's "job tracking with finalizers"):
 * every pod the controller creates carries the finalizer `batch.kubernetes.io/job-tracking`, so it
 * cannot vanish before it is counted. A sync
 *   1. records the pods newly finished in `status.uncountedTerminatedPods` (their uids; for Indexed
 *      Jobs also their index in `completedIndexes`), with the FailureTarget condition when a
 *      podFailurePolicy rule says FailJob: one status write, guarded by the Job's resourceVersion, so
 *      a sync working from a stale cache fails with a conflict instead of counting twice;
 *   2. removes the finalizer from those pods;
 *   3. moves the uids whose pods lost the finalizer (or are gone) from uncountedTerminatedPods into
 *      `succeeded`/`failed`, in the final status write of the sync.
 * A finished pod without the finalizer and not in uncountedTerminatedPods has been counted already.
 *
 * Terminal conditions as upstream since 1.31: an interim condition first (SuccessCriteriaMet or
 * FailureTarget), the remaining pods deleted, then Complete or Failed once no pod of the Job is running
 * or terminating and every finished pod is counted.
 */
import type { EnvVar, Pod } from '../../api/core/pod.js';
import type { Job, JobCondition, JobStatus, PodFailurePolicyRule } from '../../api/batch/job.js';
import {
  JOB_COMPLETION_INDEX_ANNOTATION as COMPLETION_INDEX_KEY,
  JOB_INDEX_FAILURE_COUNT_ANNOTATION as INDEX_FAILURE_COUNT_KEY,
  JOB_TRACKING_FINALIZER,
  MAX_INT32,
} from '../../api/batch/job.js';
import { controllerRefTo } from './replicaset-claim.js';
import { formatIndexes, indexOf, parseIndexes } from './job-indexes.js';
import { isPodActive, isPodReady, podsToDelete } from './replicaset-pods.js';
import { rfc3339 } from '../../lib/clock.js';
import { semanticEqual } from '../../api/core/semantic.js';

export const JOB_COMPLETION_INDEX_ENV = 'JOB_COMPLETION_INDEX';
/** Upstream DefaultJobPodFailureBackOff and MaxJobPodFailureBackOff. */
export const POD_FAILURE_BACKOFF_MS = 10_000;
export const MAX_POD_FAILURE_BACKOFF_MS = 360_000;
/** At most this many creates or deletes per sync (upstream MaxPodCreateDeletePerSync). */
export const MAX_CREATE_DELETE_PER_SYNC = 500;

export const JOB_REF = { apiVersion: 'batch/v1', kind: 'Job' } as const;

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export interface Verdict {
  readonly reason: string;
  readonly message: string;
}

export const BACKOFF_LIMIT_EXCEEDED: Verdict = { reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' };
export const DEADLINE_EXCEEDED: Verdict = { reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline' };
export const MAX_FAILED_INDEXES_EXCEEDED: Verdict = { reason: 'MaxFailedIndexesExceeded', message: 'Job has exceeded the specified maximal number of failed indexes' };
export const FAILED_INDEXES: Verdict = { reason: 'FailedIndexes', message: 'Job has failed indexes' };
export const COMPLETIONS_REACHED: Verdict = { reason: 'CompletionsReached', message: 'Reached expected number of succeeded pods' };

// ---- pods ------------------------------------------------------------------------------------

export const hasTrackingFinalizer = (pod: Pod): boolean => (pod.metadata.finalizers ?? []).includes(JOB_TRACKING_FINALIZER);

export function isIndexed(job: Job): boolean {
  return job.spec.completionMode === 'Indexed';
}

/** Replacement pods only once the old one is Failed (not already while it terminates). */
function onlyReplaceFailed(job: Job): boolean {
  return job.spec.podReplacementPolicy === 'Failed' || job.spec.podFailurePolicy !== undefined;
}

/**
 * Upstream isPodFailed: phase Failed; and, unless the Job replaces only Failed pods, a pod being deleted
 * that did not succeed (it will never get the chance to reach Failed, e.g. when its node is gone).
 */
export function isPodFailed(pod: Pod, job: Job): boolean {
  const phase = pod.status?.phase;
  if (phase === 'Failed') return true;
  if (onlyReplaceFailed(job)) return false;
  return pod.metadata.deletionTimestamp !== undefined && phase !== 'Succeeded';
}

export function isPodFinished(pod: Pod, job: Job): boolean {
  return pod.status?.phase === 'Succeeded' || isPodFailed(pod, job);
}

/** Being deleted and not yet in a terminal phase: what `status.terminating` counts. */
export function isPodTerminating(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return pod.metadata.deletionTimestamp !== undefined && phase !== 'Succeeded' && phase !== 'Failed';
}

export function completionIndex(pod: Pod): number | undefined {
  return indexOf(pod.metadata.annotations, COMPLETION_INDEX_KEY);
}

function indexFailureCount(pod: Pod): number {
  return indexOf(pod.metadata.annotations, INDEX_FAILURE_COUNT_KEY) ?? 0;
}

// ---- podFailurePolicy -------------------------------------------------------------------------

export interface PolicyMatch {
  readonly action: 'FailJob' | 'FailIndex' | 'Ignore' | 'Count';
  readonly message: string;
}

function exitCodeMatch(rule: PodFailurePolicyRule, pod: Pod): string | undefined {
  const req = rule.onExitCodes;
  if (req === undefined) return undefined;
  const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
  for (const cs of statuses) {
    if (req.containerName !== undefined && req.containerName !== cs.name) continue;
    const code = cs.state?.terminated?.exitCode;
    // containers that exited 0 are excluded from the check, as upstream
    if (code === undefined || code === 0) continue;
    const inValues = req.values.includes(code);
    if (req.operator === 'In' ? inValues : !inValues) return `Container ${cs.name} for pod ${pod.metadata.namespace ?? ''}/${pod.metadata.name ?? ''} failed with exit code ${code}`;
  }
  return undefined;
}

function conditionMatch(rule: PodFailurePolicyRule, pod: Pod): string | undefined {
  for (const pattern of rule.onPodConditions ?? []) {
    const cond = pod.status?.conditions?.find((c) => c.type === pattern.type);
    if (cond !== undefined && cond.status === (pattern.status ?? 'True')) return `Pod ${pod.metadata.namespace ?? ''}/${pod.metadata.name ?? ''} has condition ${pattern.type}`;
  }
  return undefined;
}

/** The first podFailurePolicy rule matching a Failed pod (upstream matchPodFailurePolicy), or undefined. */
export function matchPodFailurePolicy(job: Job, pod: Pod): PolicyMatch | undefined {
  const rules = job.spec.podFailurePolicy?.rules ?? [];
  if (pod.status?.phase !== 'Failed') return undefined;
  for (let i = 0; i < rules.length; i++) {
    const rule = rules[i] as PodFailurePolicyRule;
    const what = exitCodeMatch(rule, pod) ?? conditionMatch(rule, pod);
    if (what === undefined) continue;
    const action = rule.action;
    const message = action === 'FailJob' || action === 'FailIndex' ? `${what} matching ${action} rule at index ${i}` : what;
    return { action, message };
  }
  return undefined;
}

// ---- step 1: newly finished pods --------------------------------------------------------------

export interface FinishedPods {
  /** Uids to add to uncountedTerminatedPods.succeeded / .failed. */
  readonly succeeded: readonly string[];
  readonly failed: readonly string[];
  /** Finished pods whose finalizer goes without counting them (ignored by policy, duplicate or invalid index). */
  readonly uncountable: readonly Pod[];
  /** Indexes newly completed (Indexed Jobs). */
  readonly completedIndexes: readonly number[];
  /** Indexes newly failed for good (backoffLimitPerIndex). */
  readonly failedIndexes: readonly number[];
  /** A FailJob rule matched. */
  readonly failJob?: Verdict;
}

function uncountedUids(job: Job): Set<string> {
  const u = job.status?.uncountedTerminatedPods;
  return new Set([...(u?.succeeded ?? []), ...(u?.failed ?? [])]);
}

/**
 * The finished pods that still carry the finalizer and are not yet in uncountedTerminatedPods
 * (upstream trackJobStatusAndRemoveFinalizers' first half).
 */
export function newlyFinished(job: Job, pods: readonly Pod[]): FinishedPods {
  const known = uncountedUids(job);
  const completions = job.spec.completions ?? 0;
  const indexed = isIndexed(job);
  const perIndex = job.spec.backoffLimitPerIndex;
  const completed = indexed ? parseIndexes(job.status?.completedIndexes, completions) : new Set<number>();
  const failedIdx = indexed ? parseIndexes(job.status?.failedIndexes, completions) : new Set<number>();
  const succeeded: string[] = [];
  const failed: string[] = [];
  const uncountable: Pod[] = [];
  const newCompleted: number[] = [];
  const newFailed: number[] = [];
  let failJob: Verdict | undefined;
  // once the Job met its success criteria or is failing already, a FailJob rule decides nothing (upstream)
  const decided = isTrue(job.status, 'SuccessCriteriaMet') || isTrue(job.status, 'FailureTarget');
  for (const pod of pods) {
    const uid = pod.metadata.uid ?? '';
    if (!hasTrackingFinalizer(pod) || known.has(uid) || !isPodFinished(pod, job)) continue;
    const index = indexed ? completionIndex(pod) : undefined;
    if (pod.status?.phase === 'Succeeded') {
      if (!indexed) succeeded.push(uid);
      else if (index !== undefined && index < completions && !completed.has(index) && !failedIdx.has(index)) {
        completed.add(index);
        newCompleted.push(index);
        succeeded.push(uid);
      } else uncountable.push(pod);
      continue;
    }
    const match = matchPodFailurePolicy(job, pod);
    if (match?.action === 'Ignore' || (indexed && (index === undefined || index >= completions))) {
      // ignored by the policy, or a pod of no valid index: its finalizer goes, nothing is counted
      uncountable.push(pod);
      continue;
    }
    failed.push(uid);
    if (match?.action === 'FailJob' && failJob === undefined && !decided) failJob = { reason: 'PodFailurePolicy', message: match.message };
    if (indexed && perIndex !== undefined && index !== undefined && index < completions && !completed.has(index) && !failedIdx.has(index)) {
      if (match?.action === 'FailIndex' || indexFailureCount(pod) + 1 > perIndex) {
        failedIdx.add(index);
        newFailed.push(index);
      }
    }
  }
  return { succeeded, failed, uncountable, completedIndexes: newCompleted, failedIndexes: newFailed, ...(failJob !== undefined ? { failJob } : {}) };
}

export function hasNewlyFinished(f: FinishedPods): boolean {
  return f.succeeded.length + f.failed.length + f.completedIndexes.length + f.failedIndexes.length > 0 || f.failJob !== undefined;
}

/** The status with step 1 recorded (uncounted uids, new indexes, FailureTarget for a FailJob match). */
export function withUncounted(job: Job, f: FinishedPods, now: Date): JobStatus {
  const status: Mutable<JobStatus> = { ...(job.status ?? {}) };
  const u = status.uncountedTerminatedPods;
  status.uncountedTerminatedPods = {
    succeeded: [...(u?.succeeded ?? []), ...f.succeeded],
    failed: [...(u?.failed ?? []), ...f.failed],
  };
  const completions = job.spec.completions ?? 0;
  if (f.completedIndexes.length > 0) status.completedIndexes = formatIndexes([...parseIndexes(status.completedIndexes, completions), ...f.completedIndexes]);
  if (f.failedIndexes.length > 0) status.failedIndexes = formatIndexes([...parseIndexes(status.failedIndexes, completions), ...f.failedIndexes]);
  if (f.failJob !== undefined && !isTrue(status, 'FailureTarget') && !isTrue(status, 'SuccessCriteriaMet')) {
    status.conditions = setCondition(status.conditions, 'FailureTarget', 'True', f.failJob, now);
  }
  return status;
}

// ---- step 3: counting ------------------------------------------------------------------------

/**
 * Moves the uncounted uids whose pod no longer carries the finalizer into the counters. `tracked` are
 * the uids of the Job's pods that still carry it (their finalizer removal failed or is pending).
 */
export function countUncounted(job: Job, tracked: ReadonlySet<string>): JobStatus {
  const status: Mutable<JobStatus> = { ...(job.status ?? {}) };
  const u = status.uncountedTerminatedPods;
  const keepS = (u?.succeeded ?? []).filter((uid) => tracked.has(uid));
  const keepF = (u?.failed ?? []).filter((uid) => tracked.has(uid));
  const doneS = (u?.succeeded?.length ?? 0) - keepS.length;
  const doneF = (u?.failed?.length ?? 0) - keepF.length;
  if (isIndexed(job)) status.succeeded = parseIndexes(status.completedIndexes, job.spec.completions ?? 0).size;
  else if (doneS > 0) status.succeeded = (status.succeeded ?? 0) + doneS;
  if (doneF > 0) status.failed = (status.failed ?? 0) + doneF;
  status.uncountedTerminatedPods = { ...(keepS.length > 0 ? { succeeded: keepS } : {}), ...(keepF.length > 0 ? { failed: keepF } : {}) };
  return status;
}

// ---- conditions ------------------------------------------------------------------------------

export function findCondition(status: JobStatus | undefined, type: string): JobCondition | undefined {
  return status?.conditions?.find((c) => c.type === type);
}

export function isTrue(status: JobStatus | undefined, type: string): boolean {
  return findCondition(status, type)?.status === 'True';
}

/** Sets a condition, keeping its lastTransitionTime when the status does not change. */
export function setCondition(conditions: readonly JobCondition[] | undefined, type: JobCondition['type'], status: 'True' | 'False', v: Verdict, now: Date): JobCondition[] {
  const list = [...(conditions ?? [])];
  const i = list.findIndex((c) => c.type === type);
  const t = rfc3339(now);
  const prev = i >= 0 ? list[i] : undefined;
  const next: JobCondition = {
    type,
    status,
    reason: v.reason,
    message: v.message,
    lastProbeTime: t,
    lastTransitionTime: prev !== undefined && prev.status === status ? (prev.lastTransitionTime ?? t) : t,
  };
  if (prev !== undefined && prev.status === status && prev.reason === v.reason && prev.message === v.message) return list;
  if (i >= 0) list[i] = next;
  else list.push(next);
  return list;
}

// ---- step 4: what to do -----------------------------------------------------------------------

export interface BackoffRecord {
  /** Failed pods counted since the last succeeded one. */
  readonly failuresAfterLastSuccess: number;
  /** When the last of them was counted (ms since the epoch). */
  readonly lastFailureMs: number;
}

export const NO_BACKOFF: BackoffRecord = { failuresAfterLastSuccess: 0, lastFailureMs: 0 };

/** The record after counting `f` at `now` (upstream's podBackoffStore). */
export function nextBackoff(prev: BackoffRecord, f: Pick<FinishedPods, 'succeeded' | 'failed'>, nowMs: number): BackoffRecord {
  if (f.succeeded.length > 0) return f.failed.length > 0 ? { failuresAfterLastSuccess: f.failed.length, lastFailureMs: nowMs } : NO_BACKOFF;
  if (f.failed.length === 0) return prev;
  return { failuresAfterLastSuccess: prev.failuresAfterLastSuccess + f.failed.length, lastFailureMs: nowMs };
}

/** How long to wait before creating pods again: 10 s doubling per failure, at most 6 min; 0 when due. */
export function backoffRemainingMs(b: BackoffRecord, nowMs: number): number {
  if (b.failuresAfterLastSuccess <= 0) return 0;
  const delay = Math.min(POD_FAILURE_BACKOFF_MS * 2 ** (b.failuresAfterLastSuccess - 1), MAX_POD_FAILURE_BACKOFF_MS);
  return Math.max(0, b.lastFailureMs + delay - nowMs);
}

export interface JobDecision {
  /** The status to write (counts of active/ready/terminating, conditions, times). */
  readonly status: JobStatus;
  /** Pods to create: their completion indexes for Indexed Jobs, else `undefined` per pod. */
  readonly create: readonly (number | undefined)[];
  readonly delete: readonly Pod[];
  /**
   * Remove the tracking finalizer before deleting (upstream deleteJobPods): pods deleted because of
   * suspension, lower parallelism, surplus indexes or success are not failures. Only a failing Job's
   * deleted pods count as failed (upstream deleteActivePods).
   */
  readonly releaseBeforeDelete: boolean;
  /** Look again after this long (deadline, back-off), if set. */
  readonly requeueAfterMs?: number;
  /** Events to record (reason, message, type). */
  readonly events: readonly { readonly type: 'Normal' | 'Warning'; readonly reason: string; readonly message: string }[];
}

/** Upstream pastBackoffLimitOnFailure: restarts of the active pods' containers count as failures. */
function pastBackoffLimitOnFailure(job: Job, active: readonly Pod[]): boolean {
  if (job.spec.template.spec.restartPolicy !== 'OnFailure') return false;
  let restarts = 0;
  for (const p of active) {
    for (const cs of [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])]) restarts += cs.restartCount ?? 0;
  }
  const limit = job.spec.backoffLimit ?? 6;
  return limit === 0 ? restarts > 0 : restarts >= limit;
}

/** The first successPolicy rule met by the completed indexes (upstream matchSuccessPolicy). */
export function matchSuccessPolicy(job: Job, completed: ReadonlySet<number>): Verdict | undefined {
  const rules = job.spec.successPolicy?.rules ?? [];
  const completions = job.spec.completions ?? 0;
  for (let i = 0; i < rules.length; i++) {
    const rule = rules[i];
    if (rule === undefined) continue;
    let have: number;
    let need: number;
    if (rule.succeededIndexes !== undefined) {
      const wanted = parseIndexes(rule.succeededIndexes, completions);
      have = [...wanted].filter((x) => completed.has(x)).length;
      need = rule.succeededCount ?? wanted.size;
    } else {
      have = completed.size;
      need = rule.succeededCount ?? completions;
    }
    if (have >= need) return { reason: 'SuccessPolicy', message: `Matched rules at index ${i}` };
  }
  return undefined;
}

/**
 * Everything after counting: given the Job (status with counts), its pods, the time and the failure
 * back-off, what to create and delete and the status to write. `manage` is false while earlier creates
 * or deletes are still unobserved (expectations): then nothing is created or deleted.
 */
export function planJob(job: Job, pods: readonly Pod[], now: Date, backoff: BackoffRecord, manage: boolean): JobDecision {
  const nowMs = now.getTime();
  const status: Mutable<JobStatus> = { ...(job.status ?? {}) };
  const events: Mutable<JobDecision['events']>[number][] = [];
  const active = pods.filter(isPodActive);
  const terminating = pods.filter(isPodTerminating).length;
  const indexed = isIndexed(job);
  const completions = job.spec.completions;
  const parallelism = job.spec.parallelism ?? 1;
  const suspended = job.spec.suspend === true;
  const uncounted = (status.uncountedTerminatedPods?.succeeded?.length ?? 0) + (status.uncountedTerminatedPods?.failed?.length ?? 0);
  const completedSet = indexed ? parseIndexes(status.completedIndexes, completions ?? 0) : new Set<number>();
  const failedSet = indexed ? parseIndexes(status.failedIndexes, completions ?? 0) : new Set<number>();
  const succeeded = indexed ? completedSet.size : (status.succeeded ?? 0) + (status.uncountedTerminatedPods?.succeeded?.length ?? 0);
  const failed = (status.failed ?? 0) + (status.uncountedTerminatedPods?.failed?.length ?? 0);
  let requeue: number | undefined;
  const after = (ms: number): void => {
    if (ms > 0) requeue = requeue === undefined ? ms : Math.min(requeue, ms);
  };
  const toDelete: Pod[] = [];
  const create: (number | undefined)[] = [];

  // suspension and resumption
  const wasSuspended = isTrue(status, 'Suspended');
  if (suspended && !wasSuspended) {
    status.conditions = setCondition(status.conditions, 'Suspended', 'True', { reason: 'JobSuspended', message: 'Job suspended' }, now);
    events.push({ type: 'Normal', reason: 'Suspended', message: 'Job suspended' });
  } else if (!suspended && wasSuspended) {
    status.conditions = setCondition(status.conditions, 'Suspended', 'False', { reason: 'JobResumed', message: 'Job resumed' }, now);
    events.push({ type: 'Normal', reason: 'Resumed', message: 'Job resumed' });
  }
  // a suspended Job has no startTime (upstream: the deadline counts from the resumption)
  if (suspended) delete status.startTime;
  else if (status.startTime === undefined) status.startTime = rfc3339(now);

  // failure: an earlier verdict, or one now
  let failure: Verdict | undefined = findCondition(status, 'FailureTarget')?.status === 'True' ? verdictOf(findCondition(status, 'FailureTarget')) : undefined;
  let success: Verdict | undefined = isTrue(status, 'SuccessCriteriaMet') ? verdictOf(findCondition(status, 'SuccessCriteriaMet')) : undefined;
  if (failure === undefined && success === undefined) {
    const perIndex = job.spec.backoffLimitPerIndex !== undefined;
    const backoffLimit = job.spec.backoffLimit ?? (perIndex ? MAX_INT32 : 6);
    // (with backoffLimitPerIndex the global limit still holds; its default is then MaxInt32)
    if (failed > backoffLimit || (!perIndex && pastBackoffLimitOnFailure(job, active))) failure = BACKOFF_LIMIT_EXCEEDED;
    else if (perIndex && job.spec.maxFailedIndexes !== undefined && failedSet.size > job.spec.maxFailedIndexes) failure = MAX_FAILED_INDEXES_EXCEEDED;
    else if (!suspended && job.spec.activeDeadlineSeconds !== undefined && status.startTime !== undefined) {
      const left = Date.parse(status.startTime) + job.spec.activeDeadlineSeconds * 1000 - nowMs;
      if (left <= 0) failure = DEADLINE_EXCEEDED;
      else after(left);
    }
    if (failure === undefined) {
      if (indexed) {
        const total = completions ?? 0;
        const policy = matchSuccessPolicy(job, completedSet);
        if (policy !== undefined) success = policy;
        else if (completedSet.size + failedSet.size >= total) {
          if (failedSet.size > 0) failure = FAILED_INDEXES;
          else success = COMPLETIONS_REACHED;
        }
      } else if (completions !== undefined) {
        if (succeeded >= completions) success = COMPLETIONS_REACHED;
      } else if (succeeded > 0 && active.length === 0) {
        success = COMPLETIONS_REACHED;
      }
    }
    if (failure !== undefined) {
      status.conditions = setCondition(status.conditions, 'FailureTarget', 'True', failure, now);
    } else if (success !== undefined) {
      status.conditions = setCondition(status.conditions, 'SuccessCriteriaMet', 'True', success, now);
    }
  }

  if (failure !== undefined || success !== undefined || suspended) {
    // nothing runs any more: delete what still does (a Job without completions lets its pods finish)
    // (a Job without completions only succeeds once none of its pods runs any more)
    if (manage) toDelete.push(...active.slice(0, MAX_CREATE_DELETE_PER_SYNC));
    if (active.length === 0 && terminating === 0 && uncounted === 0 && toDelete.length === 0) {
      // a finished Job has a startTime (the API requires it), also one that ends while suspended
      if ((failure !== undefined || success !== undefined) && status.startTime === undefined) status.startTime = rfc3339(now);
      if (failure !== undefined) {
        status.conditions = setCondition(status.conditions, 'Failed', 'True', failure, now);
        events.push({ type: 'Warning', reason: failure.reason, message: failure.message });
      } else if (success !== undefined) {
        status.conditions = setCondition(status.conditions, 'Complete', 'True', success, now);
        status.completionTime = rfc3339(now);
        events.push({ type: 'Normal', reason: 'Completed', message: 'Job completed' });
      }
    }
  } else if (manage) {
    const budget = MAX_CREATE_DELETE_PER_SYNC;
    if (indexed) {
      const total = completions ?? 0;
      const seen = new Set<number>();
      // replacing only Failed pods: an index whose pod still terminates is not missing yet
      const waiting = new Set<number>();
      if (onlyReplaceFailed(job)) {
        for (const p of pods) {
          const i = isPodTerminating(p) ? completionIndex(p) : undefined;
          if (i !== undefined) waiting.add(i);
        }
      }
      const keep: Pod[] = [];
      // newest first, so the oldest pod of a duplicated index stays
      const byAge = [...active].sort((a, b) => (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? ''));
      for (const p of byAge) {
        const i = completionIndex(p);
        if (i === undefined || i >= total || completedSet.has(i) || failedSet.has(i) || seen.has(i)) toDelete.push(p);
        else {
          seen.add(i);
          keep.push(p);
        }
      }
      let room = parallelism - keep.length - waiting.size;
      if (parallelism - keep.length < 0) toDelete.push(...podsToDelete(keep, [], keep.length - parallelism, now));
      const wait = backoffRemainingMs(backoff, nowMs);
      if (room > 0 && wait > 0) {
        after(wait);
        room = 0;
      }
      for (let i = 0; i < total && room > 0 && create.length < budget; i++) {
        if (completedSet.has(i) || failedSet.has(i) || seen.has(i) || waiting.has(i)) continue;
        create.push(i);
        room--;
      }
    } else {
      let want = parallelism;
      if (completions !== undefined) want = Math.min(want, Math.max(0, completions - succeeded));
      else if (succeeded > 0) want = active.length; // one pod succeeded: no new pods, the others finish
      // replacing only Failed pods: those still terminating take their place until then
      const diff = want - active.length - (onlyReplaceFailed(job) ? terminating : 0);
      if (diff < 0) toDelete.push(...podsToDelete(active, [], Math.min(-diff, budget), now));
      else if (diff > 0) {
        const wait = backoffRemainingMs(backoff, nowMs);
        if (wait > 0) after(wait);
        else for (let k = 0; k < Math.min(diff, budget); k++) create.push(undefined);
      }
    }
  }

  const deleting = new Set(toDelete.map((p) => p.metadata.uid));
  const stillActive = active.filter((p) => !deleting.has(p.metadata.uid));
  status.active = stillActive.length + create.length;
  status.ready = stillActive.filter(isPodReady).length;
  status.terminating = terminating + toDelete.length;
  status.succeeded = indexed ? completedSet.size : (status.succeeded ?? 0);
  status.failed = status.failed ?? 0;
  if (indexed && job.spec.backoffLimitPerIndex !== undefined && status.failedIndexes === undefined) status.failedIndexes = '';
  return { status, create, delete: toDelete, releaseBeforeDelete: failure === undefined, events, ...(requeue !== undefined ? { requeueAfterMs: requeue } : {}) };
}

function verdictOf(c: JobCondition | undefined): Verdict {
  return { reason: c?.reason ?? '', message: c?.message ?? '' };
}

/** Zero numbers and empty strings of a status mean "nothing", as upstream's omitempty fields. */
function prune(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(prune);
  if (typeof v !== 'object' || v === null) return v === 0 || v === '' ? undefined : v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    const p = prune(x);
    if (p !== undefined) out[k] = p;
  }
  return out;
}

/** True when `next` differs from the Job's stored status (key order and zero values aside). */
export function jobStatusChanged(job: Job, next: JobStatus): boolean {
  return !semanticEqual(prune(job.status ?? {}), prune(next));
}

// ---- pods from the template ---------------------------------------------------------------------

/**
 * A pod for the Job (upstream's podTemplate + controller ref + tracking finalizer); for Indexed Jobs
 * with its index in an annotation and a label, `JOB_COMPLETION_INDEX` in every container's environment,
 * the hostname `<job>-<index>` (unless the template sets one), and the previous failures of its index
 * (backoffLimitPerIndex).
 */
export function jobPodFromTemplate(job: Job, index: number | undefined, indexFailures = 0): Pod {
  const t = job.spec.template;
  const m = t.metadata ?? {};
  const name = job.metadata.name ?? '';
  const annotations: Record<string, string> = { ...(m.annotations ?? {}) };
  const labels: Record<string, string> = { ...(m.labels ?? {}) };
  let spec = t.spec;
  if (index !== undefined) {
    annotations[COMPLETION_INDEX_KEY] = String(index);
    labels[COMPLETION_INDEX_KEY] = String(index);
    if (job.spec.backoffLimitPerIndex !== undefined) annotations[INDEX_FAILURE_COUNT_KEY] = String(indexFailures);
    const env: EnvVar = { name: JOB_COMPLETION_INDEX_ENV, valueFrom: { fieldRef: { fieldPath: `metadata.annotations['${COMPLETION_INDEX_KEY}']` } } };
    const withEnv = <C extends { env?: readonly EnvVar[] }>(c: C): C => ({ ...c, env: [...(c.env ?? []).filter((e) => e.name !== JOB_COMPLETION_INDEX_ENV), env] });
    spec = {
      ...spec,
      containers: spec.containers.map(withEnv),
      ...(spec.initContainers !== undefined ? { initContainers: spec.initContainers.map(withEnv) } : {}),
      ...(spec.hostname === undefined || spec.hostname === '' ? { hostname: `${name}-${index}` } : {}),
    };
  }
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      generateName: index !== undefined ? `${name}-${index}-` : `${name}-`,
      ...(job.metadata.namespace !== undefined ? { namespace: job.metadata.namespace } : {}),
      labels,
      ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
      finalizers: [...(m.finalizers ?? []).filter((f) => f !== JOB_TRACKING_FINALIZER), JOB_TRACKING_FINALIZER],
      ownerReferences: [controllerRefTo(job, JOB_REF.apiVersion, JOB_REF.kind)],
    },
    spec,
  };
}

/** How often the index has failed so far: its newest failed pod's count + 1 (backoffLimitPerIndex). */
export function indexFailuresSoFar(job: Job, pods: readonly Pod[], index: number): number {
  let best: Pod | undefined;
  for (const p of pods) {
    if (completionIndex(p) !== index || !isPodFailed(p, job)) continue;
    if (best === undefined || (p.metadata.creationTimestamp ?? '') > (best.metadata.creationTimestamp ?? '')) best = p;
  }
  if (best === undefined) return 0;
  // a failure the podFailurePolicy ignores does not count against the index (upstream keeps those apart)
  return indexFailureCount(best) + (matchPodFailurePolicy(job, best)?.action === 'Ignore' ? 0 : 1);
}
