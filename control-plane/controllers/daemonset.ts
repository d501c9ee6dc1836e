/**
 * DaemonSet controller (upstream pkg/controller/daemon), controller name `daemonset`: one pod per
 * eligible node, rolled on template changes (RollingUpdate with maxUnavailable or maxSurge) or replaced
 * only when deleted (OnDelete).
 *
 * Loop: DaemonSet, pod and node informers feed a KeyQueue of DaemonSet keys; `sync(key)` claims the
 * namespace's pods (daemonset-claims.ts), and, once earlier creates/deletes are seen by the cache
 * (expectations), runs `planDaemonSet` (daemonset-plan.ts) and applies it: deletes in parallel, creates
 * in slow-start batches (1, 2, 4...; a failing batch stops the rest, as upstream), then the status.
 * Pods are created with a required node affinity on the node's name and no nodeName: the scheduler binds
 * them (upstream since 1.12). Events on the DaemonSet: SuccessfulCreate "Created pod: <name>",
 * SuccessfulDelete "Deleted pod: <name>", FailedCreate/FailedDelete, FailedDaemonPod.
 *
 * Cost: a sync is O(pods in the namespace + nodes); a node change re-queues every DaemonSet only when
 * its labels, taints or spec.nodeName-relevant fields change (not on heartbeats).
 * History: each template gets a ControllerRevision named after its hash (daemonset-history.ts), the
 * hash pods carry as their controller-revision-hash label; `kubectl rollout history|undo` read them.
 */
import type { Node } from '../../api/core/node.js';
import type { Pod } from '../../api/core/pod.js';
import type { ControllerRevision } from '../../api/apps/controllerrevision.js';
import type { DaemonSet, DaemonSetStatus } from '../../api/apps/daemonset.js';
import { matches } from '../../api/labels.js';
import { isAlreadyExists, isConflict, isNotFound } from '../../lib/client/errors.js';
import type { Informer } from '../../lib/client/informer.js';
import { resources } from '../../lib/client/resource.js';
import type { Controller, ControllerContext } from '../controller-manager/controller.js';
import { KeyQueue, objectKey } from '../controller-manager/controller.js';
import { controllerOf, dsSelector, Expectations, planClaims } from './daemonset-claims.js';
import { planDaemonSet } from './daemonset-plan.js';
import { controllerRef, LABEL_REVISION_HASH, newDaemonPod, templateHash } from './daemonset-pods.js';
import { applyHistoryPlan, ownedRevisions, planHistory } from './daemonset-history.js';

const DS = { apiVersion: 'apps/v1', kind: 'DaemonSet' } as const;
const FAILED_POD_BACKOFF_INITIAL_MS = 1_000;
const FAILED_POD_BACKOFF_MAX_MS = 15 * 60_000;

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

export class DaemonSetController implements Controller {
  readonly name = 'daemonset';
  private readonly queue: KeyQueue;
  private readonly daemonSets: Informer<DaemonSet>;
  private readonly pods: Informer<Pod>;
  private readonly nodes: Informer<Node>;
  private readonly revisions: Informer<ControllerRevision>;
  private readonly expectations = new Expectations();
  /** Failed-pod back-off per `<ds key>/<node>`: the next delay and when the current one ends. */
  private readonly failedBackoff = new Map<string, { delayMs: number; untilMs: number }>();
  private signal: AbortSignal | undefined;

  constructor(private readonly ctx: ControllerContext) {
    this.queue = new KeyQueue(this.name, ctx);
    this.daemonSets = ctx.informers.informerFor<DaemonSet>(resources.daemonSets);
    this.pods = ctx.informers.informerFor<Pod>(resources.pods);
    this.nodes = ctx.informers.informerFor<Node>(resources.nodes);
    this.revisions = ctx.informers.informerFor<ControllerRevision>(resources.controllerRevisions);
    this.daemonSets.addEventHandler({
      onAdd: (ds) => this.queue.add(objectKey(ds)),
      onUpdate: (_o, ds) => this.queue.add(objectKey(ds)),
      onDelete: (ds) => {
        this.expectations.forget(objectKey(ds));
        this.queue.add(objectKey(ds));
      },
    });
    this.pods.addEventHandler({
      onAdd: (p) => {
        const key = this.ownerKey(p);
        if (key !== undefined) {
          this.expectations.creationObserved(key);
          this.queue.add(key);
        } else this.enqueueMatching(p);
      },
      onUpdate: (o, p) => {
        const oldKey = this.ownerKey(o);
        const key = this.ownerKey(p);
        if (oldKey !== undefined && oldKey !== key) this.queue.add(oldKey);
        if (key !== undefined) this.queue.add(key);
        else if (JSON.stringify(o.metadata.labels) !== JSON.stringify(p.metadata.labels) || oldKey !== undefined) this.enqueueMatching(p);
      },
      onDelete: (p) => {
        const key = this.ownerKey(p);
        if (key === undefined) return;
        this.expectations.deletionObserved(key, objectKey(p));
        this.queue.add(key);
      },
    });
    const relevant = (n: Node): string => JSON.stringify([n.metadata.labels ?? {}, n.spec?.taints ?? []]);
    this.nodes.addEventHandler({
      onAdd: () => this.enqueueAll(),
      onUpdate: (o, n) => {
        if (relevant(o) !== relevant(n)) this.enqueueAll();
      },
      onDelete: () => this.enqueueAll(),
    });
  }

  async run(signal: AbortSignal): Promise<void> {
    this.signal = signal;
    try {
      await Promise.all([this.daemonSets.waitForSync(signal), this.pods.waitForSync(signal), this.nodes.waitForSync(signal), this.revisions.waitForSync(signal)]);
    } catch {
      return;
    }
    await this.queue.run(signal, (key) => this.sync(key));
  }

  /** The key of the DaemonSet controlling `p`, when that DaemonSet is in the cache with the same uid. */
  private ownerKey(p: Pod): string | undefined {
    const ref = controllerOf(p);
    if (ref === undefined || ref.kind !== 'DaemonSet') return undefined;
    const ds = this.daemonSets.getByName(ref.name, p.metadata.namespace);
    return ds !== undefined && ds.metadata.uid === ref.uid ? objectKey(ds) : undefined;
  }

  private enqueueMatching(p: Pod): void {
    for (const ds of this.daemonSets.list()) {
      if (ds.metadata.namespace === p.metadata.namespace && matches(dsSelector(ds), p.metadata.labels)) this.queue.add(objectKey(ds));
    }
  }

  private enqueueAll(): void {
    for (const ds of this.daemonSets.list()) this.queue.add(objectKey(ds));
  }

  async sync(key: string): Promise<void> {
    const ds = this.daemonSets.get(key);
    if (ds === undefined) {
      this.expectations.forget(key);
      for (const k of this.failedBackoff.keys()) if (k.startsWith(`${key}/`)) this.failedBackoff.delete(k);
      return;
    }
    // being deleted: the garbage collector removes its pods; do not create more (upstream returns too)
    if (ds.metadata.deletionTimestamp !== undefined) return;
    const nowMs = this.ctx.clock.now().getTime();
    const claims = planClaims(ds, this.pods.list());
    await Promise.all([...claims.adopt.map((p) => this.setOwner(p, ds, true)), ...claims.release.map((p) => this.setOwner(p, ds, false))]);
    // the history must not hold the pods back: a failure is logged and retried at the next sync
    await this.syncHistory(ds, claims.owned).catch((err: unknown) => this.ctx.log.warn({ controller: this.name, key, err: message(err) }, 'could not update the ControllerRevisions'));
    const nodes = this.nodes.list();

    const backoff = (node: string): number => Math.max(0, (this.failedBackoff.get(`${key}/${node}`)?.untilMs ?? 0) - nowMs);
    const plan = planDaemonSet(ds, nodes, claims.owned, nowMs, { failedPodBackoffMs: backoff });
    if (this.expectations.satisfied(key, nowMs) && (plan.create.length > 0 || plan.delete.length > 0)) {
      for (const p of plan.failed) {
        const node = p.spec.nodeName ?? '';
        const prev = this.failedBackoff.get(`${key}/${node}`);
        const delayMs = prev === undefined ? FAILED_POD_BACKOFF_INITIAL_MS : Math.min(prev.delayMs * 2, FAILED_POD_BACKOFF_MAX_MS);
        this.failedBackoff.set(`${key}/${node}`, { delayMs, untilMs: nowMs + delayMs });
        this.ctx.events.record(ds, DS, 'Warning', 'FailedDaemonPod', `Found failed daemon pod ${objectKey(p)} on node ${node}, will try to kill it`);
      }
      this.expectations.expect(key, plan.create.length, plan.delete.map(objectKey), nowMs);
      const results = await Promise.all([this.deletePods(ds, key, plan.delete), this.createPods(ds, key, plan.create, plan.hash)]);
      const failure = results.find((r) => r !== undefined);
      if (failure !== undefined) throw failure;
    }
    if (plan.status !== undefined) await this.writeStatus(ds, plan.status);
    if (plan.requeueAfterMs !== undefined) this.queue.addAfter(key, plan.requeueAfterMs, this.signal);
  }

  /** Creates, renumbers and prunes the DaemonSet's ControllerRevisions (daemonset-history.ts). */
  private async syncHistory(ds: DaemonSet, pods: readonly Pod[]): Promise<void> {
    const live = new Set(pods.map((p) => p.metadata.labels?.[LABEL_REVISION_HASH] ?? '').filter((h) => h !== ''));
    const plan = planHistory(ds, ownedRevisions(ds, this.revisions.list()), templateHash(ds), live);
    await applyHistoryPlan(this.ctx.client, ds, plan, controllerRef(ds));
  }

  /**
   * The status through the status subresource. The cache lags our own last write often (a pod event
   * syncs before the DaemonSet's update arrives): on a conflict, once more on a fresh copy, as
   * upstream's storeDaemonSetStatus. The counts come from pods and nodes, not from the object.
   */
  private async writeStatus(ds: DaemonSet, status: DaemonSetStatus): Promise<void> {
    try {
      await this.ctx.client.updateStatus(resources.daemonSets, { ...ds, status });
    } catch (err) {
      if (isNotFound(err)) return;
      if (!isConflict(err)) throw err;
      try {
        const fresh = await this.ctx.client.get<DaemonSet>(resources.daemonSets, ds.metadata.name ?? '', { namespace: ds.metadata.namespace ?? 'default' });
        if (fresh.metadata.uid !== ds.metadata.uid) return;
        await this.ctx.client.updateStatus(resources.daemonSets, { ...fresh, status });
      } catch (again) {
        if (!isNotFound(again)) throw again;
      }
    }
  }

  /** Adopts (adds our controller reference) or releases (removes it); a merge patch guarded by resourceVersion. */
  private async setOwner(p: Pod, ds: DaemonSet, adopt: boolean): Promise<void> {
    const others = (p.metadata.ownerReferences ?? []).filter((r) => r.uid !== ds.metadata.uid);
    const ownerReferences = adopt ? [...others, controllerRef(ds)] : others;
    try {
      await this.ctx.client.patch(
        resources.pods,
        p.metadata.name ?? '',
        { metadata: { ownerReferences, resourceVersion: p.metadata.resourceVersion } },
        { type: 'merge', namespace: p.metadata.namespace ?? 'default' },
      );
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  private async deletePods(ds: DaemonSet, key: string, pods: readonly Pod[]): Promise<unknown> {
    const errors = await Promise.all(
      pods.map(async (p) => {
        const name = p.metadata.name ?? '';
        try {
          await this.ctx.client.delete(resources.pods, name, { namespace: p.metadata.namespace ?? 'default', ...(p.metadata.uid !== undefined ? { preconditions: { uid: p.metadata.uid } } : {}) });
          this.ctx.events.record(ds, DS, 'Normal', 'SuccessfulDelete', `Deleted pod: ${name}`);
          return undefined;
        } catch (err) {
          if (isNotFound(err)) {
            this.expectations.deletionObserved(key, objectKey(p));
            return undefined;
          }
          this.expectations.deletionObserved(key, objectKey(p));
          this.ctx.events.record(ds, DS, 'Warning', 'FailedDelete', `Error deleting: ${message(err)}`);
          return err;
        }
      }),
    );
    return errors.find((e) => e !== undefined);
  }

  /** Upstream slowStartBatch: batches of 1, 2, 4...; the first failing batch skips the rest. */
  private async createPods(ds: DaemonSet, key: string, nodes: readonly string[], hash: string): Promise<unknown> {
    let done = 0;
    let batch = 1;
    while (done < nodes.length) {
      const slice = nodes.slice(done, done + batch);
      const errors = await Promise.all(slice.map((n) => this.createPod(ds, key, n, hash)));
      done += slice.length;
      const failure = errors.find((e) => e !== undefined);
      if (failure !== undefined) {
        this.expectations.creationsSkipped(key, nodes.length - done);
        return failure;
      }
      batch *= 2;
    }
    return undefined;
  }

  private async createPod(ds: DaemonSet, key: string, node: string, hash: string): Promise<unknown> {
    const pod = newDaemonPod(ds, node, hash);
    try {
      const created = await this.ctx.client.create<Pod>(resources.pods, pod, { namespace: ds.metadata.namespace ?? 'default' });
      this.ctx.events.record(ds, DS, 'Normal', 'SuccessfulCreate', `Created pod: ${created.metadata.name ?? ''}`);
      return undefined;
    } catch (err) {
      this.expectations.creationsSkipped(key, 1);
      this.ctx.events.record(ds, DS, 'Warning', 'FailedCreate', `Error creating: ${message(err)}`);
      return err;
    }
  }
}

/** The registry entry's factory. */
export function newDaemonSetController(ctx: ControllerContext): DaemonSetController {
  return new DaemonSetController(ctx);
}
