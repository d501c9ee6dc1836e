import { describe, expect, it } from 'vitest';
import type { KubeObject, ManagedFieldsEntry } from '../../../api/meta.js';
import { applyPatch } from './apply.js';
import { conflictCauses, describeManager, formatFieldPath } from './conflicts.js';
import { ApplyConflictError } from './errors.js';
import { managedFieldsOf, recordUpdate } from './managed-fields.js';
import { deepFreeze, podSchema } from './test-schemas.js';

const T1 = '2024-05-01T10:00:00Z';
const T2 = '2024-05-01T10:05:00Z';
const T3 = '2024-05-01T10:10:00Z';

const pod = (labels: Record<string, string>, image = 'nginx:1.25'): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'web', labels },
  spec: { containers: [{ name: 'web', image }] },
});

/** The live pod after `kubectl apply --server-side` of `pod({app: 'web'})`, then other writers. */
function live(...writes: ((obj: KubeObject) => KubeObject)[]): KubeObject {
  let obj = deepFreeze(applyPatch(undefined, pod({ app: 'web' }), podSchema, 'kubectl', T1));
  for (const write of writes) obj = deepFreeze(write(obj));
  return obj;
}
const update = (manager: string, change: (o: KubeObject) => KubeObject, subresource?: string) => (o: KubeObject) =>
  recordUpdate(o, change(o), podSchema, manager, T2, subresource !== undefined ? { subresource } : {});
const labelled = (labels: Record<string, string>) => (o: KubeObject): KubeObject => ({ ...o, metadata: { ...o.metadata, labels: { ...o.metadata.labels, ...labels } } });
const imaged = (image: string) => (o: KubeObject): KubeObject => ({ ...o, spec: { containers: [{ name: 'web', image }] } });
const applyBy = (manager: string, config: KubeObject) => (o: KubeObject) => applyPatch(o, config, podSchema, manager, T2);

function conflictOf(f: () => unknown): ApplyConflictError {
  try {
    f();
  } catch (err) {
    if (err instanceof ApplyConflictError) return err;
    throw err;
  }
  throw new Error('expected an ApplyConflictError');
}

describe('server-side apply conflicts', () => {
  const cases: { name: string; before: KubeObject; config: KubeObject; message: string }[] = [
    {
      name: 'a label another writer set to another value',
      before: live(update('kubectl-label', labelled({ owner: 'ops' }))),
      config: pod({ app: 'web', owner: 'dev' }),
      message: 'Apply failed with 1 conflict: conflict with "kubectl-label" using v1: .metadata.labels.owner',
    },
    {
      name: 'a field of a keyed list item, named by its key',
      before: live(update('kubectl-set', imaged('nginx:1.26'))),
      config: pod({ app: 'web' }, 'nginx:1.27'),
      message: 'Apply failed with 1 conflict: conflict with "kubectl-set" using v1: .spec.containers[name="web"].image',
    },
    {
      name: 'a field another applier owns (appliers are named without a version)',
      before: live(applyBy('alice', pod({ team: 'a' }))),
      config: pod({ app: 'web', team: 'b' }),
      message: 'Apply failed with 1 conflict: conflict with "alice": .metadata.labels.team',
    },
    {
      name: 'a field a status writer owns',
      before: live(update('kubelet', labelled({ node: 'n1' }), 'status')),
      config: pod({ app: 'web', node: 'n2' }),
      message: 'Apply failed with 1 conflict: conflict with "kubelet" with subresource "status" using v1: .metadata.labels.node',
    },
    {
      name: 'several fields of several managers, grouped by manager in order',
      before: live(update('zed', labelled({ z1: 'a', z2: 'a' })), update('amy', labelled({ a1: 'a' }))),
      config: pod({ app: 'web', z1: 'b', z2: 'b', a1: 'b' }),
      message: [
        'Apply failed with 3 conflicts: conflicts with "amy" using v1:',
        '- .metadata.labels.a1',
        'conflicts with "zed" using v1:',
        '- .metadata.labels.z1',
        '- .metadata.labels.z2',
      ].join('\n'),
    },
  ];

  it.each(cases)('fails on $name, and applies nothing', ({ before, config, message }) => {
    const err = conflictOf(() => applyPatch(before, config, podSchema, 'kubectl', T3));
    expect(err.message).toBe(message);
    expect(err.httpStatus).toBe(409);
    expect(err.code).toBe('ERR_PATCH_APPLY_CONFLICT');
  });

  it('lists one FieldManagerConflict cause per field, as upstream details.causes', () => {
    const before = live(update('kubectl-label', labelled({ owner: 'ops' })));
    const err = conflictOf(() => applyPatch(before, pod({ app: 'web', owner: 'dev' }), podSchema, 'kubectl', T3));
    expect(conflictCauses(err.conflicts)).toEqual([
      { reason: 'FieldManagerConflict', message: 'conflict with "kubectl-label" using v1', field: '.metadata.labels.owner' },
    ]);
  });

  it('applying the value another manager set is no conflict: both own the field', () => {
    const before = live(update('kubectl-label', labelled({ owner: 'ops' })));
    const out = applyPatch(before, pod({ app: 'web', owner: 'ops' }), podSchema, 'kubectl', T3);
    const owners = managedFieldsOf(out)
      .filter((e) => JSON.stringify(e.fieldsV1).includes('f:owner'))
      .map((e) => e.manager);
    expect(owners.sort()).toEqual(['kubectl', 'kubectl-label']);
  });

  it('fields the apply leaves alone are no conflict, whoever owns them', () => {
    const before = live(update('kubectl-label', labelled({ owner: 'ops' })));
    const out = applyPatch(before, pod({ app: 'web', extra: 'x' }), podSchema, 'kubectl', T3);
    expect(out.metadata.labels).toEqual({ app: 'web', owner: 'ops', extra: 'x' });
  });

  it('the applier\'s own earlier Apply is no conflict, its own Update under the same name is', () => {
    expect(applyPatch(live(), pod({ app: 'api' }), podSchema, 'kubectl', T3).metadata.labels).toEqual({ app: 'api' });
    const before = live(update('kubectl', labelled({ owner: 'ops' })));
    expect(conflictOf(() => applyPatch(before, pod({ app: 'web', owner: 'dev' }), podSchema, 'kubectl', T3)).message).toContain(
      'conflict with "kubectl" using v1: .metadata.labels.owner',
    );
  });

  it('a forced apply takes the field: the value changes and the other manager loses it', () => {
    const before = live(update('kubectl-label', labelled({ owner: 'ops', keep: 'k' })));
    const out = applyPatch(before, pod({ app: 'web', owner: 'dev' }), podSchema, 'kubectl', T3, { force: true });
    expect(out.metadata.labels).toEqual({ app: 'web', owner: 'dev', keep: 'k' });
    const labeler = managedFieldsOf(out).find((e) => e.manager === 'kubectl-label');
    expect(labeler?.fieldsV1).toEqual({ 'f:metadata': { 'f:labels': { 'f:keep': {} } } });
  });

  it('creating through apply never conflicts', () => {
    expect(() => applyPatch(undefined, pod({ owner: 'dev' }), podSchema, 'kubectl', T1)).not.toThrow();
  });
});

describe('formatFieldPath', () => {
  const cases: { path: string[]; want: string }[] = [
    { path: ['f:metadata', 'f:labels', 'f:owner'], want: '.metadata.labels.owner' },
    { path: ['f:spec', 'f:containers', 'k:{"name":"web"}', 'f:image'], want: '.spec.containers[name="web"].image' },
    { path: ['f:spec', 'f:ports', 'k:{"port":80,"protocol":"TCP"}'], want: '.spec.ports[port=80,protocol="TCP"]' },
    { path: ['f:metadata', 'f:finalizers', 'v:"example.com/f"'], want: '.metadata.finalizers[="example.com/f"]' },
    { path: ['f:args', 'i:2'], want: '.args[2]' },
  ];
  it.each(cases)('$want', ({ path, want }) => {
    expect(formatFieldPath(path)).toBe(want);
  });
});

describe('describeManager', () => {
  const cases: { entry: ManagedFieldsEntry; want: string }[] = [
    { entry: { manager: 'kubectl-label', operation: 'Update', apiVersion: 'v1', time: T1 }, want: '"kubectl-label" using v1' },
    { entry: { manager: 'kubectl', operation: 'Apply', apiVersion: 'apps/v1' }, want: '"kubectl"' },
    { entry: { manager: 'kubelet', operation: 'Update', apiVersion: 'v1', subresource: 'status' }, want: '"kubelet" with subresource "status" using v1' },
  ];
  it.each(cases)('$want', ({ entry, want }) => {
    expect(describeManager(entry)).toBe(want);
  });
});
