/**
 * The ReplicaSet and Deployment controllers against a real `knode server` (started with --controllers
 * none; the two controllers run in this process through runControllerManager, as `knode
 * controller-manager` would run them), driven by the real kubectl. There is no scheduler and no kubelet:
 * pods stay unscheduled, and the test plays the kubelet's part by writing pods' Ready condition through
 * the status subresource when a step needs ready pods. Unscheduled pods are deleted at once, so a
 * scale-down is visible immediately.
 *
 * Each test works in its own namespace. The rolling update is checked event by event: a pod informer in
 * the test sees every state in order, and no state may have fewer than replicas - maxUnavailable ready
 * pods; a ReplicaSet informer checks that the ReplicaSets never ask for more than replicas + maxSurge.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import type { Deployment } from '../api/apps/deployment.js';
import type { ReplicaSet } from '../api/apps/replicaset.js';
import type { Pod } from '../api/core/pod.js';
import type { Event } from '../api/core/event.js';
import { realClock, rfc3339 } from '../lib/clock.js';
import { KubeClient } from '../lib/client/client.js';
import { isConflict } from '../lib/client/errors.js';
import { Informer } from '../lib/client/informer.js';
import { clientListerWatcher } from '../lib/client/list-watch.js';
import { resources } from '../lib/client/resource.js';
import { silentLogger } from '../lib/log.js';
import { runControllerManager } from '../control-plane/controller-manager/manager.js';
import { ReplicaSetController } from '../control-plane/controllers/replicaset.js';
import { DeploymentController } from '../control-plane/controllers/deployment.js';
import { startServer } from './helpers/server.js';
import type { TestServer } from './helpers/server.js';
import { createNamespace } from './helpers/objects.js';
import { waitFor } from './helpers/wait.js';

let server: TestServer;
let client: KubeClient;
const stop = new AbortController();
let managerDone: Promise<void> = Promise.resolve();

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
      controllers: (ctx) => [new ReplicaSetController(ctx), new DeploymentController(ctx)],
    },
    stop.signal,
  );
  managerDone = cm.done;
});

afterAll(async () => {
  stop.abort();
  await managerDone;
  client?.close();
  await server?.stop();
});

// ---- helpers -----------------------------------------------------------------------------------

const isActive = (p: Pod): boolean => p.metadata.deletionTimestamp === undefined && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed';
const isReady = (p: Pod): boolean => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
const hashOf = (o: { metadata: { labels?: Readonly<Record<string, string>> } }): string => o.metadata.labels?.['pod-template-hash'] ?? '';

async function pods(ns: string, selector = ''): Promise<Pod[]> {
  return (await client.list<Pod>(resources.pods, { namespace: ns, labelSelector: selector })).items.filter(isActive);
}

async function replicaSets(ns: string): Promise<ReplicaSet[]> {
  return [...(await client.list<ReplicaSet>(resources.replicaSets, { namespace: ns })).items];
}

async function deployment(ns: string, name = 'web'): Promise<Deployment> {
  return client.get<Deployment>(resources.deployments, name, { namespace: ns });
}

/** Plays the kubelet: Running with Ready=True (retried on a conflict with the controllers). */
async function markReady(pod: Pod): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const cur = attempt === 0 ? pod : await client.get<Pod>(resources.pods, pod.metadata.name ?? '', { namespace: pod.metadata.namespace ?? '' });
    const now = rfc3339(new Date());
    const conditions = [...(cur.status?.conditions ?? []).filter((c) => c.type !== 'Ready'), { type: 'Ready', status: 'True' as const, lastTransitionTime: now }];
    try {
      await client.updateStatus<Pod>(resources.pods, { ...cur, status: { ...cur.status, phase: 'Running', conditions } });
      return;
    } catch (err) {
      if (!isConflict(err) || attempt > 5) throw err;
    }
  }
}

async function events(ns: string, kind: string): Promise<Event[]> {
  return (await client.list<Event>(resources.events, { namespace: ns })).items.filter((e) => e.involvedObject.kind === kind);
}

function rollingDeployment(ns: string, image: string, replicas = 4, strategy = 'type: RollingUpdate\n    rollingUpdate: {maxSurge: 1, maxUnavailable: 1}'): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: ${ns}}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: web}}
  strategy:
    ${strategy}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: c, image: ${image}}]
`;
}

/** Waits until the Deployment's latest spec is observed and its rollout finished (what `rollout status` checks). */
async function waitRolledOut(ns: string, replicas: number): Promise<Deployment> {
  return waitFor(`deployment ${ns}/web rolled out`, async () => {
    const d = await deployment(ns);
    const s = d.status ?? {};
    const done = (s.observedGeneration ?? 0) >= (d.metadata.generation ?? 0) && s.updatedReplicas === replicas && s.replicas === replicas && s.availableReplicas === replicas;
    return done ? d : undefined;
  });
}

/**
 * Plays the kubelet through a rollout: marks the pods of the Deployment's current template ready one
 * at a time, waiting for the controllers to act in between, until the rollout is complete.
 */
async function driveRollout(ns: string, replicas: number): Promise<Deployment> {
  for (;;) {
    const d = await deployment(ns);
    const s = d.status ?? {};
    if ((s.observedGeneration ?? 0) >= (d.metadata.generation ?? 0) && s.updatedReplicas === replicas && s.replicas === replicas && s.availableReplicas === replicas) return d;
    const next = await waitFor(`a not-ready pod of the new template in ${ns}, or the rollout done`, async () => {
      const dd = await deployment(ns);
      const rsList = await replicaSets(ns);
      const newRS = rsList.find((rs) => rs.metadata.annotations?.['deployment.kubernetes.io/revision'] === dd.metadata.annotations?.['deployment.kubernetes.io/revision']);
      if (newRS === undefined) return undefined;
      const waiting = (await pods(ns, `pod-template-hash=${hashOf(newRS)}`)).find((p) => !isReady(p));
      if (waiting !== undefined) return waiting;
      const st = dd.status ?? {};
      return st.updatedReplicas === replicas && st.replicas === replicas && st.availableReplicas === replicas ? ('done' as const) : undefined;
    });
    if (next !== 'done') await markReady(next);
  }
}

/** Watches a namespace's pods and ReplicaSets and records every state that breaks the rollout bounds. */
function rolloutMonitor(ns: string, minReady: number, maxTotal: number): { ready: Promise<void>; violations: string[]; minSeenReady: () => number; stop: () => void } {
  const ac = new AbortController();
  const violations: string[] = [];
  let minSeen = Number.POSITIVE_INFINITY;
  const podInf = new Informer<Pod>(clientListerWatcher(client, resources.pods, { namespace: ns }), { clock: realClock });
  const rsInf = new Informer<ReplicaSet>(clientListerWatcher(client, resources.replicaSets, { namespace: ns }), { clock: realClock });
  // the first list arrives as one add per object: judge states only once it is complete
  const checkPods = (): void => {
    if (!podInf.hasSynced()) return;
    const ready = podInf.list().filter((p) => isActive(p) && isReady(p)).length;
    minSeen = Math.min(minSeen, ready);
    if (ready < minReady) violations.push(`only ${ready} ready pods (need ${minReady})`);
  };
  const checkRs = (): void => {
    if (!rsInf.hasSynced()) return;
    const total = rsInf.list().reduce((n, rs) => n + (rs.spec.replicas ?? 0), 0);
    const sizes = rsInf.list().map((rs) => `${rs.metadata.name ?? ''}=${rs.spec.replicas ?? 0}@${rs.metadata.resourceVersion ?? ''}`);
    if (process.env['WL_DEBUG']) violations.push(`state ${sizes.join(' ')}`);
    if (total > maxTotal) violations.push(`ReplicaSets ask for ${total} pods (max ${maxTotal}): ${sizes.join(' ')}`);
  };
  podInf.addEventHandler({ onAdd: checkPods, onUpdate: checkPods, onDelete: checkPods });
  rsInf.addEventHandler({ onAdd: checkRs, onUpdate: checkRs, onDelete: checkRs });
  void podInf.run(ac.signal);
  void rsInf.run(ac.signal);
  return {
    ready: Promise.all([podInf.waitForSync(), rsInf.waitForSync()]).then(() => undefined),
    violations, minSeenReady: () => minSeen, stop: () => ac.abort() };
}

// ---- tests -------------------------------------------------------------------------------------

describe('Deployment', () => {
  it('kubectl create deployment gives one ReplicaSet with 6 pods; scaling up and down', async () => {
    const ns = 'wl-create';
    await createNamespace(server, ns);
    await server.kubectlOk(['create', 'deployment', 'web', '--image=x', '--replicas=6', '-n', ns]);
    const rs = await waitFor('one ReplicaSet with 6 pods', async () => {
      const list = await replicaSets(ns);
      return list.length === 1 && list[0]?.status?.replicas === 6 && (await pods(ns)).length === 6 ? list[0] : undefined;
    });
    const hash = hashOf(rs);
    expect(rs.metadata.name).toBe(`web-${hash}`);
    expect(rs.metadata.annotations).toMatchObject({ 'deployment.kubernetes.io/revision': '1', 'deployment.kubernetes.io/desired-replicas': '6', 'deployment.kubernetes.io/max-replicas': '8' });
    const d = await deployment(ns);
    expect(rs.metadata.ownerReferences).toEqual([{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: d.metadata.uid, controller: true, blockOwnerDeletion: true }]);
    for (const p of await pods(ns)) {
      expect(p.metadata.name).toMatch(new RegExp(`^web-${hash}-[a-z0-9]{5}$`));
      expect(p.metadata.labels).toEqual({ app: 'web', 'pod-template-hash': hash });
      expect(p.metadata.ownerReferences).toEqual([{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: rs.metadata.name, uid: rs.metadata.uid, controller: true, blockOwnerDeletion: true }]);
    }
    await waitFor('the deployment revision and status', async () => {
      const dd = await deployment(ns);
      return dd.metadata.annotations?.['deployment.kubernetes.io/revision'] === '1' && dd.status?.updatedReplicas === 6 && dd.status.replicas === 6;
    });
    await waitFor('ScalingReplicaSet and SuccessfulCreate events', async () => {
      const dEvents = await events(ns, 'Deployment');
      const rsEvents = await events(ns, 'ReplicaSet');
      return (
        dEvents.some((e) => e.reason === 'ScalingReplicaSet' && e.message === `Scaled up replica set web-${hash} to 6` && e.source?.component === 'deployment-controller') &&
        rsEvents.filter((e) => e.reason === 'SuccessfulCreate' && /^Created pod: web-/.test(e.message ?? '')).length === 6
      );
    });

    await server.kubectlOk(['scale', 'deployment', 'web', '--replicas=8', '-n', ns]);
    await waitFor('8 pods', async () => (await pods(ns)).length === 8 && (await replicaSets(ns))[0]?.status?.replicas === 8);
    await server.kubectlOk(['scale', 'deployment', 'web', '--replicas=3', '-n', ns]);
    await waitFor('3 pods', async () => (await pods(ns)).length === 3 && (await replicaSets(ns))[0]?.status?.replicas === 3);
    expect((await events(ns, 'Deployment')).some((e) => e.message === `Scaled down replica set web-${hash} to 3 from 8`)).toBe(true);
    expect(await replicaSets(ns)).toHaveLength(1);

    for (const p of await pods(ns)) await markReady(p);
    await waitRolledOut(ns, 3);
    const status = await server.kubectl(['rollout', 'status', 'deployment/web', '-n', ns, '--timeout=30s']);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain('deployment "web" successfully rolled out');
    const wide = await server.kubectlOk(['get', 'deployment', 'web', '-n', ns]);
    expect(wide).toMatch(/web\s+3\/3\s+3\s+3/);
    const described = await server.kubectlOk(['describe', 'deployment', 'web', '-n', ns]);
    expect(described).toMatch(new RegExp(`NewReplicaSet:\\s+web-${hash} \\(3/3 replicas created\\)`));
    expect(described).toMatch(/ScalingReplicaSet\s+\S+\s+deployment-controller\s+Scaled down replica set/);
    const final = await deployment(ns);
    expect(final.status?.conditions?.map((c) => `${c.type}=${c.status}/${c.reason ?? ''}`).sort()).toEqual([
      'Available=True/MinimumReplicasAvailable',
      'Progressing=True/NewReplicaSetAvailable',
    ]);
  });

  it('rolls a template change within maxSurge/maxUnavailable; rollout status, history, undo, pause/resume, restart', async () => {
    const ns = 'wl-roll';
    await createNamespace(server, ns);
    await server.kubectlOk(['create', '-f', '-'], { input: rollingDeployment(ns, 'v1') });
    await waitFor('4 pods', async () => (await pods(ns)).length === 4);
    await driveRollout(ns, 4);
    const first = (await replicaSets(ns))[0];

    // rolling update v1 -> v2, watched state by state
    const monitor = rolloutMonitor(ns, 3, 5);
    try {
      await monitor.ready;
      await server.kubectlOk(['set', 'image', 'deployment/web', 'c=v2', '-n', ns]);
      // as users record a change-cause: after the change, so it lands on the new ReplicaSet only
      await server.kubectlOk(['annotate', 'deployment', 'web', '-n', ns, 'kubernetes.io/change-cause=image v2']);
      const rolloutStatus = server.kubectl(['rollout', 'status', 'deployment/web', '-n', ns, '--timeout=90s'], { timeoutMs: 100_000 });
      await driveRollout(ns, 4);
      const st = await rolloutStatus;
      expect(st.code, st.stderr).toBe(0);
      expect(st.stdout).toContain('deployment "web" successfully rolled out');
    } finally {
      monitor.stop();
    }
    expect(monitor.violations).toEqual([]);
    expect(monitor.minSeenReady()).toBe(3);
    const afterV2 = await replicaSets(ns);
    expect(afterV2).toHaveLength(2);
    expect(afterV2.find((rs) => rs.metadata.uid === first?.metadata.uid)?.spec.replicas).toBe(0);
    expect((await pods(ns)).every((p) => p.spec.containers[0]?.image === 'v2')).toBe(true);
    expect((await events(ns, 'Deployment')).some((e) => e.message === `Scaled down replica set ${first?.metadata.name ?? ''} to 3 from 4`)).toBe(true);

    const history = await waitFor('the change-cause on revision 2', async () => {
      const out = await server.kubectlOk(['rollout', 'history', 'deployment/web', '-n', ns]);
      return /^2\s+image v2$/m.test(out) ? out : undefined;
    });
    expect(history).toMatch(/^1\s+<none>$/m);
    expect(history).toMatch(/^2\s+image v2$/m);

    // undo: back to v1, which becomes revision 3
    await server.kubectlOk(['rollout', 'undo', 'deployment/web', '-n', ns]);
    await driveRollout(ns, 4);
    expect((await pods(ns)).every((p) => p.spec.containers[0]?.image === 'v1')).toBe(true);
    const back = (await replicaSets(ns)).find((rs) => rs.metadata.uid === first?.metadata.uid);
    expect(back?.metadata.annotations).toMatchObject({ 'deployment.kubernetes.io/revision': '3', 'deployment.kubernetes.io/revision-history': '1' });
    expect(await server.kubectlOk(['rollout', 'history', 'deployment/web', '-n', ns])).toMatch(/^2\s+image v2\n3\s+/m);

    // pause: a template change waits; resume rolls it
    await server.kubectlOk(['rollout', 'pause', 'deployment/web', '-n', ns]);
    await server.kubectlOk(['set', 'image', 'deployment/web', 'c=v3', '-n', ns]);
    await waitFor('the paused change observed', async () => {
      const d = await deployment(ns);
      const c = d.status?.conditions?.find((x) => x.type === 'Progressing');
      return (d.status?.observedGeneration ?? 0) >= (d.metadata.generation ?? 0) && c?.reason === 'DeploymentPaused' && c.status === 'Unknown';
    });
    expect(await replicaSets(ns)).toHaveLength(2);
    expect((await server.kubectl(['rollout', 'undo', 'deployment/web', '-n', ns])).stderr).toContain('paused');
    await server.kubectlOk(['rollout', 'resume', 'deployment/web', '-n', ns]);
    await driveRollout(ns, 4);
    expect((await pods(ns)).every((p) => p.spec.containers[0]?.image === 'v3')).toBe(true);
    expect(await replicaSets(ns)).toHaveLength(3);

    // restart: a new template (restartedAt), so new pods
    const before = new Set((await pods(ns)).map((p) => p.metadata.name));
    await server.kubectlOk(['rollout', 'restart', 'deployment/web', '-n', ns]);
    await driveRollout(ns, 4);
    const restarted = await pods(ns);
    expect(restarted).toHaveLength(4);
    expect(restarted.some((p) => before.has(p.metadata.name))).toBe(false);
    expect(restarted[0]?.metadata.annotations?.['kubectl.kubernetes.io/restartedAt']).toBeDefined();
    expect((await deployment(ns)).metadata.annotations?.['deployment.kubernetes.io/revision']).toBe('5');
  });

  it('Recreate: every old pod is gone before a new one exists', async () => {
    const ns = 'wl-recreate';
    await createNamespace(server, ns);
    await server.kubectlOk(['create', '-f', '-'], { input: rollingDeployment(ns, 'v1', 3, 'type: Recreate') });
    await driveRollout(ns, 3);
    const ac = new AbortController();
    const overlap: string[] = [];
    const inf = new Informer<Pod>(clientListerWatcher(client, resources.pods, { namespace: ns }), { clock: realClock });
    const check = (): void => {
      const images = new Set(inf.list().filter(isActive).map((p) => p.spec.containers[0]?.image));
      if (images.size > 1) overlap.push([...images].join('+'));
    };
    inf.addEventHandler({ onAdd: check, onUpdate: check, onDelete: check });
    void inf.run(ac.signal);
    try {
      await inf.waitForSync();
      await server.kubectlOk(['set', 'image', 'deployment/web', 'c=v2', '-n', ns]);
      await driveRollout(ns, 3);
    } finally {
      ac.abort();
    }
    expect(overlap).toEqual([]);
    expect((await pods(ns)).map((p) => p.spec.containers[0]?.image)).toEqual(['v2', 'v2', 'v2']);
  });

  it('a rollout without progress for progressDeadlineSeconds fails kubectl rollout status', async () => {
    const ns = 'wl-deadline';
    await createNamespace(server, ns);
    const manifest = rollingDeployment(ns, 'v1', 2).replace('  replicas: 2\n', '  replicas: 2\n  progressDeadlineSeconds: 2\n');
    await server.kubectlOk(['create', '-f', '-'], { input: manifest });
    const st = await server.kubectl(['rollout', 'status', 'deployment/web', '-n', ns, '--timeout=60s'], { timeoutMs: 70_000 });
    expect(st.code).not.toBe(0);
    expect(st.stderr).toContain('exceeded its progress deadline');
    const c = (await deployment(ns)).status?.conditions?.find((x) => x.type === 'Progressing');
    expect(`${c?.status} ${c?.reason}`).toBe('False ProgressDeadlineExceeded');
  });
});

describe('ReplicaSet', () => {
  const rsManifest = (ns: string, replicas: number): string => `apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: cache, namespace: ${ns}}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: cache}}
  template:
    metadata: {labels: {app: cache}}
    spec:
      containers: [{name: c, image: x}]
`;

  it('replaces a deleted pod', async () => {
    const ns = 'wl-heal';
    await createNamespace(server, ns);
    await server.kubectlOk(['create', '-f', '-'], { input: rsManifest(ns, 2) });
    const initial = await waitFor('2 pods', async () => {
      const list = await pods(ns);
      return list.length === 2 ? list : undefined;
    });
    const victim = initial[0]?.metadata.name ?? '';
    await server.kubectlOk(['delete', 'pod', victim, '-n', ns]);
    const healed = await waitFor('a replacement pod', async () => {
      const list = await pods(ns);
      return list.length === 2 && !list.some((p) => p.metadata.name === victim) ? list : undefined;
    });
    expect(healed.every((p) => p.metadata.name?.startsWith('cache-'))).toBe(true);
    await waitFor('status.replicas 2 and the events', async () => {
      const rs = await client.get<ReplicaSet>(resources.replicaSets, 'cache', { namespace: ns });
      const ev = await events(ns, 'ReplicaSet');
      return rs.status?.replicas === 2 && rs.status.observedGeneration === rs.metadata.generation && ev.filter((e) => e.reason === 'SuccessfulCreate').length === 3 && ev.every((e) => e.source?.component === 'replicaset-controller');
    });
  });

  it('minReadySeconds: ready pods count as available only after that long', async () => {
    const ns = 'wl-minready';
    await createNamespace(server, ns);
    await server.kubectlOk(['create', '-f', '-'], { input: rsManifest(ns, 2).replace('  replicas: 2\n', '  replicas: 2\n  minReadySeconds: 2\n') });
    const list = await waitFor('2 pods', async () => {
      const l = await pods(ns);
      return l.length === 2 ? l : undefined;
    });
    const readyAt = Date.now();
    for (const p of list) await markReady(p);
    await waitFor('2 ready', async () => (await client.get<ReplicaSet>(resources.replicaSets, 'cache', { namespace: ns })).status?.readyReplicas === 2);
    // no pod event comes after the readiness: only the controller's own delayed re-sync can do this
    await waitFor('2 available', async () => (await client.get<ReplicaSet>(resources.replicaSets, 'cache', { namespace: ns })).status?.availableReplicas === 2, { timeoutMs: 10_000 });
    // the Ready condition's lastTransitionTime has second precision, so "2 s" may start up to 1 s early
    expect(Date.now() - readyAt).toBeGreaterThanOrEqual(1000);
  });

  it('adopts an orphan pod with matching labels and releases a pod whose labels stop matching', async () => {
    const ns = 'wl-adopt';
    await createNamespace(server, ns);
    await server.kubectlOk(['run', 'orphan', '--image=x', '--labels=app=cache', '-n', ns]);
    await server.kubectlOk(['create', '-f', '-'], { input: rsManifest(ns, 2) });
    const rs = await client.get<ReplicaSet>(resources.replicaSets, 'cache', { namespace: ns });
    const adopted = await waitFor('the orphan adopted and one pod created', async () => {
      const list = await pods(ns, 'app=cache');
      const orphan = list.find((p) => p.metadata.name === 'orphan');
      return list.length === 2 && orphan?.metadata.ownerReferences?.[0]?.uid === rs.metadata.uid ? orphan : undefined;
    });
    expect(adopted.metadata.ownerReferences).toEqual([{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'cache', uid: rs.metadata.uid, controller: true, blockOwnerDeletion: true }]);

    await server.kubectlOk(['label', 'pod', 'orphan', 'app=debug', '--overwrite', '-n', ns]);
    await waitFor('the relabelled pod released and replaced', async () => {
      const released = await client.get<Pod>(resources.pods, 'orphan', { namespace: ns });
      const list = await pods(ns, 'app=cache');
      return (released.metadata.ownerReferences ?? []).length === 0 && list.length === 2 && !list.some((p) => p.metadata.name === 'orphan');
    });
  });
});
