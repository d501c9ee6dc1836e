/**
 * All message tables in one place, and which message carries which apiVersion+kind. A new served kind
 * needs its messages in a table file and one line in `topMessages`.
 */
import { batchMessages } from './batch.js';
import { containerMessages } from './core-container.js';
import { coreObjectMessages } from './core-objects.js';
import { podMessages } from './core-pod.js';
import { volumeMessages } from './core-volume.js';
import {
  appsMessages,
  authenticationMessages,
  authorizationMessages,
  autoscalingMessages,
  certificatesMessages,
  coordinationMessages,
  discoveryMessages,
  eventsMessages,
  policyMessages,
} from './groups.js';
import { metaMessages } from './meta.js';
import { rbacMessages } from './rbac.js';
import type { MessageTable } from './types.js';

export const allMessages: MessageTable = {
  ...metaMessages,
  ...containerMessages,
  ...podMessages,
  ...volumeMessages,
  ...coreObjectMessages,
  ...appsMessages,
  ...batchMessages,
  ...discoveryMessages,
  ...coordinationMessages,
  ...eventsMessages,
  ...autoscalingMessages,
  ...policyMessages,
  ...certificatesMessages,
  ...authorizationMessages,
  ...authenticationMessages,
  ...rbacMessages,
};

/** `apiVersion/kind` -> top-level message. */
export const topMessages: Readonly<Record<string, string>> = {
  'v1/Namespace': 'core.v1.Namespace',
  'v1/Node': 'core.v1.Node',
  'v1/Pod': 'core.v1.Pod',
  'v1/Service': 'core.v1.Service',
  'v1/Endpoints': 'core.v1.Endpoints',
  'v1/ConfigMap': 'core.v1.ConfigMap',
  'v1/Secret': 'core.v1.Secret',
  'v1/ServiceAccount': 'core.v1.ServiceAccount',
  'v1/Event': 'core.v1.Event',
  'v1/Binding': 'core.v1.Binding',
  'apps/v1/Deployment': 'apps.v1.Deployment',
  'apps/v1/ReplicaSet': 'apps.v1.ReplicaSet',
  'apps/v1/DaemonSet': 'apps.v1.DaemonSet',
  'apps/v1/StatefulSet': 'apps.v1.StatefulSet',
  'apps/v1/ControllerRevision': 'apps.v1.ControllerRevision',
  'batch/v1/Job': 'batch.v1.Job',
  'batch/v1/CronJob': 'batch.v1.CronJob',
  'discovery.k8s.io/v1/EndpointSlice': 'discovery.v1.EndpointSlice',
  'coordination.k8s.io/v1/Lease': 'coordination.v1.Lease',
  'events.k8s.io/v1/Event': 'events.v1.Event',
  'autoscaling/v1/Scale': 'autoscaling.v1.Scale',
  'policy/v1/Eviction': 'policy.v1.Eviction',
  'policy/v1beta1/Eviction': 'policy.v1.Eviction',
  'policy/v1/PodDisruptionBudget': 'policy.v1.PodDisruptionBudget',
  'certificates.k8s.io/v1/CertificateSigningRequest': 'certificates.v1.CertificateSigningRequest',
  'authorization.k8s.io/v1/SelfSubjectAccessReview': 'authorization.v1.SelfSubjectAccessReview',
  'authorization.k8s.io/v1/SelfSubjectRulesReview': 'authorization.v1.SelfSubjectRulesReview',
  'authentication.k8s.io/v1/SelfSubjectReview': 'authentication.v1.SelfSubjectReview',
  'authentication.k8s.io/v1/TokenRequest': 'authentication.v1.TokenRequest',
  'rbac.authorization.k8s.io/v1/Role': 'rbac.v1.Role',
  'rbac.authorization.k8s.io/v1/ClusterRole': 'rbac.v1.ClusterRole',
  'rbac.authorization.k8s.io/v1/RoleBinding': 'rbac.v1.RoleBinding',
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': 'rbac.v1.ClusterRoleBinding',
};

/**
 * meta/v1 option kinds are registered in every group version (a typed client for apps/v1 sends its
 * DeleteOptions as `apps/v1, DeleteOptions`), so they match by kind alone.
 */
const anyVersionKinds: Readonly<Record<string, string>> = {
  DeleteOptions: 'meta.v1.DeleteOptions',
};

/** The message for an apiVersion+kind, or undefined when this server has no table for it. */
export function messageFor(apiVersion: string, kind: string): string | undefined {
  // own properties only: apiVersion and kind come from the request body
  const key = `${apiVersion}/${kind}`;
  if (Object.hasOwn(topMessages, key)) return topMessages[key];
  return Object.hasOwn(anyVersionKinds, kind) ? anyVersionKinds[kind] : undefined;
}
