/**
 * The text of a scheduling failure, worded as upstream's FitError (pure). It is both the
 * FailedScheduling event message and the PodScheduled=False condition message:
 *
 *   0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had untolerated taint {key: value}.
 *   preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod,
 *   2 Preemption is not helpful for scheduling.
 *
 * Each entry is "<count> <reason>" over the nodes, the entries sorted as strings (upstream's
 * sort.Strings, so "10 ..." sorts before "2 ..."). knode does not preempt: for nodes where the failure
 * is one that evicting pods could fix (resources, ports, anti-affinity) the preemption part says
 * upstream's "No preemption victims found for incoming pod" (what upstream says when no lower-priority
 * pod can be evicted), elsewhere "Preemption is not helpful for scheduling"; a pod with
 * preemptionPolicy Never gets upstream's "not eligible due to preemptionPolicy=Never.".
 */
import type { FilterFailure } from './filters.js';

export const NO_NODES_AVAILABLE = 'no nodes available to schedule pods';
export const PREEMPTION_NOT_HELPFUL = 'Preemption is not helpful for scheduling';
export const NO_PREEMPTION_VICTIMS = 'No preemption victims found for incoming pod';
export const PREEMPTION_NEVER = 'not eligible due to preemptionPolicy=Never.';

/** "1 a, 2 b": counts of each reason, formatted and sorted like upstream's sortReasonsHistogram. */
export function reasonHistogram(reasons: Iterable<string>): string {
  const counts = new Map<string, number>();
  for (const r of reasons) counts.set(r, (counts.get(r) ?? 0) + 1);
  const entries = [...counts].map(([reason, n]) => `${n} ${reason}`);
  entries.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return entries.join(', ');
}

export function buildFitErrorMessage(numAllNodes: number, failures: readonly FilterFailure[], preemptionNever: boolean): string {
  if (numAllNodes === 0) return NO_NODES_AVAILABLE;
  const head = `0/${numAllNodes} nodes are available:`;
  const filterMsg = reasonHistogram(failures.flatMap((f) => f.reasons));
  let msg = filterMsg !== '' ? `${head} ${filterMsg}.` : head;
  if (preemptionNever) {
    msg += ` preemption: ${PREEMPTION_NEVER}`;
  } else {
    const post = reasonHistogram(failures.map((f) => (f.resolvable ? NO_PREEMPTION_VICTIMS : PREEMPTION_NOT_HELPFUL)));
    msg += ` preemption: ${head} ${post}.`;
  }
  return msg;
}
