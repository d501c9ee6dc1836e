/**
 * The pod worker's passes over the fake CRI: the real planner, executor, status generator and status
 * manager, with fakes for the runtime, images, volumes, probes and the apiserver.
 */
import { describe, expect, it } from 'vitest';
import type { ConfigMap } from '../api/core/configmap.js';
import type { Container, LifecycleHandler, Pod } from '../api/core/pod.js';
import { FakeClock } from '../lib/clock.js';
import { resources } from '../lib/client/resource.js';
import { silentLogger } from '../lib/log.js';
import { Backoff } from './backoff.js';
import { FakeImageService } from './cri/fake-image.js';
import { FakeRuntimeService } from './cri/fake-runtime.js';
import { PodEnvResolver } from './env.js';
import { PodExecutor } from './executor.js';
import type { EnvAwareVolumeManager, LifecycleHooks } from './executor.js';
import { FakeApi } from './node/fake-api.js';
import { podStopped, PodSyncer, readPodRuntime, scopedRuntime } from './pod-sync.js';
import type { ProbeSink } from './pod-sync.js';
import { StatusManager } from './status-manager.js';
import { VolumeSetupError } from './errors.js';
import type { HostMount, ObjectLookup, PodRuntimeFacts, ProbeKind, ProbeResult, RuntimePod } from './types.js';

const IMAGE = 'knode.local/testserver:1.0';

class FakeVolumes implements EnvAwareVolumeManager {
  setUps: string[] = [];
  refreshes: string[] = [];
  tornDown: string[] = [];
  failWith: Error | undefined;
  async setUpPod(pod: Pod): Promise<ReadonlyMap<string, string>> {
    this.setUps.push(pod.metadata.uid ?? '');
    if (this.failWith) throw this.failWith;
    return new Map((pod.spec.volumes ?? []).map((v) => [v.name, `/var/lib/kubelet/pods/${pod.metadata.uid ?? ''}/volumes/${v.name}`]));
  }
  async refreshVolumes(pod: Pod, facts: PodRuntimeFacts): Promise<void> {
    this.refreshes.push(`${pod.metadata.uid ?? ''} ${facts.podIP}`);
    if (this.failWith) throw this.failWith;
  }
  async tearDownPod(uid: string): Promise<void> {
    this.tornDown.push(uid);
  }
  mountsFor(_pod: Pod, container: Container, volumes: ReadonlyMap<string, string>): readonly HostMount[] {
    return (container.volumeMounts ?? []).map((m) => ({ hostPath: volumes.get(m.name) ?? '', containerPath: m.mountPath, readOnly: m.readOnly === true }));
  }
}

class FakeProbes implements ProbeSink {
  results = new Map<string, ProbeResult>();
  updated: string[] = [];
  removed: string[] = [];
  get(containerId: string, kind: ProbeKind): ProbeResult {
    return this.results.get(`${containerId}/${kind}`) ?? 'success';
  }
  updatePod(pod: Pod): void {
    this.updated.push(pod.metadata.uid ?? '');
  }
  removePod(uid: string): void {
    this.removed.push(uid);
  }
}

class FakeHooks implements LifecycleHooks {
  preStops: string[] = [];
  postStartFails = false;
  preStopFails = false;
  async postStart(_pod: Pod, container: Container): Promise<void> {
    if (this.postStartFails) throw new Error(`hook of ${container.name} failed`);
  }
  async preStop(_pod: Pod | undefined, name: string, _h: LifecycleHandler, _id: string, _ip: string, grace: number): Promise<void> {
    this.preStops.push(`${name}:${grace}`);
    if (this.preStopFails) throw new Error(`preStop of ${name} failed`);
  }
}

function lookupOf(configMaps: ConfigMap[] = []): ObjectLookup {
  return {
    getConfigMap: async (ns, name) => configMaps.find((c) => c.metadata.namespace === ns && c.metadata.name === name),
    getSecret: async () => undefined,
    listServices: async () => [],
  };
}

function setup(opts: { configMaps?: ConfigMap[]; images?: string[] } = {}) {
  const clock = new FakeClock();
  const images = new FakeImageService({ clock });
  for (const ref of opts.images ?? [IMAGE]) images.addImage({ ref });
  const runtime = new FakeRuntimeService({ clock, images, podSubnetPrefix: '10.244.1' });
  const api = new FakeApi(() => clock.now());
  const volumes = new FakeVolumes();
  const probes = new FakeProbes();
  const hooks = new FakeHooks();
  const restartBackoff = new Backoff(clock);
  const imageBackoff = new Backoff(clock);
  const log = silentLogger();
  const logDirs: string[] = [];
  const events: string[] = [];
  const executor = new PodExecutor({
    runtime,
    images,
    volumes,
    env: new PodEnvResolver(lookupOf(opts.configMaps)),
    hooks,
    clock,
    log,
    restartBackoff,
    imageBackoff,
    nodeName: 'w1',
    nodeIP: '172.31.250.11',
    memoryCapacity: 4 << 30,
    dns: { clusterDNS: ['10.96.0.10'], clusterDomain: 'cluster.local', hostResolvConf: 'nameserver 1.1.1.1\n' },
    ensureDir: async (dir) => {
      logDirs.push(dir);
    },
    events: (_pod, type, reason, message, c) => events.push(`${type} ${reason} ${c ? `${c.init ? 'init ' : ''}${c.name}: ` : ''}${message}`),
  });
  const statusManager = new StatusManager({ client: api });
  const syncer = new PodSyncer({ runtime, images, executor, statusManager, volumes, probes, restartBackoff, imageBackoff, clock, log, nodeIP: '172.31.250.11' });
  return { clock, images, runtime, api, volumes, probes, hooks, syncer, statusManager, restartBackoff, logDirs, events };
}

function makePod(api: FakeApi, spec: Partial<Pod['spec']> = {}, name = 'web'): Pod {
  return api.put<Pod>(resources.pods, {
    metadata: { name, namespace: 'default' },
    spec: { containers: [{ name: 'app', image: IMAGE, imagePullPolicy: 'IfNotPresent' }], restartPolicy: 'Always', terminationGracePeriodSeconds: 5, nodeName: 'w1', ...spec },
  });
}

const signal = new AbortController().signal;
const statusOf = (api: FakeApi, name = 'web'): Pod['status'] => api.object<Pod>(resources.pods, name, 'default')?.status;
const waitingReason = (api: FakeApi, c = 'app', name = 'web'): string | undefined =>
  statusOf(api, name)?.containerStatuses?.find((s) => s.name === c)?.state?.waiting?.reason;

describe('scopedRuntime', () => {
  it('lists only the objects of one pod', async () => {
    const { api, runtime, syncer } = setup();
    const a = makePod(api, {}, 'a');
    const b = makePod(api, {}, 'b');
    await syncer.syncPod(a, signal);
    await syncer.syncPod(b, signal);
    const listed = await scopedRuntime(runtime, a.metadata.uid ?? '').listContainers({});
    expect(listed.containers).toHaveLength(1);
    expect((await runtime.listContainers({})).containers).toHaveLength(2);
  });
});

describe('PodSyncer.syncPod', () => {
  it('creates the sandbox and starts the containers, then reports Running with the sandbox IP', async () => {
    const { api, runtime, syncer, volumes, probes, logDirs } = setup();
    const pod = makePod(api);
    await syncer.syncPod(pod, signal);
    expect(logDirs).toEqual([`/var/log/pods/default_web_${pod.metadata.uid ?? ''}`]);
    const rp = await readPodRuntime(runtime, pod.metadata.uid ?? '');
    expect(rp?.sandboxes).toHaveLength(1);
    expect(rp?.containers.map((c) => [c.name, c.state])).toEqual([['app', 'running']]);
    const st = statusOf(api);
    expect(st?.phase).toBe('Running');
    expect(st?.podIP).toMatch(/^10\.244\.1\.\d+$/);
    expect(st?.containerStatuses?.[0]?.containerID).toMatch(/^containerd:\/\//);
    expect(volumes.setUps.length).toBeGreaterThan(0);
    expect(probes.updated).toEqual([pod.metadata.uid]);
  });

  it('refreshes the volumes of a running pod on a pass that starts nothing; a failure is FailedMount and a quick retry', async () => {
    const { api, syncer, volumes, events } = setup();
    const pod = makePod(api);
    await syncer.syncPod(pod, signal);
    expect(volumes.refreshes).toEqual([]);
    await syncer.syncPod(pod, signal);
    const ip = statusOf(api)?.podIP ?? '';
    expect(volumes.refreshes).toEqual([`${pod.metadata.uid ?? ''} ${ip}`]);
    events.length = 0;
    volumes.failWith = new VolumeSetupError('kube-api-access', 'token expired and refresh failed: connection refused');
    await expect(syncer.syncPod(pod, signal)).rejects.toThrow('SetupVolumes: token expired and refresh failed: connection refused');
    expect(events).toEqual(['Warning FailedMount MountVolume.SetUp failed for volume "kube-api-access" : token expired and refresh failed: connection refused']);
    expect(statusOf(api)?.phase).toBe('Running');
  });

  it('records FailedMount naming the volume when a new pod\'s volumes cannot be set up', async () => {
    const { api, syncer, volumes, events } = setup();
    volumes.failWith = new VolumeSetupError('kube-api-access', 'failed to fetch token: serviceaccounts "robot" not found');
    await expect(syncer.syncPod(makePod(api), signal)).rejects.toThrow('SetupVolumes: failed to fetch token');
    expect(events).toEqual(['Warning FailedMount MountVolume.SetUp failed for volume "kube-api-access" : failed to fetch token: serviceaccounts "robot" not found']);
    expect(waitingReason(api)).toBe('ContainerCreating');
    expect(volumes.refreshes).toEqual([]);
  });

  it('records the events kubectl describe shows: image present, Created, Started', async () => {
    const { api, syncer, events } = setup();
    await syncer.syncPod(makePod(api), signal);
    expect(events).toEqual([
      `Normal Pulled app: Container image "${IMAGE}" already present on machine`,
      'Normal Created app: Created container app',
      'Normal Started app: Started container app',
    ]);
  });

  it('records Pulling, then Failed with the runtime message and Error: ErrImagePull for a missing image', async () => {
    const { api, syncer, events } = setup();
    const pod = makePod(api, { containers: [{ name: 'app', image: 'knode.local/missing:1.0', imagePullPolicy: 'IfNotPresent' }] });
    await expect(syncer.syncPod(pod, signal)).rejects.toThrow();
    expect(events[0]).toBe('Normal Pulling app: Pulling image "knode.local/missing:1.0"');
    expect(events[1]).toMatch(/^Warning Failed app: Failed to pull image "knode\.local\/missing:1\.0": /);
    expect(events[2]).toBe('Warning Failed app: Error: ErrImagePull');
  });

  it('records Killing with the liveness reason when a failed liveness probe restarts the container', async () => {
    const { api, runtime, syncer, probes, events } = setup();
    const pod = makePod(api, { containers: [{ name: 'app', image: IMAGE, imagePullPolicy: 'IfNotPresent', livenessProbe: { exec: { command: ['true'] } } }] });
    await syncer.syncPod(pod, signal);
    const first = (await runtime.listContainers({})).containers[0]!;
    probes.results.set(`${first.id}/liveness`, 'failure');
    events.length = 0;
    await syncer.syncPod(pod, signal);
    expect(events).toEqual([
      'Normal Killing app: Container app failed liveness probe, will be restarted',
      `Normal Pulled app: Container image "${IMAGE}" already present on machine`,
      'Normal Created app: Created container app',
      'Normal Started app: Started container app',
    ]);
  });

  it('records Killing with the generic message when the pod itself is killed', async () => {
    const { api, runtime, syncer, events } = setup();
    const pod = makePod(api);
    await syncer.syncPod(pod, signal);
    events.length = 0;
    expect(await syncer.terminatePod(pod.metadata.uid ?? '', pod, 2, false, signal)).toBe(true);
    expect(events).toEqual(['Normal Killing app: Stopping container app']);
    expect(runtime.recorder.requestsOf('stopContainer')).toHaveLength(1);
  });

  it('records Warning BackOff on each pass that holds a crash-looping container back', async () => {
    const { api, runtime, syncer, clock, events } = setup();
    const pod = makePod(api);
    await syncer.syncPod(pod, signal);
    runtime.exitContainer((await runtime.listContainers({})).containers[0]!.id, 1);
    await clock.advance(1000);
    await syncer.syncPod(pod, signal); // restarts at once, opening a 10 s window
    const running = (await runtime.listContainers({ filter: { state: { state: 'CONTAINER_RUNNING' } } })).containers[0]!;
    runtime.exitContainer(running.id, 1);
    events.length = 0;
    await clock.advance(1000);
    await syncer.syncPod(pod, signal);
    await clock.advance(1000);
    await syncer.syncPod(pod, signal);
    const backOff = `Warning BackOff app: Back-off restarting failed container app in pod web_default(${pod.metadata.uid ?? ''})`;
    expect(events).toEqual([backOff, backOff]);
  });

  it('records Normal BackOff and Failed "Error: ImagePullBackOff" while a pull is held back', async () => {
    const { api, syncer, clock, events } = setup();
    const pod = makePod(api, { containers: [{ name: 'app', image: 'knode.local/missing:1.0', imagePullPolicy: 'IfNotPresent' }] });
    await expect(syncer.syncPod(pod, signal)).rejects.toThrow();
    events.length = 0;
    await clock.advance(2000);
    await syncer.syncPod(pod, signal);
    expect(events).toEqual(['Normal BackOff app: Back-off pulling image "knode.local/missing:1.0"', 'Warning Failed app: Error: ImagePullBackOff']);
  });

  it('passes DNS and the pod labels to the sandbox', async () => {
    const { api, runtime, syncer } = setup();
    const pod = makePod(api);
    await syncer.syncPod(pod, signal);
    const req = runtime.recorder.requestsOf('runPodSandbox')[0] as { config: { dnsConfig?: { servers?: string[] }; labels?: Record<string, string> } };
    expect(req.config.dnsConfig?.servers).toEqual(['10.96.0.10']);
    expect(req.config.labels?.['io.kubernetes.pod.uid']).toBe(pod.metadata.uid);
  });

  it('leaves a running pod alone on the next pass (an agent restart restarts nothing)', async () => {
    const { api, runtime, syncer } = setup();
    const pod = makePod(api);
    await syncer.syncPod(pod, signal);
    const ids = (await runtime.listContainers({})).containers.map((c) => c.id);
    runtime.recorder.clear();
    await syncer.syncPod(pod, signal);
    expect((await runtime.listContainers({})).containers.map((c) => c.id)).toEqual(ids);
    expect(runtime.recorder.requestsOf('createContainer')).toHaveLength(0);
    expect(runtime.recorder.requestsOf('stopContainer')).toHaveLength(0);
  });

  it('restarts a crashed container, then holds it in CrashLoopBackOff', async () => {
    const { api, runtime, syncer, clock } = setup();
    const pod = makePod(api);
    await syncer.syncPod(pod, signal);
    const first = (await runtime.listContainers({})).containers[0]!;
    runtime.exitContainer(first.id, 1);
    await clock.advance(1000);
    await syncer.syncPod(pod, signal);
    expect(statusOf(api)?.containerStatuses?.[0]?.restartCount).toBe(1);
    const second = (await runtime.listContainers({ filter: { state: { state: 'CONTAINER_RUNNING' } } })).containers[0]!;
    runtime.exitContainer(second.id, 1);
    await clock.advance(1000);
    await syncer.syncPod(pod, signal);
    expect(waitingReason(api)).toBe('CrashLoopBackOff');
    expect(statusOf(api)?.containerStatuses?.[0]?.state?.waiting?.message).toContain('back-off 10s');
  });

  it('asks to be synced again when the back-off window ends', async () => {
    const { api, runtime, syncer, clock } = setup();
    const pod = makePod(api);
    await syncer.syncPod(pod, signal);
    runtime.exitContainer((await runtime.listContainers({})).containers[0]!.id, 1);
    await syncer.syncPod(pod, signal); // restarts at once, opening a 10 s window
    const running = (await runtime.listContainers({ filter: { state: { state: 'CONTAINER_RUNNING' } } })).containers[0]!;
    runtime.exitContainer(running.id, 1);
    await clock.advance(4_000);
    const outcome = await syncer.syncPod(pod, signal);
    expect(outcome.requeueAfterMs).toBeGreaterThan(5_000);
    expect(outcome.requeueAfterMs).toBeLessThanOrEqual(10_100);
  });

  it('reports ErrImagePull with the runtime message, then ImagePullBackOff within the window', async () => {
    const { api, syncer, clock } = setup();
    const pod = makePod(api, { containers: [{ name: 'app', image: 'knode.local/missing:1.0', imagePullPolicy: 'IfNotPresent' }] });
    await expect(syncer.syncPod(pod, signal)).rejects.toThrow(/ErrImagePull|Failed to pull/);
    expect(waitingReason(api)).toBe('ErrImagePull');
    expect(statusOf(api)?.containerStatuses?.[0]?.state?.waiting?.message).toContain('Failed to pull image "knode.local/missing:1.0"');
    await clock.advance(2000);
    await syncer.syncPod(pod, signal);
    expect(waitingReason(api)).toBe('ImagePullBackOff');
  });

  it('reports CreateContainerConfigError for a missing ConfigMap and starts once it exists', async () => {
    const cms: ConfigMap[] = [];
    const { api, syncer, runtime } = setup({ configMaps: cms });
    const pod = makePod(api, {
      containers: [{ name: 'app', image: IMAGE, imagePullPolicy: 'IfNotPresent', env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'k' } } }] }],
    });
    await expect(syncer.syncPod(pod, signal)).rejects.toThrow();
    expect(waitingReason(api)).toBe('CreateContainerConfigError');
    expect(statusOf(api)?.containerStatuses?.[0]?.state?.waiting?.message).toContain('configmap "cfg" not found');
    cms.push({ metadata: { name: 'cfg', namespace: 'default' }, data: { k: 'v' } });
    await syncer.syncPod(pod, signal);
    const created = runtime.recorder.requestsOf('createContainer') as Array<{ config: { envs?: Array<{ key: string; value: string }> } }>;
    expect(created.at(-1)?.config.envs).toContainEqual({ key: 'X', value: 'v' });
  });

  it('runs init containers one at a time, in order, before the regular ones', async () => {
    const { api, runtime, syncer } = setup();
    const pod = makePod(api, {
      initContainers: [
        { name: 'init1', image: IMAGE, imagePullPolicy: 'IfNotPresent' },
        { name: 'init2', image: IMAGE, imagePullPolicy: 'IfNotPresent' },
      ],
    });
    const order: string[] = [];
    for (let i = 0; i < 3; i++) {
      await syncer.syncPod(pod, signal);
      const running = (await runtime.listContainers({ filter: { state: { state: 'CONTAINER_RUNNING' } } })).containers;
      for (const c of running) {
        order.push(c.metadata?.name ?? '');
        if (c.metadata?.name !== 'app') runtime.exitContainer(c.id, 0);
      }
    }
    expect(order).toEqual(['init1', 'init2', 'app']);
    expect(statusOf(api)?.initContainerStatuses?.map((s) => s.state?.terminated?.reason)).toEqual(['Completed', 'Completed']);
  });

  it('kills a container whose postStart hook failed and says why', async () => {
    const { api, syncer, hooks, events } = setup();
    hooks.postStartFails = true;
    const pod = makePod(api, { containers: [{ name: 'app', image: IMAGE, imagePullPolicy: 'IfNotPresent', lifecycle: { postStart: { exec: { command: ['false'] } } } }] });
    await expect(syncer.syncPod(pod, signal)).rejects.toThrow(/hook of app failed/);
    expect(waitingReason(api)).toBe('PostStartHookError');
    expect(events).toContain('Warning FailedPostStartHook app: hook of app failed');
  });
});

describe('PodSyncer: ephemeral containers (kubectl debug)', () => {
  it('starts one added to a running pod in its target\'s process namespace, reports it, and never restarts it', async () => {
    const { api, runtime, syncer, events } = setup();
    const pod = makePod(api);
    await syncer.syncPod(pod, signal);
    const app = (await readPodRuntime(runtime, pod.metadata.uid ?? ''))?.containers.find((c) => c.name === 'app');
    const debugged = api.put<Pod>(resources.pods, { ...pod, spec: { ...pod.spec, ephemeralContainers: [{ name: 'debugger', image: IMAGE, targetContainerName: 'app' }] } });
    runtime.recorder.clear();
    await syncer.syncPod(debugged, signal);
    const created = runtime.recorder.requestsOf('createContainer') as Array<{ config: { metadata: { name: string }; linux?: { securityContext?: { namespaceOptions?: unknown } } } }>;
    expect(created.map((r) => r.config.metadata.name)).toEqual(['debugger']);
    expect(created[0]?.config.linux?.securityContext?.namespaceOptions).toEqual({ network: 'POD', pid: 'TARGET', ipc: 'POD', targetId: app?.id });
    expect(events).toContain('Normal Started debugger: Started container debugger');
    const st = statusOf(api);
    expect(st?.ephemeralContainerStatuses?.map((c) => [c.name, c.ready, c.state?.running !== undefined])).toEqual([['debugger', false, true]]);
    expect(st?.containerStatuses?.map((c) => c.name)).toEqual(['app']);
    // it exits: it stays exited, the pod keeps running
    const id = (await readPodRuntime(runtime, pod.metadata.uid ?? ''))?.containers.find((c) => c.name === 'debugger')?.id ?? '';
    await runtime.stopContainer({ containerId: id, timeout: 0 });
    runtime.recorder.clear();
    await syncer.syncPod(api.object<Pod>(resources.pods, 'web', 'default') ?? debugged, signal);
    expect(runtime.recorder.requestsOf('createContainer')).toEqual([]);
    expect(statusOf(api)?.ephemeralContainerStatuses?.[0]?.state?.terminated).toBeDefined();
    expect(statusOf(api)?.phase).toBe('Running');
  });

  it('does not start one whose target container is not running, and says so', async () => {
    const { api, runtime, syncer, events } = setup();
    const pod = makePod(api, { ephemeralContainers: [{ name: 'debugger', image: IMAGE, targetContainerName: 'gone' }] });
    await syncer.syncPod(pod, signal);
    // a failed step asks the pod worker for a quick retry
    await expect(syncer.syncPod(api.object<Pod>(resources.pods, 'web', 'default') ?? pod, signal)).rejects.toThrow(/target container "gone" is not running/);
    expect((await readPodRuntime(runtime, pod.metadata.uid ?? ''))?.containers.map((c) => c.name)).toEqual(['app']);
    expect(events).toContain('Warning Failed debugger: Error: target container "gone" is not running');
    expect(statusOf(api)?.ephemeralContainerStatuses?.[0]?.state?.waiting).toEqual({ reason: 'CreateContainerConfigError', message: 'target container "gone" is not running' });
  });
});

describe('PodSyncer termination', () => {
  it('records FailedPreStopHook when preStop fails, and still stops the container', async () => {
    const { api, runtime, syncer, hooks, events } = setup();
    const pod = makePod(api, { containers: [{ name: 'app', image: IMAGE, imagePullPolicy: 'IfNotPresent', lifecycle: { preStop: { exec: { command: ['false'] } } } }] });
    await syncer.syncPod(pod, signal);
    hooks.preStopFails = true;
    const deleting: Pod = { ...pod, metadata: { ...pod.metadata, deletionTimestamp: '2026-01-01T00:00:00Z', deletionGracePeriodSeconds: 7 } };
    expect(await syncer.terminatePod(pod.metadata.uid ?? '', deleting, 7, false, signal)).toBe(true);
    expect(events).toContain('Warning FailedPreStopHook app: preStop of app failed');
    expect(podStopped(await readPodRuntime(runtime, pod.metadata.uid ?? ''))).toBe(true);
  });

  it('runs preStop within the grace period, stops everything, then confirms the deletion', async () => {
    const { api, runtime, syncer, hooks, volumes } = setup();
    const pod = makePod(api, { containers: [{ name: 'app', image: IMAGE, imagePullPolicy: 'IfNotPresent', lifecycle: { preStop: { exec: { command: ['sh', '-c', 'echo bye'] } } } }] });
    await syncer.syncPod(pod, signal);
    const deleting: Pod = { ...pod, metadata: { ...pod.metadata, deletionTimestamp: '2026-01-01T00:00:00Z', deletionGracePeriodSeconds: 7 } };
    expect(await syncer.terminatePod(pod.metadata.uid ?? '', deleting, 7, false, signal)).toBe(true);
    expect(hooks.preStops).toEqual(['app:7']);
    const stop = runtime.recorder.requestsOf('stopContainer')[0] as { timeout: number };
    expect(stop.timeout).toBe(7);
    expect(podStopped(await readPodRuntime(runtime, pod.metadata.uid ?? ''))).toBe(true);
    expect(await syncer.cleanupPod(pod.metadata.uid ?? '', deleting, false, signal)).toBe(true);
    expect(volumes.tornDown).toEqual([pod.metadata.uid]);
    expect(api.object(resources.pods, 'web', 'default')).toBeUndefined();
    const del = api.callsOf('delete', 'pods');
    expect(del).toHaveLength(1);
  });

  it('kills an orphan with the grace period recorded on its containers', async () => {
    const { api, runtime, syncer } = setup();
    const pod = makePod(api);
    await syncer.syncPod(pod, signal);
    runtime.recorder.clear();
    expect(await syncer.terminatePod(pod.metadata.uid ?? '', undefined, undefined, true, signal)).toBe(true);
    const stop = runtime.recorder.requestsOf('stopContainer')[0] as { timeout: number };
    expect(stop.timeout).toBe(5);
    expect(runtime.recorder.requestsOf('stopPodSandbox')).toHaveLength(1);
    // nothing is deleted in the API for a pod that is not there
    expect(await syncer.cleanupPod(pod.metadata.uid ?? '', undefined, true, signal)).toBe(true);
    expect(api.callsOf('delete')).toHaveLength(0);
  });
});

describe('podStopped', () => {
  const base: RuntimePod = { uid: 'u', name: 'n', namespace: 'd', sandboxes: [], containers: [] };
  it('is true for nothing, false while a sandbox is ready', () => {
    expect(podStopped(undefined)).toBe(true);
    expect(podStopped(base)).toBe(true);
    expect(podStopped({ ...base, sandboxes: [{ id: 's', state: 'ready', attempt: 0, createdAt: 0, hostNetwork: false }] })).toBe(false);
  });
});
