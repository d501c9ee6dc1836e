/**
 * core/v1 ServiceAccount (shortName `sa`): a name pods run as, optional image pull secrets, and whether
 * tokens are mounted by default. `secrets` merges by name in strategic merge patches, as upstream.
 */
import type { FieldError } from '../field-errors.js';
import { FieldPath } from '../field-errors.js';
import type { KindDefinition } from '../kind.js';
import type { KubeObject, ObjectMeta } from '../meta.js';
import { objectMetaSchema, typeMetaFields } from '../meta-schema.js';
import { arrayOf, bool, listByKey, obj } from '../schema.js';
import type { ObjectSchema } from '../schema.js';
import { validateKubeFinalizerNames, validateObjectMeta, validateObjectMetaUpdate } from '../validate-meta.js';
import type { LocalObjectReference, ObjectReference } from './common.js';
import { localObjectReferenceSchema, objectReferenceSchema } from './common.js';

export interface ServiceAccount extends KubeObject {
  readonly apiVersion?: 'v1';
  readonly kind?: 'ServiceAccount';
  readonly metadata: ObjectMeta;
  readonly secrets?: readonly ObjectReference[];
  readonly imagePullSecrets?: readonly LocalObjectReference[];
  readonly automountServiceAccountToken?: boolean;
}

export const serviceAccountSchema: ObjectSchema = obj({
  ...typeMetaFields,
  metadata: objectMetaSchema,
  secrets: listByKey(objectReferenceSchema, 'name'),
  imagePullSecrets: arrayOf(localObjectReferenceSchema),
  automountServiceAccountToken: bool(),
});

const finalizersPath = FieldPath.root('metadata').child('finalizers');

export function validateServiceAccount(sa: ServiceAccount): FieldError[] {
  return [...validateObjectMeta(sa.metadata, { namespaced: true }), ...validateKubeFinalizerNames(sa.metadata.finalizers, finalizersPath)];
}

export function validateServiceAccountUpdate(sa: ServiceAccount, old: ServiceAccount): FieldError[] {
  return [...validateObjectMetaUpdate(sa.metadata, old.metadata), ...validateKubeFinalizerNames(sa.metadata.finalizers, finalizersPath)];
}

export const serviceAccountKind: KindDefinition<ServiceAccount> = {
  group: '',
  version: 'v1',
  kind: 'ServiceAccount',
  plural: 'serviceaccounts',
  singular: 'serviceaccount',
  namespaced: true,
  shortNames: ['sa'],
  categories: [],
  schema: serviceAccountSchema,
  hasStatusSubresource: false,
  default: (sa) => sa,
  validate: validateServiceAccount,
  validateUpdate: validateServiceAccountUpdate,
};
