/**
 * The status manager: writes the PodStatus the kubelet generated to the apiserver, only when it
 * changed since the last write, and confirms the deletion of terminated pods.
 *
 * Writes are JSON merge patches of `pods/<name>/status`: `{"status": {...}}` with every top-level
 * status key the apiserver holds but the new status lacks set to null (a merge patch otherwise keeps
 * it). Lists (conditions, containerStatuses) are replaced whole by a merge patch, which is what we
 * want. A patch needs no resourceVersion, so a stale informer cache never causes a conflict loop;
 * the kubelet owns the status of its pods (upstream uses a strategic merge patch the same way).
 *
 * Static pods have no API object of their own: their status goes to the mirror pod (same name and
 * namespace, a different UID), found through `mirrorPodOf`; without a mirror pod nothing is written.
 *
 * Deletion: once a pod with a deletionTimestamp has no running container (and its volumes are gone),
 * `confirmDeletion` sends DELETE with gracePeriodSeconds=0 and a UID precondition, so a newer pod that
 * reuses the name is never deleted (409 and 404 both mean "not ours any more": done).
 *
 * Never throws from setStatus: a failed write is logged and retried on the next sync (the cache is
 * only updated on success). Cost model: one canonical JSON encode per sync; one PATCH per change.
 */
import type { Pod, PodStatus } from '../api/core/pod.js';
import type { KubeClient } from '../lib/client/client.js';
import { isConflict, isNotFound } from '../lib/client/errors.js';
import { resources } from '../lib/client/resource.js';
import type { Logger } from '../lib/log.js';
import { silentLogger } from '../lib/log.js';

export type StatusClient = Pick<KubeClient, 'patch' | 'delete'>;

export interface StatusManagerOptions {
  readonly client: StatusClient;
  readonly log?: Logger;
  /** For a static pod: its mirror pod in the API (undefined: none yet, skip). Default: the pod itself. */
  readonly mirrorPodOf?: (pod: Pod) => Pod | undefined;
  /** Whether the pod is a static pod (its status goes to the mirror pod). */
  readonly isStaticPod?: (pod: Pod) => boolean;
}

export interface StatusManagerStats {
  patches: number;
  unchanged: number;
  failures: number;
  deletions: number;
}

/** JSON with object keys sorted, so equal statuses encode equally whatever their key order. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>)
      .filter(([, x]) => x !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonicalJson(x)}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

/** The merge patch that turns `current` into `next`: next's keys, plus null for keys next dropped. */
export function statusMergePatch(current: PodStatus | undefined, next: PodStatus): { readonly status: Record<string, unknown> } {
  const status: Record<string, unknown> = { ...next };
  for (const k of Object.keys(current ?? {})) if (!(k in next)) status[k] = null;
  return { status };
}

/** Whether a status write would change what the apiserver holds. */
export function statusDiffers(a: PodStatus | undefined, b: PodStatus): boolean {
  return a === undefined || canonicalJson(a) !== canonicalJson(b);
}

export class StatusManager {
  readonly stats: StatusManagerStats = { patches: 0, unchanged: 0, failures: 0, deletions: 0 };
  /** The last status written (or read back) per pod UID. */
  private readonly written = new Map<string, PodStatus>();
  private readonly generated = new Map<string, PodStatus>();
  private readonly log: Logger;

  constructor(private readonly opts: StatusManagerOptions) {
    this.log = (opts.log ?? silentLogger()).child({ component: 'status-manager' });
  }

  /** The last status generated for this pod (previousStatus of the next generatePodStatus). */
  lastGenerated(uid: string): PodStatus | undefined {
    return this.generated.get(uid);
  }

  /** Records the status and writes it when it differs from what the apiserver holds. True when written or unchanged. */
  async setStatus(pod: Pod, status: PodStatus, signal?: AbortSignal): Promise<boolean> {
    const uid = pod.metadata.uid ?? '';
    this.generated.set(uid, status);
    const target = this.target(pod);
    if (target === undefined) return true;
    const known = this.written.get(uid) ?? target.status;
    if (!statusDiffers(known, status)) {
      this.stats.unchanged++;
      return true;
    }
    try {
      await this.opts.client.patch<Pod>(resources.pods, target.metadata.name ?? '', statusMergePatch(target.status, status), {
        type: 'merge',
        namespace: target.metadata.namespace ?? '',
        subresource: 'status',
        fieldManager: 'kubelet',
        ...(signal !== undefined ? { signal } : {}),
      });
      this.written.set(uid, status);
      this.stats.patches++;
      return true;
    } catch (err) {
      if (isNotFound(err)) return true; // the pod is gone: nothing to report to
      this.stats.failures++;
      this.log.warn({ pod: `${pod.metadata.namespace ?? ''}/${pod.metadata.name ?? ''}`, err: err instanceof Error ? err.message : String(err) }, 'updating pod status failed; will retry');
      return false;
    }
  }

  /** DELETE with grace 0 and a UID precondition. True once the pod is gone (or is not ours any more). */
  async confirmDeletion(pod: Pod, signal?: AbortSignal): Promise<boolean> {
    const m = pod.metadata;
    try {
      await this.opts.client.delete(resources.pods, m.name ?? '', {
        namespace: m.namespace ?? '',
        gracePeriodSeconds: 0,
        preconditions: { uid: m.uid ?? '' },
        ...(signal !== undefined ? { signal } : {}),
      });
      this.stats.deletions++;
      this.log.info({ pod: `${m.namespace ?? ''}/${m.name ?? ''}`, uid: m.uid }, 'pod deletion confirmed');
      return true;
    } catch (err) {
      if (isNotFound(err) || isConflict(err)) return true;
      this.stats.failures++;
      this.log.warn({ pod: `${m.namespace ?? ''}/${m.name ?? ''}`, err: err instanceof Error ? err.message : String(err) }, 'confirming pod deletion failed; will retry');
      return false;
    }
  }

  forget(uid: string): void {
    this.written.delete(uid);
    this.generated.delete(uid);
  }

  private target(pod: Pod): Pod | undefined {
    if (this.opts.isStaticPod?.(pod) === true) return this.opts.mirrorPodOf?.(pod);
    return pod;
  }
}
