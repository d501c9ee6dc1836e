import { describe, expect, it } from 'vitest';
import type { Pod } from '../../api/core/pod.js';
import type { ReplicaSet } from '../../api/apps/replicaset.js';
import type { ReplicaSetPlanInput } from './replicaset-plan.js';
import { computeReplicaSetStatus, planReplicaSet, podFromTemplate, replicaSetStatusChanged } from './replicaset-plan.js';

const NOW = new Date('2026-01-01T12:00:00Z');
const ago = (s: number): string => new Date(NOW.getTime() - s * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
const RS_UID = 'uid-rs';

function rs(replicas = 3, extra: Partial<ReplicaSet['spec']> = {}): ReplicaSet {
  return {
    metadata: { name: 'web', namespace: 'ns', uid: RS_UID, generation: 2 },
    spec: {
      replicas,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web', tier: 'fe' } }, spec: { containers: [{ name: 'c', image: 'x' }] } },
      ...extra,
    },
  };
}

interface PodOpts {
  owner?: string | null;
  labels?: Record<string, string>;
  ready?: boolean;
  readySince?: number;
  node?: string;
  deleting?: boolean;
  phase?: string;
  age?: number;
  ns?: string;
}

function pod(name: string, o: PodOpts = {}): Pod {
  const owner = o.owner === undefined ? RS_UID : o.owner;
  return {
    metadata: {
      name,
      namespace: o.ns ?? 'ns',
      uid: `uid-${name}`,
      creationTimestamp: ago(o.age ?? 3600),
      labels: o.labels ?? { app: 'web', tier: 'fe' },
      ...(owner !== null ? { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web', uid: owner, controller: true }] } : {}),
      ...(o.deleting === true ? { deletionTimestamp: ago(1) } : {}),
    },
    spec: { containers: [{ name: 'c', image: 'x' }], ...(o.node !== undefined ? { nodeName: o.node } : { nodeName: 'n1' }) },
    status: {
      phase: (o.phase ?? 'Running') as 'Running',
      conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True', lastTransitionTime: ago(o.readySince ?? 600) }],
    },
  };
}

const names = (pods: readonly Pod[]): string[] => pods.map((p) => p.metadata.name ?? '').sort();

describe('planReplicaSet', () => {
  interface Expect {
    create?: number;
    delete?: string[];
    adopt?: string[];
    release?: string[];
    replicas?: number;
    ready?: number;
    available?: number;
    fullyLabeled?: number;
  }
  const cases: Array<[string, Partial<ReplicaSetPlanInput>, Expect]> = [
    ['no pods: create all replicas', { pods: [] }, { create: 3, replicas: 0 }],
    ['enough pods: nothing to do', { pods: [pod('a'), pod('b'), pod('c')] }, { create: 0, delete: [], replicas: 3, ready: 3, available: 3 }],
    ['one short: create one', { pods: [pod('a'), pod('b')] }, { create: 1, replicas: 2 }],
    ['one too many: delete the unscheduled one', { pods: [pod('a'), pod('b'), pod('c'), pod('d', { node: '' })] }, { delete: ['d'], replicas: 4 }],
    ['one too many: delete the not-ready one', { pods: [pod('a'), pod('b', { ready: false }), pod('c'), pod('d')] }, { delete: ['b'], ready: 3 }],
    ['one too many: delete the newest', { pods: [pod('a'), pod('b', { age: 10 }), pod('c'), pod('d')] }, { delete: ['b'] }],
    ['terminating and finished pods do not count', { pods: [pod('a'), pod('b', { deleting: true }), pod('c', { phase: 'Succeeded' })] }, { create: 2, replicas: 1 }],
    ['an orphan that matches is adopted and counted', { pods: [pod('a'), pod('b'), pod('o', { owner: null })] }, { adopt: ['o'], create: 0, replicas: 3 }],
    ['an orphan that does not match is left alone', { pods: [pod('o', { owner: null, labels: { app: 'db' } })] }, { adopt: [], create: 3 }],
    ['an orphan being deleted is not adopted', { pods: [pod('o', { owner: null, deleting: true })] }, { adopt: [], create: 3 }],
    ['an orphan in another namespace is not adopted', { pods: [pod('o', { owner: null, ns: 'other' })] }, { adopt: [], create: 3 }],
    ['a pod of another controller is ignored', { pods: [pod('x', { owner: 'uid-other' })] }, { adopt: [], release: [], create: 3 }],
    ['an owned pod that stopped matching is released and replaced', { pods: [pod('a'), pod('b'), pod('r', { labels: { app: 'debug' } })] }, { release: ['r'], create: 1, replicas: 2 }],
    ['a pod missing a template label is not fully labeled', { pods: [pod('a', { labels: { app: 'web' } })] }, { replicas: 1, fullyLabeled: 0 }],
    ['expectations pending: no creates or deletes', { pods: [], expectationsSatisfied: false }, { create: 0, delete: [] }],
    ['a burst caps creates', { rs: rs(1000), pods: [], burstReplicas: 500 }, { create: 500 }],
    ['minReadySeconds: ready but not yet available', { rs: rs(2, { minReadySeconds: 60 }), pods: [pod('a', { readySince: 30 }), pod('b', { readySince: 90 })] }, { ready: 2, available: 1 }],
    ['a ReplicaSet being deleted manages nothing and adopts nothing', { rs: { ...rs(), metadata: { ...rs().metadata, deletionTimestamp: ago(1) } }, pods: [pod('o', { owner: null })] }, { create: 0, adopt: [] }],
  ];
  for (const [name, input, want] of cases) {
    it(name, () => {
      const plan = planReplicaSet({ rs: rs(), pods: [], now: NOW, ...input });
      if (want.create !== undefined) expect(plan.create).toBe(want.create);
      if (want.delete !== undefined) expect(names(plan.delete)).toEqual(want.delete);
      if (want.adopt !== undefined) expect(names(plan.adopt)).toEqual(want.adopt);
      if (want.release !== undefined) expect(names(plan.release)).toEqual(want.release);
      if (want.replicas !== undefined) expect(plan.status.replicas).toBe(want.replicas);
      if (want.ready !== undefined) expect(plan.status.readyReplicas).toBe(want.ready);
      if (want.available !== undefined) expect(plan.status.availableReplicas).toBe(want.available);
      if (want.fullyLabeled !== undefined) expect(plan.status.fullyLabeledReplicas).toBe(want.fullyLabeled);
      expect(plan.status.observedGeneration).toBe(2);
    });
  }
});

describe('computeReplicaSetStatus: ReplicaFailure', () => {
  it('is set once when a create failed, and removed after a clean sync', () => {
    const failed = computeReplicaSetStatus(rs(), [], { kind: 'create', message: 'pods "web-" is forbidden: exceeded quota' }, NOW);
    expect(failed.conditions).toEqual([
      { type: 'ReplicaFailure', status: 'True', lastTransitionTime: '2026-01-01T12:00:00Z', reason: 'FailedCreate', message: 'pods "web-" is forbidden: exceeded quota' },
    ]);
    const withFailure: ReplicaSet = { ...rs(), status: failed };
    const later = new Date(NOW.getTime() + 60_000);
    expect(computeReplicaSetStatus(withFailure, [], { kind: 'create', message: 'again' }, later).conditions).toEqual(failed.conditions);
    expect(computeReplicaSetStatus(withFailure, [], undefined, later).conditions).toBeUndefined();
  });
  it('a failed delete says FailedDelete', () => {
    expect(computeReplicaSetStatus(rs(), [], { kind: 'delete', message: 'boom' }, NOW).conditions?.[0]?.reason).toBe('FailedDelete');
  });
  it('an unchanged status is not written again', () => {
    const status = computeReplicaSetStatus(rs(), [pod('a')], undefined, NOW);
    expect(replicaSetStatusChanged({ ...rs(), status }, status)).toBe(false);
    expect(replicaSetStatusChanged({ ...rs(), status: { ...status, readyReplicas: 0 } }, status)).toBe(true);
    expect(replicaSetStatusChanged({ ...rs(), status: { ...status, observedGeneration: 1 } }, status)).toBe(true);
  });
});

describe('podFromTemplate', () => {
  it('stamps the template with a generated name and a controller reference', () => {
    const p = podFromTemplate(rs());
    expect(p.metadata.generateName).toBe('web-');
    expect(p.metadata.name).toBeUndefined();
    expect(p.metadata.namespace).toBe('ns');
    expect(p.metadata.labels).toEqual({ app: 'web', tier: 'fe' });
    expect(p.metadata.ownerReferences).toEqual([{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web', uid: RS_UID, controller: true, blockOwnerDeletion: true }]);
    expect(p.spec.containers[0]?.image).toBe('x');
  });
});
