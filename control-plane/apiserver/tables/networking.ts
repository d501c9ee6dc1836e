/**
 * Rows of Services, Endpoints and EndpointSlices: where traffic goes. Long address lists are cut after
 * three entries with `+ N more...`, as upstream does, so a row stays one line.
 */
import type { Printer } from './printer.js';
import {
  ageColumn,
  ageOf,
  arr,
  at,
  col,
  count,
  formatLabels,
  listWithMore,
  nameColumn,
  nameOf,
  rec,
  stringMap,
  text,
} from './format.js';

const MAX_LISTED = 3;

/** `80/TCP`, `80:30080/TCP` (with a node port), joined by commas. */
export function servicePorts(ports: unknown): string {
  return arr(ports)
    .map(rec)
    .map((p) => {
      const nodePort = count(p.nodePort);
      const protocol = text(p.protocol);
      return nodePort > 0 ? `${count(p.port)}:${nodePort}/${protocol}` : `${count(p.port)}/${protocol}`;
    })
    .join(',');
}

/** Load-balancer ingress points: IPs, or hostnames where there is no IP, sorted and unique. */
function loadBalancerIngress(svc: unknown): string[] {
  const out = new Set<string>();
  for (const ing of arr(at(svc, 'status', 'loadBalancer', 'ingress')).map(rec)) {
    const v = text(ing.ip) || text(ing.hostname);
    if (v !== '') out.add(v);
  }
  return [...out].sort();
}

/** The EXTERNAL-IP cell. Server-side tables are always "wide", so load-balancer lists are not clipped. */
export function serviceExternalIP(svc: unknown): string {
  const externalIPs = arr(at(svc, 'spec', 'externalIPs')).map(text);
  switch (text(at(svc, 'spec', 'type'))) {
    case 'ClusterIP':
    case 'NodePort':
      return externalIPs.length > 0 ? externalIPs.join(',') : '<none>';
    case 'LoadBalancer': {
      const all = [...loadBalancerIngress(svc), ...externalIPs];
      return all.length > 0 ? all.join(',') : '<pending>';
    }
    case 'ExternalName':
      return text(at(svc, 'spec', 'externalName'));
    default:
      return '<unknown>';
  }
}

export const servicePrinter: Printer = {
  columns: [
    nameColumn,
    col('Type', 'string', 'How the service is exposed: ClusterIP, NodePort, LoadBalancer or ExternalName.'),
    col('Cluster-IP', 'string', 'The virtual IP of the service inside the cluster.'),
    col('External-IP', 'string', 'Addresses the service is reachable at from outside the cluster.'),
    col('Port(s)', 'string', 'The ports the service exposes.'),
    ageColumn,
    col('Selector', 'string', 'Labels of the pods the service routes to.', { priority: 1 }),
  ],
  cells(svc, now) {
    const clusterIPs = arr(at(svc, 'spec', 'clusterIPs')).map(text);
    const ports = servicePorts(at(svc, 'spec', 'ports'));
    return [
      nameOf(svc),
      text(at(svc, 'spec', 'type')),
      clusterIPs[0] ?? '<none>',
      serviceExternalIP(svc),
      ports === '' ? '<none>' : ports,
      ageOf(svc, now),
      formatLabels(stringMap(at(svc, 'spec', 'selector'))),
    ];
  },
};

/** `host:port` with brackets around IPv6 addresses, as Go's net.JoinHostPort. */
function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** The ENDPOINTS cell: every address with every port, at most three, `<none>` without subsets. */
export function formatEndpoints(endpoints: unknown): string {
  const subsets = arr(at(endpoints, 'subsets')).map(rec);
  if (subsets.length === 0) return '<none>';
  const list: string[] = [];
  let total = 0;
  for (const ss of subsets) {
    const addresses = arr(ss.addresses).map((a) => text(rec(a).ip));
    const ports = arr(ss.ports).map((p) => count(rec(p).port));
    // Headless services may have addresses without ports.
    const pairs = ports.length === 0 ? addresses : ports.flatMap((port) => addresses.map((ip) => joinHostPort(ip, port)));
    total += pairs.length;
    for (const p of pairs) if (list.length < MAX_LISTED) list.push(p);
  }
  return listWithMore(list, total, MAX_LISTED);
}

export const endpointsPrinter: Printer = {
  columns: [nameColumn, col('Endpoints', 'string', 'The addresses and ports traffic to the service goes to.'), ageColumn],
  cells(ep, now) {
    return [nameOf(ep), formatEndpoints(ep), ageOf(ep, now)];
  },
};

/** At most three entries, `<unset>` for none (upstream's listWithMoreString). */
function listOrUnset(all: readonly string[]): string {
  if (all.length === 0) return '<unset>';
  return listWithMore(all.slice(0, MAX_LISTED), all.length, MAX_LISTED);
}

export const endpointSlicePrinter: Printer = {
  columns: [
    nameColumn,
    col('AddressType', 'string', 'The type of the addresses: IPv4, IPv6 or FQDN.'),
    col('Ports', 'string', 'The ports of the endpoints; * when every port is included.'),
    col('Endpoints', 'string', 'The addresses of the endpoints.'),
    ageColumn,
  ],
  cells(slice, now) {
    const ports = arr(at(slice, 'ports'))
      .map(rec)
      .map((p) => (typeof p.port === 'number' ? String(p.port) : typeof p.name === 'string' ? p.name : '*'));
    const addresses = arr(at(slice, 'endpoints')).flatMap((e) => arr(rec(e).addresses).map(text));
    return [nameOf(slice), text(at(slice, 'addressType')), listOrUnset(ports), listOrUnset(addresses), ageOf(slice, now)];
  },
};
