/**
 * PodSyncer: what one pass of a pod worker does (the PodSyncHandler of pod-workers.ts), as upstream's
 * SyncPod / SyncTerminatingPod / SyncTerminatedPod:
 *   syncPod        read the pod's runtime state -> computePodActions -> executor.syncPod -> read it
 *                  again -> generatePodStatus -> status manager; probe workers get the new view.
 *   terminatePod   executor.killPod with the grace period, then a status with every container
 *                  terminated (not for pods already gone from the API); true once nothing runs.
 *   cleanupPod     volumes torn down, probe workers stopped, then (API pods being deleted) the final
 *                  DELETE with a UID precondition; static pods are never deleted from the API.
 * A pass that could not finish (sandbox creation failed, a kill failed, volumes missing) throws, so
 * the worker retries soon with back-off instead of waiting for the periodic resync.
 *
 * The runtime state of one pod is read with label-filtered lists (runtime-state.ts's reader over a
 * view of the RuntimeService that adds the pod UID selector), so a pass costs O(that pod), not
 * O(node).
 */
import type { Pod } from '../api/core/pod.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/log.js';
import type { Backoff } from './backoff.js';
import type { ImageService, RuntimeService } from './cri/services.js';
import type { PodExecutor, SyncPodResult } from './executor.js';
import { needsRetry } from './executor.js';
import { imagePullBackoffKey } from './backoff.js';
import { computePodActions, formatPod, imageWithDefaultTag, restartBackoffEvent } from './pod-actions.js';
import { generatePodStatus } from './pod-status.js';
import { readRuntimeState } from './runtime-state.js';
import type { StatusManager } from './status-manager.js';
import type { PodSyncHandler, SyncOutcome } from './pod-workers.js';
import { LABEL_POD_UID } from './types.js';
import type { PodActions, ProbeResults, RuntimePod, VolumeManager } from './types.js';

/** The part of the probe manager a pass needs. */
export interface ProbeSink extends ProbeResults {
  updatePod(pod: Pod, runtimePod: RuntimePod | undefined): void;
  removePod(uid: string): void;
}

export interface PodSyncerOptions {
  readonly runtime: RuntimeService;
  readonly images: ImageService;
  readonly executor: PodExecutor;
  readonly statusManager: StatusManager;
  readonly volumes: VolumeManager;
  readonly probes: ProbeSink;
  readonly restartBackoff: Backoff;
  readonly imageBackoff: Backoff;
  readonly clock: Clock;
  readonly log: Logger;
  readonly nodeIP: string;
  /** containerID prefix (`containerd://...`). */
  readonly runtimeName?: string;
  /** Static pods are never deleted through the API. */
  readonly isStaticPod?: (pod: Pod) => boolean;
  /** Called after every pass with the pod's runtime view (the kubelet server's /pods, metrics). */
  readonly onSynced?: (uid: string, pod: Pod | undefined, runtimePod: RuntimePod | undefined) => void;
}

/** A view of `runtime` whose sandbox and container lists only hold one pod's objects. */
export function scopedRuntime(runtime: RuntimeService, uid: string): RuntimeService {
  const selector = { [LABEL_POD_UID]: uid };
  return new Proxy(runtime, {
    get(target, prop, receiver) {
      if (prop === 'listPodSandbox') {
        return (req: Parameters<RuntimeService['listPodSandbox']>[0], o?: Parameters<RuntimeService['listPodSandbox']>[1]) =>
          target.listPodSandbox({ filter: { ...req.filter, labelSelector: { ...req.filter?.labelSelector, ...selector } } }, o);
      }
      if (prop === 'listContainers') {
        return (req: Parameters<RuntimeService['listContainers']>[0], o?: Parameters<RuntimeService['listContainers']>[1]) =>
          target.listContainers({ filter: { ...req.filter, labelSelector: { ...req.filter?.labelSelector, ...selector } } }, o);
      }
      const v: unknown = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

/** The runtime view of one pod (undefined when the runtime has nothing of it). */
export async function readPodRuntime(runtime: RuntimeService, uid: string, signal?: AbortSignal): Promise<RuntimePod | undefined> {
  const pods = await readRuntimeState(scopedRuntime(runtime, uid), signal !== undefined ? { signal } : {});
  return pods.get(uid);
}

/** Whether nothing of the pod runs any more. */
export function podStopped(rp: RuntimePod | undefined): boolean {
  if (rp === undefined) return true;
  return rp.containers.every((c) => c.state === 'exited') && rp.sandboxes.every((s) => s.state === 'notready');
}

export class PodSyncer implements PodSyncHandler {
  constructor(private readonly opts: PodSyncerOptions) {}

  async syncPod(pod: Pod, signal: AbortSignal): Promise<SyncOutcome> {
    const uid = pod.metadata.uid ?? '';
    const o = this.opts;
    const before = await readPodRuntime(o.runtime, uid, signal);
    const present = await this.imagesPresent(pod);
    const now = o.clock.now().getTime();
    const actions = computePodActions(pod, before, {
      now,
      backoff: o.restartBackoff,
      probeResults: o.probes,
      imagePresent: (image) => present.get(image) ?? false,
      imageBackoff: o.imageBackoff,
    });
    const result = await o.executor.syncPod(pod, before, actions);
    const changed = actions.killPod || actions.createSandbox || actions.containersToKill.length > 0 || result.started.length > 0;
    const after = changed ? await readPodRuntime(o.runtime, uid, signal) : before;
    await this.writeStatus(pod, after, result.waiting, false, signal);
    o.probes.updatePod(pod, after);
    o.onSynced?.(uid, pod, after);
    if (needsRetry(result)) throw new Error(summarize(result));
    const wake = this.backoffEnds(pod, before, actions.waiting, now);
    return wake !== undefined ? { requeueAfterMs: wake } : {};
  }

  /** ms until the first back-off window holding a container ends (so it restarts on time). */
  private backoffEnds(pod: Pod, rp: RuntimePod | undefined, waiting: PodActions['waiting'], now: number): number | undefined {
    let first: number | undefined;
    const consider = (ms: number): void => {
      if (ms > 0 && (first === undefined || ms < first)) first = ms;
    };
    for (const c of [...(pod.spec.initContainers ?? []), ...pod.spec.containers]) {
      const reason = waiting[c.name]?.reason;
      if (reason === 'CrashLoopBackOff') {
        const ev = restartBackoffEvent(pod, c, rp);
        if (ev) consider(this.opts.restartBackoff.inBackoff(ev.key, now, ev.since).remainingMs);
      } else if (reason === 'ImagePullBackOff') {
        consider(this.opts.imageBackoff.inBackoff(imagePullBackoffKey(pod.metadata.uid ?? '', imageWithDefaultTag(c.image ?? '')), now).remainingMs);
      }
    }
    // a little after the window closes, so the next pass finds it closed
    return first === undefined ? undefined : first + 100;
  }

  async terminatePod(uid: string, pod: Pod | undefined, gracePeriodSeconds: number | undefined, removed: boolean, signal: AbortSignal): Promise<boolean> {
    const o = this.opts;
    const before = await readPodRuntime(o.runtime, uid, signal);
    if (!podStopped(before)) {
      const r = await o.executor.killPod(pod, before, gracePeriodSeconds);
      for (const e of r.errors) o.log.warn({ pod: pod ? formatPod(pod) : uid, step: e.step, err: e.message }, 'killing pod failed');
    }
    const after = await readPodRuntime(o.runtime, uid, signal);
    const stopped = podStopped(after);
    if (pod !== undefined && !removed) await this.writeStatus(pod, after, {}, stopped, signal);
    o.onSynced?.(uid, pod, after);
    return stopped;
  }

  async cleanupPod(uid: string, pod: Pod | undefined, removed: boolean, signal: AbortSignal): Promise<boolean> {
    const o = this.opts;
    o.probes.removePod(uid);
    try {
      await o.volumes.tearDownPod(uid);
    } catch (err) {
      o.log.warn({ pod: pod ? formatPod(pod) : uid, err: err instanceof Error ? err.message : String(err) }, 'tearing down volumes failed; will retry');
      return false;
    }
    const deleting = pod?.metadata.deletionTimestamp !== undefined;
    if (pod !== undefined && deleting && !removed && o.isStaticPod?.(pod) !== true) {
      if (!(await o.statusManager.confirmDeletion(pod, signal))) return false;
    }
    o.statusManager.forget(uid);
    o.onSynced?.(uid, undefined, undefined);
    return true;
  }

  private async writeStatus(pod: Pod, rp: RuntimePod | undefined, waiting: SyncPodResult['waiting'], podIsTerminal: boolean, signal: AbortSignal): Promise<void> {
    const o = this.opts;
    const uid = pod.metadata.uid ?? '';
    const previous = o.statusManager.lastGenerated(uid);
    const status = generatePodStatus(pod, rp, {
      now: o.clock.now().getTime(),
      probeResults: o.probes,
      waiting,
      hostIP: o.nodeIP,
      podIsTerminal,
      runtimeName: o.runtimeName ?? 'containerd',
      ...(previous !== undefined ? { previousStatus: previous } : {}),
    });
    await o.statusManager.setStatus(pod, status, signal);
  }

  /** ImageStatus of each distinct image of the pod (init + regular). */
  private async imagesPresent(pod: Pod): Promise<Map<string, boolean>> {
    const images = new Set([...(pod.spec.initContainers ?? []), ...pod.spec.containers].map((c) => c.image ?? ''));
    const out = new Map<string, boolean>();
    await Promise.all(
      [...images].map(async (image) => {
        try {
          out.set(image, (await this.opts.images.imageStatus({ image: { image } })).image !== undefined);
        } catch {
          // unknown: leave it to the executor
        }
      }),
    );
    return out;
  }
}

function summarize(r: SyncPodResult): string {
  return r.errors.map((e) => `${e.step}${e.container !== undefined ? ` ${e.container}` : ''}: ${e.message}`).join('; ');
}
