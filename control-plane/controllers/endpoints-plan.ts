/**
 * planEndpoints: the core/v1 Endpoints object the endpoints controller keeps for one Service (upstream
 * pkg/controller/endpoint syncService), pure.
 *   - every selected pod with an IP (of the Service's primary family), not terminal, and not
 *     terminating unless publishNotReadyAddresses, gives one address per Service port it resolves
 *     (named targetPorts per pod); Ready pods (or all, with publishNotReadyAddresses) go to
 *     `addresses`, the others to `notReadyAddresses`;
 *   - the (address, port) pairs are repacked as upstream's RepackSubsets: one subset per distinct set
 *     of addresses, holding every port those addresses share;
 *   - more than 1000 addresses are truncated (ready ones kept first, proportionally per subset) and the
 *     object annotated endpoints.kubernetes.io/over-capacity=truncated;
 *   - labels are the Service's, plus service.kubernetes.io/headless for a headless Service.
 * Ordering: upstream sorts by hashes; we sort addresses by IP then pod UID, ports by name, port and
 * protocol, subsets by their first address, so the same input always gives the same object.
 */
import type { EndpointAddress, EndpointPort, EndpointSubset, Endpoints } from '../../api/core/endpoints.js';
import type { Pod } from '../../api/core/pod-types.js';
import type { Service } from '../../api/core/service-types.js';
import { ipFamilyOf } from '../../api/core/ip.js';
import { byPodName, findPort, isPodReady, isServiceIPSet, podIPs, shouldPodBeInEndpoints, shouldSetHostname } from './endpoints-common.js';
import { LABEL_HEADLESS, canonical } from './endpointslice-plan.js';

export const ANNOTATION_OVER_CAPACITY = 'endpoints.kubernetes.io/over-capacity';
export const MAX_ENDPOINT_ADDRESSES = 1000;

export type EndpointsPlan =
  | { readonly kind: 'none' }
  | { readonly kind: 'create'; readonly endpoints: Endpoints }
  | { readonly kind: 'update'; readonly endpoints: Endpoints };

/** Upstream podToEndpointAddressForService: the pod IP of the Service's primary family. */
export function podAddressFor(svc: Service, pod: Pod): EndpointAddress | undefined {
  const ips = podIPs(pod);
  const family = svc.spec?.ipFamilies?.[0] ?? (isServiceIPSet(svc) ? ipFamilyOf(svc.spec?.clusterIP ?? '') : ipFamilyOf(ips[0] ?? '')) ?? 'IPv4';
  const ip = ips.find((i) => ipFamilyOf(i) === family);
  if (ip === undefined) return undefined;
  const nodeName = pod.spec.nodeName;
  return {
    ip,
    ...(shouldSetHostname(pod, svc) ? { hostname: pod.spec.hostname ?? '' } : {}),
    ...(nodeName !== undefined && nodeName !== '' ? { nodeName } : {}),
    targetRef: { kind: 'Pod', namespace: pod.metadata.namespace ?? '', name: pod.metadata.name ?? '', uid: pod.metadata.uid ?? '' },
  };
}

interface Entry {
  readonly addr: EndpointAddress;
  readonly ready: boolean;
}

const addrKey = (a: EndpointAddress): string => `${a.ip}/${a.targetRef?.uid ?? ''}`;

function compareAddr(a: EndpointAddress, b: EndpointAddress): number {
  const ka = addrKey(a);
  const kb = addrKey(b);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

function comparePort(a: EndpointPort, b: EndpointPort): number {
  const ka = [a.name ?? '', String(a.port).padStart(5, '0'), a.protocol ?? ''].join('\0');
  const kb = [b.name ?? '', String(b.port).padStart(5, '0'), b.protocol ?? ''].join('\0');
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

/**
 * Upstream RepackSubsets: (address, port) pairs regrouped so each subset is one set of addresses with
 * every port they all offer. An address ready on any contribution counts as ready for that port.
 * A subset without ports (headless Service without ports) keeps its addresses under no port.
 */
export function repackSubsets(subsets: readonly EndpointSubset[]): EndpointSubset[] {
  const NO_PORT = '';
  const portByKey = new Map<string, EndpointPort | undefined>();
  const addrsByPort = new Map<string, Map<string, Entry>>();
  const note = (portKey: string, port: EndpointPort | undefined, addr: EndpointAddress, ready: boolean): void => {
    portByKey.set(portKey, port);
    let m = addrsByPort.get(portKey);
    if (m === undefined) {
      m = new Map();
      addrsByPort.set(portKey, m);
    }
    const prev = m.get(addrKey(addr));
    if (prev === undefined || !prev.ready) m.set(addrKey(addr), { addr: prev?.addr ?? addr, ready });
  };
  for (const ss of subsets) {
    const ports: Array<EndpointPort | undefined> = (ss.ports ?? []).length > 0 ? [...(ss.ports ?? [])] : [undefined];
    for (const port of ports) {
      const pk = port === undefined ? NO_PORT : canonical(port);
      for (const a of ss.addresses ?? []) note(pk, port, a, true);
      for (const a of ss.notReadyAddresses ?? []) note(pk, port, a, false);
    }
  }
  // address set -> the ports offered by exactly that set
  const groups = new Map<string, { entries: Entry[]; ports: EndpointPort[] }>();
  for (const [pk, addrs] of addrsByPort) {
    const entries = [...addrs.values()].sort((a, b) => compareAddr(a.addr, b.addr));
    const setKey = entries.map((e) => `${addrKey(e.addr)}:${e.ready ? 1 : 0}`).join(',');
    let g = groups.get(setKey);
    if (g === undefined) {
      g = { entries, ports: [] };
      groups.set(setKey, g);
    }
    const port = portByKey.get(pk);
    if (port !== undefined) g.ports.push(port);
  }
  const out: EndpointSubset[] = [];
  for (const g of groups.values()) {
    const ready = g.entries.filter((e) => e.ready).map((e) => e.addr);
    const notReady = g.entries.filter((e) => !e.ready).map((e) => e.addr);
    out.push({
      ...(ready.length > 0 ? { addresses: ready } : {}),
      ...(notReady.length > 0 ? { notReadyAddresses: notReady } : {}),
      ...(g.ports.length > 0 ? { ports: [...g.ports].sort(comparePort) } : {}),
    });
  }
  const first = (s: EndpointSubset): string => {
    const a = s.addresses?.[0] ?? s.notReadyAddresses?.[0];
    return a === undefined ? '' : addrKey(a);
  };
  return out.sort((a, b) => (first(a) < first(b) ? -1 : first(a) > first(b) ? 1 : canonical(a.ports ?? []) < canonical(b.ports ?? []) ? -1 : 1));
}

/** The Service's subsets from its pods (before truncation). */
export function computeSubsets(svc: Service, pods: readonly Pod[]): EndpointSubset[] {
  const publishNotReady = svc.spec?.publishNotReadyAddresses === true;
  const parts: EndpointSubset[] = [];
  const add = (pod: Pod, addr: EndpointAddress, port: EndpointPort | undefined): void => {
    const ports = port === undefined ? {} : { ports: [port] };
    parts.push(publishNotReady || isPodReady(pod) ? { addresses: [addr], ...ports } : { notReadyAddresses: [addr], ...ports });
  };
  for (const pod of [...pods].sort(byPodName)) {
    if (!shouldPodBeInEndpoints(pod, publishNotReady)) continue;
    const addr = podAddressFor(svc, pod);
    if (addr === undefined) continue;
    const svcPorts = svc.spec?.ports ?? [];
    if (svcPorts.length === 0) {
      // only a headless Service may have no ports; its addresses then stand for every port
      if (svc.spec?.clusterIP === 'None') add(pod, addr, undefined);
      continue;
    }
    for (const sp of svcPorts) {
      const port = findPort(pod, sp);
      if (port === undefined) continue;
      add(pod, addr, { ...(sp.name ? { name: sp.name } : {}), port, protocol: sp.protocol ?? 'TCP', ...(sp.appProtocol !== undefined ? { appProtocol: sp.appProtocol } : {}) });
    }
  }
  return repackSubsets(parts);
}

/**
 * Upstream truncateEndpoints: at most 1000 addresses. Not-ready addresses go first; if the ready ones
 * alone are too many, they are cut too. Each subset keeps a share proportional to its size (rounded
 * up, so the last subsets may get less).
 */
export function truncateSubsets(subsets: readonly EndpointSubset[], max = MAX_ENDPOINT_ADDRESSES): { subsets: EndpointSubset[]; truncated: boolean } {
  let ready = 0;
  let notReady = 0;
  for (const s of subsets) {
    ready += (s.addresses ?? []).length;
    notReady += (s.notReadyAddresses ?? []).length;
  }
  if (ready + notReady <= max) return { subsets: [...subsets], truncated: false };
  const cutReady = ready > max;
  const budget = cutReady ? max : max - ready;
  const total = cutReady ? ready : notReady;
  let left = budget;
  const out = subsets.map((s): EndpointSubset => {
    const list = (cutReady ? s.addresses : s.notReadyAddresses) ?? [];
    const share = Math.min(Math.ceil((list.length / total) * budget), left);
    const kept = list.slice(0, share);
    left -= kept.length;
    return cutReady ? { ...s, addresses: kept, notReadyAddresses: [] } : { ...s, notReadyAddresses: kept };
  });
  return { subsets: out, truncated: true };
}

/** The Service's labels, plus the headless marker when it has no cluster IP. */
export function desiredEndpointsLabels(svc: Service): Record<string, string> {
  const labels: Record<string, string> = { ...(svc.metadata.labels ?? {}) };
  if (isServiceIPSet(svc)) delete labels[LABEL_HEADLESS];
  else labels[LABEL_HEADLESS] = '';
  return labels;
}

/** Subsets as compared: empty lists dropped, targetRef.resourceVersion ignored (upstream does too). */
function subsetsView(subsets: readonly EndpointSubset[] | undefined): string {
  const addrs = (l: readonly EndpointAddress[] | undefined): unknown =>
    (l ?? []).map((a) => ({ ...a, ...(a.targetRef !== undefined ? { targetRef: { ...a.targetRef, resourceVersion: undefined } } : {}) }));
  return canonical((subsets ?? []).map((s) => ({ addresses: addrs(s.addresses), notReadyAddresses: addrs(s.notReadyAddresses), ports: (s.ports ?? []).map((p) => ({ ...p, protocol: p.protocol ?? 'TCP' })) })));
}

export function planEndpoints(svc: Service, pods: readonly Pod[], existing: Endpoints | undefined): EndpointsPlan {
  const { subsets, truncated } = truncateSubsets(computeSubsets(svc, pods));
  const labels = desiredEndpointsLabels(svc);
  const annotations: Record<string, string> = { ...(existing?.metadata.annotations ?? {}) };
  if (truncated) annotations[ANNOTATION_OVER_CAPACITY] = 'truncated';
  else delete annotations[ANNOTATION_OVER_CAPACITY];
  const withAnnotations = Object.keys(annotations).length > 0 ? { annotations } : {};
  if (existing === undefined) {
    return {
      kind: 'create',
      endpoints: { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: svc.metadata.name ?? '', namespace: svc.metadata.namespace ?? '', labels, ...withAnnotations }, subsets },
    };
  }
  const same =
    subsetsView(existing.subsets) === subsetsView(subsets) &&
    canonical(existing.metadata.labels ?? {}) === canonical(labels) &&
    (existing.metadata.annotations?.[ANNOTATION_OVER_CAPACITY] === 'truncated') === truncated;
  if (same) return { kind: 'none' };
  const { annotations: _a, ...meta } = existing.metadata;
  return { kind: 'update', endpoints: { ...existing, metadata: { ...meta, labels, ...withAnnotations }, subsets } };
}
