/**
 * The EndpointSlice, Endpoints, ServiceAccount and pod GC controllers against a real `knode server`
 * (started with --controllers none) and real kubectl; the controllers run in this process through
 * runControllerManager, as `knode server` runs them. The server has no kubelets: the test creates the
 * Node objects and sets pod status (IP, Ready) through the status subresource, as a kubelet would.
 * Pod IPs follow the test IP plan (10.244.0.0/16).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { KubeClient } from '../lib/client/client.js';
import { realClock } from '../lib/clock.js';
import { silentLogger } from '../lib/log.js';
import { runControllerManager } from '../control-plane/controller-manager/manager.js';
import { EndpointSliceController } from '../control-plane/controllers/endpointslice.js';
import { EndpointsController } from '../control-plane/controllers/endpoints.js';
import { ServiceAccountController } from '../control-plane/controllers/serviceaccount.js';
import { PodGCController } from '../control-plane/controllers/podgc.js';
import { startServer } from './helpers/server.js';
import type { TestServer } from './helpers/server.js';
import { at, createNamespace, getJson, listAt, tryGet } from './helpers/objects.js';
import { waitFor } from './helpers/wait.js';

const NS = 'shop';
let server: TestServer;
let client: KubeClient;
const stop = new AbortController();
let managerDone: Promise<void> | undefined;

beforeAll(async () => {
  server = await startServer(['--controllers', 'none']);
  client = await KubeClient.fromKubeconfigFile(server.kubeconfig);
  const cm = runControllerManager(
    {
      client,
      clock: realClock,
      log: silentLogger(),
      registry: new Registry(),
      component: 'kube-controller-manager',
      controllers: (ctx) => [
        new EndpointSliceController(ctx),
        new EndpointsController(ctx),
        new ServiceAccountController(ctx),
        new PodGCController(ctx, { gcCheckPeriodMs: 300, quarantineMs: 2_000, terminatedPodThreshold: 2 }),
      ],
    },
    stop.signal,
  );
  managerDone = cm.done;
  await node('n1');
  await createNamespace(server, NS);
});

afterAll(async () => {
  stop.abort();
  await managerDone;
  client?.close();
  await server?.stop();
});

async function node(name: string): Promise<void> {
  await server.kubectlOk(['create', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name } }) });
}

async function pod(name: string, labels: Record<string, string>, opts: { port?: number; node?: string; ns?: string } = {}): Promise<void> {
  const manifest = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: opts.ns ?? NS, labels },
    spec: { nodeName: opts.node ?? 'n1', containers: [{ name: 'app', image: 'registry.k8s.io/pause:3.10', ports: [{ name: 'http', containerPort: opts.port ?? 8080 }] }] },
  };
  await server.kubectlOk(['create', '-f', '-'], { input: JSON.stringify(manifest) });
}

/** What the kubelet would report: Running with an IP, Ready or not. */
async function setStatus(name: string, ip: string, ready: boolean, ns = NS): Promise<void> {
  const status = { phase: 'Running', podIP: ip, podIPs: [{ ip }], conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] };
  await server.kubectlOk(['patch', 'pod', name, '-n', ns, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status })]);
}

async function slices(svc: string): Promise<unknown[]> {
  return [...listAt(await getJson(server, ['get', 'endpointslices', '-n', NS, '-l', `kubernetes.io/service-name=${svc}`]), 'items')];
}

/** Every endpoint of the Service's slices as `pod ip port ready/serving/terminating`, sorted. */
async function sliceView(svc: string): Promise<string[]> {
  const out: string[] = [];
  for (const s of await slices(svc)) {
    const ports = listAt(s, 'ports').map((p) => String(at(p, 'port'))).join(',');
    for (const e of listAt(s, 'endpoints')) {
      const c = (k: string): string => (at(e, `conditions.${k}`) === true ? 'T' : 'F');
      out.push(`${String(at(e, 'targetRef.name'))} ${String(at(e, 'addresses.0'))} ${ports} ${c('ready')}${c('serving')}${c('terminating')}`);
    }
  }
  return out.sort();
}

/** The Endpoints object as `ready: ip:port,... | notReady: ip:port,...` (pairs sorted). */
async function endpointsView(svc: string): Promise<string> {
  const ep = await tryGet(server, 'endpoints', svc, NS);
  if (ep === undefined) return '(none)';
  const ready: string[] = [];
  const notReady: string[] = [];
  for (const ss of listAt(ep, 'subsets')) {
    for (const p of listAt(ss, 'ports')) {
      for (const a of listAt(ss, 'addresses')) ready.push(`${String(at(a, 'ip'))}:${String(at(p, 'port'))}`);
      for (const a of listAt(ss, 'notReadyAddresses')) notReady.push(`${String(at(a, 'ip'))}:${String(at(p, 'port'))}`);
    }
  }
  return `ready: ${ready.sort().join(',')} | notReady: ${notReady.sort().join(',')}`;
}

async function until<T>(what: string, read: () => Promise<T>, want: T): Promise<void> {
  let last: T | undefined;
  await waitFor(
    () => `${what} to be ${JSON.stringify(want)} (last ${JSON.stringify(last)})`,
    async () => {
      last = await read();
      return JSON.stringify(last) === JSON.stringify(want);
    },
    { timeoutMs: 20_000 },
  );
}

describe('EndpointSlice and Endpoints controllers', () => {
  it('list the ready pods a Service selects, named ports resolved per pod', async () => {
    const svc = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: NS, labels: { app: 'web' } }, spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] } };
    await server.kubectlOk(['create', '-f', '-'], { input: JSON.stringify(svc) });
    await pod('web-a', { app: 'web' }, { port: 8080 });
    await pod('web-b', { app: 'web' }, { port: 9090 });
    // a pod without an IP yet is in neither object
    await until('the slices of a Service whose pods have no IP', () => sliceView('web'), []);
    await setStatus('web-a', '10.244.0.10', true);
    await setStatus('web-b', '10.244.0.11', true);
    await until('the slices', () => sliceView('web'), ['web-a 10.244.0.10 8080 TTF', 'web-b 10.244.0.11 9090 TTF']);
    await until('the Endpoints', () => endpointsView('web'), 'ready: 10.244.0.10:8080,10.244.0.11:9090 | notReady: ');

    const all = await slices('web');
    expect(all).toHaveLength(2); // one per port set
    const uid = at(await getJson(server, ['get', 'service', 'web', '-n', NS]), 'metadata.uid');
    const podUid = at(await getJson(server, ['get', 'pod', 'web-a', '-n', NS]), 'metadata.uid');
    for (const s of all) {
      expect(at(s, 'metadata.labels')).toEqual({ app: 'web', 'kubernetes.io/service-name': 'web', 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' });
      expect(at(s, 'metadata.ownerReferences')).toEqual([{ apiVersion: 'v1', kind: 'Service', name: 'web', uid, controller: true, blockOwnerDeletion: true }]);
      expect(String(at(s, 'metadata.name'))).toMatch(/^web-[a-z0-9]{5}$/);
      expect(at(s, 'addressType')).toBe('IPv4');
      expect(at(s, 'endpoints.0.nodeName')).toBe('n1');
    }
    const a = all.find((s) => at(s, 'endpoints.0.targetRef.name') === 'web-a');
    expect(at(a, 'endpoints.0.targetRef')).toEqual({ kind: 'Pod', namespace: NS, name: 'web-a', uid: podUid });
    expect(at(a, 'ports')).toEqual([{ name: 'http', port: 8080, protocol: 'TCP' }]);
    const ep = await getJson(server, ['get', 'endpoints', 'web', '-n', NS]);
    expect(at(ep, 'metadata.labels')).toEqual({ app: 'web' });
    const addr = listAt(ep, 'subsets').flatMap((s) => listAt(s, 'addresses')).find((x) => at(x, 'ip') === '10.244.0.10');
    expect(addr).toEqual({ ip: '10.244.0.10', nodeName: 'n1', targetRef: { kind: 'Pod', namespace: NS, name: 'web-a', uid: podUid } });
    // kubectl's own view
    expect(await server.kubectlOk(['get', 'endpoints', 'web', '-n', NS])).toMatch(/10\.244\.0\.10:8080,10\.244\.0\.11:9090/);
  });

  it('follow readiness: a pod that is not Ready is ready=false and a notReadyAddress', async () => {
    await setStatus('web-b', '10.244.0.11', false);
    await until('the slices', () => sliceView('web'), ['web-a 10.244.0.10 8080 TTF', 'web-b 10.244.0.11 9090 FFF']);
    await until('the Endpoints', () => endpointsView('web'), 'ready: 10.244.0.10:8080 | notReady: 10.244.0.11:9090');
  });

  it('publishNotReadyAddresses publishes the not-ready pod as ready', async () => {
    await server.kubectlOk(['patch', 'service', 'web', '-n', NS, '--type=merge', '-p', '{"spec":{"publishNotReadyAddresses":true}}']);
    await until('the slices', () => sliceView('web'), ['web-a 10.244.0.10 8080 TTF', 'web-b 10.244.0.11 9090 TFF']);
    await until('the Endpoints', () => endpointsView('web'), 'ready: 10.244.0.10:8080,10.244.0.11:9090 | notReady: ');
    await server.kubectlOk(['patch', 'service', 'web', '-n', NS, '--type=merge', '-p', '{"spec":{"publishNotReadyAddresses":false}}']);
    await until('the slices', () => sliceView('web'), ['web-a 10.244.0.10 8080 TTF', 'web-b 10.244.0.11 9090 FFF']);
  });

  it('a terminating pod is serving and terminating in its slice and leaves the Endpoints; once gone it leaves the slice', async () => {
    await server.kubectlOk(['delete', 'pod', 'web-a', '-n', NS, '--wait=false']);
    await until('the slices', () => sliceView('web'), ['web-a 10.244.0.10 8080 FTT', 'web-b 10.244.0.11 9090 FFF']);
    await until('the Endpoints', () => endpointsView('web'), 'ready:  | notReady: 10.244.0.11:9090');
    await server.kubectlOk(['delete', 'pod', 'web-a', '-n', NS, '--grace-period=0', '--force']);
    await until('the slices', () => sliceView('web'), ['web-b 10.244.0.11 9090 FFF']);
  });

  it('a deleted slice is recreated', async () => {
    const before = (await slices('web')).map((s) => String(at(s, 'metadata.name')));
    await server.kubectlOk(['delete', 'endpointslices', '-n', NS, '-l', 'kubernetes.io/service-name=web']);
    await until('the slices', () => sliceView('web'), ['web-b 10.244.0.11 9090 FFF']);
    const after = (await slices('web')).map((s) => String(at(s, 'metadata.name')));
    expect(after).toHaveLength(1);
    expect(before).not.toContain(after[0]);
  });

  it('a deleted Endpoints object is recreated', async () => {
    await server.kubectlOk(['delete', 'endpoints', 'web', '-n', NS]);
    await until('the Endpoints', () => endpointsView('web'), 'ready:  | notReady: 10.244.0.11:9090');
  });

  it('a selector change moves the endpoints to the newly selected pods', async () => {
    await pod('api-a', { app: 'api' }, { port: 7070 });
    await setStatus('api-a', '10.244.0.20', true);
    await server.kubectlOk(['patch', 'service', 'web', '-n', NS, '--type=merge', '-p', '{"spec":{"selector":{"app":"api"}}}']);
    await until('the slices', () => sliceView('web'), ['api-a 10.244.0.20 7070 TTF']);
    await until('the Endpoints', () => endpointsView('web'), 'ready: 10.244.0.20:7070 | notReady: ');
    // a label change on a pod moves it in or out
    await server.kubectlOk(['label', 'pod', 'web-b', '-n', NS, 'app=api', '--overwrite']);
    await until('the slices', () => sliceView('web'), ['api-a 10.244.0.20 7070 TTF', 'web-b 10.244.0.11 9090 FFF']);
  });

  it('selector-less Services are left alone; deleting a Service removes its Endpoints and slices', async () => {
    await server.kubectlOk(['create', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'manual', namespace: NS }, spec: { ports: [{ port: 80 }] } }) });
    await server.kubectlOk(['delete', 'service', 'web', '-n', NS]);
    await until('the Endpoints of the deleted Service', () => endpointsView('web'), '(none)');
    await until('the slices of the deleted Service', () => slices('web').then((s) => s.length), 0);
    expect(await slices('manual')).toEqual([]);
    expect(await tryGet(server, 'endpoints', 'manual', NS)).toBeUndefined();
    // the apiserver's own kubernetes Endpoints and slice are untouched
    const own = listAt(await getJson(server, ['get', 'endpointslices', '-n', 'default', '-l', 'kubernetes.io/service-name=kubernetes']), 'items');
    expect(own.map((s) => at(s, 'metadata.labels') as Record<string, string>).map((l) => l['endpointslice.kubernetes.io/managed-by'])).toEqual(['knode-apiserver']);
    expect(listAt(await getJson(server, ['get', 'endpoints', 'kubernetes', '-n', 'default']), 'subsets')).toHaveLength(1);
  });
});

describe('ServiceAccount controller', () => {
  it('gives a new namespace its `default` ServiceAccount and recreates it when deleted', async () => {
    await createNamespace(server, 'team-a');
    const first = await waitFor('the default ServiceAccount', () => tryGet(server, 'serviceaccount', 'default', 'team-a'));
    await server.kubectlOk(['delete', 'serviceaccount', 'default', '-n', 'team-a']);
    const again = await waitFor('the default ServiceAccount again', async () => {
      const sa = await tryGet(server, 'serviceaccount', 'default', 'team-a');
      return sa !== undefined && at(sa, 'metadata.uid') !== at(first, 'metadata.uid') ? sa : undefined;
    });
    expect(at(again, 'metadata.name')).toBe('default');
  });

  it('the system namespaces have one too', async () => {
    for (const ns of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) {
      await waitFor(`the default ServiceAccount in ${ns}`, () => tryGet(server, 'serviceaccount', 'default', ns));
    }
  });
});

describe('pod GC', () => {
  it('force-deletes pods bound to a node that does not exist, after the quarantine; a node created in time saves its pods', async () => {
    await createNamespace(server, 'gc');
    await pod('late', {}, { ns: 'gc', node: 'late-node' });
    await node('late-node');
    await pod('orphan', {}, { ns: 'gc', node: 'ghost' });
    await pod('fine', {}, { ns: 'gc', node: 'n1' });
    await setStatus('orphan', '10.244.0.30', true, 'gc');
    await waitFor('the orphan pod to be removed', async () => (await tryGet(server, 'pod', 'orphan', 'gc')) === undefined);
    expect(await tryGet(server, 'pod', 'late', 'gc')).toBeDefined();
    expect(await tryGet(server, 'pod', 'fine', 'gc')).toBeDefined();
  });

  it('deletes terminated pods beyond the threshold, oldest first', async () => {
    for (const name of ['done-1', 'done-2', 'done-3']) {
      await pod(name, {}, { ns: 'gc' });
      await server.kubectlOk(['patch', 'pod', name, '-n', 'gc', '--subresource=status', '--type=merge', '-p', '{"status":{"phase":"Failed"}}']);
    }
    await waitFor('the oldest terminated pod to be removed', async () => (await tryGet(server, 'pod', 'done-1', 'gc')) === undefined);
    expect(await tryGet(server, 'pod', 'done-2', 'gc')).toBeDefined();
    expect(await tryGet(server, 'pod', 'done-3', 'gc')).toBeDefined();
  });

  it('removes unscheduled pods once they are being deleted', async () => {
    await server.kubectlOk(['create', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'pending', namespace: 'gc', finalizers: ['example.com/hold'] }, spec: { containers: [{ name: 'app', image: 'registry.k8s.io/pause:3.10' }] } }) });
    await server.kubectlOk(['delete', 'pod', 'pending', '-n', 'gc', '--wait=false']);
    // the finalizer keeps it; pod GC marks it Failed (its delete cannot remove it before the finalizer goes)
    await waitFor('the pending pod to be marked Failed', async () => at(await tryGet(server, 'pod', 'pending', 'gc'), 'status.phase') === 'Failed');
    await server.kubectlOk(['patch', 'pod', 'pending', '-n', 'gc', '--type=merge', '-p', '{"metadata":{"finalizers":null}}']);
    await waitFor('the pending pod to be gone', async () => (await tryGet(server, 'pod', 'pending', 'gc')) === undefined);
  });
});
