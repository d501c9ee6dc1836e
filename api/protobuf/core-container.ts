/**
 * core/v1 messages of a container: Container (and its ephemeral twin), ports, env, resources, probes,
 * lifecycle hooks, mounts and the container security context. Numbers from k8s.io/api core/v1
 * generated.proto; pointer flags from its types.go.
 */
import type { MessageSpec, MessageTable } from './types.js';
import { PTR, bool, inline, int32, int32s, int64, intOrString, map, msg, msgs, quantity, str, strs } from './types.js';

/** Container and EphemeralContainerCommon share every field number (upstream keeps them in lockstep). */
const containerFields: MessageSpec = {
  1: str('name'),
  2: str('image'),
  3: strs('command'),
  4: strs('args'),
  5: str('workingDir'),
  6: msgs('ports', 'core.v1.ContainerPort'),
  19: msgs('envFrom', 'core.v1.EnvFromSource'),
  7: msgs('env', 'core.v1.EnvVar'),
  8: msg('resources', 'core.v1.ResourceRequirements'),
  23: msgs('resizePolicy', 'core.v1.ContainerResizePolicy'),
  24: str('restartPolicy', PTR),
  25: msgs('restartPolicyRules', 'core.v1.ContainerRestartRule'),
  9: msgs('volumeMounts', 'core.v1.VolumeMount'),
  21: msgs('volumeDevices', 'core.v1.VolumeDevice'),
  10: msg('livenessProbe', 'core.v1.Probe', PTR),
  11: msg('readinessProbe', 'core.v1.Probe', PTR),
  22: msg('startupProbe', 'core.v1.Probe', PTR),
  12: msg('lifecycle', 'core.v1.Lifecycle', PTR),
  13: str('terminationMessagePath'),
  20: str('terminationMessagePolicy'),
  14: str('imagePullPolicy'),
  15: msg('securityContext', 'core.v1.SecurityContext', PTR),
  16: bool('stdin'),
  17: bool('stdinOnce'),
  18: bool('tty'),
};

export const containerMessages: MessageTable = {
  'core.v1.Container': containerFields,
  'core.v1.EphemeralContainerCommon': containerFields,
  'core.v1.EphemeralContainer': {
    1: inline('ephemeralContainerCommon', 'core.v1.EphemeralContainerCommon'),
    2: str('targetContainerName'),
  },
  'core.v1.ContainerPort': {
    1: str('name'),
    2: int32('hostPort'),
    3: int32('containerPort'),
    4: str('protocol'),
    5: str('hostIP'),
  },
  'core.v1.ContainerRestartRule': {
    1: str('action'),
    2: msg('exitCodes', 'core.v1.ContainerRestartRuleOnExitCodes', PTR),
  },
  'core.v1.ContainerRestartRuleOnExitCodes': {
    1: str('operator'),
    2: int32s('values'),
  },
  'core.v1.ContainerResizePolicy': {
    1: str('resourceName'),
    2: str('restartPolicy'),
  },

  // ---- environment ------------------------------------------------------------------------------
  'core.v1.EnvFromSource': {
    1: str('prefix'),
    2: msg('configMapRef', 'core.v1.ConfigMapEnvSource', PTR),
    3: msg('secretRef', 'core.v1.SecretEnvSource', PTR),
  },
  'core.v1.ConfigMapEnvSource': {
    1: inline('localObjectReference', 'core.v1.LocalObjectReference'),
    2: bool('optional', PTR),
  },
  'core.v1.SecretEnvSource': {
    1: inline('localObjectReference', 'core.v1.LocalObjectReference'),
    2: bool('optional', PTR),
  },
  'core.v1.EnvVar': {
    1: str('name'),
    2: str('value'),
    3: msg('valueFrom', 'core.v1.EnvVarSource', PTR),
  },
  'core.v1.EnvVarSource': {
    1: msg('fieldRef', 'core.v1.ObjectFieldSelector', PTR),
    2: msg('resourceFieldRef', 'core.v1.ResourceFieldSelector', PTR),
    3: msg('configMapKeyRef', 'core.v1.ConfigMapKeySelector', PTR),
    4: msg('secretKeyRef', 'core.v1.SecretKeySelector', PTR),
    5: msg('fileKeyRef', 'core.v1.FileKeySelector', PTR),
  },
  'core.v1.ObjectFieldSelector': {
    1: str('apiVersion'),
    2: str('fieldPath'),
  },
  'core.v1.ResourceFieldSelector': {
    1: str('containerName'),
    2: str('resource'),
    // a non-pointer Quantity: Go writes "0" when unset, which upstream validation reads as unset too
    3: quantity('divisor'),
  },
  'core.v1.ConfigMapKeySelector': {
    1: inline('localObjectReference', 'core.v1.LocalObjectReference'),
    2: str('key'),
    3: bool('optional', PTR),
  },
  'core.v1.SecretKeySelector': {
    1: inline('localObjectReference', 'core.v1.LocalObjectReference'),
    2: str('key'),
    3: bool('optional', PTR),
  },
  'core.v1.FileKeySelector': {
    1: str('volumeName'),
    2: str('path'),
    3: str('key'),
    4: bool('optional', PTR),
  },

  // ---- resources and mounts ---------------------------------------------------------------------
  'core.v1.ResourceRequirements': {
    1: map('limits', 'Quantity'),
    2: map('requests', 'Quantity'),
    3: msgs('claims', 'core.v1.ResourceClaim'),
  },
  'core.v1.ResourceClaim': {
    1: str('name'),
    2: str('request'),
  },
  'core.v1.VolumeMount': {
    1: str('name'),
    2: bool('readOnly'),
    7: str('recursiveReadOnly', PTR),
    3: str('mountPath'),
    4: str('subPath'),
    5: str('mountPropagation', PTR),
    6: str('subPathExpr'),
  },
  'core.v1.VolumeDevice': {
    1: str('name'),
    2: str('devicePath'),
  },

  // ---- probes and lifecycle hooks ---------------------------------------------------------------
  'core.v1.Probe': {
    1: inline('handler', 'core.v1.ProbeHandler'),
    2: int32('initialDelaySeconds'),
    3: int32('timeoutSeconds'),
    4: int32('periodSeconds'),
    5: int32('successThreshold'),
    6: int32('failureThreshold'),
    7: int64('terminationGracePeriodSeconds', PTR),
  },
  'core.v1.ProbeHandler': {
    1: msg('exec', 'core.v1.ExecAction', PTR),
    2: msg('httpGet', 'core.v1.HTTPGetAction', PTR),
    3: msg('tcpSocket', 'core.v1.TCPSocketAction', PTR),
    4: msg('grpc', 'core.v1.GRPCAction', PTR),
  },
  'core.v1.Lifecycle': {
    1: msg('postStart', 'core.v1.LifecycleHandler', PTR),
    2: msg('preStop', 'core.v1.LifecycleHandler', PTR),
    3: str('stopSignal', PTR),
  },
  'core.v1.LifecycleHandler': {
    1: msg('exec', 'core.v1.ExecAction', PTR),
    2: msg('httpGet', 'core.v1.HTTPGetAction', PTR),
    3: msg('tcpSocket', 'core.v1.TCPSocketAction', PTR),
    4: msg('sleep', 'core.v1.SleepAction', PTR),
  },
  'core.v1.ExecAction': {
    1: strs('command'),
  },
  'core.v1.HTTPGetAction': {
    1: str('path'),
    2: intOrString('port'),
    3: str('host'),
    4: str('scheme'),
    5: msgs('httpHeaders', 'core.v1.HTTPHeader'),
  },
  'core.v1.HTTPHeader': {
    1: str('name'),
    2: str('value'),
  },
  'core.v1.TCPSocketAction': {
    1: intOrString('port'),
    2: str('host'),
  },
  'core.v1.GRPCAction': {
    1: int32('port'),
    2: str('service', PTR),
  },
  'core.v1.SleepAction': {
    1: int64('seconds'),
  },

  // ---- security -----------------------------------------------------------------------------------
  'core.v1.SecurityContext': {
    1: msg('capabilities', 'core.v1.Capabilities', PTR),
    2: bool('privileged', PTR),
    3: msg('seLinuxOptions', 'core.v1.SELinuxOptions', PTR),
    10: msg('windowsOptions', 'core.v1.WindowsSecurityContextOptions', PTR),
    4: int64('runAsUser', PTR),
    8: int64('runAsGroup', PTR),
    5: bool('runAsNonRoot', PTR),
    6: bool('readOnlyRootFilesystem', PTR),
    7: bool('allowPrivilegeEscalation', PTR),
    9: str('procMount', PTR),
    11: msg('seccompProfile', 'core.v1.SeccompProfile', PTR),
    12: msg('appArmorProfile', 'core.v1.AppArmorProfile', PTR),
    13: msgs('ulimits', 'core.v1.Ulimit'),
  },
  'core.v1.Capabilities': {
    1: strs('add'),
    2: strs('drop'),
  },
  'core.v1.SELinuxOptions': {
    1: str('user'),
    2: str('role'),
    3: str('type'),
    4: str('level'),
  },
  'core.v1.WindowsSecurityContextOptions': {
    1: str('gmsaCredentialSpecName', PTR),
    2: str('gmsaCredentialSpec', PTR),
    3: str('runAsUserName', PTR),
    4: bool('hostProcess', PTR),
  },
  'core.v1.SeccompProfile': {
    1: str('type'),
    2: str('localhostProfile', PTR),
  },
  'core.v1.AppArmorProfile': {
    1: str('type'),
    2: str('localhostProfile', PTR),
  },
  'core.v1.Ulimit': {
    1: str('name'),
    2: int64('hard'),
    3: int64('soft'),
  },
};
