import { describe, expect, it } from 'vitest';
import { formatFieldError } from '../field-errors.js';
import type { CoreEvent, EventsV1Event } from './event.js';
import { coreToEventsV1, eventsV1EventKind, eventsV1ToCore, validateEventCreate } from './event.js';
import { microsecondKey } from './validation.js';

const v1: EventsV1Event = {
  apiVersion: 'events.k8s.io/v1',
  kind: 'Event',
  metadata: { name: 'web-1.17c1', namespace: 'default' },
  eventTime: '2024-05-01T10:00:00.123456Z',
  series: { count: 2, lastObservedTime: '2024-05-01T10:05:00.000000Z' },
  reportingController: 'kubernetes.io/kubelet',
  reportingInstance: 'kubelet-node-1',
  action: 'Pulling',
  reason: 'Pulling',
  regarding: { kind: 'Pod', namespace: 'default', name: 'web-1', uid: 'u1', apiVersion: 'v1', fieldPath: 'spec.containers{web}' },
  related: { kind: 'Node', name: 'node-1' },
  note: 'Pulling image "busybox"',
  type: 'Normal',
  deprecatedFirstTimestamp: null,
  deprecatedLastTimestamp: null,
  deprecatedCount: 0,
};

const core: CoreEvent = {
  apiVersion: 'v1',
  kind: 'Event',
  metadata: { name: 'web-1.17c1', namespace: 'default' },
  involvedObject: { kind: 'Pod', namespace: 'default', name: 'web-1', uid: 'u1' },
  reason: 'BackOff',
  message: 'Back-off restarting failed container',
  source: { component: 'kubelet', host: 'node-1' },
  firstTimestamp: '2024-05-01T10:00:00Z',
  lastTimestamp: '2024-05-01T10:10:00Z',
  count: 7,
  type: 'Warning',
  eventTime: null,
  reportingComponent: '',
  reportingInstance: '',
};

describe('events.k8s.io/v1 <-> core/v1 conversion', () => {
  it('renames fields the way upstream does', () => {
    const c = eventsV1ToCore(v1);
    expect(c).toMatchObject({
      apiVersion: 'v1',
      kind: 'Event',
      involvedObject: v1.regarding,
      message: v1.note,
      reportingComponent: 'kubernetes.io/kubelet',
      firstTimestamp: null,
      lastTimestamp: null,
      count: 0,
      eventTime: v1.eventTime,
      series: v1.series,
      related: v1.related,
      action: 'Pulling',
      reportingInstance: 'kubelet-node-1',
    });
    for (const gone of ['regarding', 'note', 'reportingController', 'deprecatedSource', 'deprecatedCount']) {
      expect(Object.hasOwn(c, gone)).toBe(false);
    }
  });

  it.each<[string, EventsV1Event]>([
    ['a full event', v1],
    ['an event with a deprecated source', { ...v1, deprecatedSource: { component: 'kubelet', host: 'node-1' } }],
    ['a minimal event', { metadata: { name: 'e', namespace: 'default' }, eventTime: '2024-05-01T10:00:00.000000Z', regarding: {} }],
  ])('round-trips %s from events.k8s.io/v1', (_name, e) => {
    expect(coreToEventsV1(eventsV1ToCore(e))).toEqual({ ...e, apiVersion: 'events.k8s.io/v1', kind: 'Event' });
  });

  it('round-trips a legacy core/v1 event', () => {
    const e = coreToEventsV1(core);
    expect(e).toMatchObject({
      apiVersion: 'events.k8s.io/v1',
      regarding: core.involvedObject,
      note: core.message,
      deprecatedFirstTimestamp: core.firstTimestamp,
      deprecatedLastTimestamp: core.lastTimestamp,
      deprecatedCount: 7,
      deprecatedSource: core.source,
      reportingController: '',
    });
    expect(eventsV1ToCore(e)).toEqual(core);
  });

  it('gives a v1 event without regarding an empty involvedObject, as core requires one', () => {
    const { regarding: _r, ...bare } = v1;
    expect(eventsV1ToCore(bare as EventsV1Event).involvedObject).toEqual({});
  });
});

describe('eventsV1EventKind', () => {
  it('is events.k8s.io/v1 events with short name ev', () => {
    expect(eventsV1EventKind).toMatchObject({ group: 'events.k8s.io', version: 'v1', plural: 'events', shortNames: ['ev'], namespaced: true });
  });

  it('accepts what the kubelet reports', () => {
    expect(eventsV1EventKind.validate(v1)).toEqual([]);
  });

  it.each<[string, Partial<EventsV1Event>, string[]]>([
    ['a missing eventTime', { eventTime: null }, ['eventTime: Required value']],
    ['a bad type', { type: 'Info' }, ['type: Invalid value: "": has invalid value: Info']],
    ['a missing action', { action: '' }, ['action: Required value']],
    ['a missing reason', { reason: '' }, ['reason: Required value']],
    ['a missing reportingInstance', { reportingInstance: '' }, ['reportingInstance: Required value']],
    ['a long action', { action: 'a'.repeat(129) }, ['action: Invalid value: "": can have at most 128 characters']],
    ['a long note', { note: 'n'.repeat(1025) }, ['message: Invalid value: "": can have at most 1024 characters']],
    ['a short series', { series: { count: 1, lastObservedTime: '2024-05-01T10:05:00.000000Z' } }, ['series.count: Invalid value: "": should be at least 2']],
    ['a series without time', { series: { count: 3 } }, ['series.lastObservedTime: Required value']],
    ['a deprecated count', { deprecatedCount: 3 }, ['count: Invalid value: "": needs to be unset']],
    ['a deprecated source', { deprecatedSource: { component: 'kubelet' } }, ['source: Invalid value: "": needs to be unset']],
    ['a deprecated first timestamp', { deprecatedFirstTimestamp: '2024-05-01T10:00:00Z' }, ['firstTimestamp: Invalid value: "": needs to be unset']],
    [
      'a regarding object in another namespace',
      { regarding: { kind: 'Node', name: 'node-1' }, metadata: { name: 'e', namespace: 'other' } },
      ['involvedObject.namespace: Invalid value: "": does not match event.namespace'],
    ],
  ])('rejects %s', (_name, patch, want) => {
    expect(eventsV1EventKind.validate({ ...v1, ...patch }).map(formatFieldError)).toEqual(want);
  });

  it('reports a missing reportingController with a qualified-name error too', () => {
    const errs = eventsV1EventKind.validate({ ...v1, reportingController: '' }).map((e) => `${e.type} ${e.field}`);
    expect(errs[0]).toBe('FieldValueRequired reportingController');
    expect(errs.slice(1).every((e) => e === 'FieldValueInvalid reportingController')).toBe(true);
  });

  it('lets a cluster-scoped object be reported from default or kube-system', () => {
    const nodeEvent = { ...v1, regarding: { kind: 'Node', name: 'node-1' } };
    expect(eventsV1EventKind.validate(nodeEvent)).toEqual([]);
    expect(eventsV1EventKind.validate({ ...nodeEvent, metadata: { name: 'e', namespace: 'kube-system' } })).toEqual([]);
  });

  it('on update lets the series move on but freezes everything else', () => {
    const later = { ...v1, series: { count: 3, lastObservedTime: '2024-05-01T10:06:00.000000Z' } };
    expect(eventsV1EventKind.validateUpdate(later, v1)).toEqual([]);
    const edited = { ...v1, note: 'other', reason: 'Pulled' };
    expect(eventsV1EventKind.validateUpdate(edited, v1).map(formatFieldError)).toEqual([
      'reason: Invalid value: "Pulled": field is immutable',
      'message: Invalid value: "other": field is immutable',
    ]);
  });

  it('tolerates sub-microsecond eventTime differences on update', () => {
    const nanos = { ...v1, eventTime: '2024-05-01T10:00:00.123456789Z' };
    expect(eventsV1EventKind.validateUpdate(nanos, v1)).toEqual([]);
    const moved = { ...v1, eventTime: '2024-05-01T10:00:00.123457Z' };
    expect(eventsV1EventKind.validateUpdate(moved, v1).map((e) => e.field)).toEqual(['eventTime']);
  });

  it('selects by regarding.*, reason, reportingController and type', () => {
    expect(eventsV1EventKind.selectableFields?.(v1)).toMatchObject({
      'regarding.name': 'web-1',
      'regarding.kind': 'Pod',
      'regarding.fieldPath': 'spec.containers{web}',
      reason: 'Pulling',
      reportingController: 'kubernetes.io/kubelet',
      type: 'Normal',
    });
  });
});

describe('validateEventCreate through core/v1', () => {
  it('stays lenient for legacy events', () => {
    expect(validateEventCreate(core, 'v1')).toEqual([]);
  });

  it('still checks the namespace of a legacy event', () => {
    const wrong = { ...core, metadata: { name: 'e', namespace: 'other' } };
    expect(validateEventCreate(wrong, 'v1').map(formatFieldError)).toEqual([
      'involvedObject.namespace: Invalid value: "default": does not match event.namespace',
    ]);
  });

  it('names the reporting field as core/v1 does for core requests', () => {
    const newStyle = { ...eventsV1ToCore(v1), reportingComponent: '' };
    expect(validateEventCreate(newStyle, 'v1')[0]?.field).toBe('reportingComponent');
  });
});

describe('microsecondKey', () => {
  it.each([
    ['2024-05-01T10:00:00.123456Z', '2024-05-01T10:00:00.123456999Z', true],
    ['2024-05-01T10:00:00Z', '2024-05-01T10:00:00.000000Z', true],
    ['2024-05-01T12:00:00.5+02:00', '2024-05-01T10:00:00.500000Z', true],
    ['2024-05-01T10:00:00.123456Z', '2024-05-01T10:00:00.123457Z', false],
  ])('%s vs %s equal: %s', (a, b, same) => {
    expect(microsecondKey(a) === microsecondKey(b)).toBe(same);
  });
});
