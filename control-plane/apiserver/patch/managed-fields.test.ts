import { describe, expect, it } from 'vitest';
import type { ManagedFieldsEntry } from '../../../api/meta.js';
import { FieldSet, keyElement, locate, removeElement } from './field-set.js';
import type { JsonObject } from './json-util.js';
import { computeFieldSet, managedFieldsOf, recordUpdate, requestFieldManager, sortEntries, trackUpdate } from './managed-fields.js';
import { deepFreeze, deploymentSchema, podSchema } from './test-schemas.js';

describe('computeFieldSet', () => {
  const cases: { name: string; obj: JsonObject; want: JsonObject }[] = [
    {
      name: 'labels are map members, a keyed item is a member holding its fields',
      obj: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx' }] } },
      want: {
        'f:metadata': { 'f:labels': { 'f:app': {} } },
        'f:spec': { 'f:containers': { 'k:{"name":"web"}': { '.': {}, 'f:image': {}, 'f:name': {} } } },
      },
    },
    {
      name: 'server-owned fields are never part of a set',
      obj: {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'p', namespace: 'd', uid: 'u', resourceVersion: '1', generation: 1, creationTimestamp: 't', managedFields: [{}] },
        spec: { restartPolicy: 'Always' },
      },
      want: { 'f:spec': { 'f:restartPolicy': {} } },
    },
    {
      name: 'set items are v: members, atomic lists and empty objects are leaves, nulls are absent',
      obj: {
        metadata: { finalizers: ['a', 'b'] },
        spec: { tolerations: [{ key: 'k' }], volumes: [{ name: 'd', emptyDir: {} }], restartPolicy: null },
      },
      want: {
        'f:metadata': { 'f:finalizers': { 'v:"a"': {}, 'v:"b"': {} } },
        'f:spec': { 'f:tolerations': {}, 'f:volumes': { 'k:{"name":"d"}': { '.': {}, 'f:emptyDir': {}, 'f:name': {} } } },
      },
    },
    {
      name: 'keys of nested keyed lists keep their JSON type',
      obj: { spec: { containers: [{ name: 'web', ports: [{ containerPort: 80 }], env: [{ name: 'A', value: '1' }] }] } },
      want: {
        'f:spec': {
          'f:containers': {
            'k:{"name":"web"}': {
              '.': {},
              'f:name': {},
              'f:env': { 'k:{"name":"A"}': { '.': {}, 'f:name': {}, 'f:value': {} } },
              'f:ports': { 'k:{"containerPort":80}': { '.': {}, 'f:containerPort': {} } },
            },
          },
        },
      },
    },
    {
      name: 'unknown and free-form fields recurse as maps, their lists are atomic',
      obj: { spec: { future: { a: { b: 1 }, list: [1, 2] }, extra: { x: 1 } } },
      want: { 'f:spec': { 'f:future': { 'f:a': { 'f:b': {} }, 'f:list': {} }, 'f:extra': { 'f:x': {} } } },
    },
    {
      name: 'a keyed list with an item lacking its key is atomic',
      obj: { spec: { containers: [{ name: 'web' }, { image: 'x' }] } },
      want: { 'f:spec': { 'f:containers': {} } },
    },
  ];

  it.each(cases)('$name', ({ obj, want }) => {
    expect(computeFieldSet(deepFreeze(obj), podSchema)).toEqual(want);
  });

  it('serializes children in sorted order with "." first', () => {
    const out = computeFieldSet({ spec: { containers: [{ name: 'web', image: 'i', args: ['a'] }] } }, podSchema);
    const item = (out['f:spec'] as JsonObject)['f:containers'] as JsonObject;
    expect(Object.keys(item['k:{"name":"web"}'] as JsonObject)).toEqual(['.', 'f:args', 'f:image', 'f:name']);
  });
});

describe('FieldSet', () => {
  const upstreamUpdate = {
    'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } },
    'f:spec': { 'f:containers': { 'k:{"name":"nginx"}': { '.': {}, 'f:image': {}, 'f:name': {} } } },
  };

  it('round-trips upstream fieldsV1, including "." on maps', () => {
    expect(FieldSet.fromFieldsV1(upstreamUpdate).toFieldsV1()).toEqual(upstreamUpdate);
  });

  it('lists member paths', () => {
    expect(FieldSet.fromFieldsV1(upstreamUpdate).paths()).toEqual([
      ['f:metadata', 'f:labels'],
      ['f:metadata', 'f:labels', 'f:app'],
      ['f:spec', 'f:containers', 'k:{"name":"nginx"}'],
      ['f:spec', 'f:containers', 'k:{"name":"nginx"}', 'f:image'],
      ['f:spec', 'f:containers', 'k:{"name":"nginx"}', 'f:name'],
    ]);
  });

  it('computes union and difference member-wise and stays normalized', () => {
    const a = FieldSet.fromFieldsV1({ 'f:a': {}, 'f:m': { 'f:x': {}, 'f:y': {} } });
    const b = FieldSet.fromFieldsV1({ 'f:m': { 'f:y': {} }, 'f:z': {} });
    expect(a.union(b).toFieldsV1()).toEqual({ 'f:a': {}, 'f:m': { 'f:x': {}, 'f:y': {} }, 'f:z': {} });
    expect(a.difference(b).toFieldsV1()).toEqual({ 'f:a': {}, 'f:m': { 'f:x': {} } });
    expect(a.difference(a).isEmpty()).toBe(true);
    expect(a.has(['f:m', 'f:x'])).toBe(true);
    expect(a.has(['f:m'])).toBe(false);
  });

  it('intersects member-wise: a shared parent alone is not shared', () => {
    const a = FieldSet.fromFieldsV1({ 'f:a': {}, 'f:m': { 'f:x': {}, 'f:y': {} }, 'f:l': { 'k:{"name":"w"}': { '.': {}, 'f:image': {} } } });
    const b = FieldSet.fromFieldsV1({ 'f:m': { 'f:y': {}, 'f:z': {} }, 'f:l': { 'k:{"name":"w"}': { 'f:image': {} } } });
    expect(a.intersection(b).toFieldsV1()).toEqual({ 'f:m': { 'f:y': {} }, 'f:l': { 'k:{"name":"w"}': { 'f:image': {} } } });
    expect(a.intersection(FieldSet.fromFieldsV1({ 'f:m': { 'f:q': {} } })).isEmpty()).toBe(true);
  });

  it('skips what is not fieldsV1', () => {
    expect(FieldSet.fromFieldsV1({ 'x:bad': {}, 'k:{oops': {}, 'f:ok': {}, 'f:n': 3 }).toFieldsV1()).toEqual({ 'f:ok': {} });
    expect(FieldSet.fromFieldsV1('nope').isEmpty()).toBe(true);
  });

  it('writes k: elements with sorted key fields and navigates values by them', () => {
    expect(keyElement({ protocol: 'TCP', containerPort: 80 })).toBe('k:{"containerPort":80,"protocol":"TCP"}');
    const ports = [{ containerPort: 80, protocol: 'TCP' }, { containerPort: 80, protocol: 'UDP' }];
    expect(locate(ports, 'k:{"containerPort":80,"protocol":"UDP"}')).toBe(ports[1]);
    expect(removeElement(ports, 'k:{"containerPort":80,"protocol":"TCP"}')).toEqual([ports[1]]);
    expect(removeElement(['a', 'b'], 'v:"a"')).toEqual(['b']);
  });
});

describe('recordUpdate', () => {
  const T1 = '2024-01-01T00:00:00Z';
  const T2 = '2024-01-01T00:01:00Z';
  const base = deepFreeze({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', labels: { app: 'web' } },
    spec: { replicas: 1, template: { spec: { containers: [{ name: 'web', image: 'nginx:1' }] } } },
  });
  const applyEntry: ManagedFieldsEntry = {
    manager: 'kubectl',
    operation: 'Apply',
    apiVersion: 'apps/v1',
    time: T1,
    fieldsType: 'FieldsV1',
    fieldsV1: {
      'f:metadata': { 'f:labels': { 'f:app': {} } },
      'f:spec': { 'f:replicas': {}, 'f:template': { 'f:spec': { 'f:containers': { 'k:{"name":"web"}': { '.': {}, 'f:image': {}, 'f:name': {} } } } } },
    },
  };
  const live = deepFreeze({ ...base, metadata: { ...base.metadata, managedFields: [applyEntry] } });
  const withImage = (obj: typeof live, image: string) => ({
    ...obj,
    spec: { ...obj.spec, template: { spec: { containers: [{ name: 'web', image }] } } },
  });

  it('on create, the writer owns every field it set', () => {
    const out = recordUpdate(undefined, base, deploymentSchema, 'kubectl-create', T1);
    expect(managedFieldsOf(out)).toEqual([
      {
        manager: 'kubectl-create',
        operation: 'Update',
        apiVersion: 'apps/v1',
        time: T1,
        fieldsType: 'FieldsV1',
        fieldsV1: {
          'f:metadata': { 'f:labels': { 'f:app': {} } },
          'f:spec': {
            'f:replicas': {},
            'f:template': { 'f:spec': { 'f:containers': { 'k:{"name":"web"}': { '.': {}, 'f:image': {}, 'f:name': {} } } } },
          },
        },
      },
    ]);
  });

  it('a changed field moves to the writer and leaves the applier', () => {
    const out = recordUpdate(live, withImage(live, 'nginx:2'), deploymentSchema, 'kubectl-set', T2);
    const [apply, update] = managedFieldsOf(out);
    expect(apply?.manager).toBe('kubectl');
    expect(apply?.fieldsV1).toEqual({
      'f:metadata': { 'f:labels': { 'f:app': {} } },
      'f:spec': { 'f:replicas': {}, 'f:template': { 'f:spec': { 'f:containers': { 'k:{"name":"web"}': { '.': {}, 'f:name': {} } } } } },
    });
    expect(update).toEqual({
      manager: 'kubectl-set',
      operation: 'Update',
      apiVersion: 'apps/v1',
      time: T2,
      fieldsType: 'FieldsV1',
      fieldsV1: { 'f:spec': { 'f:template': { 'f:spec': { 'f:containers': { 'k:{"name":"web"}': { 'f:image': {} } } } } } },
    });
  });

  it('a write that changes nothing leaves managedFields as they were', () => {
    const out = recordUpdate(live, live, deploymentSchema, 'kubectl-edit', T2);
    expect(managedFieldsOf(out)).toEqual([applyEntry]);
    expect(managedFieldsOf(out)[0]).toBe(applyEntry);
  });

  it('removed fields leave every entry, and an emptied entry is dropped', () => {
    const labelsOnly: ManagedFieldsEntry = { ...applyEntry, manager: 'labeler', operation: 'Update', fieldsV1: { 'f:metadata': { 'f:labels': { 'f:app': {} } } } };
    const old = { ...live, metadata: { ...live.metadata, managedFields: [applyEntry, labelsOnly] } };
    const updated = { ...old, metadata: { name: 'web', managedFields: [applyEntry, labelsOnly] } };
    const entries = managedFieldsOf(recordUpdate(old, updated, deploymentSchema, 'editor', T2));
    expect(entries.map((e) => e.manager)).toEqual(['kubectl']);
    expect((entries[0]?.fieldsV1 as JsonObject)['f:metadata']).toBeUndefined();
  });

  it('keeps subresource writers apart and ignores managedFields sent by the client', () => {
    const status = { ...live, metadata: { ...live.metadata, managedFields: [] }, status: { replicas: 1 } };
    const out = recordUpdate(live, status, deploymentSchema, 'kube-controller-manager', T2, { subresource: 'status' });
    expect(managedFieldsOf(out)).toEqual([
      applyEntry,
      {
        manager: 'kube-controller-manager',
        operation: 'Update',
        apiVersion: 'apps/v1',
        time: T2,
        fieldsType: 'FieldsV1',
        fieldsV1: { 'f:status': { 'f:replicas': {} } },
        subresource: 'status',
      },
    ]);
  });

  it('sorts entries like upstream: operation, time, manager', () => {
    const e = (manager: string, operation: string, time: string): ManagedFieldsEntry => ({ manager, operation, time });
    expect(sortEntries([e('b', 'Update', T1), e('z', 'Apply', T2), e('a', 'Update', T1), e('y', 'Apply', T1)]).map((x) => x.manager)).toEqual([
      'y',
      'z',
      'a',
      'b',
    ]);
  });
});

describe('trackUpdate', () => {
  const T1 = '2024-01-01T00:00:00Z';
  const T2 = '2024-01-01T00:01:00Z';
  const entryOf = (manager: string, fieldsV1: JsonObject, extra: Partial<ManagedFieldsEntry> = {}): ManagedFieldsEntry => ({
    manager,
    operation: 'Update',
    apiVersion: 'v1',
    time: T1,
    fieldsType: 'FieldsV1',
    fieldsV1,
    ...extra,
  });
  const creator = entryOf('kubectl-create', { 'f:data': { 'f:a': {} } });
  const live = deepFreeze({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', managedFields: [creator] }, data: { a: '1' } });

  it('records the writer on top of the live entries when the client sent none', () => {
    const written = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { a: '1', b: '2' } };
    expect(managedFieldsOf(trackUpdate(live, written, undefined, 'kubectl-edit', T2))).toEqual([
      creator,
      entryOf('kubectl-edit', { 'f:data': { 'f:b': {} } }, { time: T2 }),
    ]);
  });

  it('a client resets managedFields with [{}]: no entry survives a write that changes nothing else', () => {
    const written = { ...live, metadata: { name: 'c', managedFields: [{}] } };
    expect(managedFieldsOf(trackUpdate(live, written, undefined, 'kubectl-patch', T2))).toEqual([]);
  });

  it('entries the client sent replace the live ones, except through a subresource', () => {
    const replaced = entryOf('someone', { 'f:data': { 'f:a': {} } });
    const written = { ...live, metadata: { name: 'c', managedFields: [replaced] } };
    expect(managedFieldsOf(trackUpdate(live, written, undefined, 'kubectl-replace', T2))).toEqual([replaced]);
    expect(managedFieldsOf(trackUpdate(live, written, undefined, 'kubelet', T2, { subresource: 'status' }))).toEqual([creator]);
  });

  it('on create, the writer owns everything, alongside any entries the client sent', () => {
    const out = trackUpdate(undefined, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { a: '1' } }, undefined, 'kubectl-create', T1);
    expect(managedFieldsOf(out)).toEqual([creator]);
  });
});

describe('requestFieldManager', () => {
  const cases: { name: string; fieldManager?: string; userAgent?: string; want: string }[] = [
    { name: 'the fieldManager parameter wins', fieldManager: 'kubectl-label', userAgent: 'kubectl/v1.32.0 (linux/amd64) kubernetes/abc', want: 'kubectl-label' },
    { name: 'else the User-Agent up to its first slash', userAgent: 'kube-controller-manager/v1.32.0 (linux/amd64) kubernetes/abc', want: 'kube-controller-manager' },
    { name: 'a User-Agent without a slash is kept whole', userAgent: 'curl 8', want: 'curl 8' },
    { name: 'unprintable characters are dropped', userAgent: 'my\tagent\u0000/1', want: 'myagent' },
    { name: 'cut to 128 bytes', userAgent: 'x'.repeat(200), want: 'x'.repeat(128) },
    { name: 'nobody when neither says', want: '' },
  ];
  it.each(cases)('$name', ({ fieldManager, userAgent, want }) => {
    expect(requestFieldManager(fieldManager, userAgent)).toBe(want);
  });
});
