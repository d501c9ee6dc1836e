import { describe, expect, it } from 'vitest';
import type { Deployment, DeploymentStatus } from '../../api/apps/deployment.js';
import type { ReplicaSet } from '../../api/apps/replicaset.js';
import { calculateStatus, deploymentTimedOut, newCondition, pausedConditions, rolloutStatus, setCondition, stuckRequeueMs } from './deployment-status.js';

const NOW = new Date('2026-01-01T12:00:00Z');
const ago = (s: number): string => new Date(NOW.getTime() - s * 1000).toISOString().replace(/\.\d+Z$/, 'Z');

function deployment(status: DeploymentStatus = {}, spec: Partial<Deployment['spec']> = {}): Deployment {
  return {
    metadata: { name: 'web', namespace: 'ns', generation: 3 },
    spec: {
      replicas: 4,
      selector: { matchLabels: { app: 'web' } },
      template: { spec: { containers: [{ name: 'c', image: 'x' }] } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 1 } },
      progressDeadlineSeconds: 600,
      ...spec,
    },
    status,
  };
}

const rs = (name: string, replicas: number, available: number): ReplicaSet => ({
  metadata: { name },
  spec: { replicas },
  status: { replicas, readyReplicas: available, availableReplicas: available },
});

describe('setCondition', () => {
  const base: DeploymentStatus = { conditions: [{ type: 'Available', status: 'True', reason: 'A', lastUpdateTime: ago(100), lastTransitionTime: ago(100) }] };
  it('same status and reason: nothing changes', () => {
    expect(setCondition(base, newCondition('Available', 'True', 'A', 'other message', NOW))).toBe(base);
  });
  it('same status, new reason: the transition time is kept', () => {
    const c = setCondition(base, newCondition('Available', 'True', 'B', 'm', NOW)).conditions?.[0];
    expect(c).toMatchObject({ reason: 'B', lastTransitionTime: ago(100), lastUpdateTime: ago(0) });
  });
  it('new status: a new transition time', () => {
    expect(setCondition(base, newCondition('Available', 'False', 'A', 'm', NOW)).conditions?.[0]?.lastTransitionTime).toBe(ago(0));
  });
});

describe('calculateStatus', () => {
  const cases: Array<[string, ReplicaSet[], string]> = [
    ['3 of 4 available with maxUnavailable 1: available', [rs('a', 4, 3)], 'True MinimumReplicasAvailable'],
    ['2 of 4 available: not available', [rs('a', 4, 2)], 'False MinimumReplicasUnavailable'],
  ];
  for (const [name, list, want] of cases) {
    it(name, () => {
      const s = calculateStatus(deployment(), list, list[0], NOW);
      const c = s.conditions?.find((x) => x.type === 'Available');
      expect(`${c?.status} ${c?.reason}`).toBe(want);
    });
  }
  it('counts: replicas/ready/available from status, unavailable from spec, updated from the new ReplicaSet', () => {
    const s = calculateStatus(deployment({ collisionCount: 2 }), [rs('old', 2, 2), { ...rs('new', 3, 1), status: { replicas: 2, readyReplicas: 1, availableReplicas: 1 } }], rs('new', 3, 1), NOW);
    expect(s).toMatchObject({ observedGeneration: 3, replicas: 4, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3, unavailableReplicas: 2, collisionCount: 2 });
  });
});

describe('progress', () => {
  const progressing = (updatedAgo: number, reason = 'ReplicaSetUpdated'): DeploymentStatus => ({
    replicas: 4,
    updatedReplicas: 1,
    readyReplicas: 3,
    availableReplicas: 3,
    conditions: [{ type: 'Progressing', status: 'True', reason, lastUpdateTime: ago(updatedAgo), lastTransitionTime: ago(updatedAgo) }],
  });
  it('times out after progressDeadlineSeconds without progress', () => {
    expect(deploymentTimedOut(deployment(), progressing(599), NOW)).toBe(false);
    expect(deploymentTimedOut(deployment(), progressing(601), NOW)).toBe(true);
    expect(deploymentTimedOut(deployment(), progressing(9999, 'NewReplicaSetAvailable'), NOW)).toBe(false);
  });
  it('progress refreshes lastUpdateTime but keeps lastTransitionTime', () => {
    const d = deployment(progressing(300));
    const s = rolloutStatus(d, [rs('old', 2, 2), rs('new', 2, 2)], rs('new', 2, 2), NOW);
    expect(s.conditions?.find((c) => c.type === 'Progressing')).toMatchObject({ reason: 'ReplicaSetUpdated', lastUpdateTime: ago(0), lastTransitionTime: ago(300), message: 'ReplicaSet "new" is progressing.' });
  });
  it('without a progress deadline there is no Progressing condition', () => {
    const s = rolloutStatus(deployment(progressing(10), { progressDeadlineSeconds: 2_147_483_647 }), [rs('new', 4, 4)], rs('new', 4, 4), NOW);
    expect(s.conditions?.map((c) => c.type)).toEqual(['Available']);
  });
  it('the next look is due just after the deadline', () => {
    const d = deployment(progressing(100));
    expect(stuckRequeueMs(d, d.status ?? {}, NOW)).toBe(501_000);
    expect(stuckRequeueMs(deployment(progressing(600)), progressing(600), NOW)).toBe(0);
  });
});

describe('pausedConditions', () => {
  it('pausing sets Progressing Unknown DeploymentPaused, resuming DeploymentResumed', () => {
    const paused = pausedConditions(deployment({}, { paused: true }), {}, NOW);
    expect(paused.conditions?.[0]).toMatchObject({ type: 'Progressing', status: 'Unknown', reason: 'DeploymentPaused', message: 'Deployment is paused' });
    const resumed = pausedConditions(deployment(), paused, NOW);
    expect(resumed.conditions?.[0]).toMatchObject({ status: 'Unknown', reason: 'DeploymentResumed', message: 'Deployment is resumed' });
    expect(pausedConditions(deployment(), resumed, NOW)).toBe(resumed);
  });
});
