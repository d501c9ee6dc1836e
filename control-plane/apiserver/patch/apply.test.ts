import { describe, expect, it } from 'vitest';
import type { KubeObject, ManagedFieldsEntry } from '../../../api/meta.js';
import { applyPatch } from './apply.js';
import { PatchError } from './errors.js';
import { computeFieldSet, managedFieldsOf, recordUpdate } from './managed-fields.js';
import { deepFreeze, deploymentSchema, podSchema } from './test-schemas.js';

const T1 = '2024-05-01T10:00:00Z';
const T2 = '2024-05-01T10:05:00Z';
const T3 = '2024-05-01T10:10:00Z';

/** A pod configuration as a user would keep it in a file. */
const config = (spec: Record<string, unknown>, meta: Record<string, unknown> = {}) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'web', ...meta },
  spec,
});
const webContainer = { name: 'web', image: 'nginx:1.25', env: [{ name: 'A', value: '1' }] };
const sidecarContainer = { name: 'sidecar', image: 'busybox' };
const labels = { app: 'web', tier: 'fe' };
const initial = config({ containers: [webContainer, sidecarContainer] }, { labels, finalizers: ['example.com/f'] });

/** What the apiserver adds after create: server metadata, defaults, status. */
function stored(obj: KubeObject): KubeObject {
  return deepFreeze({
    ...obj,
    metadata: { ...obj.metadata, uid: 'u-1', resourceVersion: '7', generation: 1, creationTimestamp: T1 },
    status: { phase: 'Running' },
  });
}
const spec = (o: KubeObject) => o['spec'] as { containers: Record<string, unknown>[]; [k: string]: unknown };
const entry = (o: KubeObject, manager: string) => managedFieldsOf(o).find((e) => e.manager === manager);

describe('applyPatch', () => {
  it('creates the object from the configuration and records the manager', () => {
    const out = applyPatch(undefined, deepFreeze({ ...initial, spec: { ...initial.spec, restartPolicy: null } }), podSchema, 'kubectl', T1);
    const { managedFields, ...meta } = out.metadata;
    expect({ ...out, metadata: meta }).toEqual(initial);
    expect(managedFields).toEqual([
      { manager: 'kubectl', operation: 'Apply', apiVersion: 'v1', time: T1, fieldsType: 'FieldsV1', fieldsV1: computeFieldSet(initial, podSchema) },
    ]);
  });

  it('merges a changed image into the live object, keeping server and defaulted fields', () => {
    const live = stored(applyPatch(undefined, initial, podSchema, 'kubectl', T1));
    const defaulted = deepFreeze({ ...live, spec: { ...spec(live), restartPolicy: 'Always' } });
    const changed = { ...initial, spec: { containers: [{ ...webContainer, image: 'nginx:1.26' }, sidecarContainer] } };
    const out = applyPatch(defaulted, changed, podSchema, 'kubectl', T2);
    expect(spec(out).containers[0]?.['image']).toBe('nginx:1.26');
    expect(spec(out)['restartPolicy']).toBe('Always');
    expect(out['status']).toEqual({ phase: 'Running' });
    expect(out.metadata).toMatchObject({ uid: 'u-1', resourceVersion: '7', generation: 1, creationTimestamp: T1 });
    expect(entry(out, 'kubectl')?.time).toBe(T2);
  });

  it('removes fields the manager applied before and no longer applies', () => {
    const live = stored(applyPatch(undefined, initial, podSchema, 'kubectl', T1));
    const next = config({ containers: [{ name: 'web', image: 'nginx:1.25' }] });
    const out = applyPatch(live, next, podSchema, 'kubectl', T2);
    expect(out.metadata.labels).toBeUndefined();
    expect(out.metadata.finalizers).toBeUndefined();
    expect(spec(out).containers).toEqual([{ name: 'web', image: 'nginx:1.25' }]);
    expect(entry(out, 'kubectl')?.fieldsV1).toEqual(computeFieldSet(next, podSchema));
  });

  it('removes only the label dropped from the configuration', () => {
    const live = stored(applyPatch(undefined, initial, podSchema, 'kubectl', T1));
    const out = applyPatch(live, { ...initial, metadata: { name: 'web', labels: { app: 'web' }, finalizers: ['example.com/f'] } }, podSchema, 'kubectl', T2);
    expect(out.metadata.labels).toEqual({ app: 'web' });
  });

  it('keeps a dropped field that another manager also owns', () => {
    const applied = stored(applyPatch(undefined, initial, podSchema, 'kubectl', T1));
    // Another writer sets the same label value: shared ownership (its Update only records what changed).
    const labeler: ManagedFieldsEntry = { manager: 'labeler', operation: 'Update', apiVersion: 'v1', time: T2, fieldsType: 'FieldsV1', fieldsV1: { 'f:metadata': { 'f:labels': { 'f:tier': {} } } } };
    const live = deepFreeze({ ...applied, metadata: { ...applied.metadata, managedFields: [...managedFieldsOf(applied), labeler] } });
    const out = applyPatch(live, { ...initial, metadata: { name: 'web', labels: { app: 'web' } } }, podSchema, 'kubectl', T3);
    expect(out.metadata.labels).toEqual({ app: 'web', tier: 'fe' });
    expect(entry(out, 'labeler')).toEqual(labeler);
  });

  it('keeps a list item another manager has fields under, removing only the applier\'s own fields', () => {
    const applied = stored(applyPatch(undefined, initial, podSchema, 'kubectl', T1));
    const withResources = { ...applied, spec: { containers: [spec(applied).containers[0], { ...spec(applied).containers[1], resources: { limits: { cpu: '1' } } }] } };
    const live = deepFreeze(recordUpdate(applied, withResources, podSchema, 'vpa', T2));
    const out = applyPatch(live, config({ containers: [webContainer] }, { labels }), podSchema, 'kubectl', T3);
    expect(spec(out).containers).toEqual([webContainer, { name: 'sidecar', resources: { limits: { cpu: '1' } } }]);
  });

  it('never removes status or server-owned metadata, even if an old entry claims them', () => {
    const live = deepFreeze({
      ...stored(applyPatch(undefined, initial, podSchema, 'kubectl', T1)),
    });
    const claims: ManagedFieldsEntry = {
      ...(managedFieldsOf(live)[0] as ManagedFieldsEntry),
      fieldsV1: { 'f:status': { 'f:phase': {} }, 'f:metadata': { 'f:uid': {}, 'f:resourceVersion': {}, 'f:generation': {}, 'f:creationTimestamp': {} } },
    };
    const out = applyPatch({ ...live, metadata: { ...live.metadata, managedFields: [claims] } }, initial, podSchema, 'kubectl', T2);
    expect(out['status']).toEqual({ phase: 'Running' });
    expect(out.metadata).toMatchObject({ uid: 'u-1', resourceVersion: '7', generation: 1, creationTimestamp: T1 });
  });

  it('ignores server-owned metadata and managedFields in the configuration', () => {
    const live = stored(applyPatch(undefined, initial, podSchema, 'kubectl', T1));
    const sneaky = { ...initial, metadata: { ...initial.metadata, uid: 'other', resourceVersion: '1', managedFields: [{ manager: 'x' }] } };
    const out = applyPatch(live, sneaky, podSchema, 'kubectl', T2);
    expect(out.metadata.uid).toBe('u-1');
    expect(out.metadata.resourceVersion).toBe('7');
    expect(managedFieldsOf(out).map((e) => e.manager)).toEqual(['kubectl']);
  });

  it('an identical re-apply yields an identical object (the write can be skipped)', () => {
    const live = stored(applyPatch(undefined, initial, podSchema, 'kubectl', T1));
    expect(JSON.stringify(applyPatch(live, initial, podSchema, 'kubectl', T2))).toBe(JSON.stringify(live));
  });

  it('a forced apply takes ownership of fields whose value it changes, dropping emptied entries', () => {
    const applied = stored(applyPatch(undefined, initial, podSchema, 'kubectl', T1));
    const edited = deepFreeze(recordUpdate(applied, { ...applied, metadata: { ...applied.metadata, labels: { app: 'web', tier: 'be' } } }, podSchema, 'kubectl-label', T2));
    expect(entry(edited, 'kubectl-label')?.fieldsV1).toEqual({ 'f:metadata': { 'f:labels': { 'f:tier': {} } } });
    const out = applyPatch(edited, initial, podSchema, 'kubectl', T3, { force: true });
    expect(out.metadata.labels).toEqual({ app: 'web', tier: 'fe' });
    expect(managedFieldsOf(out).map((e) => e.manager)).toEqual(['kubectl']);
  });

  it('two appliers of the same value share it; it stays until both drop it', () => {
    const a = stored(applyPatch(undefined, config({}, { labels: { shared: 'x' } }), podSchema, 'alice', T1));
    const b = applyPatch(a, config({}, { labels: { shared: 'x', bob: 'y' } }), podSchema, 'bob', T2);
    const aliceDrops = applyPatch(b, config({}), podSchema, 'alice', T3);
    expect(aliceDrops.metadata.labels).toEqual({ shared: 'x', bob: 'y' });
    const bobDrops = applyPatch(aliceDrops, config({}), podSchema, 'bob', T3);
    expect(bobDrops.metadata.labels).toBeUndefined();
  });

  it('empties a struct to {} but drops emptied maps and lists', () => {
    const dep = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' }, spec: { strategy: { type: 'Recreate' }, selector: { matchLabels: { app: 'd' } } } };
    const live = stored(applyPatch(undefined, dep, deploymentSchema, 'kubectl', T1));
    const out = applyPatch(live, { ...dep, spec: {} }, deploymentSchema, 'kubectl', T2);
    expect(out['spec']).toEqual({ strategy: {}, selector: {} });
  });

  it('keeps entries per subresource', () => {
    const live = stored(applyPatch(undefined, initial, podSchema, 'kubectl', T1));
    const out = applyPatch(live, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web' }, status: { phase: 'Failed' } }, podSchema, 'tester', T2, { subresource: 'status' });
    expect(out['status']).toEqual({ phase: 'Failed' });
    expect(entry(out, 'tester')).toMatchObject({ operation: 'Apply', subresource: 'status', fieldsV1: { 'f:status': { 'f:phase': {} } } });
    expect(entry(out, 'kubectl')?.time).toBe(T1);
  });

  it('rejects a configuration that is not an object', () => {
    expect(() => applyPatch(undefined, [1], podSchema, 'kubectl', T1)).toThrow(PatchError);
    try {
      applyPatch(undefined, 'x', podSchema, 'kubectl', T1);
    } catch (e) {
      expect((e as PatchError).code).toBe('ERR_PATCH_MALFORMED');
      expect((e as PatchError).httpStatus).toBe(400);
    }
  });
});
