/**
 * Endpoints controller (upstream pkg/controller/endpoint): one core/v1 Endpoints object per Service
 * with a selector (not ExternalName), named like the Service, listing the selected pods' addresses
 * (ready ones in `addresses`, the others in `notReadyAddresses`) and the ports resolved per pod; see
 * endpoints-plan.ts. Selector-less Services (default/kubernetes, whose Endpoints the apiserver keeps,
 * or ones whose Endpoints users write) are left alone. Endpoints carry no owner reference (upstream):
 * when a Service is deleted, this controller deletes its Endpoints, and at start it deletes Endpoints
 * left behind by Services deleted while no controller ran (except leader-election records).
 *
 * Loop: Service and pod events (endpoints-service-index.ts), and events of the Endpoints themselves
 * (so a deleted or hand-edited Endpoints is put back) -> KeyQueue of Service keys -> sync(key) ->
 * planEndpoints -> at most one create or update, only when something changed. A write from a stale
 * cache fails on its resourceVersion (Conflict) or AlreadyExists and is retried.
 *
 * Cost: a sync is O(pods in the Service's namespace) in memory and at most one API write.
 */
import type { Endpoints } from '../../api/core/endpoints.js';
import type { Informer } from '../../lib/client/informer.js';
import { isAlreadyExists, isConflict, isNotFound } from '../../lib/client/errors.js';
import { resources } from '../../lib/client/resource.js';
import type { Controller, ControllerContext } from '../controller-manager/controller.js';
import { KeyQueue, objectKey, splitKey } from '../controller-manager/controller.js';
import { hasManagedEndpoints, isNamespaceTerminatingError } from './endpoints-common.js';
import { ServicePodIndex } from './endpoints-service-index.js';
import { planEndpoints } from './endpoints-plan.js';

/** Endpoints used as leader-election records by old components; never cleaned up as leftovers. */
export const ANNOTATION_LEADER = 'control-plane.alpha.kubernetes.io/leader';

const ENDPOINTS: { apiVersion: string; kind: string } = { apiVersion: 'v1', kind: 'Endpoints' };

export class EndpointsController implements Controller {
  readonly name = 'endpoints';
  private readonly queue: KeyQueue;
  private readonly index: ServicePodIndex;
  private readonly endpoints: Informer<Endpoints>;

  constructor(private readonly ctx: ControllerContext) {
    this.queue = new KeyQueue(this.name, ctx);
    this.index = new ServicePodIndex(ctx, (key) => this.queue.add(key));
    this.endpoints = ctx.informers.informerFor<Endpoints>(resources.endpoints);
    const ours = (ep: Endpoints): void => {
      const key = objectKey(ep);
      const svc = this.index.services.get(key);
      if (svc !== undefined && hasManagedEndpoints(svc)) this.queue.add(key);
    };
    this.endpoints.addEventHandler({ onAdd: ours, onUpdate: (_old, ep) => ours(ep), onDelete: ours });
  }

  async run(signal: AbortSignal): Promise<void> {
    await this.ctx.informers.waitForCacheSync(signal).catch(() => undefined);
    if (signal.aborted) return;
    // upstream checkLeftoverEndpoints: Endpoints whose Service went away while we were not running
    for (const ep of this.endpoints.list()) {
      const key = objectKey(ep);
      if (this.index.services.get(key) === undefined && ep.metadata.annotations?.[ANNOTATION_LEADER] === undefined) this.queue.add(key);
    }
    await this.queue.run(signal, (key) => this.sync(key));
  }

  /** One Service: plan from the caches, then write. Throws only to be retried. */
  async sync(key: string): Promise<void> {
    const { client } = this.ctx;
    const { namespace = '', name } = splitKey(key);
    const svc = this.index.services.get(key);
    if (svc === undefined) {
      try {
        await client.delete(resources.endpoints, name, { namespace });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      return;
    }
    if (!hasManagedEndpoints(svc)) return;
    const plan = planEndpoints(svc, this.index.selectedPods(svc), this.endpoints.get(key));
    switch (plan.kind) {
      case 'none':
        return;
      case 'create':
        try {
          await client.create(resources.endpoints, plan.endpoints, { namespace });
        } catch (err) {
          if (isNamespaceTerminatingError(err)) return;
          // AlreadyExists: the cache has not shown it yet; its add event queues the Service again
          if (isAlreadyExists(err)) return;
          this.ctx.events.record(plan.endpoints, ENDPOINTS, 'Warning', 'FailedToCreateEndpoint', `Failed to create endpoint for service ${key}: ${message(err)}`);
          throw err;
        }
        return;
      case 'update':
        try {
          await client.update(resources.endpoints, plan.endpoints);
        } catch (err) {
          // a Conflict is a stale cache (usually our own previous write): retried without an event
          if (!isConflict(err)) this.ctx.events.record(plan.endpoints, ENDPOINTS, 'Warning', 'FailedToUpdateEndpoint', `Failed to update endpoint ${key}: ${message(err)}`);
          throw err;
        }
        return;
      default: {
        const never: never = plan;
        throw new Error(`unknown plan ${JSON.stringify(never)}`);
      }
    }
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
