import { describe, expect, it } from 'vitest';
import type { TopologySpreadConstraint } from '../../api/core/scheduling.js';
import type { Pod } from '../../api/core/pod.js';
import { runFilters, REASON_SPREAD, REASON_SPREAD_LABEL } from './filters.js';
import { NodeInfo } from './node-info.js';
import { EMPTY_AFFINITY_STATE } from './pod-affinity.js';
import { computePodInfo } from './pod-info.js';
import type { ScheduleOptions } from './schedule.js';
import { computeSchedule } from './schedule.js';
import { makeNode, makePod, mutated } from './test-fixtures.js';
import { checkSpread, computeSpreadFilterState, spreadScores } from './topology-spread.js';

const HOST = 'kubernetes.io/hostname';
const web = { app: 'web' };

function withSpread(pod: Pod, constraints: TopologySpreadConstraint[]): Pod {
  return mutated(pod, (p) => void (p.spec.topologySpreadConstraints = constraints as never));
}
const hard = (extra: Partial<TopologySpreadConstraint> = {}): TopologySpreadConstraint => ({ maxSkew: 1, topologyKey: HOST, whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: web }, ...extra });
const soft = (extra: Partial<TopologySpreadConstraint> = {}): TopologySpreadConstraint => ({ ...hard(extra), whenUnsatisfiable: 'ScheduleAnyway', ...extra });

/** Nodes n1..: `counts[i]` pods labelled app=web on node i (plus one unrelated pod each). */
function cluster(counts: number[], labels: (i: number) => Record<string, string> = () => ({})): NodeInfo[] {
  return counts.map((c, i) => {
    const name = `n${i + 1}`;
    const n = new NodeInfo(name, makeNode(name, { labels: labels(i) }));
    for (let k = 0; k < c; k++) n.addPod(computePodInfo(makePod(`${name}-web-${k}`, { labels: web, nodeName: name })));
    n.addPod(computePodInfo(makePod(`${name}-other`, { labels: { app: 'other' }, nodeName: name })));
    return n;
  });
}

const verdicts = (pod: Pod, nodes: NodeInfo[]): string[] => {
  const info = computePodInfo(pod);
  const state = computeSpreadFilterState(info, nodes);
  return nodes.map((n) => checkSpread(info, n, state));
};

describe('PodTopologySpread filter (DoNotSchedule)', () => {
  it('keeps count + self - min within maxSkew per hostname', () => {
    const pod = withSpread(makePod('p', { labels: web }), [hard()]);
    expect(verdicts(pod, cluster([2, 1, 0]))).toEqual(['skew', 'skew', 'ok']);
    expect(verdicts(pod, cluster([1, 1, 1]))).toEqual(['ok', 'ok', 'ok']);
    expect(verdicts(withSpread(makePod('p', { labels: web }), [hard({ maxSkew: 2 })]), cluster([2, 1, 0]))).toEqual(['skew', 'ok', 'ok']);
  });

  it('a pod that does not match its own selector does not count itself', () => {
    const pod = withSpread(makePod('p', { labels: { app: 'else' } }), [hard()]);
    expect(verdicts(pod, cluster([1, 0]))).toEqual(['ok', 'ok']);
  });

  it('a node without the topology key is out, unresolvably, and its pods are not counted', () => {
    const pod = withSpread(makePod('p', { labels: web }), [hard({ topologyKey: 'zone' })]);
    const nodes = cluster([0, 1, 3], (i) => (i < 2 ? { zone: `z${i}` } : {}));
    expect(verdicts(pod, nodes)).toEqual(['ok', 'skew', 'missing-label']);
    const info = computePodInfo(pod);
    const f = runFilters(info, nodes[2] as NodeInfo, EMPTY_AFFINITY_STATE, computeSpreadFilterState(info, nodes));
    expect(f).toEqual({ plugin: 'PodTopologySpread', reasons: [REASON_SPREAD_LABEL], resolvable: false });
    const g = runFilters(info, nodes[1] as NodeInfo, EMPTY_AFFINITY_STATE, computeSpreadFilterState(info, nodes));
    expect(g).toEqual({ plugin: 'PodTopologySpread', reasons: [REASON_SPREAD], resolvable: true });
  });

  it('zones: domains add up their nodes', () => {
    const pod = withSpread(makePod('p', { labels: web }), [hard({ topologyKey: 'zone' })]);
    // zone a: n1 (1) + n2 (1) = 2; zone b: n3 (1)
    expect(verdicts(pod, cluster([1, 1, 1], (i) => ({ zone: i < 2 ? 'a' : 'b' })))).toEqual(['skew', 'skew', 'ok']);
  });

  it('fewer domains than minDomains make the minimum 0', () => {
    const pod = withSpread(makePod('p', { labels: web }), [hard({ minDomains: 3 })]);
    expect(verdicts(pod, cluster([1, 1]))).toEqual(['skew', 'skew']);
    expect(verdicts(withSpread(makePod('p', { labels: web }), [hard({ minDomains: 2 })]), cluster([1, 1]))).toEqual(['ok', 'ok']);
  });

  it('nodes the pod cannot go to by its node selector are not counted (nodeAffinityPolicy Honor), unless Ignore', () => {
    const nodes = cluster([0, 2, 2], (i) => ({ pool: i === 0 ? 'small' : 'big' }));
    const honor = mutated(withSpread(makePod('p', { labels: web }), [hard()]), (p) => void (p.spec.nodeSelector = { pool: 'big' }));
    expect(verdicts(honor, nodes)).toEqual(['ok', 'ok', 'ok']);
    const ignore = mutated(withSpread(makePod('p', { labels: web }), [hard({ nodeAffinityPolicy: 'Ignore' })]), (p) => void (p.spec.nodeSelector = { pool: 'big' }));
    expect(verdicts(ignore, nodes)).toEqual(['ok', 'skew', 'skew']);
  });

  it('matchLabelKeys narrows the count to pods with the same values; terminating and other-namespace pods do not count', () => {
    const nodes = cluster([0, 0]);
    nodes[0]?.addPod(computePodInfo(makePod('old', { labels: { ...web, rev: '1' }, nodeName: 'n1' })));
    const pod = withSpread(makePod('p', { labels: { ...web, rev: '2' } }), [hard({ matchLabelKeys: ['rev'] })]);
    expect(verdicts(pod, nodes)).toEqual(['ok', 'ok']);
    const fresh = cluster([0, 0]);
    fresh[0]?.addPod(computePodInfo(mutated(makePod('going', { labels: web, nodeName: 'n1' }), (p) => void (p.metadata.deletionTimestamp = '2026-01-01T00:00:00Z'))));
    fresh[0]?.addPod(computePodInfo(makePod('elsewhere', { labels: web, nodeName: 'n1', namespace: 'other' })));
    const plain = withSpread(makePod('q', { labels: web }), [hard()]);
    expect(verdicts(plain, fresh)).toEqual(['ok', 'ok']);
    fresh[0]?.addPod(computePodInfo(makePod('counted', { labels: web, nodeName: 'n1' })));
    expect(verdicts(plain, fresh)).toEqual(['skew', 'ok']);
  });

  it('the scheduler places a third replica on the emptier node and reports the constraint when none fits', () => {
    const opts: ScheduleOptions = { percentageOfNodesToScore: 0, random: () => 0.5, namespaceLabels: () => undefined };
    const pod = computePodInfo(withSpread(makePod('p', { labels: web }), [hard()]));
    const r = computeSchedule(pod, cluster([1, 0]), 0, opts);
    expect(r).toMatchObject({ kind: 'scheduled', nodeName: 'n2' });
    const none = computeSchedule(computePodInfo(withSpread(makePod('p', { labels: web }), [hard({ topologyKey: 'zone' })])), cluster([0, 0]), 0, opts);
    expect(none.kind).toBe('unschedulable');
    if (none.kind === 'unschedulable') expect(none.message).toContain("2 node(s) didn't match pod topology spread constraints (missing required label)");
  });
});

describe('PodTopologySpread score (ScheduleAnyway)', () => {
  it('prefers the domain with fewer matching pods; a node without the key scores 0', () => {
    const pod = computePodInfo(withSpread(makePod('p', { labels: web }), [soft()]));
    const nodes = cluster([3, 1, 0]);
    const s = spreadScores(pod, nodes, nodes) ?? [];
    expect(s[2]).toBe(100);
    expect((s[1] ?? 0) > (s[0] ?? 0)).toBe(true);
    const zoned = cluster([0, 0], (i) => (i === 0 ? { zone: 'a' } : {}));
    expect(spreadScores(computePodInfo(withSpread(makePod('p', { labels: web }), [soft({ topologyKey: 'zone' })])), zoned, zoned)).toEqual([100, 0]);
    expect(spreadScores(computePodInfo(makePod('p', { labels: web })), nodes, nodes)).toBeUndefined();
  });

  it('the scheduler follows it against the resource scores', () => {
    const opts: ScheduleOptions = { percentageOfNodesToScore: 0, random: () => 0.5, namespaceLabels: () => undefined };
    const r = computeSchedule(computePodInfo(withSpread(makePod('p', { labels: web }), [soft()])), cluster([4, 0, 4]), 0, opts);
    expect(r).toMatchObject({ kind: 'scheduled', nodeName: 'n2' });
  });
});

describe('PodTopologySpread details', () => {
  it('an empty selector counts nothing, so it never blocks', () => {
    const pod = withSpread(makePod('p', { labels: web }), [hard({ labelSelector: {} })]);
    expect(verdicts(pod, cluster([3, 0]))).toEqual(['ok', 'ok']);
  });

  it('inclusion policies apply per constraint: a Honor taints policy on one does not drop nodes from another', () => {
    const nodes = cluster([0, 2]);
    const tainted = nodes[0] as NodeInfo;
    tainted.setNode(mutated(makeNode('n1'), (n) => void (n.spec = { taints: [{ key: 'k', effect: 'NoSchedule' }] })));
    // zone-less constraint 1 honours taints (n1 out of its counts); constraint 2 ignores them, so n1's 0 is its minimum
    const pod = withSpread(makePod('p', { labels: web }), [hard({ nodeTaintsPolicy: 'Honor', maxSkew: 5 }), hard()]);
    const info = computePodInfo(pod);
    const state = computeSpreadFilterState(info, nodes);
    expect([...(state.counts.perConstraint[0] ?? new Map()).keys()]).toEqual(['n2']);
    expect([...(state.counts.perConstraint[1] ?? new Map()).keys()].sort()).toEqual(['n1', 'n2']);
    expect(checkSpread(info, nodes[1] as NodeInfo, state)).toBe('skew');
  });
});
