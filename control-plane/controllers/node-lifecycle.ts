/**
 * Node lifecycle controller (upstream pkg/controller/nodelifecycle, taint-based eviction), controller
 * name `nodelifecycle`.
 *
 * What: every --node-monitor-period (5 s) a monitor pass
 *   1. health: a node whose kubelet has been silent (Lease kube-node-lease/<node> not renewed, Ready
 *      heartbeat not moved) for --node-monitor-grace-period (40 s) gets Ready, MemoryPressure,
 *      DiskPressure and PIDPressure = Unknown, reason NodeStatusUnknown, "Kubelet stopped posting node
 *      status." (node-lifecycle-health.ts), and an event NodeNotReady;
 *   2. zones: from the Ready statuses after step 1, each zone's disruption state sets the rate at which
 *      its nodes may get NoExecute taints (0.1 nodes/s; 0 in a partially disrupted small zone); when
 *      every zone is fully disrupted, evictions stop and NoExecute taints come off (upstream's guard
 *      against the control plane losing its own network);
 *   3. taints, through a KeyQueue of node names also fed by node events: the NoSchedule taints the
 *      conditions call for (not-ready, unreachable, *-pressure, network-unavailable, unschedulable), the
 *      NoExecute taint not-ready (Ready=False) or unreachable (Ready=Unknown), removed once Ready=True;
 *      pods on a node whose Ready is Unknown are marked Ready=False (upstream MarkPodsNotReady).
 * The taint manager (node-lifecycle-taint-manager.ts) then evicts pods that do not tolerate the
 * NoExecute taints, after their tolerationSeconds, at most --pod-eviction-rate pods/s.
 *
 * Cost: a monitor pass is O(nodes) over informer caches and writes only what changes; a node sync is
 * O(pods on the node). Leases are read from the cache only (no event per renewal).
 * Deviation: upstream rate-limits tainting only; we also pace pod deletions (token bucket, 10 pods/s).
 */
import type { Node } from '../../api/core/node.js';
import type { Pod } from '../../api/core/pod.js';
import type { Lease } from '../../api/coordination/lease.js';
import { isConflict, isNotFound } from '../../lib/client/errors.js';
import type { Informer } from '../../lib/client/informer.js';
import { resources } from '../../lib/client/resource.js';
import { rfc3339 } from '../../lib/clock.js';
import type { Controller, ControllerContext } from '../controller-manager/controller.js';
import { KeyQueue } from '../controller-manager/controller.js';
import { TokenBucket } from './node-lifecycle-eviction.js';
import type { ConditionStatus, HeartbeatRecord, ZoneInfo } from './node-lifecycle-health.js';
import { allZonesFullyDisrupted, computeZoneStates, observeHeartbeat, planNodeHealth, readyCondition, zoneKey, zoneTaintRate } from './node-lifecycle-health.js';
import { PodsByNode, TaintManager } from './node-lifecycle-taint-manager.js';
import type { TaintChange } from './node-lifecycle-taints.js';
import { applyTaintChanges, planNoExecuteTaint, planNoScheduleTaints } from './node-lifecycle-taints.js';

export const NODE_LEASE_NAMESPACE = 'kube-node-lease';

export interface NodeLifecycleOptions {
  readonly nodeMonitorGracePeriodMs?: number;
  readonly nodeStartupGracePeriodMs?: number;
  readonly nodeMonitorPeriodMs?: number;
  /** NoExecute taints per second per zone (--node-eviction-rate). */
  readonly nodeEvictionRate?: number;
  readonly secondaryNodeEvictionRate?: number;
  readonly largeClusterSizeThreshold?: number;
  readonly unhealthyZoneThreshold?: number;
  /** Pod deletions per second by the taint manager. */
  readonly podEvictionRate?: number;
  readonly podEvictionBurst?: number;
}

export const NODE_LIFECYCLE_DEFAULTS: Required<NodeLifecycleOptions> = {
  nodeMonitorGracePeriodMs: 40_000,
  nodeStartupGracePeriodMs: 60_000,
  nodeMonitorPeriodMs: 5_000,
  nodeEvictionRate: 0.1,
  secondaryNodeEvictionRate: 0.01,
  largeClusterSizeThreshold: 50,
  unhealthyZoneThreshold: 0.55,
  podEvictionRate: 10,
  podEvictionBurst: 10,
};

const NODE = { apiVersion: 'v1', kind: 'Node' } as const;
const POD = { apiVersion: 'v1', kind: 'Pod' } as const;

export class NodeLifecycleController implements Controller {
  readonly name = 'nodelifecycle';
  readonly taintManager: TaintManager;
  private readonly opts: Required<NodeLifecycleOptions>;
  private readonly nodes: Informer<Node>;
  private readonly leases: Informer<Lease>;
  private readonly pods: Informer<Pod>;
  private readonly index: PodsByNode;
  private readonly queue: KeyQueue;
  private readonly health = new Map<string, HeartbeatRecord>();
  private readonly zoneBuckets = new Map<string, TokenBucket>();
  private zones = new Map<string, ZoneInfo>();
  /** Every zone fully disrupted: no NoExecute taints (upstream "master disruption mode"). */
  private suspended = false;

  constructor(
    private readonly ctx: ControllerContext,
    options: NodeLifecycleOptions = {},
  ) {
    this.opts = { ...NODE_LIFECYCLE_DEFAULTS, ...options };
    this.nodes = ctx.informers.informerFor<Node>(resources.nodes);
    this.leases = ctx.informers.informerFor<Lease>(resources.leases, { namespace: NODE_LEASE_NAMESPACE });
    this.pods = ctx.informers.informerFor<Pod>(resources.pods);
    this.index = new PodsByNode(this.pods);
    this.queue = new KeyQueue(this.name, ctx);
    this.taintManager = new TaintManager(ctx, this.nodes, this.pods, this.index, {
      podEvictionRate: this.opts.podEvictionRate,
      podEvictionBurst: this.opts.podEvictionBurst,
    });
    this.nodes.addEventHandler({
      onAdd: (n) => {
        const name = n.metadata.name ?? '';
        ctx.events.record(n, NODE, 'Normal', 'RegisteredNode', `Node ${name} event: Registered Node ${name} in Controller`);
        this.queue.add(name);
      },
      onUpdate: (_o, n) => this.queue.add(n.metadata.name ?? ''),
      onDelete: (n) => {
        const name = n.metadata.name ?? '';
        this.health.delete(name);
        ctx.events.record(n, NODE, 'Normal', 'RemovingNode', `Node ${name} event: Removing Node ${name} from Controller`);
      },
    });
  }

  async run(signal: AbortSignal): Promise<void> {
    try {
      await Promise.all([this.nodes.waitForSync(signal), this.leases.waitForSync(signal), this.pods.waitForSync(signal)]);
    } catch {
      return; // aborted before the caches filled
    }
    await Promise.all([this.taintManager.run(signal), this.queue.run(signal, (name) => this.syncTaints(name)), this.monitorLoop(signal)]);
  }

  private async monitorLoop(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      await this.monitorPass();
      await this.ctx.clock.sleep(this.opts.nodeMonitorPeriodMs, signal).catch(() => undefined);
    }
  }

  /** Steps 1 and 2 of the design note, then every node into the taint queue. Never throws. */
  async monitorPass(): Promise<void> {
    const nowMs = this.ctx.clock.now().getTime();
    const readyAfter: Array<{ zone: string; ready: ConditionStatus | undefined }> = [];
    for (const node of this.nodes.list()) {
      const name = node.metadata.name ?? '';
      const record = observeHeartbeat(this.health.get(name), node, this.leases.getByName(name, NODE_LEASE_NAMESPACE), nowMs);
      this.health.set(name, record);
      const plan = planNodeHealth(node, record, nowMs, { gracePeriodMs: this.opts.nodeMonitorGracePeriodMs, startupGracePeriodMs: this.opts.nodeStartupGracePeriodMs });
      readyAfter.push({ zone: zoneKey(node), ready: plan.ready });
      if (plan.conditions === undefined) continue;
      try {
        await this.ctx.client.updateStatus(resources.nodes, { ...node, status: { ...node.status, conditions: plan.conditions } });
        this.ctx.log.info({ controller: this.name, node: name }, 'node stopped posting status; marked Unknown');
        if (plan.observedReady === 'True') this.ctx.events.record(node, NODE, 'Normal', 'NodeNotReady', `Node ${name} status is now: NodeNotReady`);
      } catch (err) {
        // a stale cache (conflict) or a node just deleted: the next pass looks again
        if (!isConflict(err) && !isNotFound(err)) this.ctx.log.warn({ controller: this.name, node: name, err: err instanceof Error ? err.message : String(err) }, 'could not mark node Unknown');
      }
    }
    this.updateZones(readyAfter, nowMs);
    for (const node of this.nodes.list()) this.queue.add(node.metadata.name ?? '');
  }

  private updateZones(readyAfter: readonly { zone: string; ready: ConditionStatus | undefined }[], nowMs: number): void {
    this.zones = computeZoneStates(readyAfter, { unhealthyZoneThreshold: this.opts.unhealthyZoneThreshold });
    const wasSuspended = this.suspended;
    this.suspended = allZonesFullyDisrupted(this.zones);
    if (this.suspended !== wasSuspended) {
      this.ctx.log.warn({ controller: this.name }, this.suspended ? 'every node is not ready: entering master disruption mode (no evictions)' : 'some node is ready again: leaving master disruption mode');
      // coming back, every node gets a fresh grace period, as upstream: their leases went stale together
      if (!this.suspended) for (const [name, r] of this.health) this.health.set(name, { ...r, probeTimeMs: nowMs });
    }
    for (const [zone, info] of this.zones) {
      const rate = zoneTaintRate(info, this.opts);
      const bucket = this.zoneBuckets.get(zone);
      if (bucket === undefined) this.zoneBuckets.set(zone, new TokenBucket(rate, 1, nowMs));
      else bucket.setRate(rate, nowMs);
    }
  }

  /**
   * Step 3 for one node: its controller-owned taints, and its pods' Ready when the node is Unknown.
   * Decided on the cached node; when that is stale (a conflict: kubelets and node IPAM write nodes
   * too), decided again once on a fresh copy, as upstream's SwapNodeControllerTaint retries.
   */
  async syncTaints(name: string): Promise<void> {
    const cached = this.nodes.getByName(name);
    if (cached === undefined) return;
    try {
      await this.applyTaints(cached);
    } catch (err) {
      if (!isConflict(err)) throw err;
      let fresh: Node;
      try {
        fresh = await this.ctx.client.get<Node>(resources.nodes, name);
      } catch (getErr) {
        if (isNotFound(getErr)) return;
        throw getErr;
      }
      await this.applyTaints(fresh);
    }
    if (readyCondition(cached)?.status === 'Unknown') await this.markPodsNotReady(name);
  }

  private async applyTaints(node: Node): Promise<void> {
    const name = node.metadata.name ?? '';
    const now = this.ctx.clock.now();
    const ready = readyCondition(node)?.status;
    const changes: TaintChange[] = [planNoScheduleTaints(node)];
    const action = planNoExecuteTaint(ready, node.spec?.taints, this.suspended);
    let token: TokenBucket | undefined;
    switch (action.kind) {
      case 'none':
        break;
      case 'add':
        token = this.takeZoneToken(node, now.getTime());
        if (token !== undefined) changes.push(action.change);
        break;
      case 'swap':
      case 'remove':
        changes.push(action.change);
        break;
      default: {
        const never: never = action;
        throw new Error(`unexpected action ${JSON.stringify(never)}`);
      }
    }
    const taints = applyTaintChanges(node.spec?.taints, changes, rfc3339(now));
    if (taints !== undefined) {
      // a PUT with the node's resourceVersion: a stale copy conflicts rather than undoing a newer write
      try {
        await this.ctx.client.update(resources.nodes, { ...node, spec: { ...node.spec, taints } });
      } catch (err) {
        token?.giveBack(); // the taint was not added: the zone keeps its token
        throw err;
      }
      this.ctx.log.info({ controller: this.name, node: name, taints: taints.map((t) => `${t.key}:${t.effect}`) }, 'node taints updated');
    }
  }

  /** The zone's bucket when it gave a token; without one, the next monitor pass (which re-queues every node) tries again. */
  private takeZoneToken(node: Node, nowMs: number): TokenBucket | undefined {
    const zone = zoneKey(node);
    let bucket = this.zoneBuckets.get(zone);
    if (bucket === undefined) {
      bucket = new TokenBucket(this.opts.nodeEvictionRate, 1, nowMs);
      this.zoneBuckets.set(zone, bucket);
    }
    return bucket.tryTake(nowMs) ? bucket : undefined;
  }

  /**
   * Upstream MarkPodsNotReady: the kubelet cannot say so itself. Idempotent; a pod whose cached copy
   * is stale (conflict) is left for the next pass, which re-queues every node.
   */
  private async markPodsNotReady(nodeName: string): Promise<void> {
    const now = rfc3339(this.ctx.clock.now());
    let firstError: unknown;
    for (const pod of this.index.podsOn(nodeName)) {
      const conditions = pod.status?.conditions ?? [];
      const i = conditions.findIndex((c) => c.type === 'Ready');
      const c = conditions[i];
      if (c === undefined || c.status === 'False') continue;
      const next = conditions.map((x, j) => (j === i ? { ...x, status: 'False' as const, lastTransitionTime: now } : x));
      try {
        await this.ctx.client.updateStatus(resources.pods, { ...pod, status: { ...pod.status, conditions: next } });
        this.ctx.events.record(pod, POD, 'Warning', 'NodeNotReady', 'Node is not ready');
      } catch (err) {
        if (!isNotFound(err) && !isConflict(err)) firstError ??= err;
      }
    }
    if (firstError !== undefined) throw firstError;
  }
}

/** The registry entry's factory. */
export function newNodeLifecycleController(ctx: ControllerContext, options: NodeLifecycleOptions = {}): NodeLifecycleController {
  return new NodeLifecycleController(ctx, options);
}
