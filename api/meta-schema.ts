/**
 * Schemas of the meta/v1 types every kind embeds. Kind schemas use `objectMetaSchema` for `metadata`
 * and `typeMetaFields` for apiVersion/kind, so all kinds agree on them.
 */
import { anyValue, bool, int, listByKey, mapOf, obj, setOf, str, time, arrayOf } from './schema.js';
import type { ObjectSchema, Schema } from './schema.js';

export const ownerReferenceSchema: ObjectSchema = obj(
  {
    apiVersion: str('API version of the referent.'),
    kind: str('Kind of the referent.'),
    name: str('Name of the referent.'),
    uid: str('UID of the referent.'),
    controller: bool('If true, this reference points to the managing controller.'),
    blockOwnerDeletion: bool('If true, the owner cannot be deleted from the key-value store until this reference is removed (foreground deletion).'),
  },
  { required: ['apiVersion', 'kind', 'name', 'uid'] },
);

export const managedFieldsEntrySchema: ObjectSchema = obj({
  manager: str(),
  operation: str(),
  apiVersion: str(),
  time: time(),
  fieldsType: str(),
  fieldsV1: anyValue(),
  subresource: str(),
});

export const objectMetaSchema: ObjectSchema = obj(
  {
    name: str('Name must be unique within a namespace.'),
    generateName: str('Optional prefix used by the server to generate a unique name.'),
    namespace: str('Namespace defines the space within which each name must be unique.'),
    selfLink: str('Deprecated.'),
    uid: str('UID is the unique in time and space value for this object.'),
    resourceVersion: str('An opaque value that represents the internal version of this object.'),
    generation: int('A sequence number representing a specific generation of the desired state.'),
    creationTimestamp: time('The time this object was created.'),
    deletionTimestamp: time('The time after which this resource will be deleted.'),
    deletionGracePeriodSeconds: int('Seconds allowed for graceful termination before removal.'),
    labels: mapOf(str(), 'Map of string keys and values used to organize and select objects.'),
    annotations: mapOf(str(), 'Unstructured key value map stored with a resource.'),
    ownerReferences: listByKey(ownerReferenceSchema, 'uid', 'Objects this object depends on.'),
    finalizers: setOf(str(), 'Must be empty before the object is deleted from the registry.'),
    managedFields: arrayOf(managedFieldsEntrySchema),
  },
  { description: 'Standard object metadata.' },
);

export const listMetaSchema: ObjectSchema = obj({
  resourceVersion: str(),
  continue: str(),
  remainingItemCount: int(),
  selfLink: str(),
});

/** apiVersion and kind, to spread into every kind's top-level fields. */
export const typeMetaFields: Readonly<Record<string, Schema>> = {
  apiVersion: str('APIVersion defines the versioned schema of this representation of an object.'),
  kind: str('Kind is a string value representing the REST resource this object represents.'),
};

export const labelSelectorSchema: ObjectSchema = obj({
  matchLabels: mapOf(str()),
  matchExpressions: arrayOf(
    obj({ key: str(), operator: str(), values: arrayOf(str()) }, { required: ['key', 'operator'] }),
  ),
});

export const conditionFields = {
  type: str(),
  status: str(),
  lastTransitionTime: time(),
  lastUpdateTime: time(),
  lastHeartbeatTime: time(),
  lastProbeTime: time(),
  observedGeneration: int(),
  reason: str(),
  message: str(),
} as const;
