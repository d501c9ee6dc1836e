/**
 * Pod GC controller (upstream pkg/controller/podgc, "podgc"): every `gcCheckPeriodMs` (20 s), one
 * pass over the cached pods and nodes deletes terminated pods beyond --terminated-pod-gc-threshold
 * (12500), terminating pods on out-of-service nodes, pods bound to nodes that no longer exist (after a
 * 40 s quarantine and a GET confirming the node is gone) and terminating pods that were never
 * scheduled. Decisions are in podgc-plan.ts.
 *
 * Each deletion: a pod not yet terminal is first marked Failed by a server-side apply of its status
 * (field manager PodGC, with the DisruptionTarget condition for orphans), so nothing observing it sees
 * a Running pod vanish without a reason; then it is force deleted (gracePeriodSeconds 0). A pod already
 * gone is fine. Up to `concurrency` deletions run at once.
 *
 * Cost: one pass is O(pods + nodes) in memory; one GET per node whose quarantine ended; two writes per
 * pod removed. Each pass is counted in the shared controller metrics (knode_controller_syncs_total,
 * sync duration) under `podgc`.
 */
import type { Node } from '../../api/core/node.js';
import type { Pod } from '../../api/core/pod-types.js';
import type { Informer } from '../../lib/client/informer.js';
import { rfc3339 } from '../../lib/clock.js';
import { isNotFound } from '../../lib/client/errors.js';
import { resources } from '../../lib/client/resource.js';
import type { Controller, ControllerContext } from '../controller-manager/controller.js';
import {
  DEFAULT_GC_CHECK_PERIOD_MS,
  DEFAULT_QUARANTINE_MS,
  DEFAULT_TERMINATED_POD_THRESHOLD,
  FIELD_MANAGER,
  planPodGC,
  trackMissingNodes,
} from './podgc-plan.js';
import type { PodGCAction } from './podgc-plan.js';

export interface PodGCOptions {
  /** --terminated-pod-gc-threshold (default 12500; 0 disables GC of terminated pods). */
  readonly terminatedPodThreshold?: number;
  /** How often a pass runs (default 20 s). */
  readonly gcCheckPeriodMs?: number;
  /** How long a node must be missing before its pods go (default 40 s). */
  readonly quarantineMs?: number;
  /** Deletions in flight at once (default 10). */
  readonly concurrency?: number;
}

export class PodGCController implements Controller {
  readonly name = 'podgc';
  private readonly pods: Informer<Pod>;
  private readonly nodes: Informer<Node>;
  private missingSince: ReadonlyMap<string, number> = new Map();

  constructor(
    private readonly ctx: ControllerContext,
    private readonly opts: PodGCOptions = {},
  ) {
    this.pods = ctx.informers.informerFor<Pod>(resources.pods);
    this.nodes = ctx.informers.informerFor<Node>(resources.nodes);
  }

  async run(signal: AbortSignal): Promise<void> {
    await this.ctx.informers.waitForCacheSync(signal).catch(() => undefined);
    const { metrics, log, clock } = this.ctx;
    while (!signal.aborted) {
      const end = metrics.syncDuration.startTimer({ controller: this.name });
      try {
        await this.gc(signal);
        metrics.syncs.inc({ controller: this.name, result: 'ok' });
      } catch (err) {
        metrics.syncs.inc({ controller: this.name, result: 'error' });
        if (!signal.aborted) log.warn({ controller: this.name, err: message(err) }, 'pod GC pass failed; next pass retries');
      } finally {
        end();
      }
      try {
        await clock.sleep(this.opts.gcCheckPeriodMs ?? DEFAULT_GC_CHECK_PERIOD_MS, signal);
      } catch {
        break;
      }
    }
  }

  /** One pass. Throws when any deletion failed (after trying every one). */
  async gc(signal?: AbortSignal): Promise<void> {
    const pods = this.pods.list();
    const nodes = this.nodes.list();
    const names = new Set(nodes.map((n) => n.metadata.name ?? ''));
    const tracked = trackMissingNodes(pods, names, this.missingSince, this.ctx.clock.now().getTime(), this.opts.quarantineMs ?? DEFAULT_QUARANTINE_MS);
    this.missingSince = tracked.since;
    const deletedNodes = new Set<string>();
    for (const node of tracked.candidates) {
      if (await this.nodeGone(node, signal)) deletedNodes.add(node);
    }
    const actions = planPodGC({ pods, nodes, terminatedPodThreshold: this.opts.terminatedPodThreshold ?? DEFAULT_TERMINATED_POD_THRESHOLD, deletedNodes });
    if (actions.length === 0) return;
    this.ctx.log.info({ controller: this.name, pods: actions.length }, 'garbage collecting pods');
    const failures: unknown[] = [];
    const queue = [...actions];
    const worker = async (): Promise<void> => {
      for (let a = queue.shift(); a !== undefined && signal?.aborted !== true; a = queue.shift()) {
        await this.remove(a).catch((err: unknown) => failures.push(err));
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.opts.concurrency ?? 10, actions.length) }, worker));
    if (failures.length > 0) throw new Error(`${failures.length} of ${actions.length} pod deletions failed; first: ${message(failures[0])}`);
  }

  /** The cache lacks it, and the apiserver says NotFound (the cache may lag a node's creation). */
  private async nodeGone(name: string, signal?: AbortSignal): Promise<boolean> {
    if (this.nodes.getByName(name) !== undefined) return false;
    try {
      await this.ctx.client.get(resources.nodes, name, signal !== undefined ? { signal } : {});
      return false;
    } catch (err) {
      if (isNotFound(err)) return true;
      throw err;
    }
  }

  private async remove(action: PodGCAction): Promise<void> {
    const { pod, reason, condition } = action;
    const { client, clock, log } = this.ctx;
    const namespace = pod.metadata.namespace ?? '';
    const name = pod.metadata.name ?? '';
    log.info({ controller: this.name, pod: `${namespace}/${name}`, node: pod.spec.nodeName, reason }, 'PodGC is force deleting Pod');
    try {
      const phase = pod.status?.phase;
      if (phase !== 'Succeeded' && phase !== 'Failed') {
        const status = {
          phase: 'Failed',
          ...(condition !== undefined ? { conditions: [{ ...condition, lastTransitionTime: rfc3339(clock.now()) }] } : {}),
        };
        await client.patch(resources.pods, name, { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace }, status }, { type: 'apply', namespace, subresource: 'status', fieldManager: FIELD_MANAGER, force: true });
      }
      // the uid precondition keeps a pod recreated under the same name (a StatefulSet's) safe
      await client.delete(resources.pods, name, { namespace, gracePeriodSeconds: 0, ...(pod.metadata.uid !== undefined ? { preconditions: { uid: pod.metadata.uid } } : {}) });
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
