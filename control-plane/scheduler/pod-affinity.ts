/**
 * Required inter-pod affinity and anti-affinity (upstream's InterPodAffinity filter), for any
 * topologyKey (kubernetes.io/hostname, zones...). Computed once per scheduling cycle (`computeAffinityState`,
 * upstream's PreFilter) as counts per topology pair (`key=value`), then checked per node in O(terms):
 *   - affinity: every term's pair on the node must hold a pod matching *all* the pod's affinity terms,
 *     except for the first pod of a group (no pod matches anywhere and the pod matches its own terms);
 *   - anti-affinity: no term's pair on the node may hold a pod matching that term;
 *   - existing pods' anti-affinity: no pod already placed may have a required anti-affinity term that
 *     matches this pod in the node's topology pair (symmetry).
 * A node without the term's topology label fails affinity and is never excluded by anti-affinity.
 * Not supported: matchLabelKeys / mismatchLabelKeys (beta upstream).
 *
 * Cost: O(pods with required anti-affinity) per cycle, plus O(all placed pods x terms) for a pod that
 * has terms of its own; O(1) per node for the common pod that has none.
 */
import { matches } from '../../api/labels.js';
import type { NodeInfo } from './node-info.js';
import type { AffinityTerm, PodInfo } from './pod-info.js';

export type NamespaceLabels = (namespace: string) => Readonly<Record<string, string>> | undefined;

export interface AffinityState {
  /** Pairs held by pods matching all the incoming pod's affinity terms. */
  readonly affinityCounts: ReadonlyMap<string, number>;
  readonly antiAffinityCounts: ReadonlyMap<string, number>;
  /** Pairs where an existing pod's anti-affinity term matches the incoming pod. */
  readonly existingAntiAffinityCounts: ReadonlyMap<string, number>;
  readonly podMatchesOwnAffinity: boolean;
}

export const EMPTY_AFFINITY_STATE: AffinityState = {
  affinityCounts: new Map(),
  antiAffinityCounts: new Map(),
  existingAntiAffinityCounts: new Map(),
  podMatchesOwnAffinity: false,
};

const pair = (key: string, value: string): string => `${key}=${value}`;

export function termMatchesPod(term: AffinityTerm, pod: Pick<PodInfo, 'namespace' | 'labels'>, nsLabels: NamespaceLabels): boolean {
  let nsOk = term.namespaces.has(pod.namespace);
  if (!nsOk && term.namespaceSelector !== undefined) nsOk = matches(term.namespaceSelector, nsLabels(pod.namespace) ?? {});
  return nsOk && matches(term.selector, pod.labels);
}

function inc(m: Map<string, number>, k: string): void {
  m.set(k, (m.get(k) ?? 0) + 1);
}

/**
 * `antiAffinityNodes`: the nodes holding pods with required anti-affinity (the cache keeps that set, so
 * the common cycle does not walk every node); defaults to scanning `nodes`.
 */
export function computeAffinityState(pod: PodInfo, nodes: readonly NodeInfo[], nsLabels: NamespaceLabels, antiAffinityNodes: Iterable<NodeInfo> = nodes): AffinityState {
  const existing = new Map<string, number>();
  for (const n of antiAffinityNodes) {
    if (n.node === undefined || n.podsWithRequiredAntiAffinity.size === 0) continue;
    for (const other of n.podsWithRequiredAntiAffinity.values()) {
      if (other.key === pod.key) continue;
      for (const t of other.requiredAntiAffinity) {
        const v = n.labels[t.topologyKey];
        if (v !== undefined && termMatchesPod(t, pod, nsLabels)) inc(existing, pair(t.topologyKey, v));
      }
    }
  }
  const aff = pod.requiredAffinity;
  const anti = pod.requiredAntiAffinity;
  if (aff.length === 0 && anti.length === 0) {
    return existing.size === 0 ? EMPTY_AFFINITY_STATE : { ...EMPTY_AFFINITY_STATE, existingAntiAffinityCounts: existing };
  }
  const affinityCounts = new Map<string, number>();
  const antiAffinityCounts = new Map<string, number>();
  for (const n of nodes) {
    for (const other of n.pods.values()) {
      if (other.key === pod.key) continue;
      if (aff.length > 0 && aff.every((t) => termMatchesPod(t, other, nsLabels))) {
        for (const t of aff) {
          const v = n.labels[t.topologyKey];
          if (v !== undefined) inc(affinityCounts, pair(t.topologyKey, v));
        }
      }
      for (const t of anti) {
        const v = n.labels[t.topologyKey];
        if (v !== undefined && termMatchesPod(t, other, nsLabels)) inc(antiAffinityCounts, pair(t.topologyKey, v));
      }
    }
  }
  return {
    affinityCounts,
    antiAffinityCounts,
    existingAntiAffinityCounts: existing,
    podMatchesOwnAffinity: aff.length > 0 && aff.every((t) => termMatchesPod(t, pod, nsLabels)),
  };
}

export type AffinityVerdict = 'ok' | 'affinity' | 'anti-affinity' | 'existing-anti-affinity';

export function checkPodAffinity(pod: PodInfo, node: NodeInfo, state: AffinityState): AffinityVerdict {
  if (pod.requiredAffinity.length > 0) {
    let podsExist = true;
    for (const t of pod.requiredAffinity) {
      const v = node.labels[t.topologyKey];
      if (v === undefined) return 'affinity';
      if ((state.affinityCounts.get(pair(t.topologyKey, v)) ?? 0) <= 0) podsExist = false;
    }
    if (!podsExist && !(state.affinityCounts.size === 0 && state.podMatchesOwnAffinity)) return 'affinity';
  }
  for (const t of pod.requiredAntiAffinity) {
    const v = node.labels[t.topologyKey];
    if (v !== undefined && (state.antiAffinityCounts.get(pair(t.topologyKey, v)) ?? 0) > 0) return 'anti-affinity';
  }
  if (state.existingAntiAffinityCounts.size > 0) {
    for (const [k, v] of Object.entries(node.labels)) {
      if ((state.existingAntiAffinityCounts.get(pair(k, v)) ?? 0) > 0) return 'existing-anti-affinity';
    }
  }
  return 'ok';
}
