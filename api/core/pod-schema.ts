/**
 * Schemas of Pod, PodSpec, PodStatus and PodTemplateSpec with upstream's strategic-merge tags:
 * containers/initContainers/ephemeralContainers/imagePullSecrets/schedulingGates by name, volumes by name
 * with retainKeys, hostAliases by ip, topologySpreadConstraints by topologyKey, conditions by type,
 * podIPs/hostIPs by ip. Tolerations, readinessGates and container statuses are replaced whole.
 */
import { conditionFields, objectMetaSchema, typeMetaFields } from '../meta-schema.js';
import { arrayOf, bool, int, listByKey, mapOf, obj, str, time } from '../schema.js';
import type { ObjectSchema } from '../schema.js';
import { localObjectReferenceSchema, resourceListSchema } from './common.js';
import {
  containerSchema,
  enumOf,
  ephemeralContainerSchema,
  profileSchema,
  seLinuxOptionsSchema,
  windowsOptionsSchema,
} from './container-schema.js';
import { DNS_POLICIES, POD_PHASES, RESTART_POLICIES } from './pod-types.js';
import { resourceRequirementsSchema } from './resources.js';
import { affinitySchema, tolerationSchema, topologySpreadConstraintsSchema } from './scheduling.js';
import { volumesSchema } from './volume.js';

export const podSecurityContextSchema: ObjectSchema = obj({
  seLinuxOptions: seLinuxOptionsSchema,
  windowsOptions: windowsOptionsSchema,
  runAsUser: int(),
  runAsGroup: int(),
  runAsNonRoot: bool(),
  supplementalGroups: arrayOf(int()),
  supplementalGroupsPolicy: enumOf(['Merge', 'Strict']),
  fsGroup: int(),
  sysctls: arrayOf(obj({ name: str(), value: str() }, { required: ['name', 'value'] })),
  fsGroupChangePolicy: enumOf(['OnRootMismatch', 'Always']),
  seccompProfile: profileSchema,
  appArmorProfile: profileSchema,
  seLinuxChangePolicy: str(),
});

export const podSpecSchema: ObjectSchema = obj(
  {
    volumes: volumesSchema,
    initContainers: listByKey(containerSchema, 'name', 'Run in order before the app containers.'),
    containers: listByKey(containerSchema, 'name', 'At least one container.'),
    ephemeralContainers: listByKey(ephemeralContainerSchema, 'name'),
    restartPolicy: enumOf(RESTART_POLICIES),
    terminationGracePeriodSeconds: int(),
    activeDeadlineSeconds: int(),
    dnsPolicy: enumOf(DNS_POLICIES),
    nodeSelector: mapOf(str()),
    serviceAccountName: str(),
    serviceAccount: str('Deprecated: use serviceAccountName.'),
    automountServiceAccountToken: bool(),
    nodeName: str('The node the pod is bound to; set by the scheduler through the binding subresource.'),
    hostNetwork: bool(),
    hostPID: bool(),
    hostIPC: bool(),
    shareProcessNamespace: bool(),
    securityContext: podSecurityContextSchema,
    imagePullSecrets: listByKey(localObjectReferenceSchema, 'name'),
    hostname: str(),
    subdomain: str(),
    affinity: affinitySchema,
    schedulerName: str(),
    tolerations: arrayOf(tolerationSchema),
    hostAliases: listByKey(obj({ ip: str(), hostnames: arrayOf(str()) }, { required: ['ip'] }), 'ip'),
    priorityClassName: str(),
    priority: int(),
    dnsConfig: obj({
      nameservers: arrayOf(str()),
      searches: arrayOf(str()),
      options: arrayOf(obj({ name: str(), value: str() })),
    }),
    readinessGates: arrayOf(obj({ conditionType: str() }, { required: ['conditionType'] })),
    runtimeClassName: str(),
    enableServiceLinks: bool(),
    preemptionPolicy: enumOf(['PreemptLowerPriority', 'Never']),
    overhead: resourceListSchema,
    topologySpreadConstraints: topologySpreadConstraintsSchema,
    setHostnameAsFQDN: bool(),
    os: obj({ name: enumOf(['linux', 'windows']) }, { required: ['name'] }),
    hostUsers: bool(),
    schedulingGates: listByKey(obj({ name: str() }, { required: ['name'] }), 'name'),
    resourceClaims: arrayOf(obj({ name: str(), resourceClaimName: str(), resourceClaimTemplateName: str() }, { required: ['name'] }), {
      strategy: 'merge,retainKeys',
      mergeKey: 'name',
    }),
    resources: resourceRequirementsSchema,
  },
  { required: ['containers'] },
);

const containerStateSchema: ObjectSchema = obj({
  waiting: obj({ reason: str(), message: str() }),
  running: obj({ startedAt: time() }),
  terminated: obj(
    {
      exitCode: int(),
      signal: int(),
      reason: str(),
      message: str(),
      startedAt: time(),
      finishedAt: time(),
      containerID: str(),
    },
    { required: ['exitCode'] },
  ),
});

export const containerStatusSchema: ObjectSchema = obj(
  {
    name: str(),
    state: containerStateSchema,
    lastState: containerStateSchema,
    ready: bool(),
    restartCount: int(),
    image: str(),
    imageID: str(),
    containerID: str(),
    started: bool(),
    allocatedResources: resourceListSchema,
    resources: resourceRequirementsSchema,
    volumeMounts: arrayOf(
      obj({ name: str(), mountPath: str(), readOnly: bool(), recursiveReadOnly: str() }, { required: ['name', 'mountPath'] }),
    ),
  },
  { required: ['name', 'ready', 'restartCount', 'image', 'imageID'] },
);

const podIPSchema: ObjectSchema = obj({ ip: str() }, { required: ['ip'] });

export const podStatusSchema: ObjectSchema = obj({
  observedGeneration: int(),
  phase: enumOf(POD_PHASES),
  conditions: listByKey(obj(conditionFields, { required: ['type', 'status'] }), 'type'),
  message: str(),
  reason: str(),
  nominatedNodeName: str(),
  hostIP: str(),
  hostIPs: listByKey(podIPSchema, 'ip'),
  podIP: str(),
  podIPs: listByKey(podIPSchema, 'ip'),
  startTime: time(),
  initContainerStatuses: arrayOf(containerStatusSchema),
  containerStatuses: arrayOf(containerStatusSchema),
  ephemeralContainerStatuses: arrayOf(containerStatusSchema),
  qosClass: enumOf(['Guaranteed', 'Burstable', 'BestEffort']),
  resize: str(),
});

export const podTemplateSpecSchema: ObjectSchema = obj({ metadata: objectMetaSchema, spec: podSpecSchema });

export const podSchema: ObjectSchema = obj(
  { ...typeMetaFields, metadata: objectMetaSchema, spec: podSpecSchema, status: podStatusSchema },
  { description: 'Pod is a collection of containers that can run on a host.' },
);
