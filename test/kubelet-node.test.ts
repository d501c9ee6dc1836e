/**
 * The kubelet's Node against a real `knode server`, seen through the real kubectl: the status reporter
 * registers node `n1` and keeps it Ready, the lease renewer heartbeats kube-node-lease/n1, a runtime
 * whose network plugin is not ready turns the node NotReady with upstream's message (and back), and
 * a static pod manifest shows up as a mirror pod owned by the Node. The container runtime is the CRI
 * fake (kubelet/cri/fake-runtime.ts); host facts are read from this machine. Timings are shortened
 * (status checks and renewals every 300 ms) so the test waits on conditions, not on minutes.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Node } from '../api/core/node.js';
import { KubeClient } from '../lib/client/client.js';
import { resources } from '../lib/client/resource.js';
import { FakeRuntimeService } from '../kubelet/cri/fake-runtime.js';
import { MirrorPodManager } from '../kubelet/mirror-pods.js';
import { LinuxHostProbe } from '../kubelet/node/host-info.js';
import { LeaseRenewer } from '../kubelet/node/lease-renewer.js';
import { NodeStatusReporter } from '../kubelet/node/status-reporter.js';
import { StaticPodSource } from '../kubelet/static-pods.js';
import { startServer } from './helpers/server.js';
import type { TestServer } from './helpers/server.js';
import { waitFor } from './helpers/wait.js';

// worker 1's underlay address in the lab plan (test/helpers/ip-plan.ts); only reported, never used
const NODE_IP = '172.31.250.11';
const NOT_READY_MESSAGE = 'container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized';

let server: TestServer;
let client: KubeClient;
let rootDir: string;
let manifests: string;
let runtime: FakeRuntimeService;
let reporter: NodeStatusReporter;
const ac = new AbortController();
const loops: Array<Promise<void>> = [];

beforeAll(async () => {
  server = await startServer();
  client = await KubeClient.fromKubeconfigFile(server.kubeconfig);
  rootDir = await mkdtemp(join(tmpdir(), 'knode-kubelet-'));
  manifests = join(rootDir, 'manifests');
  await mkdir(manifests);
  runtime = new FakeRuntimeService();
  runtime.setVersion({ runtimeName: 'containerd', runtimeVersion: '1.6.20' });
  reporter = new NodeStatusReporter({
    client,
    runtime,
    host: new LinuxHostProbe({ rootDir }),
    config: { nodeName: 'n1', nodeIPs: [NODE_IP] },
    timings: { nodeStatusUpdateFrequencyMs: 300, pressureTransitionPeriodMs: 0 },
  });
  const renewer = new LeaseRenewer({ client, nodeName: 'n1', renewIntervalMs: 300, nodeUid: async () => reporter.currentNode?.metadata.uid });
  const mirrors = new MirrorPodManager({ client, nodeName: 'n1', resyncIntervalMs: 300 });
  const source = new StaticPodSource({ dir: manifests, nodeName: 'n1', rescanIntervalMs: 300, onChange: (pods) => mirrors.setStaticPods(pods) });
  loops.push(reporter.run(ac.signal), renewer.run(ac.signal), mirrors.run(ac.signal), source.run(ac.signal));
});

afterAll(async () => {
  ac.abort();
  await Promise.all(loops);
  client?.close();
  await server?.stop();
  if (rootDir) await rm(rootDir, { recursive: true, force: true });
});

async function nodeStatusLine(): Promise<string> {
  const out = await server.kubectlOk(['get', 'nodes', '--no-headers']);
  return out.split('\n').find((l) => l.startsWith('n1 ')) ?? '';
}

const readyJsonPath = (field: string): string => `jsonpath={.status.conditions[?(@.type=="Ready")].${field}}`;

describe('kubelet node registration and heartbeats', () => {
  it('registers n1, which kubectl shows Ready with its address and versions', async () => {
    await waitFor('n1 Ready in kubectl get nodes', async () => /^n1\s+Ready\s/.test(await nodeStatusLine()));
    const wide = await server.kubectlOk(['get', 'node', 'n1', '-o', 'wide', '--no-headers']);
    expect(wide).toContain(NODE_IP);
    expect(wide).toContain('v1.32.0-knode');
    expect(wide).toContain('containerd://1.6.20');
    const node = await client.get<Node>(resources.nodes, 'n1');
    expect(node.metadata.labels).toMatchObject({ 'kubernetes.io/hostname': 'n1', 'kubernetes.io/os': 'linux' });
    expect(Object.keys(node.status?.capacity ?? {})).toEqual(expect.arrayContaining(['cpu', 'memory', 'pods', 'ephemeral-storage']));
    expect(node.status?.capacity?.['pods']).toBe('110');
  });

  it('renews kube-node-lease/n1, held by and owned by the node', async () => {
    const renewTime = (): Promise<string> => server.kubectlOk(['get', 'lease', '-n', 'kube-node-lease', 'n1', '-o', 'jsonpath={.spec.renewTime}']);
    const first = await waitFor('the lease to exist', async () => (await server.kubectl(['get', 'lease', '-n', 'kube-node-lease', 'n1', '-o', 'jsonpath={.spec.renewTime}'])).stdout || false);
    expect(first).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    await waitFor('renewTime to advance', async () => (await renewTime()) > first);
    const lease = JSON.parse(await server.kubectlOk(['get', 'lease', '-n', 'kube-node-lease', 'n1', '-o', 'json'])) as {
      spec: { holderIdentity: string; leaseDurationSeconds: number };
      metadata: { ownerReferences?: Array<{ kind: string; name: string; uid: string }> };
    };
    expect(lease.spec).toMatchObject({ holderIdentity: 'n1', leaseDurationSeconds: 40 });
    const node = await client.get<Node>(resources.nodes, 'n1');
    expect(lease.metadata.ownerReferences).toEqual([expect.objectContaining({ kind: 'Node', name: 'n1', uid: node.metadata.uid })]);
  });

  it('turns NotReady with upstream message when the network plugin is not ready, and Ready again after', async () => {
    runtime.setCondition('NetworkReady', false, 'NetworkPluginNotReady', 'Network plugin returns error: cni plugin not initialized');
    await waitFor('n1 NotReady', async () => /^n1\s+NotReady\s/.test(await nodeStatusLine()));
    expect(await server.kubectlOk(['get', 'node', 'n1', '-o', readyJsonPath('message')])).toBe(NOT_READY_MESSAGE);
    expect(await server.kubectlOk(['get', 'node', 'n1', '-o', readyJsonPath('reason')])).toBe('KubeletNotReady');
    runtime.setCondition('NetworkReady', true);
    await waitFor('n1 Ready again', async () => /^n1\s+Ready\s/.test(await nodeStatusLine()));
    expect(await server.kubectlOk(['get', 'node', 'n1', '-o', readyJsonPath('message')])).toBe('kubelet is posting ready status');
  });

  it('mirrors a static pod manifest into the API, and removes it with the file', async () => {
    const manifest = join(manifests, 'web.yaml');
    await writeFile(manifest, 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n  - name: web\n    image: busybox\n');
    const pod = await waitFor('mirror pod web-n1', async () => {
      const r = await server.kubectl(['get', 'pod', 'web-n1', '-n', 'default', '-o', 'json']);
      return r.code === 0 ? (JSON.parse(r.stdout) as { metadata: { annotations: Record<string, string>; ownerReferences: Array<{ kind: string; name: string }> }; spec: { nodeName: string } }) : false;
    });
    expect(pod.spec.nodeName).toBe('n1');
    expect(pod.metadata.annotations['kubernetes.io/config.source']).toBe('file');
    expect(pod.metadata.annotations['kubernetes.io/config.mirror']).toBe(pod.metadata.annotations['kubernetes.io/config.hash']);
    expect(pod.metadata.ownerReferences).toEqual([expect.objectContaining({ kind: 'Node', name: 'n1', controller: true })]);
    await rm(manifest);
    await waitFor('mirror pod gone', async () => (await server.kubectl(['get', 'pod', 'web-n1', '-n', 'default'])).code !== 0);
  });
});
