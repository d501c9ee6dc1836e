/**
 * Small pure decisions around the scheduler's writes and its event handling:
 *   - the status patch that sets PodScheduled=False (upstream's UpdatePodCondition: the transition time
 *     moves only when the status changes; no write at all when nothing would change);
 *   - whether a Node update can change a scheduling decision (so heartbeats do not wake every
 *     unschedulable pod).
 */
import type { Node } from '../../api/core/node.js';
import type { Pod } from '../../api/core/pod.js';
import { effectiveTaints, parseAllocatable } from './node-info.js';

export interface PodScheduledPatch {
  readonly status: {
    readonly conditions: ReadonlyArray<{
      readonly type: 'PodScheduled';
      readonly status: 'False';
      readonly reason: string;
      readonly message: string;
      readonly lastProbeTime: null;
      readonly lastTransitionTime: string;
    }>;
  };
}

/** The strategic-merge patch of pods/status, or undefined when the pod already says exactly this. */
export function unschedulableCondition(pod: Pod, reason: string, message: string, now: string): PodScheduledPatch | undefined {
  const current = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
  if (current !== undefined && current.status === 'False' && current.reason === reason && current.message === message) return undefined;
  const lastTransitionTime = current !== undefined && current.status === 'False' && current.lastTransitionTime !== undefined ? current.lastTransitionTime : now;
  return { status: { conditions: [{ type: 'PodScheduled', status: 'False', reason, message, lastProbeTime: null, lastTransitionTime }] } };
}

function sameMap(a: Readonly<Record<string, unknown>> | undefined, b: Readonly<Record<string, unknown>> | undefined): boolean {
  const ka = Object.keys(a ?? {});
  if (ka.length !== Object.keys(b ?? {}).length) return false;
  for (const k of ka) if ((a ?? {})[k] !== (b ?? {})[k]) return false;
  return true;
}

function taintKey(n: Node): string {
  return effectiveTaints(n)
    .map((t) => `${t.key}=${t.value ?? ''}:${t.effect}`)
    .sort()
    .join(',');
}

function allocatableKey(n: Node): string {
  const a = parseAllocatable(n);
  return [a.milliCPU, a.memory, a.ephemeralStorage, a.pods, ...[...a.scalar].sort().map(([k, v]) => `${k}=${v}`)].join(',');
}

/** Labels, taints (explicit or implied by conditions), unschedulable or allocatable changed. */
export function nodeSchedulingChanged(old: Node, cur: Node): boolean {
  if ((old.spec?.unschedulable === true) !== (cur.spec?.unschedulable === true)) return true;
  if (!sameMap(old.metadata.labels, cur.metadata.labels)) return true;
  if (taintKey(old) !== taintKey(cur)) return true;
  if (!sameMap(old.status?.allocatable, cur.status?.allocatable) && allocatableKey(old) !== allocatableKey(cur)) return true;
  return false;
}
