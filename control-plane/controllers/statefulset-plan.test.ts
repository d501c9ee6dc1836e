import { describe, expect, it } from 'vitest';
import type { Pod } from '../../api/core/pod.js';
import type { StatefulSet, StatefulSetSpec } from '../../api/apps/statefulset.js';
import { ordinalOf, planStatefulSet, statefulSetPod, statefulSetStatusChanged } from './statefulset-plan.js';

const NOW = new Date('2026-12-06T12:00:00Z');
const REVS = { current: 'web-aaa', update: 'web-aaa' };

function sts(spec: Partial<StatefulSetSpec> = {}): StatefulSet {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: 'web', namespace: 'ns', uid: 'sts-uid', generation: 3 },
    spec: {
      replicas: 3,
      serviceName: 'nginx',
      selector: { matchLabels: { app: 'web' } },
      podManagementPolicy: 'OrderedReady',
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'i' }] } },
      ...spec,
    },
  } as StatefulSet;
}

function pod(ordinal: number, opts: { ready?: boolean; phase?: string; rev?: string; deleting?: boolean; name?: string } = {}): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: opts.name ?? `web-${ordinal}`,
      namespace: 'ns',
      uid: `uid-${ordinal}-${opts.rev ?? 'aaa'}`,
      labels: { app: 'web', 'controller-revision-hash': opts.rev ?? 'web-aaa' },
      ...(opts.deleting === true ? { deletionTimestamp: '2026-12-06T11:59:00Z' } : {}),
    },
    spec: { containers: [{ name: 'c', image: 'i' }] },
    status: {
      phase: opts.phase ?? 'Running',
      conditions: [{ type: 'Ready', status: opts.ready === false ? 'False' : 'True', lastTransitionTime: '2026-12-06T11:00:00Z' }],
    },
  } as Pod;
}

describe('statefulset plan: ordered creation and scale down', () => {
  it('OrderedReady creates web-0 first and waits for it to be Ready before web-1', () => {
    expect(planStatefulSet(sts(), [], REVS, NOW).create).toEqual([{ ordinal: 0, revision: 'update' }]);
    expect(planStatefulSet(sts(), [pod(0, { ready: false })], REVS, NOW).create).toEqual([]);
    expect(planStatefulSet(sts(), [pod(0)], REVS, NOW).create).toEqual([{ ordinal: 1, revision: 'update' }]);
  });

  it('Parallel creates every missing ordinal at once', () => {
    expect(planStatefulSet(sts({ podManagementPolicy: 'Parallel' }), [pod(1, { ready: false })], REVS, NOW).create.map((c) => c.ordinal)).toEqual([0, 2]);
  });

  it('scales down from the highest ordinal, one at a time, once the rest is Ready', () => {
    const pods = [pod(0), pod(1), pod(2), pod(3), pod(4)];
    const d = planStatefulSet(sts(), pods, REVS, NOW);
    expect(d.delete.map((p) => p.metadata.name)).toEqual(['web-4']);
    const waiting = planStatefulSet(sts(), [pod(0), pod(1), pod(2), pod(3), pod(4, { deleting: true })], REVS, NOW);
    expect(waiting.delete).toEqual([]);
    const unready = planStatefulSet(sts(), [pod(0), pod(1, { ready: false }), pod(2), pod(3)], REVS, NOW);
    expect(unready.delete).toEqual([]);
  });

  it('a Failed pod is deleted to come back at the same name; ordinals.start shifts the names', () => {
    const failed = pod(1, { phase: 'Failed' });
    expect(planStatefulSet(sts(), [pod(0), failed, pod(2)], REVS, NOW).delete).toEqual([failed]);
    expect(planStatefulSet(sts({ ordinals: { start: 5 } }), [], REVS, NOW).create).toEqual([{ ordinal: 5, revision: 'update' }]);
  });

  it('reads ordinals only from names of this set', () => {
    expect(ordinalOf('web', pod(12))).toBe(12);
    expect(ordinalOf('web', pod(0, { name: 'web-01' }))).toBeUndefined();
    expect(ordinalOf('web', pod(0, { name: 'webby-1' }))).toBeUndefined();
    expect(ordinalOf('web', pod(0, { name: 'web-x' }))).toBeUndefined();
  });
});

describe('statefulset plan: rolling update', () => {
  const revs = { current: 'web-aaa', update: 'web-bbb' };

  it('replaces the highest ordinal first, then waits for the new pod to be Ready', () => {
    const d = planStatefulSet(sts(), [pod(0), pod(1), pod(2)], revs, NOW);
    expect(d.delete.map((p) => p.metadata.name)).toEqual(['web-2']);
    const next = planStatefulSet(sts(), [pod(0), pod(1), pod(2, { rev: 'web-bbb', ready: false })], revs, NOW);
    expect(next.delete).toEqual([]);
    const then = planStatefulSet(sts(), [pod(0), pod(1), pod(2, { rev: 'web-bbb' })], revs, NOW);
    expect(then.delete.map((p) => p.metadata.name)).toEqual(['web-1']);
  });

  it('keeps ordinals below the partition at the current revision, even when they are recreated', () => {
    const set = sts({ updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } } });
    const d = planStatefulSet(set, [pod(0), pod(1), pod(2, { rev: 'web-bbb' })], revs, NOW);
    expect(d.delete).toEqual([]);
    expect(planStatefulSet(set, [pod(1), pod(2, { rev: 'web-bbb' })], revs, NOW).create).toEqual([{ ordinal: 0, revision: 'current' }]);
  });

  it('after a rollback mid-rollout, a pod left on the abandoned revision is replaced', () => {
    // web-2 went to bbb, then the template came back to aaa, still the current revision
    const d = planStatefulSet(sts(), [pod(0), pod(1), pod(2, { rev: 'web-bbb' })], { current: 'web-aaa', update: 'web-aaa' }, NOW);
    expect(d.delete.map((p) => p.metadata.name)).toEqual(['web-2']);
  });

  it('Parallel: an old pod that is broken anyway is replaced without waiting for the budget', () => {
    const set = sts({ podManagementPolicy: 'Parallel', replicas: 1 });
    const d = planStatefulSet(set, [pod(0, { ready: false })], revs, NOW);
    expect(d.delete.map((p) => p.metadata.name)).toEqual(['web-0']);
  });

  it('OnDelete replaces nothing by itself', () => {
    expect(planStatefulSet(sts({ updateStrategy: { type: 'OnDelete' } }), [pod(0), pod(1), pod(2)], revs, NOW).delete).toEqual([]);
  });

  it('status: counts per revision; currentRevision moves once every pod is updated and Ready', () => {
    const mid = planStatefulSet(sts(), [pod(0), pod(1), pod(2, { rev: 'web-bbb' })], revs, NOW).status;
    expect(mid).toMatchObject({ replicas: 3, readyReplicas: 3, currentReplicas: 2, updatedReplicas: 1, currentRevision: 'web-aaa', updateRevision: 'web-bbb', observedGeneration: 3 });
    const done = planStatefulSet(sts(), [pod(0, { rev: 'web-bbb' }), pod(1, { rev: 'web-bbb' }), pod(2, { rev: 'web-bbb' })], revs, NOW).status;
    expect(done).toMatchObject({ currentRevision: 'web-bbb', currentReplicas: 3, updatedReplicas: 3 });
    expect(statefulSetStatusChanged({ ...sts(), status: done }, done)).toBe(false);
    expect(statefulSetStatusChanged({ ...sts(), status: mid }, done)).toBe(true);
  });
});

describe('statefulset pods', () => {
  it('have a stable name, hostname, subdomain, identity labels and the revision', () => {
    const set = sts();
    const p = statefulSetPod(set, set.spec.template, 'web-bbb', 2);
    expect(p.metadata.name).toBe('web-2');
    expect(p.spec.hostname).toBe('web-2');
    expect(p.spec.subdomain).toBe('nginx');
    expect(p.metadata.labels).toEqual({ app: 'web', 'statefulset.kubernetes.io/pod-name': 'web-2', 'apps.kubernetes.io/pod-index': '2', 'controller-revision-hash': 'web-bbb' });
    expect(p.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'StatefulSet', name: 'web', uid: 'sts-uid', controller: true });
  });
});
