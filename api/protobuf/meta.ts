/**
 * k8s.io/apimachinery meta/v1 messages (apis/meta/v1/generated.proto). Time, MicroTime, Duration,
 * FieldsV1, Quantity and IntOrString are value types handled by the decoder itself (see ValueType).
 * Pointer flags follow apimachinery's types.go.
 */
import type { MessageTable } from './types.js';
import { PTR, bool, fieldsV1, int64, map, msg, msgs, str, strs, time } from './types.js';

export const metaMessages: MessageTable = {
  'meta.v1.ObjectMeta': {
    1: str('name'),
    2: str('generateName'),
    3: str('namespace'),
    4: str('selfLink'),
    5: str('uid'),
    6: str('resourceVersion'),
    7: int64('generation'),
    8: time('creationTimestamp'),
    9: time('deletionTimestamp', PTR),
    10: int64('deletionGracePeriodSeconds', PTR),
    11: map('labels', 'string'),
    12: map('annotations', 'string'),
    13: msgs('ownerReferences', 'meta.v1.OwnerReference'),
    14: strs('finalizers'),
    // 15 clusterName and 16 initializers were removed upstream; skipped as unknown numbers
    17: msgs('managedFields', 'meta.v1.ManagedFieldsEntry'),
  },
  'meta.v1.OwnerReference': {
    5: str('apiVersion'),
    1: str('kind'),
    3: str('name'),
    4: str('uid'),
    6: bool('controller', PTR),
    7: bool('blockOwnerDeletion', PTR),
  },
  'meta.v1.ManagedFieldsEntry': {
    1: str('manager'),
    2: str('operation'),
    3: str('apiVersion'),
    4: time('time', PTR),
    // 5 was the pre-1.15 `fields`
    6: str('fieldsType'),
    7: fieldsV1('fieldsV1', PTR),
    8: str('subresource'),
  },
  'meta.v1.ListMeta': {
    1: str('selfLink'),
    2: str('resourceVersion'),
    3: str('continue'),
    4: int64('remainingItemCount', PTR),
  },
  'meta.v1.LabelSelector': {
    1: map('matchLabels', 'string'),
    2: msgs('matchExpressions', 'meta.v1.LabelSelectorRequirement'),
  },
  'meta.v1.LabelSelectorRequirement': {
    1: str('key'),
    2: str('operator'),
    3: strs('values'),
  },
  'meta.v1.Condition': {
    1: str('type'),
    2: str('status'),
    3: int64('observedGeneration'),
    4: time('lastTransitionTime'),
    5: str('reason'),
    6: str('message'),
  },
  'meta.v1.DeleteOptions': {
    1: int64('gracePeriodSeconds', PTR),
    2: msg('preconditions', 'meta.v1.Preconditions', PTR),
    3: bool('orphanDependents', PTR),
    4: str('propagationPolicy', PTR),
    5: strs('dryRun'),
    6: bool('ignoreStoreReadErrorWithClusterBreakingPotential', PTR),
  },
  'meta.v1.Preconditions': {
    1: str('uid', PTR),
    2: str('resourceVersion', PTR),
  },
};
