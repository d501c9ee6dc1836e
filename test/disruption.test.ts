/**
 * PodDisruptionBudgets with the real kubectl against a real `knode server` running only the
 * disruption controller: `kubectl create pdb`, its status following the pods, evictions refused with
 * 429 once the budget is spent, and `kubectl drain` evicting within the budget and retrying the rest.
 * Pods are bound to a Node that has no kubelet; the test marks them Ready through pods/status.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminClient, failureStatus, waitUntil } from './helpers/api-client.js';
import type { ApiClient } from './helpers/api-client.js';
import { startServer } from './helpers/server.js';
import type { TestServer } from './helpers/server.js';

let server: TestServer;
let api: ApiClient;
const NS = 'budget';

async function readyPod(name: string, labels: Record<string, string>): Promise<void> {
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: NS, labels }, spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'knode.local/testserver:1.0' }] } };
  expect((await api.post(`/api/v1/namespaces/${NS}/pods`, pod)).status).toBe(201);
  const status = { status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } };
  const r = await api.patch(`/api/v1/namespaces/${NS}/pods/${name}/status`, status, 'application/merge-patch+json');
  expect(r.status, r.text).toBe(200);
}

interface BudgetView {
  status?: { disruptionsAllowed?: number; currentHealthy?: number; desiredHealthy?: number; expectedPods?: number };
}

const budget = async (name: string): Promise<BudgetView> => JSON.parse(await server.kubectlOk(['get', 'pdb', name, '-n', NS, '-o', 'json'])) as BudgetView;
const evict = (pod: string) =>
  // grace 0: no kubelet runs here to finish a graceful deletion
  api.post(`/api/v1/namespaces/${NS}/pods/${pod}/eviction`, { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: pod, namespace: NS }, deleteOptions: { gracePeriodSeconds: 0 } });

beforeAll(async () => {
  server = await startServer(['--controllers', 'disruption']);
  api = await adminClient(server.kubeconfig);
  await server.kubectlOk(['create', 'namespace', NS]);
  await server.kubectlOk(['create', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' } }) });
  for (const n of ['web-1', 'web-2', 'web-3']) await readyPod(n, { app: 'web' });
});

afterAll(async () => {
  api?.close();
  await server?.stop();
});

describe('PodDisruptionBudget', () => {
  it('kubectl create pdb; its status follows the pods; kubectl get pdb shows it', async () => {
    await server.kubectlOk(['create', 'pdb', 'web', '-n', NS, '--selector=app=web', '--min-available=2']);
    const s = await waitUntil('the budget status', async () => {
      const b = await budget('web');
      return b.status?.expectedPods === 3 ? b.status : undefined;
    });
    expect(s).toMatchObject({ currentHealthy: 3, desiredHealthy: 2, disruptionsAllowed: 1 });
    expect(await server.kubectlOk(['get', 'pdb', '-n', NS])).toMatch(/web\s+2\s+N\/A\s+1\s+/);
  });

  it('an eviction within the budget goes through and spends it; the next one is refused with 429', async () => {
    const first = await evict('web-1');
    expect(first.status, first.text).toBe(201);
    const refused = await evict('web-2');
    expect(refused.status).toBe(429);
    const st = failureStatus(refused);
    expect(st.reason).toBe('TooManyRequests');
    expect(st.message).toBe("Cannot evict pod as it would violate the pod's disruption budget.");
    // the count is the budget's status: 3 until the controller has seen web-1 go, then 2
    expect(refused.text).toMatch(/The disruption budget web needs 2 healthy pods and has [23] currently/);
    expect((await api.get(`/api/v1/namespaces/${NS}/pods/web-2`)).status).toBe(200);
    // a new healthy pod makes room again
    await readyPod('web-4', { app: 'web' });
    await waitUntil('a disruption to be allowed again', async () => ((await budget('web')).status?.disruptionsAllowed === 1 ? true : undefined));
    expect((await evict('web-2')).status).toBe(201);
  });

  it('kubectl drain evicts what the budget allows and retries the rest until its timeout', async () => {
    await waitUntil('the budget to see the evicted pods go', async () => ((await budget('web')).status?.currentHealthy === 2 ? true : undefined));
    const r = await server.kubectl(['drain', 'n1', '--force', '--timeout=6s', '--pod-selector=app=web'], { timeoutMs: 60_000 });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('Cannot evict pod as it would violate the pod');
    expect(await server.kubectlOk(['get', 'node', 'n1', '-o', 'jsonpath={.spec.unschedulable}'])).toBe('true');
    const left = (await server.kubectlOk(['get', 'pods', '-n', NS, '-l', 'app=web', '-o', 'name'])).trim().split('\n');
    expect(left).toHaveLength(2);
  });

  it('a pod under two budgets cannot be evicted; bad budgets are refused naming the field', async () => {
    await readyPod('double', { app: 'db' });
    await server.kubectlOk(['create', 'pdb', 'db-a', '-n', NS, '--selector=app=db', '--max-unavailable=1']);
    await server.kubectlOk(['create', 'pdb', 'db-b', '-n', NS, '--selector=app=db', '--max-unavailable=1']);
    const r = await evict('double');
    expect(r.status).toBe(500);
    expect(r.text).toContain('more than one PodDisruptionBudget');
    const bad = await server.kubectl(['create', '-f', '-'], {
      input: JSON.stringify({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'bad', namespace: NS }, spec: { minAvailable: 1, maxUnavailable: 1, selector: { matchLabels: { a: 'b' } } } }),
    });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('minAvailable and maxUnavailable cannot be both set');
  });
});
