import { describe, expect, it } from 'vitest';
import { budgetStatus, desiredHealthy, evictionVerdict, expectedPods, liveDisruptions } from './disruption-plan.js';
import type { BudgetStatus, PodView } from './disruption-plan.js';

const pod = (name: string, ready = true, extra: Partial<PodView> = {}): PodView => ({ name, ready, deleting: false, phase: 'Running', ...extra });
const NOW = new Date('2026-12-06T12:00:00Z');
const none = (): undefined => undefined;

describe('budget arithmetic', () => {
  it('expectedPods: the matching pods for an integer minAvailable, the controllers\u2019 replicas otherwise', () => {
    const pods = [pod('a', true, { controller: 'ReplicaSet/web' }), pod('b', true, { controller: 'ReplicaSet/web' }), pod('c')];
    expect(expectedPods({ minAvailable: 1 }, pods, () => 5)).toBe(3);
    expect(expectedPods({ minAvailable: '50%' }, pods, (c) => (c === 'ReplicaSet/web' ? 4 : undefined))).toBe(5);
    expect(expectedPods({ maxUnavailable: 1 }, pods, none)).toBe(3);
  });

  it('desiredHealthy: minAvailable, maxUnavailable, or everything', () => {
    expect(desiredHealthy({ minAvailable: 2 }, 5)).toBe(2);
    expect(desiredHealthy({ minAvailable: '50%' }, 5)).toBe(3);
    expect(desiredHealthy({ maxUnavailable: 1 }, 5)).toBe(4);
    expect(desiredHealthy({ maxUnavailable: '30%' }, 5)).toBe(3);
    expect(desiredHealthy({ maxUnavailable: 9 }, 5)).toBe(0);
    expect(desiredHealthy({}, 5)).toBe(5);
  });

  it('status: healthy = ready, not deleting, not just evicted; disruptions allowed and the condition', () => {
    const pods = [pod('a'), pod('b'), pod('c'), pod('d', false), pod('e', true, { deleting: true })];
    const s = budgetStatus({ minAvailable: 2 }, 3, pods, { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0, disruptedPods: { c: '2026-12-06T11:59:30Z' } }, none, NOW);
    expect(s).toMatchObject({ observedGeneration: 3, expectedPods: 5, desiredHealthy: 2, currentHealthy: 2, disruptionsAllowed: 0, disruptedPods: { c: '2026-12-06T11:59:30Z' } });
    expect(s.conditions?.[0]).toMatchObject({ type: 'DisruptionAllowed', status: 'False', reason: 'InsufficientPods' });
    const later = budgetStatus({ minAvailable: 2 }, 3, pods, s, none, new Date('2026-12-06T12:02:00Z'));
    expect([later.currentHealthy, later.disruptionsAllowed, later.disruptedPods]).toEqual([3, 1, undefined]);
    expect(later.conditions?.[0]).toMatchObject({ status: 'True', reason: 'SufficientPods' });
  });

  it('liveDisruptions forgets pods seen going, gone, or older than 2 minutes', () => {
    const pods = [pod('keep'), pod('going', true, { deleting: true })];
    expect(liveDisruptions({ keep: '2026-12-06T11:59:00Z', going: '2026-12-06T11:59:00Z', gone: '2026-12-06T11:59:00Z', old: '2026-12-06T11:50:00Z' }, pods, NOW.getTime())).toEqual({
      keep: '2026-12-06T11:59:00Z',
    });
  });
});

describe('evictionVerdict', () => {
  const status = (allowed: number, healthy = 3, desired = 2): BudgetStatus => ({ observedGeneration: 1, disruptionsAllowed: allowed, currentHealthy: healthy, desiredHealthy: desired, expectedPods: 3 });

  it('spends one disruption for a healthy pod, and records it', () => {
    const v = evictionVerdict('web', 1, { minAvailable: 2 }, status(1), pod('a'), NOW);
    expect(v).toEqual({ kind: 'allow', status: { ...status(0), disruptedPods: { a: '2026-12-06T12:00:00Z' } } });
  });

  it('refuses with the budget named when none is left, or when the budget is not processed yet', () => {
    expect(evictionVerdict('web', 1, { minAvailable: 3 }, status(0, 3, 3), pod('a'), NOW)).toEqual({ kind: 'refuse', cause: 'The disruption budget web needs 3 healthy pods and has 3 currently' });
    expect(evictionVerdict('web', 2, { minAvailable: 2 }, status(1), pod('a'), NOW)).toEqual({ kind: 'refuse', cause: 'The disruption budget web is still being processed by the server.' });
    expect(evictionVerdict('web', 1, { minAvailable: 2 }, undefined, pod('a'), NOW).kind).toBe('refuse');
  });

  it('pending or finished pods always go; unready ones when the budget holds or the policy says AlwaysAllow', () => {
    expect(evictionVerdict('web', 5, {}, undefined, pod('p', false, { phase: 'Pending' }), NOW)).toEqual({ kind: 'allow' });
    expect(evictionVerdict('web', 1, {}, status(0, 2, 2), pod('u', false), NOW)).toEqual({ kind: 'allow' });
    expect(evictionVerdict('web', 1, {}, status(0, 1, 2), pod('u', false), NOW).kind).toBe('refuse');
    expect(evictionVerdict('web', 1, { unhealthyPodEvictionPolicy: 'AlwaysAllow' }, status(0, 1, 2), pod('u', false), NOW)).toEqual({ kind: 'allow' });
  });
});
