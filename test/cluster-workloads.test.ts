/**
 * Workloads on a real lab (`knode lab up --nodes 2`: the scheduler and the controllers run inside
 * `knode server`), driven by the real kubectl as issue #5 asks: a Deployment of 6 replicas lands on both
 * workers; scaling up and down; a rolling update from testserver:1.0 to 2.0 never drops below
 * replicas - maxUnavailable Ready pods and `kubectl rollout status` returns; `rollout undo` goes back;
 * a deleted pod is replaced; a DaemonSet has one pod on each worker, rolls to 2.0 and back with
 * `kubectl rollout history|undo` (ControllerRevisions); EndpointSlices follow the pods;
 * a worker whose agent stops turns Unknown and its pods are recreated on the other worker after their
 * (shortened) toleration; deleting a namespace removes everything in it.
 * `lab down` runs in afterAll whatever happened.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { procStat, realLauncher } from '../lab/processes.js';
import { labName, TestLab } from './helpers/lab.js';
import { waitFor } from './helpers/wait.js';

const lab = new TestLab(labName('wl'));
const V1 = 'knode.local/testserver:1.0';
const V2 = 'knode.local/testserver:2.0';

interface PodView {
  metadata: { name: string; labels?: Record<string, string>; deletionTimestamp?: string; ownerReferences?: Array<{ kind: string; name: string }> };
  spec: { nodeName?: string; containers: Array<{ image?: string }> };
  status?: { phase?: string; podIP?: string; conditions?: Array<{ type: string; status: string }> };
}

async function pods(selector: string, namespace = 'default'): Promise<PodView[]> {
  const out = await lab.kubectlOk(['get', 'pods', '-n', namespace, '-l', selector, '-o', 'json']);
  return (JSON.parse(out) as { items: PodView[] }).items;
}

const ready = (p: PodView): boolean => p.metadata.deletionTimestamp === undefined && (p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false);
const running = (p: PodView): boolean => p.metadata.deletionTimestamp === undefined && p.status?.phase === 'Running';

async function waitPods(selector: string, what: string, ok: (ps: PodView[]) => boolean, timeoutMs = 90_000, namespace = 'default'): Promise<PodView[]> {
  let last: PodView[] = [];
  return waitFor(
    () => `${what} (last: ${JSON.stringify(last.map((p) => [p.metadata.name, p.spec.nodeName, p.status?.phase, ready(p), p.spec.containers[0]?.image]))})`,
    async () => {
      last = await pods(selector, namespace);
      return ok(last) ? last : undefined;
    },
    { timeoutMs, intervalMs: 500 },
  );
}

function deployment(replicas: number, image: string): unknown {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web' },
    spec: {
      replicas,
      selector: { matchLabels: { app: 'web' } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 1 } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          terminationGracePeriodSeconds: 1,
          // shortened from the 300 s default, so a lost node's pods move within the test
          tolerations: [
            { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 5 },
            { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 5 },
          ],
          containers: [{ name: 'app', image, readinessProbe: { httpGet: { path: '/healthz', port: 8083 }, periodSeconds: 1 } }],
        },
      },
    },
  };
}

/** GET /version of a pod from inside the node that runs it. */
async function versionOf(p: PodView): Promise<string> {
  const r = await lab.inHost(p.spec.nodeName ?? 'w1', ['curl', '-sS', '--max-time', '5', `http://${p.status?.podIP ?? ''}:8083/version`]);
  return r.stdout.trim();
}

beforeAll(async () => {
  await lab.up(2);
}, 240_000);

afterAll(async () => {
  await lab.down();
}, 180_000);

describe('workloads: Deployments', () => {
  it('spreads `kubectl create deployment --replicas=6` over both workers', async () => {
    await lab.kubectlOk(['create', 'deployment', 'spread', `--image=${V1}`, '--replicas=6']);
    const ps = await waitPods('app=spread', '6 Running pods', (x) => x.filter(running).length === 6);
    expect(new Set(ps.map((p) => p.spec.nodeName))).toEqual(new Set(['w1', 'w2']));
    await lab.kubectlOk(['delete', 'deployment', 'spread']);
    await waitPods('app=spread', 'the pods gone with their Deployment', (x) => x.length === 0);
  });

  it('scales up and down', async () => {
    await lab.apply(deployment(4, V1));
    await waitPods('app=web', '4 Ready pods', (x) => x.filter(ready).length === 4);
    await lab.kubectlOk(['scale', 'deployment', 'web', '--replicas=6']);
    await waitPods('app=web', '6 Ready pods', (x) => x.filter(ready).length === 6);
    await lab.kubectlOk(['scale', 'deployment', 'web', '--replicas=4']);
    await waitPods('app=web', '4 pods left', (x) => x.length === 4 && x.every(ready));
  });

  it('rolls from 1.0 to 2.0 without dropping below replicas - maxUnavailable Ready pods, and rollout status returns', async () => {
    let minReady = Number.POSITIVE_INFINITY;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const ps = await pods('app=web').catch(() => undefined);
        if (ps !== undefined) minReady = Math.min(minReady, ps.filter(ready).length);
        await new Promise((r) => setTimeout(r, 200));
      }
    })();
    try {
      await lab.kubectlOk(['set', 'image', 'deployment/web', `app=${V2}`]);
      const status = await lab.kubectl(['rollout', 'status', 'deployment/web', '--timeout=120s'], undefined);
      expect(status.code, status.stderr).toBe(0);
      expect(status.stdout).toMatch(/successfully rolled out/);
    } finally {
      sampling = false;
      await sampler;
    }
    expect(minReady).toBeGreaterThanOrEqual(3);
    const ps = await waitPods('app=web', '4 Ready pods on 2.0', (x) => x.length === 4 && x.every((p) => ready(p) && p.spec.containers[0]?.image === V2));
    for (const p of ps) expect(await versionOf(p)).toBe('2.0');
    const history = await lab.kubectlOk(['rollout', 'history', 'deployment/web']);
    expect(history).toMatch(/^1\s/m);
    expect(history).toMatch(/^2\s/m);
  }, 180_000);

  it('goes back with `kubectl rollout undo`', async () => {
    await lab.kubectlOk(['rollout', 'undo', 'deployment/web']);
    const status = await lab.kubectl(['rollout', 'status', 'deployment/web', '--timeout=120s']);
    expect(status.code, status.stderr).toBe(0);
    await waitPods('app=web', '4 Ready pods on 1.0', (x) => x.length === 4 && x.every((p) => ready(p) && p.spec.containers[0]?.image === V1));
  }, 180_000);

  it('replaces a deleted pod', async () => {
    const [victim] = await pods('app=web');
    expect(victim).toBeDefined();
    await lab.kubectlOk(['delete', 'pod', victim?.metadata.name ?? '', '--wait=false']);
    await waitPods('app=web', 'a replacement', (x) => x.filter(ready).length === 4 && !x.some((p) => p.metadata.name === victim?.metadata.name));
  });
});

describe('workloads: DaemonSets and EndpointSlices', () => {
  it('runs one DaemonSet pod on each worker', async () => {
    await lab.apply({
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'agent' },
      spec: {
        selector: { matchLabels: { app: 'ds-agent' } },
        template: { metadata: { labels: { app: 'ds-agent' } }, spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'app', image: V1 }] } },
      },
    });
    const ps = await waitPods('app=ds-agent', 'one Running pod per worker', (x) => x.filter(running).length === 2);
    expect(ps.map((p) => p.spec.nodeName).sort()).toEqual(['w1', 'w2']);
  });

  it('rolls the DaemonSet to 2.0, lists both ControllerRevisions in `kubectl rollout history`, and `rollout undo` goes back', async () => {
    await lab.kubectlOk(['set', 'image', 'daemonset/agent', `app=${V2}`]);
    await lab.kubectlOk(['rollout', 'status', 'daemonset/agent', '--timeout=120s']);
    await waitPods('app=ds-agent', 'both pods on 2.0', (x) => x.filter(running).length === 2 && x.filter(running).every((p) => p.spec.containers[0]?.image === V2));
    const history = await lab.kubectlOk(['rollout', 'history', 'daemonset/agent']);
    expect(history).toMatch(/^1\s/m);
    expect(history).toMatch(/^2\s/m);
    expect(await lab.kubectlOk(['get', 'controllerrevisions', '-l', 'app=ds-agent'])).toContain('daemonset.apps/agent');
    expect(await lab.kubectlOk(['rollout', 'history', 'daemonset/agent', '--revision=1'])).toContain(V1);
    await lab.kubectlOk(['rollout', 'undo', 'daemonset/agent']);
    await waitPods('app=ds-agent', 'both pods back on 1.0', (x) => x.filter(running).length === 2 && x.filter(running).every((p) => p.spec.containers[0]?.image === V1));
    const ds = JSON.parse(await lab.kubectlOk(['get', 'daemonset', 'agent', '-o', 'json'])) as { spec: { template: { spec: { containers: { image: string }[] } } } };
    expect(ds.spec.template.spec.containers[0]?.image).toBe(V1);
    // the undo renumbered revision 1 to 3 instead of copying it
    const after = await waitFor('revision 3 in the history', async () => {
      const h = await lab.kubectlOk(['rollout', 'history', 'daemonset/agent']);
      return /^3\s/m.test(h) ? h : undefined;
    });
    expect(after).toMatch(/^2\s/m);
    expect(after).not.toMatch(/^1\s/m);
  }, 240_000);

  it('keeps the Service EndpointSlice equal to the Ready pods', async () => {
    await lab.apply({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8083 }] } });
    const sliceIPs = async (): Promise<string[]> => {
      const out = await lab.kubectlOk(['get', 'endpointslices', '-l', 'kubernetes.io/service-name=web', '-o', 'json']);
      const slices = (JSON.parse(out) as { items: Array<{ endpoints?: Array<{ addresses: string[]; conditions?: { ready?: boolean } }> }> }).items;
      return slices.flatMap((s) => (s.endpoints ?? []).filter((e) => e.conditions?.ready === true).flatMap((e) => e.addresses)).sort();
    };
    const podIPs = async (): Promise<string[]> => (await pods('app=web')).filter(ready).map((p) => p.status?.podIP ?? '').sort();
    await waitFor('the slice to list the 4 Ready pods', async () => {
      const [a, b] = [await sliceIPs(), await podIPs()];
      return a.length === 4 && JSON.stringify(a) === JSON.stringify(b);
    });
    const [victim] = await pods('app=web');
    await lab.kubectlOk(['delete', 'pod', victim?.metadata.name ?? '', '--wait=false']);
    await waitFor('the slice to follow the replacement', async () => {
      const [a, b] = [await sliceIPs(), await podIPs()];
      return a.length === 4 && !a.includes(victim?.status?.podIP ?? '') && JSON.stringify(a) === JSON.stringify(b);
    });
  });
});

describe('workloads: a lost node', () => {
  it('turns a worker whose agent stopped Unknown, and recreates its pods on the other worker after their toleration', async () => {
    const before = await pods('app=web');
    expect(before.some((p) => p.spec.nodeName === 'w2')).toBe(true);
    const agent = (await lab.state()).processes.find((p) => p.host === 'w2' && p.kind === 'agent');
    if (!agent) throw new Error('no agent recorded for w2');
    process.kill(agent.pid, 'SIGKILL');
    try {
      await waitFor(
        'w2 Ready=Unknown with the unreachable taint',
        async () => {
          const node = JSON.parse(await lab.kubectlOk(['get', 'node', 'w2', '-o', 'json'])) as {
            spec?: { taints?: Array<{ key: string; effect: string }> };
            status?: { conditions?: Array<{ type: string; status: string }> };
          };
          const readyCond = node.status?.conditions?.find((c) => c.type === 'Ready')?.status;
          return readyCond === 'Unknown' && (node.spec?.taints ?? []).some((t) => t.key === 'node.kubernetes.io/unreachable' && t.effect === 'NoExecute');
        },
        { timeoutMs: 90_000, intervalMs: 1_000 },
      );
      await waitPods('app=web', '4 Ready pods, all on w1', (x) => x.filter(ready).length === 4 && x.filter(ready).every((p) => p.spec.nodeName === 'w1'), 90_000);
    } finally {
      const { pid } = await realLauncher.start(agent.argv, { logFile: agent.logFile });
      await lab.recordRestart('w2', 'agent', pid);
      expect((await procStat(pid))?.startTime).toBeDefined();
    }
    await waitFor(
      'w2 Ready again without taints',
      async () => {
        const node = JSON.parse(await lab.kubectlOk(['get', 'node', 'w2', '-o', 'json'])) as { spec?: { taints?: unknown[] }; status?: { conditions?: Array<{ type: string; status: string }> } };
        return node.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True' && (node.spec?.taints ?? []).length === 0;
      },
      { timeoutMs: 60_000, intervalMs: 1_000 },
    );
  }, 240_000);
});

describe('workloads: namespaces', () => {
  it('removes everything in a deleted namespace, then the namespace', async () => {
    await lab.kubectlOk(['create', 'namespace', 'doomed']);
    await lab.kubectlOk(['create', 'deployment', 'd', `--image=${V1}`, '--replicas=2', '-n', 'doomed']);
    await waitPods('app=d', '2 Running pods in doomed', (x) => x.filter(running).length === 2, 90_000, 'doomed');
    await lab.kubectlOk(['delete', 'namespace', 'doomed', '--wait=false']);
    await waitFor(
      'namespace doomed gone',
      async () => (await lab.kubectl(['get', 'namespace', 'doomed'])).code !== 0,
      { timeoutMs: 90_000, intervalMs: 1_000 },
    );
    const left = await lab.kubectlOk(['get', 'pods,replicasets,deployments', '-n', 'doomed', '-o', 'name']);
    expect(left.trim()).toBe('');
  }, 120_000);
});
