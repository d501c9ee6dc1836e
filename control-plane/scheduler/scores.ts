/**
 * Scores for the nodes that passed the filters (pure), each 0..100 per node and weighted as upstream's
 * default profile weights its plugins:
 *   LeastAllocated (1)    free share of cpu and memory after placing the pod (non-zero requests)
 *   BalancedAllocation (1) 100 x (1 - spread between the cpu and memory fractions)
 *   NodeAffinity (2)      sum of matching preferred terms' weights, normalised to the best node
 *   TaintToleration (3)   fewer untolerated PreferNoSchedule taints is better, normalised
 *   Spread (2)            the pod's own ScheduleAnyway topology spread constraints (topology-spread.ts);
 *                         for a pod without constraints, fewer pods of the same controller owner on
 *                         the node is better, normalised (upstream spreads such pods by the
 *                         Service/ReplicaSet selectors through default topology spread constraints;
 *                         we count pods by their controller ownerReference: the same grouping for
 *                         pods made by a controller, at O(1) per node)
 * The pick is the highest total; ties are broken uniformly at random (`random` injected for tests).
 */
import type { NodeInfo } from './node-info.js';
import { preferredAffinityWeight } from './node-affinity.js';
import { matchingToleration } from '../../api/core/tolerations.js';
import type { PodInfo } from './pod-info.js';
import { spreadScores } from './topology-spread.js';

export const MAX_NODE_SCORE = 100;

export const WEIGHTS = { leastAllocated: 1, balanced: 1, nodeAffinity: 2, taintToleration: 3, spread: 2 } as const;

/** Upstream's leastRequestedScore for one resource (integer arithmetic). */
export function leastRequested(requested: number, capacity: number): number {
  if (capacity <= 0 || requested > capacity) return 0;
  return Math.floor(((capacity - requested) * MAX_NODE_SCORE) / capacity);
}

export function leastAllocatedScore(pod: PodInfo, node: NodeInfo): number {
  const cpu = leastRequested(node.nonZeroMilliCPU + pod.nonZeroMilliCPU, node.allocatable.milliCPU);
  const mem = leastRequested(node.nonZeroMemory + pod.nonZeroMemory, node.allocatable.memory);
  return Math.floor((cpu + mem) / 2);
}

export function balancedAllocationScore(pod: PodInfo, node: NodeInfo): number {
  const a = node.allocatable;
  if (a.milliCPU <= 0 || a.memory <= 0) return 0;
  const cpu = Math.min(1, (node.nonZeroMilliCPU + pod.nonZeroMilliCPU) / a.milliCPU);
  const mem = Math.min(1, (node.nonZeroMemory + pod.nonZeroMemory) / a.memory);
  // the standard deviation of two values is half their difference
  return Math.floor((1 - Math.abs(cpu - mem) / 2) * MAX_NODE_SCORE);
}

export function intolerablePreferTaints(pod: PodInfo, node: NodeInfo): number {
  if (node.preferTaints.length === 0) return 0;
  const tols = pod.tolerations.filter((t) => t.effect === undefined || t.effect === 'PreferNoSchedule');
  let n = 0;
  for (const t of node.preferTaints) if (matchingToleration(tols, t) === undefined) n++;
  return n;
}

/** Scales raw values to 0..100 by the largest (`reverse`: the smallest raw value scores highest). */
export function normalize(raw: readonly number[], reverse: boolean): number[] {
  let max = 0;
  for (const v of raw) if (v > max) max = v;
  if (max === 0) return raw.map(() => (reverse ? MAX_NODE_SCORE : 0));
  return raw.map((v) => {
    const s = Math.floor((v * MAX_NODE_SCORE) / max);
    return reverse ? MAX_NODE_SCORE - s : s;
  });
}

/** Weighted total score of each node in `nodes` (same order); `all`: every node, for spread counts. */
export function scoreNodes(pod: PodInfo, nodes: readonly NodeInfo[], all: readonly NodeInfo[] = nodes): number[] {
  const totals = nodes.map((n) => WEIGHTS.leastAllocated * leastAllocatedScore(pod, n) + WEIGHTS.balanced * balancedAllocationScore(pod, n));
  if (pod.preferredNodeAffinity.length > 0) {
    const s = normalize(nodes.map((n) => preferredAffinityWeight(pod.preferredNodeAffinity, n.labels, n.name)), false);
    s.forEach((v, i) => (totals[i] = (totals[i] ?? 0) + WEIGHTS.nodeAffinity * v));
  }
  const taints = normalize(nodes.map((n) => intolerablePreferTaints(pod, n)), true);
  taints.forEach((v, i) => (totals[i] = (totals[i] ?? 0) + WEIGHTS.taintToleration * v));
  const owner = pod.ownerUID;
  const ownSpread = pod.spreadConstraints.length > 0 ? spreadScores(pod, nodes, all) : undefined;
  if (pod.spreadConstraints.length > 0) {
    // constraints of its own replace the default spreading; hard ones alone leave every node equal
    (ownSpread ?? nodes.map(() => MAX_NODE_SCORE)).forEach((v, i) => (totals[i] = (totals[i] ?? 0) + WEIGHTS.spread * v));
  } else if (owner !== undefined) {
    const s = normalize(nodes.map((n) => n.ownerCounts.get(owner) ?? 0), true);
    s.forEach((v, i) => (totals[i] = (totals[i] ?? 0) + WEIGHTS.spread * v));
  } else {
    // every node scores the same; kept so totals stay comparable between pods with and without owner
    for (let i = 0; i < totals.length; i++) totals[i] = (totals[i] ?? 0) + WEIGHTS.spread * MAX_NODE_SCORE;
  }
  return totals;
}

/** Index of the highest score, ties broken uniformly by reservoir sampling; -1 for none. */
export function selectHost(scores: readonly number[], random: () => number): number {
  let best = -1;
  let bestScore = -Infinity;
  let ties = 0;
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i] ?? -Infinity;
    if (s > bestScore) {
      best = i;
      bestScore = s;
      ties = 1;
    } else if (s === bestScore) {
      ties++;
      if (random() * ties < 1) best = i;
    }
  }
  return best;
}
