import { describe, expect, it } from 'vitest';
import type { Deployment } from '../../api/apps/deployment.js';
import type { ReplicaSet } from '../../api/apps/replicaset.js';
import { findActiveOrLatest, proportion, replicaSetFraction } from './deployment-scale.js';

function deployment(replicas: number, statusReplicas = 0): Deployment {
  return {
    metadata: { name: 'web' },
    spec: {
      replicas,
      selector: { matchLabels: { app: 'web' } },
      template: {},
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
    },
    status: { replicas: statusReplicas },
  };
}

const rs = (name: string, replicas: number, ageS: number, maxAnnotation?: number): ReplicaSet => ({
  metadata: {
    name,
    creationTimestamp: new Date(Date.UTC(2026, 0, 1) - ageS * 1000).toISOString(),
    ...(maxAnnotation !== undefined ? { annotations: { 'deployment.kubernetes.io/max-replicas': String(maxAnnotation) } } : {}),
  },
  spec: { replicas },
});

describe('findActiveOrLatest', () => {
  const cases: Array<[string, ReplicaSet | undefined, ReplicaSet[], string | undefined]> = [
    ['nothing at all', undefined, [], undefined],
    ['only the new one is active', rs('new', 3, 1), [rs('old', 0, 10)], 'new'],
    ['only an old one is active', rs('new', 0, 1), [rs('old', 3, 10)], 'old'],
    ['two active: none', rs('new', 1, 1), [rs('old', 3, 10)], undefined],
    ['none active: the new one', rs('new', 0, 1), [rs('old', 0, 10)], 'new'],
    ['none active and no new one: the newest old one', undefined, [rs('older', 0, 20), rs('old', 0, 10)], 'old'],
  ];
  for (const [name, newRS, old, want] of cases) it(name, () => expect(findActiveOrLatest(newRS, old)?.metadata.name).toBe(want));
});

describe('proportional scaling', () => {
  it('a ReplicaSet gets its share of the new size, rounded half away from zero', () => {
    // 10 -> 20 replicas (max 25 with 25% surge); annotated max was 13 (10 + 3)
    expect(replicaSetFraction(rs('a', 5, 1, 13), deployment(20))).toBe(Math.round((5 * 25) / 13) - 5);
    // scaling to 0 removes everything
    expect(replicaSetFraction(rs('a', 5, 1, 13), deployment(0))).toBe(-5);
    // no annotation: the Deployment's status.replicas is the base
    expect(replicaSetFraction(rs('a', 2, 1), deployment(8, 4))).toBe(3);
  });
  it('the share is bounded by what is left to add or remove', () => {
    expect(proportion(rs('a', 5, 1, 13), deployment(20), 4, 0)).toBe(4);
    expect(proportion(rs('a', 5, 1, 13), deployment(20), 12, 10)).toBe(2);
    expect(proportion(rs('a', 0, 1, 13), deployment(20), 12, 0)).toBe(0);
    expect(proportion(rs('a', 5, 1, 13), deployment(2), -8, 0)).toBe(-4);
  });
});
