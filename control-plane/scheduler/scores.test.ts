import { describe, expect, it } from 'vitest';
import type { Node } from '../../api/core/node.js';
import type { Pod } from '../../api/core/pod.js';
import { NodeInfo } from './node-info.js';
import { computePodInfo } from './pod-info.js';
import { balancedAllocationScore, leastAllocatedScore, leastRequested, normalize, scoreNodes, selectHost } from './scores.js';
import type { DeepMutable } from './test-fixtures.js';
import { makeNode, makePod, mutated } from './test-fixtures.js';

function nodeWith(name: string, pods: readonly Pod[] = [], mutate?: (n: DeepMutable<Node>) => void): NodeInfo {
  const n = new NodeInfo(name, mutated(makeNode(name, { cpu: '4', memory: '8Gi' }), mutate));
  for (const p of pods) n.addPod(computePodInfo(p));
  return n;
}

describe('least allocated', () => {
  it('is the free share after placing the pod', () => {
    expect(leastRequested(1000, 4000)).toBe(75);
    expect(leastRequested(5000, 4000)).toBe(0);
    expect(leastRequested(0, 0)).toBe(0);
  });
  it('prefers the emptier node', () => {
    const pod = computePodInfo(makePod('p', { cpu: '1', memory: '1Gi' }));
    const empty = nodeWith('a');
    const busy = nodeWith('b', [makePod('x', { nodeName: 'b', cpu: '2', memory: '4Gi' })]);
    expect(leastAllocatedScore(pod, empty)).toBeGreaterThan(leastAllocatedScore(pod, busy));
    expect(leastAllocatedScore(pod, empty)).toBe(Math.floor((75 + 87) / 2));
  });
  it('gives best-effort pods their non-zero requests', () => {
    const pod = computePodInfo(makePod('p'));
    expect(leastAllocatedScore(pod, nodeWith('a'))).toBeLessThan(100);
  });
  it('balanced allocation is 100 when cpu and memory are used alike', () => {
    const pod = computePodInfo(makePod('p', { cpu: '2', memory: '4Gi' }));
    expect(balancedAllocationScore(pod, nodeWith('a'))).toBe(100);
  });
});

describe('scoreNodes', () => {
  it.each<[string, Pod, () => NodeInfo[], string]>([
    [
      'spreads pods of one owner: the node without a sibling wins',
      makePod('p', { ownerUID: 'rs' }),
      () => [nodeWith('a', [makePod('s1', { nodeName: 'a', ownerUID: 'rs' })]), nodeWith('b', [makePod('o1', { nodeName: 'b', ownerUID: 'other' })])],
      'b',
    ],
    [
      'preferred node affinity weights win over equal load',
      mutated(makePod('p'), (p) => {
        p.spec.affinity = { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 50, preference: { matchExpressions: [{ key: 'disk', operator: 'In', values: ['ssd'] }] } }] } };
      }),
      () => [nodeWith('a'), nodeWith('b', [], (n) => void (n.metadata.labels = { ...n.metadata.labels, disk: 'ssd' }))],
      'b',
    ],
    [
      'an untolerated PreferNoSchedule taint loses',
      makePod('p'),
      () => [nodeWith('a', [], (n) => void (n.spec = { taints: [{ key: 'soft', effect: 'PreferNoSchedule' }] })), nodeWith('b')],
      'b',
    ],
  ])('%s', (_name, pod, nodes, want) => {
    const ns = nodes();
    const scores = scoreNodes(computePodInfo(pod), ns);
    expect(ns[selectHost(scores, () => 0.5)]?.name).toBe(want);
  });
});

describe('normalize and selectHost', () => {
  it('normalizes to the largest value, reversed when asked', () => {
    expect(normalize([0, 2, 4], false)).toEqual([0, 50, 100]);
    expect(normalize([0, 2, 4], true)).toEqual([100, 50, 0]);
    expect(normalize([0, 0], true)).toEqual([100, 100]);
  });
  it('breaks ties with the injected random', () => {
    expect(selectHost([5, 9, 9, 9], () => 0.99)).toBe(1);
    expect(selectHost([5, 9, 9, 9], () => 0)).toBe(3);
    expect(selectHost([], () => 0)).toBe(-1);
  });
});
