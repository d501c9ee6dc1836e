/**
 * pods/proxy and services/proxy on a real two-worker lab with the real kubectl: `kubectl get --raw`
 * and `kubectl proxy` reach the testserver pods through the apiserver, which dials each pod's port
 * through its kubelet (port-forward over SPDY to containerd), so the control plane needs no route
 * to pod IPs (the lab's has none). Checks what a user sees: a pod by port number, port name and the
 * default (first declared) port, a Service by port name reaching both pods, 3 MB arriving whole,
 * the method and query passed on, redirects kept under the proxy (`Location` rewriting is pure and
 * unit-tested), and the errors: refused port, unknown port name, unknown pod, a Service without
 * endpoints or without that port, a malformed name. nodes/proxy reaches a worker's kubelet itself
 * (/pods, /metrics), and is refused to a node's own identity.
 * kubectl and curl run in the machine's namespace and talk to loopback or the lab's apiserver only.
 * IP plan: test/helpers/ip-plan.ts. `lab down` runs in afterAll whatever happened.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TESTSERVER_IMAGE } from '../lab/images/lab-images.js';
import { labName, run, TestLab } from './helpers/lab.js';
import { waitFor } from './helpers/wait.js';

const lab = new TestLab(labName('px'));
let pods: string[] = [];
const stops: (() => void)[] = [];

const raw = (path: string): ReturnType<TestLab['kubectl']> => lab.kubectl(['get', '--raw', path]);

beforeAll(async () => {
  await lab.up(2);
  await lab.apply({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web' },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          terminationGracePeriodSeconds: 1,
          // one pod per worker
          affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { app: 'web' } } }] } },
          containers: [{ name: 'main', image: TESTSERVER_IMAGE, imagePullPolicy: 'Never', ports: [{ name: 'http', containerPort: 8083 }] }],
        },
      },
    },
  });
  await lab.apply({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] } });
  await lab.apply({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'empty' }, spec: { selector: { app: 'none' }, ports: [{ port: 80 }] } });
  await lab.kubectlOk(['rollout', 'status', 'deployment/web', '--timeout=90s']);
  pods = (await lab.kubectlOk(['get', 'pods', '-l', 'app=web', '-o', 'jsonpath={.items[*].metadata.name}'])).trim().split(/\s+/).sort();
  expect(pods).toHaveLength(2);
  const nodes = (await lab.kubectlOk(['get', 'pods', '-l', 'app=web', '-o', 'jsonpath={.items[*].spec.nodeName}'])).trim().split(/\s+/).sort();
  expect(nodes).toEqual(['w1', 'w2']);
}, 180_000);

afterAll(async () => {
  for (const stop of stops) stop();
  await lab.down();
}, 180_000);

describe('pods/proxy', () => {
  it('reaches the pod by port number, port name and its first declared port', async () => {
    const [pod = ''] = pods;
    for (const id of [`${pod}:8083`, `${pod}:http`, pod, `http:${pod}:8083`]) {
      const r = await raw(`/api/v1/namespaces/default/pods/${id}/proxy/hostname`);
      expect([r.code, r.stdout.trim()], `${id}: ${r.stderr}`).toEqual([0, pod]);
    }
  });

  it('passes the query on, and 3 MB arrive whole', async () => {
    const [pod = ''] = pods;
    const echo = await raw(`/api/v1/namespaces/default/pods/${pod}:8083/proxy/echo?msg=through%20the%20kubelet`);
    expect(echo.stdout).toBe('through the kubelet');
    const n = 3_000_000;
    const big = await run('sh', ['-c', `kubectl --kubeconfig ${lab.kubeconfig} get --raw '/api/v1/namespaces/default/pods/${pod}:8083/proxy/bytes?n=${n}' | md5sum`], undefined, 60_000);
    const want = createHash('md5').update(Buffer.from(Array.from({ length: n }, (_, i) => 97 + (i % 26)))).digest('hex');
    expect(big.stdout.split(' ')[0]).toBe(want);
  });

  it('errors: a refused port is 503 with the runtime\'s words; an unknown port name 400; an unknown pod 404', async () => {
    const [pod = ''] = pods;
    const refused = await raw(`/api/v1/namespaces/default/pods/${pod}:9999/proxy/`);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/ServiceUnavailable.*9999.*connection refused/);
    const named = await raw(`/api/v1/namespaces/default/pods/${pod}:nope/proxy/`);
    expect(named.stderr).toContain(`(BadRequest): pod "${pod}" has no container port named "nope"`);
    const missing = await raw('/api/v1/namespaces/default/pods/nosuch:80/proxy/');
    expect(missing.stderr).toContain('(NotFound): pods "nosuch" not found');
  });
});

describe('services/proxy', () => {
  it('reaches both pods behind the Service by its port name', async () => {
    const seen = await waitFor(
      'services/web:http/proxy to answer from both pods',
      async () => {
        const names = new Set<string>();
        for (let i = 0; i < 12; i++) {
          const r = await raw('/api/v1/namespaces/default/services/web:http/proxy/hostname');
          expect(r.code, r.stderr).toBe(0);
          names.add(r.stdout.trim());
        }
        return names.size === 2 ? [...names].sort() : undefined;
      },
      { timeoutMs: 30_000 },
    );
    expect(seen).toEqual(pods);
  });

  it('errors: no endpoints, no such port, a malformed name', async () => {
    const empty = await raw('/api/v1/namespaces/default/services/empty/proxy/');
    expect(empty.stderr).toContain('(ServiceUnavailable): no endpoints available for service "empty"');
    const port = await raw('/api/v1/namespaces/default/services/web:99/proxy/');
    expect(port.stderr).toContain('(ServiceUnavailable): no endpoints available for service "web:99"');
    const bad = await raw('/api/v1/namespaces/default/services/ftp:web:80/proxy/');
    expect(bad.stderr).toContain('(BadRequest): invalid service request "ftp:web:80"');
  });

  it('works through `kubectl proxy`, with the backend\'s status passed back', async () => {
    const proc = spawn('kubectl', ['--kubeconfig', lab.kubeconfig, 'proxy', '--port=0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    stops.push(() => proc.kill('SIGTERM'));
    let out = '';
    proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const port = await waitFor('kubectl proxy to print its port', () => /Starting to serve on 127\.0\.0\.1:(\d+)/.exec(out)?.[1], { timeoutMs: 20_000 });
    const base = `http://127.0.0.1:${port}/api/v1/namespaces/default/services/web:http/proxy`;
    const echo = await run('curl', ['-sS', '--max-time', '10', `${base}/echo?msg=via%20kubectl%20proxy`]);
    expect(echo.stdout).toBe('via kubectl proxy');
    const missing = await run('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '10', `${base}/not-there`]);
    expect(missing.stdout).toBe('404');
    const post = await run('curl', ['-sS', '-X', 'POST', '--max-time', '10', `${base}/echo?msg=posted`]);
    expect(post.stdout).toBe('posted');
    const logs = await Promise.all(pods.map((p) => lab.kubectlOk(['logs', p])));
    expect(logs.join('\n')).toContain('http POST /echo?msg=posted');
    proc.kill('SIGTERM');
  });
});

describe('nodes/proxy', () => {
  it("reaches the kubelet's /pods, /metrics and /healthz; an unknown node is 404", async () => {
    const pods = JSON.parse((await lab.kubectlOk(['get', '--raw', '/api/v1/nodes/w1/proxy/pods']))) as { kind: string; items: { spec: { nodeName?: string } }[] };
    expect(pods.kind).toBe('PodList');
    expect(pods.items.length).toBeGreaterThan(0);
    expect(pods.items.every((p) => p.spec.nodeName === 'w1')).toBe(true);
    expect(await lab.kubectlOk(['get', '--raw', '/api/v1/nodes/w2/proxy/metrics'])).toMatch(/^# (HELP|TYPE) /m);
    expect(await lab.kubectlOk(['get', '--raw', '/api/v1/nodes/w1/proxy/healthz'])).toBe('ok');
    const missing = await raw('/api/v1/nodes/nosuch/proxy/pods');
    expect(missing.stderr).toContain('(NotFound): nodes "nosuch" not found');
  });

  it("is refused to a node's own credentials (pods/proxy too), and can-i says so", async () => {
    const kubelet = join(lab.stateDir, 'w1', 'agent', 'pki', 'kubelet.kubeconfig');
    const r = await run('kubectl', ['--kubeconfig', kubelet, 'get', '--raw', '/api/v1/nodes/w1/proxy/pods']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('(Forbidden): nodes "w1" is forbidden: User "system:node:w1" cannot get resource "nodes/proxy"');
    const can = await run('kubectl', ['--kubeconfig', kubelet, 'auth', 'can-i', 'get', 'nodes', '--subresource=proxy']);
    expect([can.code, can.stdout.trim()]).toEqual([1, 'no']);
    const [pod = ''] = pods;
    const viaPod = await run('kubectl', ['--kubeconfig', kubelet, 'get', '--raw', `/api/v1/namespaces/default/pods/${pod}:8083/proxy/hostname`]);
    expect(viaPod.stderr).toContain(`(Forbidden): pods "${pod}:8083" is forbidden: User "system:node:w1" cannot get resource "pods/proxy" in API group "" in the namespace "default"`);
  });
});
