import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../api/meta.js';
import { adoptPatch, controllerRefOf, controllerRefTo, planClaim, releasePatch } from './replicaset-claim.js';

const owner: KubeObject = { metadata: { name: 'web', namespace: 'ns', uid: 'uid-owner' } };

function obj(name: string, o: { owner?: string; selected?: boolean; deleting?: boolean; ns?: string; plainRef?: boolean } = {}): KubeObject {
  const refs = [
    ...(o.owner !== undefined ? [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'x', uid: o.owner, controller: true }] : []),
    ...(o.plainRef === true ? [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'cm', uid: 'uid-cm' }] : []),
  ];
  return {
    metadata: {
      name,
      namespace: o.ns ?? 'ns',
      uid: `uid-${name}`,
      labels: { selected: o.selected === false ? 'no' : 'yes' },
      ...(refs.length > 0 ? { ownerReferences: refs } : {}),
      ...(o.deleting === true ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}),
    },
  };
}

const selected = (o: KubeObject): boolean => o.metadata.labels?.['selected'] === 'yes';
const names = (l: readonly KubeObject[]): string[] => l.map((o) => o.metadata.name ?? '');

describe('planClaim', () => {
  const cases: Array<[string, KubeObject, KubeObject, 'owned' | 'adopt' | 'release' | 'ignored']> = [
    ['ours and selected: owned', owner, obj('a', { owner: 'uid-owner' }), 'owned'],
    ['ours but no longer selected: released', owner, obj('a', { owner: 'uid-owner', selected: false }), 'release'],
    ['ours, not selected, owner being deleted: left for the garbage collector', { metadata: { ...owner.metadata, deletionTimestamp: 'x' } }, obj('a', { owner: 'uid-owner', selected: false }), 'ignored'],
    ['another controller\'s: ignored', owner, obj('a', { owner: 'uid-other' }), 'ignored'],
    ['orphan and selected: adopted', owner, obj('a'), 'adopt'],
    ['orphan with a non-controller reference: adopted', owner, obj('a', { plainRef: true }), 'adopt'],
    ['orphan not selected: ignored', owner, obj('a', { selected: false }), 'ignored'],
    ['orphan being deleted: ignored', owner, obj('a', { deleting: true }), 'ignored'],
    ['orphan in another namespace: ignored', owner, obj('a', { ns: 'other' }), 'ignored'],
    ['orphan, owner being deleted: ignored', { metadata: { ...owner.metadata, deletionTimestamp: 'x' } }, obj('a'), 'ignored'],
  ];
  for (const [name, o, x, want] of cases) {
    it(name, () => {
      const plan = planClaim(o, [x], selected);
      const got = plan.owned.length > 0 ? 'owned' : plan.adopt.length > 0 ? 'adopt' : plan.release.length > 0 ? 'release' : 'ignored';
      expect(got).toBe(want);
      expect(names([...plan.owned, ...plan.adopt, ...plan.release]).length).toBeLessThanOrEqual(1);
    });
  }
});

describe('owner references and patches', () => {
  it('controllerRefTo is a blocking controller reference', () => {
    const ref = controllerRefTo(owner, 'apps/v1', 'ReplicaSet');
    expect(ref).toEqual({ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web', uid: 'uid-owner', controller: true, blockOwnerDeletion: true });
    expect(controllerRefOf({ metadata: { ownerReferences: [{ ...ref, controller: false }, ref] } })).toEqual(ref);
  });
  it('patches carry the object uid and are keyed by owner uid', () => {
    const ref = controllerRefTo(owner, 'apps/v1', 'ReplicaSet');
    expect(adoptPatch(ref, 'uid-pod')).toEqual({ metadata: { ownerReferences: [ref], uid: 'uid-pod' } });
    expect(releasePatch('uid-owner', 'uid-pod')).toEqual({ metadata: { ownerReferences: [{ $patch: 'delete', uid: 'uid-owner' }], uid: 'uid-pod' } });
  });
});
