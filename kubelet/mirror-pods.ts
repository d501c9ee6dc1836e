/**
 * Mirror pods: the apiserver's read-only copy of each static pod, so `kubectl get pods` shows what the
 * kubelet runs from its manifest directory. As upstream's kubelet (pod/mirror_client.go, syncPod,
 * HandlePodCleanups):
 * - a mirror pod is the static pod with annotation kubernetes.io/config.mirror=<config.hash> and,
 *   since MirrorPodNodeRestriction (1.17+), a controller ownerReference to its Node (v1 Node, name, uid);
 * - a static pod without a mirror gets one; a mirror whose hash differs (the manifest changed) or that
 *   is being deleted is deleted (grace 0, uid precondition) and, unless it was being deleted,
 *   recreated; a mirror whose static pod is gone (orphan) is deleted;
 * - no mirror is created before the Node exists or while it is being deleted.
 * `planMirrorPods` decides (pure); `MirrorPodManager` lists this node's pods, applies the plan, and
 * resyncs every 10 s and whenever the static pods change, so a mirror deleted by a user comes back.
 * Never throws out of `run`: failures are logged and counted, the next round retries.
 * Cost model: one LIST of this node's pods (field selector) per round, writes only for differences.
 */
import type { Node } from '../api/core/node.js';
import type { Pod } from '../api/core/pod.js';
import type { Clock } from '../lib/clock.js';
import { realClock } from '../lib/clock.js';
import type { KubeClient } from '../lib/client/client.js';
import { isAlreadyExists, isConflict, isNotFound } from '../lib/client/errors.js';
import { resources } from '../lib/client/resource.js';
import type { Logger } from '../lib/log.js';
import { silentLogger } from '../lib/log.js';
import { ANNOTATION_CONFIG_HASH, ANNOTATION_CONFIG_MIRROR } from './static-pods.js';

export type MirrorPodClient = Pick<KubeClient, 'get' | 'list' | 'create' | 'delete'>;

export interface NodeRef {
  readonly name: string;
  readonly uid: string;
}

export type MirrorDeleteReason = 'orphaned' | 'outdated' | 'terminating';

export type MirrorPodOp =
  | { readonly kind: 'create'; readonly staticUid: string; readonly pod: Pod }
  | { readonly kind: 'delete'; readonly namespace: string; readonly name: string; readonly uid: string; readonly reason: MirrorDeleteReason };

export function isMirrorPod(pod: Pod): boolean {
  return pod.metadata.annotations?.[ANNOTATION_CONFIG_MIRROR] !== undefined;
}

const keyOf = (p: Pod): string => `${p.metadata.namespace ?? ''}/${p.metadata.name ?? ''}`;

/** The mirror of `staticPod`: its spec, labels and annotations, the mirror annotation, owned by the Node. */
export function buildMirrorPod(staticPod: Pod, node: NodeRef): Pod {
  const { uid: _u, resourceVersion: _r, creationTimestamp: _c, generation: _g, managedFields: _m, ...meta } = staticPod.metadata;
  const { status: _s, ...rest } = staticPod;
  return {
    ...rest,
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      ...meta,
      annotations: { ...meta.annotations, [ANNOTATION_CONFIG_MIRROR]: staticPod.metadata.annotations?.[ANNOTATION_CONFIG_HASH] ?? '' },
      ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: node.name, uid: node.uid, controller: true }],
    },
  };
}

/**
 * What to write so the mirrors match the static pods. `mirrors` are this node's pods carrying the
 * mirror annotation; `node` undefined (not registered, or being deleted) means delete but never create.
 */
export function planMirrorPods(staticPods: readonly Pod[], mirrors: readonly Pod[], node: NodeRef | undefined): MirrorPodOp[] {
  const ops: MirrorPodOp[] = [];
  const byKey = new Map(mirrors.map((m) => [keyOf(m), m]));
  const wanted = new Set<string>();
  const del = (m: Pod, reason: MirrorDeleteReason): MirrorPodOp => ({
    kind: 'delete',
    namespace: m.metadata.namespace ?? '',
    name: m.metadata.name ?? '',
    uid: m.metadata.uid ?? '',
    reason,
  });
  for (const sp of staticPods) {
    const key = keyOf(sp);
    wanted.add(key);
    const mirror = byKey.get(key);
    const create = (): MirrorPodOp | undefined => (node !== undefined ? { kind: 'create', staticUid: sp.metadata.uid ?? '', pod: buildMirrorPod(sp, node) } : undefined);
    let op: MirrorPodOp | undefined;
    if (mirror === undefined) {
      op = create();
    } else if (mirror.metadata.deletionTimestamp !== undefined) {
      // wait for it to go; the next round creates the replacement
      ops.push(del(mirror, 'terminating'));
    } else if (mirror.metadata.annotations?.[ANNOTATION_CONFIG_MIRROR] !== sp.metadata.annotations?.[ANNOTATION_CONFIG_HASH]) {
      ops.push(del(mirror, 'outdated'));
      op = create();
    }
    if (op !== undefined) ops.push(op);
  }
  for (const m of mirrors) if (!wanted.has(keyOf(m))) ops.push(del(m, 'orphaned'));
  return ops;
}

export interface MirrorPodManagerOptions {
  readonly client: MirrorPodClient;
  readonly nodeName: string;
  readonly clock?: Clock;
  readonly log?: Logger;
  /** Default 10 s. */
  readonly resyncIntervalMs?: number;
}

export interface MirrorSyncResult {
  readonly created: number;
  readonly deleted: number;
  readonly failed: number;
}

export interface MirrorPodStats {
  syncs: number;
  created: number;
  deleted: number;
  failures: number;
  lastError?: string;
}

export class MirrorPodManager {
  readonly stats: MirrorPodStats = { syncs: 0, created: 0, deleted: 0, failures: 0 };
  private staticPods: readonly Pod[] = [];
  private readonly mirrors = new Map<string, Pod>();
  private wake: (() => void) | undefined;
  private readonly clock: Clock;
  private readonly log: Logger;

  constructor(private readonly opts: MirrorPodManagerOptions) {
    this.clock = opts.clock ?? realClock;
    this.log = (opts.log ?? silentLogger()).child({ component: 'mirror-pods', node: opts.nodeName });
  }

  /** The static pods to mirror (the static pod source's onChange); triggers a sync when running. */
  setStaticPods(pods: readonly Pod[]): void {
    this.staticPods = pods;
    this.wake?.();
  }

  /** The mirror pod of a static pod (by the static pod's UID), as of the last sync. */
  mirrorPodOf(staticUid: string): Pod | undefined {
    return this.mirrors.get(staticUid);
  }

  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      await this.sync(signal);
      const waiter = new AbortController();
      const stop = (): void => waiter.abort();
      this.wake = stop;
      signal.addEventListener('abort', stop, { once: true });
      try {
        await this.clock.sleep(this.opts.resyncIntervalMs ?? 10_000, waiter.signal);
      } catch {
        // woken early: static pods changed, or the run is over
      } finally {
        signal.removeEventListener('abort', stop);
        this.wake = undefined;
      }
    }
  }

  /** One round: list, plan, apply. Never throws. */
  async sync(signal?: AbortSignal): Promise<MirrorSyncResult> {
    this.stats.syncs++;
    const call = signal !== undefined ? { signal } : {};
    let mirrors: Pod[];
    let node: NodeRef | undefined;
    try {
      const list = await this.opts.client.list<Pod>(resources.pods, { fieldSelector: `spec.nodeName=${this.opts.nodeName}`, ...call });
      mirrors = list.items.filter(isMirrorPod);
      node = await this.nodeRef(signal);
    } catch (err) {
      this.fail('list', err);
      return { created: 0, deleted: 0, failed: 1 };
    }
    if (node === undefined && this.staticPods.length > 0) this.log.info('node not registered (or being deleted); mirror pods wait');

    const ops = planMirrorPods(this.staticPods, mirrors, node);
    const live = new Map(mirrors.map((m) => [keyOf(m), m]));
    let created = 0;
    let deleted = 0;
    let failed = 0;
    for (const op of ops) {
      try {
        switch (op.kind) {
          case 'delete':
            await this.deleteMirror(op, signal);
            live.delete(`${op.namespace}/${op.name}`);
            deleted++;
            break;
          case 'create': {
            const pod = await this.createMirror(op.pod, signal);
            live.set(keyOf(pod), pod);
            created++;
            break;
          }
          default: {
            const never: never = op;
            return never;
          }
        }
      } catch (err) {
        failed++;
        this.fail(op.kind, err, { pod: op.kind === 'create' ? keyOf(op.pod) : `${op.namespace}/${op.name}` });
      }
    }
    this.mirrors.clear();
    for (const sp of this.staticPods) {
      const m = live.get(keyOf(sp));
      if (m !== undefined && sp.metadata.uid !== undefined) this.mirrors.set(sp.metadata.uid, m);
    }
    this.stats.created += created;
    this.stats.deleted += deleted;
    return { created, deleted, failed };
  }

  private async nodeRef(signal?: AbortSignal): Promise<NodeRef | undefined> {
    try {
      const node = await this.opts.client.get<Node>(resources.nodes, this.opts.nodeName, signal !== undefined ? { signal } : {});
      if (node.metadata.uid === undefined || node.metadata.deletionTimestamp !== undefined) return undefined;
      return { name: this.opts.nodeName, uid: node.metadata.uid };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  private async deleteMirror(op: Extract<MirrorPodOp, { kind: 'delete' }>, signal?: AbortSignal): Promise<void> {
    try {
      await this.opts.client.delete(resources.pods, op.name, {
        namespace: op.namespace,
        gracePeriodSeconds: 0,
        preconditions: { uid: op.uid },
        ...(signal !== undefined ? { signal } : {}),
      });
      this.log.info({ pod: `${op.namespace}/${op.name}`, reason: op.reason }, 'deleted mirror pod');
    } catch (err) {
      // gone already, or replaced by someone else: either way not ours to delete any more
      if (isNotFound(err) || isConflict(err)) return;
      throw err;
    }
  }

  private async createMirror(pod: Pod, signal?: AbortSignal): Promise<Pod> {
    try {
      const created = await this.opts.client.create<Pod>(resources.pods, pod, signal !== undefined ? { signal } : {});
      this.log.info({ pod: keyOf(pod) }, 'created mirror pod');
      return created;
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
      // a pod of that name exists: fine if it is our mirror already, an error if it is someone else's
      const existing = await this.opts.client.get<Pod>(resources.pods, pod.metadata.name ?? '', {
        namespace: pod.metadata.namespace ?? 'default',
        ...(signal !== undefined ? { signal } : {}),
      });
      if (existing.metadata.annotations?.[ANNOTATION_CONFIG_MIRROR] === pod.metadata.annotations?.[ANNOTATION_CONFIG_MIRROR]) return existing;
      throw err;
    }
  }

  private fail(op: string, err: unknown, fields: Record<string, unknown> = {}): void {
    this.stats.failures++;
    this.stats.lastError = err instanceof Error ? err.message : String(err);
    this.log.error({ op, err: this.stats.lastError, ...fields }, `mirror pod ${op} failed; will retry`);
  }
}
