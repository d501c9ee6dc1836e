import { describe, expect, it } from 'vitest';
import type { Deployment } from '../../api/apps/deployment.js';
import type { ReplicaSet } from '../../api/apps/replicaset.js';
import type { IntOrString } from '../../api/apps/common.js';
import {
  equalIgnoreHash,
  findNewReplicaSet,
  maxSurge,
  maxUnavailable,
  newRSNewReplicas,
  resolveFenceposts,
  scaledValue,
  setNewReplicaSetAnnotations,
} from './deployment-util.js';

function deployment(replicas: number, surge?: IntOrString, unavailable?: IntOrString, type: 'RollingUpdate' | 'Recreate' = 'RollingUpdate'): Deployment {
  return {
    metadata: { name: 'web', namespace: 'ns', uid: 'uid-d', annotations: { 'kubernetes.io/change-cause': 'set image x', 'deployment.kubernetes.io/revision': '7' } },
    spec: {
      replicas,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'x' }] } },
      strategy: type === 'Recreate' ? { type } : { type, rollingUpdate: { ...(surge !== undefined ? { maxSurge: surge } : {}), ...(unavailable !== undefined ? { maxUnavailable: unavailable } : {}) } },
    },
  };
}

function rs(name: string, replicas: number, created = '2026-01-01T00:00:00Z', image = 'x'): ReplicaSet {
  return {
    metadata: { name, namespace: 'ns', uid: `uid-${name}`, creationTimestamp: created },
    spec: {
      replicas,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web', 'pod-template-hash': name } }, spec: { containers: [{ name: 'c', image }] } },
    },
  };
}

describe('rollout arithmetic', () => {
  const cases: Array<[string, Deployment, { surge: number; unavailable: number }]> = [
    ['defaults 25%/25% of 4', deployment(4), { surge: 1, unavailable: 1 }],
    ['25% of 10: surge rounds up, unavailable down', deployment(10, '25%', '25%'), { surge: 3, unavailable: 2 }],
    ['25% of 1: surge 1, unavailable 0', deployment(1, '25%', '25%'), { surge: 1, unavailable: 0 }],
    ['absolute numbers', deployment(10, 2, 3), { surge: 2, unavailable: 3 }],
    ['0 and 0% would deadlock: one unavailable', deployment(3, 0, '0%'), { surge: 0, unavailable: 1 }],
    ['100% unavailable', deployment(6, 0, '100%'), { surge: 0, unavailable: 6 }],
  ];
  for (const [name, d, want] of cases) it(`fenceposts: ${name}`, () => expect(resolveFenceposts(d)).toEqual(want));

  it('maxUnavailable is capped by replicas and 0 for Recreate or 0 replicas', () => {
    expect(maxUnavailable(deployment(2, 0, 5))).toBe(2);
    expect(maxUnavailable(deployment(0))).toBe(0);
    expect(maxUnavailable(deployment(4, undefined, undefined, 'Recreate'))).toBe(0);
    expect(maxSurge(deployment(4, undefined, undefined, 'Recreate'))).toBe(0);
  });
  it('scaledValue reads ints, percents and numeric strings', () => {
    expect(scaledValue('50%', 5, true)).toBe(3);
    expect(scaledValue('50%', 5, false)).toBe(2);
    expect(scaledValue('3', 5, false)).toBe(3);
    expect(scaledValue(undefined, 5, false)).toBe(0);
  });
});

describe('newRSNewReplicas', () => {
  const cases: Array<[string, Deployment, ReplicaSet[], number]> = [
    ['first rollout: up to replicas + surge minus what exists', deployment(4, 1, 1), [rs('old', 4), rs('new', 0)], 1],
    ['nothing when old + new already reach replicas + surge', deployment(4, 1, 1), [rs('old', 4), rs('new', 1)], 1],
    ['never beyond replicas', deployment(4, 2, 0), [rs('old', 0), rs('new', 3)], 4],
    ['Recreate: straight to replicas', deployment(4, undefined, undefined, 'Recreate'), [rs('new', 0)], 4],
  ];
  for (const [name, d, all, want] of cases) {
    it(name, () => {
      const newRS = all[all.length - 1];
      if (newRS === undefined) throw new Error('no new rs');
      expect(newRSNewReplicas(d, all, newRS)).toBe(want);
    });
  }
});

describe('finding the new ReplicaSet', () => {
  it('compares templates without pod-template-hash, the oldest match wins', () => {
    const d = deployment(3);
    const list = [rs('b', 1, '2026-01-02T00:00:00Z'), rs('a', 1, '2026-01-01T00:00:00Z'), rs('other', 1, '2026-01-01T00:00:00Z', 'y')];
    expect(findNewReplicaSet(d, list)?.metadata.name).toBe('a');
    expect(equalIgnoreHash(d.spec.template, list[2]?.spec.template)).toBe(false);
    expect(findNewReplicaSet(d, [list[2] as ReplicaSet])).toBeUndefined();
  });
});

describe('setNewReplicaSetAnnotations', () => {
  it('a new ReplicaSet: deployment annotations (not its revision), the revision, desired and max replicas', () => {
    const ann: Record<string, string> = {};
    expect(setNewReplicaSetAnnotations(deployment(4, 1, 1), ann, 3, false)).toBe(true);
    expect(ann).toEqual({
      'kubernetes.io/change-cause': 'set image x',
      'deployment.kubernetes.io/revision': '3',
      'deployment.kubernetes.io/desired-replicas': '4',
      'deployment.kubernetes.io/max-replicas': '5',
    });
  });
  it('a ReplicaSet brought back by undo gets the new revision and remembers the old ones', () => {
    const ann: Record<string, string> = { 'deployment.kubernetes.io/revision': '2', 'deployment.kubernetes.io/revision-history': '1', 'kubernetes.io/change-cause': 'set image x' };
    expect(setNewReplicaSetAnnotations(deployment(4), ann, 5, true)).toBe(true);
    expect(ann['deployment.kubernetes.io/revision']).toBe('5');
    expect(ann['deployment.kubernetes.io/revision-history']).toBe('1,2');
    expect(ann['deployment.kubernetes.io/desired-replicas']).toBeUndefined();
  });
  it('nothing changes when the revision is current', () => {
    const ann: Record<string, string> = { 'deployment.kubernetes.io/revision': '5', 'kubernetes.io/change-cause': 'set image x' };
    expect(setNewReplicaSetAnnotations(deployment(4), ann, 5, true)).toBe(false);
  });
});
