import { describe, expect, it } from 'vitest';
import type { Container, ContainerStatus, Pod, PodCondition, PodStatus } from '../api/core/pod.js';
import { hashContainer } from './container-hash.js';
import { computePodPhase, generatePodStatus } from './pod-status.js';
import type { PodStatusContext } from './pod-status.js';
import type { PodActions, ProbeKind, ProbeResult, ProbeResults, RuntimeContainer, RuntimePod, RuntimeSandbox } from './types.js';

const T0 = Date.UTC(2026, 0, 1);
const NOW = T0 + 3_600_000;
const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const SCHEDULED_AT = '2025-12-31T23:00:00Z';
const IMAGE = 'busybox:1.36';

const app: Container = { name: 'app', image: IMAGE };
const init1: Container = { name: 'init1', image: IMAGE };

function basePod(over: { spec?: Partial<Pod['spec']>; meta?: Partial<Pod['metadata']>; status?: PodStatus } = {}): Pod {
  return {
    metadata: { name: 'web', namespace: 'default', uid: 'uid-1', ...over.meta },
    spec: { restartPolicy: 'Always', containers: [app], ...over.spec },
    status: over.status ?? { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'True', lastTransitionTime: SCHEDULED_AT }] },
  };
}

const sandbox: RuntimeSandbox = { id: 'sb1', state: 'ready', attempt: 0, createdAt: T0, ip: '10.88.0.9', hostNetwork: false };

let seq = 0;
function ctr(name: string, over: Partial<RuntimeContainer> = {}): RuntimeContainer {
  seq++;
  const state = over.state ?? 'running';
  return {
    id: `${name}-${seq}`,
    name,
    sandboxId: 'sb1',
    attempt: 0,
    state,
    createdAt: T0 + 1000 * seq,
    startedAt: T0 + 1000 * seq + 100,
    ...(state === 'exited' ? { finishedAt: T0 + 1000 * seq + 900, exitCode: 0, reason: 'Completed' } : {}),
    image: `docker.io/library/${IMAGE}`,
    imageRef: 'docker.io/library/busybox@sha256:1234',
    hash: hashContainer({ name, image: IMAGE }),
    restartCount: 0,
    isInit: name.startsWith('init'),
    ...over,
  };
}
const exited = (name: string, exitCode: number, over: Partial<RuntimeContainer> = {}): RuntimeContainer =>
  ctr(name, { state: 'exited', exitCode, reason: exitCode === 0 ? 'Completed' : 'Error', ...over });

const rt = (containers: readonly RuntimeContainer[], sandboxes: readonly RuntimeSandbox[] = [sandbox]): RuntimePod => ({ uid: 'uid-1', name: 'web', namespace: 'default', sandboxes, containers });

class MapProbes implements ProbeResults {
  constructor(private readonly results: Record<string, ProbeResult> = {}) {}
  get(containerId: string, kind: ProbeKind): ProbeResult {
    return this.results[`${containerId}/${kind}`] ?? 'unknown';
  }
}

function ctx(over: Partial<PodStatusContext> = {}, waiting: PodActions['waiting'] = {}): PodStatusContext {
  return { now: NOW, probeResults: new MapProbes(), waiting, hostIP: '192.168.50.2', ...over };
}

const cond = (s: PodStatus, type: string): PodCondition | undefined => s.conditions?.find((c) => c.type === type);
const cs = (s: PodStatus, name: string): ContainerStatus | undefined => [...(s.containerStatuses ?? []), ...(s.initContainerStatuses ?? [])].find((c) => c.name === name);

describe('generatePodStatus: a pod from creation to running', () => {
  it('a pod with nothing in the runtime is Pending with ContainerCreating and un-ready conditions', () => {
    const s = generatePodStatus(basePod(), undefined, ctx());
    expect(s.phase).toBe('Pending');
    expect(s.containerStatuses).toEqual([{ name: 'app', ready: false, started: false, restartCount: 0, image: IMAGE, imageID: '', state: { waiting: { reason: 'ContainerCreating' } } }]);
    expect(s.conditions).toEqual([
      { type: 'PodReadyToStartContainers', status: 'False', lastProbeTime: null, lastTransitionTime: iso(NOW) },
      { type: 'Initialized', status: 'True', lastProbeTime: null, lastTransitionTime: iso(NOW) },
      { type: 'Ready', status: 'False', reason: 'ContainersNotReady', message: 'containers with unready status: [app]', lastProbeTime: null, lastTransitionTime: iso(NOW) },
      { type: 'ContainersReady', status: 'False', reason: 'ContainersNotReady', message: 'containers with unready status: [app]', lastProbeTime: null, lastTransitionTime: iso(NOW) },
      { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: SCHEDULED_AT },
    ]);
    expect(s).toMatchObject({ hostIP: '192.168.50.2', hostIPs: [{ ip: '192.168.50.2' }], startTime: iso(NOW), qosClass: 'BestEffort' });
    expect(s.podIP).toBeUndefined();
  });

  it('a running container without probes is ready; the pod is Running with the sandbox IP', () => {
    const c = ctr('app', { restartCount: 2 });
    const s = generatePodStatus(basePod(), rt([c]), ctx());
    expect(s.phase).toBe('Running');
    expect(s.containerStatuses).toEqual([
      {
        name: 'app',
        ready: true,
        started: true,
        restartCount: 2,
        image: 'docker.io/library/busybox:1.36',
        imageID: 'docker.io/library/busybox@sha256:1234',
        containerID: `containerd://${c.id}`,
        state: { running: { startedAt: iso(c.startedAt!) } },
      },
    ]);
    expect(s.conditions?.map((x) => [x.type, x.status])).toEqual([
      ['PodReadyToStartContainers', 'True'],
      ['Initialized', 'True'],
      ['Ready', 'True'],
      ['ContainersReady', 'True'],
      ['PodScheduled', 'True'],
    ]);
    expect(s).toMatchObject({ podIP: '10.88.0.9', podIPs: [{ ip: '10.88.0.9' }] });
  });

  it.each<[string, Partial<Container>, Record<string, ProbeResult>, { ready: boolean; started: boolean }]>([
    ['readiness probe not run yet: not ready', { readinessProbe: { exec: { command: ['true'] } } }, {}, { ready: false, started: true }],
    ['readiness probe succeeded: ready', { readinessProbe: { exec: { command: ['true'] } } }, { readiness: 'success' }, { ready: true, started: true }],
    ['readiness probe failing: not ready', { readinessProbe: { exec: { command: ['true'] } } }, { readiness: 'failure' }, { ready: false, started: true }],
    ['startup probe pending: neither started nor ready', { startupProbe: { exec: { command: ['true'] } } }, {}, { ready: false, started: false }],
    ['startup probe passed: started and ready', { startupProbe: { exec: { command: ['true'] } } }, { startup: 'success' }, { ready: true, started: true }],
  ])('%s', (_name, probes, results, want) => {
    const c = ctr('app', { id: 'app-p' });
    const keyed = Object.fromEntries(Object.entries(results).map(([k, v]) => [`app-p/${k}`, v]));
    const s = generatePodStatus(basePod({ spec: { containers: [{ ...app, ...probes }] } }), rt([c]), ctx({ probeResults: new MapProbes(keyed) }));
    expect(cs(s, 'app')).toMatchObject(want);
    expect(cond(s, 'Ready')?.status).toBe(want.ready ? 'True' : 'False');
  });

  it('a created but not started container waits without a reason', () => {
    const s = generatePodStatus(basePod(), rt([ctr('app', { state: 'created' })]), ctx());
    expect(cs(s, 'app')?.state).toEqual({ waiting: {} });
    expect(s.phase).toBe('Pending');
  });

  it('hostNetwork pods report the node IP as pod IP', () => {
    const s = generatePodStatus(basePod({ spec: { hostNetwork: true } }), rt([ctr('app')], [{ ...sandbox, ip: '', hostNetwork: true }]), ctx());
    expect(s).toMatchObject({ podIP: '192.168.50.2', podIPs: [{ ip: '192.168.50.2' }] });
  });

  it('container statuses are sorted by name and carry volume mounts', () => {
    const pod = basePod({ spec: { containers: [{ name: 'zeta', image: IMAGE, volumeMounts: [{ name: 'cfg', mountPath: '/etc/cfg', readOnly: true }] }, app] } });
    const s = generatePodStatus(pod, undefined, ctx());
    expect(s.containerStatuses?.map((c) => c.name)).toEqual(['app', 'zeta']);
    expect(cs(s, 'zeta')?.volumeMounts).toEqual([{ name: 'cfg', mountPath: '/etc/cfg', readOnly: true, recursiveReadOnly: 'Disabled' }]);
  });

  it('qosClass follows the containers resources', () => {
    const pod = basePod({ spec: { containers: [{ ...app, resources: { limits: { cpu: '1', memory: '1Gi' }, requests: { cpu: '1', memory: '1Gi' } } }] } });
    expect(generatePodStatus(pod, undefined, ctx()).qosClass).toBe('Guaranteed');
  });
});

describe('generatePodStatus: init containers', () => {
  const pod = basePod({ spec: { initContainers: [init1] } });

  it('before any init container ran everything waits with PodInitializing', () => {
    const s = generatePodStatus(pod, rt([]), ctx());
    expect(s.phase).toBe('Pending');
    expect(cs(s, 'init1')?.state).toEqual({ waiting: { reason: 'PodInitializing' } });
    expect(cs(s, 'app')?.state).toEqual({ waiting: { reason: 'PodInitializing' } });
    expect(cond(s, 'Initialized')).toMatchObject({ status: 'False', reason: 'ContainersNotInitialized', message: 'containers with incomplete status: [init1]' });
  });

  it('a completed init container is ready and not started; the pod is Initialized', () => {
    const s = generatePodStatus(pod, rt([exited('init1', 0), ctr('app')]), ctx());
    expect(s.initContainerStatuses?.[0]).toMatchObject({ name: 'init1', ready: true, started: false, state: { terminated: { exitCode: 0, reason: 'Completed' } } });
    expect(cond(s, 'Initialized')?.status).toBe('True');
    expect(s.phase).toBe('Running');
  });

  it('a failed init container under Never fails the pod', () => {
    const s = generatePodStatus(basePod({ spec: { restartPolicy: 'Never', initContainers: [init1] } }), rt([exited('init1', 2)]), ctx());
    expect(s.phase).toBe('Failed');
    expect(cond(s, 'ContainersReady')).toMatchObject({ status: 'False', reason: 'PodFailed' });
  });

  it('a crash-looping init container shows Init back-off and keeps the pod Pending', () => {
    const message = 'back-off 10s restarting failed container=init1 pod=web_default(uid-1)';
    const s = generatePodStatus(pod, rt([exited('init1', 1, { restartCount: 1 })]), ctx({}, { init1: { reason: 'CrashLoopBackOff', message } }));
    expect(cs(s, 'init1')).toMatchObject({ restartCount: 1, state: { waiting: { reason: 'CrashLoopBackOff', message } }, lastState: { terminated: { exitCode: 1, reason: 'Error' } } });
    expect(s.phase).toBe('Pending');
  });
});

describe('generatePodStatus: restarts and held-back containers', () => {
  it('CrashLoopBackOff shows the reason, the last termination and the restart count', () => {
    const prev = exited('app', 1, { restartCount: 0 });
    const last = exited('app', 1, { restartCount: 1 });
    const message = 'back-off 20s restarting failed container=app pod=web_default(uid-1)';
    const s = generatePodStatus(basePod(), rt([last, prev]), ctx({}, { app: { reason: 'CrashLoopBackOff', message } }));
    expect(cs(s, 'app')).toMatchObject({
      ready: false,
      restartCount: 1,
      state: { waiting: { reason: 'CrashLoopBackOff', message } },
      lastState: { terminated: { exitCode: 1, reason: 'Error', startedAt: iso(last.startedAt!), finishedAt: iso(last.finishedAt!), containerID: `containerd://${last.id}` } },
    });
    expect(s.phase).toBe('Running');
  });

  it('a restarted container shows the previous run as lastState', () => {
    const prev = exited('app', 137, { reason: 'OOMKilled' });
    const cur = ctr('app', { restartCount: 1 });
    const s = generatePodStatus(basePod(), rt([cur, prev]), ctx());
    expect(cs(s, 'app')).toMatchObject({ state: { running: {} }, lastState: { terminated: { exitCode: 137, reason: 'OOMKilled' } }, restartCount: 1 });
  });

  it.each([
    ['ErrImagePull', 'rpc error: not found'],
    ['ImagePullBackOff', 'Back-off pulling image "busybox:1.36"'],
    ['CreateContainerConfigError', 'configmap "cfg" not found'],
  ])('a container that cannot start shows %s', (reason, message) => {
    const s = generatePodStatus(basePod(), rt([]), ctx({}, { app: { reason, message } }));
    expect(cs(s, 'app')?.state).toEqual({ waiting: { reason, message } });
    expect(s.phase).toBe('Pending');
  });

  it('a held-back reason is not shown for a container that will not restart', () => {
    const s = generatePodStatus(basePod({ spec: { restartPolicy: 'Never' } }), rt([exited('app', 1)]), ctx({}, { app: { reason: 'CrashLoopBackOff' } }));
    expect(cs(s, 'app')?.state?.terminated?.exitCode).toBe(1);
  });

  it('a running container the runtime lost is shown as terminated with an incremented restart count', () => {
    const old: PodStatus = { phase: 'Running', containerStatuses: [{ name: 'app', ready: true, restartCount: 3, image: IMAGE, imageID: 'x', state: { running: { startedAt: SCHEDULED_AT } } }] };
    const s = generatePodStatus(basePod(), rt([ctr('app', { state: 'unknown', restartCount: 3 })]), ctx({ previousStatus: old }));
    expect(cs(s, 'app')).toMatchObject({ restartCount: 4, state: { terminated: { exitCode: 137, reason: 'ContainerStatusUnknown' } } });
  });

  it('a running container that vanished from the runtime keeps the pod out of Pending', () => {
    const old: PodStatus = { phase: 'Running', containerStatuses: [{ name: 'app', ready: true, restartCount: 3, image: IMAGE, imageID: 'x', state: { running: { startedAt: SCHEDULED_AT } } }] };
    const s = generatePodStatus(basePod(), rt([]), ctx({ previousStatus: old }));
    expect(cs(s, 'app')).toMatchObject({ restartCount: 4, state: { waiting: { reason: 'ContainerCreating' } }, lastState: { terminated: { exitCode: 137, reason: 'ContainerStatusUnknown' } } });
    expect(s.phase).toBe('Running');
  });
});

describe('generatePodStatus: phases by restartPolicy', () => {
  it.each<[string, 'Always' | 'OnFailure' | 'Never', number, boolean, string]>([
    ['Never, exit 0: Succeeded', 'Never', 0, false, 'Succeeded'],
    ['Never, exit 1: Failed', 'Never', 1, false, 'Failed'],
    ['OnFailure, exit 0: Succeeded', 'OnFailure', 0, false, 'Succeeded'],
    ['OnFailure, exit 1: Running (restarting)', 'OnFailure', 1, false, 'Running'],
    ['Always, exit 0: Running (restarting)', 'Always', 0, false, 'Running'],
    ['Always, exit 1 after termination finished: Failed', 'Always', 1, true, 'Failed'],
    ['Always, exit 0 after termination finished: Succeeded', 'Always', 0, true, 'Succeeded'],
  ])('%s', (_name, restartPolicy, code, podIsTerminal, phase) => {
    const s = generatePodStatus(basePod({ spec: { restartPolicy } }), rt([exited('app', code)]), ctx({ podIsTerminal }));
    expect(s.phase).toBe(phase);
  });

  it('Succeeded marks the conditions PodCompleted', () => {
    const s = generatePodStatus(basePod({ spec: { restartPolicy: 'Never' } }), rt([exited('app', 0)]), ctx());
    expect(cond(s, 'Initialized')).toMatchObject({ status: 'True', reason: 'PodCompleted' });
    expect(cond(s, 'ContainersReady')).toMatchObject({ status: 'False', reason: 'PodCompleted' });
    expect(cond(s, 'Ready')).toMatchObject({ status: 'False', reason: 'PodCompleted' });
  });

  it('a terminal phase in the API never goes back, and its reason and message stay', () => {
    const pod = basePod({ status: { phase: 'Failed', reason: 'Evicted', message: 'low memory' } });
    const s = generatePodStatus(pod, rt([]), ctx());
    expect(s).toMatchObject({ phase: 'Failed', reason: 'Evicted', message: 'low memory' });
  });

  it('a reason is dropped when the phase changes', () => {
    const pod = basePod({ status: { phase: 'Pending', reason: 'Something' } });
    expect(generatePodStatus(pod, rt([ctr('app')]), ctx()).reason).toBeUndefined();
  });

  it('computePodPhase: a pod with an unknown container (no status) is Pending', () => {
    expect(computePodPhase(basePod(), [], false)).toBe('Pending');
  });
});

describe('generatePodStatus: conditions and times', () => {
  it('lastTransitionTime stays while a status is unchanged and moves when it changes; startTime stays', () => {
    const earlier = T0 + 60_000;
    const first = generatePodStatus(basePod(), rt([ctr('app', { id: 'a' })]), ctx({ now: earlier }));
    const probes = new MapProbes({ 'a/readiness': 'failure' });
    const pod = basePod({ spec: { containers: [{ ...app, readinessProbe: { exec: { command: ['true'] } } }] } });
    const second = generatePodStatus(pod, rt([ctr('app', { id: 'a' })]), ctx({ previousStatus: first, probeResults: probes }));
    expect(cond(second, 'PodReadyToStartContainers')?.lastTransitionTime).toBe(iso(earlier));
    expect(cond(second, 'Ready')).toMatchObject({ status: 'False', lastTransitionTime: iso(NOW) });
    expect(second.startTime).toBe(iso(earlier));
  });

  it('conditions of other components are kept, and readiness gates decide Ready', () => {
    const gateCond: PodCondition = { type: 'example.com/lb', status: 'False', lastTransitionTime: SCHEDULED_AT };
    const spec = { readinessGates: [{ conditionType: 'example.com/lb' }, { conditionType: 'example.com/other' }] };
    const pod = basePod({ spec, status: { conditions: [gateCond, { type: 'PodScheduled', status: 'True', lastTransitionTime: SCHEDULED_AT }] } });
    const s = generatePodStatus(pod, rt([ctr('app')]), ctx());
    expect(s.conditions?.[0]).toEqual(gateCond);
    expect(cond(s, 'ContainersReady')?.status).toBe('True');
    expect(cond(s, 'Ready')).toMatchObject({
      status: 'False',
      reason: 'ReadinessGatesNotReady',
      message: 'the status of pod readiness gate "example.com/lb" is not "True", but False, corresponding condition of pod readiness gate "example.com/other" does not exist.',
    });
    const ok = basePod({ spec: { readinessGates: [{ conditionType: 'example.com/lb' }] }, status: { conditions: [{ ...gateCond, status: 'True' }] } });
    expect(cond(generatePodStatus(ok, rt([ctr('app')]), ctx()), 'Ready')?.status).toBe('True');
  });

  it('PodReadyToStartContainers is False while the sandbox must be recreated', () => {
    const s = generatePodStatus(basePod(), rt([ctr('app')], [{ ...sandbox, state: 'notready' }]), ctx());
    expect(cond(s, 'PodReadyToStartContainers')?.status).toBe('False');
    expect(s.podIP).toBeUndefined();
  });

  it('explicit pod IPs from the executor win over the sandbox IP', () => {
    const s = generatePodStatus(basePod(), rt([ctr('app')]), ctx({ podIPs: ['10.1.0.5', 'fd00::5'] }));
    expect(s).toMatchObject({ podIP: '10.1.0.5', podIPs: [{ ip: '10.1.0.5' }, { ip: 'fd00::5' }] });
  });
});

describe('generatePodStatus: ephemeral containers', () => {
  const debug = { name: 'debugger', image: IMAGE, targetContainerName: 'app' };

  it('reports them apart, never ready nor started, and leaves the phase and conditions to the others', () => {
    const p = basePod({ spec: { ephemeralContainers: [debug] } });
    const waiting = generatePodStatus(p, rt([ctr('app')]), ctx());
    expect(waiting.ephemeralContainerStatuses).toEqual([{ name: 'debugger', ready: false, restartCount: 0, image: IMAGE, imageID: '', state: { waiting: { reason: 'ContainerCreating' } } }]);
    const running = generatePodStatus(p, rt([ctr('app'), ctr('debugger')]), ctx());
    expect(running.phase).toBe('Running');
    expect(running.ephemeralContainerStatuses?.[0]?.state?.running).toBeDefined();
    expect(running.ephemeralContainerStatuses?.[0]?.ready).toBe(false);
    expect(running.ephemeralContainerStatuses?.[0]).not.toHaveProperty('started');
    expect(running.containerStatuses?.map((c) => c.name)).toEqual(['app']);
    expect(cond(running, 'Ready')?.status).toBe('True');
    const done = generatePodStatus(p, rt([ctr('app'), exited('debugger', 3)]), ctx());
    expect(done.phase).toBe('Running');
    expect(done.ephemeralContainerStatuses?.[0]?.state?.terminated?.exitCode).toBe(3);
    expect(generatePodStatus(basePod(), rt([ctr('app')]), ctx())).not.toHaveProperty('ephemeralContainerStatuses');
  });
});
