/**
 * events.k8s.io/v1 Event: the structured event API (`kubectl events`, client-go's new recorder).
 * It is the same resource as core/v1 Event, stored once in core form (see conversion.ts): this kind's
 * validation converts to core and applies upstream's strict rules for events.k8s.io requests.
 *
 * Field selectors use this API's names (regarding.name, reportingController...), mapped as upstream's
 * field label conversion does onto the same values core/v1 exposes as involvedObject.*.
 */
import type { KindDefinition } from '../kind.js';
import type { FieldError } from '../field-errors.js';
import { objectMetaSchema, typeMetaFields } from '../meta-schema.js';
import { int, obj, str, time } from '../schema.js';
import type { ObjectSchema } from '../schema.js';
import { objectReferenceSchema } from '../core/common.js';
import type { EventsV1Event } from './conversion.js';
import { eventsV1ToCore } from './conversion.js';
import { validateEventCreate, validateEventUpdate } from './validation.js';

export type { CoreEvent, EventSeries, EventSource, EventsV1Event } from './conversion.js';
export { coreToEventsV1, eventsV1ToCore } from './conversion.js';
export type { EventRequestVersion } from './validation.js';
export { validateEventCreate, validateEventUpdate } from './validation.js';

export const eventSeriesSchema: ObjectSchema = obj(
  { count: int('Number of occurrences in this series up to the last heartbeat time.'), lastObservedTime: time() },
  { required: ['count', 'lastObservedTime'] },
);

export const eventSourceSchema: ObjectSchema = obj({ component: str(), host: str() });

export const eventsV1EventSchema: ObjectSchema = obj(
  {
    ...typeMetaFields,
    metadata: objectMetaSchema,
    eventTime: time('When this Event was first observed (MicroTime). Required.'),
    series: eventSeriesSchema,
    reportingController: str('The controller that emitted this Event, e.g. `kubernetes.io/kubelet`.'),
    reportingInstance: str('The ID of the controller instance, e.g. `kubelet-xyzf`.'),
    action: str('What action was taken/failed regarding the regarding object.'),
    reason: str('Why the action was taken.'),
    regarding: objectReferenceSchema,
    related: objectReferenceSchema,
    note: str('A human-readable description of the status of this operation.'),
    type: { type: 'string', enum: ['Normal', 'Warning'] },
    deprecatedSource: eventSourceSchema,
    deprecatedFirstTimestamp: time(),
    deprecatedLastTimestamp: time(),
    deprecatedCount: int(),
  },
  { required: ['eventTime'] },
);

export function validateEventsV1Event(e: EventsV1Event): FieldError[] {
  return validateEventCreate(eventsV1ToCore(e), 'events.k8s.io/v1');
}

export function validateEventsV1EventUpdate(e: EventsV1Event, old: EventsV1Event): FieldError[] {
  return validateEventUpdate(eventsV1ToCore(e), eventsV1ToCore(old), 'events.k8s.io/v1');
}

/** Upstream's field label set for events.k8s.io/v1 (metadata.name/namespace are added by the apiserver). */
export function eventsV1SelectableFields(e: EventsV1Event): Readonly<Record<string, string>> {
  const r = e.regarding ?? {};
  return {
    'regarding.kind': r.kind ?? '',
    'regarding.namespace': r.namespace ?? '',
    'regarding.name': r.name ?? '',
    'regarding.uid': r.uid ?? '',
    'regarding.apiVersion': r.apiVersion ?? '',
    'regarding.resourceVersion': r.resourceVersion ?? '',
    'regarding.fieldPath': r.fieldPath ?? '',
    reason: e.reason ?? '',
    reportingController: e.reportingController ?? '',
    type: e.type ?? '',
  };
}

export const eventsV1EventKind: KindDefinition<EventsV1Event> = {
  group: 'events.k8s.io',
  version: 'v1',
  kind: 'Event',
  plural: 'events',
  singular: 'event',
  namespaced: true,
  shortNames: ['ev'],
  categories: [],
  schema: eventsV1EventSchema,
  hasStatusSubresource: false,
  default: (e) => e,
  validate: validateEventsV1Event,
  validateUpdate: validateEventsV1EventUpdate,
  selectableFields: eventsV1SelectableFields,
};
