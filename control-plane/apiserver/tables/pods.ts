/**
 * The pod row of `kubectl get pods`: READY, STATUS and RESTARTS summarise the container statuses the
 * way upstream's printPod does, so users read the states they know (CrashLoopBackOff, Init:1/2,
 * Completed, Terminating...). The rules, in the order they apply:
 *  1. STATUS starts as status.reason, else status.phase; a SchedulingGated PodScheduled condition wins.
 *  2. Init containers in order: the first one not finished decides `Init:<reason>`, `Init:ExitCode:N`,
 *     `Init:Signal:N` or `Init:i/n` (restartable "sidecar" init containers that started are skipped).
 *  3. Once initialised, app containers from last to first: a waiting or terminated reason overwrites
 *     STATUS, so the first container's state shows; `Completed` with a container still running reads
 *     `Running` (or `NotReady` without the Ready condition).
 *  4. A deletion timestamp shows `Terminating`, or `Unknown` for pods on an unreachable node (NodeLost).
 */
import { humanDuration, parseTimestamp } from './duration.js';
import type { Fields, TableCell, TableColumnDefinition } from './format.js';
import type { Printer, TableRowCondition } from './printer.js';
import { ageColumn, ageOf, arr, at, col, count, nameColumn, nameOf, rec, text } from './format.js';

const podColumns: readonly TableColumnDefinition[] = [
  nameColumn,
  col('Ready', 'string', 'The aggregate readiness state of this pod for accepting traffic.'),
  col('Status', 'string', 'The aggregate status of the containers in this pod.'),
  col('Restarts', 'string', 'Container restarts in this pod, and how long ago the last one happened.'),
  ageColumn,
  col('IP', 'string', 'The IP address allocated to the pod.', { priority: 1 }),
  col('Node', 'string', 'The node the pod is scheduled to.', { priority: 1 }),
  col('Nominated Node', 'string', 'The node the scheduler preempted pods on for this pod.', { priority: 1 }),
  col('Readiness Gates', 'string', 'Readiness gates that are met, out of those the pod declares.', { priority: 1 }),
];

export interface PodSummary {
  /** `ready/total` containers, restartable init containers counted. */
  readonly ready: string;
  readonly status: string;
  /** `N` or `N (5m ago)`. */
  readonly restarts: string;
}

/** Why upstream marks a pod unreachable before the node lifecycle controller deletes it. */
const NODE_UNREACHABLE_REASON = 'NodeLost';

function isRestartable(container: Fields | undefined): boolean {
  return text(container?.restartPolicy) === 'Always';
}

function hasCondition(pod: unknown, type: string, pred: (c: Fields) => boolean): boolean {
  return arr(at(pod, 'status', 'conditions')).map(rec).some((c) => text(c.type) === type && pred(c));
}

function terminationReason(term: Fields, prefix: string): string {
  const reason = text(term.reason);
  if (reason !== '') return `${prefix}${reason}`;
  const signal = count(term.signal);
  return signal !== 0 ? `${prefix}Signal:${signal}` : `${prefix}ExitCode:${count(term.exitCode)}`;
}

/** READY, STATUS and RESTARTS of a pod at time `now`. */
export function summarizePod(pod: unknown, now: Date): PodSummary {
  const spec = rec(at(pod, 'spec'));
  const status = rec(at(pod, 'status'));
  const initSpecs = arr(spec.initContainers).map(rec);
  const initByName = new Map(initSpecs.map((c) => [text(c.name), c]));
  const total = arr(spec.containers).length + initSpecs.filter(isRestartable).length;
  let ready = 0;
  let restarts = 0;
  let sidecarRestarts = 0;
  let lastRestart: number | undefined;
  let lastSidecarRestart: number | undefined;
  const later = (a: number | undefined, b: number | undefined): number | undefined =>
    a === undefined ? b : b === undefined ? a : Math.max(a, b);

  const phase = text(status.phase);
  let reason = text(status.reason) !== '' ? text(status.reason) : phase;
  if (hasCondition(pod, 'PodScheduled', (c) => text(c.reason) === 'SchedulingGated')) reason = 'SchedulingGated';

  const initStatuses = arr(status.initContainerStatuses).map(rec);
  let initializing = false;
  for (let i = 0; i < initStatuses.length; i++) {
    const c = initStatuses[i] ?? {};
    const finishedAt = parseTimestamp(at(c, 'lastState', 'terminated', 'finishedAt'));
    restarts += count(c.restartCount);
    lastRestart = later(lastRestart, finishedAt);
    const sidecar = isRestartable(initByName.get(text(c.name)));
    if (sidecar) {
      sidecarRestarts += count(c.restartCount);
      lastSidecarRestart = later(lastSidecarRestart, finishedAt);
    }
    const state = rec(c.state);
    const terminated = state.terminated === undefined ? undefined : rec(state.terminated);
    const waitingReason = text(at(state, 'waiting', 'reason'));
    if (terminated && count(terminated.exitCode) === 0) continue;
    if (sidecar && c.started === true) {
      if (c.ready === true) ready++;
      continue;
    }
    if (terminated) reason = terminationReason(terminated, 'Init:');
    else if (waitingReason !== '' && waitingReason !== 'PodInitializing') reason = `Init:${waitingReason}`;
    else reason = `Init:${i}/${initSpecs.length}`;
    initializing = true;
    break;
  }

  if (!initializing || hasCondition(pod, 'Initialized', (c) => text(c.status) === 'True')) {
    // Only sidecar restarts carry over: finished init containers no longer matter once the pod runs.
    restarts = sidecarRestarts;
    lastRestart = lastSidecarRestart;
    let hasRunning = false;
    const statuses = arr(status.containerStatuses).map(rec);
    for (let i = statuses.length - 1; i >= 0; i--) {
      const c = statuses[i] ?? {};
      restarts += count(c.restartCount);
      lastRestart = later(lastRestart, parseTimestamp(at(c, 'lastState', 'terminated', 'finishedAt')));
      const state = rec(c.state);
      const waitingReason = text(at(state, 'waiting', 'reason'));
      if (waitingReason !== '') reason = waitingReason;
      else if (state.terminated !== undefined) reason = terminationReason(rec(state.terminated), '');
      else if (c.ready === true && state.running !== undefined) {
        hasRunning = true;
        ready++;
      }
    }
    if (reason === 'Completed' && hasRunning) {
      reason = hasCondition(pod, 'Ready', (c) => text(c.status) === 'True') ? 'Running' : 'NotReady';
    }
  }

  const deleting = at(pod, 'metadata', 'deletionTimestamp') !== undefined && at(pod, 'metadata', 'deletionTimestamp') !== null;
  if (deleting && text(status.reason) === NODE_UNREACHABLE_REASON) reason = 'Unknown';
  else if (deleting && phase !== 'Succeeded' && phase !== 'Failed') reason = 'Terminating';

  const restartsText =
    restarts !== 0 && lastRestart !== undefined
      ? `${restarts} (${humanDuration(now.getTime() - lastRestart)} ago)`
      : String(restarts);
  return { ready: `${ready}/${total}`, status: reason, restarts: restartsText };
}

function podCells(pod: unknown, now: Date): TableCell[] {
  const s = summarizePod(pod, now);
  const spec = rec(at(pod, 'spec'));
  const status = rec(at(pod, 'status'));
  const orNone = (v: string): string => (v === '' ? '<none>' : v);
  const gates = arr(spec.readinessGates).map((g) => text(rec(g).conditionType));
  let gatesText = '<none>';
  if (gates.length > 0) {
    const conditions = arr(status.conditions).map(rec);
    // The first condition of each gate's type decides, as upstream looks no further.
    const met = gates.filter((t) => text(conditions.find((c) => text(c.type) === t)?.status) === 'True').length;
    gatesText = `${met}/${gates.length}`;
  }
  return [
    nameOf(pod),
    s.ready,
    s.status,
    s.restarts,
    ageOf(pod, now),
    // podIPs is what upstream reads; podIP covers writers that only fill the older field.
    orNone(text(rec(arr(status.podIPs)[0]).ip) || text(status.podIP)),
    orNone(text(spec.nodeName)),
    orNone(text(status.nominatedNodeName)),
    gatesText,
  ];
}

/** Finished pods carry a Completed row condition, which lets clients hide or grey them out. */
function podConditions(pod: unknown): TableRowCondition[] {
  switch (text(at(pod, 'status', 'phase'))) {
    case 'Succeeded':
      return [{ type: 'Completed', status: 'True', reason: 'Succeeded', message: 'The pod has completed successfully.' }];
    case 'Failed':
      return [{ type: 'Completed', status: 'True', reason: 'Failed', message: 'The pod failed.' }];
    default:
      return [];
  }
}

export const podPrinter: Printer = { columns: podColumns, cells: podCells, conditions: podConditions };
