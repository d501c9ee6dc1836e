/**
 * core/v1 top-level kinds other than Pod: Namespace, Node, Service, Endpoints, ConfigMap, Secret,
 * ServiceAccount, Event and Binding, with the small reference types they share. Numbers from k8s.io/api
 * core/v1 generated.proto; pointer flags from its types.go.
 */
import type { MessageTable } from './types.js';
import { PTR, bool, int32, int64, map, microTime, msg, msgs, intOrString, str, strs, time } from './types.js';

export const coreObjectMessages: MessageTable = {
  // ---- Namespace ----------------------------------------------------------------------------------
  'core.v1.Namespace': {
    1: msg('metadata', 'meta.v1.ObjectMeta'),
    2: msg('spec', 'core.v1.NamespaceSpec'),
    3: msg('status', 'core.v1.NamespaceStatus'),
  },
  'core.v1.NamespaceSpec': {
    1: strs('finalizers'),
  },
  'core.v1.NamespaceStatus': {
    1: str('phase'),
    2: msgs('conditions', 'core.v1.NamespaceCondition'),
  },
  'core.v1.NamespaceCondition': {
    1: str('type'),
    2: str('status'),
    4: time('lastTransitionTime'),
    5: str('reason'),
    6: str('message'),
  },

  // ---- Node ---------------------------------------------------------------------------------------
  'core.v1.Node': {
    1: msg('metadata', 'meta.v1.ObjectMeta'),
    2: msg('spec', 'core.v1.NodeSpec'),
    3: msg('status', 'core.v1.NodeStatus'),
  },
  'core.v1.NodeSpec': {
    1: str('podCIDR'),
    7: strs('podCIDRs'),
    3: str('providerID'),
    4: bool('unschedulable'),
    5: msgs('taints', 'core.v1.Taint'),
    6: msg('configSource', 'core.v1.NodeConfigSource', PTR),
    2: str('externalID'),
  },
  'core.v1.Taint': {
    1: str('key'),
    2: str('value'),
    3: str('effect'),
    4: time('timeAdded', PTR),
  },
  'core.v1.NodeConfigSource': {
    2: msg('configMap', 'core.v1.ConfigMapNodeConfigSource', PTR),
  },
  'core.v1.ConfigMapNodeConfigSource': {
    1: str('namespace'),
    2: str('name'),
    3: str('uid'),
    4: str('resourceVersion'),
    5: str('kubeletConfigKey'),
  },
  'core.v1.NodeStatus': {
    1: map('capacity', 'Quantity'),
    2: map('allocatable', 'Quantity'),
    3: str('phase'),
    4: msgs('conditions', 'core.v1.NodeCondition'),
    5: msgs('addresses', 'core.v1.NodeAddress'),
    6: msg('daemonEndpoints', 'core.v1.NodeDaemonEndpoints'),
    7: msg('nodeInfo', 'core.v1.NodeSystemInfo'),
    8: msgs('images', 'core.v1.ContainerImage'),
    9: strs('volumesInUse'),
    10: msgs('volumesAttached', 'core.v1.AttachedVolume'),
    11: msg('config', 'core.v1.NodeConfigStatus', PTR),
    12: msgs('runtimeHandlers', 'core.v1.NodeRuntimeHandler'),
    13: msg('features', 'core.v1.NodeFeatures', PTR),
    14: strs('declaredFeatures'),
  },
  'core.v1.NodeCondition': {
    1: str('type'),
    2: str('status'),
    3: time('lastHeartbeatTime'),
    4: time('lastTransitionTime'),
    5: str('reason'),
    6: str('message'),
  },
  'core.v1.NodeAddress': {
    1: str('type'),
    2: str('address'),
  },
  'core.v1.NodeDaemonEndpoints': {
    1: msg('kubeletEndpoint', 'core.v1.DaemonEndpoint'),
  },
  'core.v1.DaemonEndpoint': {
    // upstream's JSON name really is capitalised
    1: int32('Port'),
  },
  'core.v1.NodeSystemInfo': {
    1: str('machineID'),
    2: str('systemUUID'),
    3: str('bootID'),
    4: str('kernelVersion'),
    5: str('osImage'),
    6: str('containerRuntimeVersion'),
    7: str('kubeletVersion'),
    8: str('kubeProxyVersion'),
    9: str('operatingSystem'),
    10: str('architecture'),
    11: msg('swap', 'core.v1.NodeSwapStatus', PTR),
  },
  'core.v1.NodeSwapStatus': {
    1: int64('capacity', PTR),
  },
  'core.v1.ContainerImage': {
    1: strs('names'),
    2: int64('sizeBytes'),
  },
  'core.v1.AttachedVolume': {
    1: str('name'),
    2: str('devicePath'),
  },
  'core.v1.NodeConfigStatus': {
    1: msg('assigned', 'core.v1.NodeConfigSource', PTR),
    2: msg('active', 'core.v1.NodeConfigSource', PTR),
    3: msg('lastKnownGood', 'core.v1.NodeConfigSource', PTR),
    4: str('error'),
  },
  'core.v1.NodeRuntimeHandler': {
    1: str('name'),
    2: msg('features', 'core.v1.NodeRuntimeHandlerFeatures', PTR),
  },
  'core.v1.NodeRuntimeHandlerFeatures': {
    1: bool('recursiveReadOnlyMounts', PTR),
    2: bool('userNamespaces', PTR),
  },
  'core.v1.NodeFeatures': {
    1: bool('supplementalGroupsPolicy', PTR),
  },

  // ---- Service ------------------------------------------------------------------------------------
  'core.v1.Service': {
    1: msg('metadata', 'meta.v1.ObjectMeta'),
    2: msg('spec', 'core.v1.ServiceSpec'),
    3: msg('status', 'core.v1.ServiceStatus'),
  },
  'core.v1.ServiceSpec': {
    1: msgs('ports', 'core.v1.ServicePort'),
    2: map('selector', 'string'),
    3: str('clusterIP'),
    18: strs('clusterIPs'),
    4: str('type'),
    5: strs('externalIPs'),
    7: str('sessionAffinity'),
    8: str('loadBalancerIP'),
    9: strs('loadBalancerSourceRanges'),
    10: str('externalName'),
    11: str('externalTrafficPolicy'),
    12: int32('healthCheckNodePort'),
    13: bool('publishNotReadyAddresses'),
    14: msg('sessionAffinityConfig', 'core.v1.SessionAffinityConfig', PTR),
    19: strs('ipFamilies'),
    17: str('ipFamilyPolicy', PTR),
    20: bool('allocateLoadBalancerNodePorts', PTR),
    21: str('loadBalancerClass', PTR),
    22: str('internalTrafficPolicy', PTR),
    23: str('trafficDistribution', PTR),
  },
  'core.v1.ServicePort': {
    1: str('name'),
    2: str('protocol'),
    6: str('appProtocol', PTR),
    3: int32('port'),
    4: intOrString('targetPort'),
    5: int32('nodePort'),
  },
  'core.v1.SessionAffinityConfig': {
    1: msg('clientIP', 'core.v1.ClientIPConfig', PTR),
  },
  'core.v1.ClientIPConfig': {
    1: int32('timeoutSeconds', PTR),
  },
  'core.v1.ServiceStatus': {
    1: msg('loadBalancer', 'core.v1.LoadBalancerStatus'),
    2: msgs('conditions', 'meta.v1.Condition'),
  },
  'core.v1.LoadBalancerStatus': {
    1: msgs('ingress', 'core.v1.LoadBalancerIngress'),
  },
  'core.v1.LoadBalancerIngress': {
    1: str('ip'),
    2: str('hostname'),
    3: str('ipMode', PTR),
    4: msgs('ports', 'core.v1.PortStatus'),
  },
  'core.v1.PortStatus': {
    1: int32('port'),
    2: str('protocol'),
    3: str('error', PTR),
  },

  // ---- Endpoints ----------------------------------------------------------------------------------
  'core.v1.Endpoints': {
    1: msg('metadata', 'meta.v1.ObjectMeta'),
    2: msgs('subsets', 'core.v1.EndpointSubset'),
  },
  'core.v1.EndpointSubset': {
    1: msgs('addresses', 'core.v1.EndpointAddress'),
    2: msgs('notReadyAddresses', 'core.v1.EndpointAddress'),
    3: msgs('ports', 'core.v1.EndpointPort'),
  },
  'core.v1.EndpointAddress': {
    1: str('ip'),
    3: str('hostname'),
    4: str('nodeName', PTR),
    2: msg('targetRef', 'core.v1.ObjectReference', PTR),
  },
  'core.v1.EndpointPort': {
    1: str('name'),
    2: int32('port'),
    3: str('protocol'),
    4: str('appProtocol', PTR),
  },

  // ---- configuration ------------------------------------------------------------------------------
  'core.v1.ConfigMap': {
    1: msg('metadata', 'meta.v1.ObjectMeta'),
    4: bool('immutable', PTR),
    2: map('data', 'string'),
    3: map('binaryData', 'bytes'),
  },
  'core.v1.Secret': {
    1: msg('metadata', 'meta.v1.ObjectMeta'),
    5: bool('immutable', PTR),
    2: map('data', 'bytes'),
    4: map('stringData', 'string'),
    3: str('type'),
  },
  'core.v1.ServiceAccount': {
    1: msg('metadata', 'meta.v1.ObjectMeta'),
    2: msgs('secrets', 'core.v1.ObjectReference'),
    3: msgs('imagePullSecrets', 'core.v1.LocalObjectReference'),
    4: bool('automountServiceAccountToken', PTR),
  },

  // ---- events and references ----------------------------------------------------------------------
  'core.v1.Event': {
    1: msg('metadata', 'meta.v1.ObjectMeta'),
    2: msg('involvedObject', 'core.v1.ObjectReference'),
    3: str('reason'),
    4: str('message'),
    5: msg('source', 'core.v1.EventSource'),
    6: time('firstTimestamp'),
    7: time('lastTimestamp'),
    8: int32('count'),
    9: str('type'),
    10: microTime('eventTime'),
    11: msg('series', 'core.v1.EventSeries', PTR),
    12: str('action'),
    13: msg('related', 'core.v1.ObjectReference', PTR),
    14: str('reportingComponent'),
    15: str('reportingInstance'),
  },
  'core.v1.EventSeries': {
    1: int32('count'),
    2: microTime('lastObservedTime'),
  },
  'core.v1.EventSource': {
    1: str('component'),
    2: str('host'),
  },
  'core.v1.ObjectReference': {
    1: str('kind'),
    2: str('namespace'),
    3: str('name'),
    4: str('uid'),
    5: str('apiVersion'),
    6: str('resourceVersion'),
    7: str('fieldPath'),
  },
  'core.v1.Binding': {
    1: msg('metadata', 'meta.v1.ObjectMeta'),
    2: msg('target', 'core.v1.ObjectReference'),
  },
};
