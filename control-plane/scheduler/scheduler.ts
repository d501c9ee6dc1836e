/**
 * The scheduler (upstream's kube-scheduler default profile, the parts issue #5 needs): binds each pending
 * pod (spec.nodeName empty, schedulerName `default-scheduler` or unset, not terminating) to a node
 * through `POST pods/<name>/binding`. Pods with spec.schedulingGates wait until the gates are gone.
 *
 * Design:
 *   informers (pods, nodes, namespaces) -> SchedulerCache (NodeInfos with running request totals) and
 *   SchedulingQueue (active / backoff / unschedulable) -> one scheduling cycle at a time:
 *   computeSchedule (pure filters + scores, schedule.ts) -> assume the pod on the chosen node in the cache
 *   at once (the next pod of a burst sees it) -> bind in the background, at most `bindConcurrency` (16)
 *   in flight; a failed bind forgets the assumption and requeues the pod with back-off.
 *   A pod no node fits gets PodScheduled=False (reason Unschedulable, upstream's FitError message)
 *   through a strategic-merge patch of its status, a Warning FailedScheduling event with the same
 *   message (source `default-scheduler`, repeats folded into `count` by the EventRecorder), and waits
 *   in the unschedulable set for a cluster event that may help or for the periodic flush (queue.ts).
 *   A bound pod gets upstream's Normal `Scheduled` event ("Successfully assigned ns/name to node").
 *
 * Cost model: per pod, one filter pass over at most ~42% of the nodes (a 1,000-node cluster; every
 * node when the pod fits nowhere) at a few comparisons per node, scores over the feasible ones, one
 * binding POST and one event POST. Informer events update the cache in O(1). No list is ever re-read.
 *
 * Runs behind its own lease `kube-system/kube-scheduler` (runScheduler), or as a Controller inside
 * another manager (schedulerController).
 */
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { Registry } from 'prom-client';
import type { Namespace } from '../../api/core/namespace.js';
import type { Node } from '../../api/core/node.js';
import type { Pod } from '../../api/core/pod.js';
import type { Clock } from '../../lib/clock.js';
import { rfc3339 } from '../../lib/clock.js';
import type { KubeClient } from '../../lib/client/client.js';
import { isConflict, isNotFound } from '../../lib/client/errors.js';
import { clientEventSink, EventRecorder } from '../../lib/client/events.js';
import type { Informer } from '../../lib/client/informer.js';
import type { LeaderElectionConfig } from '../../lib/client/leader-election.js';
import { resourcePath, resources } from '../../lib/client/resource.js';
import type { Logger } from '../../lib/log.js';
import type { Controller, ControllerContext } from '../controller-manager/controller.js';
import { runControllerManager } from '../controller-manager/manager.js';
import type { ManagerHandle } from '../controller-manager/manager.js';
import { isTerminal, podKey, SchedulerCache } from './cache.js';
import type { SchedulerMetrics } from './metrics.js';
import { schedulerMetricsFor } from './metrics.js';
import { computePodInfo } from './pod-info.js';
import type { QueuedPod, QueueOptions } from './queue.js';
import { DEFAULT_QUEUE_OPTIONS, SchedulingQueue } from './queue.js';
import { computeSchedule } from './schedule.js';
import { nodeSchedulingChanged, unschedulableCondition } from './status.js';

export const DEFAULT_SCHEDULER_NAME = 'default-scheduler';
const POD: { apiVersion: string; kind: string } = { apiVersion: 'v1', kind: 'Pod' };

export interface SchedulerOptions {
  /** Pods naming this scheduler (or none) are ours. Default `default-scheduler`. */
  readonly schedulerName?: string;
  /** Breaks ties between equally scored nodes; default Math.random. */
  readonly random?: () => number;
  /** Bindings in flight at once (default 16). */
  readonly bindConcurrency?: number;
  /** 1..100, 0 (default) for upstream's adaptive percentage. */
  readonly percentageOfNodesToScore?: number;
  readonly queue?: QueueOptions;
  /** Where the metrics go (default: a private registry). */
  readonly registry?: Registry;
  /** Default: a recorder writing with source `default-scheduler`. */
  readonly events?: EventRecorder;
}

export function schedulerController(ctx: ControllerContext, opts: SchedulerOptions = {}): Controller {
  return new Scheduler(ctx, opts);
}

class Scheduler implements Controller {
  readonly name = 'scheduler';
  private readonly pods: Informer<Pod>;
  private readonly nodes: Informer<Node>;
  private readonly namespaces: Informer<Namespace>;
  readonly cache = new SchedulerCache();
  readonly queue: SchedulingQueue;
  private readonly metrics: SchedulerMetrics;
  private readonly events: EventRecorder;
  private readonly schedulerName: string;
  private readonly random: () => number;
  private readonly bindConcurrency: number;
  private readonly log: Logger;
  private nextStartIndex = 0;
  private binding = 0;
  private slotFreed: (() => void) | undefined;
  private idle: (() => void) | undefined;

  constructor(
    private readonly ctx: ControllerContext,
    private readonly opts: SchedulerOptions,
  ) {
    this.schedulerName = opts.schedulerName ?? DEFAULT_SCHEDULER_NAME;
    this.random = opts.random ?? Math.random;
    this.bindConcurrency = Math.max(1, opts.bindConcurrency ?? 16);
    this.log = ctx.log.child({ controller: 'scheduler' });
    this.metrics = schedulerMetricsFor(opts.registry);
    this.events = opts.events ?? new EventRecorder(clientEventSink(ctx.client), DEFAULT_SCHEDULER_NAME, ctx.clock, this.log);
    this.queue = new SchedulingQueue(ctx.clock, opts.queue ?? DEFAULT_QUEUE_OPTIONS);
    this.pods = ctx.informers.informerFor<Pod>(resources.pods);
    this.nodes = ctx.informers.informerFor<Node>(resources.nodes);
    this.namespaces = ctx.informers.informerFor<Namespace>(resources.namespaces);
    this.nodes.addEventHandler({
      onAdd: (n) => {
        this.cache.addNode(n);
        this.queue.moveOnEvent('NodeAdd');
      },
      onUpdate: (old, n) => {
        this.cache.updateNode(n);
        if (nodeSchedulingChanged(old, n)) this.queue.moveOnEvent('NodeUpdate');
      },
      onDelete: (n) => this.cache.removeNode(n.metadata.name ?? ''),
    });
    this.pods.addEventHandler({
      onAdd: (p) => this.onPodAdd(p),
      onUpdate: (old, p) => this.onPodUpdate(old, p),
      onDelete: (p) => this.onPodDelete(p),
    });
  }

  private responsible(pod: Pod): boolean {
    const name = pod.spec.schedulerName;
    return (name === undefined || name === '' ? DEFAULT_SCHEDULER_NAME : name) === this.schedulerName;
  }

  /** Ours and waiting for a node. A pod with scheduling gates waits until they are all removed (upstream's SchedulingGates). */
  private pending(pod: Pod): boolean {
    return (
      (pod.spec.nodeName ?? '') === '' &&
      pod.metadata.deletionTimestamp === undefined &&
      !isTerminal(pod) &&
      (pod.spec.schedulingGates ?? []).length === 0 &&
      this.responsible(pod)
    );
  }

  private onPodAdd(pod: Pod): void {
    if ((pod.spec.nodeName ?? '') !== '') {
      this.cache.addPod(pod);
      this.queue.moveOnEvent('AssignedPodAdd');
    } else if (this.pending(pod)) {
      this.queue.add(pod, podKey(pod));
    }
    this.updateGauge();
  }

  private onPodUpdate(old: Pod, pod: Pod): void {
    const key = podKey(pod);
    if ((pod.spec.nodeName ?? '') !== '') {
      const wasAssigned = (old.spec.nodeName ?? '') !== '';
      this.queue.delete(key);
      this.cache.updatePod(pod);
      if (!wasAssigned) this.queue.moveOnEvent('AssignedPodAdd');
      else if (isTerminal(pod) && !isTerminal(old)) this.queue.moveOnEvent('AssignedPodDelete');
      else if (JSON.stringify(old.metadata.labels ?? {}) !== JSON.stringify(pod.metadata.labels ?? {})) this.queue.moveOnEvent('AssignedPodUpdate');
    } else if (this.pending(pod)) {
      this.queue.update(pod, key);
    } else {
      this.queue.delete(key);
    }
    this.updateGauge();
  }

  private onPodDelete(pod: Pod): void {
    const key = podKey(pod);
    this.queue.delete(key);
    if (this.cache.nodeOf(key) !== undefined) {
      this.cache.removePod(pod);
      this.queue.moveOnEvent('AssignedPodDelete');
    }
    this.updateGauge();
  }

  private updateGauge(): void {
    const p = this.queue.pending();
    this.metrics.pending.set({ queue: 'active' }, p.active);
    this.metrics.pending.set({ queue: 'backoff' }, p.backoff);
    this.metrics.pending.set({ queue: 'unschedulable' }, p.unschedulable);
  }

  async run(signal: AbortSignal): Promise<void> {
    try {
      await Promise.all([this.pods.waitForSync(signal), this.nodes.waitForSync(signal), this.namespaces.waitForSync(signal)]);
    } catch {
      return; // aborted before the caches filled
    }
    this.log.info({ nodes: this.cache.nodeList().length, pending: this.queue.pending().active }, 'scheduler caches synced');
    const flushing = this.queue.run(signal);
    while (!signal.aborted) {
      while (this.binding >= this.bindConcurrency && !signal.aborted) await new Promise<void>((r) => (this.slotFreed = r));
      const q = await this.queue.pop(signal);
      if (q === undefined) break;
      try {
        this.scheduleOne(q);
      } catch (err) {
        // a bug in a filter must not stop the loop: count it and retry the pod later
        this.metrics.attempts.inc({ result: 'error' });
        this.log.error({ pod: q.key, err: err instanceof Error ? err.message : String(err) }, 'scheduling cycle failed');
        this.queue.addBackoff(q);
      }
      this.updateGauge();
      // let informer events and binding answers in between two cycles
      await yieldToLoop();
    }
    if (this.binding > 0) await new Promise<void>((r) => (this.idle = r));
    await flushing;
    if (this.opts.events === undefined) await this.events.flush();
  }

  private scheduleOne(q: QueuedPod): void {
    const pod = this.pods.get(q.key);
    if (pod === undefined || !this.pending(pod) || this.cache.isAssumed(q.key)) {
      this.queue.done(q.key);
      return;
    }
    const info = computePodInfo(pod);
    const end = this.metrics.algorithmDuration.startTimer();
    const result = computeSchedule(info, this.cache.nodeList(), this.nextStartIndex, {
      percentageOfNodesToScore: this.opts.percentageOfNodesToScore ?? 0,
      random: this.random,
      namespaceLabels: (ns) => this.namespaces.getByName(ns)?.metadata.labels,
      antiAffinityNodes: this.cache.nodesWithRequiredAntiAffinity(),
    });
    end();
    this.nextStartIndex = result.nextStartIndex;
    if (result.kind === 'unschedulable') {
      this.metrics.attempts.inc({ result: 'unschedulable' });
      this.queue.addUnschedulable(q, result.plugins);
      this.log.debug({ pod: q.key, message: result.message }, 'pod is unschedulable');
      this.reportFailure(pod, 'Unschedulable', result.message);
      return;
    }
    this.cache.assume(info, result.nodeName);
    this.binding++;
    void this.bind(q, pod, result.nodeName).finally(() => {
      this.binding--;
      const w = this.slotFreed;
      this.slotFreed = undefined;
      w?.();
      if (this.binding === 0) {
        const i = this.idle;
        this.idle = undefined;
        i?.();
      }
    });
  }

  private async bind(q: QueuedPod, pod: Pod, nodeName: string): Promise<void> {
    const ns = pod.metadata.namespace ?? 'default';
    const name = pod.metadata.name ?? '';
    try {
      await this.ctx.client.request('POST', resourcePath(resources.pods, ns, name, 'binding'), {
        body: {
          apiVersion: 'v1',
          kind: 'Binding',
          metadata: { name, namespace: ns, ...(pod.metadata.uid !== undefined ? { uid: pod.metadata.uid } : {}) },
          target: { apiVersion: 'v1', kind: 'Node', name: nodeName },
        },
      });
      this.queue.done(q.key);
      this.metrics.attempts.inc({ result: 'scheduled' });
      this.metrics.e2eLatency.observe((this.ctx.clock.now().getTime() - q.initialEnqueueMs) / 1000);
      this.events.record(pod, POD, 'Normal', 'Scheduled', `Successfully assigned ${ns}/${name} to ${nodeName}`);
    } catch (err) {
      this.cache.forget(q.key);
      // what we had assumed is free again: pods waiting for room may fit now
      this.queue.moveOnEvent('AssignedPodDelete');
      if (isNotFound(err) || isConflict(err)) {
        // deleted meanwhile, or bound / being deleted: the informer will tell us the rest
        this.queue.done(q.key);
        this.log.debug({ pod: q.key, err: err instanceof Error ? err.message : String(err) }, 'binding refused; dropping the pod from the queue');
        return;
      }
      this.metrics.attempts.inc({ result: 'error' });
      this.queue.addBackoff(q);
      const msg = err instanceof Error ? err.message : String(err);
      this.log.warn({ pod: q.key, node: nodeName, err: msg }, 'binding failed; retrying with back-off');
      this.reportFailure(pod, 'SchedulerError', `Binding rejected: ${msg}`);
    }
    this.updateGauge();
  }

  /** FailedScheduling event and PodScheduled=False, as upstream's handleSchedulingFailure. Never throws. */
  private reportFailure(pod: Pod, reason: 'Unschedulable' | 'SchedulerError', message: string): void {
    this.events.record(pod, POD, 'Warning', 'FailedScheduling', message);
    const patch = unschedulableCondition(pod, reason, message, rfc3339(this.ctx.clock.now()));
    if (patch === undefined) return;
    this.ctx.client
      .patch(resources.pods, pod.metadata.name ?? '', patch, { type: 'strategic', namespace: pod.metadata.namespace ?? 'default', subresource: 'status' })
      .catch((err: unknown) => {
        if (!isNotFound(err)) this.log.warn({ pod: podKey(pod), err: err instanceof Error ? err.message : String(err) }, 'could not set the PodScheduled condition');
      });
  }
}

// ---- running behind the kube-scheduler lease ------------------------------------------------------

export interface RunSchedulerOptions {
  readonly client: KubeClient;
  readonly clock: Clock;
  readonly log: Logger;
  readonly registry: Registry;
  /** Without it, the scheduler runs at once (one scheduler process only). */
  readonly leaderElection?: Partial<Omit<LeaderElectionConfig, 'namespace' | 'name'>>;
  readonly scheduler?: Omit<SchedulerOptions, 'registry' | 'events'>;
}

/** The scheduler behind `kube-system/kube-scheduler`, events from `default-scheduler`. Runs until `signal` aborts. */
export function runScheduler(opts: RunSchedulerOptions, signal: AbortSignal): { done: Promise<void>; handle: ManagerHandle } {
  return runControllerManager(
    {
      client: opts.client,
      clock: opts.clock,
      log: opts.log,
      registry: opts.registry,
      component: DEFAULT_SCHEDULER_NAME,
      ...(opts.leaderElection !== undefined ? { leaderElection: { ...opts.leaderElection, namespace: 'kube-system', name: 'kube-scheduler' } } : {}),
      controllers: (ctx) => [schedulerController(ctx, { ...opts.scheduler, registry: opts.registry, events: ctx.events })],
    },
    signal,
  );
}
