/**
 * Schemas of core/v1 Container and its parts, with upstream's strategic-merge tags: ports merge by
 * containerPort, env by name, volumeMounts by mountPath, volumeDevices by devicePath.
 * Mirrors container-types.ts field for field (schema-coverage.test.ts checks that).
 */
import { arrayOf, bool, int, intOrString, listByKey, obj, quantity, str } from '../schema.js';
import type { ObjectSchema, ScalarSchema } from '../schema.js';
import { resourceRequirementsSchema } from './resources.js';

const enumOf = (values: readonly string[], description?: string): ScalarSchema => ({
  type: 'string',
  enum: values,
  ...(description ? { description } : {}),
});

export const protocolSchema = enumOf(['TCP', 'UDP', 'SCTP'], 'Protocol for port. Defaults to "TCP".');

export const containerPortSchema: ObjectSchema = obj(
  {
    name: str('IANA_SVC_NAME, unique within the pod.'),
    hostPort: int('Port to expose on the host.'),
    containerPort: int("Port to expose on the pod's IP address."),
    protocol: protocolSchema,
    hostIP: str('What host IP to bind the external port to.'),
  },
  { required: ['containerPort'] },
);

const keySelectorSchema: ObjectSchema = obj({ name: str(), key: str(), optional: bool() }, { required: ['key'] });

export const objectFieldSelectorSchema: ObjectSchema = obj({ apiVersion: str(), fieldPath: str() }, { required: ['fieldPath'] });

export const resourceFieldSelectorSchema: ObjectSchema = obj(
  { containerName: str(), resource: str(), divisor: quantity() },
  { required: ['resource'] },
);

export const envVarSchema: ObjectSchema = obj(
  {
    name: str('Name of the environment variable.'),
    value: str('Value, with $(VAR_NAME) references expanded.'),
    valueFrom: obj({
      fieldRef: objectFieldSelectorSchema,
      resourceFieldRef: resourceFieldSelectorSchema,
      configMapKeyRef: keySelectorSchema,
      secretKeyRef: keySelectorSchema,
    }),
  },
  { required: ['name'] },
);

const envFromRefSchema: ObjectSchema = obj({ name: str(), optional: bool() });

export const envFromSourceSchema: ObjectSchema = obj({
  prefix: str('Prefix added to each key.'),
  configMapRef: envFromRefSchema,
  secretRef: envFromRefSchema,
});

export const volumeMountSchema: ObjectSchema = obj(
  {
    name: str('Must match the name of a volume.'),
    readOnly: bool(),
    recursiveReadOnly: enumOf(['Disabled', 'IfPossible', 'Enabled']),
    mountPath: str('Path within the container at which the volume should be mounted.'),
    subPath: str(),
    mountPropagation: enumOf(['None', 'HostToContainer', 'Bidirectional']),
    subPathExpr: str(),
  },
  { required: ['name', 'mountPath'] },
);

export const volumeDeviceSchema: ObjectSchema = obj({ name: str(), devicePath: str() }, { required: ['name', 'devicePath'] });

const execActionSchema: ObjectSchema = obj({ command: arrayOf(str()) });

const httpGetActionSchema: ObjectSchema = obj(
  {
    path: str(),
    port: intOrString('Number or name of the port to access on the container.'),
    host: str('Host name to connect to, defaults to the pod IP.'),
    scheme: enumOf(['HTTP', 'HTTPS']),
    httpHeaders: arrayOf(obj({ name: str(), value: str() }, { required: ['name', 'value'] })),
  },
  { required: ['port'] },
);

const tcpSocketActionSchema: ObjectSchema = obj({ port: intOrString(), host: str() }, { required: ['port'] });

const grpcActionSchema: ObjectSchema = obj({ port: int(), service: str() }, { required: ['port'] });

export const probeSchema: ObjectSchema = obj({
  exec: execActionSchema,
  httpGet: httpGetActionSchema,
  tcpSocket: tcpSocketActionSchema,
  grpc: grpcActionSchema,
  initialDelaySeconds: int(),
  timeoutSeconds: int(),
  periodSeconds: int(),
  successThreshold: int(),
  failureThreshold: int(),
  terminationGracePeriodSeconds: int(),
});

export const lifecycleHandlerSchema: ObjectSchema = obj({
  exec: execActionSchema,
  httpGet: httpGetActionSchema,
  tcpSocket: tcpSocketActionSchema,
  sleep: obj({ seconds: int() }, { required: ['seconds'] }),
});

export const seLinuxOptionsSchema: ObjectSchema = obj({ user: str(), role: str(), type: str(), level: str() });

export const windowsOptionsSchema: ObjectSchema = obj({
  gmsaCredentialSpecName: str(),
  gmsaCredentialSpec: str(),
  runAsUserName: str(),
  hostProcess: bool(),
});

export const profileSchema: ObjectSchema = obj(
  { type: enumOf(['Unconfined', 'RuntimeDefault', 'Localhost']), localhostProfile: str() },
  { required: ['type'] },
);

export const securityContextSchema: ObjectSchema = obj({
  capabilities: obj({ add: arrayOf(str()), drop: arrayOf(str()) }),
  privileged: bool(),
  seLinuxOptions: seLinuxOptionsSchema,
  windowsOptions: windowsOptionsSchema,
  runAsUser: int(),
  runAsGroup: int(),
  runAsNonRoot: bool(),
  readOnlyRootFilesystem: bool(),
  allowPrivilegeEscalation: bool(),
  procMount: enumOf(['Default', 'Unmasked']),
  seccompProfile: profileSchema,
  appArmorProfile: profileSchema,
});

const containerFields = {
  name: str('Name of the container, a DNS label unique within the pod.'),
  image: str('Container image name.'),
  command: arrayOf(str(), { description: 'Entrypoint array; the image ENTRYPOINT when absent.' }),
  args: arrayOf(str(), { description: 'Arguments to the entrypoint; the image CMD when absent.' }),
  workingDir: str(),
  ports: arrayOf(containerPortSchema, { strategy: 'merge', mergeKey: 'containerPort' }),
  envFrom: arrayOf(envFromSourceSchema),
  env: listByKey(envVarSchema, 'name'),
  resources: resourceRequirementsSchema,
  resizePolicy: arrayOf(obj({ resourceName: str(), restartPolicy: str() }, { required: ['resourceName', 'restartPolicy'] })),
  restartPolicy: enumOf(['Always'], 'Only for init containers: Always makes a sidecar.'),
  volumeMounts: listByKey(volumeMountSchema, 'mountPath'),
  volumeDevices: listByKey(volumeDeviceSchema, 'devicePath'),
  livenessProbe: probeSchema,
  readinessProbe: probeSchema,
  startupProbe: probeSchema,
  lifecycle: obj({ postStart: lifecycleHandlerSchema, preStop: lifecycleHandlerSchema }),
  terminationMessagePath: str(),
  terminationMessagePolicy: enumOf(['File', 'FallbackToLogsOnError']),
  imagePullPolicy: enumOf(['Always', 'IfNotPresent', 'Never']),
  securityContext: securityContextSchema,
  stdin: bool(),
  stdinOnce: bool(),
  tty: bool(),
} as const;

export const containerSchema: ObjectSchema = obj(containerFields, { required: ['name'] });

export const ephemeralContainerSchema: ObjectSchema = obj(
  { ...containerFields, targetContainerName: str('Name of a container to share namespaces with.') },
  { required: ['name'] },
);

export { enumOf };
