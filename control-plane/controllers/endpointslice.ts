/**
 * EndpointSlice controller (upstream pkg/controller/endpointslice): for every Service with a selector
 * (not ExternalName), discovery.k8s.io/v1 EndpointSlices listing the selected pods that have an IP,
 * with ready/serving/terminating conditions, targetRef, nodeName and the ports resolved per pod;
 * labelled kubernetes.io/service-name and endpointslice.kubernetes.io/managed-by, owned by the
 * Service (deleting the Service lets the garbage collector remove them), recreated if deleted.
 * Selector-less Services (default/kubernetes, or ones whose slices users write) are left alone.
 *
 * Loop: Service, pod and slice events -> KeyQueue of Service keys -> sync(key) reads the caches ->
 * planEndpointSlices (endpointslice-plan.ts) -> creates, then updates, then deletes, so a Service is
 * never left without its endpoints between writes. Writes go only where the plan changed something.
 * SliceTracker (endpointslice-tracker.ts) holds a Service back until the cache shows our own writes.
 *
 * Cost: a sync is O(pods in the Service's namespace + its slices) in memory and one API write per
 * changed slice; a pod event costs one selector match per Service in its namespace. Pods on a node the
 * cache does not know are left out (upstream) and their Service is synced again when that node appears.
 */
import type { EndpointSlice } from '../../api/discovery/endpointslice.js';
import type { Node } from '../../api/core/node.js';
import type { Service } from '../../api/core/service-types.js';
import type { Informer } from '../../lib/client/informer.js';
import { isNotFound } from '../../lib/client/errors.js';
import { resources } from '../../lib/client/resource.js';
import type { Controller, ControllerContext } from '../controller-manager/controller.js';
import { KeyQueue, objectKey } from '../controller-manager/controller.js';
import { hasManagedEndpoints, isNamespaceTerminatingError } from './endpoints-common.js';
import { ServicePodIndex } from './endpoints-service-index.js';
import { CONTROLLER_NAME, LABEL_MANAGED_BY, LABEL_SERVICE_NAME, planEndpointSlices } from './endpointslice-plan.js';
import type { SlicePlan } from './endpointslice-plan.js';
import { SliceTracker } from './endpointslice-tracker.js';

export interface EndpointSliceControllerOptions {
  /** Upstream --max-endpoints-per-slice (default 100). */
  readonly maxEndpointsPerSlice?: number;
}

const SERVICE: { apiVersion: string; kind: string } = { apiVersion: 'v1', kind: 'Service' };

function serviceKeyOfSlice(slice: EndpointSlice): string | undefined {
  const svc = slice.metadata.labels?.[LABEL_SERVICE_NAME];
  return svc === undefined || svc === '' ? undefined : `${slice.metadata.namespace ?? ''}/${svc}`;
}

export class EndpointSliceController implements Controller {
  readonly name = 'endpointslice';
  private readonly queue: KeyQueue;
  private readonly index: ServicePodIndex;
  private readonly slices: Informer<EndpointSlice>;
  private readonly nodes: Informer<Node>;
  private readonly tracker: SliceTracker;
  /** Service keys by slice key, from the slices' service-name label. */
  private readonly slicesByService = new Map<string, Set<string>>();
  /** Services that left out pods of a node the cache does not know yet, by node name. */
  private readonly waitingOnNode = new Map<string, Set<string>>();

  constructor(
    private readonly ctx: ControllerContext,
    private readonly opts: EndpointSliceControllerOptions = {},
  ) {
    this.queue = new KeyQueue(this.name, ctx);
    this.index = new ServicePodIndex(ctx, (key) => this.queue.add(key), (svc) => this.tracker.forget(objectKey(svc)));
    this.slices = ctx.informers.informerFor<EndpointSlice>(resources.endpointSlices, { labelSelector: `${LABEL_MANAGED_BY}=${CONTROLLER_NAME}` });
    this.nodes = ctx.informers.informerFor<Node>(resources.nodes);
    this.tracker = new SliceTracker(ctx.clock, (ns, name) => this.slices.getByName(name, ns));
    this.slices.addEventHandler({
      onAdd: (s) => this.onSlice(s),
      onUpdate: (old, s) => {
        const before = serviceKeyOfSlice(old);
        if (before !== undefined && before !== serviceKeyOfSlice(s)) this.onSliceGone(old);
        this.onSlice(s);
      },
      onDelete: (s) => this.onSliceGone(s),
    });
    this.nodes.addEventHandler({
      onAdd: (node) => {
        const name = node.metadata.name ?? '';
        const waiting = this.waitingOnNode.get(name);
        this.waitingOnNode.delete(name);
        for (const key of waiting ?? []) this.queue.add(key);
      },
    });
  }

  async run(signal: AbortSignal): Promise<void> {
    await this.ctx.informers.waitForCacheSync(signal).catch(() => undefined);
    if (signal.aborted) return;
    await this.queue.run(signal, (key) => this.sync(key, signal));
  }

  private onSlice(slice: EndpointSlice): void {
    const key = serviceKeyOfSlice(slice);
    if (key === undefined) return;
    let set = this.slicesByService.get(key);
    if (set === undefined) {
      set = new Set();
      this.slicesByService.set(key, set);
    }
    set.add(objectKey(slice));
    this.tracker.observe(key, slice);
    this.queue.add(key);
  }

  private onSliceGone(slice: EndpointSlice): void {
    const key = serviceKeyOfSlice(slice);
    if (key === undefined) return;
    const set = this.slicesByService.get(key);
    set?.delete(objectKey(slice));
    if (set?.size === 0) this.slicesByService.delete(key);
    this.tracker.observeDeleted(key, slice.metadata.name ?? '');
    this.queue.add(key);
  }

  /** One Service: plan from the caches, then write. Throws only to be retried. */
  async sync(key: string, signal?: AbortSignal): Promise<void> {
    const svc = this.index.services.get(key);
    if (svc === undefined) {
      // its slices go with it through their ownerReference (garbage collector)
      this.tracker.forget(key);
      return;
    }
    if (!hasManagedEndpoints(svc)) return;
    if (this.tracker.stale(key)) {
      // the event that settles our last write queues the Service again; this is the safety net
      this.queue.addAfter(key, 1_000, signal);
      return;
    }
    const existing: EndpointSlice[] = [];
    for (const sk of this.slicesByService.get(key) ?? []) {
      const s = this.slices.get(sk);
      if (s !== undefined && s.metadata.deletionTimestamp === undefined) existing.push(s);
    }
    const plan = planEndpointSlices(svc, this.index.selectedPods(svc), existing, {
      ...(this.opts.maxEndpointsPerSlice !== undefined ? { maxEndpointsPerSlice: this.opts.maxEndpointsPerSlice } : {}),
      nodeExists: (name) => this.nodes.getByName(name) !== undefined,
    });
    this.noteMissingNodes(key, plan);
    try {
      await this.apply(key, svc, plan);
    } catch (err) {
      if (isNamespaceTerminatingError(err)) return;
      this.ctx.events.record(svc, SERVICE, 'Warning', 'FailedToUpdateEndpointSlices', `Error updating Endpoint Slices for Service ${key}: ${err instanceof Error ? err.message : String(err)}`);
      throw err;
    }
  }

  private noteMissingNodes(key: string, plan: SlicePlan): void {
    for (const podKey of plan.podsOnMissingNodes) {
      const pod = this.index.pods.get(podKey);
      const node = pod?.spec.nodeName ?? '';
      if (node === '') continue; // an unbound pod with an IP: nothing to wait for
      let set = this.waitingOnNode.get(node);
      if (set === undefined) {
        set = new Set();
        this.waitingOnNode.set(node, set);
      }
      set.add(key);
    }
  }

  private async apply(key: string, svc: Service, plan: SlicePlan): Promise<void> {
    const { client, log } = this.ctx;
    const namespace = svc.metadata.namespace ?? '';
    // no new slices for a Service being deleted: they would race the garbage collector
    if (svc.metadata.deletionTimestamp === undefined) {
      for (const slice of plan.create) {
        const created = await client.create<EndpointSlice>(resources.endpointSlices, slice, { namespace });
        this.tracker.wrote(key, created);
      }
    }
    for (const slice of plan.update) {
      const updated = await client.update<EndpointSlice>(resources.endpointSlices, slice);
      this.tracker.wrote(key, updated);
    }
    for (const slice of plan.delete) {
      const name = slice.metadata.name ?? '';
      try {
        await client.delete(resources.endpointSlices, name, { namespace, ...(slice.metadata.uid !== undefined ? { preconditions: { uid: slice.metadata.uid } } : {}) });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      this.tracker.deleted(key, namespace, name);
    }
    const writes = plan.create.length + plan.update.length + plan.delete.length;
    if (writes > 0) log.debug({ controller: this.name, service: key, created: plan.create.length, updated: plan.update.length, deleted: plan.delete.length }, 'endpoint slices synced');
  }
}
