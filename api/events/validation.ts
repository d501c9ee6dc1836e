/**
 * Event validation as upstream (pkg/apis/core/validation/events.go). Upstream validates the core form
 * whichever API the request came through, with paths in core's names (`involvedObject.namespace`,
 * `message`), and is strict only for requests through events.k8s.io/v1: the legacy core/v1 API keeps
 * accepting what old clients send. We do the same: the events.k8s.io/v1 kind converts to core first.
 *
 * An event with an eventTime is a "new" event (reportingController, reportingInstance, action and
 * reason required); one without is a legacy event whose namespace must match its object's.
 */
import type { FieldError } from '../field-errors.js';
import { FieldPath, invalid, required } from '../field-errors.js';
import { isDNS1123Subdomain, isQualifiedName } from '../names.js';
import { jsonEqual, validateObjectMeta, validateObjectMetaUpdate } from '../validate-meta.js';
import type { CoreEvent } from './conversion.js';

/** The API version a request came through: core/v1 stays lenient, events.k8s.io/v1 is strict. */
export type EventRequestVersion = 'v1' | 'events.k8s.io/v1';

export const REPORTING_INSTANCE_LENGTH_LIMIT = 128;
export const ACTION_LENGTH_LIMIT = 128;
export const REASON_LENGTH_LIMIT = 128;
export const NOTE_LENGTH_LIMIT = 1024;

const p = (name: string): FieldPath => FieldPath.root(name);

/** Go's zero time serializes as null; clients also send "" or the literal zero instant. */
export function isZeroTime(t: string | null | undefined): boolean {
  return t === undefined || t === null || t === '' || t.startsWith('0001-01-01T00:00:00');
}

/**
 * A timestamp cut to microseconds, for comparing MicroTimes written by clients that keep nanoseconds
 * (upstream issue 111928). Returns the text itself if it does not parse, so unequal garbage stays unequal.
 */
export function microsecondKey(t: string | null | undefined): string {
  if (isZeroTime(t)) return '';
  const text = t ?? '';
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$/i.exec(text);
  if (m === null) return text;
  const seconds = Date.parse(`${m[1] ?? ''}${m[3] ?? 'Z'}`);
  if (Number.isNaN(seconds)) return text;
  const micros = (m[2] ?? '').padEnd(6, '0').slice(0, 6);
  return `${seconds / 1000}.${micros}`;
}

const tooLong = (name: string, limit: number): FieldError => invalid(p(name), '', `can have at most ${limit} characters`);

function legacyValidateEvent(e: CoreEvent, version: EventRequestVersion): FieldError[] {
  const errs: FieldError[] = [];
  const namespace = e.metadata?.namespace ?? '';
  const involvedNs = e.involvedObject?.namespace ?? '';
  const nsPath = p('involvedObject').child('namespace');
  if (isZeroTime(e.eventTime)) {
    // Old clients record cluster-scoped objects' events in "default"; allow it.
    const ok = involvedNs === '' ? namespace === '' || namespace === 'default' : namespace === involvedNs;
    if (!ok) errs.push(invalid(nsPath, involvedNs, 'does not match event.namespace'));
  } else {
    if (involvedNs === '' && namespace !== 'default' && namespace !== 'kube-system') {
      errs.push(invalid(nsPath, involvedNs, 'does not match event.namespace'));
    }
    const rcName = version === 'v1' ? 'reportingComponent' : 'reportingController';
    const controller = e.reportingComponent ?? '';
    if (controller === '') errs.push(required(p(rcName), ''));
    for (const msg of isQualifiedName(controller)) errs.push(invalid(p(rcName), controller, msg));
    const instance = e.reportingInstance ?? '';
    if (instance === '') errs.push(required(p('reportingInstance'), ''));
    if (instance.length > REPORTING_INSTANCE_LENGTH_LIMIT) errs.push(tooLong('reportingInstance', REPORTING_INSTANCE_LENGTH_LIMIT));
    const action = e.action ?? '';
    if (action === '') errs.push(required(p('action'), ''));
    if (action.length > ACTION_LENGTH_LIMIT) errs.push(tooLong('action', ACTION_LENGTH_LIMIT));
    const reason = e.reason ?? '';
    if (reason === '') errs.push(required(p('reason'), ''));
    if (reason.length > REASON_LENGTH_LIMIT) errs.push(tooLong('reason', REASON_LENGTH_LIMIT));
    if ((e.message ?? '').length > NOTE_LENGTH_LIMIT) errs.push(tooLong('message', NOTE_LENGTH_LIMIT));
  }
  for (const msg of isDNS1123Subdomain(namespace)) errs.push(invalid(p('namespace'), namespace, msg));
  return errs;
}

function validateSeries(e: CoreEvent): FieldError[] {
  const s = e.series;
  if (s === undefined || s === null) return [];
  const errs: FieldError[] = [];
  if ((s.count ?? 0) < 2) errs.push(invalid(p('series.count'), '', 'should be at least 2'));
  if (isZeroTime(s.lastObservedTime)) errs.push(required(p('series.lastObservedTime'), ''));
  return errs;
}

export function validateEventCreate(e: CoreEvent, version: EventRequestVersion): FieldError[] {
  const errs = legacyValidateEvent(e, version);
  if (version === 'v1') return errs;
  errs.push(...validateObjectMeta(e.metadata, { namespaced: true }, p('metadata')));
  errs.push(...validateSeries(e));
  if (isZeroTime(e.eventTime)) errs.push(required(p('eventTime'), ''));
  if (e.type !== 'Normal' && e.type !== 'Warning') {
    errs.push(invalid(p('type'), '', `has invalid value: ${e.type ?? ''}`));
  }
  if (!isZeroTime(e.firstTimestamp)) errs.push(invalid(p('firstTimestamp'), '', 'needs to be unset'));
  if (!isZeroTime(e.lastTimestamp)) errs.push(invalid(p('lastTimestamp'), '', 'needs to be unset'));
  if ((e.count ?? 0) !== 0) errs.push(invalid(p('count'), '', 'needs to be unset'));
  if ((e.source?.component ?? '') !== '' || (e.source?.host ?? '') !== '') {
    errs.push(invalid(p('source'), '', 'needs to be unset'));
  }
  return errs;
}

export function validateEventUpdate(e: CoreEvent, old: CoreEvent, version: EventRequestVersion): FieldError[] {
  const errs = legacyValidateEvent(e, version);
  if (version === 'v1') return errs;
  errs.push(...validateObjectMetaUpdate(e.metadata, old.metadata, p('metadata')));
  if (!jsonEqual(e.series, old.series)) errs.push(...validateSeries(e));
  const immutable = (name: string, now: unknown, before: unknown): void => {
    if (!jsonEqual(now ?? '', before ?? '')) errs.push(invalid(p(name), now, 'field is immutable'));
  };
  immutable('involvedObject', e.involvedObject, old.involvedObject);
  immutable('reason', e.reason, old.reason);
  immutable('message', e.message, old.message);
  immutable('source', e.source, old.source);
  immutable('firstTimestamp', e.firstTimestamp, old.firstTimestamp);
  immutable('lastTimestamp', e.lastTimestamp, old.lastTimestamp);
  immutable('count', e.count ?? 0, old.count ?? 0);
  immutable('type', e.type, old.type);
  if (microsecondKey(e.eventTime) !== microsecondKey(old.eventTime)) immutable('eventTime', e.eventTime, old.eventTime);
  immutable('action', e.action, old.action);
  immutable('related', e.related, old.related);
  immutable('reportingController', e.reportingComponent, old.reportingComponent);
  immutable('reportingInstance', e.reportingInstance, old.reportingInstance);
  return errs;
}
