import { describe, expect, it } from 'vitest';
import { nodeSchedulingChanged, unschedulableCondition } from './status.js';
import { makeNode, makePod, mutated } from './test-fixtures.js';

const NOW = '2026-01-01T00:00:10Z';

describe('unschedulableCondition', () => {
  it('sets PodScheduled=False with the reason and message', () => {
    expect(unschedulableCondition(makePod('p'), 'Unschedulable', 'msg', NOW)).toEqual({
      status: { conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: 'msg', lastProbeTime: null, lastTransitionTime: NOW }] },
    });
  });
  it('writes nothing when the pod already says exactly this', () => {
    const pod = mutated(makePod('p'), (p) => {
      p.status = { conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: 'msg', lastTransitionTime: 'T0' }] };
    });
    expect(unschedulableCondition(pod, 'Unschedulable', 'msg', NOW)).toBeUndefined();
  });
  it('keeps the transition time when only the message changes', () => {
    const pod = mutated(makePod('p'), (p) => {
      p.status = { conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: 'old', lastTransitionTime: 'T0' }] };
    });
    expect(unschedulableCondition(pod, 'Unschedulable', 'new', NOW)?.status.conditions[0]?.lastTransitionTime).toBe('T0');
  });
});

describe('nodeSchedulingChanged', () => {
  const base = makeNode('n');
  it.each<[string, Parameters<typeof mutated<typeof base>>[1], boolean]>([
    ['a heartbeat changes nothing', (n) => void (n.status!.conditions = [{ type: 'Ready', status: 'True', lastHeartbeatTime: 'later' }]), false],
    ['a label', (n) => void (n.metadata.labels = { ...n.metadata.labels, disk: 'ssd' }), true],
    ['a taint', (n) => void (n.spec = { taints: [{ key: 'k', effect: 'NoSchedule' }] }), true],
    ['cordoning', (n) => void (n.spec = { unschedulable: true }), true],
    ['readiness lost', (n) => void (n.status!.conditions = [{ type: 'Ready', status: 'False' }]), true],
    ['allocatable', (n) => void (n.status!.allocatable = { cpu: '8', memory: '8Gi', pods: '110' }), true],
    ['allocatable spelled differently', (n) => void (n.status!.allocatable = { cpu: '4000m', memory: '8Gi', pods: '110' }), false],
  ])('%s', (_n, mutate, want) => {
    expect(nodeSchedulingChanged(base, mutated(base, mutate))).toBe(want);
  });
});
