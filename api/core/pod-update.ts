/**
 * Pod update rules (upstream ValidatePodUpdate and ValidatePodStatusUpdate). A pod's spec is immutable
 * except for container and init container images, activeDeadlineSeconds (may only shrink), tolerations
 * (only additions, or a changed tolerationSeconds), scheduling gates (removal), and
 * terminationGracePeriodSeconds going from negative to 1. Anything else yields one Forbidden error on
 * `spec` with upstream's sentence, followed by the names of the fields that differ.
 *
 * The same function serves the main endpoint and the status subresource: the apiserver carries the old
 * spec into status updates and the old status into spec updates, so only the relevant half differs.
 * Binding (spec.nodeName) goes through its own subresource and must not be routed here.
 *
 * The ephemeralcontainers subresource has its own rules (validatePodEphemeralContainersUpdate): the
 * apiserver carries everything but spec.ephemeralContainers over from the stored pod, and existing
 * ephemeral containers may be neither changed nor removed.
 */
import type { FieldError } from '../field-errors.js';
import { FieldPath, forbidden, invalid, required } from '../field-errors.js';
import { inclusiveRangeError } from '../names.js';
import { validateImmutableField, validateKubeFinalizerNames, validateObjectMetaUpdate } from '../validate-meta.js';
import type { Container, EphemeralContainer } from './container-types.js';
import type { ContainerStatus, Pod, PodSpec, RestartPolicy } from './pod-types.js';
import { validatePodSpec, validatePodStatus } from './pod-validate.js';
import { semanticEqual } from './semantic.js';
import type { Toleration } from './scheduling.js';
import { validateTolerations } from './scheduling-validate.js';

const MAX_INT32 = 2 ** 31 - 1;

export const POD_UPDATE_FORBIDDEN_MESSAGE =
  'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,' +
  '`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),' +
  '`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)';

function validateContainerUpdates(
  next: readonly Container[] | undefined,
  old: readonly Container[] | undefined,
  path: FieldPath,
): { errs: FieldError[]; stop: boolean } {
  const n = next ?? [];
  if (n.length !== (old ?? []).length) return { errs: [forbidden(path, 'pod updates may not add or remove containers')], stop: true };
  const errs: FieldError[] = [];
  n.forEach((c, i) => {
    const image = c.image ?? '';
    if (image === '') errs.push(required(path.index(i).child('image')));
    if (image.trim() !== image) errs.push(invalid(path.index(i).child('image'), image, 'must not have leading or trailing whitespace'));
  });
  return { errs, stop: false };
}

/** Every old toleration must still be there (tolerationSeconds may change); new ones are validated. */
function validateOnlyAddedTolerations(next: readonly Toleration[] | undefined, old: readonly Toleration[] | undefined, path: FieldPath): FieldError[] {
  const n = next ?? [];
  for (const o of old ?? []) {
    const found = n.some((t) => semanticEqual({ ...o, tolerationSeconds: t.tolerationSeconds }, t));
    if (!found) return [forbidden(path, 'existing toleration can not be modified except its tolerationSeconds')];
  }
  return validateTolerations(n, path);
}

function withImagesOf(next: readonly Container[] | undefined, old: readonly Container[] | undefined): readonly Container[] | undefined {
  if (next === undefined) return undefined;
  return next.map((c, i) => {
    const image = old?.[i]?.image ?? c.image;
    return image === undefined ? c : { ...c, image };
  });
}

function validateSpecUpdate(next: PodSpec, old: PodSpec, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  for (const field of ['containers', 'initContainers'] as const) {
    const r = validateContainerUpdates(next[field], old[field], path.child(field));
    errs.push(...r.errs);
    if (r.stop) return errs;
  }
  const ads = path.child('activeDeadlineSeconds');
  if (next.activeDeadlineSeconds !== undefined) {
    const v = next.activeDeadlineSeconds;
    if (v < 0 || v > MAX_INT32) return [...errs, invalid(ads, v, inclusiveRangeError(0, MAX_INT32))];
    if (old.activeDeadlineSeconds !== undefined && old.activeDeadlineSeconds < v) {
      return [...errs, invalid(ads, v, 'must be less than or equal to previous value')];
    }
  } else if (old.activeDeadlineSeconds !== undefined) {
    errs.push(invalid(ads, null, 'must not update from a positive integer to nil value'));
  }
  errs.push(...validateOnlyAddedTolerations(next.tolerations, old.tolerations, path.child('tolerations')));

  // Put back everything that may change, then anything still different is forbidden.
  const munged: Record<string, unknown> = {
    ...next,
    containers: withImagesOf(next.containers, old.containers),
    initContainers: withImagesOf(next.initContainers, old.initContainers),
    activeDeadlineSeconds: old.activeDeadlineSeconds,
    schedulingGates: old.schedulingGates,
    tolerations: old.tolerations,
  };
  const oldGrace = old.terminationGracePeriodSeconds;
  if (oldGrace !== undefined && oldGrace < 0 && next.terminationGracePeriodSeconds === 1) munged['terminationGracePeriodSeconds'] = oldGrace;
  const gated = (old.schedulingGates ?? []).length > 0;
  if (gated) {
    // a pod still waiting at its scheduling gates may gain node selector entries and gates may be removed
    const oldSel = old.nodeSelector ?? {};
    const added = Object.entries(next.nodeSelector ?? {}).every(([k, v]) => !(k in oldSel) || oldSel[k] === v);
    const kept = Object.entries(oldSel).every(([k, v]) => next.nodeSelector?.[k] === v);
    if (added && kept) munged['nodeSelector'] = old.nodeSelector;
  }
  if (!semanticEqual(munged, old)) {
    const changed = Object.keys({ ...munged, ...old })
      .filter((k) => !semanticEqual(munged[k], (old as unknown as Record<string, unknown>)[k]))
      .sort();
    errs.push(forbidden(path, `${POD_UPDATE_FORBIDDEN_MESSAGE}\n  changed: ${changed.map((k) => `spec.${k}`).join(', ')}`));
  }
  const oldGates = new Set((old.schedulingGates ?? []).map((g) => g.name));
  (next.schedulingGates ?? []).forEach((g, i) => {
    if (!oldGates.has(g.name)) {
      errs.push(forbidden(path.child('schedulingGates').index(i).child('name'), `only deletion is allowed, but found new scheduling gate '${g.name}'`));
    }
  });
  return errs;
}

/** A container that ended may only start again if the restart policy says so. */
export function validateContainerStateTransition(
  next: readonly ContainerStatus[] | undefined,
  old: readonly ContainerStatus[] | undefined,
  restartPolicy: RestartPolicy | undefined,
  path: FieldPath,
): FieldError[] {
  if (restartPolicy === 'Always') return [];
  const errs: FieldError[] = [];
  (old ?? []).forEach((o, i) => {
    const term = o.state?.terminated;
    if (term === undefined) return;
    if (term.exitCode !== 0 && restartPolicy === 'OnFailure') return;
    for (const n of next ?? []) {
      if (n.name === o.name && n.state?.terminated === undefined) {
        errs.push(forbidden(path.index(i).child('state'), 'may not be transitioned to non-terminated state'));
      }
    }
  });
  return errs;
}

export function validatePodUpdate(pod: Pod, old: Pod): FieldError[] {
  const meta = FieldPath.root('metadata');
  const status = FieldPath.root('status');
  const errs: FieldError[] = [
    ...validateObjectMetaUpdate(pod.metadata, old.metadata, meta),
    ...validateKubeFinalizerNames(pod.metadata.finalizers, meta.child('finalizers')),
    ...validateSpecUpdate(pod.spec ?? ({} as PodSpec), old.spec ?? ({} as PodSpec), FieldPath.root('spec')),
    ...validatePodStatus(pod.status, status),
  ];
  if (old.status?.qosClass) {
    errs.push(...validateImmutableField(pod.status?.qosClass ?? '', old.status.qosClass, status.child('qosClass')));
  }
  const policy = old.spec?.restartPolicy;
  errs.push(...validateContainerStateTransition(pod.status?.containerStatuses, old.status?.containerStatuses, policy, status.child('containerStatuses')));
  errs.push(
    ...validateContainerStateTransition(pod.status?.initContainerStatuses, old.status?.initContainerStatuses, policy, status.child('initContainerStatuses')),
  );
  errs.push(
    ...validateContainerStateTransition(
      pod.status?.ephemeralContainerStatuses,
      old.status?.ephemeralContainerStatuses,
      'Never',
      status.child('ephemeralContainerStatuses'),
    ),
  );
  return errs;
}

/** The annotation a kubelet puts on the API copy of a static pod. */
const MIRROR_POD_ANNOTATION = 'kubernetes.io/config.mirror';

/** Upstream's cmp.Diff output, reduced to the fields that differ: `- \tname: old` / `+ \tname: new`. */
function ephemeralContainerDiff(old: EphemeralContainer, next: EphemeralContainer): string {
  const o = old as unknown as Record<string, unknown>;
  const n = next as unknown as Record<string, unknown>;
  const lines = ['  v1.EphemeralContainer{'];
  for (const k of [...new Set([...Object.keys(o), ...Object.keys(n)])].sort()) {
    if (semanticEqual(o[k], n[k])) continue;
    if (o[k] !== undefined) lines.push(`- \t${k}: ${JSON.stringify(o[k])},`);
    if (n[k] !== undefined) lines.push(`+ \t${k}: ${JSON.stringify(n[k])},`);
  }
  lines.push('  }');
  return lines.join('\n');
}

/**
 * An update through pods/ephemeralcontainers (upstream ValidatePodEphemeralContainersUpdate). `pod` is
 * the stored pod with only spec.ephemeralContainers taken from the request. Metadata follows the usual
 * update rules and the whole spec is validated again (so a new ephemeral container gets every check of
 * validateEphemeralContainers: unique name, known targetContainerName, no ports, probes, resources...).
 * Static (mirror) pods take no ephemeral containers. Every ephemeral container already in `old`, matched
 * by name (a patch need not keep the order), must still be there and unchanged.
 */
export function validatePodEphemeralContainersUpdate(pod: Pod, old: Pod): FieldError[] {
  const meta = FieldPath.root('metadata');
  const errs: FieldError[] = [
    ...validateObjectMetaUpdate(pod.metadata, old.metadata, meta),
    ...validateKubeFinalizerNames(pod.metadata.finalizers, meta.child('finalizers')),
    ...validatePodSpec(pod.spec ?? ({} as PodSpec), FieldPath.root('spec')),
  ];
  if (old.metadata.annotations?.[MIRROR_POD_ANNOTATION] !== undefined) {
    return [forbidden(FieldPath.root(), 'static pods do not support ephemeral containers')];
  }
  const path = FieldPath.root('spec').child('ephemeralContainers');
  const byName = new Map((pod.spec?.ephemeralContainers ?? []).map((c) => [c.name, c]));
  for (const o of old.spec?.ephemeralContainers ?? []) {
    const n = byName.get(o.name);
    if (n === undefined) {
      errs.push(forbidden(path, `existing ephemeral containers ${JSON.stringify(o.name)} may not be removed\n`));
    } else if (!semanticEqual(o, n)) {
      errs.push(forbidden(path, `existing ephemeral containers ${JSON.stringify(o.name)} may not be changed\n${ephemeralContainerDiff(o, n)}`));
    }
  }
  return errs;
}
