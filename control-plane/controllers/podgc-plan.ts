/**
 * Pod GC decisions (upstream pkg/controller/podgc), pure. One pass over the cached pods and nodes
 * yields, in upstream's order:
 *   1. terminated pods (Succeeded/Failed) beyond the threshold, evicted ones first, then oldest first
 *      (by creationTimestamp, then name); none when the threshold is 0;
 *   2. terminating pods on a node that is not Ready and carries the node.kubernetes.io/out-of-service
 *      taint (the node will not finish them);
 *   3. pods bound to a node that no longer exists: marked Failed with a DisruptionTarget condition
 *      (reason DeletionByPodGC), then deleted;
 *   4. terminating pods never scheduled to any node (no kubelet will ever confirm their deletion).
 * Every deletion is a force delete (grace period 0), after a pod not yet terminal is marked Failed.
 *
 * A node missing from the cache is only taken as deleted after a quarantine (upstream: 40 s) and a
 * direct GET saying NotFound, so a pod bound to a node whose Node object the cache has not shown yet is
 * never removed: trackMissingNodes keeps when each missing node was first seen missing.
 */
import type { Node } from '../../api/core/node.js';
import type { Pod, PodCondition } from '../../api/core/pod-types.js';

export const DEFAULT_TERMINATED_POD_THRESHOLD = 12500;
export const DEFAULT_GC_CHECK_PERIOD_MS = 20_000;
export const DEFAULT_QUARANTINE_MS = 40_000;
export const TAINT_OUT_OF_SERVICE = 'node.kubernetes.io/out-of-service';
/** The field manager of the status patch marking a pod Failed (upstream's). */
export const FIELD_MANAGER = 'PodGC';

export type PodGCReason = 'terminated' | 'out-of-service' | 'orphaned' | 'unscheduled-terminating';

export interface PodGCAction {
  readonly pod: Pod;
  readonly reason: PodGCReason;
  /** Added with phase Failed before deleting a pod that is not terminal yet. */
  readonly condition?: PodCondition;
}

export const ORPHAN_CONDITION: PodCondition = { type: 'DisruptionTarget', status: 'True', reason: 'DeletionByPodGC', message: 'PodGC: node no longer exists' };

export function isPodTerminated(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase === 'Succeeded' || phase === 'Failed';
}

/** Upstream eviction.PodIsEvicted. */
export function isPodEvicted(pod: Pod): boolean {
  return pod.status?.phase === 'Failed' && pod.status.reason === 'Evicted';
}

/** Upstream byEvictionAndCreationTimestamp: evicted first, then oldest, then by name. */
export function byEvictionAndAge(a: Pod, b: Pod): number {
  const ea = isPodEvicted(a);
  const eb = isPodEvicted(b);
  if (ea !== eb) return ea ? -1 : 1;
  const ta = Date.parse(a.metadata.creationTimestamp ?? '') || 0;
  const tb = Date.parse(b.metadata.creationTimestamp ?? '') || 0;
  if (ta !== tb) return ta - tb;
  const na = a.metadata.name ?? '';
  const nb = b.metadata.name ?? '';
  return na < nb ? -1 : na > nb ? 1 : 0;
}

function isNodeReady(node: Node): boolean {
  return (node.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

export interface MissingNodes {
  /** Node name -> when (ms) it was first seen missing while a pod was bound to it. */
  readonly since: ReadonlyMap<string, number>;
  /** Missing for at least the quarantine: to confirm with a GET, then treat as deleted. */
  readonly candidates: readonly string[];
}

/**
 * Nodes pods are bound to that the cache does not have. A node that shows up again, or that no pod
 * references any more, is forgotten.
 */
export function trackMissingNodes(pods: readonly Pod[], nodeNames: ReadonlySet<string>, since: ReadonlyMap<string, number>, nowMs: number, quarantineMs: number): MissingNodes {
  const next = new Map<string, number>();
  for (const pod of pods) {
    const node = pod.spec.nodeName ?? '';
    if (node === '' || nodeNames.has(node) || next.has(node)) continue;
    next.set(node, since.get(node) ?? nowMs);
  }
  const candidates = [...next].filter(([, t]) => nowMs - t >= quarantineMs).map(([n]) => n).sort();
  return { since: next, candidates };
}

export interface PodGCInput {
  readonly pods: readonly Pod[];
  readonly nodes: readonly Node[];
  /** --terminated-pod-gc-threshold; 0 disables step 1. */
  readonly terminatedPodThreshold: number;
  /** Nodes confirmed deleted (quarantine passed, GET said NotFound). */
  readonly deletedNodes: ReadonlySet<string>;
}

export function planPodGC(input: PodGCInput): PodGCAction[] {
  const actions: PodGCAction[] = [];
  const chosen = new Set<Pod>();
  const push = (pod: Pod, reason: PodGCReason, condition?: PodCondition): void => {
    if (chosen.has(pod)) return;
    chosen.add(pod);
    actions.push({ pod, reason, ...(condition !== undefined ? { condition } : {}) });
  };

  if (input.terminatedPodThreshold > 0) {
    const terminated = input.pods.filter(isPodTerminated);
    const excess = terminated.length - input.terminatedPodThreshold;
    if (excess > 0) for (const pod of terminated.sort(byEvictionAndAge).slice(0, excess)) push(pod, 'terminated');
  }

  const nodes = new Map(input.nodes.map((n) => [n.metadata.name ?? '', n]));
  const outOfService = input.pods.filter((pod) => {
    if (pod.metadata.deletionTimestamp === undefined) return false;
    const node = nodes.get(pod.spec.nodeName ?? '');
    return node !== undefined && !isNodeReady(node) && (node.spec?.taints ?? []).some((t) => t.key === TAINT_OUT_OF_SERVICE);
  });
  for (const pod of outOfService.sort(byEvictionAndAge)) push(pod, 'out-of-service');

  for (const pod of input.pods) {
    const node = pod.spec.nodeName ?? '';
    if (node !== '' && input.deletedNodes.has(node)) push(pod, 'orphaned', ORPHAN_CONDITION);
  }

  for (const pod of input.pods) {
    if (pod.metadata.deletionTimestamp !== undefined && (pod.spec.nodeName ?? '') === '') push(pod, 'unscheduled-terminating');
  }
  return actions;
}
