/**
 * core/v1 Event <-> events.k8s.io/v1 Event. Upstream keeps both as ONE resource (same storage, same
 * objects; `kubectl get events` and `kubectl get events.events.k8s.io` list the same thing) and converts
 * per request. We store the core/v1 form and convert at the edge with these two pure functions.
 *
 * Renamed fields: regarding<->involvedObject, note<->message, reportingController<->reportingComponent,
 * deprecatedSource<->source, deprecatedFirstTimestamp<->firstTimestamp,
 * deprecatedLastTimestamp<->lastTimestamp, deprecatedCount<->count. The rest (metadata, eventTime,
 * series, related, action, reason, type, reportingInstance) carries over unchanged.
 *
 * Presence is preserved both ways (an absent field stays absent, a null stays null), so
 * coreToEventsV1(eventsV1ToCore(e)) deep-equals e and vice versa. The one exception is the reference
 * to the object the event is about: core/v1 requires `involvedObject`, so a v1 event without
 * `regarding` converts to `involvedObject: {}`, which converts back to `regarding: {}`.
 */
import type { KubeObject, ObjectMeta } from '../meta.js';
import type { ObjectReference } from '../core/common.js';
import type { Event, EventSource } from '../core/event.js';

export type { EventSource } from '../core/event.js';

/** The stored form: core/v1 Event, as api/core/event.ts defines it. */
export type CoreEvent = Event;

export interface EventSeries {
  readonly count?: number;
  /** MicroTime. */
  readonly lastObservedTime?: string;
}

export interface EventsV1Event extends KubeObject {
  readonly metadata: ObjectMeta;
  /** MicroTime; required on create. */
  readonly eventTime?: string | null;
  readonly series?: EventSeries;
  readonly reportingController?: string;
  readonly reportingInstance?: string;
  readonly action?: string;
  readonly reason?: string;
  readonly regarding?: ObjectReference;
  readonly related?: ObjectReference;
  readonly note?: string;
  /** Normal or Warning. */
  readonly type?: string;
  readonly deprecatedSource?: EventSource;
  readonly deprecatedFirstTimestamp?: string | null;
  readonly deprecatedLastTimestamp?: string | null;
  readonly deprecatedCount?: number;
}

/** [core name, events.k8s.io/v1 name] for every field besides metadata and the object reference. */
const RENAMES: readonly (readonly [string, string])[] = [
  ['message', 'note'],
  ['reportingComponent', 'reportingController'],
  ['source', 'deprecatedSource'],
  ['firstTimestamp', 'deprecatedFirstTimestamp'],
  ['lastTimestamp', 'deprecatedLastTimestamp'],
  ['count', 'deprecatedCount'],
  ['reason', 'reason'],
  ['type', 'type'],
  ['eventTime', 'eventTime'],
  ['series', 'series'],
  ['action', 'action'],
  ['related', 'related'],
  ['reportingInstance', 'reportingInstance'],
];

/** Fields that are not part of the Event schema (none today) travel unchanged, like upstream's unknown fields do not. */
const HANDLED = new Set(['apiVersion', 'kind', 'metadata', 'involvedObject', 'regarding', ...RENAMES.flat()]);

function copyFields(from: Readonly<Record<string, unknown>>, pairs: readonly (readonly [string, string])[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [src, dst] of pairs) if (Object.hasOwn(from, src)) out[dst] = from[src];
  return out;
}

function extras(from: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(from)) if (!HANDLED.has(k)) out[k] = v;
  return out;
}

export function eventsV1ToCore(e: EventsV1Event): CoreEvent {
  const renamed = copyFields(e, RENAMES.map(([core, v1]) => [v1, core] as const));
  return {
    ...extras(e),
    apiVersion: 'v1',
    kind: 'Event',
    metadata: e.metadata,
    involvedObject: e.regarding ?? {},
    ...renamed,
  } as CoreEvent;
}

export function coreToEventsV1(e: CoreEvent): EventsV1Event {
  return {
    ...extras(e),
    apiVersion: 'events.k8s.io/v1',
    kind: 'Event',
    metadata: e.metadata,
    ...(Object.hasOwn(e, 'involvedObject') ? { regarding: e.involvedObject } : {}),
    ...copyFields(e, RENAMES),
  } as EventsV1Event;
}
