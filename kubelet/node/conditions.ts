/**
 * The node conditions the kubelet owns, computed from the previous ones and what it observed (pure),
 * with upstream's setters' semantics:
 * - every owned condition gets lastHeartbeatTime = now on every computation;
 * - lastTransitionTime moves only when the status changes (a new condition starts at now);
 * - pressure conditions keep reason and message while their status holds; Ready always carries the
 *   current reason and message (KubeletReady, or KubeletNotReady with the aggregated errors);
 * - conditions owned by others (NetworkUnavailable...) are kept as they are, in place; new owned
 *   conditions are appended MemoryPressure, DiskPressure, PIDPressure, then Ready last, as upstream
 *   orders them (kubernetes#16961: Ready must be last for old readers).
 */
import type { NodeCondition } from '../../api/core/node.js';
import { rfc3339 } from '../../lib/clock.js';
import { deepEqual } from '../../lib/json.js';
import type { PressureFlags } from './pressure.js';
import { aggregateMessage } from './runtime-health.js';

export interface ObservedNodeState {
  /** Why the node is not ready; empty when it is. */
  readonly notReadyReasons: readonly string[];
  readonly pressure: PressureFlags;
}

interface PressureWording {
  readonly type: 'MemoryPressure' | 'DiskPressure' | 'PIDPressure';
  readonly kind: keyof PressureFlags;
  readonly trueReason: string;
  readonly trueMessage: string;
  readonly falseReason: string;
  readonly falseMessage: string;
}

const PRESSURE_CONDITIONS: readonly PressureWording[] = [
  {
    type: 'MemoryPressure',
    kind: 'memory',
    trueReason: 'KubeletHasInsufficientMemory',
    trueMessage: 'kubelet has insufficient memory available',
    falseReason: 'KubeletHasSufficientMemory',
    falseMessage: 'kubelet has sufficient memory available',
  },
  {
    type: 'DiskPressure',
    kind: 'disk',
    trueReason: 'KubeletHasDiskPressure',
    trueMessage: 'kubelet has disk pressure',
    falseReason: 'KubeletHasNoDiskPressure',
    falseMessage: 'kubelet has no disk pressure',
  },
  {
    type: 'PIDPressure',
    kind: 'pid',
    trueReason: 'KubeletHasInsufficientPID',
    trueMessage: 'kubelet has insufficient PID available',
    falseReason: 'KubeletHasSufficientPID',
    falseMessage: 'kubelet has sufficient PID available',
  },
];

export const OWNED_CONDITION_TYPES: readonly string[] = ['MemoryPressure', 'DiskPressure', 'PIDPressure', 'Ready'];

export function computeNodeConditions(prev: readonly NodeCondition[], observed: ObservedNodeState, now: Date): NodeCondition[] {
  const ts = rfc3339(now);
  const out: NodeCondition[] = [...prev];
  const upsert = (next: NodeCondition): void => {
    const i = out.findIndex((c) => c.type === next.type);
    if (i >= 0) out[i] = next;
    else out.push(next);
  };

  for (const w of PRESSURE_CONDITIONS) {
    const old = prev.find((c) => c.type === w.type);
    const status = observed.pressure[w.kind] ? 'True' : 'False';
    if (old !== undefined && old.status === status) {
      upsert({ ...old, lastHeartbeatTime: ts });
    } else {
      upsert({
        type: w.type,
        status,
        lastHeartbeatTime: ts,
        lastTransitionTime: ts,
        reason: status === 'True' ? w.trueReason : w.falseReason,
        message: status === 'True' ? w.trueMessage : w.falseMessage,
      });
    }
  }

  const ready = observed.notReadyReasons.length === 0;
  const oldReady = prev.find((c) => c.type === 'Ready');
  const status = ready ? 'True' : 'False';
  const transition = oldReady !== undefined && oldReady.status === status && oldReady.lastTransitionTime !== undefined ? oldReady.lastTransitionTime : ts;
  const readyCondition: NodeCondition = {
    type: 'Ready',
    status,
    lastHeartbeatTime: ts,
    lastTransitionTime: transition,
    reason: ready ? 'KubeletReady' : 'KubeletNotReady',
    message: ready ? 'kubelet is posting ready status' : aggregateMessage(observed.notReadyReasons),
  };
  // new, it goes last (after the pressure conditions); existing, it keeps its place, as upstream updates it
  upsert(readyCondition);
  return out;
}

/** Upstream's nodeStatusHasChanged: equal apart from the conditions' heartbeat times. */
export function nodeStatusChanged(a: unknown, b: unknown): boolean {
  return !deepEqual(withoutHeartbeats(a), withoutHeartbeats(b));
}

function withoutHeartbeats(status: unknown): unknown {
  if (typeof status !== 'object' || status === null) return status;
  const s = status as { readonly conditions?: readonly NodeCondition[] };
  if (s.conditions === undefined) return status;
  return { ...s, conditions: s.conditions.map(({ lastHeartbeatTime: _h, ...rest }) => rest) };
}
