/**
 * The taint manager loop (upstream NoExecuteTaintManager): a work queue of NODE names; syncing a node
 * runs `planEvictions` over the pods bound to it and its NoExecute taints, deletes what must go now
 * (through a pods/s token bucket), and re-queues the node for the earliest pending deadline. A pod or
 * node change re-queues the node, so a toleration added or a taint removed cancels a pending eviction.
 *
 * An eviction, as upstream: event TaintManagerEviction "Marking for deletion Pod ns/name" on the pod,
 * condition DisruptionTarget=True (reason DeletionByTaintManager) through pods/status, then a delete
 * with the pod's uid as precondition (the pod's own grace period applies). A cancelled one gets
 * "Cancelling deletion of Pod ns/name".
 *
 * Cost: one pass over a node's pods per sync; one pending timer per node; memory for the pods
 * waiting out a toleration and the first-seen time of user-added taints without timeAdded.
 */
import type { Node } from '../../api/core/node.js';
import type { Pod } from '../../api/core/pod.js';
import type { Taint } from '../../api/core/scheduling.js';
import { isConflict, isNotFound } from '../../lib/client/errors.js';
import type { Informer } from '../../lib/client/informer.js';
import { resources } from '../../lib/client/resource.js';
import { rfc3339 } from '../../lib/clock.js';
import type { ControllerContext } from '../controller-manager/controller.js';
import { KeyQueue, objectKey } from '../controller-manager/controller.js';
import {
  DISRUPTION_TARGET,
  EVENT_TAINT_MANAGER_EVICTION,
  MESSAGE_DELETION_BY_TAINT_MANAGER,
  REASON_DELETION_BY_TAINT_MANAGER,
  TokenBucket,
  planEvictions,
} from './node-lifecycle-eviction.js';
import { noExecuteTaints } from './node-lifecycle-taints.js';

const POD = { apiVersion: 'v1', kind: 'Pod' } as const;

/** Pod keys by spec.nodeName, kept from the shared pod informer (upstream's pod-by-node indexer). */
export class PodsByNode {
  private readonly byNode = new Map<string, Set<string>>();

  constructor(private readonly pods: Informer<Pod>) {
    pods.addEventHandler({
      onAdd: (p) => this.put(p),
      onUpdate: (o, p) => {
        this.drop(o);
        this.put(p);
      },
      onDelete: (p) => this.drop(p),
    });
  }

  private put(p: Pod): void {
    const n = p.spec?.nodeName;
    if (!n) return;
    let s = this.byNode.get(n);
    if (s === undefined) this.byNode.set(n, (s = new Set()));
    s.add(objectKey(p));
  }

  private drop(p: Pod): void {
    const n = p.spec?.nodeName;
    if (!n) return;
    const s = this.byNode.get(n);
    s?.delete(objectKey(p));
    if (s?.size === 0) this.byNode.delete(n);
  }

  podsOn(node: string): Pod[] {
    const out: Pod[] = [];
    for (const k of this.byNode.get(node) ?? []) {
      const p = this.pods.get(k);
      if (p !== undefined && p.spec.nodeName === node) out.push(p);
    }
    return out;
  }
}

export interface TaintManagerOptions {
  /** Pod deletions per second (a token bucket); 10 by default. */
  readonly podEvictionRate: number;
  readonly podEvictionBurst: number;
}

const taintId = (node: string, t: Taint): string => `${node}\u0000${t.key}\u0000${t.effect}`;

export class TaintManager {
  readonly queue: KeyQueue;
  private readonly bucket: TokenBucket;
  /** Pods with an eviction pending (waiting out a toleration or a token), by pod key -> node. */
  private readonly pending = new Map<string, string>();
  private readonly firstSeen = new Map<string, number>();
  private readonly wakeAt = new Map<string, number>();
  /**
   * Uids of pods this manager already evicted: the cache may show such a pod without its
   * deletionTimestamp for a moment (the status patch comes first), which must not evict it twice.
   * Forgotten when the pod is gone.
   */
  private readonly evicted = new Set<string>();
  private signal: AbortSignal | undefined;

  constructor(
    private readonly ctx: ControllerContext,
    private readonly nodes: Informer<Node>,
    pods: Informer<Pod>,
    private readonly index: PodsByNode,
    opts: TaintManagerOptions,
  ) {
    this.queue = new KeyQueue('taint-eviction', ctx);
    this.bucket = new TokenBucket(opts.podEvictionRate, opts.podEvictionBurst, ctx.clock.now().getTime());
    const tainted = (n: string | undefined): boolean => !!n && noExecuteTaints(this.nodes.getByName(n)?.spec?.taints).length > 0;
    pods.addEventHandler({
      onAdd: (p) => {
        if (tainted(p.spec?.nodeName)) this.queue.add(p.spec.nodeName ?? '');
      },
      onUpdate: (_o, p) => {
        if (tainted(p.spec?.nodeName) || this.pending.has(objectKey(p))) this.queue.add(p.spec.nodeName ?? '');
      },
      onDelete: (p) => {
        this.pending.delete(objectKey(p));
        if (p.metadata.uid !== undefined) this.evicted.delete(p.metadata.uid);
      },
    });
    nodes.addEventHandler({
      onAdd: (n) => {
        if (noExecuteTaints(n.spec?.taints).length > 0) this.queue.add(n.metadata.name ?? '');
      },
      onUpdate: (o, n) => {
        if (JSON.stringify(noExecuteTaints(o.spec?.taints)) !== JSON.stringify(noExecuteTaints(n.spec?.taints))) this.queue.add(n.metadata.name ?? '');
      },
      onDelete: (n) => this.queue.add(n.metadata.name ?? ''),
    });
  }

  async run(signal: AbortSignal): Promise<void> {
    this.signal = signal;
    await this.queue.run(signal, (node) => this.sync(node));
  }

  async sync(nodeName: string): Promise<void> {
    if (nodeName === '') return;
    const nowMs = this.ctx.clock.now().getTime();
    const node = this.nodes.getByName(nodeName);
    // a deleted node evicts nothing: pod GC removes its pods (upstream cancels pending evictions too)
    const taints = noExecuteTaints(node?.spec?.taints);
    this.forgetGoneTaints(nodeName, taints);
    const seen = (t: Taint): number => {
      const id = taintId(nodeName, t);
      const at = this.firstSeen.get(id) ?? nowMs;
      this.firstSeen.set(id, at);
      return at;
    };
    let wake = Number.POSITIVE_INFINITY;
    const failures: unknown[] = [];
    const pods = this.index.podsOn(nodeName).filter((p) => p.metadata.uid === undefined || !this.evicted.has(p.metadata.uid));
    for (const d of planEvictions(pods, taints, nowMs, seen)) {
      const key = objectKey(d.pod);
      switch (d.kind) {
        case 'keep':
          if (this.pending.delete(key)) {
            this.ctx.events.record(d.pod, POD, 'Normal', EVENT_TAINT_MANAGER_EVICTION, `Cancelling deletion of Pod ${key}`);
          }
          break;
        case 'wait':
          this.pending.set(key, nodeName);
          wake = Math.min(wake, d.atMs);
          break;
        case 'evict':
          if (!this.bucket.tryTake(nowMs)) {
            this.pending.set(key, nodeName);
            wake = Math.min(wake, nowMs + Math.max(1, this.bucket.waitMs(nowMs)));
            break;
          }
          try {
            await this.evict(d.pod);
            this.pending.delete(key);
            if (d.pod.metadata.uid !== undefined) this.evicted.add(d.pod.metadata.uid);
          } catch (err) {
            failures.push(err);
          }
          break;
        default: {
          const never: never = d;
          throw new Error(`unexpected decision ${JSON.stringify(never)}`);
        }
      }
    }
    if (Number.isFinite(wake)) this.wakeNodeAt(nodeName, wake, nowMs);
    if (failures.length > 0) throw failures[0];
  }

  /** Pods whose eviction is pending, for tests and metrics. */
  pendingPods(): string[] {
    return [...this.pending.keys()];
  }

  private forgetGoneTaints(nodeName: string, taints: readonly Taint[]): void {
    const live = new Set(taints.map((t) => taintId(nodeName, t)));
    const prefix = `${nodeName}\u0000`;
    for (const id of this.firstSeen.keys()) if (id.startsWith(prefix) && !live.has(id)) this.firstSeen.delete(id);
  }

  /** One timer per node: a later deadline than the one already set waits for that one's sync. */
  private wakeNodeAt(nodeName: string, atMs: number, nowMs: number): void {
    const current = this.wakeAt.get(nodeName);
    if (current !== undefined && current > nowMs && current <= atMs) return;
    this.wakeAt.set(nodeName, atMs);
    this.ctx.clock.sleep(Math.max(0, atMs - nowMs), this.signal).then(
      () => {
        // forgotten before the sync, so a timer that fired a little early can set the next one
        if (this.wakeAt.get(nodeName) === atMs) this.wakeAt.delete(nodeName);
        this.queue.add(nodeName);
      },
      () => undefined,
    );
  }

  private async evict(pod: Pod): Promise<void> {
    const ns = pod.metadata.namespace ?? 'default';
    const name = pod.metadata.name ?? '';
    this.ctx.events.record(pod, POD, 'Normal', EVENT_TAINT_MANAGER_EVICTION, `Marking for deletion Pod ${ns}/${name}`);
    this.ctx.log.info({ controller: 'taint-eviction', pod: `${ns}/${name}`, node: pod.spec.nodeName }, 'evicting pod from a NoExecute-tainted node');
    const already = pod.status?.conditions?.some((c) => c.type === DISRUPTION_TARGET && c.status === 'True' && c.reason === REASON_DELETION_BY_TAINT_MANAGER);
    try {
      if (already !== true) {
        const condition = {
          type: DISRUPTION_TARGET,
          status: 'True',
          reason: REASON_DELETION_BY_TAINT_MANAGER,
          message: MESSAGE_DELETION_BY_TAINT_MANAGER,
          lastTransitionTime: rfc3339(this.ctx.clock.now()),
        };
        await this.ctx.client.patch(resources.pods, name, { status: { conditions: [condition] } }, { type: 'strategic', namespace: ns, subresource: 'status' });
      }
      await this.ctx.client.delete(resources.pods, name, { namespace: ns, ...(pod.metadata.uid !== undefined ? { preconditions: { uid: pod.metadata.uid } } : {}) });
    } catch (err) {
      // gone already, or replaced by a pod of the same name (uid precondition): nothing to evict
      if (isNotFound(err) || isConflict(err)) return;
      throw err;
    }
  }
}
