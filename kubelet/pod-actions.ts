/**
 * computePodActions: what the executor must do to bring one pod's runtime state to its spec, as
 * upstream's kuberuntime computePodActions (with the SidecarContainers-era init logic) decides it.
 * Pure: pod + RuntimePod + a context of reads (time, back-off windows, probe results, images) in,
 * PodActions out.
 *
 *  1. A pod being deleted or in a terminal phase: kill everything, start nothing.
 *  2. Sandbox: create one when there is none, the newest is not ready, several are ready, the network
 *     namespace mode changed or a pod-network sandbox has no IP (attempt = newest + 1); creating one
 *     kills the pod first, and restarts from the first init container. A restartPolicy Never pod whose
 *     sandbox died after containers ran is only killed; so is a pod with nothing left to start.
 *  3. Init containers one at a time, newest status of the last one that ran decides: running -> wait,
 *     succeeded -> next, failed -> again (or, with Never, kill the pod: it fails), unknown -> kill and
 *     again. Regular containers wait until the last init container succeeded.
 *  4. Regular containers: not running -> start by restartPolicy (Always; OnFailure when exit != 0;
 *     Never only if it never ran); running -> kill and restart when its spec hash changed (any
 *     policy), liveness or startup probe failed (per policy). Nothing running and nothing to start ->
 *     kill the pod (it is done).
 *  5. Ephemeral containers (`kubectl debug`): each one that never ran is started, whether init is
 *     complete or not, as long as the pod is not being killed; one that ran is never started again.
 *  6. Held back: a start whose previous instance exited inside its restart back-off window waits with
 *     CrashLoopBackOff (upstream's message); with image facts given, a missing image under pull policy
 *     Never waits with ErrImageNeverPull, a pull inside its back-off window with ImagePullBackOff.
 *
 * Back-off is only read here. The executor records a restart with `backoff.next(key, since)` using
 * `restartBackoffEvent` just before it starts a container, as upstream's doBackOff does.
 *
 * Events are data too: `containersToKill[].reason` is the Killing message (`Container app failed
 * liveness probe, will be restarted`), and `computeWaitingEvents` turns held-back starts into the
 * events upstream records at that point (BackOff, ErrImageNeverPull, `Error: <reason>`); the executor
 * records both.
 *
 * Sidecars (init containers with restartPolicy Always) are treated as ordinary init containers.
 *
 * Cost model: O(containers x runtime containers) scans; pods have a handful of each.
 */
import type { Container, Pod } from '../api/core/pod.js';
import { imagePullPolicyFor } from '../api/core/container-defaults.js';
import { formatGoDuration, imagePullBackoffKey, restartBackoffKey } from './backoff.js';
import type { BackoffReader } from './backoff.js';
import { containerSpecChanged } from './container-hash.js';
import type { ContainerToKill, PodActions, ProbeResults, RuntimeContainer, RuntimePod, WaitingReason } from './types.js';

export interface PodActionsContext {
  /** ms since the epoch */
  readonly now: number;
  /** Restart back-off, keyed by `restartBackoffKey`. */
  readonly backoff: BackoffReader;
  readonly probeResults: ProbeResults;
  /** Whether an image is in the image store; without it image checks are left to the executor. */
  readonly imagePresent?: (image: string) => boolean;
  /** Image pull back-off, keyed by `imagePullBackoffKey(uid, imageWithTag)`. */
  readonly imageBackoff?: BackoffReader;
}

// ---- shared helpers (also used by pod-status and the executor) ---------------------------------------

/** `name_namespace(uid)`, upstream's format.Pod. */
export function formatPod(pod: Pod): string {
  return `${pod.metadata.name ?? ''}_${pod.metadata.namespace ?? ''}(${pod.metadata.uid ?? ''})`;
}

/** The newest runtime container of that name, in any sandbox (upstream FindContainerStatusByName). */
export function latestContainer(runtime: RuntimePod | undefined, name: string): RuntimeContainer | undefined {
  let best: RuntimeContainer | undefined;
  for (const c of runtime?.containers ?? []) {
    if (c.name === name && (best === undefined || c.createdAt > best.createdAt)) best = c;
  }
  return best;
}

/** The newest exited instance: what a restart back-off counts from. */
export function latestExitedContainer(runtime: RuntimePod | undefined, name: string): RuntimeContainer | undefined {
  let best: RuntimeContainer | undefined;
  for (const c of runtime?.containers ?? []) {
    if (c.name === name && c.state === 'exited' && (best === undefined || c.createdAt > best.createdAt)) best = c;
  }
  return best;
}

/** restartCount for the next instance: previous + 1, or 0 when none is known. */
export function nextRestartCount(runtime: RuntimePod | undefined, name: string): number {
  const last = latestContainer(runtime, name);
  return last === undefined ? 0 : last.restartCount + 1;
}

/** The back-off key and event time a restart of `container` is judged by, if it ran before. */
export function restartBackoffEvent(pod: Pod, container: Container, runtime: RuntimePod | undefined): { readonly key: string; readonly since: number } | undefined {
  const last = latestExitedContainer(runtime, container.name);
  if (!last) return undefined;
  return { key: restartBackoffKey(pod, container), since: last.finishedAt ?? last.createdAt };
}

export interface SandboxChange {
  readonly changed: boolean;
  readonly attempt: number;
  /** The sandbox to kill (changed) or to use (unchanged). */
  readonly sandboxId?: string;
}

/** Upstream PodSandboxChanged. */
export function podSandboxChanged(pod: Pod, runtime: RuntimePod | undefined): SandboxChange {
  const newest = runtime?.sandboxes[0];
  if (!runtime || !newest) return { changed: true, attempt: 0 };
  const ready = runtime.sandboxes.filter((s) => s.state === 'ready').length;
  const next = newest.attempt + 1;
  if (ready > 1 || newest.state !== 'ready') return { changed: true, attempt: next, sandboxId: newest.id };
  const hostNetwork = pod.spec.hostNetwork === true;
  // the new sandbox must be in the other network namespace; the old one is killed with the pod
  if (newest.hostNetwork !== hostNetwork) return { changed: true, attempt: next };
  if (!hostNetwork && newest.ip === '') return { changed: true, attempt: next, sandboxId: newest.id };
  return { changed: false, attempt: newest.attempt, sandboxId: newest.id };
}

/** Upstream ShouldContainerBeRestarted. */
export function shouldContainerBeRestarted(pod: Pod, container: Container, runtime: RuntimePod | undefined): boolean {
  if (pod.metadata.deletionTimestamp !== undefined) return false;
  const s = latestContainer(runtime, container.name);
  if (!s) return true;
  switch (s.state) {
    case 'running':
      return false;
    case 'unknown':
    case 'created':
      return true;
    case 'exited':
      if (pod.spec.restartPolicy === 'Never') return false;
      if (pod.spec.restartPolicy === 'OnFailure') return s.exitCode !== 0;
      return true;
    default: {
      const never: never = s.state;
      return never;
    }
  }
}

export function isPodTerminating(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return pod.metadata.deletionTimestamp !== undefined || phase === 'Succeeded' || phase === 'Failed';
}

function restartOnFailure(pod: Pod): boolean {
  return pod.spec.restartPolicy !== 'Never';
}

function isInitContainerFailed(s: RuntimeContainer): boolean {
  return s.reason === 'OOMKilled' || (s.state === 'exited' && s.exitCode !== 0) || s.state === 'unknown';
}

function containerSucceeded(runtime: RuntimePod | undefined, name: string): boolean {
  const s = latestContainer(runtime, name);
  return s !== undefined && s.state === 'exited' && s.exitCode === 0;
}

function hasAnyRegularContainerCreated(pod: Pod, runtime: RuntimePod | undefined): boolean {
  return pod.spec.containers.some((c) => {
    const s = latestContainer(runtime, c.name);
    return s !== undefined && s.state !== 'unknown';
  });
}

// ---- init containers -------------------------------------------------------------------------------

interface InitPlan {
  readonly initialized: boolean;
  readonly killPod?: boolean;
  readonly start?: Container;
  readonly kill?: ContainerToKill;
}

/** Upstream computeInitContainerActions, for init containers that run to completion. */
function planInitContainers(pod: Pod, runtime: RuntimePod | undefined): InitPlan {
  const inits = pod.spec.initContainers ?? [];
  if (inits.length === 0) return { initialized: true };
  // a regular container created or running means initialization finished earlier (exited ones may be
  // left from a sandbox that died, so they do not count)
  const regularActive = pod.spec.containers.some((c) => {
    const s = latestContainer(runtime, c.name);
    return s !== undefined && (s.state === 'created' || s.state === 'running');
  });
  if (regularActive) return { initialized: true };
  // the last init container that left a trace decides: earlier ones may have been garbage collected
  for (let i = inits.length - 1; i >= 0; i--) {
    const c = inits[i]!;
    const s = latestContainer(runtime, c.name);
    if (!s) continue;
    switch (s.state) {
      case 'created':
        // created but never started: the runtime failed to start it, try again
        return { initialized: false, start: c };
      case 'running':
        return { initialized: false };
      case 'exited': {
        if (isInitContainerFailed(s)) return restartOnFailure(pod) ? { initialized: false, start: c } : { initialized: false, killPod: true };
        const next = inits[i + 1];
        return next === undefined ? { initialized: true } : { initialized: false, start: next };
      }
      case 'unknown': {
        if (!restartOnFailure(pod)) return { initialized: false, killPod: true };
        const reason = `Init container is in "unknown" state, try killing it before restart`;
        return { initialized: false, start: c, kill: { id: s.id, name: c.name, reason } };
      }
      default: {
        const never: never = s.state;
        return never;
      }
    }
  }
  return { initialized: false, start: inits[0]! };
}

// ---- back-off and images -----------------------------------------------------------------------

/** Adds `:latest` to a reference without tag or digest, as the kubelet's image manager does. */
export function imageWithDefaultTag(image: string): string {
  if (image.includes('@')) return image;
  const slash = image.lastIndexOf('/');
  return image.lastIndexOf(':') > slash ? image : `${image}:latest`;
}

/** Why a start must wait, or undefined to start now. */
function holdBack(pod: Pod, container: Container, runtime: RuntimePod | undefined, ctx: PodActionsContext): WaitingReason | undefined {
  const event = restartBackoffEvent(pod, container, runtime);
  if (event) {
    const st = ctx.backoff.inBackoff(event.key, ctx.now, event.since);
    if (st.inBackoff) {
      const message = `back-off ${formatGoDuration(st.delayMs)} restarting failed container=${container.name} pod=${formatPod(pod)}`;
      return { reason: 'CrashLoopBackOff', message };
    }
  }
  if (!ctx.imagePresent) return undefined;
  const image = container.image ?? '';
  const ref = imageWithDefaultTag(image);
  const policy = container.imagePullPolicy ?? imagePullPolicyFor(image);
  const present = ctx.imagePresent(image);
  if (policy === 'Never') {
    return present ? undefined : { reason: 'ErrImageNeverPull', message: `Container image "${ref}" is not present with pull policy of Never` };
  }
  const mustPull = policy === 'Always' || !present;
  if (mustPull && ctx.imageBackoff?.inBackoff(imagePullBackoffKey(pod.metadata.uid ?? '', ref), ctx.now).inBackoff) {
    return { reason: 'ImagePullBackOff', message: `Back-off pulling image "${ref}"` };
  }
  return undefined;
}

// ---- events ------------------------------------------------------------------------------------

/** An event the executor records about one container of the pod (`spec.containers{name}`). */
export interface PlannedEvent {
  readonly type: 'Normal' | 'Warning';
  readonly reason: string;
  readonly message: string;
  readonly container: { readonly name: string; readonly init: boolean };
}

/**
 * The events upstream's kubelet records when a start is held back, in spec order (init containers
 * first):
 *   CrashLoopBackOff   Warning BackOff  `Back-off restarting failed container <c> in pod <name>_<ns>(<uid>)`
 *                      (doBackOff; no Failed event follows, the start is merely skipped)
 *   ImagePullBackOff   Normal BackOff   `Back-off pulling image "<image with default tag>"`, then
 *                      Warning Failed `Error: ImagePullBackOff` (EnsureImageExists, then startContainer)
 *   ErrImageNeverPull  Warning ErrImageNeverPull `Container image "<ref>" is not present with pull
 *                      policy of Never`, then Warning Failed `Error: ErrImageNeverPull`
 * Upstream records them on every sync that skips the start; the event recorder folds the repeats
 * into one Event with a growing count. Any other waiting reason yields nothing here (the executor
 * records its own failures where they happen).
 */
export function computeWaitingEvents(pod: Pod, waiting: Readonly<Record<string, WaitingReason>>): readonly PlannedEvent[] {
  const out: PlannedEvent[] = [];
  const specs = [...(pod.spec.initContainers ?? []).map((c) => ({ c, init: true })), ...pod.spec.containers.map((c) => ({ c, init: false }))];
  for (const { c, init } of specs) {
    const why = waiting[c.name];
    if (!why) continue;
    const container = { name: c.name, init };
    const failed = (): PlannedEvent => ({ type: 'Warning', reason: 'Failed', message: `Error: ${why.reason}`, container });
    const ref = imageWithDefaultTag(c.image ?? '');
    switch (why.reason) {
      case 'CrashLoopBackOff':
        out.push({ type: 'Warning', reason: 'BackOff', message: `Back-off restarting failed container ${c.name} in pod ${formatPod(pod)}`, container });
        break;
      case 'ImagePullBackOff':
        out.push({ type: 'Normal', reason: 'BackOff', message: `Back-off pulling image "${ref}"`, container }, failed());
        break;
      case 'ErrImageNeverPull':
        out.push({ type: 'Warning', reason: 'ErrImageNeverPull', message: `Container image "${ref}" is not present with pull policy of Never`, container }, failed());
        break;
      default:
        break;
    }
  }
  return out;
}

// ---- the plan ------------------------------------------------------------------------------------

export function computePodActions(pod: Pod, runtime: RuntimePod | undefined, ctx: PodActionsContext): PodActions {
  const sandbox = podSandboxChanged(pod, runtime);
  const base = {
    sandboxAttempt: sandbox.attempt,
    ...(sandbox.sandboxId !== undefined ? { sandboxId: sandbox.sandboxId } : {}),
  };
  const done = (
    killPod: boolean,
    createSandbox: boolean,
    extra: Partial<Pick<PodActions, 'initContainerToStart' | 'containersToStart' | 'containersToKill' | 'ephemeralContainersToStart'>> = {},
  ): PodActions =>
    finish(pod, runtime, ctx, { killPod, createSandbox, ...base, containersToStart: [], containersToKill: [], waiting: {}, ...extra });

  if (isPodTerminating(pod)) return done(true, false);

  if (sandbox.changed) {
    // a Never pod whose sandbox died after its containers ran is over: do not bring it back
    if (!restartOnFailure(pod) && sandbox.attempt !== 0 && (runtime?.containers.length ?? 0) > 0) return done(true, false);
    const toStart = pod.spec.containers
      .filter((c) => !(pod.spec.restartPolicy === 'OnFailure' && containerSucceeded(runtime, c.name)))
      .map((c) => c.name);
    if (toStart.length === 0 && hasAnyRegularContainerCreated(pod, runtime)) return done(true, false);
    const firstInit = pod.spec.initContainers?.[0];
    if (firstInit) return done(true, true, { initContainerToStart: firstInit.name });
    return done(true, true, { containersToStart: toStart });
  }

  // upstream: ephemeral containers may start before initialization is complete, and never again
  const ephemeral = (pod.spec.ephemeralContainers ?? []).filter((c) => latestContainer(runtime, c.name) === undefined).map((c) => c.name);
  const withEphemeral = ephemeral.length > 0 ? { ephemeralContainersToStart: ephemeral } : {};

  const init = planInitContainers(pod, runtime);
  if (init.killPod) return done(true, false);
  if (!init.initialized) {
    return done(false, false, {
      ...(init.start ? { initContainerToStart: init.start.name } : {}),
      containersToKill: init.kill ? [init.kill] : [],
      ...withEphemeral,
    });
  }

  const toStart: string[] = [];
  const toKill: ContainerToKill[] = [];
  let keep = 0;
  for (const c of pod.spec.containers) {
    const s = latestContainer(runtime, c.name);
    if (s === undefined || s.state !== 'running') {
      if (shouldContainerBeRestarted(pod, c, runtime)) {
        toStart.push(c.name);
        // an unknown container may still run: kill it so two instances never run side by side
        if (s?.state === 'unknown') toKill.push({ id: s.id, name: c.name, reason: `Container is in "unknown" state, try killing it before restart` });
      }
      continue;
    }
    let message: string;
    let restart = restartOnFailure(pod);
    if (containerSpecChanged(c, s)) {
      message = `Container ${c.name} definition changed`;
      restart = true;
    } else if (c.livenessProbe && ctx.probeResults.get(s.id, 'liveness') === 'failure') {
      message = `Container ${c.name} failed liveness probe`;
    } else if (c.startupProbe && ctx.probeResults.get(s.id, 'startup') === 'failure') {
      message = `Container ${c.name} failed startup probe`;
    } else {
      keep++;
      continue;
    }
    if (restart) {
      message = `${message}, will be restarted`;
      toStart.push(c.name);
    }
    toKill.push({ id: s.id, name: c.name, reason: message });
  }
  const killPod = keep === 0 && toStart.length === 0;
  return done(killPod, false, { containersToStart: toStart, containersToKill: toKill, ...(killPod ? {} : withEphemeral) });
}

/** Moves starts that must wait (back-off, images) into `waiting`. */
function finish(pod: Pod, runtime: RuntimePod | undefined, ctx: PodActionsContext, plan: PodActions): PodActions {
  const waiting: Record<string, WaitingReason> = {};
  const byName = new Map<string, Container>();
  for (const c of [...(pod.spec.initContainers ?? []), ...pod.spec.containers, ...(pod.spec.ephemeralContainers ?? [])]) byName.set(c.name, c as Container);
  const check = (name: string): boolean => {
    const c = byName.get(name);
    const why = c ? holdBack(pod, c, runtime, ctx) : undefined;
    if (why) waiting[name] = why;
    return why === undefined;
  };
  const containersToStart = plan.containersToStart.filter(check);
  const { initContainerToStart, ephemeralContainersToStart, ...rest } = plan;
  const initOk = initContainerToStart !== undefined && check(initContainerToStart);
  const ephemeral = (ephemeralContainersToStart ?? []).filter(check);
  return {
    ...rest,
    ...(initOk ? { initContainerToStart } : {}),
    containersToStart,
    ...(ephemeral.length > 0 ? { ephemeralContainersToStart: ephemeral } : {}),
    waiting,
  };
}
