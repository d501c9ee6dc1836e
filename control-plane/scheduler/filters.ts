/**
 * The filters (pure): can this pod run on this node? They run in upstream's default order and the
 * first that rejects a node decides its reasons, which are upstream's exact phrases (they end up,
 * counted, in the FailedScheduling event and the PodScheduled condition):
 *   NodeUnschedulable  spec.unschedulable without a toleration of node.kubernetes.io/unschedulable
 *   TaintToleration    the first NoSchedule/NoExecute taint not tolerated (conditions imply taints, see node-info.ts)
 *   NodeAffinity       nodeSelector and required node affinity
 *   NodePorts          host ports already used on the node
 *   NodeResourcesFit   pods count, cpu, memory, ephemeral storage, extended resources vs allocatable
 *                      minus the requests of the pods bound or assumed there (all shortfalls listed)
 *   PodTopologySpread  whenUnsatisfiable: DoNotSchedule constraints (topology-spread.ts)
 *   InterPodAffinity   required pod affinity / anti-affinity, and existing pods' anti-affinity
 * `resolvable` says whether evicting pods could help (upstream's Unschedulable vs
 * UnschedulableAndUnresolvable), which only changes the "preemption:" part of the message.
 *
 * Cost per node: a handful of comparisons for a plain pod (no ports, no affinity, a few taints).
 */
import type { Taint } from '../../api/core/scheduling.js';
import { findUntoleratedTaint, matchingToleration } from '../../api/core/tolerations.js';
import type { NodeInfo } from './node-info.js';
import { TAINT_UNSCHEDULABLE } from './node-info.js';
import { podMatchesNode } from './node-affinity.js';
import type { AffinityState } from './pod-affinity.js';
import { checkPodAffinity } from './pod-affinity.js';
import type { PodInfo } from './pod-info.js';
import type { SpreadFilterState } from './topology-spread.js';
import { checkSpread, EMPTY_SPREAD_STATE } from './topology-spread.js';

export type FilterPlugin = 'NodeUnschedulable' | 'TaintToleration' | 'NodeAffinity' | 'NodePorts' | 'NodeResourcesFit' | 'PodTopologySpread' | 'InterPodAffinity';

export const ALL_FILTER_PLUGINS: readonly FilterPlugin[] = ['NodeUnschedulable', 'TaintToleration', 'NodeAffinity', 'NodePorts', 'NodeResourcesFit', 'PodTopologySpread', 'InterPodAffinity'];

export interface FilterFailure {
  readonly plugin: FilterPlugin;
  readonly reasons: readonly string[];
  /** True when removing pods from the node could make it fit (preemption could help). */
  readonly resolvable: boolean;
}

export const REASON_UNSCHEDULABLE = 'node(s) were unschedulable';
export const REASON_NODE_AFFINITY = "node(s) didn't match Pod's node affinity/selector";
export const REASON_PORTS = "node(s) didn't have free ports for the requested pod ports";
export const REASON_TOO_MANY_PODS = 'Too many pods';
export const REASON_AFFINITY = "node(s) didn't match pod affinity rules";
export const REASON_ANTI_AFFINITY = "node(s) didn't match pod anti-affinity rules";
export const REASON_EXISTING_ANTI_AFFINITY = "node(s) didn't satisfy existing pods anti-affinity rules";
export const REASON_SPREAD = "node(s) didn't match pod topology spread constraints";
export const REASON_SPREAD_LABEL = "node(s) didn't match pod topology spread constraints (missing required label)";
export const taintReason = (t: Taint): string => `node(s) had untolerated taint {${t.key}: ${t.value ?? ''}}`;
export const insufficientReason = (resource: string): string => `Insufficient ${resource}`;

const UNSCHEDULABLE_TAINT: Taint = { key: TAINT_UNSCHEDULABLE, effect: 'NoSchedule' };

/** All resource shortfalls on the node, in upstream's order (pods, cpu, memory, ephemeral-storage, others). */
export function insufficientResources(pod: PodInfo, node: NodeInfo): string[] {
  const out: string[] = [];
  const a = node.allocatable;
  if (node.pods.size + 1 > a.pods) out.push(REASON_TOO_MANY_PODS);
  const r = pod.requests;
  if (r.milliCPU === 0 && r.memory === 0 && r.ephemeralStorage === 0 && r.scalar.size === 0) return out;
  if (r.milliCPU > 0 && r.milliCPU > a.milliCPU - node.requestedMilliCPU) out.push(insufficientReason('cpu'));
  if (r.memory > 0 && r.memory > a.memory - node.requestedMemory) out.push(insufficientReason('memory'));
  if (r.ephemeralStorage > 0 && r.ephemeralStorage > a.ephemeralStorage - node.requestedEphemeral) out.push(insufficientReason('ephemeral-storage'));
  for (const [name, want] of r.scalar) {
    if (want > (a.scalar.get(name) ?? 0) - (node.requestedScalar.get(name) ?? 0)) out.push(insufficientReason(name));
  }
  return out;
}

/** Runs the filters in order; undefined when the node fits. */
export function runFilters(pod: PodInfo, node: NodeInfo, affinity: AffinityState, spread: SpreadFilterState = EMPTY_SPREAD_STATE): FilterFailure | undefined {
  if (node.unschedulable && matchingToleration(pod.tolerations, UNSCHEDULABLE_TAINT) === undefined) {
    return { plugin: 'NodeUnschedulable', reasons: [REASON_UNSCHEDULABLE], resolvable: false };
  }
  if (node.filterTaints.length > 0) {
    const t = findUntoleratedTaint(node.filterTaints, pod.tolerations);
    if (t !== undefined) return { plugin: 'TaintToleration', reasons: [taintReason(t)], resolvable: false };
  }
  if ((pod.nodeSelector !== undefined || pod.requiredNodeAffinity !== undefined) && !podMatchesNode(pod, node.labels, node.name)) {
    return { plugin: 'NodeAffinity', reasons: [REASON_NODE_AFFINITY], resolvable: false };
  }
  if (pod.hostPorts.length > 0 && node.usedPorts.size > 0) {
    for (const hp of pod.hostPorts) {
      if (node.portInUse(hp)) return { plugin: 'NodePorts', reasons: [REASON_PORTS], resolvable: true };
    }
  }
  const short = insufficientResources(pod, node);
  if (short.length > 0) return { plugin: 'NodeResourcesFit', reasons: short, resolvable: true };
  if (spread.constraints.length > 0) {
    const v = checkSpread(pod, node, spread);
    if (v === 'missing-label') return { plugin: 'PodTopologySpread', reasons: [REASON_SPREAD_LABEL], resolvable: false };
    if (v === 'skew') return { plugin: 'PodTopologySpread', reasons: [REASON_SPREAD], resolvable: true };
  }
  const verdict = checkPodAffinity(pod, node, affinity);
  switch (verdict) {
    case 'ok':
      return undefined;
    case 'affinity':
      return { plugin: 'InterPodAffinity', reasons: [REASON_AFFINITY], resolvable: false };
    case 'anti-affinity':
      return { plugin: 'InterPodAffinity', reasons: [REASON_ANTI_AFFINITY], resolvable: true };
    case 'existing-anti-affinity':
      return { plugin: 'InterPodAffinity', reasons: [REASON_EXISTING_ANTI_AFFINITY], resolvable: true };
    default: {
      const never: never = verdict;
      throw new Error(`unknown affinity verdict ${String(never)}`);
    }
  }
}
