/**
 * planEndpointSlices: from one Service, the pods it selects and its existing EndpointSlices to the
 * slices to create, update and delete, following upstream's reconciler
 * (k8s.io/endpointslice/reconciler.go) so slices churn as little as upstream's:
 *   - pods are grouped by the ports they offer (a named targetPort resolves per pod, so pods whose
 *     containers number the same name differently land in different slices);
 *   - per group, existing slices keep the endpoints still wanted (refreshed in place); a slice that
 *     changed is updated, one left empty by the change is deleted, one unchanged is left alone;
 *   - leftover endpoints first fill the slices already being updated (fullest first), then the
 *     unchanged slice closest to full that takes them all, then new slices of at most 100;
 *   - a Service with no endpoints keeps one empty placeholder slice per address type;
 *   - a slice about to be deleted is reused for a slice about to be created (an update keeping its name)
 *     rather than a delete plus a create.
 * Endpoint identity is upstream's hash: addresses, hostname and the pod's namespace/name.
 * Pure; the plan's slices are complete objects ready to send.
 */
import type { AddressType, Endpoint, EndpointPort, EndpointSlice } from '../../api/discovery/endpointslice.js';
import type { Pod } from '../../api/core/pod-types.js';
import type { Service } from '../../api/core/service-types.js';
import type { OwnerReference } from '../../api/meta.js';
import { ipFamilyOf } from '../../api/core/ip.js';
import { byPodName, findPort, isPodReady, isServiceIPSet, podIPs, serviceIPFamilies, shouldPodBeInEndpoints, shouldSetHostname } from './endpoints-common.js';

export const LABEL_SERVICE_NAME = 'kubernetes.io/service-name';
export const LABEL_MANAGED_BY = 'endpointslice.kubernetes.io/managed-by';
export const LABEL_HEADLESS = 'service.kubernetes.io/headless';
export const CONTROLLER_NAME = 'endpointslice-controller.k8s.io';
export const DEFAULT_MAX_ENDPOINTS_PER_SLICE = 100;

export interface SlicePlanOptions {
  /** Upstream --max-endpoints-per-slice; default 100. */
  readonly maxEndpointsPerSlice?: number;
  /** Whether a Node of that name is known; pods on unknown nodes are left out (see podsOnMissingNodes). */
  readonly nodeExists?: (name: string) => boolean;
}

export interface SlicePlan {
  readonly create: readonly EndpointSlice[];
  readonly update: readonly EndpointSlice[];
  readonly delete: readonly EndpointSlice[];
  /**
   * Pods left out because their node is unknown (upstream: the Service is synced again later, and pod
   * GC removes pods of deleted nodes); with publishNotReadyAddresses they are kept instead.
   */
  readonly podsOnMissingNodes: readonly string[];
}

/** The slices a Service's plan considers: managed by this controller (the caller lists by service name). */
export function isManagedSlice(slice: EndpointSlice): boolean {
  return slice.metadata.labels?.[LABEL_MANAGED_BY] === CONTROLLER_NAME;
}

/** Service labels (reserved keys dropped), the headless marker, service-name and managed-by. */
export function desiredSliceLabels(svc: Service): Record<string, string> {
  const reserved = new Set([LABEL_SERVICE_NAME, LABEL_MANAGED_BY, LABEL_HEADLESS]);
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(svc.metadata.labels ?? {})) if (!reserved.has(k)) labels[k] = v;
  if (!isServiceIPSet(svc)) labels[LABEL_HEADLESS] = '';
  labels[LABEL_SERVICE_NAME] = svc.metadata.name ?? '';
  labels[LABEL_MANAGED_BY] = CONTROLLER_NAME;
  return labels;
}

/** One EndpointPort per Service port whose targetPort resolves on this pod (upstream getEndpointPorts). */
export function endpointPortsFor(svc: Service, pod: Pod): EndpointPort[] {
  const out: EndpointPort[] = [];
  for (const sp of svc.spec?.ports ?? []) {
    const port = findPort(pod, sp);
    if (port === undefined) continue;
    out.push({ name: sp.name ?? '', protocol: sp.protocol ?? 'TCP', port, ...(sp.appProtocol !== undefined ? { appProtocol: sp.appProtocol } : {}) });
  }
  return out;
}

/** Upstream podToEndpoint: ready = publishNotReadyAddresses || (serving && !terminating). */
export function podToEndpoint(pod: Pod, svc: Service, addressType: AddressType): Endpoint {
  const serving = isPodReady(pod);
  const terminating = pod.metadata.deletionTimestamp !== undefined;
  const ready = svc.spec?.publishNotReadyAddresses === true || (serving && !terminating);
  const nodeName = pod.spec.nodeName;
  return {
    addresses: podIPs(pod).filter((ip) => ipFamilyOf(ip) === addressType),
    conditions: { ready, serving, terminating },
    ...(shouldSetHostname(pod, svc) ? { hostname: pod.spec.hostname ?? '' } : {}),
    targetRef: { kind: 'Pod', namespace: pod.metadata.namespace ?? '', name: pod.metadata.name ?? '', uid: pod.metadata.uid ?? '' },
    ...(nodeName !== undefined && nodeName !== '' ? { nodeName } : {}),
  };
}

/** Canonical JSON: object keys sorted, so equal values compare equal whatever their field order. */
export function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonical(x)}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

/** The group key of a port set (upstream NewPortMapKey): order-insensitive. */
export function portsKey(ports: readonly EndpointPort[] | undefined): string {
  return (ports ?? []).map((p) => canonical({ name: p.name ?? '', protocol: p.protocol ?? 'TCP', port: p.port, appProtocol: p.appProtocol })).sort().join('|');
}

/** Upstream's endpoint hash: the same endpoint across syncs. */
export function endpointKey(ep: Endpoint): string {
  return canonical([[...ep.addresses].sort(), ep.hostname ?? '', ep.targetRef?.namespace ?? '', ep.targetRef?.name ?? '']);
}

/** Upstream EndpointsEqualBeyondHash. */
export function endpointsEqual(a: Endpoint, b: Endpoint): boolean {
  const view = (e: Endpoint): unknown => ({
    conditions: e.conditions ?? {},
    nodeName: e.nodeName ?? '',
    zone: e.zone ?? '',
    targetRef: e.targetRef ?? {},
    hints: e.hints,
  });
  return canonical(view(a)) === canonical(view(b));
}

function sameLabels(a: Readonly<Record<string, string>> | undefined, b: Readonly<Record<string, string>>): boolean {
  return canonical(a ?? {}) === canonical(b);
}

/** Upstream ownedBy: an owner reference to this very Service (by uid). */
function ownedBy(slice: EndpointSlice, svc: Service): boolean {
  return (slice.metadata.ownerReferences ?? []).some((o) => o.uid === svc.metadata.uid && o.kind === 'Service' && o.apiVersion === 'v1');
}

function controllerRef(svc: Service): OwnerReference {
  return { apiVersion: 'v1', kind: 'Service', name: svc.metadata.name ?? '', uid: svc.metadata.uid ?? '', controller: true, blockOwnerDeletion: true };
}

function newSlice(svc: Service, addressType: AddressType, ports: readonly EndpointPort[], endpoints: Endpoint[]): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      generateName: `${svc.metadata.name ?? ''}-`,
      namespace: svc.metadata.namespace ?? '',
      labels: desiredSliceLabels(svc),
      ownerReferences: [controllerRef(svc)],
    },
    addressType,
    endpoints,
    ports: [...ports],
  };
}

interface Group {
  readonly ports: readonly EndpointPort[];
  /** Insertion-ordered (pods by name), so plans are deterministic. */
  readonly endpoints: Map<string, Endpoint>;
}

interface Draft {
  readonly base: EndpointSlice;
  endpoints: Endpoint[];
}

function take(desired: Map<string, Endpoint>, room: number, into: Endpoint[]): void {
  for (const [k, ep] of desired) {
    if (room <= 0) break;
    into.push(ep);
    desired.delete(k);
    room--;
  }
}

/** Upstream reconcileByPortMapping, for one address type and one port set. */
function planGroup(svc: Service, addressType: AddressType, group: Group, existing: readonly EndpointSlice[], max: number, labels: Record<string, string>) {
  const desired = group.endpoints;
  const toUpdate: Draft[] = [];
  const unchanged: EndpointSlice[] = [];
  const toDelete: EndpointSlice[] = [];
  for (const slice of existing) {
    const kept: Endpoint[] = [];
    let changed = false;
    for (const ep of slice.endpoints ?? []) {
      const want = desired.get(endpointKey(ep));
      if (want === undefined) {
        changed = true;
        continue;
      }
      kept.push(want);
      if (!endpointsEqual(ep, want)) changed = true;
      desired.delete(endpointKey(ep));
    }
    if (changed && kept.length === 0) toDelete.push(slice);
    else if (changed || !sameLabels(slice.metadata.labels, labels)) toUpdate.push({ base: slice, endpoints: kept });
    else unchanged.push(slice);
  }
  // fill the slices being written anyway, fullest first
  for (const d of [...toUpdate].sort((a, b) => b.endpoints.length - a.endpoints.length)) take(desired, max - d.endpoints.length, d.endpoints);
  const create: EndpointSlice[] = [];
  while (desired.size > 0) {
    // the unchanged slice closest to full that takes every leftover endpoint, else a new slice
    let fill: EndpointSlice | undefined;
    if (desired.size < max) {
      for (const s of unchanged) {
        const n = (s.endpoints ?? []).length;
        if (n + desired.size <= max && (fill === undefined || n > (fill.endpoints ?? []).length)) fill = s;
      }
    }
    if (fill !== undefined) {
      unchanged.splice(unchanged.indexOf(fill), 1);
      const d: Draft = { base: fill, endpoints: [...(fill.endpoints ?? [])] };
      take(desired, max - d.endpoints.length, d.endpoints);
      toUpdate.push(d);
    } else {
      const endpoints: Endpoint[] = [];
      take(desired, max, endpoints);
      create.push(newSlice(svc, addressType, group.ports, endpoints));
    }
  }
  const update = toUpdate.map((d) => ({ ...d.base, metadata: { ...d.base.metadata, labels }, endpoints: d.endpoints }));
  return { create, update, delete: toDelete };
}

export function planEndpointSlices(svc: Service, pods: readonly Pod[], existingSlices: readonly EndpointSlice[], opts: SlicePlanOptions = {}): SlicePlan {
  const max = opts.maxEndpointsPerSlice ?? DEFAULT_MAX_ENDPOINTS_PER_SLICE;
  const publishNotReady = svc.spec?.publishNotReadyAddresses === true;
  const labels = desiredSliceLabels(svc);
  const families = serviceIPFamilies(svc);
  // slices of another address type, or left by an earlier Service of the same name, go
  const managed = existingSlices.filter(isManagedSlice);
  const mine = managed.filter((s) => ownedBy(s, svc) && (families as readonly string[]).includes(s.addressType));
  const create: EndpointSlice[] = [];
  const update: EndpointSlice[] = [];
  const del: EndpointSlice[] = managed.filter((s) => !mine.includes(s));
  const missing = new Set<string>();

  for (const addressType of families) {
    const groups = new Map<string, Group>();
    for (const pod of [...pods].sort(byPodName)) {
      if (!shouldPodBeInEndpoints(pod, true)) continue;
      if (opts.nodeExists !== undefined && !opts.nodeExists(pod.spec.nodeName ?? '') && !publishNotReady) {
        missing.add(`${pod.metadata.namespace ?? ''}/${pod.metadata.name ?? ''}`);
        continue;
      }
      const ep = podToEndpoint(pod, svc, addressType);
      if (ep.addresses.length === 0) continue;
      const ports = endpointPortsFor(svc, pod);
      const key = portsKey(ports);
      let g = groups.get(key);
      if (g === undefined) {
        g = { ports, endpoints: new Map() };
        groups.set(key, g);
      }
      g.endpoints.set(endpointKey(ep), ep);
    }
    const existing = mine.filter((s) => s.addressType === addressType);
    const existingByKey = new Map<string, EndpointSlice[]>();
    for (const s of existing) {
      const k = portsKey(s.ports);
      existingByKey.set(k, [...(existingByKey.get(k) ?? []), s]);
    }
    const tCreate: EndpointSlice[] = [];
    const tDelete: EndpointSlice[] = [];
    for (const [k, slices] of existingByKey) if (!groups.has(k)) tDelete.push(...slices);
    for (const [k, g] of groups) {
      const p = planGroup(svc, addressType, g, existingByKey.get(k) ?? [], max, labels);
      tCreate.push(...p.create);
      update.push(...p.update);
      tDelete.push(...p.delete);
    }
    // no endpoints at all: one empty placeholder slice (kept when the only slice left already is one)
    if (existing.length === tDelete.length && tCreate.length === 0) {
      const only = tDelete.length === 1 ? tDelete[0] : undefined;
      if (only !== undefined && (only.endpoints ?? []).length === 0 && (only.ports ?? []).length === 0 && sameLabels(only.metadata.labels, labels)) tDelete.length = 0;
      else tCreate.push(newSlice(svc, addressType, [], []));
    }
    create.push(...tCreate);
    del.push(...tDelete);
  }

  // reuse a slice being deleted for one being created: an update under the old name
  for (let i = 0; i < create.length; ) {
    const c = create[i] as EndpointSlice;
    const j = del.findIndex((d) => d.addressType === c.addressType && ownedBy(d, svc));
    if (j < 0) {
      i++;
      continue;
    }
    const d = del[j] as EndpointSlice;
    del.splice(j, 1);
    create.splice(i, 1);
    const { generateName: _g, ...meta } = d.metadata;
    update.push({ ...d, metadata: { ...meta, labels: c.metadata.labels ?? {}, ownerReferences: c.metadata.ownerReferences ?? [] }, endpoints: c.endpoints, ports: c.ports ?? [] });
  }
  return { create, update, delete: del, podsOnMissingNodes: [...missing] };
}
