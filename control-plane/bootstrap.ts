/**
 * What a fresh (or restarted) control plane makes sure exists before it serves: the system namespaces,
 * the `default/kubernetes` Service on the first service IP with Endpoints and an EndpointSlice pointing
 * at this apiserver, and ClusterIP/NodePort allocations that agree with the stored Services.
 * Every step is idempotent: a restart changes nothing that is already right.
 */
import type { KubeObject } from '../api/meta.js';
import type { Logger } from '../lib/log.js';
import { deepEqual } from '../lib/json.js';
import { ApiError } from './apiserver/errors.js';
import type { Registry } from './apiserver/registry.js';
import { listObjects } from './apiserver/registry-read.js';
import type { ResourceEntry, ResourceIndex } from './apiserver/resource-table.js';
import { everything } from './apiserver/filter.js';
import { SYSTEM_NAMESPACES } from './apiserver/plugins/namespace-lifecycle.js';
import { buildClusterInfoConfigMap } from '../lib/client/cluster-info.js';
import type { ServiceAllocation } from './apiserver/plugins/service-allocation.js';

export interface BootstrapOptions {
  readonly advertiseAddress: string;
  readonly securePort: number;
  /** Cluster CA, published in kube-public/cluster-info for joining nodes (as kubeadm does). */
  readonly caPem?: string;
}

function must(index: ResourceIndex, group: string, version: string, plural: string): ResourceEntry {
  const e = index.find(group, version, plural);
  if (!e) throw new Error(`${plural} are not served`);
  return e;
}

async function exists(registry: Registry, e: ResourceEntry, ns: string | undefined, name: string): Promise<KubeObject | undefined> {
  try {
    return await registry.get(e, ns, name);
  } catch (err) {
    if (err instanceof ApiError && err.httpCode === 404) return undefined;
    throw err;
  }
}

/** Creates `desired` or, when it exists with different content in the compared fields, replaces them. */
async function ensure(registry: Registry, e: ResourceEntry, desired: KubeObject, compared: readonly string[]): Promise<void> {
  const ns = e.def.namespaced ? desired.metadata.namespace : undefined;
  const name = desired.metadata.name ?? '';
  const current = await exists(registry, e, ns, name);
  if (!current) {
    await registry.create(e, ns, desired, { trusted: true });
    return;
  }
  if (compared.every((f) => deepEqual(current[f], desired[f]))) return;
  await registry.update(e, ns, name, (cur) => {
    const next: Record<string, unknown> = { ...cur };
    for (const f of compared) next[f] = desired[f];
    return next as KubeObject;
  }, { trusted: true });
}

/**
 * The Endpoints and EndpointSlice of a selector-less Service served by this control plane itself
 * (`default/kubernetes`, `kube-system/kube-dns`): one address, these ports; replaced when they differ.
 * The Endpoints are marked skip-mirror (the slice is written here, not mirrored).
 */
async function ensureFixedEndpoints(
  registry: Registry,
  index: ResourceIndex,
  ep: { namespace: string; name: string; labels: Readonly<Record<string, string>>; address: string; ports: ReadonlyArray<{ name: string; port: number; protocol: string }> },
): Promise<void> {
  const ports = ep.ports.map((p) => ({ ...p }));
  await ensure(
    registry,
    must(index, '', 'v1', 'endpoints'),
    {
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: { name: ep.name, namespace: ep.namespace, labels: { ...ep.labels, 'endpointslice.kubernetes.io/skip-mirror': 'true' } },
      subsets: [{ addresses: [{ ip: ep.address }], ports }],
    },
    ['subsets'],
  );
  await ensure(
    registry,
    must(index, 'discovery.k8s.io', 'v1', 'endpointslices'),
    {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: {
        name: ep.name,
        namespace: ep.namespace,
        labels: { ...ep.labels, 'kubernetes.io/service-name': ep.name, 'endpointslice.kubernetes.io/managed-by': 'knode-apiserver' },
      },
      addressType: 'IPv4',
      endpoints: [{ addresses: [ep.address], conditions: { ready: true, serving: true, terminating: false } }],
      ports,
    },
    ['endpoints', 'ports'],
  );
}

export async function bootstrapCluster(
  registry: Registry,
  index: ResourceIndex,
  services: ServiceAllocation,
  opts: BootstrapOptions,
  log: Logger,
): Promise<void> {
  const namespaces = must(index, '', 'v1', 'namespaces');
  for (const name of SYSTEM_NAMESPACES) {
    if (!(await exists(registry, namespaces, undefined, name))) {
      await registry.create(namespaces, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
      log.info({ namespace: name }, 'created system namespace');
    }
  }

  // Allocations first, so the kubernetes Service's address is recorded as taken.
  const svcEntry = must(index, '', 'v1', 'services');
  const all = await listObjects(registry, svcEntry, { filter: everything });
  const repaired = await services.repair(all.items);
  if (repaired.freed.length > 0 || repaired.recorded.length > 0) log.info(repaired, 'repaired service allocations');

  const ip = services.kubernetesServiceIP();
  const labels = { component: 'apiserver', provider: 'kubernetes' };
  const port = { name: 'https', port: 443, protocol: 'TCP', targetPort: opts.securePort };
  const current = await exists(registry, svcEntry, 'default', 'kubernetes');
  if (!current) {
    await registry.create(svcEntry, 'default', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'kubernetes', namespace: 'default', labels },
      spec: { type: 'ClusterIP', clusterIP: ip, clusterIPs: [ip], ports: [port], sessionAffinity: 'None' },
    });
  } else {
    const spec = (current['spec'] ?? {}) as { ports?: unknown };
    if (!deepEqual(spec.ports, [port])) {
      await registry.update(svcEntry, 'default', 'kubernetes', (s) => ({ ...s, spec: { ...((s['spec'] ?? {}) as object), ports: [port] } }));
    }
  }

  await ensureFixedEndpoints(registry, index, {
    namespace: 'default',
    name: 'kubernetes',
    labels: {},
    address: opts.advertiseAddress,
    ports: [{ name: 'https', port: opts.securePort, protocol: 'TCP' }],
  });

  // ---- node TLS bootstrap: kube-public/cluster-info (server URL + CA), read by `knode agent` ----
  if (opts.caPem !== undefined) {
    const host = opts.advertiseAddress.includes(':') ? `[${opts.advertiseAddress}]` : opts.advertiseAddress;
    await ensure(registry, must(index, '', 'v1', 'configmaps'), buildClusterInfoConfigMap({ server: `https://${host}:${opts.securePort}`, caPem: opts.caPem }), ['data']);
  }
}

export interface ClusterDnsEndpoint {
  /** Where the DNS server listens (the control plane's advertise address) and its port. */
  readonly host: string;
  readonly port: number;
}

/**
 * The `kube-system/kube-dns` Service pods resolve through (kubeadm's name and labels, so tools that
 * look for it find it): ClusterIP the tenth service address (the kubelet's default --cluster-dns),
 * ports dns/53 UDP and dns-tcp/53 TCP, no selector; its Endpoints and EndpointSlice point at the
 * control plane's DNS server. Kept in step on every start (a new address or port replaces the old).
 * Returns the Service IP; throws when that address is taken by another Service.
 */
export async function bootstrapClusterDns(registry: Registry, index: ResourceIndex, services: ServiceAllocation, dns: ClusterDnsEndpoint): Promise<string> {
  const ip = services.dnsServiceIP();
  const labels = { 'k8s-app': 'kube-dns', 'kubernetes.io/name': 'CoreDNS', 'kubernetes.io/cluster-service': 'true' };
  const ports = [
    { name: 'dns', port: 53, protocol: 'UDP', targetPort: dns.port },
    { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: dns.port },
  ];
  const svcEntry = must(index, '', 'v1', 'services');
  const current = await exists(registry, svcEntry, 'kube-system', 'kube-dns');
  if (!current) {
    await registry.create(svcEntry, 'kube-system', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'kube-dns', namespace: 'kube-system', labels },
      spec: { type: 'ClusterIP', clusterIP: ip, clusterIPs: [ip], ports, sessionAffinity: 'None' },
    });
  } else if (!deepEqual((current['spec'] as { ports?: unknown } | undefined)?.ports, ports)) {
    await registry.update(svcEntry, 'kube-system', 'kube-dns', (s) => ({ ...s, spec: { ...((s['spec'] ?? {}) as object), ports } }));
  }
  await ensureFixedEndpoints(registry, index, {
    namespace: 'kube-system',
    name: 'kube-dns',
    labels,
    address: dns.host,
    ports: [
      { name: 'dns', port: dns.port, protocol: 'UDP' },
      { name: 'dns-tcp', port: dns.port, protocol: 'TCP' },
    ],
  });
  return ip;
}
