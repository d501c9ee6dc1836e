/**
 * core/v1 ConfigMap (shortName `cm`): text `data` and base64 `binaryData`, keys valid config keys and
 * not repeated across the two maps, 1 MiB in total; `immutable: true` freezes both maps for good.
 */
import type { FieldError } from '../field-errors.js';
import { FieldPath, invalid } from '../field-errors.js';
import type { KindDefinition } from '../kind.js';
import type { KubeObject, ObjectMeta } from '../meta.js';
import { objectMetaSchema, typeMetaFields } from '../meta-schema.js';
import { bool, mapOf, obj, str } from '../schema.js';
import type { ObjectSchema } from '../schema.js';
import { validateKubeFinalizerNames, validateObjectMeta, validateObjectMetaUpdate } from '../validate-meta.js';
import { MAX_CONFIG_SIZE_BYTES, tooLong, validateDataMap, validateImmutableData } from './config-data.js';

export interface ConfigMap extends KubeObject {
  readonly apiVersion?: 'v1';
  readonly kind?: 'ConfigMap';
  readonly metadata: ObjectMeta;
  readonly data?: Readonly<Record<string, string>>;
  /** Values are base64 in JSON. */
  readonly binaryData?: Readonly<Record<string, string>>;
  readonly immutable?: boolean;
}

export const configMapSchema: ObjectSchema = obj({
  ...typeMetaFields,
  metadata: objectMetaSchema,
  data: mapOf(str(), 'UTF-8 configuration data.'),
  binaryData: mapOf({ type: 'bytes' }, 'Binary configuration data, base64 encoded.'),
  immutable: bool('If true, data and binaryData can no longer be changed.'),
});

function validateConfigMapBody(cm: ConfigMap): FieldError[] {
  const errs: FieldError[] = [];
  const dataPath = FieldPath.root('data');
  let total = validateDataMap(cm.data, 'text', dataPath, errs);
  for (const key of Object.keys(cm.data ?? {})) {
    if (cm.binaryData && key in cm.binaryData) errs.push(invalid(dataPath.key(key), key, 'duplicate of key present in binaryData'));
  }
  total += validateDataMap(cm.binaryData, 'base64', FieldPath.root('binaryData'), errs);
  // upstream names no field: the limit is on the object as a whole
  if (total > MAX_CONFIG_SIZE_BYTES) errs.push(tooLong(FieldPath.root(''), MAX_CONFIG_SIZE_BYTES));
  return errs;
}

const finalizersPath = FieldPath.root('metadata').child('finalizers');

export function validateConfigMap(cm: ConfigMap): FieldError[] {
  return [
    ...validateObjectMeta(cm.metadata, { namespaced: true }),
    ...validateKubeFinalizerNames(cm.metadata.finalizers, finalizersPath),
    ...validateConfigMapBody(cm),
  ];
}

export function validateConfigMapUpdate(cm: ConfigMap, old: ConfigMap): FieldError[] {
  return [
    ...validateObjectMetaUpdate(cm.metadata, old.metadata),
    ...validateKubeFinalizerNames(cm.metadata.finalizers, finalizersPath),
    ...validateImmutableData(cm, old, ['data', 'binaryData'], FieldPath.root),
    ...validateConfigMapBody(cm),
  ];
}

export const configMapKind: KindDefinition<ConfigMap> = {
  group: '',
  version: 'v1',
  kind: 'ConfigMap',
  plural: 'configmaps',
  singular: 'configmap',
  namespaced: true,
  shortNames: ['cm'],
  categories: [],
  schema: configMapSchema,
  hasStatusSubresource: false,
  default: (cm) => cm,
  validate: validateConfigMap,
  validateUpdate: validateConfigMapUpdate,
};
