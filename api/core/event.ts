/**
 * core/v1 Event (shortName `ev`): what happened to an object (involvedObject), why (reason, message),
 * who said so (source / reportingComponent), how often (count, series). Validation is upstream's legacy
 * v1 rules: the event lives in its object's namespace (or default for cluster-scoped objects), and
 * events with eventTime (the new API) also need reportingComponent, reportingInstance, action, reason.
 * Event names only need to be a valid URL path segment, as upstream.
 */
import type { FieldError } from '../field-errors.js';
import { FieldPath, invalid, required } from '../field-errors.js';
import type { KindDefinition } from '../kind.js';
import type { KubeObject, ObjectMeta } from '../meta.js';
import { objectMetaSchema, typeMetaFields } from '../meta-schema.js';
import { int, obj, str, time } from '../schema.js';
import type { ObjectSchema } from '../schema.js';
import { isDNS1123Subdomain, isPathSegmentName, validateQualifiedName } from '../names.js';
import { validateObjectMeta, validateObjectMetaUpdate } from '../validate-meta.js';
import type { ObjectReference } from './common.js';
import { objectReferenceSchema } from './common.js';

export interface EventSource {
  readonly component?: string;
  readonly host?: string;
}

export interface Event extends KubeObject {
  readonly apiVersion?: 'v1';
  readonly kind?: 'Event';
  readonly metadata: ObjectMeta;
  readonly involvedObject: ObjectReference;
  readonly reason?: string;
  readonly message?: string;
  readonly source?: EventSource;
  readonly firstTimestamp?: string | null;
  readonly lastTimestamp?: string | null;
  readonly count?: number;
  readonly type?: 'Normal' | 'Warning' | (string & {});
  /** MicroTime: RFC 3339 with microseconds. */
  readonly eventTime?: string | null;
  readonly series?: { readonly count?: number; readonly lastObservedTime?: string };
  readonly action?: string;
  readonly related?: ObjectReference;
  readonly reportingComponent?: string;
  readonly reportingInstance?: string;
}

export const eventSchema: ObjectSchema = obj(
  {
    ...typeMetaFields,
    metadata: objectMetaSchema,
    involvedObject: objectReferenceSchema,
    reason: str(),
    message: str(),
    source: obj({ component: str(), host: str() }),
    firstTimestamp: time(),
    lastTimestamp: time(),
    count: int(),
    type: str(),
    eventTime: time(),
    series: obj({ count: int(), lastObservedTime: time() }),
    action: str(),
    related: objectReferenceSchema,
    reportingComponent: str(),
    reportingInstance: str(),
  },
  { required: ['metadata', 'involvedObject'] },
);

const LIMIT_128 = 128;
const NOTE_LIMIT = 1024;

function validateEventBody(ev: Event): FieldError[] {
  const errs: FieldError[] = [];
  const io = FieldPath.root('involvedObject');
  if (ev.involvedObject === undefined || ev.involvedObject === null) return [required(io)];
  const ns = ev.metadata.namespace ?? '';
  const ioNs = ev.involvedObject.namespace ?? '';
  if (!ev.eventTime) {
    // cluster-scoped objects get their events in default (or no namespace, from very old clients)
    if (ioNs === '' ? ns !== '' && ns !== 'default' : ns !== ioNs) errs.push(invalid(io.child('namespace'), ioNs, 'does not match event.namespace'));
  } else {
    if (ioNs === '' && ns !== 'default' && ns !== 'kube-system') errs.push(invalid(io.child('namespace'), ioNs, 'does not match event.namespace'));
    const rc = FieldPath.root('reportingComponent');
    if (!ev.reportingComponent) errs.push(required(rc));
    else errs.push(...validateQualifiedName(ev.reportingComponent, rc));
    for (const f of ['reportingInstance', 'action', 'reason'] as const) {
      const v = ev[f] ?? '';
      if (v === '') errs.push(required(FieldPath.root(f)));
      if (v.length > LIMIT_128) errs.push(invalid(FieldPath.root(f), '', `can have at most ${LIMIT_128} characters`));
    }
    if ((ev.message ?? '').length > NOTE_LIMIT) errs.push(invalid(FieldPath.root('message'), '', `can have at most ${NOTE_LIMIT} characters`));
  }
  for (const msg of isDNS1123Subdomain(ns)) errs.push(invalid(FieldPath.root('namespace'), ns, msg));
  return errs;
}

export function validateEvent(ev: Event): FieldError[] {
  return [...validateObjectMeta(ev.metadata, { namespaced: true, nameValidator: isPathSegmentName }), ...validateEventBody(ev)];
}

export function validateEventUpdate(ev: Event, old: Event): FieldError[] {
  return [...validateObjectMetaUpdate(ev.metadata, old.metadata), ...validateEventBody(ev)];
}

/** Upstream's event field selectors; `source` falls back to the reporting component. */
export function eventSelectableFields(ev: Event): Readonly<Record<string, string>> {
  const io = ev.involvedObject ?? {};
  return {
    'involvedObject.kind': io.kind ?? '',
    'involvedObject.namespace': io.namespace ?? '',
    'involvedObject.name': io.name ?? '',
    'involvedObject.uid': io.uid ?? '',
    'involvedObject.apiVersion': io.apiVersion ?? '',
    'involvedObject.resourceVersion': io.resourceVersion ?? '',
    'involvedObject.fieldPath': io.fieldPath ?? '',
    reason: ev.reason ?? '',
    reportingComponent: ev.reportingComponent ?? '',
    source: ev.source?.component || ev.reportingComponent || '',
    type: ev.type ?? '',
  };
}

export const eventKind: KindDefinition<Event> = {
  group: '',
  version: 'v1',
  kind: 'Event',
  plural: 'events',
  singular: 'event',
  namespaced: true,
  shortNames: ['ev'],
  categories: [],
  schema: eventSchema,
  hasStatusSubresource: false,
  default: (ev) => ev,
  validate: validateEvent,
  validateUpdate: validateEventUpdate,
  selectableFields: eventSelectableFields,
};
