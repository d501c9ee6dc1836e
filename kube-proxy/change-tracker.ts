/**
 * The change tracker between the informers and the sync loop: it keeps the Services and
 * EndpointSlices the informers hand it, remembers which Services changed since the last snapshot, and
 * turns that into the next `ProxyState` plus the service-port keys whose rules may differ.
 *
 * Why per Service and lazily: a burst of watch events (a Deployment rolling, 50 slice updates for one
 * Service) costs one recomputation of that Service at the next sync, not one per event; a snapshot
 * costs O(changed Services x their endpoints) plus one copy of the two state maps (states are
 * immutable values, so the sync loop can keep the state it last applied for conntrack decisions).
 * A key is reported changed only when its `ServicePortInfo` or its endpoints really differ, so an
 * EndpointSlice update that moves nothing (a label, a resync) costs no nft transaction at all.
 *
 * Network programming latency: each slice event records a trigger time for its Service, upstream's
 * way: the `endpoints.kubernetes.io/last-change-trigger-time` annotation when the slice has one, else
 * the slice's creation time for a new slice, else the time the update was seen. Times from before
 * the tracker started are ignored (they say nothing about this proxy's latency). The sync loop takes
 * them with the snapshot and observes them once the rules are applied, or gives them back.
 */
import type { Service } from '../api/core/service-types.js';
import type { EndpointSlice } from '../api/discovery/endpointslice.js';
import type { Endpoint, ProxyState, ServicePortInfo } from './model.js';
import { endpointsFromSlices, SERVICE_NAME_LABEL, servicePortsFromService } from './model.js';

export const TRIGGER_TIME_ANNOTATION = 'endpoints.kubernetes.io/last-change-trigger-time';

export interface Snapshot {
  readonly state: ProxyState;
  /** Service-port keys whose info or endpoints differ from the previous snapshot. */
  readonly changed: ReadonlySet<string>;
  /** Trigger times (ms) of the endpoint changes this snapshot includes, per Service `ns/name`. */
  readonly triggerTimes: ReadonlyMap<string, readonly number[]>;
  /** How many Service and EndpointSlice events went into it. */
  readonly serviceChanges: number;
  readonly endpointChanges: number;
}

const EMPTY_STATE: ProxyState = { services: new Map(), endpoints: new Map() };

function serviceId(namespace: string | undefined, name: string | undefined): string {
  return `${namespace ?? 'default'}/${name ?? ''}`;
}

function sliceService(slice: EndpointSlice): string | undefined {
  const svc = slice.metadata.labels?.[SERVICE_NAME_LABEL];
  return svc !== undefined && svc !== '' ? serviceId(slice.metadata.namespace, svc) : undefined;
}

function sliceKey(slice: EndpointSlice): string {
  return `${slice.metadata.namespace ?? 'default'}/${slice.metadata.name ?? ''}`;
}

function parseTime(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const t = Date.parse(text);
  return Number.isFinite(t) ? t : undefined;
}

const same = (a: ServicePortInfo | readonly Endpoint[] | undefined, b: ServicePortInfo | readonly Endpoint[] | undefined): boolean =>
  JSON.stringify(a) === JSON.stringify(b);

export interface ChangeTrackerOptions {
  readonly nodeName: string;
  /** ms since the epoch; trigger times before it are not reported. */
  readonly startedAt: number;
  readonly now: () => number;
}

export class ChangeTracker {
  private readonly services = new Map<string, Service>();
  private readonly slices = new Map<string, Map<string, EndpointSlice>>();
  private readonly dirty = new Set<string>();
  private readonly keysOf = new Map<string, readonly string[]>();
  private triggers = new Map<string, number[]>();
  private state: ProxyState = EMPTY_STATE;
  private serviceEvents = 0;
  private endpointEvents = 0;

  constructor(private readonly opts: ChangeTrackerOptions) {}

  /** Whether any event arrived since the last snapshot. */
  get pending(): boolean {
    return this.dirty.size > 0;
  }

  /** Service events not yet in a snapshot (upstream's *_changes_pending gauges). */
  get pendingServiceChanges(): number {
    return this.serviceEvents;
  }

  get pendingEndpointChanges(): number {
    return this.endpointEvents;
  }

  /** The last snapshot's state. */
  current(): ProxyState {
    return this.state;
  }

  /** A Service added (old undefined), changed, or deleted (obj undefined). */
  onService(old: Service | undefined, obj: Service | undefined): void {
    const ref = obj ?? old;
    if (ref === undefined) return;
    const id = serviceId(ref.metadata.namespace, ref.metadata.name);
    if (obj !== undefined) this.services.set(id, obj);
    else this.services.delete(id);
    this.dirty.add(id);
    this.serviceEvents++;
  }

  /** An EndpointSlice added (old undefined), changed, or deleted (obj undefined). */
  onSlice(old: EndpointSlice | undefined, obj: EndpointSlice | undefined): void {
    // a slice relabelled to another Service leaves the first one
    if (old !== undefined) {
      const id = sliceService(old);
      if (id !== undefined && (obj === undefined || sliceService(obj) !== id)) {
        const m = this.slices.get(id);
        m?.delete(sliceKey(old));
        if (m?.size === 0) this.slices.delete(id);
        this.dirty.add(id);
      }
    }
    const id = obj !== undefined ? sliceService(obj) : undefined;
    if (obj !== undefined && id !== undefined) {
      let m = this.slices.get(id);
      if (m === undefined) this.slices.set(id, (m = new Map()));
      m.set(sliceKey(obj), obj);
      this.dirty.add(id);
    }
    const svc = id ?? (old !== undefined ? sliceService(old) : undefined);
    if (svc === undefined) return;
    this.endpointEvents++;
    const t = this.triggerTime(old, obj);
    if (t !== undefined && t >= this.opts.startedAt) {
      const list = this.triggers.get(svc) ?? [];
      list.push(t);
      this.triggers.set(svc, list);
    }
  }

  private triggerTime(old: EndpointSlice | undefined, obj: EndpointSlice | undefined): number | undefined {
    const annotated = parseTime(obj?.metadata.annotations?.[TRIGGER_TIME_ANNOTATION]);
    if (annotated !== undefined) return annotated;
    if (old === undefined && obj !== undefined) return parseTime(obj.metadata.creationTimestamp);
    return this.opts.now();
  }

  /**
   * Folds every change since the last snapshot into a new state. The trigger times go with it: pass
   * them back to `restoreTriggerTimes` when the sync that took them failed.
   */
  snapshot(): Snapshot {
    const triggerTimes = this.triggers;
    const serviceChanges = this.serviceEvents;
    const endpointChanges = this.endpointEvents;
    this.triggers = new Map();
    this.serviceEvents = 0;
    this.endpointEvents = 0;
    const changed = new Set<string>();
    if (this.dirty.size === 0) return { state: this.state, changed, triggerTimes, serviceChanges, endpointChanges };
    const services = new Map(this.state.services);
    const endpoints = new Map(this.state.endpoints);
    for (const id of [...this.dirty].sort()) {
      const svc = this.services.get(id);
      const ports = svc !== undefined ? servicePortsFromService(svc) : [];
      const slices = [...(this.slices.get(id)?.values() ?? [])];
      const keys: string[] = [];
      for (const sp of ports) {
        keys.push(sp.key);
        const eps = endpointsFromSlices(slices, sp, this.opts.nodeName);
        if (!same(services.get(sp.key), sp) || !same(endpoints.get(sp.key), eps)) changed.add(sp.key);
        services.set(sp.key, sp);
        endpoints.set(sp.key, eps);
      }
      const kept = new Set(keys);
      for (const k of this.keysOf.get(id) ?? []) {
        if (kept.has(k)) continue;
        services.delete(k);
        endpoints.delete(k);
        changed.add(k);
      }
      if (keys.length > 0) this.keysOf.set(id, keys);
      else this.keysOf.delete(id);
    }
    this.dirty.clear();
    this.state = { services, endpoints };
    return { state: this.state, changed, triggerTimes, serviceChanges, endpointChanges };
  }

  /** Gives back the trigger times of a snapshot whose sync failed; they are observed by a later one. */
  restoreTriggerTimes(times: ReadonlyMap<string, readonly number[]>): void {
    for (const [svc, list] of times) this.triggers.set(svc, [...list, ...(this.triggers.get(svc) ?? [])]);
  }
}
