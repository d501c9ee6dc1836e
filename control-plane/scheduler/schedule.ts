/**
 * One scheduling decision (pure over the cache's NodeInfos): filter the nodes, score the feasible ones,
 * pick the best; or explain why none fits.
 *
 * Like upstream, the filter pass stops once it has found enough feasible nodes
 * (percentageOfNodesToScore: by default 50% - nodes/125, at least 5% and at least 100 nodes), starting
 * where the previous pod's pass stopped, so successive pods look at different parts of a large cluster
 * and a 1,000-node cluster costs ~420 filter calls per pod, not 1,000. A pod that fits nowhere is
 * checked against every node, so its message counts every node.
 */
import type { FilterFailure, FilterPlugin } from './filters.js';
import { runFilters } from './filters.js';
import { buildFitErrorMessage } from './fit-error.js';
import type { NodeInfo } from './node-info.js';
import type { NamespaceLabels } from './pod-affinity.js';
import { computeAffinityState } from './pod-affinity.js';
import { computeSpreadFilterState } from './topology-spread.js';
import type { PodInfo } from './pod-info.js';
import { scoreNodes, selectHost } from './scores.js';

export const MIN_FEASIBLE_NODES_TO_FIND = 100;
export const MIN_FEASIBLE_NODES_PERCENTAGE = 5;

export interface ScheduleOptions {
  /** 1..100, or 0 for upstream's adaptive default. */
  readonly percentageOfNodesToScore: number;
  /** Uniform in [0, 1): breaks ties between equally scored nodes. */
  readonly random: () => number;
  readonly namespaceLabels: NamespaceLabels;
  /** Nodes with pods that have required anti-affinity (default: found by scanning `nodes`). */
  readonly antiAffinityNodes?: Iterable<NodeInfo>;
}

export type ScheduleResult =
  | { readonly kind: 'scheduled'; readonly nodeName: string; readonly evaluatedNodes: number; readonly feasibleNodes: number; readonly nextStartIndex: number }
  | {
      readonly kind: 'unschedulable';
      readonly numAllNodes: number;
      readonly failures: readonly FilterFailure[];
      /** The plugins that rejected at least one node: which cluster events may help (queueing hints). */
      readonly plugins: ReadonlySet<FilterPlugin>;
      readonly message: string;
      readonly nextStartIndex: number;
    };

/** Upstream's numFeasibleNodesToFind. */
export function numFeasibleNodesToFind(numAllNodes: number, percentage: number): number {
  if (numAllNodes < MIN_FEASIBLE_NODES_TO_FIND) return numAllNodes;
  let pct = percentage;
  if (pct <= 0) pct = Math.max(MIN_FEASIBLE_NODES_PERCENTAGE, 50 - Math.floor(numAllNodes / 125));
  if (pct >= 100) return numAllNodes;
  return Math.max(MIN_FEASIBLE_NODES_TO_FIND, Math.floor((numAllNodes * pct) / 100));
}

export function computeSchedule(pod: PodInfo, nodes: readonly NodeInfo[], startIndex: number, opts: ScheduleOptions): ScheduleResult {
  const n = nodes.length;
  const affinity = computeAffinityState(pod, nodes, opts.namespaceLabels, opts.antiAffinityNodes ?? nodes);
  const spread = computeSpreadFilterState(pod, nodes);
  const want = numFeasibleNodesToFind(n, opts.percentageOfNodesToScore);
  const feasible: NodeInfo[] = [];
  const failures: FilterFailure[] = [];
  const start = n === 0 ? 0 : startIndex % n;
  let processed = 0;
  for (let i = 0; i < n && feasible.length < want; i++) {
    const node = nodes[(start + i) % n];
    if (node === undefined) continue;
    processed++;
    const failure = runFilters(pod, node, affinity, spread);
    if (failure === undefined) feasible.push(node);
    else failures.push(failure);
  }
  const nextStartIndex = n === 0 ? 0 : (start + processed) % n;
  if (feasible.length === 0) {
    return {
      kind: 'unschedulable',
      numAllNodes: n,
      failures,
      plugins: new Set(failures.map((f) => f.plugin)),
      message: buildFitErrorMessage(n, failures, pod.preemptionNever),
      nextStartIndex,
    };
  }
  let chosen: NodeInfo | undefined = feasible[0];
  if (feasible.length > 1) chosen = feasible[selectHost(scoreNodes(pod, feasible, nodes), opts.random)];
  return { kind: 'scheduled', nodeName: chosen?.name ?? '', evaluatedNodes: processed, feasibleNodes: feasible.length, nextStartIndex };
}
