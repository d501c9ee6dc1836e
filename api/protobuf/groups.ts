/**
 * Messages of the non-core groups this server serves: apps/v1 (Deployment, ReplicaSet, DaemonSet,
 * StatefulSet, ControllerRevision),
 * discovery.k8s.io/v1 (EndpointSlice), coordination.k8s.io/v1 (Lease), events.k8s.io/v1 (Event),
 * autoscaling/v1 (Scale), policy/v1 (Eviction, PodDisruptionBudget), certificates.k8s.io/v1 (CertificateSigningRequest) and
 * the self reviews of authorization.k8s.io/v1 and authentication.k8s.io/v1. Numbers from each group's
 * generated.proto; pointer flags from its types.go.
 */
import type { MessageTable } from './types.js';
import { PTR, bool, bytes, fieldsV1, int32, int64, intOrString, map, microTime, msg, msgs, str, strs, time } from './types.js';

const workloadCondition = {
  1: str('type'),
  2: str('status'),
  3: time('lastTransitionTime'),
  4: str('reason'),
  5: str('message'),
};

export const appsMessages: MessageTable = {
  'apps.v1.ControllerRevision': {
    1: msg('metadata', 'meta.v1.ObjectMeta'),
    // runtime.RawExtension: field 1 holds the JSON bytes, the same wire shape as FieldsV1
    2: fieldsV1('data'),
    3: int64('revision'),
  },
  'apps.v1.Deployment': {
    1: msg('metadata', 'meta.v1.ObjectMeta'),
    2: msg('spec', 'apps.v1.DeploymentSpec'),
    3: msg('status', 'apps.v1.DeploymentStatus'),
  },
  'apps.v1.DeploymentSpec': {
    1: int32('replicas', PTR),
    2: msg('selector', 'meta.v1.LabelSelector', PTR),
    3: msg('template', 'core.v1.PodTemplateSpec'),
    4: msg('strategy', 'apps.v1.DeploymentStrategy'),
    5: int32('minReadySeconds'),
    6: int32('revisionHistoryLimit', PTR),
    7: bool('paused'),
    9: int32('progressDeadlineSeconds', PTR),
    10: str('podReplacementPolicy', PTR),
  },
  'apps.v1.DeploymentStrategy': {
    1: str('type'),
    2: msg('rollingUpdate', 'apps.v1.RollingUpdateDeployment', PTR),
  },
  'apps.v1.RollingUpdateDeployment': {
    1: intOrString('maxUnavailable', PTR),
    2: intOrString('maxSurge', PTR),
  },
  'apps.v1.DeploymentStatus': {
    1: int64('observedGeneration'),
    2: int32('replicas'),
    3: int32('updatedReplicas'),
    7: int32('readyReplicas'),
    4: int32('availableReplicas'),
    5: int32('unavailableReplicas'),
    9: int32('terminatingReplicas', PTR),
    6: msgs('conditions', 'apps.v1.DeploymentCondition'),
    8: int32('collisionCount', PTR),
  },
  'apps.v1.DeploymentCondition': {
    1: str('type'),
    2: str('status'),
    6: time('lastUpdateTime'),
    7: time('lastTransitionTime'),
    4: str('reason'),
    5: str('message'),
  },
  'apps.v1.ReplicaSet': {
    1: msg('metadata', 'meta.v1.ObjectMeta'),
    2: msg('spec', 'apps.v1.ReplicaSetSpec'),
    3: msg('status', 'apps.v1.ReplicaSetStatus'),
  },
  'apps.v1.ReplicaSetSpec': {
    1: int32('replicas', PTR),
    4: int32('minReadySeconds'),
    2: msg('selector', 'meta.v1.LabelSelector', PTR),
    3: msg('template', 'core.v1.PodTemplateSpec'),
  },
  'apps.v1.ReplicaSetStatus': {
    1: int32('replicas'),
    2: int32('fullyLabeledReplicas'),
    4: int32('readyReplicas'),
    5: int32('availableReplicas'),
    7: int32('terminatingReplicas', PTR),
    3: int64('observedGeneration'),
    6: msgs('conditions', 'apps.v1.ReplicaSetCondition'),
  },
  'apps.v1.ReplicaSetCondition': workloadCondition,
  'apps.v1.DaemonSet': {
    1: msg('metadata', 'meta.v1.ObjectMeta'),
    2: msg('spec', 'apps.v1.DaemonSetSpec'),
    3: msg('status', 'apps.v1.DaemonSetStatus'),
  },
  'apps.v1.DaemonSetSpec': {
    1: msg('selector', 'meta.v1.LabelSelector', PTR),
    2: msg('template', 'core.v1.PodTemplateSpec'),
    3: msg('updateStrategy', 'apps.v1.DaemonSetUpdateStrategy'),
    4: int32('minReadySeconds'),
    6: int32('revisionHistoryLimit', PTR),
  },
  'apps.v1.DaemonSetUpdateStrategy': {
    1: str('type'),
    2: msg('rollingUpdate', 'apps.v1.RollingUpdateDaemonSet', PTR),
  },
  'apps.v1.RollingUpdateDaemonSet': {
    1: intOrString('maxUnavailable', PTR),
    2: intOrString('maxSurge', PTR),
  },
  'apps.v1.DaemonSetStatus': {
    1: int32('currentNumberScheduled'),
    2: int32('numberMisscheduled'),
    3: int32('desiredNumberScheduled'),
    4: int32('numberReady'),
    5: int64('observedGeneration'),
    6: int32('updatedNumberScheduled'),
    7: int32('numberAvailable'),
    8: int32('numberUnavailable'),
    9: int32('collisionCount', PTR),
    10: msgs('conditions', 'apps.v1.DaemonSetCondition'),
  },
  'apps.v1.DaemonSetCondition': workloadCondition,
  'apps.v1.StatefulSet': {
    1: msg('metadata', 'meta.v1.ObjectMeta'),
    2: msg('spec', 'apps.v1.StatefulSetSpec'),
    3: msg('status', 'apps.v1.StatefulSetStatus'),
  },
  'apps.v1.StatefulSetSpec': {
    1: int32('replicas', PTR),
    2: msg('selector', 'meta.v1.LabelSelector', PTR),
    3: msg('template', 'core.v1.PodTemplateSpec'),
    4: msgs('volumeClaimTemplates', 'core.v1.PersistentVolumeClaim'),
    5: str('serviceName'),
    6: str('podManagementPolicy'),
    7: msg('updateStrategy', 'apps.v1.StatefulSetUpdateStrategy'),
    8: int32('revisionHistoryLimit', PTR),
    9: int32('minReadySeconds'),
    10: msg('persistentVolumeClaimRetentionPolicy', 'apps.v1.StatefulSetPersistentVolumeClaimRetentionPolicy', PTR),
    11: msg('ordinals', 'apps.v1.StatefulSetOrdinals', PTR),
  },
  'apps.v1.StatefulSetUpdateStrategy': {
    1: str('type'),
    2: msg('rollingUpdate', 'apps.v1.RollingUpdateStatefulSetStrategy', PTR),
  },
  'apps.v1.RollingUpdateStatefulSetStrategy': {
    1: int32('partition', PTR),
    2: intOrString('maxUnavailable', PTR),
  },
  'apps.v1.StatefulSetPersistentVolumeClaimRetentionPolicy': {
    1: str('whenDeleted'),
    2: str('whenScaled'),
  },
  'apps.v1.StatefulSetOrdinals': {
    // non-pointer, no omitempty upstream: always in the JSON, 0 included
    1: int32('start', PTR),
  },
  'apps.v1.StatefulSetStatus': {
    1: int64('observedGeneration'),
    // replicas and availableReplicas: non-pointer, no omitempty upstream (always in the JSON, 0 included)
    2: int32('replicas', PTR),
    3: int32('readyReplicas'),
    4: int32('currentReplicas'),
    5: int32('updatedReplicas'),
    6: str('currentRevision'),
    7: str('updateRevision'),
    9: int32('collisionCount', PTR),
    10: msgs('conditions', 'apps.v1.StatefulSetCondition'),
    11: int32('availableReplicas', PTR),
  },
  'apps.v1.StatefulSetCondition': workloadCondition,
  // core/v1 PersistentVolumeClaim, here because only StatefulSetSpec.volumeClaimTemplates reaches it (knode
  // serves no claims; the spec message is core-volume.ts's, shared with ephemeral volumes). Its TypeMeta
  // is not on the wire upstream either. Status field 9 (modifyVolumeStatus) is left out: a claim
  // template's status is never read.
  'core.v1.PersistentVolumeClaim': {
    1: msg('metadata', 'meta.v1.ObjectMeta'),
    2: msg('spec', 'core.v1.PersistentVolumeClaimSpec'),
    3: msg('status', 'core.v1.PersistentVolumeClaimStatus'),
  },
  'core.v1.PersistentVolumeClaimStatus': {
    1: str('phase'),
    2: strs('accessModes'),
    3: map('capacity', 'Quantity'),
    4: msgs('conditions', 'core.v1.PersistentVolumeClaimCondition'),
    5: map('allocatedResources', 'Quantity'),
    7: map('allocatedResourceStatuses', 'string'),
    8: str('currentVolumeAttributesClassName', PTR),
  },
  'core.v1.PersistentVolumeClaimCondition': {
    1: str('type'),
    2: str('status'),
    3: time('lastProbeTime'),
    4: time('lastTransitionTime'),
    5: str('reason'),
    6: str('message'),
  },
};

export const discoveryMessages: MessageTable = {
  'discovery.v1.EndpointSlice': {
    1: msg('metadata', 'meta.v1.ObjectMeta'),
    4: str('addressType'),
    2: msgs('endpoints', 'discovery.v1.Endpoint'),
    3: msgs('ports', 'discovery.v1.EndpointPort'),
  },
  'discovery.v1.Endpoint': {
    1: strs('addresses'),
    2: msg('conditions', 'discovery.v1.EndpointConditions'),
    3: str('hostname', PTR),
    4: msg('targetRef', 'core.v1.ObjectReference', PTR),
    5: map('deprecatedTopology', 'string'),
    6: str('nodeName', PTR),
    7: str('zone', PTR),
    8: msg('hints', 'discovery.v1.EndpointHints', PTR),
  },
  'discovery.v1.EndpointConditions': {
    1: bool('ready', PTR),
    2: bool('serving', PTR),
    3: bool('terminating', PTR),
  },
  'discovery.v1.EndpointHints': {
    1: msgs('forZones', 'discovery.v1.ForZone'),
    2: msgs('forNodes', 'discovery.v1.ForNode'),
  },
  'discovery.v1.ForZone': {
    1: str('name'),
  },
  'discovery.v1.ForNode': {
    1: str('name'),
  },
  'discovery.v1.EndpointPort': {
    1: str('name', PTR),
    2: str('protocol', PTR),
    3: int32('port', PTR),
    4: str('appProtocol', PTR),
  },
};

export const coordinationMessages: MessageTable = {
  'coordination.v1.Lease': {
    1: msg('metadata', 'meta.v1.ObjectMeta'),
    2: msg('spec', 'coordination.v1.LeaseSpec'),
  },
  'coordination.v1.LeaseSpec': {
    1: str('holderIdentity', PTR),
    2: int32('leaseDurationSeconds', PTR),
    3: microTime('acquireTime', PTR),
    4: microTime('renewTime', PTR),
    5: int32('leaseTransitions', PTR),
    6: str('strategy', PTR),
    7: str('preferredHolder', PTR),
  },
};

export const eventsMessages: MessageTable = {
  'events.v1.Event': {
    1: msg('metadata', 'meta.v1.ObjectMeta'),
    2: microTime('eventTime'),
    3: msg('series', 'events.v1.EventSeries', PTR),
    4: str('reportingController'),
    5: str('reportingInstance'),
    6: str('action'),
    7: str('reason'),
    8: msg('regarding', 'core.v1.ObjectReference'),
    9: msg('related', 'core.v1.ObjectReference', PTR),
    10: str('note'),
    11: str('type'),
    12: msg('deprecatedSource', 'core.v1.EventSource'),
    13: time('deprecatedFirstTimestamp'),
    14: time('deprecatedLastTimestamp'),
    15: int32('deprecatedCount'),
  },
  'events.v1.EventSeries': {
    1: int32('count'),
    2: microTime('lastObservedTime'),
  },
};

export const autoscalingMessages: MessageTable = {
  'autoscaling.v1.Scale': {
    1: msg('metadata', 'meta.v1.ObjectMeta'),
    2: msg('spec', 'autoscaling.v1.ScaleSpec'),
    3: msg('status', 'autoscaling.v1.ScaleStatus'),
  },
  'autoscaling.v1.ScaleSpec': {
    // non-pointer with omitempty upstream: `replicas: 0` and no replicas mean the same (scale to zero)
    1: int32('replicas'),
  },
  'autoscaling.v1.ScaleStatus': {
    1: int32('replicas'),
    2: str('selector'),
  },
};

export const policyMessages: MessageTable = {
  'policy.v1.Eviction': {
    1: msg('metadata', 'meta.v1.ObjectMeta'),
    2: msg('deleteOptions', 'meta.v1.DeleteOptions', PTR),
  },
  // numbers checked against kubectl create pdb's request bodies (api/protobuf/pdb.test.ts)
  'policy.v1.PodDisruptionBudget': {
    1: msg('metadata', 'meta.v1.ObjectMeta'),
    2: msg('spec', 'policy.v1.PodDisruptionBudgetSpec'),
    3: msg('status', 'policy.v1.PodDisruptionBudgetStatus'),
  },
  'policy.v1.PodDisruptionBudgetSpec': {
    1: intOrString('minAvailable', PTR),
    2: msg('selector', 'meta.v1.LabelSelector', PTR),
    3: intOrString('maxUnavailable', PTR),
    4: str('unhealthyPodEvictionPolicy', PTR),
  },
  'policy.v1.PodDisruptionBudgetStatus': {
    1: int64('observedGeneration'),
    2: map('disruptedPods', 'Time'),
    // non-pointer, no omitempty upstream: always in the JSON, 0 included
    3: int32('disruptionsAllowed', PTR),
    4: int32('currentHealthy', PTR),
    5: int32('desiredHealthy', PTR),
    6: int32('expectedPods', PTR),
    7: msgs('conditions', 'meta.v1.Condition'),
  },
};

export const certificatesMessages: MessageTable = {
  'certificates.v1.CertificateSigningRequest': {
    1: msg('metadata', 'meta.v1.ObjectMeta'),
    2: msg('spec', 'certificates.v1.CertificateSigningRequestSpec'),
    3: msg('status', 'certificates.v1.CertificateSigningRequestStatus'),
  },
  'certificates.v1.CertificateSigningRequestSpec': {
    1: bytes('request'),
    7: str('signerName'),
    8: int32('expirationSeconds', PTR),
    5: strs('usages'),
    2: str('username'),
    3: str('uid'),
    4: strs('groups'),
    6: map('extra', 'StringList'),
  },
  'certificates.v1.CertificateSigningRequestStatus': {
    1: msgs('conditions', 'certificates.v1.CertificateSigningRequestCondition'),
    2: bytes('certificate'),
  },
  'certificates.v1.CertificateSigningRequestCondition': {
    1: str('type'),
    6: str('status'),
    2: str('reason'),
    3: str('message'),
    4: time('lastUpdateTime'),
    5: time('lastTransitionTime'),
  },
};

/** authorization.k8s.io/v1: the self reviews (`kubectl auth can-i`, `--list`). */
export const authorizationMessages: MessageTable = {
  'authorization.v1.SelfSubjectAccessReview': {
    1: msg('metadata', 'meta.v1.ObjectMeta'),
    2: msg('spec', 'authorization.v1.SelfSubjectAccessReviewSpec'),
    3: msg('status', 'authorization.v1.SubjectAccessReviewStatus'),
  },
  'authorization.v1.SelfSubjectAccessReviewSpec': {
    1: msg('resourceAttributes', 'authorization.v1.ResourceAttributes', PTR),
    2: msg('nonResourceAttributes', 'authorization.v1.NonResourceAttributes', PTR),
  },
  'authorization.v1.ResourceAttributes': {
    1: str('namespace'),
    2: str('verb'),
    3: str('group'),
    4: str('version'),
    5: str('resource'),
    6: str('subresource'),
    7: str('name'),
  },
  'authorization.v1.NonResourceAttributes': {
    1: str('path'),
    2: str('verb'),
  },
  'authorization.v1.SubjectAccessReviewStatus': {
    1: bool('allowed'),
    4: bool('denied'),
    2: str('reason'),
    3: str('evaluationError'),
  },
  'authorization.v1.SelfSubjectRulesReview': {
    1: msg('metadata', 'meta.v1.ObjectMeta'),
    2: msg('spec', 'authorization.v1.SelfSubjectRulesReviewSpec'),
  },
  'authorization.v1.SelfSubjectRulesReviewSpec': {
    1: str('namespace'),
  },
};

/** authentication.k8s.io/v1: SelfSubjectReview (`kubectl auth whoami`), TokenRequest (`kubectl create token`). */
export const authenticationMessages: MessageTable = {
  'authentication.v1.TokenRequest': {
    1: msg('metadata', 'meta.v1.ObjectMeta'),
    2: msg('spec', 'authentication.v1.TokenRequestSpec'),
    3: msg('status', 'authentication.v1.TokenRequestStatus'),
  },
  'authentication.v1.TokenRequestSpec': {
    1: strs('audiences'),
    3: msg('boundObjectRef', 'authentication.v1.BoundObjectReference', PTR),
    4: int64('expirationSeconds', PTR),
  },
  'authentication.v1.BoundObjectReference': {
    1: str('kind'),
    2: str('apiVersion'),
    3: str('name'),
    4: str('uid'),
  },
  'authentication.v1.TokenRequestStatus': {
    1: str('token'),
    2: time('expirationTimestamp'),
  },
  'authentication.v1.SelfSubjectReview': {
    1: msg('metadata', 'meta.v1.ObjectMeta'),
    2: msg('status', 'authentication.v1.SelfSubjectReviewStatus'),
  },
  'authentication.v1.SelfSubjectReviewStatus': {
    1: msg('userInfo', 'authentication.v1.UserInfo'),
  },
  'authentication.v1.UserInfo': {
    1: str('username'),
    2: str('uid'),
    3: strs('groups'),
    4: map('extra', 'StringList'),
  },
};
