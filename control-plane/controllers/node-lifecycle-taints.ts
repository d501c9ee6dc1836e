/**
 * Taints the node lifecycle controller owns (the toleration rules every taint reader shares are in
 * api/core/tolerations.ts), and the node-condition -> NoSchedule taint map of
 * `doNoScheduleTaintingPass` (TaintNodesByCondition). Pure functions over plain data.
 *
 * Taints are compared by key and effect, as upstream's `MatchTaint` (value and timeAdded do not count).
 */
import type { Node } from '../../api/core/node.js';
import type { Taint, TaintEffect } from '../../api/core/scheduling.js';

export const TAINT_NOT_READY = 'node.kubernetes.io/not-ready';
export const TAINT_UNREACHABLE = 'node.kubernetes.io/unreachable';
export const TAINT_UNSCHEDULABLE = 'node.kubernetes.io/unschedulable';
export const TAINT_MEMORY_PRESSURE = 'node.kubernetes.io/memory-pressure';
export const TAINT_DISK_PRESSURE = 'node.kubernetes.io/disk-pressure';
export const TAINT_PID_PRESSURE = 'node.kubernetes.io/pid-pressure';
export const TAINT_NETWORK_UNAVAILABLE = 'node.kubernetes.io/network-unavailable';

type ConditionStatus = 'True' | 'False' | 'Unknown';

/** Upstream nodeConditionToTaintKeyStatusMap: which condition status puts which NoSchedule taint. */
const CONDITION_TAINTS: Readonly<Record<string, Partial<Record<ConditionStatus, string>>>> = {
  Ready: { False: TAINT_NOT_READY, Unknown: TAINT_UNREACHABLE },
  MemoryPressure: { True: TAINT_MEMORY_PRESSURE },
  DiskPressure: { True: TAINT_DISK_PRESSURE },
  NetworkUnavailable: { True: TAINT_NETWORK_UNAVAILABLE },
  PIDPressure: { True: TAINT_PID_PRESSURE },
};

/** The NoSchedule taint keys this controller manages (the ones a condition or spec.unschedulable maps to). */
const NO_SCHEDULE_KEYS = new Set<string>([TAINT_UNSCHEDULABLE, ...Object.values(CONDITION_TAINTS).flatMap((m) => Object.values(m))]);

export interface TaintRef {
  readonly key: string;
  readonly effect: TaintEffect;
}

export const sameTaint = (a: TaintRef, b: TaintRef): boolean => a.key === b.key && a.effect === b.effect;

export const noExecuteTaints = (taints: readonly Taint[] | undefined): Taint[] => (taints ?? []).filter((t) => t.effect === 'NoExecute');

export interface TaintChange {
  readonly add: readonly TaintRef[];
  readonly remove: readonly TaintRef[];
}

export const NO_TAINT_CHANGE: TaintChange = { add: [], remove: [] };

/**
 * The NoSchedule taints the node's conditions and spec.unschedulable call for, against the ones it
 * has (upstream doNoScheduleTaintingPass; taints with other keys are left alone).
 */
export function planNoScheduleTaints(node: Node): TaintChange {
  const want: TaintRef[] = [];
  for (const c of node.status?.conditions ?? []) {
    const key = CONDITION_TAINTS[c.type]?.[c.status];
    if (key !== undefined) want.push({ key, effect: 'NoSchedule' });
  }
  if (node.spec?.unschedulable === true) want.push({ key: TAINT_UNSCHEDULABLE, effect: 'NoSchedule' });
  const have = (node.spec?.taints ?? []).filter((t) => t.effect === 'NoSchedule' && NO_SCHEDULE_KEYS.has(t.key));
  return {
    add: want.filter((w) => !have.some((h) => sameTaint(h, w))),
    remove: have.filter((h) => !want.some((w) => sameTaint(h, w))).map(({ key, effect }) => ({ key, effect })),
  };
}

/**
 * What the NoExecute pass (taint-based eviction) does to one node:
 *   add     the node gets its first not-ready/unreachable NoExecute taint: costs a token of its zone's
 *           rate limiter (upstream's zoneNoExecuteTainter, --node-eviction-rate);
 *   swap    it already has the other one (not-ready <-> unreachable): done at once, as upstream;
 *   remove  Ready is True again, or evictions are suspended (every zone fully disrupted);
 *   none    nothing to do.
 */
export type NoExecuteAction =
  | { readonly kind: 'none' }
  | { readonly kind: 'add'; readonly change: TaintChange }
  | { readonly kind: 'swap'; readonly change: TaintChange }
  | { readonly kind: 'remove'; readonly change: TaintChange };

const NOT_READY_NO_EXECUTE: TaintRef = { key: TAINT_NOT_READY, effect: 'NoExecute' };
const UNREACHABLE_NO_EXECUTE: TaintRef = { key: TAINT_UNREACHABLE, effect: 'NoExecute' };

/** `suspended`: the controller is in "all nodes not ready" mode, where it evicts nothing. */
export function planNoExecuteTaint(ready: ConditionStatus | undefined, taints: readonly Taint[] | undefined, suspended: boolean): NoExecuteAction {
  const has = (r: TaintRef): boolean => (taints ?? []).some((t) => sameTaint(t, r));
  const present = [NOT_READY_NO_EXECUTE, UNREACHABLE_NO_EXECUTE].filter(has);
  const removeAll = (): NoExecuteAction => (present.length > 0 ? { kind: 'remove', change: { add: [], remove: present } } : { kind: 'none' });
  if (suspended || ready === 'True') return removeAll();
  // a node that never reported Ready is handled once the controller marks it Unknown (startup grace)
  if (ready === undefined) return { kind: 'none' };
  const want = ready === 'False' ? NOT_READY_NO_EXECUTE : UNREACHABLE_NO_EXECUTE;
  const other = ready === 'False' ? UNREACHABLE_NO_EXECUTE : NOT_READY_NO_EXECUTE;
  if (has(want)) return has(other) ? { kind: 'remove', change: { add: [], remove: [other] } } : { kind: 'none' };
  if (has(other)) return { kind: 'swap', change: { add: [want], remove: [other] } };
  return { kind: 'add', change: { add: [want], remove: [] } };
}

/**
 * The node's taints after `changes`, or undefined when they are unchanged. Added taints get
 * timeAdded = now (upstream SwapNodeControllerTaint stamps every taint it adds).
 */
export function applyTaintChanges(taints: readonly Taint[] | undefined, changes: readonly TaintChange[], now: string): Taint[] | undefined {
  const current = [...(taints ?? [])];
  let next = current;
  for (const c of changes) {
    next = next.filter((t) => !c.remove.some((r) => sameTaint(t, r)));
    for (const a of c.add) if (!next.some((t) => sameTaint(t, a))) next.push({ key: a.key, effect: a.effect, timeAdded: now });
  }
  const same = next.length === current.length && next.every((t, i) => t === current[i]);
  return same ? undefined : next;
}
