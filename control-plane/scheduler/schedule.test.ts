import { describe, expect, it } from 'vitest';
import { SchedulerCache } from './cache.js';
import { computePodInfo } from './pod-info.js';
import type { ScheduleOptions } from './schedule.js';
import { computeSchedule, numFeasibleNodesToFind } from './schedule.js';
import { makeNode, makePod, mutated } from './test-fixtures.js';

const opts: ScheduleOptions = { percentageOfNodesToScore: 0, random: () => 0.5, namespaceLabels: () => undefined };

describe('numFeasibleNodesToFind (upstream adaptive percentage)', () => {
  it.each([
    [50, 0, 50],
    [100, 0, 100],
    [1000, 0, 420],
    [5000, 0, 500],
    [10000, 0, 500],
    [1000, 100, 1000],
    [1000, 5, 100],
  ])('%i nodes at %i%% -> %i', (n, pct, want) => {
    expect(numFeasibleNodesToFind(n, pct)).toBe(want);
  });
});

describe('computeSchedule', () => {
  it('explains a pod that fits nowhere with upstream counts', () => {
    const cache = new SchedulerCache();
    cache.addNode(makeNode('small', { cpu: '1' }));
    for (const name of ['t1', 't2']) cache.addNode(mutated(makeNode(name), (n) => void (n.spec = { taints: [{ key: 'key', value: 'value', effect: 'NoSchedule' }] })));
    const r = computeSchedule(computePodInfo(makePod('p', { cpu: '2' })), cache.nodeList(), 0, opts);
    expect(r.kind).toBe('unschedulable');
    if (r.kind !== 'unschedulable') return;
    expect(r.message).toBe(
      '0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had untolerated taint {key: value}. preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling.',
    );
    expect([...r.plugins].sort()).toEqual(['NodeResourcesFit', 'TaintToleration']);
  });

  it('says so when there is no node at all', () => {
    const r = computeSchedule(computePodInfo(makePod('p')), [], 0, opts);
    expect(r.kind === 'unschedulable' && r.message).toBe('no nodes available to schedule pods');
  });

  it('a burst sees its own assumptions: one pod per node, then no room', () => {
    const cache = new SchedulerCache();
    for (const name of ['a', 'b', 'c']) cache.addNode(makeNode(name, { cpu: '1' }));
    const placed: string[] = [];
    let start = 0;
    for (let i = 0; i < 3; i++) {
      const info = computePodInfo(makePod(`p${i}`, { cpu: '1' }));
      const r = computeSchedule(info, cache.nodeList(), start, opts);
      if (r.kind !== 'scheduled') throw new Error(`p${i} did not fit`);
      start = r.nextStartIndex;
      cache.assume(info, r.nodeName);
      placed.push(r.nodeName);
    }
    expect(placed.sort()).toEqual(['a', 'b', 'c']);
    const last = computeSchedule(computePodInfo(makePod('p3', { cpu: '1' })), cache.nodeList(), start, opts);
    expect(last.kind === 'unschedulable' && last.message).toBe(
      '0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.',
    );
  });

  it('spreads the replicas of one owner over equal nodes', () => {
    const cache = new SchedulerCache();
    for (const name of ['a', 'b', 'c']) cache.addNode(makeNode(name));
    const counts = new Map<string, number>();
    for (let i = 0; i < 6; i++) {
      const info = computePodInfo(makePod(`web-${i}`, { ownerUID: 'rs-web', cpu: '100m' }));
      const r = computeSchedule(info, cache.nodeList(), 0, opts);
      if (r.kind !== 'scheduled') throw new Error('no fit');
      cache.assume(info, r.nodeName);
      counts.set(r.nodeName, (counts.get(r.nodeName) ?? 0) + 1);
    }
    expect([...counts.values()]).toEqual([2, 2, 2]);
  });

  it('stops filtering once enough nodes are feasible and resumes where it stopped', () => {
    const cache = new SchedulerCache();
    for (let i = 0; i < 200; i++) cache.addNode(makeNode(`n${i}`));
    const r = computeSchedule(computePodInfo(makePod('p')), cache.nodeList(), 150, { ...opts, percentageOfNodesToScore: 50 });
    expect(r.kind === 'scheduled' && [r.evaluatedNodes, r.feasibleNodes, r.nextStartIndex]).toEqual([100, 100, 50]);
  });
});

describe('SchedulerCache', () => {
  it("tracks the nodes holding pods with required anti-affinity, which every cycle checks", () => {
    const cache = new SchedulerCache();
    cache.addNode(makeNode('a'));
    cache.addNode(makeNode('b'));
    const guard = mutated(makePod('guard', { labels: { app: 'guard' } }), (p) => {
      p.spec.affinity = { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'web' } }, topologyKey: 'kubernetes.io/hostname' }] } };
    });
    cache.assume(computePodInfo(guard), 'a');
    expect([...cache.nodesWithRequiredAntiAffinity()].map((n) => n.name)).toEqual(['a']);
    const web = computePodInfo(makePod('web', { labels: { app: 'web' } }));
    for (let i = 0; i < 5; i++) {
      const r = computeSchedule(web, cache.nodeList(), i, { ...opts, antiAffinityNodes: cache.nodesWithRequiredAntiAffinity() });
      expect(r.kind === 'scheduled' && r.nodeName).toBe('b');
    }
    cache.forget('default/guard');
    expect([...cache.nodesWithRequiredAntiAffinity()]).toEqual([]);
  });


  it('confirms an assumed pod when the informer reports it bound, and keeps its requests once', () => {
    const cache = new SchedulerCache();
    cache.addNode(makeNode('a', { cpu: '4' }));
    const pod = makePod('p', { cpu: '1' });
    cache.assume(computePodInfo(pod), 'a');
    expect(cache.isAssumed('default/p')).toBe(true);
    cache.addPod(mutated(pod, (p) => void (p.spec.nodeName = 'a')));
    expect(cache.isAssumed('default/p')).toBe(false);
    expect(cache.nodeInfo('a')?.requestedMilliCPU).toBe(1000);
  });

  it('forgets a failed assumption', () => {
    const cache = new SchedulerCache();
    cache.addNode(makeNode('a'));
    cache.assume(computePodInfo(makePod('p', { cpu: '1' })), 'a');
    cache.forget('default/p');
    expect(cache.nodeInfo('a')?.requestedMilliCPU).toBe(0);
    expect(cache.nodeInfo('a')?.pods.size).toBe(0);
  });

  it('counts pods bound to a node before the Node appears, and drops terminal pods', () => {
    const cache = new SchedulerCache();
    cache.addPod(makePod('early', { nodeName: 'late', cpu: '1' }));
    expect(cache.nodeList()).toHaveLength(0);
    cache.addNode(makeNode('late'));
    expect(cache.nodeList()[0]?.requestedMilliCPU).toBe(1000);
    cache.updatePod(mutated(makePod('early', { nodeName: 'late', cpu: '1' }), (p) => void (p.status = { phase: 'Succeeded' })));
    expect(cache.nodeList()[0]?.requestedMilliCPU).toBe(0);
  });

  it('keeps a removed node while pods are still bound to it, out of the node list', () => {
    const cache = new SchedulerCache();
    cache.addNode(makeNode('a'));
    cache.addPod(makePod('p', { nodeName: 'a' }));
    cache.removeNode('a');
    expect(cache.nodeList()).toHaveLength(0);
    expect(cache.nodeInfo('a')?.pods.size).toBe(1);
    cache.removePod(makePod('p', { nodeName: 'a' }));
    expect(cache.nodeInfo('a')).toBeUndefined();
  });
});
