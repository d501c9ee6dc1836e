import { describe, expect, it } from 'vitest';
import type { Container, Pod } from '../api/core/pod.js';
import { FakeClock } from '../lib/clock.js';
import { Backoff, imagePullBackoffKey, restartBackoffKey } from './backoff.js';
import type { BackoffReader } from './backoff.js';
import { hashContainer } from './container-hash.js';
import {
  computePodActions,
  computeWaitingEvents,
  formatPod,
  imageWithDefaultTag,
  latestContainer,
  nextRestartCount,
  podSandboxChanged,
  restartBackoffEvent,
  shouldContainerBeRestarted,
} from './pod-actions.js';
import type { PlannedEvent, PodActionsContext } from './pod-actions.js';
import type { PodActions, WaitingReason, ProbeKind, ProbeResult, ProbeResults, RuntimeContainer, RuntimePod, RuntimeSandbox } from './types.js';

const T0 = Date.UTC(2026, 0, 1);
const IMAGE = 'busybox:1.36';

const app: Container = { name: 'app', image: IMAGE };
const side: Container = { name: 'side', image: IMAGE };
const init1: Container = { name: 'init1', image: IMAGE };
const init2: Container = { name: 'init2', image: IMAGE };

function basePod(over: { spec?: Partial<Pod['spec']>; meta?: Partial<Pod['metadata']>; phase?: 'Succeeded' | 'Failed' } = {}): Pod {
  return {
    metadata: { name: 'web', namespace: 'default', uid: 'uid-1', ...over.meta },
    spec: { restartPolicy: 'Always', containers: [app], ...over.spec },
    ...(over.phase ? { status: { phase: over.phase } } : {}),
  };
}

function sb(over: Partial<RuntimeSandbox> = {}): RuntimeSandbox {
  return { id: 'sb1', state: 'ready', attempt: 0, createdAt: T0, ip: '10.88.0.2', hostNetwork: false, ...over };
}

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
    startedAt: T0 + 1000 * seq + 10,
    ...(state === 'exited' ? { finishedAt: T0 + 1000 * seq + 500, exitCode: 0, reason: 'Completed' } : {}),
    image: `docker.io/library/${IMAGE}`,
    imageRef: 'sha256:abc',
    hash: hashContainer({ name, image: IMAGE }),
    restartCount: 0,
    isInit: name.startsWith('init'),
    ...over,
  };
}

const exited = (name: string, exitCode: number, over: Partial<RuntimeContainer> = {}): RuntimeContainer =>
  ctr(name, { state: 'exited', exitCode, reason: exitCode === 0 ? 'Completed' : 'Error', ...over });

function rt(sandboxes: readonly RuntimeSandbox[], containers: readonly RuntimeContainer[]): RuntimePod {
  return { uid: 'uid-1', name: 'web', namespace: 'default', sandboxes, containers };
}

class MapProbes implements ProbeResults {
  constructor(private readonly results: Record<string, ProbeResult> = {}) {}
  get(containerId: string, kind: ProbeKind): ProbeResult {
    return this.results[`${containerId}/${kind}`] ?? 'unknown';
  }
}

const noBackoff: BackoffReader = { inBackoff: () => ({ inBackoff: false, remainingMs: 0, delayMs: 0 }) };

function ctxWith(over: Partial<PodActionsContext> = {}): PodActionsContext {
  return { now: T0 + 60_000, backoff: noBackoff, probeResults: new MapProbes(), ...over };
}

function plan(exp: Partial<PodActions>): PodActions {
  return { killPod: false, createSandbox: false, sandboxAttempt: 0, containersToStart: [], containersToKill: [], waiting: {}, ...exp };
}

interface Case {
  readonly name: string;
  readonly pod: Pod;
  readonly runtime: () => RuntimePod | undefined;
  readonly ctx?: () => Partial<PodActionsContext>;
  readonly expect: (r: RuntimePod | undefined) => PodActions;
}

const cases: Case[] = [
  // ---- sandbox ----
  {
    name: 'a pod never run gets a first sandbox (attempt 0) and all its containers',
    pod: basePod({ spec: { containers: [app, side] } }),
    runtime: () => undefined,
    expect: () => plan({ killPod: true, createSandbox: true, containersToStart: ['app', 'side'] }),
  },
  {
    name: 'a not-ready newest sandbox is replaced with attempt+1, killing the old one',
    pod: basePod(),
    runtime: () => rt([sb({ state: 'notready', attempt: 2 })], [exited('app', 137)]),
    expect: () => plan({ killPod: true, createSandbox: true, sandboxAttempt: 3, sandboxId: 'sb1', containersToStart: ['app'] }),
  },
  {
    name: 'two ready sandboxes are reconciled by a new one',
    pod: basePod(),
    runtime: () => rt([sb({ id: 'sb2', attempt: 1, createdAt: T0 + 5 }), sb()], [ctr('app')]),
    expect: () => plan({ killPod: true, createSandbox: true, sandboxAttempt: 2, sandboxId: 'sb2', containersToStart: ['app'] }),
  },
  {
    name: 'a pod switched to hostNetwork needs a sandbox in the node namespace',
    pod: basePod({ spec: { hostNetwork: true } }),
    runtime: () => rt([sb()], [ctr('app')]),
    expect: () => plan({ killPod: true, createSandbox: true, sandboxAttempt: 1, containersToStart: ['app'] }),
  },
  {
    name: 'a hostNetwork sandbox without an IP is fine',
    pod: basePod({ spec: { hostNetwork: true } }),
    runtime: () => rt([sb({ hostNetwork: true, ip: '' })], [ctr('app')]),
    expect: () => plan({ sandboxId: 'sb1' }),
  },
  {
    name: 'a pod-network sandbox that reports no IP is replaced',
    pod: basePod(),
    runtime: () => rt([sb({ ip: '' })], [ctr('app')]),
    expect: () => plan({ killPod: true, createSandbox: true, sandboxAttempt: 1, sandboxId: 'sb1', containersToStart: ['app'] }),
  },
  {
    name: 'restartPolicy Never: a dead sandbox after containers ran is not recreated',
    pod: basePod({ spec: { restartPolicy: 'Never' } }),
    runtime: () => rt([sb({ state: 'notready' })], [exited('app', 1)]),
    expect: () => plan({ killPod: true, sandboxAttempt: 1, sandboxId: 'sb1' }),
  },
  {
    name: 'restartPolicy Never: a dead sandbox with no container ever created is retried',
    pod: basePod({ spec: { restartPolicy: 'Never' } }),
    runtime: () => rt([sb({ state: 'notready' })], []),
    expect: () => plan({ killPod: true, createSandbox: true, sandboxAttempt: 1, sandboxId: 'sb1', containersToStart: ['app'] }),
  },
  {
    name: 'restartPolicy OnFailure: a dead sandbox whose containers all succeeded is only killed',
    pod: basePod({ spec: { restartPolicy: 'OnFailure' } }),
    runtime: () => rt([sb({ state: 'notready' })], [exited('app', 0)]),
    expect: () => plan({ killPod: true, sandboxAttempt: 1, sandboxId: 'sb1' }),
  },
  {
    name: 'restartPolicy OnFailure: a new sandbox restarts only the failed containers',
    pod: basePod({ spec: { restartPolicy: 'OnFailure', containers: [app, side] } }),
    runtime: () => rt([sb({ state: 'notready' })], [exited('app', 0), exited('side', 2)]),
    expect: () => plan({ killPod: true, createSandbox: true, sandboxAttempt: 1, sandboxId: 'sb1', containersToStart: ['side'] }),
  },
  {
    name: 'a new sandbox for a pod with init containers starts again from the first init container',
    pod: basePod({ spec: { initContainers: [init1, init2] } }),
    runtime: () => rt([sb({ state: 'notready' })], [exited('init1', 0), exited('init2', 0), exited('app', 137)]),
    expect: () => plan({ killPod: true, createSandbox: true, sandboxAttempt: 1, sandboxId: 'sb1', initContainerToStart: 'init1' }),
  },
  // ---- init containers ----
  {
    name: 'init: none ran yet, the first starts',
    pod: basePod({ spec: { initContainers: [init1, init2] } }),
    runtime: () => rt([sb()], []),
    expect: () => plan({ sandboxId: 'sb1', initContainerToStart: 'init1' }),
  },
  {
    name: 'init: a running init container is waited for',
    pod: basePod({ spec: { initContainers: [init1, init2] } }),
    runtime: () => rt([sb()], [ctr('init1')]),
    expect: () => plan({ sandboxId: 'sb1' }),
  },
  {
    name: 'init: after the first succeeded the second starts',
    pod: basePod({ spec: { initContainers: [init1, init2] } }),
    runtime: () => rt([sb()], [exited('init1', 0)]),
    expect: () => plan({ sandboxId: 'sb1', initContainerToStart: 'init2' }),
  },
  {
    name: 'init: after the last succeeded the regular containers start',
    pod: basePod({ spec: { initContainers: [init1, init2], containers: [app, side] } }),
    runtime: () => rt([sb()], [exited('init1', 0), exited('init2', 0)]),
    expect: () => plan({ sandboxId: 'sb1', containersToStart: ['app', 'side'] }),
  },
  {
    name: 'init: a failed init container is restarted under Always',
    pod: basePod({ spec: { initContainers: [init1, init2] } }),
    runtime: () => rt([sb()], [exited('init1', 0), exited('init2', 1)]),
    expect: () => plan({ sandboxId: 'sb1', initContainerToStart: 'init2' }),
  },
  {
    name: 'init: a failed init container under Never kills the pod (it fails)',
    pod: basePod({ spec: { restartPolicy: 'Never', initContainers: [init1] } }),
    runtime: () => rt([sb()], [exited('init1', 1)]),
    expect: () => plan({ killPod: true, sandboxId: 'sb1' }),
  },
  {
    name: 'init: an OOMKilled init container counts as failed even with exit code 0',
    pod: basePod({ spec: { restartPolicy: 'OnFailure', initContainers: [init1, init2] } }),
    runtime: () => rt([sb()], [exited('init1', 0, { reason: 'OOMKilled' })]),
    expect: () => plan({ sandboxId: 'sb1', initContainerToStart: 'init1' }),
  },
  {
    name: 'init: an init container in unknown state is killed and started again',
    pod: basePod({ spec: { initContainers: [init1] } }),
    runtime: () => rt([sb()], [ctr('init1', { id: 'init1-x', state: 'unknown' })]),
    expect: () =>
      plan({
        sandboxId: 'sb1',
        initContainerToStart: 'init1',
        containersToKill: [{ id: 'init1-x', name: 'init1', reason: 'Init container is in "unknown" state, try killing it before restart' }],
      }),
  },
  {
    name: 'init: an init container in unknown state under Never kills the pod',
    pod: basePod({ spec: { restartPolicy: 'Never', initContainers: [init1] } }),
    runtime: () => rt([sb()], [ctr('init1', { state: 'unknown' })]),
    expect: () => plan({ killPod: true, sandboxId: 'sb1' }),
  },
  {
    name: 'init: an init container stuck in created is started again',
    pod: basePod({ spec: { initContainers: [init1, init2] } }),
    runtime: () => rt([sb()], [exited('init1', 0), ctr('init2', { state: 'created' })]),
    expect: () => plan({ sandboxId: 'sb1', initContainerToStart: 'init2' }),
  },
  {
    name: 'init: a running regular container means initialization is done even if init records were removed',
    pod: basePod({ spec: { initContainers: [init1] } }),
    runtime: () => rt([sb()], [ctr('app')]),
    expect: () => plan({ sandboxId: 'sb1' }),
  },
  // ---- regular containers by restartPolicy ----
  {
    name: 'a running container with an unchanged spec is left alone',
    pod: basePod({ spec: { containers: [app, side] } }),
    runtime: () => rt([sb()], [ctr('app'), ctr('side')]),
    expect: () => plan({ sandboxId: 'sb1' }),
  },
  {
    name: 'a container missing from a ready sandbox is started',
    pod: basePod({ spec: { containers: [app, side] } }),
    runtime: () => rt([sb()], [ctr('app')]),
    expect: () => plan({ sandboxId: 'sb1', containersToStart: ['side'] }),
  },
  {
    name: 'Always: an exited container is restarted whatever its code',
    pod: basePod(),
    runtime: () => rt([sb()], [exited('app', 0)]),
    expect: () => plan({ sandboxId: 'sb1', containersToStart: ['app'] }),
  },
  {
    name: 'OnFailure: a failed container is restarted',
    pod: basePod({ spec: { restartPolicy: 'OnFailure' } }),
    runtime: () => rt([sb()], [exited('app', 3)]),
    expect: () => plan({ sandboxId: 'sb1', containersToStart: ['app'] }),
  },
  {
    name: 'OnFailure: a succeeded container stays down; with nothing running the pod is killed',
    pod: basePod({ spec: { restartPolicy: 'OnFailure' } }),
    runtime: () => rt([sb()], [exited('app', 0)]),
    expect: () => plan({ killPod: true, sandboxId: 'sb1' }),
  },
  {
    name: 'OnFailure: a succeeded container stays down while another still runs',
    pod: basePod({ spec: { restartPolicy: 'OnFailure', containers: [app, side] } }),
    runtime: () => rt([sb()], [exited('app', 0), ctr('side')]),
    expect: () => plan({ sandboxId: 'sb1' }),
  },
  {
    name: 'Never: an exited container is never restarted and the finished pod is killed',
    pod: basePod({ spec: { restartPolicy: 'Never' } }),
    runtime: () => rt([sb()], [exited('app', 1)]),
    expect: () => plan({ killPod: true, sandboxId: 'sb1' }),
  },
  {
    name: 'a container in unknown state is killed before it is started again',
    pod: basePod(),
    runtime: () => rt([sb()], [ctr('app', { id: 'app-x', state: 'unknown' })]),
    expect: () =>
      plan({
        sandboxId: 'sb1',
        containersToStart: ['app'],
        containersToKill: [{ id: 'app-x', name: 'app', reason: 'Container is in "unknown" state, try killing it before restart' }],
      }),
  },
  {
    name: 'a container stuck in created is started again, even under Never',
    pod: basePod({ spec: { restartPolicy: 'Never' } }),
    runtime: () => rt([sb()], [ctr('app', { state: 'created' })]),
    expect: () => plan({ sandboxId: 'sb1', containersToStart: ['app'] }),
  },
  // ---- running containers that must go ----
  {
    name: 'a changed image kills and restarts the container, even under Never',
    pod: basePod({ spec: { restartPolicy: 'Never', containers: [{ ...app, image: 'busybox:1.37' }] } }),
    runtime: () => rt([sb()], [ctr('app', { id: 'app-r' })]),
    expect: () =>
      plan({ sandboxId: 'sb1', containersToStart: ['app'], containersToKill: [{ id: 'app-r', name: 'app', reason: 'Container app definition changed, will be restarted' }] }),
  },
  {
    name: 'a failed liveness probe kills and restarts the container',
    pod: basePod({ spec: { containers: [{ ...app, livenessProbe: { exec: { command: ['true'] } } }] } }),
    runtime: () => rt([sb()], [ctr('app', { id: 'app-l' })]),
    ctx: () => ({ probeResults: new MapProbes({ 'app-l/liveness': 'failure' }) }),
    expect: () =>
      plan({ sandboxId: 'sb1', containersToStart: ['app'], containersToKill: [{ id: 'app-l', name: 'app', reason: 'Container app failed liveness probe, will be restarted' }] }),
  },
  {
    name: 'a failed liveness probe under Never kills the container without restart, and the pod with it',
    pod: basePod({ spec: { restartPolicy: 'Never', containers: [{ ...app, livenessProbe: { exec: { command: ['true'] } } }] } }),
    runtime: () => rt([sb()], [ctr('app', { id: 'app-l' })]),
    ctx: () => ({ probeResults: new MapProbes({ 'app-l/liveness': 'failure' }) }),
    expect: () => plan({ killPod: true, sandboxId: 'sb1', containersToKill: [{ id: 'app-l', name: 'app', reason: 'Container app failed liveness probe' }] }),
  },
  {
    name: 'a failed startup probe kills and restarts the container',
    pod: basePod({ spec: { containers: [{ ...app, startupProbe: { exec: { command: ['true'] } } }] } }),
    runtime: () => rt([sb()], [ctr('app', { id: 'app-s' })]),
    ctx: () => ({ probeResults: new MapProbes({ 'app-s/startup': 'failure' }) }),
    expect: () =>
      plan({ sandboxId: 'sb1', containersToStart: ['app'], containersToKill: [{ id: 'app-s', name: 'app', reason: 'Container app failed startup probe, will be restarted' }] }),
  },
  {
    name: 'a probe result for a container without that probe is ignored',
    pod: basePod(),
    runtime: () => rt([sb()], [ctr('app', { id: 'app-n' })]),
    ctx: () => ({ probeResults: new MapProbes({ 'app-n/liveness': 'failure' }) }),
    expect: () => plan({ sandboxId: 'sb1' }),
  },
  // ---- termination ----
  {
    name: 'a pod being deleted is killed and nothing starts',
    pod: basePod({ meta: { deletionTimestamp: '2026-01-01T00:00:00Z' } }),
    runtime: () => rt([sb()], [exited('app', 1)]),
    expect: () => plan({ killPod: true, sandboxId: 'sb1' }),
  },
  {
    name: 'a pod in a terminal phase is killed and nothing starts, not even a sandbox',
    pod: basePod({ phase: 'Succeeded' }),
    runtime: () => undefined,
    expect: () => plan({ killPod: true }),
  },
];

describe('computePodActions', () => {
  it.each(cases)('$name', (c) => {
    const runtime = c.runtime();
    expect(computePodActions(c.pod, runtime, ctxWith(c.ctx?.()))).toEqual(c.expect(runtime));
  });
});

describe('computePodActions: back-off and images hold starts back', () => {
  const clock = new FakeClock(T0);
  const pod = basePod();

  function crashed(): { runtime: RuntimePod; backoff: Backoff; finishedAt: number } {
    const c = exited('app', 1);
    const backoff = new Backoff(clock);
    backoff.next(restartBackoffKey(pod, app), c.finishedAt);
    return { runtime: rt([sb()], [c]), backoff, finishedAt: c.finishedAt! };
  }

  it('a container that exited inside its window waits with CrashLoopBackOff and upstream message', () => {
    const { runtime, backoff, finishedAt } = crashed();
    const actions = computePodActions(pod, runtime, ctxWith({ now: finishedAt + 5000, backoff }));
    expect(actions.containersToStart).toEqual([]);
    expect(actions.killPod).toBe(false);
    expect(actions.waiting).toEqual({ app: { reason: 'CrashLoopBackOff', message: 'back-off 10s restarting failed container=app pod=web_default(uid-1)' } });
  });

  it('the message shows the doubled window after the next failure', () => {
    const { runtime, backoff, finishedAt } = crashed();
    backoff.next(restartBackoffKey(pod, app), finishedAt);
    const actions = computePodActions(pod, runtime, ctxWith({ now: finishedAt + 5000, backoff }));
    expect(actions.waiting['app']?.message).toBe('back-off 20s restarting failed container=app pod=web_default(uid-1)');
  });

  it('once the window has passed the container starts', () => {
    const { runtime, backoff, finishedAt } = crashed();
    const actions = computePodActions(pod, runtime, ctxWith({ now: finishedAt + 10_001, backoff }));
    expect(actions.containersToStart).toEqual(['app']);
    expect(actions.waiting).toEqual({});
  });

  it('a crash-looping init container waits and is not offered to start', () => {
    const p = basePod({ spec: { initContainers: [init1] } });
    const c = exited('init1', 1);
    const backoff = new Backoff(clock);
    backoff.next(restartBackoffKey(p, init1), c.finishedAt);
    const actions = computePodActions(p, rt([sb()], [c]), ctxWith({ now: c.finishedAt! + 1, backoff }));
    expect(actions.initContainerToStart).toBeUndefined();
    expect(actions.waiting['init1']?.reason).toBe('CrashLoopBackOff');
  });

  it('pull policy Never with a missing image waits with ErrImageNeverPull', () => {
    const p = basePod({ spec: { containers: [{ ...app, imagePullPolicy: 'Never' }] } });
    const actions = computePodActions(p, rt([sb()], []), ctxWith({ imagePresent: () => false }));
    expect(actions.containersToStart).toEqual([]);
    expect(actions.waiting).toEqual({ app: { reason: 'ErrImageNeverPull', message: 'Container image "busybox:1.36" is not present with pull policy of Never' } });
  });

  it('a pull inside its back-off window waits with ImagePullBackOff', () => {
    const imageBackoff = new Backoff(clock);
    imageBackoff.next(imagePullBackoffKey('uid-1', 'busybox:1.36'));
    const actions = computePodActions(pod, rt([sb()], []), ctxWith({ now: T0 + 1000, imagePresent: () => false, imageBackoff }));
    expect(actions.waiting).toEqual({ app: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "busybox:1.36"' } });
  });

  it('a present image with IfNotPresent needs no pull, so a pull back-off does not hold it', () => {
    const imageBackoff = new Backoff(clock);
    imageBackoff.next(imagePullBackoffKey('uid-1', 'busybox:1.36'));
    const actions = computePodActions(pod, rt([sb()], []), ctxWith({ now: T0 + 1000, imagePresent: () => true, imageBackoff }));
    expect(actions.containersToStart).toEqual(['app']);
  });

  it('an untagged image is pulled as :latest (policy Always), and its back-off key carries the tag', () => {
    const p = basePod({ spec: { containers: [{ name: 'app', image: 'busybox' }] } });
    const imageBackoff = new Backoff(clock);
    imageBackoff.next(imagePullBackoffKey('uid-1', 'busybox:latest'));
    const actions = computePodActions(p, rt([sb()], []), ctxWith({ now: T0 + 1000, imagePresent: () => true, imageBackoff }));
    expect(actions.waiting['app']).toEqual({ reason: 'ImagePullBackOff', message: 'Back-off pulling image "busybox:latest"' });
  });
});

describe('computeWaitingEvents: what upstream records for a held-back start', () => {
  const ev = (type: PlannedEvent['type'], reason: string, message: string, name = 'app', init = false): PlannedEvent => ({ type, reason, message, container: { name, init } });
  const crashLoop: WaitingReason = { reason: 'CrashLoopBackOff', message: 'back-off 10s restarting failed container=app pod=web_default(uid-1)' };
  const cases: Array<{ name: string; pod: Pod; waiting: Record<string, WaitingReason>; want: PlannedEvent[] }> = [
    { name: 'nothing held back records nothing', pod: basePod(), waiting: {}, want: [] },
    {
      name: 'CrashLoopBackOff: Warning BackOff naming the container and name_namespace(uid), no Failed',
      pod: basePod(),
      waiting: { app: crashLoop },
      want: [ev('Warning', 'BackOff', 'Back-off restarting failed container app in pod web_default(uid-1)')],
    },
    {
      name: 'a crash-looping init container is recorded against spec.initContainers',
      pod: basePod({ spec: { initContainers: [init1] } }),
      waiting: { init1: { reason: 'CrashLoopBackOff' } },
      want: [ev('Warning', 'BackOff', 'Back-off restarting failed container init1 in pod web_default(uid-1)', 'init1', true)],
    },
    {
      name: 'ImagePullBackOff: Normal BackOff with the tagged image, then Failed "Error: ImagePullBackOff"',
      pod: basePod({ spec: { containers: [{ name: 'app', image: 'busybox' }] } }),
      waiting: { app: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "busybox:latest"' } },
      want: [ev('Normal', 'BackOff', 'Back-off pulling image "busybox:latest"'), ev('Warning', 'Failed', 'Error: ImagePullBackOff')],
    },
    {
      name: 'ErrImageNeverPull: Warning ErrImageNeverPull, then Failed "Error: ErrImageNeverPull"',
      pod: basePod({ spec: { containers: [{ ...app, imagePullPolicy: 'Never' }] } }),
      waiting: { app: { reason: 'ErrImageNeverPull' } },
      want: [ev('Warning', 'ErrImageNeverPull', 'Container image "busybox:1.36" is not present with pull policy of Never'), ev('Warning', 'Failed', 'Error: ErrImageNeverPull')],
    },
    {
      name: 'several containers come out in spec order, init containers first',
      pod: basePod({ spec: { initContainers: [init1], containers: [app, side] } }),
      waiting: { side: crashLoop, app: crashLoop, init1: crashLoop },
      want: [
        ev('Warning', 'BackOff', 'Back-off restarting failed container init1 in pod web_default(uid-1)', 'init1', true),
        ev('Warning', 'BackOff', 'Back-off restarting failed container app in pod web_default(uid-1)'),
        ev('Warning', 'BackOff', 'Back-off restarting failed container side in pod web_default(uid-1)', 'side'),
      ],
    },
    { name: 'other waiting reasons are the executor\'s to record', pod: basePod(), waiting: { app: { reason: 'CreateContainerConfigError' } }, want: [] },
    { name: 'a name not in the spec records nothing', pod: basePod(), waiting: { gone: crashLoop }, want: [] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(computeWaitingEvents(c.pod, c.waiting)).toEqual(c.want);
    });
  }

  it('follows from computePodActions: a crash-looping container yields one BackOff', () => {
    const clock = new FakeClock(T0);
    const pod = basePod();
    const c = exited('app', 1);
    const backoff = new Backoff(clock);
    backoff.next(restartBackoffKey(pod, app), c.finishedAt);
    const actions = computePodActions(pod, rt([sb()], [c]), ctxWith({ now: c.finishedAt! + 1000, backoff }));
    expect(computeWaitingEvents(pod, actions.waiting)).toEqual([ev('Warning', 'BackOff', 'Back-off restarting failed container app in pod web_default(uid-1)')]);
  });
});

describe('pod-actions helpers', () => {
  it('formatPod prints name_namespace(uid)', () => {
    expect(formatPod(basePod())).toBe('web_default(uid-1)');
  });

  it('latestContainer picks the newest instance of a name across sandboxes', () => {
    const old = exited('app', 1, { sandboxId: 'sb0' });
    const cur = ctr('app');
    expect(latestContainer(rt([sb()], [cur, old]), 'app')?.id).toBe(cur.id);
  });

  it.each([
    { name: 'no previous instance starts at 0', containers: [] as RuntimeContainer[], want: 0 },
    { name: 'the next instance counts one more restart', containers: [exited('app', 1, { restartCount: 4 })], want: 5 },
  ])('nextRestartCount: $name', ({ containers, want }) => {
    expect(nextRestartCount(rt([sb()], containers), 'app')).toBe(want);
  });

  it('restartBackoffEvent dates the restart by the last exit', () => {
    const c = exited('app', 1);
    expect(restartBackoffEvent(basePod(), app, rt([sb()], [c]))).toEqual({ key: restartBackoffKey(basePod(), app), since: c.finishedAt });
    expect(restartBackoffEvent(basePod(), app, rt([sb()], [ctr('app')]))).toBeUndefined();
  });

  it.each([
    ['busybox', 'busybox:latest'],
    ['busybox:1.36', 'busybox:1.36'],
    ['localhost:5000/busybox', 'localhost:5000/busybox:latest'],
    ['busybox@sha256:abcd', 'busybox@sha256:abcd'],
  ])('imageWithDefaultTag(%s) = %s', (image, want) => {
    expect(imageWithDefaultTag(image)).toBe(want);
  });

  it('podSandboxChanged keeps the attempt of a healthy sandbox', () => {
    expect(podSandboxChanged(basePod(), rt([sb({ attempt: 4 })], []))).toEqual({ changed: false, attempt: 4, sandboxId: 'sb1' });
  });

  it('shouldContainerBeRestarted refuses everything once the pod is being deleted', () => {
    const p = basePod({ meta: { deletionTimestamp: '2026-01-01T00:00:00Z' } });
    expect(shouldContainerBeRestarted(p, app, undefined)).toBe(false);
  });
});

describe('computePodActions: ephemeral containers (kubectl debug)', () => {
  const debug = { name: 'debugger', image: IMAGE, targetContainerName: 'app' };

  it('starts one that never ran, and never starts it again once it ran', () => {
    const p = basePod({ spec: { ephemeralContainers: [debug] } });
    expect(computePodActions(p, rt([sb()], [ctr('app')]), ctxWith()).ephemeralContainersToStart).toEqual(['debugger']);
    for (const state of [ctr('debugger'), exited('debugger', 0), exited('debugger', 1)]) {
      const actions = computePodActions(p, rt([sb()], [ctr('app'), state]), ctxWith());
      expect(actions.ephemeralContainersToStart).toBeUndefined();
      expect(actions.containersToKill).toEqual([]);
      expect(actions.killPod).toBe(false);
    }
  });

  it('starts it while init containers still run, but not in a pod being killed or on a new sandbox', () => {
    const initializing = basePod({ spec: { initContainers: [init1], ephemeralContainers: [debug] } });
    const actions = computePodActions(initializing, rt([sb()], [ctr('init1')]), ctxWith());
    expect(actions.initContainerToStart).toBeUndefined();
    expect(actions.ephemeralContainersToStart).toEqual(['debugger']);
    const deleting = basePod({ spec: { ephemeralContainers: [debug] }, meta: { deletionTimestamp: '2026-01-01T00:00:00Z' } });
    expect(computePodActions(deleting, rt([sb()], [ctr('app')]), ctxWith()).ephemeralContainersToStart).toBeUndefined();
    expect(computePodActions(basePod({ spec: { ephemeralContainers: [debug] } }), undefined, ctxWith()).ephemeralContainersToStart).toBeUndefined();
  });

  it('holds it back like any container when its image may not be pulled', () => {
    const p = basePod({ spec: { ephemeralContainers: [{ ...debug, image: 'missing:1', imagePullPolicy: 'Never' }] } });
    const actions = computePodActions(p, rt([sb()], [ctr('app')]), ctxWith({ imagePresent: (i) => i !== 'missing:1' }));
    expect(actions.ephemeralContainersToStart).toBeUndefined();
    expect(actions.waiting['debugger']?.reason).toBe('ErrImageNeverPull');
  });
});
