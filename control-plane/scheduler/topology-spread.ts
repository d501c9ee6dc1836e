/**
 * Pod topology spread constraints (upstream's PodTopologySpread plugin), pure.
 *
 * Counting (once per scheduling cycle, upstream's PreFilter/PreScore): a node takes part when it has
 * every constraint's topology key, matches the pod's node selector and required node affinity
 * (nodeAffinityPolicy Honor, the default) and, with nodeTaintsPolicy Honor, has no taint the pod does
 * not tolerate (default Ignore). For each constraint, each domain (`key=value`) counts the pods on its
 * nodes that match the constraint's selector in the pod's namespace and are not being deleted. The
 * selector gets `key in (value)` for each of the pod's `matchLabelKeys` it has; an empty selector
 * counts nothing. The inclusion policies apply per constraint.
 *
 * Filter (whenUnsatisfiable: DoNotSchedule): a node without the key is out (unresolvable); otherwise
 * `count(domain of the node) + (1 if the pod matches its own selector) - min(count over domains)` must
 * not exceed maxSkew, the minimum being 0 while fewer than minDomains domains exist.
 * Score (ScheduleAnyway): per node, the sum over constraints of `count(domain) x log(domains + 2) +
 * maxSkew - 1`; fewer is better, normalised as upstream (`100 x (max + min - s) / max`), 0 for a node
 * without a key. A pod with constraints of its own is spread by them alone (scores.ts then leaves out
 * its owner-based spreading, which stands in for upstream's default constraints).
 *
 * Cost: O(nodes x pods on them x constraints) per cycle for a pod that has constraints; nothing for
 * one that has none.
 */
import type { TopologySpreadConstraint } from '../../api/core/scheduling.js';
import type { Requirement, Selector } from '../../api/labels.js';
import { isEverything, labelSelectorAsSelector, matches, nothing } from '../../api/labels.js';
import { findUntoleratedTaint } from '../../api/core/tolerations.js';
import { podMatchesNode } from './node-affinity.js';
import type { NodeInfo } from './node-info.js';
import type { PodInfo } from './pod-info.js';

export interface SpreadConstraint {
  readonly maxSkew: number;
  readonly topologyKey: string;
  readonly hard: boolean;
  readonly selector: Selector;
  readonly minDomains: number;
  readonly honorNodeAffinity: boolean;
  readonly honorTaints: boolean;
}

/** Compiles the pod's constraints (matchLabelKeys folded into the selector). */
export function compileSpreadConstraints(list: readonly TopologySpreadConstraint[] | undefined, podLabels: Readonly<Record<string, string>>): SpreadConstraint[] {
  return (list ?? []).map((c) => {
    let selector: Selector;
    try {
      selector = labelSelectorAsSelector(c.labelSelector);
    } catch {
      // validation rejects such selectors; one that slipped through selects nothing
      selector = nothing;
    }
    const extra: Requirement[] = (c.matchLabelKeys ?? []).flatMap((k) => (podLabels[k] !== undefined ? [{ key: k, operator: 'in' as const, values: [podLabels[k] ?? ''] }] : []));
    if (extra.length > 0 && selector.type === 'requirements') selector = { type: 'requirements', requirements: [...selector.requirements, ...extra] };
    return {
      maxSkew: c.maxSkew,
      topologyKey: c.topologyKey,
      hard: c.whenUnsatisfiable === 'DoNotSchedule',
      selector,
      minDomains: c.minDomains ?? 1,
      honorNodeAffinity: (c.nodeAffinityPolicy ?? 'Honor') === 'Honor',
      honorTaints: c.nodeTaintsPolicy === 'Honor',
    };
  });
}

export interface SpreadCounts {
  /** Per constraint (same order as the pod's): matching pods per domain value. */
  readonly perConstraint: readonly ReadonlyMap<string, number>[];
}

/** Upstream's matchNodeInclusionPolicies, for one constraint. */
function included(pod: PodInfo, node: NodeInfo, c: SpreadConstraint): boolean {
  if (c.honorNodeAffinity && (pod.nodeSelector !== undefined || pod.requiredNodeAffinity !== undefined) && !podMatchesNode(pod, node.labels, node.name)) return false;
  if (c.honorTaints && findUntoleratedTaint(node.filterTaints, pod.tolerations) !== undefined) return false;
  return true;
}

/** Pods on `node` that `selector` matches, in the pod's namespace, not being deleted; 0 for an empty selector (upstream's countPodsMatchSelector). */
function countMatching(pod: PodInfo, node: NodeInfo, selector: Selector): number {
  if (isEverything(selector)) return 0;
  let count = 0;
  for (const other of node.pods.values()) {
    if (other.key === pod.key || other.namespace !== pod.namespace || other.pod.metadata.deletionTimestamp !== undefined) continue;
    if (matches(selector, other.labels)) count++;
  }
  return count;
}

/** Matching pods per domain for `constraints`, over the nodes that take part. */
export function countSpread(pod: PodInfo, nodes: readonly NodeInfo[], constraints: readonly SpreadConstraint[]): SpreadCounts {
  const perConstraint = constraints.map(() => new Map<string, number>());
  for (const n of nodes) {
    // a node takes part only with every constraint's key (upstream's nodeLabelsMatchSpreadConstraints)
    if (n.node === undefined || !constraints.every((c) => n.labels[c.topologyKey] !== undefined)) continue;
    constraints.forEach((c, i) => {
      if (!included(pod, n, c)) return;
      const value = n.labels[c.topologyKey] ?? '';
      const count = countMatching(pod, n, c.selector);
      const m = perConstraint[i];
      if (m !== undefined) m.set(value, (m.get(value) ?? 0) + count);
    });
  }
  return { perConstraint };
}

export interface SpreadFilterState {
  readonly constraints: readonly SpreadConstraint[];
  readonly counts: SpreadCounts;
  /** Per constraint: the minimum count over domains (0 below minDomains). */
  readonly minimums: readonly number[];
}

export const EMPTY_SPREAD_STATE: SpreadFilterState = { constraints: [], counts: { perConstraint: [] }, minimums: [] };

export function computeSpreadFilterState(pod: PodInfo, nodes: readonly NodeInfo[]): SpreadFilterState {
  const constraints = pod.spreadConstraints.filter((c) => c.hard);
  if (constraints.length === 0) return EMPTY_SPREAD_STATE;
  const counts = countSpread(pod, nodes, constraints);
  const minimums = constraints.map((c, i) => {
    const m = counts.perConstraint[i] ?? new Map<string, number>();
    if (m.size < c.minDomains) return 0;
    let min = Infinity;
    for (const v of m.values()) if (v < min) min = v;
    return min === Infinity ? 0 : min;
  });
  return { constraints, counts, minimums };
}

export type SpreadVerdict = 'ok' | 'missing-label' | 'skew';

export function checkSpread(pod: PodInfo, node: NodeInfo, state: SpreadFilterState): SpreadVerdict {
  for (const [i, c] of state.constraints.entries()) {
    const value = node.labels[c.topologyKey];
    if (value === undefined) return 'missing-label';
    const self = matches(c.selector, pod.labels) ? 1 : 0;
    const count = state.counts.perConstraint[i]?.get(value) ?? 0;
    if (count + self - (state.minimums[i] ?? 0) > c.maxSkew) return 'skew';
  }
  return 'ok';
}

/** Scores 0..100 for `nodes` from the pod's ScheduleAnyway constraints; undefined when it has none. */
export function spreadScores(pod: PodInfo, nodes: readonly NodeInfo[], all: readonly NodeInfo[]): number[] | undefined {
  const soft = pod.spreadConstraints.filter((c) => !c.hard);
  if (soft.length === 0) return undefined;
  const counts = countSpread(pod, all, soft);
  const weights = soft.map((_, i) => Math.log((counts.perConstraint[i]?.size ?? 0) + 2));
  const raw = nodes.map((n) => {
    if (!soft.every((c) => n.labels[c.topologyKey] !== undefined)) return undefined;
    let s = 0;
    soft.forEach((c, i) => {
      s += (counts.perConstraint[i]?.get(n.labels[c.topologyKey] ?? '') ?? 0) * (weights[i] ?? 1) + (c.maxSkew - 1);
    });
    return Math.round(s);
  });
  const present = raw.filter((v): v is number => v !== undefined);
  if (present.length === 0) return nodes.map(() => 0);
  const max = Math.max(...present);
  const min = Math.min(...present);
  return raw.map((s) => (s === undefined ? 0 : max === 0 ? 100 : Math.floor((100 * (max + min - s)) / max)));
}
