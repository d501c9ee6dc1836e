/**
 * Test fixture: small Pod and Deployment schemas with the patch strategies upstream tags on the real
 * types (containers/env by name, ports by containerPort, volumes `merge,retainKeys`, finalizers as a set,
 * tolerations and args atomic, deployment strategy retainKeys). Independent of the real kind schemas so
 * the patch engines are tested on their own.
 */
import type { Schema } from '../../../api/schema.js';
import { anyValue, arrayOf, int, intOrString, listByKey, mapOf, obj, quantity, setOf, str, time } from '../../../api/schema.js';

export const metaSchema = obj({
  name: str(),
  namespace: str(),
  uid: str(),
  resourceVersion: str(),
  generation: int(),
  creationTimestamp: time(),
  labels: mapOf(str()),
  annotations: mapOf(str()),
  finalizers: setOf(str()),
  ownerReferences: listByKey(obj({ apiVersion: str(), kind: str(), name: str(), uid: str() }), 'uid'),
  managedFields: arrayOf(anyValue()),
});

const envVarSchema = obj({
  name: str(),
  value: str(),
  valueFrom: obj({ fieldRef: obj({ fieldPath: str() }) }),
});

export const containerSchema = obj({
  name: str(),
  image: str(),
  imagePullPolicy: str(),
  command: arrayOf(str()),
  args: arrayOf(str()),
  env: listByKey(envVarSchema, 'name'),
  ports: listByKey(obj({ containerPort: int(), protocol: str(), name: str() }), 'containerPort'),
  volumeMounts: listByKey(obj({ name: str(), mountPath: str() }), 'mountPath'),
  resources: obj({ limits: mapOf(quantity()), requests: mapOf(quantity()) }),
});

const volumeSchema = obj(
  {
    name: str(),
    emptyDir: obj({ medium: str(), sizeLimit: quantity() }),
    configMap: obj({ name: str() }),
    hostPath: obj({ path: str(), type: str() }),
  },
  { retainKeys: true },
);

export const podSpecSchema = obj({
  containers: listByKey(containerSchema, 'name'),
  initContainers: listByKey(containerSchema, 'name'),
  volumes: arrayOf(volumeSchema, { strategy: 'merge,retainKeys', mergeKey: 'name' }),
  tolerations: arrayOf(obj({ key: str(), operator: str(), effect: str() })),
  nodeSelector: mapOf(str()),
  restartPolicy: str(),
  /** Free-form, like a CRD's x-kubernetes-preserve-unknown-fields. */
  extra: anyValue(),
});

export const podSchema: Schema = obj({
  apiVersion: str(),
  kind: str(),
  metadata: metaSchema,
  spec: podSpecSchema,
  status: obj({ phase: str(), conditions: listByKey(obj({ type: str(), status: str() }), 'type') }),
});

export const deploymentSchema: Schema = obj({
  apiVersion: str(),
  kind: str(),
  metadata: metaSchema,
  spec: obj({
    replicas: int(),
    selector: obj({ matchLabels: mapOf(str()) }),
    strategy: obj(
      { type: str(), rollingUpdate: obj({ maxSurge: intOrString(), maxUnavailable: intOrString() }) },
      { retainKeys: true },
    ),
    template: obj({ metadata: metaSchema, spec: podSpecSchema }),
  }),
  status: obj({ replicas: int(), readyReplicas: int() }),
});

/** A self-referencing schema (a tree of named nodes), reached through a thunk. */
export const treeSchema: Schema = obj({
  name: str(),
  children: listByKey(() => treeSchema, 'name'),
});

/** Freezes a JSON value deeply so a test fails if an engine mutates its input. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
