/**
 * core/v1 Pod: the KindDefinition the apiserver registers, and the entry point other modules import
 * (types, template helpers, DefaultTolerationSeconds). The pieces live beside it:
 *   pod-types.ts / container-types.ts / volume.ts / scheduling.ts   the object's shape
 *   pod-schema.ts / container-schema.ts                            schema with strategic-merge tags
 *   pod-defaults.ts / container-defaults.ts / qos.ts               defaulting
 *   pod-validate.ts / container-validate.ts / volume-validate.ts / env-validate.ts / probe-validate.ts /
 *   scheduling-validate.ts                                         create validation
 *   pod-update.ts                                                  update rules (main endpoint, status, ephemeralcontainers)
 */
import type { FieldError } from '../field-errors.js';
import type { KindDefinition } from '../kind.js';
import { defaultPod, defaultPodSpec, defaultPodTemplateSpec } from './pod-defaults.js';
import { podSchema, podSpecSchema, podStatusSchema, podTemplateSpecSchema } from './pod-schema.js';
import type { Pod } from './pod-types.js';
import { validatePodEphemeralContainersUpdate, validatePodUpdate } from './pod-update.js';
import { validatePod, validatePodSpec, validateStoredPod, validatePodStatus, validatePodTemplateSpec } from './pod-validate.js';

export type * from './pod-types.js';
export type * from './container-types.js';
export type * from './volume.js';
export type * from './scheduling.js';
export type { ResourceRequirements } from './resources.js';
export {
  defaultPod,
  defaultPodSpec,
  defaultPodTemplateSpec,
  podSchema,
  podSpecSchema,
  podStatusSchema,
  podTemplateSpecSchema,
  validatePod,
  validatePodSpec,
  validatePodStatus,
  validatePodTemplateSpec,
  validatePodUpdate,
  validatePodEphemeralContainersUpdate,
};
export { computePodQOS } from './qos.js';

/** Field selectors upstream supports on pods (pkg/registry/core/pod PodToSelectableFields). */
export function podSelectableFields(pod: Pod): Readonly<Record<string, string>> {
  const spec = pod.spec ?? {};
  const status = pod.status ?? {};
  return {
    'spec.nodeName': spec.nodeName ?? '',
    'spec.restartPolicy': spec.restartPolicy ?? '',
    'spec.schedulerName': spec.schedulerName ?? '',
    'spec.serviceAccountName': spec.serviceAccountName ?? '',
    'spec.hostNetwork': String(spec.hostNetwork ?? false),
    'status.phase': status.phase ?? '',
    // the first of podIPs is the primary address, as upstream's selector uses
    'status.podIP': status.podIPs?.[0]?.ip ?? status.podIP ?? '',
    'status.nominatedNodeName': status.nominatedNodeName ?? '',
  };
}

/**
 * Subresources with rules of their own: ephemeralcontainers, and binding (the whole pod as stored, which
 * may have ephemeral containers by then). The rest use validatePodUpdate.
 */
export function validatePodSubresourceUpdate(subresource: string, pod: Pod, old: Pod): FieldError[] | undefined {
  if (subresource === 'ephemeralcontainers') return validatePodEphemeralContainersUpdate(pod, old);
  if (subresource === 'binding') return validateStoredPod(pod);
  return undefined;
}

export const podKind: KindDefinition<Pod> = {
  group: '',
  version: 'v1',
  kind: 'Pod',
  plural: 'pods',
  singular: 'pod',
  namespaced: true,
  shortNames: ['po'],
  categories: ['all'],
  schema: podSchema,
  hasStatusSubresource: true,
  default: defaultPod,
  validate: validatePod,
  validateUpdate: validatePodUpdate,
  validateSubresourceUpdate: validatePodSubresourceUpdate,
  selectableFields: podSelectableFields,
};
