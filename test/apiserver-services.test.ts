/**
 * Service ClusterIP and NodePort allocation as users and kube-proxy depend on it: addresses from
 * 10.96.0.0/12 and ports from 30000-32767, unique, honouring requests, refusing taken or out-of-range
 * values with upstream's 422 wording, freed on delete and on type changes, and the same after a restart
 * of the server (allocations live in the store, not in memory only).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APISERVER_ONLY, startServer } from './helpers/server.js';
import type { TestServer } from './helpers/server.js';
import { KUBERNETES_SERVICE_IP, LOOPBACK, NODE_PORT_RANGE, SERVICE_CIDR } from './helpers/ip-plan.js';
import { adminClient } from './helpers/api-client.js';
import type { ApiClient } from './helpers/api-client.js';
import { at, createNamespace, getJson, listAt, tryGet } from './helpers/objects.js';

let server: TestServer;
let api: ApiClient;
const NS = 'svc';

beforeAll(async () => {
  server = await startServer(APISERVER_ONLY);
  api = await adminClient(server.kubeconfig);
  await createNamespace(server, NS);
});

afterAll(async () => {
  api?.close();
  await server?.stop();
});

function ipToInt(ip: string): number {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) throw new Error(`not an IPv4 address: ${ip}`);
  return parts.reduce((acc, p) => acc * 256 + p, 0);
}

function inCidr(ip: string, cidr: string): boolean {
  const [base, bits] = cidr.split('/');
  const size = 2 ** (32 - Number(bits));
  const start = ipToInt(String(base));
  const n = ipToInt(ip);
  // Network and broadcast addresses are never handed out.
  return n > start && n < start + size - 1;
}

interface SvcOpts {
  readonly type?: 'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'ExternalName';
  readonly clusterIP?: string;
  readonly nodePort?: number;
  readonly externalName?: string;
  readonly ports?: number;
}

function service(name: string, opts: SvcOpts = {}): Record<string, unknown> {
  const spec: Record<string, unknown> = { type: opts.type ?? 'ClusterIP', selector: { app: name } };
  if (opts.clusterIP !== undefined) spec['clusterIP'] = opts.clusterIP;
  if (opts.externalName !== undefined) spec['externalName'] = opts.externalName;
  spec['ports'] = Array.from({ length: opts.ports ?? 1 }, (_, i) => ({
    name: `p${i}`,
    port: 80 + i,
    protocol: 'TCP',
    ...(i === 0 && opts.nodePort !== undefined ? { nodePort: opts.nodePort } : {}),
  }));
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: NS }, spec };
}

async function create(...svcs: Record<string, unknown>[]): Promise<void> {
  await server.kubectlOk(['create', '-f', '-'], { input: svcs.map((s) => JSON.stringify(s)).join('\n') });
}

async function getSvc(name: string, ns = NS): Promise<unknown> {
  return getJson(server, ['get', 'svc', name, '-n', ns]);
}

/** Every allocated (ClusterIP, NodePorts) of the namespace, keyed by service name. */
async function allocations(): Promise<Map<string, { ip: unknown; nodePorts: unknown[] }>> {
  const list = await getJson(server, ['get', 'svc', '-n', NS]);
  return new Map(
    listAt(list, 'items').map((s) => [
      String(at(s, 'metadata.name')),
      { ip: at(s, 'spec.clusterIP'), nodePorts: listAt(s, 'spec.ports').map((p) => at(p, 'nodePort')) },
    ]),
  );
}

async function postService(svc: Record<string, unknown>): Promise<{ status: number; body: unknown }> {
  const r = await api.post(`/api/v1/namespaces/${NS}/services`, svc);
  return { status: r.status, body: r.body };
}

describe('ClusterIP allocation', () => {
  it('hands out unique addresses from the service CIDR', async () => {
    const names = Array.from({ length: 40 }, (_, i) => `many-${i}`);
    await create(...names.map((n) => service(n)));
    const ips = await Promise.all(names.map(async (n) => String(at(await getSvc(n), 'spec.clusterIP'))));
    expect(new Set(ips).size).toBe(names.length);
    for (const ip of ips) {
      expect(inCidr(ip, SERVICE_CIDR), `${ip} in ${SERVICE_CIDR}`).toBe(true);
      expect(ip).not.toBe(KUBERNETES_SERVICE_IP);
    }
    const one = await getSvc('many-0');
    expect(at(one, 'spec.clusterIPs')).toEqual([at(one, 'spec.clusterIP')]);
    expect(at(one, 'spec.ipFamilies')).toEqual(['IPv4']);
    expect(at(one, 'spec.ipFamilyPolicy')).toBe('SingleStack');
  });

  it('honours a requested address and refuses it to a second service with 422', async () => {
    await create(service('wants-ip', { clusterIP: '10.96.100.100' }));
    expect(at(await getSvc('wants-ip'), 'spec.clusterIP')).toBe('10.96.100.100');

    const r = await server.kubectl(['create', '-f', '-'], { input: JSON.stringify(service('same-ip', { clusterIP: '10.96.100.100' })) });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(
      'The Service "same-ip" is invalid: spec.clusterIPs: Invalid value: []string{"10.96.100.100"}: failed to allocate IP 10.96.100.100: provided IP is already allocated',
    );

    const raw = await postService(service('same-ip', { clusterIP: '10.96.100.100' }));
    expect(raw.status).toBe(422);
    expect(at(raw.body, 'kind')).toBe('Status');
    expect(at(raw.body, 'reason')).toBe('Invalid');
    expect(at(raw.body, 'details.kind')).toBe('Service');
    expect(at(raw.body, 'details.name')).toBe('same-ip');
    expect(listAt(raw.body, 'details.causes').map((c) => at(c, 'field'))).toEqual(['spec.clusterIPs']);
    expect(await tryGet(server, 'svc', 'same-ip', NS)).toBeUndefined();
  });

  it('refuses an address outside the range with 422 naming the valid range', async () => {
    const raw = await postService(service('outside', { clusterIP: '192.168.1.10' }));
    expect(raw.status).toBe(422);
    expect(String(at(raw.body, 'message'))).toContain(
      'failed to allocate IP 192.168.1.10: the provided IP (192.168.1.10) is not in the valid range. The range of valid IPs is 10.96.0.0/12',
    );
  });

  it('may not change the address of an existing service', async () => {
    await create(service('fixed'));
    const r = await server.kubectl(['patch', 'svc', 'fixed', '-n', NS, '--type=merge', '-p', '{"spec":{"clusterIP":"10.96.7.7","clusterIPs":["10.96.7.7"]}}']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('may not change once set');
  });

  it('gives a headless service no address', async () => {
    await create(service('headless', { clusterIP: 'None' }));
    const s = await getSvc('headless');
    expect(at(s, 'spec.clusterIP')).toBe('None');
    expect(at(s, 'spec.clusterIPs')).toEqual(['None']);
    expect(await server.kubectlOk(['get', 'svc', 'headless', '-n', NS])).toMatch(/^headless\s+ClusterIP\s+None\s+<none>\s+80\/TCP\s+\d+s$/m);
  });
});

describe('NodePort allocation', () => {
  it('gives every port of a NodePort or LoadBalancer service a distinct port from the range', async () => {
    await create(service('np-multi', { type: 'NodePort', ports: 3 }), service('lb', { type: 'LoadBalancer' }));
    const ports = listAt(await getSvc('np-multi'), 'spec.ports').map((p) => Number(at(p, 'nodePort')));
    const lbPort = Number(at(await getSvc('lb'), 'spec.ports.0.nodePort'));
    const all = [...ports, lbPort];
    expect(new Set(all).size).toBe(4);
    for (const p of all) {
      expect(p).toBeGreaterThanOrEqual(NODE_PORT_RANGE.min);
      expect(p).toBeLessThanOrEqual(NODE_PORT_RANGE.max);
    }
    expect(await server.kubectlOk(['get', 'svc', 'lb', '-n', NS])).toMatch(new RegExp(`^lb\\s+LoadBalancer\\s+10\\.[\\d.]+\\s+<pending>\\s+80:${lbPort}/TCP`, 'm'));
  });

  it('honours a requested port, refuses a taken one and one outside the range with 422', async () => {
    await create(service('np-fixed', { type: 'NodePort', nodePort: 30080 }));
    expect(at(await getSvc('np-fixed'), 'spec.ports.0.nodePort')).toBe(30080);

    const taken = await server.kubectl(['create', '-f', '-'], { input: JSON.stringify(service('np-taken', { type: 'NodePort', nodePort: 30080 })) });
    expect(taken.code).not.toBe(0);
    expect(taken.stderr).toContain('The Service "np-taken" is invalid: spec.ports[0].nodePort: Invalid value: 30080: provided port is already allocated');

    const outside = await postService(service('np-outside', { type: 'NodePort', nodePort: 40000 }));
    expect(outside.status).toBe(422);
    expect(String(at(outside.body, 'message'))).toContain(
      'spec.ports[0].nodePort: Invalid value: 40000: provided port is not in the valid range. The range of valid ports is 30000-32767',
    );
    expect(listAt(outside.body, 'details.causes').map((c) => at(c, 'field'))).toEqual(['spec.ports[0].nodePort']);
  });
});

describe('releasing allocations', () => {
  it('deleting a service frees its address and node port for a new service', async () => {
    await create(service('short-lived', { type: 'NodePort', clusterIP: '10.96.200.200', nodePort: 30200 }));
    await server.kubectlOk(['delete', 'svc', 'short-lived', '-n', NS]);
    await create(service('successor', { type: 'NodePort', clusterIP: '10.96.200.200', nodePort: 30200 }));
    const s = await getSvc('successor');
    expect(at(s, 'spec.clusterIP')).toBe('10.96.200.200');
    expect(at(s, 'spec.ports.0.nodePort')).toBe(30200);
  });

  it('NodePort -> ExternalName clears the address and releases the node port', async () => {
    await create(service('to-ext', { type: 'NodePort', clusterIP: '10.96.50.50', nodePort: 30090 }));
    await server.kubectlOk(['patch', 'svc', 'to-ext', '-n', NS, '--type=merge', '-p', '{"spec":{"type":"ExternalName","externalName":"db.example.com"}}']);
    const s = await getSvc('to-ext');
    expect(at(s, 'spec.type')).toBe('ExternalName');
    expect(at(s, 'spec.clusterIP')).toBeUndefined();
    expect(at(s, 'spec.clusterIPs')).toBeUndefined();
    expect(at(s, 'spec.ports.0.nodePort')).toBeUndefined();
    expect(await server.kubectlOk(['get', 'svc', 'to-ext', '-n', NS])).toMatch(/^to-ext\s+ExternalName\s+<none>\s+db\.example\.com\s+80\/TCP/m);

    await create(service('reuses-ext', { type: 'NodePort', clusterIP: '10.96.50.50', nodePort: 30090 }));
    expect(at(await getSvc('reuses-ext'), 'spec.ports.0.nodePort')).toBe(30090);
  });

  it('ExternalName -> ClusterIP allocates an address', async () => {
    await create(service('from-ext', { type: 'ExternalName', externalName: 'api.example.com' }));
    expect(at(await getSvc('from-ext'), 'spec.clusterIP')).toBeUndefined();
    await server.kubectlOk(['patch', 'svc', 'from-ext', '-n', NS, '--type=merge', '-p', '{"spec":{"type":"ClusterIP","externalName":null}}']);
    const s = await getSvc('from-ext');
    expect(at(s, 'spec.type')).toBe('ClusterIP');
    expect(inCidr(String(at(s, 'spec.clusterIP')), SERVICE_CIDR)).toBe(true);
  });
});

describe('the kubernetes service', () => {
  it('default/kubernetes has 10.96.0.1 and points at the apiserver through Endpoints and an EndpointSlice', async () => {
    const svc = await getSvc('kubernetes', 'default');
    expect(at(svc, 'spec.clusterIP')).toBe(KUBERNETES_SERVICE_IP);
    expect(at(svc, 'spec.type')).toBe('ClusterIP');
    expect(at(svc, 'spec.ports')).toEqual([{ name: 'https', port: 443, protocol: 'TCP', targetPort: server.port }]);
    expect(at(svc, 'metadata.labels')).toEqual({ component: 'apiserver', provider: 'kubernetes' });

    const ep = await getJson(server, ['get', 'endpoints', 'kubernetes', '-n', 'default']);
    expect(listAt(ep, 'subsets')).toHaveLength(1);
    expect(listAt(ep, 'subsets.0.addresses').map((a) => at(a, 'ip'))).toEqual([LOOPBACK]);
    expect(at(ep, 'subsets.0.ports')).toEqual([{ name: 'https', port: server.port, protocol: 'TCP' }]);

    const slice = await getJson(server, ['get', 'endpointslices.discovery.k8s.io', 'kubernetes', '-n', 'default']);
    const labels = at(slice, 'metadata.labels') as Record<string, string> | undefined;
    expect(labels?.['kubernetes.io/service-name']).toBe('kubernetes');
    expect(at(slice, 'addressType')).toBe('IPv4');
    expect(listAt(slice, 'endpoints').map((e) => at(e, 'addresses'))).toEqual([[LOOPBACK]]);
    expect(at(slice, 'ports')).toEqual([{ name: 'https', port: server.port, protocol: 'TCP' }]);
  });
});

describe('after a restart of the server', () => {
  it('keeps every allocation and does not hand a taken address or port to a new service', async () => {
    await create(service('pre-restart', { type: 'NodePort' }));
    const before = await allocations();
    expect(before.size).toBeGreaterThan(40);

    await server.stopProcess('SIGTERM');
    await server.restart();
    // the old keep-alive sockets point at the stopped process
    api.close();
    api = await adminClient(server.kubeconfig);

    expect(await allocations()).toEqual(before);
    expect(at(await getSvc('kubernetes', 'default'), 'spec.clusterIP')).toBe(KUBERNETES_SERVICE_IP);

    const names = Array.from({ length: 20 }, (_, i) => `post-${i}`);
    await create(...names.map((n) => service(n, { type: 'NodePort' })));
    const after = await allocations();
    const takenIps = new Set<unknown>([...before.values()].map((a) => a.ip));
    const takenPorts = new Set<unknown>([...before.values()].flatMap((a) => a.nodePorts).filter((p) => p !== undefined));
    const newIps = names.map((n) => after.get(n)?.ip);
    const newPorts = names.map((n) => after.get(n)?.nodePorts[0]);
    expect(new Set(newIps).size).toBe(names.length);
    expect(new Set(newPorts).size).toBe(names.length);
    for (const ip of newIps) expect(takenIps.has(ip), `${String(ip)} reused`).toBe(false);
    for (const p of newPorts) expect(takenPorts.has(p), `${String(p)} reused`).toBe(false);

    const again = await postService(service('dup-after-restart', { clusterIP: '10.96.100.100' }));
    expect(again.status).toBe(422);
    expect(String(at(again.body, 'message'))).toContain('provided IP is already allocated');
  });
});
