/**
 * The node lifecycle and DaemonSet controllers against a real `knode server --controllers none`, run
 * in-process (no leader election) with a 3 s node grace period and a 500 ms monitor period. No kubelet
 * runs: this file creates Node objects and plays their kubelets by renewing their Leases
 * (kube-node-lease/<node>) every second and posting their status; pods are bound by hand
 * (spec.nodeName) where a node must own them, and DaemonSet pods stay unbound (no scheduler here), so
 * they are matched to nodes by their required node affinity, as the scheduler would bind them.
 * Reads go through the real kubectl where a user would look.
 */
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import type { Node, NodeCondition } from '../api/core/node.js';
import type { Pod } from '../api/core/pod.js';
import type { Taint, Toleration } from '../api/core/scheduling.js';
import type { Lease } from '../api/coordination/lease.js';
import { runControllerManager } from '../control-plane/controller-manager/manager.js';
import { DaemonSetController } from '../control-plane/controllers/daemonset.js';
import { NodeLifecycleController } from '../control-plane/controllers/node-lifecycle.js';
import { realClock, rfc3339, rfc3339Micro } from '../lib/clock.js';
import { KubeClient } from '../lib/client/client.js';
import { isNotFound } from '../lib/client/errors.js';
import { resources } from '../lib/client/resource.js';
import { createLogger, silentLogger } from '../lib/log.js';
import { at, createNamespace, getJson, listAt } from './helpers/objects.js';
import { startServer } from './helpers/server.js';
import type { TestServer } from './helpers/server.js';
import { waitFor } from './helpers/wait.js';

const GRACE_MS = 3_000;
const UNREACHABLE = 'node.kubernetes.io/unreachable';

let server: TestServer;
let client: KubeClient;
const stop = new AbortController();
let managerDone: Promise<void> | undefined;
/** Nodes whose "kubelet" is alive: their leases are renewed every second. */
const alive = new Set<string>();
let heartbeat: NodeJS.Timeout | undefined;

beforeAll(async () => {
  server = await startServer(['--controllers', 'none']);
  client = await KubeClient.fromKubeconfigFile(server.kubeconfig);
  const { done } = runControllerManager(
    {
      client,
      clock: realClock,
      // KNODE_TEST_LOG=info shows what the controllers do
      log: process.env['KNODE_TEST_LOG'] !== undefined ? createLogger({ test: 'node-lifecycle' }, process.env['KNODE_TEST_LOG']) : silentLogger(),
      registry: new Registry(),
      component: 'kube-controller-manager',
      controllers: (ctx) => [
        new NodeLifecycleController(ctx, { nodeMonitorGracePeriodMs: GRACE_MS, nodeStartupGracePeriodMs: GRACE_MS, nodeMonitorPeriodMs: 500, nodeEvictionRate: 1 }),
        new DaemonSetController(ctx),
      ],
    },
    stop.signal,
  );
  managerDone = done;
  heartbeat = setInterval(() => {
    for (const name of alive) void renewLease(name).catch(() => undefined);
  }, 1_000);
});

afterAll(async () => {
  if (heartbeat !== undefined) clearInterval(heartbeat);
  stop.abort();
  await managerDone;
  client?.close();
  await server?.stop();
});

const healthy = (): NodeCondition[] => {
  const now = rfc3339(new Date());
  const c = (type: string, status: NodeCondition['status'], reason: string): NodeCondition => ({ type, status, reason, message: reason, lastHeartbeatTime: now, lastTransitionTime: now });
  return [c('MemoryPressure', 'False', 'KubeletHasSufficientMemory'), c('DiskPressure', 'False', 'KubeletHasNoDiskPressure'), c('PIDPressure', 'False', 'KubeletHasSufficientPID'), c('Ready', 'True', 'KubeletReady')];
};

/** What a kubelet does at start: the Node, its status, its Lease; then the lease is kept renewed. */
async function addNode(name: string, labels: Record<string, string> = {}, taints: Taint[] = []): Promise<void> {
  await client.create<Node>(resources.nodes, { apiVersion: 'v1', kind: 'Node', metadata: { name, labels }, spec: { taints } });
  await postReadyStatus(name);
  const now = rfc3339Micro(new Date());
  await client.create<Lease>(resources.leases, {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name, namespace: 'kube-node-lease' },
    spec: { holderIdentity: name, leaseDurationSeconds: 40, renewTime: now, acquireTime: now },
  });
  alive.add(name);
}

async function postReadyStatus(name: string): Promise<void> {
  await client.patch(resources.nodes, name, { status: { conditions: healthy() } }, { type: 'merge', subresource: 'status' });
}

async function renewLease(name: string): Promise<void> {
  await client.patch(resources.leases, name, { spec: { renewTime: rfc3339Micro(new Date()) } }, { type: 'merge', namespace: 'kube-node-lease' });
}

async function getNode(name: string): Promise<Node> {
  return (await getJson(server, ['get', 'node', name])) as Node;
}

const readyOf = (n: Node): NodeCondition | undefined => n.status?.conditions?.find((c) => c.type === 'Ready');
const taintNames = (n: Node): string[] => (n.spec?.taints ?? []).map((t) => `${t.key}:${t.effect}`).sort();

async function bindPod(ns: string, name: string, nodeName: string, tolerations: Toleration[] | undefined): Promise<void> {
  await client.create<Pod>(resources.pods, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns },
    spec: { nodeName, containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.10' }], ...(tolerations ? { tolerations } : {}) },
  });
  const now = rfc3339(new Date());
  await client.patch(
    resources.pods,
    name,
    { status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: now }] } },
    { type: 'merge', namespace: ns, subresource: 'status' },
  );
}

/** The pod, or undefined once it is gone. */
async function tryPod(ns: string, name: string): Promise<Pod | undefined> {
  try {
    return await client.get<Pod>(resources.pods, name, { namespace: ns });
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

const evicted = (p: Pod | undefined): boolean => p === undefined || p.metadata.deletionTimestamp !== undefined;

describe('node lifecycle: lease loss, taints, taint-based eviction', () => {
  it('a node whose lease stops is Unknown and tainted; pods go by their tolerations; renewing clears it', async () => {
    await createNamespace(server, 'nl');
    await addNode('nl-healthy'); // a second, healthy node: with every node lost the controller evicts nothing
    await addNode('nl-lost');
    const unreachableFor = (seconds?: number): Toleration => ({ key: UNREACHABLE, operator: 'Exists', effect: 'NoExecute', ...(seconds !== undefined ? { tolerationSeconds: seconds } : {}) });
    // DefaultTolerationSeconds gives every pod 300 s unless it has a toleration for the key and effect;
    // this one has such a toleration that does not match (another value), so nothing tolerates the taint
    await bindPod('nl', 'untolerated', 'nl-lost', [{ key: UNREACHABLE, operator: 'Equal', value: 'never', effect: 'NoExecute' }]);
    await bindPod('nl', 'tol-2s', 'nl-lost', [unreachableFor(2)]);
    await bindPod('nl', 'forever', 'nl-lost', [unreachableFor()]);
    await bindPod('nl', 'default', 'nl-lost', undefined);
    await bindPod('nl', 'elsewhere', 'nl-healthy', undefined);
    // both nodes seen healthy by the controller first
    await waitFor('no taints on healthy nodes', async () => taintNames(await getNode('nl-lost')).length === 0);

    alive.delete('nl-lost');
    const lost = await waitFor('nl-lost Unknown and tainted unreachable:NoExecute', async () => {
      const n = await getNode('nl-lost');
      return readyOf(n)?.status === 'Unknown' && taintNames(n).includes(`${UNREACHABLE}:NoExecute`) ? n : undefined;
    }, { timeoutMs: 20_000 });
    const ready = readyOf(lost);
    expect([ready?.reason, ready?.message]).toEqual(['NodeStatusUnknown', 'Kubelet stopped posting node status.']);
    expect(lost.status?.conditions?.filter((c) => c.status === 'Unknown').map((c) => c.type).sort()).toEqual(['DiskPressure', 'MemoryPressure', 'PIDPressure', 'Ready']);
    await waitFor('unreachable:NoSchedule as well', async () => taintNames(await getNode('nl-lost')).includes(`${UNREACHABLE}:NoSchedule`));
    const taintAdded = Date.parse(lost.spec?.taints?.find((t) => t.key === UNREACHABLE && t.effect === 'NoExecute')?.timeAdded ?? '');

    // the untolerated pod goes at once, with upstream's condition and event
    // (bound pods are deleted gracefully: with no kubelet to finish them they stay, Terminating)
    const gone = await waitFor('the untolerated pod evicted', async () => {
      const p = await tryPod('nl', 'untolerated');
      return p?.metadata.deletionTimestamp !== undefined ? p : undefined;
    }, { timeoutMs: 10_000 });
    const dt = gone.status?.conditions?.find((c) => c.type === 'DisruptionTarget');
    expect([dt?.status, dt?.reason, dt?.message]).toEqual(['True', 'DeletionByTaintManager', 'Taint manager: deleting due to NoExecute taint']);
    // the 2 s one goes about 2 s after the taint was added (timestamps have second precision)
    const p2 = await waitFor('tol-2s evicted', async () => {
      const p = await tryPod('nl', 'tol-2s');
      return p?.metadata.deletionTimestamp !== undefined ? p : undefined;
    }, { timeoutMs: 10_000, intervalMs: 50 });
    const deletedAt = Date.parse(p2.metadata.deletionTimestamp ?? '') - (p2.metadata.deletionGracePeriodSeconds ?? 0) * 1000;
    expect(deletedAt - taintAdded).toBeGreaterThanOrEqual(1_000);
    expect(deletedAt - taintAdded).toBeLessThanOrEqual(5_000);
    const events = await server.kubectlOk(['get', 'events', '-n', 'nl', '--field-selector', 'reason=TaintManagerEviction', '-o', 'jsonpath={range .items[*]}{.message}{"\\n"}{end}']);
    expect(events).toContain('Marking for deletion Pod nl/untolerated');
    expect(events).toContain('Marking for deletion Pod nl/tol-2s');

    // tolerating forever, or for the default 300 s: still there, but marked not ready
    const forever = await waitFor('forever marked Ready=False', async () => {
      const p = await tryPod('nl', 'forever');
      return p?.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'False' ? p : undefined;
    });
    expect(forever.metadata.deletionTimestamp).toBeUndefined();
    expect(evicted(await tryPod('nl', 'default'))).toBe(false);
    expect(evicted(await tryPod('nl', 'elsewhere'))).toBe(false);
    expect(readyOf(await getNode('nl-healthy'))?.status).toBe('True');

    // the kubelet comes back: lease renewed, Ready posted; the taints come off
    alive.add('nl-lost');
    await renewLease('nl-lost');
    await postReadyStatus('nl-lost');
    await waitFor('nl-lost Ready and untainted', async () => {
      const n = await getNode('nl-lost');
      return readyOf(n)?.status === 'True' && taintNames(n).length === 0;
    }, { timeoutMs: 10_000 });
    expect(evicted(await tryPod('nl', 'forever'))).toBe(false);
    expect(evicted(await tryPod('nl', 'default'))).toBe(false);
  }, 60_000);
});

describe('DaemonSet', () => {
  const edge = { role: 'edge' };
  interface DsPod {
    readonly name: string;
    readonly node: string;
    readonly image: string;
    readonly hash: string;
  }
  async function dsPods(): Promise<DsPod[]> {
    const list = await getJson(server, ['get', 'pods', '-n', 'ds', '-l', 'app=edge-agent']);
    return listAt(list, 'items')
      .filter((p) => at(p, 'metadata.deletionTimestamp') === undefined)
      .map((p) => ({
        name: String(at(p, 'metadata.name')),
        node: String(at(p, 'spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms.0.matchFields.0.values.0')),
        image: String(at(p, 'spec.containers.0.image')),
        hash: String(at(p, 'metadata.labels.controller-revision-hash')),
      }))
      .sort((a, b) => (a.node < b.node ? -1 : 1));
  }
  const nodesOf = (pods: readonly DsPod[]): string[] => pods.map((p) => p.node);

  it('runs one pod per eligible node, follows new nodes, and rolls a template change', async () => {
    await createNamespace(server, 'ds');
    await addNode('ds-a', edge);
    await addNode('ds-b', edge);
    await addNode('ds-tainted', edge, [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }]);
    await addNode('ds-core', { role: 'core' });
    await server.kubectlOk(['apply', '-f', '-'], {
      input: JSON.stringify({
        apiVersion: 'apps/v1',
        kind: 'DaemonSet',
        metadata: { name: 'edge-agent', namespace: 'ds' },
        spec: {
          selector: { matchLabels: { app: 'edge-agent' } },
          template: { metadata: { labels: { app: 'edge-agent' } }, spec: { nodeSelector: edge, containers: [{ name: 'agent', image: 'knode.local/agent:1' }] } },
        },
      }),
    });
    const first = await waitFor('pods on ds-a and ds-b only', async () => {
      const pods = await dsPods();
      return JSON.stringify(nodesOf(pods)) === JSON.stringify(['ds-a', 'ds-b']) ? pods : undefined;
    });
    expect(new Set(first.map((p) => p.hash)).size).toBe(1);
    const tolerations = at(await getJson(server, ['get', 'pod', '-n', 'ds', first[0]?.name ?? '']), 'spec.tolerations') as Toleration[];
    expect(tolerations.map((t) => `${t.key}:${t.effect}`)).toEqual(expect.arrayContaining([`${UNREACHABLE}:NoExecute`, 'node.kubernetes.io/unschedulable:NoSchedule']));
    await waitFor('status desired=2 current=2', async () => {
      const s = at(await getJson(server, ['get', 'ds', '-n', 'ds', 'edge-agent']), 'status') as Record<string, number> | undefined;
      return s?.['desiredNumberScheduled'] === 2 && s['currentNumberScheduled'] === 2 && s['numberMisscheduled'] === 0 && s['observedGeneration'] === 1;
    });

    await addNode('ds-new', edge);
    await waitFor('a pod for the new node', async () => JSON.stringify(nodesOf(await dsPods())) === JSON.stringify(['ds-a', 'ds-b', 'ds-new']));

    await server.kubectlOk(['set', 'image', '-n', 'ds', 'daemonset/edge-agent', 'agent=knode.local/agent:2']);
    const rolled = await waitFor('every pod replaced with the new image', async () => {
      const pods = await dsPods();
      return pods.length === 3 && pods.every((p) => p.image === 'knode.local/agent:2') ? pods : undefined;
    }, { timeoutMs: 20_000 });
    expect(nodesOf(rolled)).toEqual(['ds-a', 'ds-b', 'ds-new']);
    expect(new Set(rolled.map((p) => p.hash)).size).toBe(1);
    expect(rolled[0]?.hash).not.toBe(first[0]?.hash);
    await waitFor('status updated=3 observedGeneration=2', async () => {
      const s = at(await getJson(server, ['get', 'ds', '-n', 'ds', 'edge-agent']), 'status') as Record<string, number> | undefined;
      return s?.['updatedNumberScheduled'] === 3 && s['desiredNumberScheduled'] === 3 && s['observedGeneration'] === 2;
    });
    const created = await server.kubectlOk(['get', 'events', '-n', 'ds', '--field-selector', 'reason=SuccessfulCreate', '-o', 'jsonpath={.items[*].message}']);
    expect(created).toContain('Created pod: edge-agent-');
  }, 60_000);
});

describe('DefaultTolerationSeconds admission', () => {
  it('gives a new pod not-ready and unreachable NoExecute tolerations of 300 s', async () => {
    await createNamespace(server, 'adm');
    await server.kubectlOk(['run', 'plain', '-n', 'adm', '--image=registry.k8s.io/pause:3.10']);
    const pod = parseYaml(await server.kubectlOk(['get', 'pod', 'plain', '-n', 'adm', '-o', 'yaml'])) as Pod;
    expect(pod.spec.tolerations).toEqual([
      { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
      { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
    ]);
  });
});
