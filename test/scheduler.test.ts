/**
 * The scheduler against a real `knode server` (--controllers none: nothing else schedules or owns pods),
 * run in-process behind its `kube-system/kube-scheduler` lease. Nodes are plain Node objects this file
 * creates (Ready, with allocatable cpu/memory/pods); no agent runs, so pods stay Pending once bound.
 * Each test works in its own namespace and on its own nodes (selected by a `pool` label), so the
 * FailedScheduling counts it asserts are exact: every node outside the pool is counted as
 * "didn't match Pod's node affinity/selector".
 */
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Node } from '../api/core/node.js';
import type { Pod } from '../api/core/pod.js';
import type { KubeObject } from '../api/meta.js';
import { makeNode, makePod, mutated } from '../control-plane/scheduler/test-fixtures.js';
import type { DeepMutable } from '../control-plane/scheduler/test-fixtures.js';
import { runScheduler } from '../control-plane/scheduler/scheduler.js';
import { realClock } from '../lib/clock.js';
import { KubeClient } from '../lib/client/client.js';
import { resources } from '../lib/client/resource.js';
import { silentLogger } from '../lib/log.js';
import { at, createNamespace, getJson, listAt } from './helpers/objects.js';
import { startServer } from './helpers/server.js';
import type { TestServer } from './helpers/server.js';
import { waitFor } from './helpers/wait.js';

let server: TestServer;
let client: KubeClient;
const stopScheduler = new AbortController();
let schedulerDone: Promise<void> | undefined;
/** Every node this file created, for the "0/N nodes" counts. */
const nodeNames: string[] = [];

beforeAll(async () => {
  server = await startServer(['--controllers', 'none']);
  client = await KubeClient.fromKubeconfigFile(server.kubeconfig);
  const { done } = runScheduler({ client, clock: realClock, log: silentLogger(), registry: new Registry(), leaderElection: {} }, stopScheduler.signal);
  schedulerDone = done;
});

afterAll(async () => {
  stopScheduler.abort();
  await schedulerDone;
  client?.close();
  await server?.stop();
});

async function addNode(name: string, pool: string, mutate?: (n: DeepMutable<Node>) => void, shape: { cpu?: string } = {}): Promise<void> {
  const node = mutated(makeNode(name, { cpu: shape.cpu ?? '4', memory: '8Gi', pods: '110', labels: { pool } }), mutate);
  await client.create<Node>(resources.nodes, node);
  // the status of a created object may be dropped (it belongs to the status subresource), and the
  // server's node IPAM writes the node meanwhile: set the status with a patch, which needs no version
  await setNodeStatus(name, node.status ?? {});
  nodeNames.push(name);
}

async function removeNode(name: string): Promise<void> {
  await client.delete(resources.nodes, name);
  nodeNames.splice(nodeNames.indexOf(name), 1);
}

async function setNodeStatus(name: string, status: NonNullable<Node['status']>): Promise<void> {
  await client.patch(resources.nodes, name, { status }, { type: 'merge', subresource: 'status' });
}

async function addPod(ns: string, pod: Pod): Promise<void> {
  const { uid: _uid, ...metadata } = pod.metadata;
  await client.create<Pod>(resources.pods, { ...pod, metadata: { ...metadata, namespace: ns } });
}

function inPool(pool: string) {
  return (p: DeepMutable<Pod>): void => {
    p.spec.nodeSelector = { ...p.spec.nodeSelector, pool };
  };
}

async function nodeOf(ns: string, name: string): Promise<string | undefined> {
  const p = await client.get<Pod>(resources.pods, name, { namespace: ns });
  return p.spec.nodeName !== undefined && p.spec.nodeName !== '' ? p.spec.nodeName : undefined;
}

const waitBound = (ns: string, name: string): Promise<string> => waitFor(`${ns}/${name} bound`, () => nodeOf(ns, name), { timeoutMs: 20_000 });

/** The FailedScheduling message of a pod, from `kubectl get events`. */
async function failedScheduling(ns: string, pod: string): Promise<string | undefined> {
  const list = await getJson(server, ['get', 'events', '-n', ns, '--field-selector', `involvedObject.name=${pod}`]);
  const ev = listAt(list, 'items').filter((e) => at(e, 'reason') === 'FailedScheduling');
  return ev.length > 0 ? String(at(ev[ev.length - 1], 'message')) : undefined;
}

/** Waits until the pod says PodScheduled=False/Unschedulable and the event exists; returns its message. */
async function waitUnschedulable(ns: string, pod: string, want: string): Promise<void> {
  await waitFor(
    `${ns}/${pod} unschedulable with "${want}"`,
    async () => {
      const p = await client.get<Pod>(resources.pods, pod, { namespace: ns });
      const c = p.status?.conditions?.find((x) => x.type === 'PodScheduled');
      const event = await failedScheduling(ns, pod);
      if (c?.status === 'False' && c.reason === 'Unschedulable' && c.message === want && event === want) return true;
      throw new Error(`condition ${JSON.stringify(c)}, event message ${JSON.stringify(event)}`);
    },
    { timeoutMs: 20_000 },
  );
}

/** "n reason" entries, equal reasons added up, sorted as strings (upstream's histogram). */
function histogram(entries: ReadonlyArray<readonly [number, string]>): string {
  const counts = new Map<string, number>();
  for (const [n, reason] of entries) if (n > 0) counts.set(reason, (counts.get(reason) ?? 0) + n);
  return [...counts].map(([reason, n]) => `${n} ${reason}`).sort().join(', ');
}

/** Upstream's message when `inPoolReason` holds on the pool's nodes and every other node is filtered by the selector. */
function expectedMessage(poolSize: number, inPoolReason: string, resolvable: boolean): string {
  const total = nodeNames.length;
  const others = total - poolSize;
  const filters = histogram([
    [poolSize, inPoolReason],
    [others, "node(s) didn't match Pod's node affinity/selector"],
  ]);
  const post = histogram([
    [poolSize, resolvable ? 'No preemption victims found for incoming pod' : 'Preemption is not helpful for scheduling'],
    [others, 'Preemption is not helpful for scheduling'],
  ]);
  return `0/${total} nodes are available: ${filters}. preemption: 0/${total} nodes are available: ${post}.`;
}

describe('scheduler', () => {
  it('binds pods and spreads the replicas of one owner over the nodes, as kubectl shows', async () => {
    await createNamespace(server, 'spread');
    for (const n of ['w1', 'w2', 'w3']) await addNode(n, 'workers');
    // an owner that exists (no controller runs for it), so the garbage collector keeps its pods
    const rs = await client.create<KubeObject>(resources.replicaSets, {
      metadata: { name: 'web', namespace: 'spread' },
      spec: { replicas: 6, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'x' }] } } },
    });
    const ownerUID = rs.metadata.uid ?? '';
    for (let i = 0; i < 6; i++) await addPod('spread', mutated(makePod(`web-${i}`, { labels: { app: 'web' }, ownerUID }), inPool('workers')));
    const placed = await Promise.all([0, 1, 2, 3, 4, 5].map((i) => waitBound('spread', `web-${i}`)));
    const perNode = new Map<string, number>();
    for (const n of placed) perNode.set(n, (perNode.get(n) ?? 0) + 1);
    expect(Object.fromEntries([...perNode].sort())).toEqual({ w1: 2, w2: 2, w3: 2 });

    const wide = await server.kubectlOk(['get', 'pods', '-n', 'spread', '-o', 'wide']);
    expect(wide).toMatch(/web-0\s+0\/1\s+Pending\s+0\s+\S+\s+<none>\s+w[123]\s/);
    const pod = await getJson(server, ['get', 'pod', 'web-0', '-n', 'spread']);
    expect(listAt(pod, 'status.conditions').find((c) => at(c, 'type') === 'PodScheduled')).toMatchObject({ status: 'True' });
    const describe = await waitFor('the Scheduled event in kubectl describe', async () => {
      const out = await server.kubectlOk(['describe', 'pod', 'web-0', '-n', 'spread']);
      return /Normal\s+Scheduled\s+\S+\s+default-scheduler\s+Successfully assigned spread\/web-0 to w[123]/.test(out) && out;
    });
    expect(describe).toContain('default-scheduler');
    const lease = await getJson(server, ['get', 'lease', 'kube-scheduler', '-n', 'kube-system']);
    expect(String(at(lease, 'spec.holderIdentity'))).not.toBe('');
  });

  it('honours nodeSelector', async () => {
    await createNamespace(server, 'selector');
    await addNode('ssd-1', 'disks', (n) => void (n.metadata.labels = { ...n.metadata.labels, disk: 'ssd' }));
    await addNode('hdd-1', 'disks', (n) => void (n.metadata.labels = { ...n.metadata.labels, disk: 'hdd' }));
    for (let i = 0; i < 3; i++) await addPod('selector', mutated(makePod(`db-${i}`), (p) => void (p.spec.nodeSelector = { pool: 'disks', disk: 'ssd' })));
    for (let i = 0; i < 3; i++) expect(await waitBound('selector', `db-${i}`)).toBe('ssd-1');
  });

  it('keeps a pod Pending on an untolerated taint, says why like upstream, and binds it once a matching node appears', async () => {
    await createNamespace(server, 'taints');
    await addNode('gpu-1', 'gpu', (n) => void (n.spec = { taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] }));
    await addPod('taints', mutated(makePod('trainer'), inPool('gpu')));
    const want = expectedMessage(1, 'node(s) had untolerated taint {dedicated: gpu}', false);
    await waitUnschedulable('taints', 'trainer', want);
    const describe = await server.kubectlOk(['describe', 'pod', 'trainer', '-n', 'taints']);
    expect(describe).toMatch(/Warning\s+FailedScheduling\s+\S+\s+default-scheduler\s+0\/\d+ nodes are available:/);
    expect(describe.replace(/\s+/g, ' ')).toContain('1 node(s) had untolerated taint {dedicated: gpu}');
    const events = await server.kubectlOk(['get', 'events', '-n', 'taints']);
    expect(events).toMatch(/Warning\s+FailedScheduling\s+pod\/trainer/);
    expect(await nodeOf('taints', 'trainer')).toBeUndefined();

    await addNode('gpu-2', 'gpu');
    expect(await waitBound('taints', 'trainer')).toBe('gpu-2');
    // the tainted node would fail other tests' pods on its taint before their selector: remove it
    await removeNode('gpu-1');
  });

  it('retries a pod when its node becomes Ready, and respects kubectl cordon', async () => {
    await createNamespace(server, 'ready');
    await addNode('late-1', 'late', (n) => void (n.status!.conditions = [{ type: 'Ready', status: 'False', reason: 'KubeletNotReady' }]));
    await addPod('ready', mutated(makePod('waiter'), inPool('late')));
    await waitUnschedulable('ready', 'waiter', expectedMessage(1, 'node(s) had untolerated taint {node.kubernetes.io/not-ready: }', false));
    await server.kubectlOk(['cordon', 'late-1']);
    await setNodeStatus('late-1', { conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady' }] });
    await waitUnschedulable('ready', 'waiter', expectedMessage(1, 'node(s) were unschedulable', false));
    await server.kubectlOk(['uncordon', 'late-1']);
    expect(await waitBound('ready', 'waiter')).toBe('late-1');
  });

  it('does not put two pods with the same host port on one node, and uses a freed port', async () => {
    await createNamespace(server, 'ports');
    await addNode('port-1', 'ports');
    await addNode('port-2', 'ports');
    for (let i = 0; i < 3; i++) await addPod('ports', mutated(makePod(`edge-${i}`, { hostPort: 8080 }), inPool('ports')));
    const bound = await waitFor('two of three edge pods bound', async () => {
      const names: string[] = [];
      for (let i = 0; i < 3; i++) if ((await nodeOf('ports', `edge-${i}`)) !== undefined) names.push(`edge-${i}`);
      return names.length === 2 && names;
    });
    const pending = ['edge-0', 'edge-1', 'edge-2'].find((n) => !bound.includes(n)) ?? '';
    expect(new Set([await nodeOf('ports', bound[0] ?? ''), await nodeOf('ports', bound[1] ?? '')])).toEqual(new Set(['port-1', 'port-2']));
    await waitUnschedulable('ports', pending, expectedMessage(2, "node(s) didn't have free ports for the requested pod ports", true));

    const freed = await nodeOf('ports', bound[0] ?? '');
    await client.delete(resources.pods, bound[0] ?? '', { namespace: 'ports', gracePeriodSeconds: 0 });
    expect(await waitBound('ports', pending)).toBe(freed);
  });

  it('keeps pods with required hostname anti-affinity on different nodes', async () => {
    await createNamespace(server, 'anti');
    await addNode('anti-1', 'anti');
    await addNode('anti-2', 'anti');
    const solo = (name: string): Pod =>
      mutated(makePod(name, { labels: { app: 'solo' } }), (p) => {
        p.spec.nodeSelector = { pool: 'anti' };
        p.spec.affinity = { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'solo' } }, topologyKey: 'kubernetes.io/hostname' }] } };
      });
    await addPod('anti', solo('solo-0'));
    await addPod('anti', solo('solo-1'));
    expect(new Set([await waitBound('anti', 'solo-0'), await waitBound('anti', 'solo-1')])).toEqual(new Set(['anti-1', 'anti-2']));
    await addPod('anti', solo('solo-2'));
    await waitUnschedulable('anti', 'solo-2', expectedMessage(2, "node(s) didn't match pod anti-affinity rules", true));
  });

  it('spreads pods over zones by a DoNotSchedule topology spread constraint, and keeps one Pending when the skew would break', async () => {
    await createNamespace(server, 'zones');
    await addNode('zones-1', 'zones', (n) => void (n.metadata.labels = { ...n.metadata.labels, zone: 'a' }));
    await addNode('zones-2', 'zones', (n) => void (n.metadata.labels = { ...n.metadata.labels, zone: 'a' }));
    await addNode('zones-3', 'zones', (n) => void (n.metadata.labels = { ...n.metadata.labels, zone: 'b' }));
    const zoneOf = (node: string): string => (node === 'zones-3' ? 'b' : 'a');
    const spread = (name: string): Pod =>
      mutated(makePod(name, { labels: { app: 'spread' } }), (p) => {
        p.spec.nodeSelector = { pool: 'zones' };
        p.spec.topologySpreadConstraints = [{ maxSkew: 1, topologyKey: 'zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 'spread' } } }];
      });
    const zones: string[] = [];
    for (const name of ['s-0', 's-1']) {
      await addPod('zones', spread(name));
      zones.push(zoneOf(await waitBound('zones', name)));
    }
    expect(zones.sort()).toEqual(['a', 'b']);
    // zone b closes: one more fits in zone a (skew 1), the next would make it 2
    await server.kubectlOk(['cordon', 'zones-3']);
    await addPod('zones', spread('s-2'));
    expect(zoneOf(await waitBound('zones', 's-2'))).toBe('a');
    await addPod('zones', spread('s-3'));
    const message = await waitFor('s-3 to be unschedulable', () => failedScheduling('zones', 's-3'), { timeoutMs: 20_000 });
    expect(message).toContain("2 node(s) didn't match pod topology spread constraints");
    expect(message).toContain('1 node(s) were unschedulable');
    await server.kubectlOk(['uncordon', 'zones-3']);
    expect(await waitBound('zones', 's-3')).toBe('zones-3');
  });

  it('stops at the node allocatable, counting what is bound, and binds once room is freed', async () => {
    await createNamespace(server, 'full');
    await addNode('small-1', 'small', undefined, { cpu: '1' });
    await addPod('full', mutated(makePod('first', { cpu: '600m' }), inPool('small')));
    expect(await waitBound('full', 'first')).toBe('small-1');
    await addPod('full', mutated(makePod('second', { cpu: '600m' }), inPool('small')));
    await waitUnschedulable('full', 'second', expectedMessage(1, 'Insufficient cpu', true));
    const describe = await server.kubectlOk(['describe', 'pod', 'second', '-n', 'full']);
    expect(describe).toMatch(/PodScheduled\s+False/);

    await client.delete(resources.pods, 'first', { namespace: 'full', gracePeriodSeconds: 0 });
    expect(await waitBound('full', 'second')).toBe('small-1');
  });
});
