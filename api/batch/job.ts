/**
 * batch/v1 Job: pods run to completion, retried up to a limit. Types, schema, defaults and validation as
 * upstream (k8s.io/api/batch/v1, pkg/apis/batch/v1/defaults.go, pkg/apis/batch/validation,
 * pkg/registry/batch/job/strategy.go); the job controller fills in `status`.
 *
 * Defaults: completions and parallelism 1 when both are unset, parallelism 1 otherwise; backoffLimit 6
 * (2147483647 with backoffLimitPerIndex); completionMode NonIndexed; suspend false; podReplacementPolicy
 * TerminatingOrFailed (Failed with a podFailurePolicy); onPodConditions status True; the pod template's
 * own defaults; the Job's labels from the template's when it has none.
 * Generated selector: unless spec.manualSelector is true, the template gets the labels
 * batch.kubernetes.io/controller-uid, batch.kubernetes.io/job-name, controller-uid and job-name (those
 * already there are kept) and spec.selector.matchLabels gets batch.kubernetes.io/controller-uid. Upstream
 * does this in its create strategy; here it is part of `default`, which the registry runs after it has set
 * metadata.uid, so it needs the uid: without one nothing is generated. On objects that already carry the
 * generated labels (every later update) it changes nothing.
 *
 * Update rules: selector, completionMode, podFailurePolicy, successPolicy, backoffLimitPerIndex and
 * managedBy are immutable; completions too except for Indexed Jobs changing completions and parallelism
 * together (elastic Indexed Jobs); the template is immutable except, while the Job is suspended and has
 * never started, its node selector, node affinity, tolerations, scheduling gates, labels and annotations.
 * Status checks are upstream's (with its JobManagedBy feature on): counters never negative, failed (and
 * succeeded, but for elastic Indexed Jobs) never decrease, terminal conditions stay, finished Jobs have a
 * startTime and no active, terminating or uncounted pods, completionTime only with Complete and never
 * before startTime or changed, index lists well-formed.
 * Deviations: upstream's TooMany errors are Invalid ones with the same `must have at most N items` detail; spec errors
 * are reported once on update (upstream repeats them).
 */
import type { KindDefinition } from '../kind.js';
import type { FieldError } from '../field-errors.js';
import { FieldPath, duplicate, invalid, notSupported, required } from '../field-errors.js';
import type { KubeObject, LabelSelector, Mutable, ObjectMeta } from '../meta.js';
import { labelSelectorSchema, objectMetaSchema, typeMetaFields } from '../meta-schema.js';
import { arrayOf, bool, int, listByKey, obj, str, time } from '../schema.js';
import type { ObjectSchema } from '../schema.js';
import type { Affinity, PodSpec, PodTemplateSpec } from '../core/pod.js';
import { defaultPodTemplateSpec, podTemplateSpecSchema, validatePodTemplateSpec } from '../core/pod.js';
import { semanticEqual } from '../core/semantic.js';
import { matches, validateLabelSelector } from '../labels.js';
import { isDNS1123Label, isDNS1123Subdomain, isQualifiedName, regexError } from '../names.js';
import { validateNonnegativeField, validateObjectMeta, validateObjectMetaUpdate } from '../validate-meta.js';
import { paths, selectorOrUndefined, validateImmutable } from '../apps/common.js';

// ---------------------------------------------------------------------------------------------
// Well-known names

/** Pod-template labels of a generated selector, and the selector key (upstream batch/v1 constants). */
export const JOB_NAME_LABEL = 'batch.kubernetes.io/job-name';
export const CONTROLLER_UID_LABEL = 'batch.kubernetes.io/controller-uid';
/** The unprefixed spellings, still set and still required on generated selectors. */
export const LEGACY_JOB_NAME_LABEL = 'job-name';
export const LEGACY_CONTROLLER_UID_LABEL = 'controller-uid';
/** An Indexed Job's pod index, set on its pods as an annotation (and, since upstream 1.28, a label). */
export const JOB_COMPLETION_INDEX_ANNOTATION = 'batch.kubernetes.io/job-completion-index';
/** Failures of an index so far (backoffLimitPerIndex), on the index's replacement pods. */
export const JOB_INDEX_FAILURE_COUNT_ANNOTATION = 'batch.kubernetes.io/job-index-failure-count';
export const JOB_INDEX_IGNORED_FAILURE_COUNT_ANNOTATION = 'batch.kubernetes.io/job-index-ignored-failure-count';
/** The finalizer the job controller puts on its pods until it has counted them. */
export const JOB_TRACKING_FINALIZER = 'batch.kubernetes.io/job-tracking';
/** spec.managedBy value of Jobs the built-in job controller handles (as an absent managedBy). */
export const JOB_CONTROLLER_NAME = 'kubernetes.io/job-controller';
/** backoffLimit's default when backoffLimitPerIndex is set (Go's MaxInt32). */
export const MAX_INT32 = 2_147_483_647;

// ---------------------------------------------------------------------------------------------
// Types

export type CompletionMode = 'NonIndexed' | 'Indexed';
export const COMPLETION_MODES: readonly CompletionMode[] = ['NonIndexed', 'Indexed'];

export type PodReplacementPolicy = 'TerminatingOrFailed' | 'Failed';
/** Sorted, as upstream lists them in errors. */
export const POD_REPLACEMENT_POLICIES: readonly PodReplacementPolicy[] = ['Failed', 'TerminatingOrFailed'];

export type PodFailurePolicyAction = 'FailJob' | 'FailIndex' | 'Ignore' | 'Count';
/** Sorted, as upstream lists them in errors. */
export const POD_FAILURE_POLICY_ACTIONS: readonly PodFailurePolicyAction[] = ['Count', 'FailIndex', 'FailJob', 'Ignore'];

export type PodFailurePolicyOnExitCodesOperator = 'In' | 'NotIn';
export const ON_EXIT_CODES_OPERATORS: readonly PodFailurePolicyOnExitCodesOperator[] = ['In', 'NotIn'];

export interface PodFailurePolicyOnExitCodesRequirement {
  /** Only this container's (or init container's) exit code counts; all containers when absent. */
  readonly containerName?: string;
  readonly operator: PodFailurePolicyOnExitCodesOperator;
  /** Sorted, no duplicates, 1 to 255 values; 0 not allowed with In. */
  readonly values: readonly number[];
}

export interface PodFailurePolicyOnPodConditionsPattern {
  readonly type: string;
  /** Defaults to True. */
  readonly status?: 'True' | 'False' | 'Unknown';
}

export interface PodFailurePolicyRule {
  readonly action: PodFailurePolicyAction;
  readonly onExitCodes?: PodFailurePolicyOnExitCodesRequirement;
  readonly onPodConditions?: readonly PodFailurePolicyOnPodConditionsPattern[];
}

export interface PodFailurePolicy {
  /** Evaluated in order; the first rule matching a pod failure decides. At most 20. */
  readonly rules: readonly PodFailurePolicyRule[];
}

export interface SuccessPolicyRule {
  /** Indexes as `1,3-5,7`; all of those in this set must have succeeded. */
  readonly succeededIndexes?: string;
  /** How many indexes (of succeededIndexes, when given) must have succeeded. */
  readonly succeededCount?: number;
}

export interface SuccessPolicy {
  readonly rules: readonly SuccessPolicyRule[];
}

/** A Job's pod template: stored Jobs always have one with a spec (defaulting fills it in). */
export interface JobPodTemplateSpec extends PodTemplateSpec {
  readonly spec: PodSpec;
}

export interface JobSpec {
  readonly parallelism?: number;
  readonly completions?: number;
  readonly activeDeadlineSeconds?: number;
  readonly podFailurePolicy?: PodFailurePolicy;
  readonly successPolicy?: SuccessPolicy;
  readonly backoffLimit?: number;
  readonly backoffLimitPerIndex?: number;
  readonly maxFailedIndexes?: number;
  readonly selector?: LabelSelector;
  readonly manualSelector?: boolean;
  readonly template: JobPodTemplateSpec;
  readonly ttlSecondsAfterFinished?: number;
  readonly completionMode?: CompletionMode;
  readonly suspend?: boolean;
  readonly podReplacementPolicy?: PodReplacementPolicy;
  /** Another controller than the built-in one handles this Job (a domain-prefixed path); immutable. */
  readonly managedBy?: string;
}

export type JobConditionType = 'Complete' | 'Failed' | 'Suspended' | 'FailureTarget' | 'SuccessCriteriaMet';

export interface JobCondition {
  readonly type: JobConditionType;
  readonly status: 'True' | 'False' | 'Unknown';
  readonly lastProbeTime?: string;
  readonly lastTransitionTime?: string;
  readonly reason?: string;
  readonly message?: string;
}

export interface UncountedTerminatedPods {
  /** UIDs of succeeded pods not yet counted in status.succeeded. */
  readonly succeeded?: readonly string[];
  /** UIDs of failed pods not yet counted in status.failed. */
  readonly failed?: readonly string[];
}

export interface JobStatus {
  readonly conditions?: readonly JobCondition[];
  readonly startTime?: string;
  readonly completionTime?: string;
  readonly active?: number;
  readonly succeeded?: number;
  readonly failed?: number;
  readonly terminating?: number;
  readonly completedIndexes?: string;
  readonly failedIndexes?: string;
  readonly uncountedTerminatedPods?: UncountedTerminatedPods;
  readonly ready?: number;
}

export interface Job extends KubeObject {
  readonly metadata: ObjectMeta;
  readonly spec: JobSpec;
  readonly status?: JobStatus;
}

/** True when `conditions` has a condition of `type` with status True (upstream IsConditionTrue). */
export function jobConditionTrue(conditions: readonly JobCondition[] | undefined, type: JobConditionType): boolean {
  return (conditions ?? []).some((c) => c.type === type && c.status === 'True');
}

/** Complete=True or Failed=True (upstream IsJobFinished). */
export function isJobFinished(job: Pick<Job, 'status'>): boolean {
  const c = job.status?.conditions;
  return jobConditionTrue(c, 'Complete') || jobConditionTrue(c, 'Failed');
}

// ---------------------------------------------------------------------------------------------
// Schema

const onExitCodesSchema: ObjectSchema = obj(
  {
    containerName: str('Restricts the check for exit codes to the container with this name.'),
    operator: { type: 'string', enum: ['In', 'NotIn'], description: 'Relationship between the exit codes and the values.' },
    values: arrayOf(int(), { description: 'Exit codes, ordered, without duplicates.' }),
  },
  { required: ['operator', 'values'] },
);

const onPodConditionsPatternSchema: ObjectSchema = obj(
  { type: str('Pod condition type to match.'), status: str('Pod condition status to match; defaults to True.') },
  { required: ['type'] },
);

const podFailurePolicyRuleSchema: ObjectSchema = obj(
  {
    action: { type: 'string', enum: ['Count', 'FailIndex', 'FailJob', 'Ignore'], description: 'What to do when the rule matches a failed pod.' },
    onExitCodes: onExitCodesSchema,
    onPodConditions: arrayOf(onPodConditionsPatternSchema),
  },
  { required: ['action'] },
);

export const podFailurePolicySchema: ObjectSchema = obj({ rules: arrayOf(podFailurePolicyRuleSchema) }, { required: ['rules'] });

export const successPolicySchema: ObjectSchema = obj(
  { rules: arrayOf(obj({ succeededIndexes: str('Indexes that must succeed, as `1,3-5,7`.'), succeededCount: int('How many indexes must succeed.') })) },
  { required: ['rules'] },
);

export const jobSpecSchema: ObjectSchema = obj(
  {
    parallelism: int('Maximum number of pods running at any time.'),
    completions: int('Number of successfully finished pods the job needs.'),
    activeDeadlineSeconds: int('Seconds the job may be active before it is terminated.'),
    podFailurePolicy: podFailurePolicySchema,
    successPolicy: successPolicySchema,
    backoffLimit: int('Number of retries before the job is marked failed. Defaults to 6.'),
    backoffLimitPerIndex: int('Retries within an index before the index is marked failed (Indexed Jobs).'),
    maxFailedIndexes: int('Failed indexes after which the whole job is marked failed.'),
    selector: labelSelectorSchema,
    manualSelector: bool('When true, the user picks the selector and pod labels instead of the system.'),
    template: podTemplateSpecSchema,
    ttlSecondsAfterFinished: int('Seconds after the job finishes before it may be deleted automatically.'),
    completionMode: { type: 'string', enum: ['Indexed', 'NonIndexed'], description: 'How pod completions are tracked.' },
    suspend: bool('Whether the job controller should create pods.'),
    podReplacementPolicy: { type: 'string', enum: ['Failed', 'TerminatingOrFailed'], description: 'When to create replacement pods.' },
    managedBy: str('The controller that manages the job; the built-in one when absent.'),
  },
  { required: ['template'] },
);

const jobConditionSchema: ObjectSchema = obj(
  { type: str(), status: str(), lastProbeTime: time(), lastTransitionTime: time(), reason: str(), message: str() },
  { required: ['type', 'status'] },
);

export const jobStatusSchema: ObjectSchema = obj({
  conditions: listByKey(jobConditionSchema, 'type'),
  startTime: time('When the job controller started processing the job.'),
  completionTime: time('When the job completed.'),
  active: int('Number of pending and running pods which are not terminating.'),
  succeeded: int('Number of pods which reached phase Succeeded.'),
  failed: int('Number of pods which reached phase Failed.'),
  terminating: int('Number of terminating pods.'),
  completedIndexes: str('Completed indexes of an Indexed Job, as `1,3-5,7`.'),
  failedIndexes: str('Failed indexes when backoffLimitPerIndex is set, as `1,3-5,7`.'),
  uncountedTerminatedPods: obj({ succeeded: arrayOf(str()), failed: arrayOf(str()) }),
  ready: int('Number of active pods with a Ready condition.'),
});

export const jobSchema: ObjectSchema = obj({
  ...typeMetaFields,
  metadata: objectMetaSchema,
  spec: jobSpecSchema,
  status: jobStatusSchema,
});

// ---------------------------------------------------------------------------------------------
// Defaults

/**
 * The defaults a Job spec gets wherever it appears, CronJob job templates included: the pod template's
 * and onPodConditions status True.
 */
export function defaultJobSpecTemplateFields(spec: JobSpec): JobSpec {
  const template = defaultPodTemplateSpec(spec.template ?? ({} as PodTemplateSpec)) as JobPodTemplateSpec;
  const out: Mutable<JobSpec> = { ...spec, template };
  if (spec.podFailurePolicy !== undefined) {
    out.podFailurePolicy = {
      ...spec.podFailurePolicy,
      rules: (spec.podFailurePolicy.rules ?? []).map((r) =>
        r.onPodConditions === undefined ? r : { ...r, onPodConditions: r.onPodConditions.map((p) => ({ ...p, status: p.status || 'True' })) },
      ),
    };
  }
  return out;
}

/** upstream SetDefaults_Job on the spec. */
export function defaultJobSpec(spec: JobSpec): JobSpec {
  const out: Mutable<JobSpec> = { ...defaultJobSpecTemplateFields(spec) };
  if (out.completions === undefined && out.parallelism === undefined) out.completions = 1;
  out.parallelism ??= 1;
  out.backoffLimit ??= out.backoffLimitPerIndex !== undefined ? MAX_INT32 : 6;
  out.completionMode ??= 'NonIndexed';
  out.suspend ??= false;
  out.podReplacementPolicy ??= out.podFailurePolicy !== undefined ? 'Failed' : 'TerminatingOrFailed';
  return out;
}

/**
 * Upstream generateSelector: the template gets the job-name and controller-uid labels (both spellings)
 * where it lacks them, the selector gets batch.kubernetes.io/controller-uid where it lacks it. A
 * conflicting value the user set stays, and validation reports it.
 */
export function withGeneratedSelector(spec: JobSpec, name: string, uid: string): JobSpec {
  const template = spec.template ?? ({} as JobPodTemplateSpec);
  const labels: Record<string, string> = { ...(template.metadata?.labels ?? {}) };
  for (const k of [LEGACY_JOB_NAME_LABEL, JOB_NAME_LABEL]) if (!Object.hasOwn(labels, k)) labels[k] = name;
  for (const k of [LEGACY_CONTROLLER_UID_LABEL, CONTROLLER_UID_LABEL]) if (!Object.hasOwn(labels, k)) labels[k] = uid;
  const matchLabels: Record<string, string> = { ...(spec.selector?.matchLabels ?? {}) };
  if (!Object.hasOwn(matchLabels, CONTROLLER_UID_LABEL)) matchLabels[CONTROLLER_UID_LABEL] = uid;
  return {
    ...spec,
    selector: { ...(spec.selector ?? {}), matchLabels },
    template: { ...template, metadata: { ...(template.metadata ?? {}), labels } },
  };
}

export function defaultJob(job: Job): Job {
  let spec = defaultJobSpec(job.spec ?? ({} as JobSpec));
  const uid = job.metadata?.uid;
  if (uid !== undefined && uid !== '' && spec.manualSelector !== true) spec = withGeneratedSelector(spec, job.metadata.name ?? '', uid);
  let metadata = job.metadata;
  const templateLabels = spec.template.metadata?.labels;
  if (templateLabels !== undefined && Object.keys(templateLabels).length > 0 && Object.keys(metadata?.labels ?? {}).length === 0) {
    metadata = { ...metadata, labels: { ...templateLabels } };
  }
  return { ...job, metadata, spec };
}

// ---------------------------------------------------------------------------------------------
// Validation

const MAX_PARALLELISM_FOR_INDEXED_JOB = 100_000;
const MAX_FAILED_INDEXES_FOR_INDEXED_JOB = 100_000;
const COMPLETIONS_SOFT_LIMIT = 100_000;
const PARALLELISM_LIMIT_FOR_HIGH_COMPLETIONS = 10_000;
const MAX_FAILED_INDEXES_LIMIT_FOR_HIGH_COMPLETIONS = 10_000;
const MAX_POD_FAILURE_POLICY_RULES = 20;
const MAX_ON_EXIT_CODES_VALUES = 255;
const MAX_ON_POD_CONDITIONS_PATTERNS = 20;
const MAX_MANAGED_BY_LENGTH = 63;
const MAX_SUCCEEDED_INDEXES_LENGTH = 64 * 1024;
const MAX_SUCCESS_POLICY_RULES = 20;
const CONDITION_STATUSES = ['False', 'True', 'Unknown'];

/** upstream's TooMany, as an Invalid (field-errors.ts has no TooMany type). */
const tooMany = (path: FieldPath, n: number, max: number): FieldError => invalid(path, n, `must have at most ${max} items`);
const tooLong = (path: FieldPath, max: number): FieldError => ({
  type: 'FieldValueTooLong',
  field: path.toString(),
  value: '',
  detail: `may not be more than ${max} bytes`,
});
/** An Invalid that upstream reports without a value (field.OmitValueType). */
const invalidNoValue = (path: FieldPath, detail: string): FieldError => invalid(path, undefined, detail);

/** Options upstream derives from the old object on update. */
interface JobValidationOptions {
  /** The generated selector must carry the batch.kubernetes.io/ labels (always on create). */
  readonly requirePrefixedLabels: boolean;
}

export function validateJob(job: Job): FieldError[] {
  return [
    ...validateObjectMeta(job.metadata, { namespaced: true }, paths.metadata),
    ...validateJobCommon(job, { requirePrefixedLabels: true }),
  ];
}

export function validateJobUpdate(job: Job, old: Job): FieldError[] {
  const oldLabels = old.spec?.template?.metadata?.labels ?? {};
  const opts: JobValidationOptions = {
    // jobs created before the prefixed labels existed keep validating
    requirePrefixedLabels: Object.hasOwn(oldLabels, JOB_NAME_LABEL) && Object.hasOwn(oldLabels, CONTROLLER_UID_LABEL),
  };
  const spec = job.spec ?? ({} as JobSpec);
  const oldSpec = old.spec ?? ({} as JobSpec);
  const at = paths.spec;
  return [
    ...validateObjectMetaUpdate(job.metadata, old.metadata, paths.metadata),
    ...validateJobCommon(job, opts),
    ...validateCompletionsUpdate(spec, oldSpec, at.child('completions')),
    ...validateImmutable(spec.selector, oldSpec.selector, at.child('selector')),
    ...validateTemplateUpdate(spec, old, at.child('template')),
    ...validateImmutable(spec.completionMode, oldSpec.completionMode, at.child('completionMode')),
    ...validateImmutable(spec.podFailurePolicy, oldSpec.podFailurePolicy, at.child('podFailurePolicy')),
    ...validateImmutable(spec.backoffLimitPerIndex, oldSpec.backoffLimitPerIndex, at.child('backoffLimitPerIndex')),
    ...validateImmutable(spec.managedBy, oldSpec.managedBy, at.child('managedBy')),
    ...validateImmutable(spec.successPolicy, oldSpec.successPolicy, at.child('successPolicy')),
    ...validateJobStatusUpdate(job, old),
  ];
}

/** upstream ValidateJob minus ObjectMeta: generated selector, spec, Indexed pod hostnames. */
function validateJobCommon(job: Job, opts: JobValidationOptions): FieldError[] {
  const spec = job.spec ?? ({} as JobSpec);
  const errs = [...validateGeneratedSelector(job, opts), ...validateJobSpec(spec, paths.spec)];
  const completions = spec.completions;
  if (spec.completionMode === 'Indexed' && completions !== undefined && completions > 0) {
    // pods of an Indexed Job are named and get hostnames `<job>-<index>`
    const name = job.metadata?.name ?? '';
    const hostname = `${name}-${completions - 1}`;
    if (isDNS1123Label(hostname).length > 0) {
      errs.push(invalid(paths.metadata.child('name'), name, `will not able to create pod with invalid DNS label: ${hostname}`));
    }
  }
  return errs;
}

/** upstream ValidateHasLabel. */
function validateHasLabel(meta: ObjectMeta | undefined, path: FieldPath, key: string, expected: string): FieldError[] {
  const labels = meta?.labels ?? {};
  const p = path.child('labels').key(key);
  if (!Object.hasOwn(labels, key)) return [required(p, `must be '${expected}'`)];
  return labels[key] === expected ? [] : [invalid(p, labels, `must be '${expected}'`)];
}

/** upstream validateGeneratedSelector: a non-manual selector must be the generated one. */
function validateGeneratedSelector(job: Job, opts: JobValidationOptions): FieldError[] {
  const spec = job.spec ?? ({} as JobSpec);
  if (spec.manualSelector === true || spec.selector === undefined || spec.selector === null) return [];
  const errs: FieldError[] = [];
  const uid = job.metadata?.uid ?? '';
  const name = job.metadata?.name ?? '';
  if (uid === '') errs.push(required(paths.metadata.child('uid'), ''));
  const meta = spec.template?.metadata;
  const at = paths.spec.child('template').child('metadata');
  errs.push(...validateHasLabel(meta, at, LEGACY_CONTROLLER_UID_LABEL, uid), ...validateHasLabel(meta, at, LEGACY_JOB_NAME_LABEL, name));
  const expected: Record<string, string> = { [LEGACY_CONTROLLER_UID_LABEL]: uid, [LEGACY_JOB_NAME_LABEL]: name };
  if (opts.requirePrefixedLabels) {
    errs.push(...validateHasLabel(meta, at, CONTROLLER_UID_LABEL, uid), ...validateHasLabel(meta, at, JOB_NAME_LABEL, name));
    expected[CONTROLLER_UID_LABEL] = uid;
    expected[JOB_NAME_LABEL] = name;
  }
  const selector = selectorOrUndefined(spec.selector);
  if (selector !== undefined && !matches(selector, expected)) {
    errs.push(invalid(paths.spec.child('selector'), spec.selector, '`selector` not auto-generated'));
  }
  return errs;
}

/** upstream ValidateJobSpec: the spec checks plus a required selector that selects the template. */
export function validateJobSpec(spec: JobSpec, path: FieldPath): FieldError[] {
  const errs = validateJobSpecFields(spec, path);
  if (spec.selector === undefined || spec.selector === null) errs.push(required(path.child('selector'), ''));
  else errs.push(...validateLabelSelector(spec.selector, path.child('selector')));
  const selector = selectorOrUndefined(spec.selector);
  const labels = spec.template?.metadata?.labels;
  if (selector !== undefined && !matches(selector, labels)) {
    errs.push(invalid(path.child('template').child('metadata').child('labels'), labels ?? {}, '`selector` does not match template `labels`'));
  }
  return errs;
}

/** upstream validateJobSpec (lower case): what a Job spec and a CronJob's job template share. */
export function validateJobSpecFields(spec: JobSpec, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  for (const k of ['parallelism', 'completions', 'activeDeadlineSeconds', 'backoffLimit', 'ttlSecondsAfterFinished', 'backoffLimitPerIndex'] as const) {
    errs.push(...validateNonnegativeField(spec[k], path.child(k)));
  }
  if (spec.maxFailedIndexes !== undefined) {
    errs.push(...validateNonnegativeField(spec.maxFailedIndexes, path.child('maxFailedIndexes')));
    if (spec.backoffLimitPerIndex === undefined) errs.push(required(path.child('backoffLimitPerIndex'), 'when maxFailedIndexes is specified'));
  }
  if (spec.managedBy !== undefined) {
    errs.push(...validateDomainPrefixedPath(spec.managedBy, path.child('managedBy')));
    if (spec.managedBy.length > MAX_MANAGED_BY_LENGTH) errs.push(tooLong(path.child('managedBy'), MAX_MANAGED_BY_LENGTH));
  }
  errs.push(...validateCompletionMode(spec, path));
  if (spec.podFailurePolicy !== undefined && spec.podFailurePolicy !== null) {
    errs.push(...validatePodFailurePolicy(spec, spec.podFailurePolicy, path.child('podFailurePolicy')));
  }
  if (spec.successPolicy !== undefined && spec.successPolicy !== null) {
    if ((spec.completionMode ?? 'NonIndexed') !== 'Indexed') {
      errs.push(invalid(path.child('successPolicy'), spec.successPolicy, 'requires indexed completion mode'));
    } else {
      errs.push(...validateSuccessPolicy(spec, spec.successPolicy, path.child('successPolicy')));
    }
  }
  errs.push(...validatePodReplacementPolicy(spec, path.child('podReplacementPolicy')));
  errs.push(...validatePodTemplateSpec(spec.template ?? ({} as PodTemplateSpec), path.child('template')));
  errs.push(...validateJobRestartPolicy(spec, path.child('template').child('spec').child('restartPolicy')));
  return errs;
}

function validateCompletionMode(spec: JobSpec, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const mode = spec.completionMode;
  if (mode !== undefined && !COMPLETION_MODES.includes(mode)) {
    errs.push(notSupported(path.child('completionMode'), mode, COMPLETION_MODES));
  }
  if (mode === 'Indexed') {
    const { completions, parallelism, maxFailedIndexes: maxFailed } = spec;
    if (completions === undefined) errs.push(required(path.child('completions'), 'when completion mode is Indexed'));
    if (parallelism !== undefined && parallelism > MAX_PARALLELISM_FOR_INDEXED_JOB) {
      errs.push(invalid(path.child('parallelism'), parallelism, `must be less than or equal to ${MAX_PARALLELISM_FOR_INDEXED_JOB} when completion mode is Indexed`));
    }
    if (completions !== undefined && maxFailed !== undefined && maxFailed > completions) {
      errs.push(invalid(path.child('maxFailedIndexes'), maxFailed, 'must be less than or equal to completions'));
    }
    if (maxFailed !== undefined && maxFailed > MAX_FAILED_INDEXES_FOR_INDEXED_JOB) {
      errs.push(invalid(path.child('maxFailedIndexes'), maxFailed, `must be less than or equal to ${MAX_FAILED_INDEXES_FOR_INDEXED_JOB}`));
    }
    if (completions !== undefined && completions > COMPLETIONS_SOFT_LIMIT && spec.backoffLimitPerIndex !== undefined) {
      const suffix = `when completions are above ${COMPLETIONS_SOFT_LIMIT} and used with backoff limit per index`;
      if (maxFailed === undefined) errs.push(required(path.child('maxFailedIndexes'), `must be specified when completions is above ${COMPLETIONS_SOFT_LIMIT}`));
      if (parallelism !== undefined && parallelism > PARALLELISM_LIMIT_FOR_HIGH_COMPLETIONS) {
        errs.push(invalid(path.child('parallelism'), parallelism, `must be less than or equal to ${PARALLELISM_LIMIT_FOR_HIGH_COMPLETIONS} ${suffix}`));
      }
      if (maxFailed !== undefined && maxFailed > MAX_FAILED_INDEXES_LIMIT_FOR_HIGH_COMPLETIONS) {
        errs.push(invalid(path.child('maxFailedIndexes'), maxFailed, `must be less than or equal to ${MAX_FAILED_INDEXES_LIMIT_FOR_HIGH_COMPLETIONS} ${suffix}`));
      }
    }
  }
  if (mode === undefined || mode === 'NonIndexed') {
    if (spec.backoffLimitPerIndex !== undefined) {
      errs.push(invalid(path.child('backoffLimitPerIndex'), spec.backoffLimitPerIndex, 'requires indexed completion mode'));
    }
    if (spec.maxFailedIndexes !== undefined) errs.push(invalid(path.child('maxFailedIndexes'), spec.maxFailedIndexes, 'requires indexed completion mode'));
  }
  return errs;
}

/** Jobs run pods to completion: restartPolicy OnFailure or Never; only Never with a podFailurePolicy. */
function validateJobRestartPolicy(spec: JobSpec, path: FieldPath): FieldError[] {
  const policy = spec.template?.spec?.restartPolicy ?? '';
  // the pod defaults turn an unset policy into Always, so both read as "not chosen"
  if (policy === 'Always' || policy === '') return [required(path, 'valid values: "OnFailure", "Never"')];
  if (policy !== 'OnFailure' && policy !== 'Never') return [notSupported(path, policy, ['OnFailure', 'Never'])];
  if (spec.podFailurePolicy !== undefined && spec.podFailurePolicy !== null && policy !== 'Never') {
    return [invalid(path, policy, 'only "Never" is supported when podFailurePolicy is specified')];
  }
  return [];
}

const HTTP_PATH_FMT = "[A-Za-z0-9/\\-._~%!$&'()*+,;=:]+";
const HTTP_PATH_RE = new RegExp(`^${HTTP_PATH_FMT}$`);

/** upstream IsDomainPrefixedPath: `acme.io/foo`. */
function validateDomainPrefixedPath(value: string, path: FieldPath): FieldError[] {
  if (value === '') return [required(path, '')];
  const slash = value.indexOf('/');
  if (slash <= 0 || slash === value.length - 1) return [invalid(path, value, 'must be a domain-prefixed path (such as "acme.io/foo")')];
  const host = value.slice(0, slash);
  const rest = value.slice(slash + 1);
  const errs = isDNS1123Subdomain(host).map((m) => invalid(path, host, m));
  if (!HTTP_PATH_RE.test(rest)) errs.push(invalid(path, rest, regexError('Invalid path', HTTP_PATH_FMT)));
  return errs;
}

function validatePodReplacementPolicy(spec: JobSpec, path: FieldPath): FieldError[] {
  const policy = spec.podReplacementPolicy;
  if (policy === undefined) return [];
  if (spec.podFailurePolicy !== undefined && spec.podFailurePolicy !== null) {
    return policy === 'Failed' ? [] : [notSupported(path, policy, ['Failed'])];
  }
  return POD_REPLACEMENT_POLICIES.includes(policy) ? [] : [notSupported(path, policy, POD_REPLACEMENT_POLICIES)];
}

function validatePodFailurePolicy(spec: JobSpec, policy: PodFailurePolicy, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const rules = policy.rules ?? [];
  const rulesPath = path.child('rules');
  if (rules.length > MAX_POD_FAILURE_POLICY_RULES) errs.push(tooMany(rulesPath, rules.length, MAX_POD_FAILURE_POLICY_RULES));
  const podSpec: Partial<PodSpec> = spec.template?.spec ?? {};
  const containerNames = new Set([...(podSpec.containers ?? []), ...(podSpec.initContainers ?? [])].map((c) => c.name));
  rules.forEach((rule, i) => errs.push(...validatePodFailurePolicyRule(spec, rule, rulesPath.index(i), containerNames)));
  return errs;
}

function validatePodFailurePolicyRule(spec: JobSpec, rule: PodFailurePolicyRule, path: FieldPath, containerNames: ReadonlySet<string>): FieldError[] {
  const errs: FieldError[] = [];
  const actionPath = path.child('action');
  const action: string = rule.action ?? '';
  if (action === '') {
    errs.push(required(actionPath, `valid values: ${goStrings(POD_FAILURE_POLICY_ACTIONS)}`));
  } else if (action === 'FailIndex') {
    if (spec.backoffLimitPerIndex === undefined) errs.push(invalid(actionPath, action, 'requires the backoffLimitPerIndex to be set'));
  } else if (!(POD_FAILURE_POLICY_ACTIONS as readonly string[]).includes(action)) {
    errs.push(notSupported(actionPath, action, POD_FAILURE_POLICY_ACTIONS));
  }
  const onExitCodes = rule.onExitCodes ?? undefined;
  const onPodConditions = rule.onPodConditions ?? [];
  if (onExitCodes !== undefined) errs.push(...validateOnExitCodes(onExitCodes, path.child('onExitCodes'), containerNames));
  if (onPodConditions.length > 0) errs.push(...validateOnPodConditions(onPodConditions, path.child('onPodConditions')));
  if (onExitCodes !== undefined && onPodConditions.length > 0) {
    errs.push(invalidNoValue(path, 'specifying both OnExitCodes and OnPodConditions is not supported'));
  }
  if (onExitCodes === undefined && onPodConditions.length === 0) {
    errs.push(invalidNoValue(path, 'specifying one of OnExitCodes and OnPodConditions is required'));
  }
  return errs;
}

/** Go's %q of a []string: `["a" "b"]`. */
function goStrings(values: readonly string[]): string {
  return `[${values.map((v) => JSON.stringify(v)).join(' ')}]`;
}

function validateOnExitCodes(req: PodFailurePolicyOnExitCodesRequirement, path: FieldPath, containerNames: ReadonlySet<string>): FieldError[] {
  const errs: FieldError[] = [];
  const operator: string = req.operator ?? '';
  if (operator === '') errs.push(required(path.child('operator'), `valid values: ${goStrings(ON_EXIT_CODES_OPERATORS)}`));
  else if (!(ON_EXIT_CODES_OPERATORS as readonly string[]).includes(operator)) errs.push(notSupported(path.child('operator'), operator, ON_EXIT_CODES_OPERATORS));
  if (req.containerName !== undefined && !containerNames.has(req.containerName)) {
    errs.push(invalid(path.child('containerName'), req.containerName, 'must be one of the container or initContainer names in the pod template'));
  }
  const values = req.values ?? [];
  const valuesPath = path.child('values');
  if (values.length === 0) errs.push(invalid(valuesPath, values, 'at least one value is required'));
  else if (values.length > MAX_ON_EXIT_CODES_VALUES) errs.push(tooMany(valuesPath, values.length, MAX_ON_EXIT_CODES_VALUES));
  const seen = new Set<number>();
  let ordered = true;
  values.forEach((v, j) => {
    if (operator === 'In' && v === 0) errs.push(invalid(valuesPath.index(j), v, 'must not be 0 for the In operator'));
    if (seen.has(v)) errs.push(duplicate(valuesPath.index(j), v));
    else seen.add(v);
    if (j > 0 && (values[j - 1] ?? 0) > v) ordered = false;
  });
  if (!ordered) errs.push(invalid(valuesPath, values, 'must be ordered'));
  return errs;
}

function validateOnPodConditions(patterns: readonly PodFailurePolicyOnPodConditionsPattern[], path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  if (patterns.length > MAX_ON_POD_CONDITIONS_PATTERNS) errs.push(tooMany(path, patterns.length, MAX_ON_POD_CONDITIONS_PATTERNS));
  patterns.forEach((p, j) => {
    const at = path.index(j);
    const type = p.type ?? '';
    errs.push(...isQualifiedName(type).map((m) => invalid(at.child('type'), type, m)));
    const status = p.status ?? '';
    if (status === '') errs.push(required(at.child('status'), `valid values: ${goStrings(CONDITION_STATUSES)}`));
    else if (!CONDITION_STATUSES.includes(status)) errs.push(notSupported(at.child('status'), status, CONDITION_STATUSES));
  });
  return errs;
}

function validateSuccessPolicy(spec: JobSpec, policy: SuccessPolicy, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const rules = policy.rules ?? [];
  const rulesPath = path.child('rules');
  if (rules.length === 0) errs.push(required(rulesPath, 'at least one rules must be specified when the successPolicy is specified'));
  if (rules.length > MAX_SUCCESS_POLICY_RULES) errs.push(tooMany(rulesPath, rules.length, MAX_SUCCESS_POLICY_RULES));
  rules.forEach((rule, i) => errs.push(...validateSuccessPolicyRule(spec, rule, rulesPath.index(i))));
  return errs;
}

function validateSuccessPolicyRule(spec: JobSpec, rule: SuccessPolicyRule, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const { succeededCount: count, succeededIndexes: indexes } = rule;
  if (count === undefined && indexes === undefined) {
    errs.push(required(path, 'at least one of succeededCount or succeededIndexes must be specified'));
  }
  // an Indexed Job without completions is reported by the completion-mode checks
  const completions = spec.completions;
  let total = 0;
  if (indexes !== undefined) {
    const at = path.child('succeededIndexes');
    if (indexes.length > MAX_SUCCEEDED_INDEXES_LENGTH) errs.push(tooLong(at, MAX_SUCCEEDED_INDEXES_LENGTH));
    if (completions !== undefined) {
      const parsed = parseIndexIntervals(indexes, completions);
      if (typeof parsed === 'string') errs.push(invalid(at, indexes, `error parsing succeededIndexes: ${parsed}`));
      else total = countIndexes(parsed);
    }
  }
  if (count !== undefined) {
    const at = path.child('succeededCount');
    errs.push(...validateNonnegativeField(count, at));
    if (completions !== undefined && count > completions) {
      errs.push(invalid(at, count, `must be less than or equal to ${completions} (the number of specified completions)`));
    }
    if (indexes !== undefined && count > total) {
      errs.push(invalid(at, count, `must be less than or equal to ${total} (the number of indexes in the specified succeededIndexes field)`));
    }
  }
  return errs;
}

/** An index interval, both ends included. */
export type IndexInterval = readonly [number, number];

function parseIndexInterval(text: string, completions: number): IndexInterval | string {
  const limits = text.split('-');
  if (limits.length > 2) return `the fragment ${JSON.stringify(text)} violates the requirement that an index interval can have at most two parts separated by '-'`;
  const parse = (s: string): number | string => {
    if (!/^[+-]?[0-9]+$/.test(s)) return `cannot convert string to integer for index: ${JSON.stringify(s)}`;
    const n = Number.parseInt(s, 10);
    return n >= completions ? `too large index: ${JSON.stringify(s)}` : n;
  };
  const x = parse(limits[0] ?? '');
  if (typeof x === 'string') return x;
  if (limits.length === 1) return [x, x];
  const y = parse(limits[1] ?? '');
  if (typeof y === 'string') return y;
  if (x >= y) return `non-increasing order, previous: ${x}, current: ${y}`;
  return [x, y];
}

/**
 * `1,3-5,7` as intervals, each index below `completions`, strictly increasing (upstream
 * validateIndexesFormat); the error text otherwise. '' is no indexes.
 */
export function parseIndexIntervals(text: string, completions: number): IndexInterval[] | string {
  if (text === '') return [];
  const out: IndexInterval[] = [];
  let last: number | undefined;
  for (const part of text.split(',')) {
    const iv = parseIndexInterval(part, completions);
    if (typeof iv === 'string') return iv;
    if (last !== undefined && last >= iv[0]) return `non-increasing order, previous: ${last}, current: ${iv[0]}`;
    out.push(iv);
    last = iv[1];
  }
  return out;
}

const countIndexes = (intervals: readonly IndexInterval[]): number => intervals.reduce((n, [x, y]) => n + y - x + 1, 0);

/** upstream validateCompletions: immutable, but for Indexed Jobs that change it together with parallelism. */
function validateCompletionsUpdate(spec: JobSpec, old: JobSpec, path: FieldPath): FieldError[] {
  if (spec.completionMode !== 'Indexed') return validateImmutable(spec.completions, old.completions, path);
  if (spec.completions === old.completions || spec.completions === undefined) return [];
  return spec.completions === spec.parallelism ? [] : [invalid(path, spec.completions, 'can only be modified in tandem with spec.parallelism')];
}

/**
 * upstream validatePodTemplateUpdate: the template is immutable, but a Job that is suspended and never
 * started may change its scheduling directives (node affinity, node selector, tolerations, scheduling
 * gates) and the template's labels and annotations.
 */
function validateTemplateUpdate(spec: JobSpec, old: Job, path: FieldPath): FieldError[] {
  const template = spec.template ?? ({} as PodTemplateSpec);
  let oldTemplate: PodTemplateSpec = old.spec?.template ?? ({} as PodTemplateSpec);
  const suspended = old.spec?.suspend === true;
  const notStarted = old.status?.startTime === undefined;
  if (suspended && notStarted) oldTemplate = withSchedulingDirectivesOf(oldTemplate, template);
  return validateImmutable(template, oldTemplate, path);
}

function withSchedulingDirectivesOf(old: PodTemplateSpec, from: PodTemplateSpec): PodTemplateSpec {
  const oldSpec: Mutable<PodSpec> = { ...(old.spec ?? ({} as PodSpec)) };
  const newSpec: Partial<PodSpec> = from.spec ?? {};
  const newAffinity = newSpec.affinity;
  const oldAffinity = oldSpec.affinity;
  const setNodeAffinity = (a: Affinity, nodeAffinity: Affinity['nodeAffinity']): Affinity => {
    const { nodeAffinity: _drop, ...rest } = a;
    return nodeAffinity === undefined ? rest : { ...rest, nodeAffinity };
  };
  if (newAffinity === undefined && oldAffinity !== undefined) {
    const rest = setNodeAffinity(oldAffinity, undefined);
    if (Object.keys(rest).length === 0) delete oldSpec.affinity;
    else oldSpec.affinity = rest;
  } else if (newAffinity !== undefined) {
    oldSpec.affinity = setNodeAffinity(oldAffinity ?? {}, newAffinity.nodeAffinity);
  }
  for (const k of ['nodeSelector', 'tolerations', 'schedulingGates'] as const) {
    if (newSpec[k] === undefined) delete oldSpec[k];
    else (oldSpec as Record<string, unknown>)[k] = newSpec[k];
  }
  const meta: Mutable<ObjectMeta> = { ...(old.metadata ?? {}) };
  for (const k of ['labels', 'annotations'] as const) {
    const v = from.metadata?.[k];
    if (v === undefined) delete meta[k];
    else meta[k] = v;
  }
  return { ...old, metadata: meta, spec: oldSpec };
}

// ---- status -----------------------------------------------------------------------------------

function validateCounters(status: JobStatus, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  for (const k of ['active', 'succeeded', 'failed', 'ready', 'terminating'] as const) errs.push(...validateNonnegativeField(status[k], path.child(k)));
  const uncounted = status.uncountedTerminatedPods;
  if (uncounted !== undefined && uncounted !== null) {
    const at = path.child('uncountedTerminatedPods');
    const seen = new Set<string>();
    for (const k of ['succeeded', 'failed'] as const) {
      (uncounted[k] ?? []).forEach((uid, i) => {
        const p = at.child(k).index(i);
        if (uid === '') errs.push(invalid(p, uid, 'must not be empty'));
        else if (seen.has(uid)) errs.push(duplicate(p, uid));
        else seen.add(uid);
      });
    }
  }
  return errs;
}

const uncountedTotal = (s: JobStatus): number => (s.uncountedTerminatedPods?.succeeded ?? []).length + (s.uncountedTerminatedPods?.failed ?? []).length;

/**
 * upstream ValidateJobStatusUpdate with the options its status strategy sets when the JobManagedBy
 * feature is on: most rules apply only when the fields they read changed, so a status that became
 * inconsistent through a spec change can still be fixed one field at a time.
 */
export function validateJobStatusUpdate(job: Job, old: Job): FieldError[] {
  const at = paths.status;
  const s = job.status ?? {};
  const o = old.status ?? {};
  const spec = job.spec ?? ({} as JobSpec);
  const conds = s.conditions;
  const oconds = o.conditions;
  const complete = jobConditionTrue(conds, 'Complete');
  const failed = jobConditionTrue(conds, 'Failed');
  const failureTarget = jobConditionTrue(conds, 'FailureTarget');
  const criteriaMet = jobConditionTrue(conds, 'SuccessCriteriaMet');
  const finished = complete || failed;
  const indexed = (spec.completionMode ?? 'NonIndexed') === 'Indexed';

  const completeChanged = complete !== jobConditionTrue(oconds, 'Complete');
  const failedChanged = failed !== jobConditionTrue(oconds, 'Failed');
  const finishedChanged = finished !== isJobFinished(old);
  const failureTargetChanged = failureTarget !== jobConditionTrue(oconds, 'FailureTarget');
  const completedIndexesChanged = (s.completedIndexes ?? '') !== (o.completedIndexes ?? '');
  const failedIndexesChanged = s.failedIndexes !== o.failedIndexes;
  const activeChanged = (s.active ?? 0) !== (o.active ?? 0);
  const startTimeChanged = s.startTime !== o.startTime;
  const completionTimeChanged = s.completionTime !== o.completionTime;
  const uncountedChanged = !semanticEqual(s.uncountedTerminatedPods, o.uncountedTerminatedPods);

  const errs = validateCounters(s, at);
  const c = at.child('conditions');
  if ((completeChanged || failedChanged) && complete && failed) errs.push(invalidNoValue(c, 'cannot set Complete=True and Failed=true conditions'));
  if ((completeChanged || failureTargetChanged) && complete && failureTarget) {
    errs.push(invalidNoValue(c, 'cannot set Complete=True and FailureTarget=true conditions'));
  }
  if ((completeChanged || completionTimeChanged) && s.completionTime !== undefined && !complete) {
    errs.push(invalid(at.child('completionTime'), s.completionTime, 'cannot set completionTime when there is no Complete=True condition'));
  }
  if ((completeChanged || completionTimeChanged) && s.completionTime === undefined && complete) {
    errs.push(required(at.child('completionTime'), 'completionTime is required for Complete jobs'));
  }
  if ((startTimeChanged || completionTimeChanged) && s.startTime !== undefined && s.completionTime !== undefined && Date.parse(s.completionTime) < Date.parse(s.startTime)) {
    errs.push(invalid(at.child('completionTime'), s.completionTime, 'must be equal to or after `startTime`'));
  }
  if ((finishedChanged || activeChanged) && (s.active ?? 0) > 0 && finished) {
    errs.push(invalid(at.child('active'), s.active, 'active>0 is invalid for finished job'));
  }
  if ((finishedChanged || startTimeChanged) && s.startTime === undefined && finished) {
    errs.push(required(at.child('startTime'), 'startTime is required for finished job'));
  }
  if ((finishedChanged || uncountedChanged) && finished && uncountedTotal(s) > 0) {
    errs.push(invalid(at.child('uncountedTerminatedPods'), s.uncountedTerminatedPods, 'must be empty for finished job'));
  }
  const completions = spec.completions;
  if (completedIndexesChanged && completions !== undefined) {
    const parsed = parseIndexIntervals(s.completedIndexes ?? '', completions);
    if (typeof parsed === 'string') errs.push(invalid(at.child('completedIndexes'), s.completedIndexes ?? '', `error parsing completedIndexes: ${parsed}`));
  }
  if (failedIndexesChanged && completions !== undefined && spec.backoffLimitPerIndex !== undefined && s.failedIndexes !== undefined) {
    const parsed = parseIndexIntervals(s.failedIndexes, completions);
    if (typeof parsed === 'string') errs.push(invalid(at.child('failedIndexes'), s.failedIndexes, `error parsing failedIndexes: ${parsed}`));
  }
  if (completedIndexesChanged && (s.completedIndexes ?? '') !== '' && !indexed) {
    errs.push(invalid(at.child('completedIndexes'), s.completedIndexes, 'cannot set non-empty completedIndexes when non-indexed completion mode'));
  }
  if (failedIndexesChanged && spec.backoffLimitPerIndex === undefined && s.failedIndexes !== undefined) {
    errs.push(invalid(at.child('failedIndexes'), s.failedIndexes, 'cannot set non-null failedIndexes when backoffLimitPerIndex is null'));
  }
  if ((failedIndexesChanged || completedIndexesChanged) && completions !== undefined && s.failedIndexes !== undefined) {
    const overlap = indexesOverlap(s.completedIndexes ?? '', s.failedIndexes, completions);
    if (overlap !== undefined) errs.push(invalid(at.child('failedIndexes'), s.failedIndexes, `failedIndexes and completedIndexes overlap at index: ${overlap}`));
  }
  if (criteriaMet && failed) errs.push(invalidNoValue(c, 'cannot set SuccessCriteriaMet=True and Failed=true conditions'));
  if (criteriaMet && failureTarget) errs.push(invalidNoValue(c, 'cannot set SuccessCriteriaMet=True and FailureTarget=true conditions'));
  if (spec.successPolicy !== undefined && !criteriaMet && complete) {
    errs.push(invalidNoValue(c, 'cannot set Complete=True for Job with SuccessPolicy unless SuccessCriteriaMet=True'));
  }

  for (const type of ['Failed', 'Complete', 'FailureTarget'] as const) {
    if (jobConditionTrue(oconds, type) && !jobConditionTrue(conds, type)) errs.push(invalidNoValue(c, `cannot disable the terminal ${type}=True condition`));
  }
  if ((s.failed ?? 0) < (o.failed ?? 0)) errs.push(invalid(at.child('failed'), s.failed ?? 0, 'cannot decrease the failed counter'));
  // elastic Indexed Jobs (completions == parallelism) may scale down, and lose succeeded pods with it
  const rejectDecreasingSucceeded = !indexed || spec.completions !== spec.parallelism;
  if (rejectDecreasingSucceeded && (s.succeeded ?? 0) < (o.succeeded ?? 0)) {
    errs.push(invalid(at.child('succeeded'), s.succeeded ?? 0, 'cannot decrease the succeeded counter'));
  }
  if (s.completionTime !== undefined && o.completionTime !== undefined && s.completionTime !== o.completionTime) {
    errs.push(invalid(at.child('completionTime'), s.completionTime, 'field is immutable'));
  }
  if (startTimeChanged && o.startTime !== undefined && spec.suspend !== true) {
    errs.push(required(at.child('startTime'), 'startTime cannot be removed for unsuspended job'));
  }
  if (jobConditionTrue(oconds, 'SuccessCriteriaMet') && !criteriaMet) errs.push(invalidNoValue(c, 'cannot disable the SuccessCriteriaMet=True condition'));
  if (jobConditionTrue(oconds, 'Complete') && !jobConditionTrue(oconds, 'SuccessCriteriaMet') && criteriaMet) {
    errs.push(invalidNoValue(c, 'cannot set SuccessCriteriaMet=True for Job already has Complete=true conditions'));
  }
  return errs;
}

/** The first index in both lists (upstream validateFailedIndexesNotOverlapCompleted); unparseable parts are skipped. */
function indexesOverlap(completed: string, failed: string, completions: number): number | undefined {
  if (completed === '' || failed === '') return undefined;
  const parts = (text: string): IndexInterval[] =>
    text.split(',').flatMap((p) => {
      const iv = parseIndexInterval(p, completions);
      return typeof iv === 'string' ? [] : [iv];
    });
  const a = parts(completed);
  const b = parts(failed);
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const [cx, cy] = a[i] as IndexInterval;
    const [fx, fy] = b[j] as IndexInterval;
    if (cx <= fy && fx <= cy) return Math.max(cx, fx);
    if (cx <= fx) i++;
    else j++;
  }
  return undefined;
}

/** Field selectors upstream supports on Jobs beyond metadata.name/namespace. */
export function jobSelectableFields(job: Job): Readonly<Record<string, string>> {
  return { 'status.successful': String(job.status?.succeeded ?? 0) };
}

export const jobKind: KindDefinition<Job> = {
  group: 'batch',
  version: 'v1',
  kind: 'Job',
  plural: 'jobs',
  singular: 'job',
  namespaced: true,
  shortNames: [],
  categories: ['all'],
  schema: jobSchema,
  hasStatusSubresource: true,
  default: defaultJob,
  validate: validateJob,
  validateUpdate: validateJobUpdate,
  selectableFields: jobSelectableFields,
};

