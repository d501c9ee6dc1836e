/**
 * Sample objects for the core/v1 tests: small valid objects that tests mutate one field at a time, and
 * fully-populated ones (every optional field set, enforced by the `Full` type) for the schema-coverage
 * test. Not used by production code.
 */
import type { Container, Pod, PodSpec } from './pod.js';

/** Every field present, all the way down: a sample typed this way cannot forget a field of the interface. */
export type Full<T> = T extends readonly (infer U)[]
  ? readonly Full<U>[]
  : T extends string | number | boolean | bigint | null | undefined
    ? T
    : T extends object
      ? { readonly [K in keyof T]-?: Full<Exclude<T[K], undefined>> }
      : T;

export const container = (over: Partial<Container> = {}): Container => ({ name: 'app', image: 'busybox:1.36', ...over });

export function pod(spec: Partial<PodSpec> = {}, name = 'web'): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', labels: { app: 'web' } },
    spec: { containers: [container()], ...spec },
  };
}

const selector = { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In' as const, values: ['a'] }] };
const meta = {
  name: 'full',
  generateName: 'full-',
  selfLink: '',
  namespace: 'default',
  uid: 'u1',
  resourceVersion: '1',
  generation: 1,
  creationTimestamp: '2024-01-01T00:00:00Z',
  deletionTimestamp: '2024-01-02T00:00:00Z',
  deletionGracePeriodSeconds: 30,
  labels: { app: 'web' },
  annotations: { note: 'x' },
  ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: 'u0', controller: true, blockOwnerDeletion: true }],
  finalizers: ['example.com/f'],
  managedFields: [
    { manager: 'kubectl', operation: 'Apply', apiVersion: 'v1', time: '2024-01-01T00:00:00Z', fieldsType: 'FieldsV1', fieldsV1: {}, subresource: '' },
  ],
};
export const fullMeta = meta;

const condition = {
  type: 'Ready',
  status: 'True' as const,
  lastTransitionTime: '2024-01-01T00:00:00Z',
  lastUpdateTime: '2024-01-01T00:00:00Z',
  lastHeartbeatTime: '2024-01-01T00:00:00Z',
  lastProbeTime: '2024-01-01T00:00:00Z',
  observedGeneration: 1,
  reason: 'r',
  message: 'm',
};
export const fullCondition = condition;

const httpGet = { path: '/', port: 80, host: 'h', scheme: 'HTTP' as const, httpHeaders: [{ name: 'X', value: 'y' }] };
const handler = { exec: { command: ['true'] }, httpGet, tcpSocket: { port: 'http', host: 'h' } };
const probe = {
  ...handler,
  grpc: { port: 9000, service: 's' },
  initialDelaySeconds: 1,
  timeoutSeconds: 1,
  periodSeconds: 10,
  successThreshold: 1,
  failureThreshold: 3,
  terminationGracePeriodSeconds: 5,
};
const keySel = { name: 'cm', key: 'k', optional: true };
const fieldRef = { apiVersion: 'v1', fieldPath: 'metadata.name' };
const resourceFieldRef = { containerName: 'app', resource: 'limits.cpu', divisor: '1m' };
const profile = { type: 'Localhost' as const, localhostProfile: 'p' };
const seLinux = { user: 'u', role: 'r', type: 't', level: 'l' };
const windows = { gmsaCredentialSpecName: 'n', gmsaCredentialSpec: 's', runAsUserName: 'u', hostProcess: false };
const resources = { limits: { cpu: '1' }, requests: { cpu: '500m' }, claims: [{ name: 'c', request: 'r' }] };

const fullContainerFields = {
  name: 'app',
  image: 'busybox',
  command: ['sh'],
  args: ['-c'],
  workingDir: '/',
  ports: [{ name: 'http', hostPort: 8080, containerPort: 80, protocol: 'TCP' as const, hostIP: '0.0.0.0' }],
  envFrom: [{ prefix: 'P_', configMapRef: { name: 'cm', optional: true }, secretRef: { name: 's', optional: true } }],
  env: [{ name: 'A', value: 'b', valueFrom: { fieldRef, resourceFieldRef, configMapKeyRef: keySel, secretKeyRef: keySel } }],
  resources,
  resizePolicy: [{ resourceName: 'cpu', restartPolicy: 'NotRequired' as const }],
  restartPolicy: 'Always' as const,
  volumeMounts: [
    { name: 'v', readOnly: true, recursiveReadOnly: 'Disabled' as const, mountPath: '/v', subPath: 's', mountPropagation: 'None' as const, subPathExpr: 'e' },
  ],
  volumeDevices: [{ name: 'd', devicePath: '/dev/x' }],
  livenessProbe: probe,
  readinessProbe: probe,
  startupProbe: probe,
  lifecycle: { postStart: { ...handler, sleep: { seconds: 1 } }, preStop: { ...handler, sleep: { seconds: 1 } } },
  terminationMessagePath: '/dev/termination-log',
  terminationMessagePolicy: 'File' as const,
  imagePullPolicy: 'Always' as const,
  securityContext: {
    capabilities: { add: ['NET_ADMIN'], drop: ['ALL'] },
    privileged: false,
    seLinuxOptions: seLinux,
    windowsOptions: windows,
    runAsUser: 1000,
    runAsGroup: 1000,
    runAsNonRoot: true,
    readOnlyRootFilesystem: true,
    allowPrivilegeEscalation: false,
    procMount: 'Default' as const,
    seccompProfile: profile,
    appArmorProfile: profile,
  },
  stdin: false,
  stdinOnce: false,
  tty: false,
};

const keyToPath = [{ key: 'k', path: 'p', mode: 0o644 }];
const downwardItems = [{ path: 'p', fieldRef, resourceFieldRef, mode: 0o644 }];
const fullVolume = {
  name: 'v',
  hostPath: { path: '/h', type: 'Directory' as const },
  emptyDir: { medium: 'Memory' as const, sizeLimit: '1Gi' },
  secret: { secretName: 's', items: keyToPath, defaultMode: 420, optional: true },
  configMap: { name: 'cm', items: keyToPath, defaultMode: 420, optional: true },
  downwardAPI: { items: downwardItems, defaultMode: 420 },
  projected: {
    sources: [
      {
        secret: { name: 's', items: keyToPath, optional: true },
        configMap: { name: 'cm', items: keyToPath, optional: true },
        downwardAPI: { items: downwardItems },
        serviceAccountToken: { audience: 'a', expirationSeconds: 3600, path: 'token' },
      },
    ],
    defaultMode: 420,
  },
  persistentVolumeClaim: { claimName: 'c', readOnly: true },
  nfs: { server: 'n', path: '/p', readOnly: true },
  csi: { driver: 'd', readOnly: true, fsType: 'ext4', volumeAttributes: { a: 'b' }, nodePublishSecretRef: { name: 's' } },
  ephemeral: { volumeClaimTemplate: {} },
  image: { reference: 'img', pullPolicy: 'IfNotPresent' as const },
};

const nodeTerm = {
  matchExpressions: [{ key: 'k', operator: 'In' as const, values: ['v'] }],
  matchFields: [{ key: 'metadata.name', operator: 'In' as const, values: ['n'] }],
};
const podTerm = {
  labelSelector: selector,
  namespaces: ['default'],
  topologyKey: 'kubernetes.io/hostname',
  namespaceSelector: selector,
  matchLabelKeys: ['app'],
  mismatchLabelKeys: ['tier'],
};
const podAffinity = {
  requiredDuringSchedulingIgnoredDuringExecution: [podTerm],
  preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 1, podAffinityTerm: podTerm }],
};
const state = {
  waiting: { reason: 'r', message: 'm' },
  running: { startedAt: '2024-01-01T00:00:00Z' },
  terminated: {
    exitCode: 0,
    signal: 0,
    reason: 'Completed',
    message: 'm',
    startedAt: '2024-01-01T00:00:00Z',
    finishedAt: '2024-01-01T00:00:00Z',
    containerID: 'c',
  },
};
const containerStatus = {
  name: 'app',
  state,
  lastState: state,
  ready: true,
  restartCount: 0,
  image: 'busybox',
  imageID: 'sha256:x',
  containerID: 'containerd://x',
  started: true,
  allocatedResources: { cpu: '1' },
  resources,
  volumeMounts: [{ name: 'v', mountPath: '/v', readOnly: true, recursiveReadOnly: 'Disabled' }],
};

export const fullPodSpec = {
  volumes: [fullVolume],
  initContainers: [fullContainerFields],
  containers: [fullContainerFields],
  ephemeralContainers: [{ ...fullContainerFields, targetContainerName: 'app' }],
  restartPolicy: 'Always' as const,
  terminationGracePeriodSeconds: 30,
  activeDeadlineSeconds: 10,
  dnsPolicy: 'ClusterFirst' as const,
  nodeSelector: { a: 'b' },
  serviceAccountName: 'default',
  serviceAccount: 'default',
  automountServiceAccountToken: true,
  nodeName: 'n1',
  hostNetwork: false,
  hostPID: false,
  hostIPC: false,
  shareProcessNamespace: false,
  securityContext: {
    seLinuxOptions: seLinux,
    windowsOptions: windows,
    runAsUser: 1,
    runAsGroup: 1,
    runAsNonRoot: true,
    supplementalGroups: [1],
    supplementalGroupsPolicy: 'Merge' as const,
    fsGroup: 1,
    sysctls: [{ name: 'net.core.somaxconn', value: '1024' }],
    fsGroupChangePolicy: 'Always' as const,
    seccompProfile: profile,
    appArmorProfile: profile,
    seLinuxChangePolicy: 'Recursive',
  },
  imagePullSecrets: [{ name: 'reg' }],
  hostname: 'h',
  subdomain: 's',
  affinity: {
    nodeAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [nodeTerm] },
      preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 1, preference: nodeTerm }],
    },
    podAffinity,
    podAntiAffinity: podAffinity,
  },
  schedulerName: 'default-scheduler',
  tolerations: [{ key: 'k', operator: 'Equal' as const, value: 'v', effect: 'NoExecute' as const, tolerationSeconds: 1 }],
  hostAliases: [{ ip: '10.0.0.1', hostnames: ['a'] }],
  priorityClassName: 'p',
  priority: 0,
  dnsConfig: { nameservers: ['10.0.0.10'], searches: ['a.b'], options: [{ name: 'ndots', value: '5' }] },
  readinessGates: [{ conditionType: 'example.com/ready' }],
  runtimeClassName: 'runc',
  enableServiceLinks: true,
  preemptionPolicy: 'PreemptLowerPriority' as const,
  overhead: { cpu: '10m' },
  topologySpreadConstraints: [
    {
      maxSkew: 1,
      topologyKey: 'zone',
      whenUnsatisfiable: 'DoNotSchedule' as const,
      labelSelector: selector,
      minDomains: 1,
      nodeAffinityPolicy: 'Honor' as const,
      nodeTaintsPolicy: 'Ignore' as const,
      matchLabelKeys: ['app'],
    },
  ],
  setHostnameAsFQDN: false,
  os: { name: 'linux' as const },
  hostUsers: true,
  schedulingGates: [{ name: 'g' }],
  resourceClaims: [{ name: 'c', resourceClaimName: 'rc', resourceClaimTemplateName: 't' }],
  resources,
};

export const fullPod: Full<Pod> = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: meta,
  spec: fullPodSpec,
  status: {
    observedGeneration: 1,
    phase: 'Running',
    conditions: [condition],
    message: 'm',
    reason: 'r',
    nominatedNodeName: 'n',
    hostIP: '10.0.0.1',
    hostIPs: [{ ip: '10.0.0.1' }],
    podIP: '10.244.0.5',
    podIPs: [{ ip: '10.244.0.5' }],
    startTime: '2024-01-01T00:00:00Z',
    initContainerStatuses: [containerStatus],
    containerStatuses: [containerStatus],
    ephemeralContainerStatuses: [containerStatus],
    qosClass: 'Burstable',
    resize: 'Proposed',
  },
};
