/**
 * The executor: carries out the PodActions computePodActions decided, through the CRI, in the order
 * of upstream's kuberuntime SyncPod:
 *   1. kill the whole pod (sandbox changed, pod done) or the containers the plan names;
 *   2. set up volumes (before any sandbox exists, so a missing ConfigMap never leaves a half pod); a
 *      pass with nothing to start refreshes the volumes of a running pod instead (service account
 *      tokens rewritten before they expire, volumes.refreshVolumes). A failure is a FailedMount
 *      Warning event (`MountVolume.SetUp failed for volume "v" : <why>`, upstream's words);
 *   3. create the sandbox (DNS from resolv-conf, port mappings, cgroup parent) and read its IP back,
 *      then refresh the volumes with the IP (the managed /etc/hosts needs it);
 *   4. start the next init container, or the regular containers: restart back-off recorded, image
 *      ensured by pull policy (ErrImagePull, then ImagePullBackOff through the image back-off),
 *      env resolved (CreateContainerConfigError), CreateContainer + StartContainer
 *      (CreateContainerError / RunContainerError), postStart hook (a failure kills the container).
 * Killing (killPod, killContainer) runs preStop hooks inside the grace period, then StopContainer with
 * what is left of it (at least 2 s, upstream's minimum), then StopPodSandbox. Events: Killing with
 * the plan's reason for a container the plan kills (`Container app failed liveness probe, will be
 * restarted`), `Stopping container <name>` otherwise; the plan's held-back starts are recorded as
 * computeWaitingEvents words them (BackOff...).
 *
 * Never throws: every failure lands in the result (`waiting` reasons for the status, `errors` for the
 * log and the retry decision). The sync pass that follows reads the runtime again, so partial
 * progress is picked up where it stopped.
 *
 * Cost model per start: ImageStatus (+ PullImage when needed), the env lookups (informer caches),
 * CreateContainer, StartContainer; per sandbox: RunPodSandbox + PodSandboxStatus.
 */
import { mkdir } from 'node:fs/promises';
import type { Container, LifecycleHandler, Pod } from '../api/core/pod.js';
import { imagePullPolicyFor } from '../api/core/container-defaults.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/log.js';
import { imagePullBackoffKey } from './backoff.js';
import type { Backoff } from './backoff.js';
import { buildContainerConfig } from './container-config.js';
import { isCriNotFound } from './cri/errors.js';
import type { ImageService, RuntimeService } from './cri/services.js';
import type { PodSandboxConfig } from './cri/types-sandbox.js';
import { ContainerConfigError, VolumeSetupError } from './errors.js';
import { computeWaitingEvents, formatPod, imageWithDefaultTag, nextRestartCount, restartBackoffEvent } from './pod-actions.js';
import { dnsConfigForSandbox } from './resolv-conf.js';
import type { PodDNSOptions } from './resolv-conf.js';
import { buildSandboxConfig } from './sandbox-config.js';
import { ANNOTATION_GRACE_PERIOD, ANNOTATION_PRESTOP_HANDLER } from './types.js';
import type { EnvResolver, EnvVar, HostMount, PodActions, PodRuntimeFacts, RuntimeContainer, RuntimePod, VolumeManager, WaitingReason } from './types.js';

/** Upstream minimumGracePeriodInSeconds: a stop always gets this long. */
export const MIN_GRACE_PERIOD_SECONDS = 2;
export const DEFAULT_GRACE_PERIOD_SECONDS = 30;

/** postStart/preStop, implemented over lifecycle.ts in main.ts (fakes in tests). */
export interface LifecycleHooks {
  /** Rejects when the hook failed; the message becomes the FailedPostStartHook reason. */
  postStart(pod: Pod, container: Container, containerId: string, podIP: string): Promise<void>;
  /** Runs the handler; bounded by `gracePeriodSeconds` by the caller. */
  preStop(pod: Pod | undefined, containerName: string, handler: LifecycleHandler, containerId: string, podIP: string, gracePeriodSeconds: number): Promise<void>;
}

/** VolumeManager whose mountsFor also takes the resolved env, for subPathExpr (HostVolumeManager does). */
export interface EnvAwareVolumeManager extends VolumeManager {
  mountsFor(pod: Pod, container: Container, volumes: ReadonlyMap<string, string>, env?: readonly EnvVar[]): readonly HostMount[];
}

export interface ExecutorOptions {
  readonly runtime: RuntimeService;
  readonly images: ImageService;
  readonly volumes: EnvAwareVolumeManager;
  readonly env: EnvResolver;
  readonly hooks?: LifecycleHooks;
  readonly clock: Clock;
  readonly log: Logger;
  readonly restartBackoff: Backoff;
  readonly imageBackoff: Backoff;
  readonly nodeName: string;
  readonly nodeIP: string;
  /** Node memory (bytes) for oom_score_adj. */
  readonly memoryCapacity: number;
  readonly dns: PodDNSOptions;
  /** cgroupfs parent of a pod's sandbox and containers. */
  readonly cgroupParentOf?: (pod: Pod) => string;
  readonly podLogsDir?: string;
  /** Creates the pod's log directory before its sandbox (default: mkdir -p). */
  readonly ensureDir?: (dir: string) => Promise<void>;
  /** `kubernetes.io/config.source` of a pod (api or file). */
  readonly configSourceOf?: (pod: Pod) => string;
  /** Events for `kubectl describe pod` (Pulling, Pulled, Created, Started, Killing, Failed...). */
  readonly events?: PodEventSink;
}

/** Where the kubelet's pod events go; `container` makes the event about `spec.containers{name}`. */
export type PodEventSink = (pod: Pod, type: 'Normal' | 'Warning', reason: string, message: string, container?: { name: string; init: boolean }) => void;

export type SyncStep = 'KillPod' | 'KillContainer' | 'SetupVolumes' | 'CreatePodSandbox' | 'StartContainer' | 'PostStartHook';

export interface SyncStepError {
  readonly step: SyncStep;
  readonly container?: string;
  readonly reason: string;
  readonly message: string;
}

export interface SyncPodResult {
  /** Held-back containers: the plan's plus the executor's own (ErrImagePull, CreateContainerConfigError...). */
  readonly waiting: Readonly<Record<string, WaitingReason>>;
  readonly errors: readonly SyncStepError[];
  readonly started: readonly string[];
  readonly podIP?: string;
  readonly sandboxId?: string;
}

export interface KillPodResult {
  /** Every container and sandbox stopped without error. */
  readonly stopped: boolean;
  readonly errors: readonly SyncStepError[];
}

const errText = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** Grace for a kill: an override, else the deletion's, else the spec's, never under the minimum. */
export function effectiveGracePeriod(pod: Pod | undefined, override?: number, fallback = DEFAULT_GRACE_PERIOD_SECONDS): number {
  const g = override ?? pod?.metadata.deletionGracePeriodSeconds ?? pod?.spec.terminationGracePeriodSeconds ?? fallback;
  return Math.max(MIN_GRACE_PERIOD_SECONDS, g);
}

/** Pull or not, upstream's EnsureImageExists decision. */
export function shouldPull(policy: string, present: boolean): 'pull' | 'use' | 'never-missing' {
  if (policy === 'Always') return 'pull';
  if (present) return 'use';
  return policy === 'Never' ? 'never-missing' : 'pull';
}

interface StartContext {
  readonly pod: Pod;
  readonly runtimePod: RuntimePod | undefined;
  readonly sandboxId: string;
  readonly sandboxConfig: PodSandboxConfig;
  readonly volumes: ReadonlyMap<string, string>;
  readonly facts: PodRuntimeFacts;
}

export class PodExecutor {
  constructor(private readonly opts: ExecutorOptions) {}

  private facts(pod: Pod, podIP: string): PodRuntimeFacts {
    const ip = pod.spec.hostNetwork ? this.opts.nodeIP : podIP;
    return { nodeName: this.opts.nodeName, hostIP: this.opts.nodeIP, podIP: ip, podIPs: ip === '' ? [] : [ip] };
  }

  /** A volume setup that failed: a SetupVolumes error (quick retry), a log line and a FailedMount event. */
  private volumeFailure(pod: Pod, err: unknown, errors: SyncStepError[], log: Logger): void {
    const reason = err instanceof VolumeSetupError ? err.reason : 'FailedMount';
    const volume = err instanceof VolumeSetupError ? err.volume : '';
    errors.push({ step: 'SetupVolumes', reason, message: errText(err) });
    log.warn({ reason, volume, err: errText(err) }, 'setting up volumes failed');
    this.opts.events?.(pod, 'Warning', reason, volume !== '' ? `MountVolume.SetUp failed for volume ${JSON.stringify(volume)} : ${errText(err)}` : errText(err));
  }

  sandboxConfig(pod: Pod, attempt: number): PodSandboxConfig {
    return buildSandboxConfig(pod, {
      attempt,
      dnsConfig: dnsConfigForSandbox(pod, this.opts.dns),
      clusterDomain: this.opts.dns.clusterDomain || 'cluster.local',
      ...(this.opts.podLogsDir !== undefined ? { podLogsDir: this.opts.podLogsDir } : {}),
      ...(this.opts.cgroupParentOf !== undefined ? { cgroupParent: this.opts.cgroupParentOf(pod) } : {}),
      configSource: this.opts.configSourceOf?.(pod) ?? 'api',
    });
  }

  async syncPod(pod: Pod, runtimePod: RuntimePod | undefined, actions: PodActions): Promise<SyncPodResult> {
    const waiting: Record<string, WaitingReason> = { ...actions.waiting };
    const errors: SyncStepError[] = [];
    const started: string[] = [];
    const log = this.opts.log.child({ pod: formatPod(pod) });

    // 1. kill
    if (actions.killPod) {
      const r = await this.killPod(pod, runtimePod);
      errors.push(...r.errors);
      if (!r.stopped) return { waiting, errors, started };
      if (!actions.createSandbox) return { waiting, errors, started };
    } else {
      await Promise.all(
        actions.containersToKill.map(async (k) => {
          const c = runtimePod?.containers.find((x) => x.id === k.id);
          log.info({ container: k.name, id: k.id, reason: k.reason }, 'killing container');
          // the plan's reason is upstream's Killing message (`Container app failed liveness probe, will be restarted`)
          const e = await this.killContainer(pod, runtimePod, c ?? { id: k.id, name: k.name, state: 'running' }, undefined, k.reason);
          if (e) errors.push(e);
        }),
      );
    }
    // starts the plan holds back (CrashLoopBackOff, ImagePullBackOff...) are recorded on every pass
    // that skips them, as upstream; the recorder folds repeats into a count
    for (const e of computeWaitingEvents(pod, actions.waiting)) this.opts.events?.(pod, e.type, e.reason, e.message, e.container);
    const ephemeral = actions.ephemeralContainersToStart ?? [];
    const wantsStart = actions.createSandbox || actions.initContainerToStart !== undefined || actions.containersToStart.length > 0 || ephemeral.length > 0;
    let sandboxId = actions.createSandbox ? '' : (actions.sandboxId ?? runtimePod?.sandboxes[0]?.id ?? '');
    let podIP = actions.createSandbox ? '' : (runtimePod?.sandboxes.find((s) => s.id === sandboxId)?.ip ?? '');
    if (!wantsStart) {
      // a running pod's tokens are rewritten before they expire (upstream remounts on every sync)
      const refresh = this.opts.volumes.refreshVolumes?.bind(this.opts.volumes);
      if (refresh !== undefined && (runtimePod?.containers ?? []).some((c) => c.state === 'running')) {
        try {
          await refresh(pod, this.facts(pod, podIP));
        } catch (err) {
          this.volumeFailure(pod, err, errors, log);
        }
      }
      return { waiting, errors, started };
    }

    // 2. volumes, before any sandbox
    let volumes: ReadonlyMap<string, string>;
    try {
      volumes = await this.opts.volumes.setUpPod(pod, this.facts(pod, podIP));
    } catch (err) {
      this.volumeFailure(pod, err, errors, log);
      return { waiting, errors, started };
    }

    // 3. sandbox
    const sandboxConfig = this.sandboxConfig(pod, actions.sandboxAttempt);
    if (actions.createSandbox) {
      try {
        // containerd writes container logs below it but does not create it (upstream's kubelet does)
        if (sandboxConfig.logDirectory !== undefined) await (this.opts.ensureDir ?? mkdirP)(sandboxConfig.logDirectory);
        sandboxId = (await this.opts.runtime.runPodSandbox({ config: sandboxConfig })).podSandboxId;
        const st = await this.opts.runtime.podSandboxStatus({ podSandboxId: sandboxId });
        podIP = st.status?.network?.ip ?? '';
        log.info({ sandbox: sandboxId, podIP, attempt: actions.sandboxAttempt }, 'sandbox created');
      } catch (err) {
        errors.push({ step: 'CreatePodSandbox', reason: 'FailedCreatePodSandBox', message: `Failed to create pod sandbox: ${errText(err)}` });
        log.warn({ err: errText(err) }, 'creating the pod sandbox failed');
        return { waiting, errors, started, ...(sandboxId !== '' ? { sandboxId } : {}) };
      }
      try {
        volumes = await this.opts.volumes.setUpPod(pod, this.facts(pod, podIP));
      } catch (err) {
        this.volumeFailure(pod, err, errors, log);
        return { waiting, errors, started, sandboxId, podIP };
      }
    }
    const ctx: StartContext = { pod, runtimePod, sandboxId, sandboxConfig, volumes, facts: this.facts(pod, podIP) };

    // 4. containers
    if (actions.initContainerToStart !== undefined) {
      const spec = pod.spec.initContainers?.find((c) => c.name === actions.initContainerToStart);
      if (spec) {
        const e = await this.startContainer(ctx, spec, true);
        if (e) record(e, waiting, errors);
        else started.push(spec.name);
      }
    } else {
      await Promise.all(
        actions.containersToStart.map(async (name) => {
          const spec = pod.spec.containers.find((c) => c.name === name);
          if (!spec) return;
          const e = await this.startContainer(ctx, spec, false);
          if (e) record(e, waiting, errors);
          else started.push(name);
        }),
      );
    }
    // ephemeral containers (`kubectl debug`), whatever the init containers are doing
    for (const name of ephemeral) {
      const spec = pod.spec.ephemeralContainers?.find((c) => c.name === name);
      if (!spec) continue;
      const { targetContainerName, ...common } = spec;
      let targetId: string | undefined;
      if (targetContainerName !== undefined && targetContainerName !== '') {
        targetId = runtimePod?.containers.find((c) => c.name === targetContainerName && c.state === 'running')?.id;
        if (targetId === undefined) {
          const message = `target container ${JSON.stringify(targetContainerName)} is not running`;
          this.opts.events?.(pod, 'Warning', 'Failed', `Error: ${message}`, { name, init: false });
          record({ step: 'StartContainer', container: name, reason: 'CreateContainerConfigError', message }, waiting, errors);
          continue;
        }
      }
      const e = await this.startContainer(ctx, common as Container, false, targetId);
      if (e) record(e, waiting, errors);
      else started.push(name);
    }
    return { waiting, errors, started, sandboxId, podIP };
  }

  /** One container start; returns what went wrong, or undefined when it runs. */
  private async startContainer(ctx: StartContext, container: Container, isInit: boolean, targetId?: string): Promise<SyncStepError | undefined> {
    const { pod, runtimePod } = ctx;
    const log = this.opts.log.child({ pod: formatPod(pod), container: container.name });
    const ref = { name: container.name, init: isInit };
    const event = (type: 'Normal' | 'Warning', reason: string, message: string): void => this.opts.events?.(pod, type, reason, message, ref);
    const fail = (step: SyncStep, reason: string, message: string): SyncStepError => {
      log.warn({ reason, err: message }, 'starting container failed');
      // upstream: the detailed Failed event, then `Error: <reason>`
      if (reason === 'ErrImagePull') event('Warning', 'Failed', message);
      event('Warning', 'Failed', `Error: ${reason}`);
      return { step, container: container.name, reason, message };
    };
    const restart = restartBackoffEvent(pod, container, runtimePod);
    if (restart) this.opts.restartBackoff.next(restart.key, restart.since);

    // image
    const image = container.image ?? '';
    const policy = container.imagePullPolicy ?? imagePullPolicyFor(image);
    let imageRef = image;
    let imageUser: { uid?: number; username?: string } | undefined;
    try {
      const st = await this.opts.images.imageStatus({ image: { image } });
      const decision = shouldPull(policy, st.image !== undefined);
      if (decision === 'never-missing') {
        return fail('StartContainer', 'ErrImageNeverPull', `Container image "${imageWithDefaultTag(image)}" is not present with pull policy of Never`);
      }
      let info = st.image;
      if (decision === 'pull') {
        const key = imagePullBackoffKey(pod.metadata.uid ?? '', imageWithDefaultTag(image));
        try {
          event('Normal', 'Pulling', `Pulling image "${image}"`);
          const t0 = this.opts.clock.now().getTime();
          await this.opts.images.pullImage({ image: { image }, sandboxConfig: ctx.sandboxConfig });
          const took = ((this.opts.clock.now().getTime() - t0) / 1000).toFixed(3);
          event('Normal', 'Pulled', `Successfully pulled image "${image}" in ${took}s`);
          this.opts.imageBackoff.reset(key);
          info = (await this.opts.images.imageStatus({ image: { image } })).image ?? info;
        } catch (err) {
          this.opts.imageBackoff.next(key);
          const details = err instanceof Error && 'details' in err && typeof err.details === 'string' ? err.details : errText(err);
          return fail('StartContainer', 'ErrImagePull', `Failed to pull image "${image}": ${details}`);
        }
      }
      if (decision === 'use') event('Normal', 'Pulled', `Container image "${image}" already present on machine`);
      if (info) {
        imageRef = info.id || image;
        imageUser = { ...(info.uid !== undefined ? { uid: info.uid.value } : {}), ...(info.username !== '' ? { username: info.username } : {}) };
      }
    } catch (err) {
      return fail('StartContainer', 'ErrImagePull', `Failed to inspect image "${image}": ${errText(err)}`);
    }

    // configuration
    let config;
    try {
      const envs: readonly EnvVar[] = await this.opts.env.resolve(pod, container, ctx.facts);
      const mounts = this.opts.volumes.mountsFor(pod, container, ctx.volumes, envs);
      config = buildContainerConfig(pod, container, {
        restartCount: nextRestartCount(runtimePod, container.name),
        envs,
        mounts,
        memoryCapacity: this.opts.memoryCapacity,
        isInit,
        imageRef,
        ...(imageUser !== undefined ? { imageUser } : {}),
        ...(targetId !== undefined ? { targetId } : {}),
      });
    } catch (err) {
      const reason = err instanceof ContainerConfigError ? err.reason : 'CreateContainerConfigError';
      return fail('StartContainer', reason, errText(err));
    }

    // create + start
    let containerId: string;
    try {
      containerId = (await this.opts.runtime.createContainer({ podSandboxId: ctx.sandboxId, config, sandboxConfig: ctx.sandboxConfig })).containerId;
    } catch (err) {
      return fail('StartContainer', 'CreateContainerError', errText(err));
    }
    event('Normal', 'Created', `Created container ${container.name}`);
    try {
      await this.opts.runtime.startContainer({ containerId });
    } catch (err) {
      return fail('StartContainer', 'RunContainerError', errText(err));
    }
    event('Normal', 'Started', `Started container ${container.name}`);
    log.info({ id: containerId, restartCount: config.metadata.attempt }, 'container started');

    if (container.lifecycle?.postStart && this.opts.hooks) {
      try {
        await this.opts.hooks.postStart(pod, container, containerId, ctx.facts.podIP);
      } catch (err) {
        const message = errText(err);
        // upstream: a Warning FailedPostStartHook with the hook's error, then the kill
        event('Warning', 'FailedPostStartHook', message);
        await this.stopContainer(containerId, effectiveGracePeriod(pod), `FailedPostStartHook: ${message}`, pod);
        return fail('PostStartHook', 'PostStartHookError', message);
      }
    }
    return undefined;
  }

  /**
   * Stops every container, then every sandbox of the pod. `pod` is undefined for an orphan: the
   * grace period and preStop handler then come from the containers' annotations.
   */
  async killPod(pod: Pod | undefined, runtimePod: RuntimePod | undefined, gracePeriodOverride?: number): Promise<KillPodResult> {
    const errors: SyncStepError[] = [];
    const live = (runtimePod?.containers ?? []).filter((c) => c.state === 'running' || c.state === 'created' || c.state === 'unknown');
    const results = await Promise.all(live.map((c) => this.killContainer(pod, runtimePod, c, gracePeriodOverride)));
    for (const e of results) if (e) errors.push(e);
    for (const s of runtimePod?.sandboxes ?? []) {
      if (s.state !== 'ready') continue;
      try {
        await this.opts.runtime.stopPodSandbox({ podSandboxId: s.id });
      } catch (err) {
        if (!isCriNotFound(err)) errors.push({ step: 'KillPod', reason: 'KillPodSandboxError', message: `failed to stop sandbox ${s.id}: ${errText(err)}` });
      }
    }
    return { stopped: errors.length === 0, errors };
  }

  /** preStop within the grace period, then StopContainer with the rest of it. */
  async killContainer(
    pod: Pod | undefined,
    runtimePod: RuntimePod | undefined,
    c: Pick<RuntimeContainer, 'id' | 'name' | 'state'>,
    gracePeriodOverride: number | undefined,
    /** The Killing event's message; upstream's default is `Stopping container <name>`. */
    message?: string,
  ): Promise<SyncStepError | undefined> {
    const spec = pod ? [...(pod.spec.initContainers ?? []), ...pod.spec.containers].find((x) => x.name === c.name) : undefined;
    let handler = spec?.lifecycle?.preStop;
    let fallbackGrace = DEFAULT_GRACE_PERIOD_SECONDS;
    if (pod === undefined) {
      // an orphan: what the kubelet wrote on the container when it created it
      try {
        const st = (await this.opts.runtime.containerStatus({ containerId: c.id })).status;
        const a = st?.annotations ?? {};
        const g = Number(a[ANNOTATION_GRACE_PERIOD]);
        if (Number.isFinite(g) && a[ANNOTATION_GRACE_PERIOD] !== undefined) fallbackGrace = g;
        const h = a[ANNOTATION_PRESTOP_HANDLER];
        if (h !== undefined) handler = JSON.parse(h) as LifecycleHandler;
      } catch (err) {
        if (isCriNotFound(err)) return undefined;
      }
    }
    let grace = effectiveGracePeriod(pod, gracePeriodOverride, fallbackGrace);
    if (pod !== undefined && c.state === 'running') {
      const init = (pod.spec.initContainers ?? []).some((x) => x.name === c.name);
      this.opts.events?.(pod, 'Normal', 'Killing', message !== undefined && message !== '' ? message : `Stopping container ${c.name}`, { name: c.name, init });
    }
    if (handler && this.opts.hooks && c.state === 'running') {
      const podIP = pod?.spec.hostNetwork ? this.opts.nodeIP : (runtimePod?.sandboxes.find((s) => s.state === 'ready')?.ip ?? '');
      const started = this.opts.clock.now().getTime();
      await this.runBounded(this.opts.hooks.preStop(pod, c.name, handler, c.id, podIP, grace), grace * 1000).catch((err: unknown) => {
        this.opts.log.warn({ pod: pod ? formatPod(pod) : runtimePod?.uid, container: c.name, err: errText(err) }, 'preStop hook failed');
        // upstream records a Warning FailedPreStopHook and goes on with the stop
        if (pod !== undefined) this.opts.events?.(pod, 'Warning', 'FailedPreStopHook', errText(err), { name: c.name, init: (pod.spec.initContainers ?? []).some((x) => x.name === c.name) });
      });
      const spent = Math.floor((this.opts.clock.now().getTime() - started) / 1000);
      grace = Math.max(MIN_GRACE_PERIOD_SECONDS, grace - spent);
    }
    return this.stopContainer(c.id, grace, 'Stopping container', pod, c.name);
  }

  private async stopContainer(id: string, grace: number, why: string, pod?: Pod, name?: string): Promise<SyncStepError | undefined> {
    try {
      await this.opts.runtime.stopContainer({ containerId: id, timeout: grace }, { timeoutMs: (grace + 30) * 1000 });
      this.opts.log.info({ pod: pod ? formatPod(pod) : undefined, container: name, id, grace, why }, 'container stopped');
      return undefined;
    } catch (err) {
      if (isCriNotFound(err)) return undefined;
      return { step: 'KillContainer', ...(name !== undefined ? { container: name } : {}), reason: 'KillContainerError', message: `failed to stop container ${id}: ${errText(err)}` };
    }
  }

  /** Resolves when `p` settles or `ms` passes, whichever is first (a hook never blocks a kill). */
  private async runBounded(p: Promise<void>, ms: number): Promise<void> {
    const ac = new AbortController();
    try {
      await Promise.race([p, this.opts.clock.sleep(ms, ac.signal).then(
        () => undefined,
        () => undefined,
      )]);
    } finally {
      ac.abort();
    }
  }
}

async function mkdirP(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o755 });
}

function record(e: SyncStepError, waiting: Record<string, WaitingReason>, errors: SyncStepError[]): void {
  errors.push(e);
  if (e.container !== undefined) waiting[e.container] = { reason: e.reason, message: e.message };
}

/**
 * Whether a result asks for a quick retry rather than the periodic resync: any failed step. The image
 * and restart back-offs keep quick retries from hammering the runtime, and a retry soon after an
 * ErrImagePull is what shows ImagePullBackOff, as upstream.
 */
export function needsRetry(r: Pick<SyncPodResult, 'errors'>): boolean {
  return r.errors.length > 0;
}
