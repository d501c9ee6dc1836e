/**
 * The DaemonSet controller's decisions, pure (upstream daemon_controller.go manage/podsShouldBeOnNode,
 * update.go rollingUpdate, updateDaemonSetStatus): from a DaemonSet, the nodes and the pods it owns, which
 * nodes get a new pod, which pods go, and the status to report.
 *
 *   manage   a node that should run the daemon and has no pod gets one; failed (and succeeded) pods are
 *            deleted (unless their node is backing off); extra pods on a node go, oldest kept; pods on a
 *            node where they may not continue (selector, affinity, untolerated NoExecute taint) go. A
 *            pod being deleted still counts as present, so a replacement waits for it to be gone.
 *   rolling  only when manage has nothing to do (upstream: expectations are then satisfied):
 *            maxUnavailable > 0: old pods are deleted (manage then creates the new one) while fewer
 *              than maxUnavailable nodes are unavailable; old pods that are not available go anyway;
 *            maxSurge > 0: a new pod is created beside the old one (up to maxSurge at a time), and
 *              the old one is deleted once the new one is available.
 *   OnDelete only manage: pods are replaced when the user deletes them.
 *   status   desired/current/ready/available/updated/misscheduled counts from the oldest pod per node.
 */
import type { Node } from '../../api/core/node.js';
import type { Pod } from '../../api/core/pod.js';
import type { DaemonSet, DaemonSetStatus } from '../../api/apps/daemonset.js';
import type { IntOrString } from '../../api/apps/common.js';
import type { NodePlacement } from './daemonset-pods.js';
import { compareDaemonPods, daemonPodNode, isPodAvailable, isPodReady, isPodUpdated, LABEL_REVISION_HASH, nodeShouldRunDaemonPod, templateHash } from './daemonset-pods.js';

export interface DaemonSetPlan {
  readonly hash: string;
  /** Nodes to create a daemon pod on. */
  readonly create: readonly string[];
  /** Pods to delete. */
  readonly delete: readonly Pod[];
  /** Failed pods among `delete` (event FailedDaemonPod). */
  readonly failed: readonly Pod[];
  /** The status to write, when it differs from the current one. */
  readonly status?: DaemonSetStatus;
  /** Sync again after this long (minReadySeconds, a failed-pod back-off). */
  readonly requeueAfterMs?: number;
}

export interface PlanOptions {
  /** Milliseconds before a failed pod on this node may be deleted again (upstream failedPodsBackoff). */
  readonly failedPodBackoffMs?: (node: string) => number;
}

const isTerminal = (p: Pod): boolean => p.status?.phase === 'Failed' || p.status?.phase === 'Succeeded';
const isDeleting = (p: Pod): boolean => p.metadata.deletionTimestamp !== undefined;

/** Upstream GetScaledValueFromIntOrPercent rounding up. */
export function scaledValue(v: IntOrString | undefined, total: number): number {
  if (v === undefined) return 0;
  if (typeof v === 'number') return v;
  const m = /^(\d+)%$/.exec(v);
  if (m?.[1] !== undefined) return Math.ceil((Number(m[1]) * total) / 100);
  return /^\d+$/.test(v) ? Number(v) : 0;
}

function byNode(pods: readonly Pod[], keep: (p: Pod) => boolean): Map<string, Pod[]> {
  const out = new Map<string, Pod[]>();
  for (const p of pods) {
    const n = daemonPodNode(p);
    if (n === undefined || !keep(p)) continue;
    const list = out.get(n) ?? [];
    list.push(p);
    out.set(n, list);
  }
  for (const list of out.values()) list.sort(compareDaemonPods);
  return out;
}

export function planDaemonSet(ds: DaemonSet, nodes: readonly Node[], pods: readonly Pod[], nowMs: number, opts: PlanOptions = {}): DaemonSetPlan {
  const hash = templateHash(ds);
  const generation = ds.metadata.generation;
  const minReady = ds.spec.minReadySeconds ?? 0;
  const placement = new Map<string, NodePlacement>(nodes.map((n) => [n.metadata.name ?? '', nodeShouldRunDaemonPod(ds, n)]));
  const rolling = ds.spec.updateStrategy?.type !== 'OnDelete';
  const ru = ds.spec.updateStrategy?.rollingUpdate;
  const allowsSurge = rolling && scaledValue(ru?.maxSurge, 1) > 0;

  // ---- manage ----
  const all = byNode(pods, () => true);
  const create: string[] = [];
  const del: Pod[] = [];
  const failed: Pod[] = [];
  let requeue = Number.POSITIVE_INFINITY;
  for (const node of nodes) {
    const name = node.metadata.name ?? '';
    const { shouldRun, shouldContinueRunning } = placement.get(name) ?? { shouldRun: false, shouldContinueRunning: false };
    const here = all.get(name) ?? [];
    if (shouldRun && here.length === 0) {
      create.push(name);
    } else if (shouldContinueRunning) {
      const running: Pod[] = [];
      for (const p of here) {
        if (isDeleting(p)) continue;
        if (isTerminal(p)) {
          const wait = p.status?.phase === 'Failed' ? (opts.failedPodBackoffMs?.(name) ?? 0) : 0;
          if (wait > 0) {
            requeue = Math.min(requeue, wait);
            continue;
          }
          del.push(p);
          if (p.status?.phase === 'Failed') failed.push(p);
        } else running.push(p);
      }
      if (!allowsSurge) {
        del.push(...running.slice(1));
      } else {
        // surge: keep the oldest new pod and the oldest old one; the old one goes once it is not ready
        // or the new one is available; with neither ready, only the new one stays
        let newest: Pod | undefined;
        let oldest: Pod | undefined;
        for (const p of running) {
          const isNew = p.metadata.labels?.[LABEL_REVISION_HASH] === hash;
          if (isNew && newest === undefined) newest = p;
          else if (!isNew && oldest === undefined) oldest = p;
          else del.push(p);
        }
        if (newest !== undefined && oldest !== undefined && (!isPodReady(oldest) || isPodAvailable(newest, minReady, nowMs))) del.push(oldest);
      }
    } else if (here.length > 0) {
      del.push(...here.filter((p) => !isDeleting(p)));
    }
  }
  // pods not yet bound whose node is gone (bound ones are pod GC's)
  const known = new Set(placement.keys());
  for (const [n, list] of all) if (!known.has(n)) del.push(...list.filter((p) => !p.spec.nodeName && !isDeleting(p)));

  // ---- rolling update (only when manage is idle) ----
  const live = byNode(pods, (p) => !isDeleting(p) && !isTerminal(p));
  if (rolling && create.length === 0 && del.length === 0) {
    const roll = planRollingUpdate(ds, live, placement, hash, nowMs);
    create.push(...roll.create);
    del.push(...roll.delete);
  }

  // ---- status ----
  const status = computeStatus(ds, nodes, placement, live, hash, generation, nowMs);
  if (minReady > 0 && status.numberReady !== (status.numberAvailable ?? 0)) requeue = Math.min(requeue, minReady * 1000);
  return {
    hash,
    create,
    delete: del,
    failed,
    ...(statusChanged(ds.status, status) ? { status } : {}),
    ...(Number.isFinite(requeue) ? { requeueAfterMs: requeue } : {}),
  };
}

function planRollingUpdate(
  ds: DaemonSet,
  live: ReadonlyMap<string, Pod[]>,
  placement: ReadonlyMap<string, NodePlacement>,
  hash: string,
  nowMs: number,
): { create: string[]; delete: Pod[] } {
  const generation = ds.metadata.generation;
  const minReady = ds.spec.minReadySeconds ?? 0;
  const ru = ds.spec.updateStrategy?.rollingUpdate;
  const nodeToPods = new Map<string, Pod[]>(live);
  let desired = 0;
  for (const [name, p] of placement) {
    if (!p.shouldRun) continue;
    desired++;
    if (!nodeToPods.has(name)) nodeToPods.set(name, []);
  }
  let maxUnavailable = scaledValue(ru?.maxUnavailable, desired);
  const maxSurge = scaledValue(ru?.maxSurge, desired);
  if (desired > 0 && maxUnavailable === 0 && maxSurge === 0) maxUnavailable = 1;
  const available = (p: Pod): boolean => isPodAvailable(p, minReady, nowMs);

  const split = (list: readonly Pod[]): { ok: boolean; fresh?: Pod; old?: Pod } => {
    let fresh: Pod | undefined;
    let old: Pod | undefined;
    for (const p of list) {
      if (isPodUpdated(p, hash, generation)) {
        if (fresh !== undefined) return { ok: false };
        fresh = p;
      } else {
        if (old !== undefined) return { ok: false };
        old = p;
      }
    }
    return { ok: true, ...(fresh ? { fresh } : {}), ...(old ? { old } : {}) };
  };
  // node names in order, so the plan does not depend on map insertion order
  const names = [...nodeToPods.keys()].sort();

  if (maxSurge === 0) {
    let unavailable = 0;
    const replace: Pod[] = [];
    const candidates: Pod[] = [];
    for (const name of names) {
      const { ok, fresh, old } = split(nodeToPods.get(name) ?? []);
      if (!ok || (fresh === undefined) === (old === undefined)) {
        unavailable++; // manage is still creating or deleting here
      } else if (fresh !== undefined) {
        if (!available(fresh)) unavailable++;
      } else if (old !== undefined) {
        if (!available(old)) replace.push(old);
        else if (unavailable < maxUnavailable) candidates.push(old);
      }
    }
    const room = Math.min(Math.max(0, maxUnavailable - unavailable), candidates.length);
    return { create: [], delete: [...replace, ...candidates.slice(0, room)] };
  }

  let surging = 0;
  const oldToDelete: Pod[] = [];
  const allowed: string[] = [];
  const candidates: string[] = [];
  for (const name of names) {
    const { ok, fresh, old } = split(nodeToPods.get(name) ?? []);
    if (!ok) {
      surging++;
      continue;
    }
    if (old === undefined) continue; // manage creates or keeps the new pod
    if (fresh === undefined) {
      if (!available(old)) {
        if (placement.get(name)?.shouldRun === true) allowed.push(name);
      } else if (surging < maxSurge) candidates.push(name);
    } else if (!available(fresh)) {
      surging++;
    } else {
      oldToDelete.push(old);
    }
  }
  const room = Math.min(Math.max(0, maxSurge - surging), candidates.length);
  return { create: [...allowed, ...candidates.slice(0, room)], delete: oldToDelete };
}

function computeStatus(
  ds: DaemonSet,
  nodes: readonly Node[],
  placement: ReadonlyMap<string, NodePlacement>,
  live: ReadonlyMap<string, Pod[]>,
  hash: string,
  generation: number | undefined,
  nowMs: number,
): DaemonSetStatus {
  let desired = 0;
  let current = 0;
  let ready = 0;
  let available = 0;
  let updated = 0;
  let misscheduled = 0;
  for (const node of nodes) {
    const name = node.metadata.name ?? '';
    const pods = live.get(name) ?? [];
    if (placement.get(name)?.shouldRun === true) {
      desired++;
      const oldest = pods[0];
      if (oldest === undefined) continue;
      current++;
      if (isPodReady(oldest)) {
        ready++;
        if (isPodAvailable(oldest, ds.spec.minReadySeconds ?? 0, nowMs)) available++;
      }
      if (isPodUpdated(oldest, hash, generation)) updated++;
    } else if (pods.length > 0) {
      misscheduled++;
    }
  }
  const unavailable = desired - available;
  // Go's omitempty: zero counters other than the four required ones are left out
  return {
    currentNumberScheduled: current,
    numberMisscheduled: misscheduled,
    desiredNumberScheduled: desired,
    numberReady: ready,
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
    ...(updated > 0 ? { updatedNumberScheduled: updated } : {}),
    ...(available > 0 ? { numberAvailable: available } : {}),
    ...(unavailable > 0 ? { numberUnavailable: unavailable } : {}),
    ...(ds.status?.collisionCount !== undefined ? { collisionCount: ds.status.collisionCount } : {}),
    ...(ds.status?.conditions !== undefined ? { conditions: ds.status.conditions } : {}),
  };
}

const STATUS_FIELDS = [
  'currentNumberScheduled',
  'numberMisscheduled',
  'desiredNumberScheduled',
  'numberReady',
  'observedGeneration',
  'updatedNumberScheduled',
  'numberAvailable',
  'numberUnavailable',
] as const;

function statusChanged(old: DaemonSetStatus | undefined, next: DaemonSetStatus): boolean {
  return STATUS_FIELDS.some((k) => (old?.[k] ?? 0) !== (next[k] ?? 0));
}
