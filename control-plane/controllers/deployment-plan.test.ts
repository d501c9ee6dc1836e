import { describe, expect, it } from 'vitest';
import type { Deployment, DeploymentStatus } from '../../api/apps/deployment.js';
import type { ReplicaSet } from '../../api/apps/replicaset.js';
import type { Pod } from '../../api/core/pod.js';
import type { RolloutPlan } from './deployment-plan.js';
import { planRollout } from './deployment-plan.js';

const NOW = new Date('2026-01-01T12:00:00Z');
const ago = (s: number): string => new Date(NOW.getTime() - s * 1000).toISOString().replace(/\.\d+Z$/, 'Z');

type DMut = { -readonly [K in keyof Deployment]: Deployment[K] };

/** 4 replicas, maxSurge 1, maxUnavailable 1, image `img`, generation 1. */
function deployment(img = 'v1', mutate: (d: DMut) => void = () => undefined): Deployment {
  const d: DMut = {
    metadata: { name: 'web', namespace: 'ns', uid: 'uid-web', generation: 1, annotations: {} },
    spec: {
      replicas: 4,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: img }] } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 1 } },
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
    },
    status: {},
  };
  mutate(d);
  return d as Deployment;
}

interface RsOpts {
  replicas: number;
  available?: number;
  actual?: number;
  revision: number;
  age?: number;
  desired?: number;
  max?: number;
}

/** A ReplicaSet of the Deployment for image `img`, named `web-<img>`. */
function rs(img: string, o: RsOpts): ReplicaSet {
  const annotations: Record<string, string> = { 'deployment.kubernetes.io/revision': String(o.revision) };
  annotations['deployment.kubernetes.io/desired-replicas'] = String(o.desired ?? 4);
  annotations['deployment.kubernetes.io/max-replicas'] = String(o.max ?? 5);
  return {
    metadata: {
      name: `web-${img}`,
      namespace: 'ns',
      uid: `uid-${img}`,
      generation: 1,
      creationTimestamp: ago(o.age ?? 1000),
      labels: { app: 'web', 'pod-template-hash': img },
      annotations,
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: 'uid-web', controller: true, blockOwnerDeletion: true }],
    },
    spec: {
      replicas: o.replicas,
      minReadySeconds: 0,
      selector: { matchLabels: { app: 'web', 'pod-template-hash': img } },
      template: { metadata: { labels: { app: 'web', 'pod-template-hash': img } }, spec: { containers: [{ name: 'c', image: img }] } },
    },
    status: { replicas: o.actual ?? o.replicas, readyReplicas: o.available ?? o.replicas, availableReplicas: o.available ?? o.replicas, observedGeneration: 1 },
  };
}

/** `create web-<hash> 4`, `scale web-v1 3`, `annotate web-v1`, `delete web-v0`. */
function summary(plan: RolloutPlan): string[] {
  return plan.actions.map((a) => {
    switch (a.type) {
      case 'createReplicaSet':
        return `create ${a.rs.spec.replicas ?? 0}`;
      case 'updateReplicaSet':
        return `update ${a.rs.metadata.name ?? ''} ${a.rs.spec.replicas ?? 0}`;
      case 'deleteReplicaSet':
        return `delete ${a.name}`;
    }
  });
}

const cond = (s: DeploymentStatus | undefined, type: string): string | undefined => {
  const c = s?.conditions?.find((x) => x.type === type);
  return c === undefined ? undefined : `${c.status} ${c.reason ?? ''}`;
};

const plan = (d: Deployment, rsList: ReplicaSet[], pods = new Map<string, Pod[]>()): RolloutPlan => planRollout(d, rsList, pods, NOW);

describe('planRollout: rolling update', () => {
  it('a new Deployment gets its first ReplicaSet at full size, revision 1', () => {
    const p = plan(deployment(), []);
    expect(summary(p)).toEqual(['create 4']);
    const created = p.actions[0];
    if (created?.type !== 'createReplicaSet') throw new Error('expected a create');
    const hash = created.rs.metadata.labels?.['pod-template-hash'] ?? '';
    expect(hash).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]+$/);
    expect(created.rs.metadata.name).toBe(`web-${hash}`);
    expect(created.rs.spec.selector?.matchLabels).toEqual({ app: 'web', 'pod-template-hash': hash });
    expect(created.rs.spec.template?.metadata?.labels).toEqual({ app: 'web', 'pod-template-hash': hash });
    expect(created.rs.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'Deployment', uid: 'uid-web', controller: true, blockOwnerDeletion: true });
    expect(created.rs.metadata.annotations).toEqual({
      'deployment.kubernetes.io/revision': '1',
      'deployment.kubernetes.io/desired-replicas': '4',
      'deployment.kubernetes.io/max-replicas': '5',
    });
    expect(created.event?.message).toBe(`Scaled up replica set web-${hash} to 4`);
    expect(p.deployment?.metadata.annotations?.['deployment.kubernetes.io/revision']).toBe('1');
    expect(cond(p.deployment?.status, 'Progressing')).toBe('True NewReplicaSetCreated');
    expect(cond(p.deployment?.status, 'Available')).toBe('False MinimumReplicasUnavailable');
    expect(p.deployment?.status?.observedGeneration).toBe(1);
  });

  const steps: Array<[string, Deployment, ReplicaSet[], string[]]> = [
    // as upstream, the same sync goes on to scale the old ReplicaSet down within maxUnavailable
    ['a template change creates the new ReplicaSet within the surge', deployment('v2'), [rs('v1', { replicas: 4, revision: 1 })], ['create 1', 'update web-v1 3']],
    [
      'then an old replica goes while 3 of 4 stay available',
      deployment('v2'),
      [rs('v1', { replicas: 4, revision: 1 }), rs('v2', { replicas: 1, available: 0, revision: 2, age: 10 })],
      ['update web-v1 3'],
    ],
    [
      'the new ReplicaSet takes the surge freed by the old one',
      deployment('v2'),
      [rs('v1', { replicas: 3, revision: 1 }), rs('v2', { replicas: 1, available: 0, revision: 2, age: 10 })],
      ['update web-v2 2'],
    ],
    [
      'nothing more until a new pod is available',
      deployment('v2'),
      [rs('v1', { replicas: 3, revision: 1 }), rs('v2', { replicas: 2, available: 0, revision: 2, age: 10 })],
      [],
    ],
    [
      'a new pod available: the new ReplicaSet grows',
      deployment('v2'),
      [rs('v1', { replicas: 3, revision: 1 }), rs('v2', { replicas: 1, available: 1, revision: 2, age: 10 })],
      ['update web-v2 2'],
    ],
    [
      'unavailable old pods are dropped first',
      deployment('v2'),
      [rs('v1', { replicas: 4, available: 2, revision: 1 }), rs('v2', { replicas: 1, available: 0, revision: 2, age: 10 })],
      ['update web-v1 3'],
    ],
    [
      'maxSurge 0: old pods go first',
      deployment('v2', (d) => void (d.spec = { ...d.spec, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: 1 } } })),
      [rs('v1', { replicas: 4, revision: 1, max: 4 }), rs('v2', { replicas: 0, revision: 2, age: 10, max: 4 })],
      ['update web-v1 3'],
    ],
    [
      'an old ReplicaSet whose status still counts pods it was scaled away from is left alone (never scaled back up)',
      deployment('v2'),
      [rs('v1', { replicas: 1, available: 2, actual: 2, revision: 1 }), rs('v2', { replicas: 4, available: 3, revision: 2, age: 10 })],
      [],
    ],
    [
      'the last old replica goes once the new ones are available',
      deployment('v2'),
      [rs('v1', { replicas: 1, revision: 1 }), rs('v2', { replicas: 4, available: 4, revision: 2, age: 10 })],
      ['update web-v1 0'],
    ],
  ];
  for (const [name, d, list, want] of steps) it(name, () => expect(summary(plan(d, list))).toEqual(want));

  it('a finished rollout says NewReplicaSetAvailable, and a settled Deployment writes nothing', () => {
    const list = [rs('v1', { replicas: 0, revision: 1 }), rs('v2', { replicas: 4, revision: 2, age: 10 })];
    const d = deployment('v2', (x) => void (x.status = { conditions: [{ type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated', lastUpdateTime: ago(5), lastTransitionTime: ago(50) }] }));
    const p = plan(d, list);
    expect(summary(p)).toEqual([]);
    expect(p.deployment?.status).toMatchObject({ replicas: 4, updatedReplicas: 4, readyReplicas: 4, availableReplicas: 4, unavailableReplicas: 0, observedGeneration: 1 });
    expect(cond(p.deployment?.status, 'Progressing')).toBe('True NewReplicaSetAvailable');
    const progressing = p.deployment?.status?.conditions?.find((c) => c.type === 'Progressing');
    expect(progressing?.message).toBe('ReplicaSet "web-v2" has successfully progressed.');
    expect(progressing?.lastTransitionTime).toBe(ago(50));
    expect(cond(p.deployment?.status, 'Available')).toBe('True MinimumReplicasAvailable');
    expect(p.requeueAfterMs).toBeUndefined();
    const again = plan({ ...d, metadata: p.deployment?.metadata ?? d.metadata, status: p.deployment?.status ?? {} }, list);
    expect(again.actions).toEqual([]);
    expect(again.deployment).toBeUndefined();
  });

  it('undo: an old ReplicaSet becomes the new one again, with the next revision', () => {
    const p = plan(deployment('v1'), [rs('v1', { replicas: 0, revision: 1 }), rs('v2', { replicas: 4, revision: 2, age: 10 })]);
    expect(summary(p)).toEqual(['update web-v1 0', 'update web-v1 1']);
    const last = p.actions[1];
    expect(last?.type === 'updateReplicaSet' ? last.rs.metadata.annotations : undefined).toMatchObject({
      'deployment.kubernetes.io/revision': '3',
      'deployment.kubernetes.io/revision-history': '1',
    });
    expect(p.deployment?.metadata.annotations?.['deployment.kubernetes.io/revision']).toBe('3');
  });

  it('the Deployment\'s annotations (change-cause) are copied to its new ReplicaSet', () => {
    const d = deployment('v2', (x) => void (x.metadata = { ...x.metadata, annotations: { 'kubernetes.io/change-cause': 'kubectl set image' } }));
    const p = plan(d, [rs('v2', { replicas: 4, revision: 1 })]);
    const a = p.actions[0];
    expect(a?.type === 'updateReplicaSet' ? a.rs.metadata.annotations?.['kubernetes.io/change-cause'] : undefined).toBe('kubectl set image');
  });

  it('minReadySeconds is carried to the new ReplicaSet', () => {
    const p = plan(deployment('v1', (x) => void (x.spec = { ...x.spec, minReadySeconds: 5 })), [rs('v1', { replicas: 4, revision: 1 })]);
    const a = p.actions[0];
    expect(a?.type === 'updateReplicaSet' ? a.rs.spec.minReadySeconds : undefined).toBe(5);
  });

  it('old ReplicaSets beyond revisionHistoryLimit are deleted, oldest revision first, once complete', () => {
    const complete: DeploymentStatus = { observedGeneration: 1, replicas: 4, updatedReplicas: 4, availableReplicas: 4, readyReplicas: 4 };
    const d = deployment('v3', (x) => {
      x.spec = { ...x.spec, revisionHistoryLimit: 1 };
      x.status = complete;
    });
    const p = plan(d, [rs('v1', { replicas: 0, revision: 1, age: 3000 }), rs('v2', { replicas: 0, revision: 2, age: 2000 }), rs('v3', { replicas: 4, revision: 3 })]);
    expect(summary(p)).toEqual(['delete web-v1']);
  });

  it('a ReplicaSet still running pods is never cleaned up', () => {
    const d = deployment('v3', (x) => {
      x.spec = { ...x.spec, revisionHistoryLimit: 0 };
      x.status = { observedGeneration: 1, replicas: 4, updatedReplicas: 4, availableReplicas: 4 };
    });
    const p = plan(d, [rs('v1', { replicas: 0, actual: 1, revision: 1 }), rs('v3', { replicas: 4, revision: 3 })]);
    expect(summary(p)).toEqual([]);
  });
});

describe('planRollout: scaling, pause, progress', () => {
  it('scaling mid-rollout spreads the change in proportion (25%/25%, 4 -> 8)', () => {
    const d = deployment('v2', (x) => void (x.spec = { ...x.spec, replicas: 8, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } } }));
    const p = plan(d, [rs('v1', { replicas: 3, revision: 1 }), rs('v2', { replicas: 2, available: 0, revision: 2, age: 10 })]);
    expect(summary(p)).toEqual(['update web-v1 6', 'update web-v2 4']);
    const a = p.actions[0];
    expect(a?.type === 'updateReplicaSet' ? a.rs.metadata.annotations : undefined).toMatchObject({ 'deployment.kubernetes.io/desired-replicas': '8', 'deployment.kubernetes.io/max-replicas': '10' });
    expect(a?.type === 'updateReplicaSet' ? a.event?.message : undefined).toBe('Scaled up replica set web-v1 to 6 from 3');
  });

  it('scaling a settled Deployment resizes its only ReplicaSet', () => {
    expect(summary(plan(deployment('v1', (x) => void (x.spec = { ...x.spec, replicas: 2 })), [rs('v1', { replicas: 4, revision: 1 })]))).toEqual(['update web-v1 2']);
  });

  it('paused: a template change does not roll, Progressing says DeploymentPaused', () => {
    const p = plan(deployment('v2', (x) => void (x.spec = { ...x.spec, paused: true })), [rs('v1', { replicas: 4, revision: 1 })]);
    expect(summary(p)).toEqual([]);
    expect(cond(p.deployment?.status, 'Progressing')).toBe('Unknown DeploymentPaused');
  });

  it('paused: scaling still applies', () => {
    const p = plan(deployment('v2', (x) => void (x.spec = { ...x.spec, paused: true, replicas: 6 })), [rs('v1', { replicas: 4, revision: 1 })]);
    expect(summary(p)).toEqual(['update web-v1 6']);
  });

  it('resumed: DeploymentResumed, then the rollout starts', () => {
    const d = deployment('v2', (x) => {
      x.status = {
        observedGeneration: 1,
        replicas: 4,
        updatedReplicas: 0,
        readyReplicas: 4,
        availableReplicas: 4,
        conditions: [{ type: 'Progressing', status: 'Unknown', reason: 'DeploymentPaused', lastUpdateTime: ago(60), lastTransitionTime: ago(60) }],
      };
    });
    const p = plan(d, [rs('v1', { replicas: 4, revision: 1 })]);
    expect(summary(p)).toEqual(['create 1', 'update web-v1 3']);
    expect(cond(p.deployment?.status, 'Progressing')).toBe('True NewReplicaSetCreated');
  });

  it('no progress for progressDeadlineSeconds: ProgressDeadlineExceeded', () => {
    const d = deployment('v2', (x) => {
      x.status = {
        observedGeneration: 1,
        replicas: 5,
        updatedReplicas: 2,
        readyReplicas: 3,
        availableReplicas: 3,
        conditions: [{ type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated', lastUpdateTime: ago(601), lastTransitionTime: ago(700) }],
      };
    });
    const p = plan(d, [rs('v1', { replicas: 3, revision: 1 }), rs('v2', { replicas: 2, available: 0, revision: 2, age: 10 })]);
    expect(summary(p)).toEqual([]);
    const c = p.deployment?.status?.conditions?.find((x) => x.type === 'Progressing');
    expect(`${c?.status} ${c?.reason}`).toBe('False ProgressDeadlineExceeded');
    expect(c?.message).toBe('ReplicaSet "web-v2" has timed out progressing.');
  });

  it('a rollout in progress is looked at again just after its deadline', () => {
    const d = deployment('v2', (x) => {
      x.status = {
        observedGeneration: 1,
        replicas: 5,
        updatedReplicas: 2,
        readyReplicas: 3,
        availableReplicas: 3,
        conditions: [{ type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated', lastUpdateTime: ago(100), lastTransitionTime: ago(100) }],
      };
    });
    const p = plan(d, [rs('v1', { replicas: 3, revision: 1 }), rs('v2', { replicas: 2, available: 0, revision: 2, age: 10 })]);
    expect(summary(p)).toEqual([]);
    expect(p.requeueAfterMs).toBe(501_000);
  });

  it('a failing ReplicaSet surfaces as ReplicaFailure', () => {
    const failing = rs('v1', { replicas: 4, actual: 0, available: 0, revision: 1 });
    const withCond: ReplicaSet = { ...failing, status: { ...failing.status, conditions: [{ type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate', message: 'quota', lastTransitionTime: ago(5) }] } };
    expect(cond(plan(deployment('v1'), [withCond]).deployment?.status, 'ReplicaFailure')).toBe('True FailedCreate');
  });
});

describe('planRollout: Recreate', () => {
  const recreate = (img: string): Deployment => deployment(img, (x) => void (x.spec = { ...x.spec, strategy: { type: 'Recreate' } }));
  it('first scales every old ReplicaSet to 0', () => {
    expect(summary(plan(recreate('v2'), [rs('v1', { replicas: 4, revision: 1, max: 4 })]))).toEqual(['update web-v1 0']);
  });
  it('waits while old pods still run', () => {
    expect(summary(plan(recreate('v2'), [rs('v1', { replicas: 0, actual: 2, revision: 1 })]))).toEqual([]);
    const pods = new Map<string, Pod[]>([['uid-v1', [{ metadata: { name: 'p' }, spec: { containers: [] }, status: { phase: 'Running' } }]]]);
    expect(summary(plan(recreate('v2'), [rs('v1', { replicas: 0, actual: 0, revision: 1 })], pods))).toEqual([]);
  });
  it('then creates the new ReplicaSet at full size', () => {
    const pods = new Map<string, Pod[]>([['uid-v1', [{ metadata: { name: 'p' }, spec: { containers: [] }, status: { phase: 'Succeeded' } }]]]);
    expect(summary(plan(recreate('v2'), [rs('v1', { replicas: 0, actual: 0, revision: 1 })], pods))).toEqual(['create 4']);
  });
});
