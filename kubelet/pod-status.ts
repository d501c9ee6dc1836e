/**
 * generatePodStatus: the PodStatus the kubelet reports for one pod, as upstream's generateAPIPodStatus
 * (+ convertToAPIContainerStatuses, getPhase, the condition generators, the prober's ready/started
 * and the status manager's lastTransitionTime/startTime rules) computes it. Pure.
 *
 *  - container statuses: one per spec container, from the newest runtime instance (state), the one
 *    before it (lastState), restartCount/image/imageID/containerID `<runtime>://<id>`; containers never
 *    seen wait with ContainerCreating (PodInitializing while init containers exist); a container the
 *    executor holds back (`waiting`: CrashLoopBackOff, ErrImagePull, CreateContainerConfigError...)
 *    shows that reason when it is due to be (re)started; regular ones sorted by name, init ones in
 *    spec order;
 *  - ready: running, started, and readiness probe succeeded (or none); init containers are ready
 *    once they exited 0; started: running and startup probe succeeded (or none);
 *  - phase: Pending / Running / Succeeded / Failed from those statuses and restartPolicy; a terminal
 *    phase never changes back; reason/message kept while the phase stays;
 *  - conditions: others' conditions kept, then PodReadyToStartContainers, Initialized, Ready,
 *    ContainersReady, PodScheduled, each keeping its lastTransitionTime while its status is unchanged;
 *  - podIP(s) from the newest ready sandbox (host IPs for hostNetwork), hostIP(s), startTime kept
 *    once set, qosClass.
 *
 * Cost model: O(containers x runtime containers) per call.
 */
import type { Container, ContainerState, ContainerStatus, Pod, PodCondition, PodPhase, PodStatus } from '../api/core/pod.js';
import { computePodQOS } from '../api/core/qos.js';
import type { Mutable } from '../api/meta.js';
import { rfc3339 } from '../lib/clock.js';
import { podSandboxChanged, shouldContainerBeRestarted } from './pod-actions.js';
import type { PodActions, ProbeResults, RuntimeContainer, RuntimePod } from './types.js';

export interface PodStatusContext {
  /** ms since the epoch */
  readonly now: number;
  readonly probeResults: ProbeResults;
  /** Containers held back and why (PodActions.waiting plus the executor's start errors). */
  readonly waiting: PodActions['waiting'];
  readonly hostIP?: string;
  /** The node's IPs, primary first; defaults to [hostIP]. */
  readonly hostIPs?: readonly string[];
  /** Defaults to the IP of the newest ready sandbox. */
  readonly podIPs?: readonly string[];
  /** The last status the kubelet generated (status manager cache); falls back to pod.status. */
  readonly previousStatus?: PodStatus;
  /** The pod worker finished terminating the pod: its stopped containers will never restart. */
  readonly podIsTerminal?: boolean;
  /** Prefix of containerID; containerd's CRI reports `containerd`. */
  readonly runtimeName?: string;
}

export const REASON_CONTAINER_CREATING = 'ContainerCreating';
export const REASON_POD_INITIALIZING = 'PodInitializing';
const KUBELET_CONDITIONS: ReadonlySet<string> = new Set(['PodScheduled', 'PodReadyToStartContainers', 'Initialized', 'ContainersReady', 'Ready']);

type Status = Mutable<ContainerStatus>;

const time = (ms: number | undefined): { startedAt?: string } => (ms === undefined ? {} : { startedAt: rfc3339(new Date(ms)) });

function runtimeState(cs: RuntimeContainer, containerID: string): ContainerState {
  switch (cs.state) {
    case 'running':
      return { running: time(cs.startedAt ?? cs.createdAt) };
    case 'exited': {
      const exitCode = cs.exitCode ?? 0;
      return {
        terminated: {
          exitCode,
          // containerd always names the reason; keep the status readable with a runtime that does not
          reason: cs.reason ?? (exitCode === 0 ? 'Completed' : 'Error'),
          ...(cs.message !== undefined ? { message: cs.message } : {}),
          ...time(cs.startedAt),
          ...(cs.finishedAt !== undefined ? { finishedAt: rfc3339(new Date(cs.finishedAt)) } : {}),
          containerID,
        },
      };
    }
    case 'created':
    case 'unknown':
      return { waiting: {} };
    default: {
      const never: never = cs.state;
      return never;
    }
  }
}

function convert(cs: RuntimeContainer, spec: Container, old: ContainerStatus | undefined, runtimeName: string): Status {
  const containerID = `${runtimeName}://${cs.id}`;
  const status: Status = {
    name: spec.name,
    ready: false,
    restartCount: cs.restartCount,
    image: cs.image !== '' ? cs.image : (spec.image ?? ''),
    imageID: cs.imageRef,
    containerID,
    state: runtimeState(cs, containerID),
  };
  if (old?.volumeMounts) status.volumeMounts = old.volumeMounts;
  if (cs.state === 'unknown' && old?.state?.running) {
    // it was running and the runtime lost it: it ended, with no code to show (not "never ran")
    status.state = { terminated: { exitCode: 137, reason: 'ContainerStatusUnknown', message: 'The container could not be located when the pod was terminated' } };
    status.restartCount = old.restartCount + 1;
  }
  return status;
}

function volumeMountStatuses(c: Container): Pick<Status, 'volumeMounts'> {
  if (!c.volumeMounts || c.volumeMounts.length === 0) return {};
  return {
    volumeMounts: c.volumeMounts.map((m) => ({
      name: m.name,
      mountPath: m.mountPath,
      // containerd 1.6 has no recursive read-only mounts: IfPossible resolves to Disabled
      ...(m.readOnly ? { readOnly: true, recursiveReadOnly: m.recursiveReadOnly === 'Enabled' ? 'Enabled' : 'Disabled' } : {}),
    })),
  };
}

/** Upstream convertToAPIContainerStatuses for one list (init or regular containers). */
function containerStatuses(
  pod: Pod,
  runtime: RuntimePod | undefined,
  previous: readonly ContainerStatus[] | undefined,
  containers: readonly Container[],
  isInit: boolean,
  ctx: PodStatusContext,
): Status[] {
  const runtimeName = ctx.runtimeName ?? 'containerd';
  const hasInit = (pod.spec.initContainers?.length ?? 0) > 0;
  const defaultWaiting = hasInit ? REASON_POD_INITIALIZING : REASON_CONTAINER_CREATING;
  const olds = new Map((previous ?? []).map((s) => [s.name, s]));
  const out: Status[] = [];
  for (const c of containers) {
    const old = olds.get(c.name);
    let status: Status = { name: c.name, ready: false, restartCount: 0, image: c.image ?? '', imageID: '', state: { waiting: { reason: defaultWaiting } }, ...volumeMountStatuses(c) };
    if (old?.state?.terminated) status = { ...old };
    else if (old) {
      status.restartCount = old.restartCount;
      if (old.lastState) status.lastState = old.lastState;
    }
    const instances = (runtime?.containers ?? []).filter((r) => r.name === c.name).sort((a, b) => b.createdAt - a.createdAt);
    const [newest, previousInstance] = instances;
    if (!newest && old?.state?.running && !status.lastState?.terminated) {
      // it ran and vanished from the runtime: show it stopped rather than pending again
      status.lastState = {
        terminated: { exitCode: 137, reason: 'ContainerStatusUnknown', message: 'The container could not be located when the pod was deleted.  The container used to be Running' },
      };
      if (pod.metadata.deletionTimestamp === undefined) status.restartCount += 1;
    }
    if (newest) {
      status = convert(newest, c, old, runtimeName);
      if (!status.volumeMounts) Object.assign(status, volumeMountStatuses(c));
      if (previousInstance) status.lastState = convert(previousInstance, c, old, runtimeName).state ?? {};
    }
    // a container due to be (re)started shows why it is held back
    const initDone = isInit && newest?.state === 'exited' && newest.exitCode === 0;
    const why = ctx.waiting[c.name];
    if (why && !initDone && shouldContainerBeRestarted(pod, c, runtime)) {
      if (status.state?.terminated) status.lastState = status.state;
      status.state = { waiting: { reason: why.reason, ...(why.message !== undefined ? { message: why.message } : {}) } };
    }
    applyProbes(status, c, newest, isInit, ctx.probeResults);
    out.push(status);
  }
  if (!isInit) out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return out;
}

/** Upstream prober UpdatePodStatus: started, then ready. */
function applyProbes(status: Status, c: Container, instance: RuntimeContainer | undefined, isInit: boolean, probes: ProbeResults): void {
  const running = status.state?.running !== undefined && instance !== undefined;
  const started = running && (!c.startupProbe || probes.get(instance.id, 'startup') === 'success');
  status.started = started;
  if (isInit) {
    status.ready = status.state?.terminated?.exitCode === 0;
    return;
  }
  status.ready = started && (!c.readinessProbe || probes.get(instance.id, 'readiness') === 'success');
}

/** Upstream getPhase (init containers that run to completion). */
export function computePodPhase(pod: Pod, statuses: readonly ContainerStatus[], podIsTerminal: boolean): PodPhase {
  const byName = new Map(statuses.map((s) => [s.name, s]));
  let pendingInit = 0;
  let failedInit = 0;
  for (const c of pod.spec.initContainers ?? []) {
    const s = byName.get(c.name);
    if (s?.state?.running) pendingInit++;
    else if (s?.state?.terminated) {
      if (s.state.terminated.exitCode !== 0) failedInit++;
    } else if (s?.state?.waiting) {
      const last = s.lastState?.terminated;
      if (last) {
        if (last.exitCode !== 0) failedInit++;
      } else pendingInit++;
    } else pendingInit++;
  }
  let unknown = 0;
  let running = 0;
  let waiting = 0;
  let stopped = 0;
  let succeeded = 0;
  for (const c of pod.spec.containers) {
    const s = byName.get(c.name);
    if (s?.state?.running) running++;
    else if (s?.state?.terminated) {
      stopped++;
      if (s.state.terminated.exitCode === 0) succeeded++;
    } else if (s?.state?.waiting) {
      if (s.lastState?.terminated) stopped++;
      else waiting++;
    } else unknown++;
  }
  const policy = pod.spec.restartPolicy ?? 'Always';
  if (failedInit > 0 && policy === 'Never') return 'Failed';
  if (pendingInit > 0 || waiting > 0) return 'Pending';
  if (running > 0 && unknown === 0) return 'Running';
  if (running === 0 && stopped > 0 && unknown === 0) {
    if (podIsTerminal) return stopped === succeeded ? 'Succeeded' : 'Failed';
    if (policy === 'Always') return 'Running';
    if (stopped === succeeded) return 'Succeeded';
    return policy === 'Never' ? 'Failed' : 'Running';
  }
  return 'Pending';
}

// ---- conditions ------------------------------------------------------------------------------------

type Cond = Omit<PodCondition, 'lastTransitionTime' | 'lastProbeTime'>;

const goList = (names: readonly string[]): string => `[${names.join(' ')}]`;

function containersReady(pod: Pod, statuses: ReadonlyMap<string, ContainerStatus>, phase: PodPhase): Cond {
  if (phase === 'Failed') return { type: 'ContainersReady', status: 'False', reason: 'PodFailed' };
  const unknown: string[] = [];
  const unready: string[] = [];
  for (const c of pod.spec.containers) {
    const s = statuses.get(c.name);
    if (!s) unknown.push(c.name);
    else if (!s.ready) unready.push(c.name);
  }
  if (phase === 'Succeeded' && unknown.length === 0) return { type: 'ContainersReady', status: 'False', reason: 'PodCompleted' };
  const messages: string[] = [];
  if (unknown.length > 0) messages.push(`containers with unknown status: ${goList(unknown)}`);
  if (unready.length > 0) messages.push(`containers with unready status: ${goList(unready)}`);
  if (messages.length > 0) return { type: 'ContainersReady', status: 'False', reason: 'ContainersNotReady', message: messages.join(', ') };
  return { type: 'ContainersReady', status: 'True' };
}

function podReady(pod: Pod, containersCond: Cond, conditions: readonly PodCondition[]): Cond {
  if (containersCond.status !== 'True') {
    return { type: 'Ready', status: containersCond.status, ...(containersCond.reason ? { reason: containersCond.reason } : {}), ...(containersCond.message ? { message: containersCond.message } : {}) };
  }
  const messages: string[] = [];
  for (const gate of pod.spec.readinessGates ?? []) {
    const c = conditions.find((x) => x.type === gate.conditionType);
    if (!c) messages.push(`corresponding condition of pod readiness gate "${gate.conditionType}" does not exist.`);
    else if (c.status !== 'True') messages.push(`the status of pod readiness gate "${gate.conditionType}" is not "True", but ${c.status}`);
  }
  if (messages.length > 0) return { type: 'Ready', status: 'False', reason: 'ReadinessGatesNotReady', message: messages.join(', ') };
  return { type: 'Ready', status: 'True' };
}

function initialized(pod: Pod, statuses: ReadonlyMap<string, ContainerStatus>, phase: PodPhase): Cond {
  const unknown: string[] = [];
  const incomplete: string[] = [];
  for (const c of pod.spec.initContainers ?? []) {
    const s = statuses.get(c.name);
    if (!s) unknown.push(c.name);
    else if (!s.ready) incomplete.push(c.name);
  }
  if (phase === 'Succeeded' && unknown.length === 0) return { type: 'Initialized', status: 'True', reason: 'PodCompleted' };
  // a regular container that ran means initialization completed before
  const regularStarted = pod.spec.containers.some((c) => {
    const st = statuses.get(c.name)?.state;
    return st?.running !== undefined || st?.terminated !== undefined;
  });
  if (regularStarted) return { type: 'Initialized', status: 'True' };
  const messages: string[] = [];
  if (unknown.length > 0) messages.push(`containers with unknown status: ${goList(unknown)}`);
  if (incomplete.length > 0) messages.push(`containers with incomplete status: ${goList(incomplete)}`);
  if (messages.length > 0) return { type: 'Initialized', status: 'False', reason: 'ContainersNotInitialized', message: messages.join(', ') };
  return { type: 'Initialized', status: 'True' };
}

/** Keeps lastTransitionTime while a condition's status is unchanged (status manager rule). */
function stamp(c: Cond, olds: readonly (readonly PodCondition[] | undefined)[], now: string): PodCondition {
  for (const list of olds) {
    const old = list?.find((o) => o.type === c.type);
    if (old) return { ...c, lastProbeTime: null, lastTransitionTime: old.status === c.status && old.lastTransitionTime ? old.lastTransitionTime : now };
  }
  return { ...c, lastProbeTime: null, lastTransitionTime: now };
}

// ---- the status ------------------------------------------------------------------------------------

export function generatePodStatus(pod: Pod, runtime: RuntimePod | undefined, ctx: PodStatusContext): PodStatus {
  const old = ctx.previousStatus ?? pod.status ?? {};
  const api = pod.status ?? {};
  const now = rfc3339(new Date(ctx.now));
  const regular = containerStatuses(pod, runtime, old.containerStatuses, pod.spec.containers, false, ctx);
  const inits = containerStatuses(pod, runtime, old.initContainerStatuses, pod.spec.initContainers ?? [], true, ctx);
  const all = [...regular, ...inits];
  // ephemeral containers: no probes, so never ready nor started (upstream leaves both unset/false);
  // they count for neither the phase nor the conditions
  const ephemeral = containerStatuses(pod, runtime, old.ephemeralContainerStatuses, (pod.spec.ephemeralContainers ?? []) as Container[], false, ctx).map((st) => {
    const { started: _started, ...rest } = st;
    return { ...rest, ready: false };
  });

  let phase = computePodPhase(pod, all, ctx.podIsTerminal === true);
  const terminal = (p: PodPhase | undefined): boolean => p === 'Succeeded' || p === 'Failed';
  if (!terminal(phase)) {
    if (terminal(old.phase)) phase = old.phase!;
    else if (terminal(api.phase)) phase = api.phase!;
  }
  // the API's terminal phase is final
  if (terminal(api.phase)) phase = api.phase!;
  const reason = phase === old.phase ? old.reason || api.reason : undefined;
  const message = phase === old.phase ? old.message || api.message : undefined;

  const byName = new Map(all.map((s) => [s.name, s]));
  const oldConds = [old.conditions, api.conditions];
  const conditions: PodCondition[] = (api.conditions ?? []).filter((c) => !KUBELET_CONDITIONS.has(c.type) && c.type !== 'DisruptionTarget');
  const disruption = old.conditions?.find((c) => c.type === 'DisruptionTarget') ?? api.conditions?.find((c) => c.type === 'DisruptionTarget');
  if (disruption) conditions.push(disruption);
  const sandboxReady = !podSandboxChanged(pod, runtime).changed;
  conditions.push(stamp({ type: 'PodReadyToStartContainers', status: sandboxReady ? 'True' : 'False' }, oldConds, now));
  conditions.push(stamp(initialized(pod, byName, phase), oldConds, now));
  const cr = containersReady(pod, byName, phase);
  conditions.push(stamp(podReady(pod, cr, conditions), oldConds, now));
  conditions.push(stamp(cr, oldConds, now));
  conditions.push(stamp({ type: 'PodScheduled', status: 'True' }, oldConds, now));

  const hostIPs = ctx.hostIPs ?? (ctx.hostIP ? [ctx.hostIP] : []);
  const newest = runtime?.sandboxes[0];
  let podIPs = ctx.podIPs ?? (newest?.state === 'ready' && newest.ip ? [newest.ip] : []);
  if (pod.spec.hostNetwork && podIPs.length === 0 && hostIPs[0] !== undefined) podIPs = [hostIPs[0]];

  return {
    phase,
    conditions,
    ...(reason ? { reason } : {}),
    ...(message ? { message } : {}),
    ...(hostIPs[0] !== undefined ? { hostIP: hostIPs[0], hostIPs: hostIPs.map((ip) => ({ ip })) } : {}),
    ...(podIPs[0] !== undefined ? { podIP: podIPs[0], podIPs: podIPs.map((ip) => ({ ip })) } : {}),
    startTime: old.startTime ?? api.startTime ?? now,
    ...(inits.length > 0 ? { initContainerStatuses: inits } : {}),
    containerStatuses: regular,
    ...(ephemeral.length > 0 ? { ephemeralContainerStatuses: ephemeral } : {}),
    qosClass: computePodQOS(pod.spec),
  };
}
