import { describe, expect, it } from 'vitest';
import type { Pod } from '../../api/core/pod.js';
import { deleteBefore, isPodActive, isPodAvailable, logarithmicRankDiff, podDeletionCost, podsToDelete } from './replicaset-pods.js';

const NOW = new Date('2026-01-01T12:00:00Z');
const ago = (s: number): string => new Date(NOW.getTime() - s * 1000).toISOString().replace(/\.\d+Z$/, 'Z');

/** A running, ready, scheduled pod created 1 h ago and ready for 50 min. */
function pod(name: string, mutate: (p: Mutable) => void = () => undefined): Pod {
  const p: Mutable = {
    metadata: { name, namespace: 'ns', uid: `uid-${name}`, creationTimestamp: ago(3600), annotations: {} },
    spec: { containers: [{ name: 'c', image: 'x' }], nodeName: 'n1' },
    status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: ago(3000) }], containerStatuses: [] },
  };
  mutate(p);
  return p as unknown as Pod;
}
interface Mutable {
  metadata: { name: string; namespace: string; uid: string; creationTimestamp: string; annotations: Record<string, string>; deletionTimestamp?: string };
  spec: { containers: Array<{ name: string; image: string }>; nodeName?: string };
  status: { phase: string; conditions: Array<{ type: string; status: string; lastTransitionTime?: string }>; containerStatuses: Array<{ name: string; restartCount: number; ready: boolean; image: string; imageID: string }> };
}
const notReady = (p: Mutable): void => {
  p.status.conditions = [{ type: 'Ready', status: 'False', lastTransitionTime: ago(10) }];
};

describe('pod predicates', () => {
  it('active: not finished and not being deleted', () => {
    expect(isPodActive(pod('a'))).toBe(true);
    expect(isPodActive(pod('a', (p) => void (p.status.phase = 'Succeeded')))).toBe(false);
    expect(isPodActive(pod('a', (p) => void (p.status.phase = 'Failed')))).toBe(false);
    expect(isPodActive(pod('a', (p) => void (p.metadata.deletionTimestamp = ago(1))))).toBe(false);
  });
  it('available: ready for longer than minReadySeconds', () => {
    const readyFor = (s: number): Pod => pod('a', (p) => void (p.status.conditions = [{ type: 'Ready', status: 'True', lastTransitionTime: ago(s) }]));
    expect(isPodAvailable(readyFor(5), 0, NOW)).toBe(true);
    expect(isPodAvailable(readyFor(5), 10, NOW)).toBe(false);
    expect(isPodAvailable(readyFor(11), 10, NOW)).toBe(true);
    expect(isPodAvailable(pod('a', notReady), 0, NOW)).toBe(false);
  });
  it('deletion cost: int32 annotation, anything else is 0', () => {
    expect(podDeletionCost(pod('a', (p) => void (p.metadata.annotations['controller.kubernetes.io/pod-deletion-cost'] = '-5')))).toBe(-5);
    expect(podDeletionCost(pod('a', (p) => void (p.metadata.annotations['controller.kubernetes.io/pod-deletion-cost'] = 'x')))).toBe(0);
    expect(podDeletionCost(pod('a', (p) => void (p.metadata.annotations['controller.kubernetes.io/pod-deletion-cost'] = '99999999999')))).toBe(0);
  });
  it('logarithmic rank: same power-of-two age bucket ranks equal', () => {
    const now = NOW.getTime();
    expect(logarithmicRankDiff(now - 1100, now - 1200, now)).toBe(0);
    expect(logarithmicRankDiff(now - 1000, now - 100_000, now)).toBeLessThan(0);
  });
});

describe('deleteBefore (which pod a scale-down gives up first)', () => {
  const base = pod('base');
  const cases: Array<[string, Pod, boolean]> = [
    ['an unscheduled pod before a scheduled one', pod('x', (p) => delete p.spec.nodeName), true],
    ['a pending pod before a running one', pod('x', (p) => void (p.status.phase = 'Pending')), true],
    ['a not-ready pod before a ready one', pod('x', notReady), true],
    ['a lower deletion cost first', pod('x', (p) => void (p.metadata.annotations['controller.kubernetes.io/pod-deletion-cost'] = '-1')), true],
    ['a higher deletion cost last', pod('x', (p) => void (p.metadata.annotations['controller.kubernetes.io/pod-deletion-cost'] = '1')), false],
    ['ready more recently (another age bucket) first', pod('x', (p) => void (p.status.conditions = [{ type: 'Ready', status: 'True', lastTransitionTime: ago(60) }])), true],
    ['more restarts first', pod('x', (p) => void (p.status.containerStatuses = [{ name: 'c', restartCount: 3, ready: true, image: 'x', imageID: '' }])), true],
    ['created more recently first', pod('x', (p) => void (p.metadata.creationTimestamp = ago(30))), true],
    ['created earlier last', pod('x', (p) => void (p.metadata.creationTimestamp = ago(90_000))), false],
  ];
  for (const [name, x, expected] of cases) {
    it(name, () => {
      expect(deleteBefore({ pod: x, rank: 0 }, { pod: base, rank: 0 }, NOW)).toBe(expected);
      if (expected) expect(deleteBefore({ pod: base, rank: 0 }, { pod: x, rank: 0 }, NOW)).toBe(false);
    });
  }
  it('a pod doubled up on its node goes before one alone', () => {
    expect(deleteBefore({ pod: base, rank: 2 }, { pod: pod('x'), rank: 1 }, NOW)).toBe(true);
  });
});

describe('podsToDelete', () => {
  it('picks unscheduled, then not ready, then doubled-up pods', () => {
    const pods = [
      pod('old-alone', (p) => void (p.spec.nodeName = 'n2')),
      pod('doubled-1'),
      pod('doubled-2', (p) => void (p.metadata.creationTimestamp = ago(30))),
      pod('not-ready', notReady),
      pod('unscheduled', (p) => delete p.spec.nodeName),
    ];
    const names = (n: number): string[] => podsToDelete(pods, pods, n, NOW).map((p) => p.metadata.name ?? '');
    expect(names(1)).toEqual(['unscheduled']);
    expect(names(2)).toEqual(['unscheduled', 'not-ready']);
    expect(names(3)).toEqual(['unscheduled', 'not-ready', 'doubled-2']);
    expect(names(5)).toHaveLength(5);
  });
});
