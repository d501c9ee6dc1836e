/**
 * The event wiring both endpoint controllers use (as upstream's getPodServiceMemberships): Service
 * events queue the Service; a pod event queues every Service in the pod's namespace whose selector
 * matches the pod's labels (old and new labels on an update, so a pod leaving a Service is removed);
 * a pod update that changes nothing the controllers read queues nothing.
 *
 * Cost: Services and pods are indexed by namespace, so one pod event costs one selector match per
 * Service in its namespace, and one Service sync one match per pod in its namespace.
 */
import type { Pod } from '../../api/core/pod-types.js';
import type { Service } from '../../api/core/service-types.js';
import type { Informer } from '../../lib/client/informer.js';
import { resources } from '../../lib/client/resource.js';
import type { ControllerContext } from '../controller-manager/controller.js';
import { objectKey } from '../controller-manager/controller.js';
import { podEndpointFingerprint, serviceSelectsPod } from './endpoints-common.js';

function sameLabels(a: Readonly<Record<string, string>> | undefined, b: Readonly<Record<string, string>> | undefined): boolean {
  const ea = Object.entries(a ?? {});
  if (ea.length !== Object.keys(b ?? {}).length) return false;
  return ea.every(([k, v]) => (b ?? {})[k] === v);
}

function addTo(index: Map<string, Set<string>>, obj: Service | Pod): void {
  const ns = obj.metadata.namespace ?? '';
  let set = index.get(ns);
  if (set === undefined) {
    set = new Set();
    index.set(ns, set);
  }
  set.add(objectKey(obj));
}

export class ServicePodIndex {
  readonly services: Informer<Service>;
  readonly pods: Informer<Pod>;
  private readonly byNamespace = new Map<string, Set<string>>();
  private readonly podsByNamespace = new Map<string, Set<string>>();

  /** Registers the handlers; must run in the controller's constructor (before the factory starts). */
  constructor(
    ctx: Pick<ControllerContext, 'informers'>,
    private readonly enqueue: (serviceKey: string) => void,
    onServiceDelete?: (svc: Service) => void,
  ) {
    this.services = ctx.informers.informerFor<Service>(resources.services);
    this.pods = ctx.informers.informerFor<Pod>(resources.pods);
    this.services.addEventHandler({
      onAdd: (svc) => {
        addTo(this.byNamespace, svc);
        enqueue(objectKey(svc));
      },
      onUpdate: (_old, svc) => enqueue(objectKey(svc)),
      onDelete: (svc) => {
        this.byNamespace.get(svc.metadata.namespace ?? '')?.delete(objectKey(svc));
        onServiceDelete?.(svc);
        enqueue(objectKey(svc));
      },
    });
    this.pods.addEventHandler({
      onAdd: (pod) => {
        addTo(this.podsByNamespace, pod);
        this.queueFor(pod);
      },
      onUpdate: (old, pod) => {
        const labelsChanged = !sameLabels(old.metadata.labels, pod.metadata.labels);
        if (!labelsChanged && podEndpointFingerprint(old) === podEndpointFingerprint(pod)) return;
        this.queueFor(pod);
        if (labelsChanged) this.queueFor(old);
      },
      onDelete: (pod) => {
        this.podsByNamespace.get(pod.metadata.namespace ?? '')?.delete(objectKey(pod));
        this.queueFor(pod);
      },
    });
  }

  /** Pods of the Service's namespace its selector matches (from the cache). */
  selectedPods(svc: Service): Pod[] {
    const out: Pod[] = [];
    for (const key of this.podsByNamespace.get(svc.metadata.namespace ?? '') ?? []) {
      const pod = this.pods.get(key);
      if (pod !== undefined && serviceSelectsPod(svc, pod)) out.push(pod);
    }
    return out;
  }

  /** Keys of the cached Services that select this pod. */
  servicesFor(pod: Pod): string[] {
    const keys = this.byNamespace.get(pod.metadata.namespace ?? '');
    if (keys === undefined) return [];
    const out: string[] = [];
    for (const key of keys) {
      const svc = this.services.get(key);
      if (svc !== undefined && serviceSelectsPod(svc, pod)) out.push(key);
    }
    return out;
  }

  private queueFor(pod: Pod): void {
    for (const key of this.servicesFor(pod)) this.enqueue(key);
  }
}
