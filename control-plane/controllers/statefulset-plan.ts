/**
 * The StatefulSet controller's decisions (upstream pkg/controller/statefulset, stateful_set_control.go),
 * pure. One pass over the set's pods, indexed by the ordinal in their name (`<set>-<ordinal>`):
 *   1. each ordinal of [start, start + replicas), ascending: a missing pod is created (from the
 *      current revision's template below the partition while a rolling update is under way, else the
 *      update revision's); a Failed or Succeeded pod is deleted, to be created again. With
 *      podManagementPolicy OrderedReady (the default) the pass stops at the first pod created, deleted,
 *      terminating, or not Running and Ready: ordinal n+1 starts only once 0..n are Ready;
 *      with Parallel it goes on;
 *   2. pods beyond the replicas (scale down, or ordinals.start moved) are deleted from the highest
 *      ordinal down; OrderedReady: one at a time, each once it is gone;
 *   3. RollingUpdate: from the highest ordinal down to the partition, pods of an older revision are
 *      deleted (they come back from step 1 at the new revision), at most maxUnavailable (default 1)
 *      unavailable at a time, waiting for an updated pod that is not yet available; OnDelete: nothing.
 * Status as upstream: replicas (pods created), ready/available (minReadySeconds) and current/updated
 * counts by the controller-revision-hash label; once a rolling update has every pod updated and Ready,
 * currentRevision becomes the update revision (what `kubectl rollout status statefulset` waits for).
 */
import type { Pod, PodTemplateSpec } from '../../api/core/pod.js';
import type { StatefulSet, StatefulSetStatus } from '../../api/apps/statefulset.js';
import { POD_INDEX_LABEL, STATEFULSET_POD_NAME_LABEL as POD_NAME_LABEL } from '../../api/apps/statefulset.js';
import { scaledValue } from './daemonset-plan.js';
import { controllerRef, LABEL_REVISION_HASH } from './daemonset-pods.js';
import { isPodAvailable, isPodReady } from './replicaset-pods.js';

export const STS_REF = { apiVersion: 'apps/v1', kind: 'StatefulSet' } as const;

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** The ordinal of a pod of `set` (its name is `<set>-<ordinal>`), or undefined for a pod not of this set. */
export function ordinalOf(setName: string, pod: Pod): number | undefined {
  const name = pod.metadata.name ?? '';
  if (!name.startsWith(`${setName}-`)) return undefined;
  const rest = name.slice(setName.length + 1);
  if (!/^(0|[1-9]\d*)$/.test(rest)) return undefined;
  const n = Number(rest);
  return Number.isSafeInteger(n) ? n : undefined;
}

export const isTerminating = (p: Pod): boolean => p.metadata.deletionTimestamp !== undefined;
const isRunningAndReady = (p: Pod): boolean => p.status?.phase === 'Running' && isPodReady(p);
const isFinished = (p: Pod): boolean => p.status?.phase === 'Failed' || p.status?.phase === 'Succeeded';

export interface Revisions {
  /** Name of the revision the pods are moving away from (status.currentRevision). */
  readonly current: string;
  /** Name of the revision of the current template. */
  readonly update: string;
}

export interface StatefulSetDecision {
  /** Ordinals to create, each from the template of its revision. */
  readonly create: readonly { readonly ordinal: number; readonly revision: 'current' | 'update' }[];
  readonly delete: readonly Pod[];
  readonly status: StatefulSetStatus;
}

export function planStatefulSet(set: StatefulSet, pods: readonly Pod[], revs: Revisions, now: Date): StatefulSetDecision {
  const name = set.metadata.name ?? '';
  const start = set.spec.ordinals?.start ?? 0;
  const replicas = set.spec.replicas ?? 1;
  const monotonic = set.spec.podManagementPolicy !== 'Parallel';
  const minReady = set.spec.minReadySeconds ?? 0;
  const rolling = (set.spec.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate';
  const partition = rolling ? (set.spec.updateStrategy?.rollingUpdate?.partition ?? 0) : 0;
  const byOrdinal = new Map<number, Pod>();
  for (const p of pods) {
    const o = ordinalOf(name, p);
    if (o !== undefined) byOrdinal.set(o, p);
  }
  const inRange = (o: number): boolean => o >= start && o < start + replicas;
  const condemned = [...byOrdinal.entries()].filter(([o]) => !inRange(o)).sort(([a], [b]) => b - a).map(([, p]) => p);
  const available = (p: Pod): boolean => isRunningAndReady(p) && isPodAvailable(p, minReady, now);

  const create: { ordinal: number; revision: 'current' | 'update' }[] = [];
  const toDelete: Pod[] = [];
  let stop = false;

  // 1. the ordinals that should exist, in order
  for (let o = start; o < start + replicas && !stop; o++) {
    const pod = byOrdinal.get(o);
    if (pod === undefined) {
      create.push({ ordinal: o, revision: revs.current !== revs.update && rolling && o - start < partition ? 'current' : 'update' });
      if (monotonic) stop = true;
      continue;
    }
    if (isFinished(pod) && !isTerminating(pod)) {
      toDelete.push(pod);
      if (monotonic) stop = true;
      continue;
    }
    if (monotonic && (isTerminating(pod) || !available(pod))) stop = true;
  }

  // 2. pods beyond the replicas, highest ordinal first
  for (const pod of condemned) {
    if (stop) break;
    if (isTerminating(pod)) {
      if (monotonic) stop = true;
      continue;
    }
    toDelete.push(pod);
    if (monotonic) stop = true;
  }

  // 3. rolling update, highest ordinal first, down to the partition: any pod not at the update
  // revision (also after a rollback to the current one, or an adopted pod of another revision)
  if (!stop && rolling) {
    const maxUnavailable = Math.max(1, scaledValue(set.spec.updateStrategy?.rollingUpdate?.maxUnavailable ?? 1, replicas));
    let unavailable = 0;
    for (let o = start; o < start + replicas; o++) {
      const p = byOrdinal.get(o);
      if (p === undefined || isTerminating(p) || !available(p) || toDelete.includes(p)) unavailable++;
    }
    for (let o = start + replicas - 1; o >= start + partition; o--) {
      const pod = byOrdinal.get(o);
      if (pod === undefined || isTerminating(pod) || toDelete.includes(pod)) continue;
      if (pod.metadata.labels?.[LABEL_REVISION_HASH] !== revs.update) {
        if (!available(pod)) {
          // already unavailable (e.g. crash-looping on the old template): replacing it costs nothing
          toDelete.push(pod);
        } else if (unavailable < maxUnavailable) {
          toDelete.push(pod);
          unavailable++;
        } else break;
      } else if (!available(pod)) {
        break; // an updated pod that is not available yet holds the next one back
      }
    }
  }

  return { create, delete: toDelete, status: statefulSetStatus(set, [...byOrdinal.values()], create, revs, now) };
}

/** The status from the set's pods plus the ones just created (only creates that succeeded count). */
export function statefulSetStatus(set: StatefulSet, pods: readonly Pod[], created: StatefulSetDecision['create'], revs: Revisions, now: Date): StatefulSetStatus {
  const minReady = set.spec.minReadySeconds ?? 0;
  let replicas = 0;
  let ready = 0;
  let avail = 0;
  let current = 0;
  let updated = 0;
  for (const p of pods) {
    replicas++;
    if (isRunningAndReady(p)) {
      ready++;
      if (isPodAvailable(p, minReady, now)) avail++;
    }
    if (isTerminating(p)) continue;
    const rev = p.metadata.labels?.[LABEL_REVISION_HASH];
    if (rev === revs.current) current++;
    if (rev === revs.update) updated++;
  }
  for (const c of created) {
    replicas++;
    if (c.revision === 'current' || revs.current === revs.update) current++;
    if (c.revision === 'update') updated++;
  }
  const status: Mutable<StatefulSetStatus> = {
    ...(set.status ?? {}),
    observedGeneration: set.metadata.generation ?? 0,
    replicas,
    readyReplicas: ready,
    availableReplicas: avail,
    currentReplicas: current,
    updatedReplicas: updated,
    currentRevision: revs.current,
    updateRevision: revs.update,
    collisionCount: set.status?.collisionCount ?? 0,
  };
  const want = set.spec.replicas ?? 1;
  if ((set.spec.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate' && updated === want && ready === want) {
    status.currentRevision = revs.update;
    status.currentReplicas = updated;
  }
  return status;
}

/** The pod for `ordinal` (upstream newVersionedStatefulSetPod): identity labels, hostname, subdomain. */
export function statefulSetPod(set: StatefulSet, template: PodTemplateSpec, revision: string, ordinal: number): Pod {
  const podName = `${set.metadata.name ?? ''}-${ordinal}`;
  const m = template.metadata ?? {};
  const spec = template.spec ?? ({ containers: [] } as unknown as NonNullable<PodTemplateSpec['spec']>);
  const service = set.spec.serviceName ?? '';
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: podName,
      ...(set.metadata.namespace !== undefined ? { namespace: set.metadata.namespace } : {}),
      labels: { ...(m.labels ?? {}), [POD_NAME_LABEL]: podName, [POD_INDEX_LABEL]: String(ordinal), [LABEL_REVISION_HASH]: revision },
      ...(m.annotations !== undefined ? { annotations: { ...m.annotations } } : {}),
      ownerReferences: [controllerRef(set, STS_REF.kind)],
    },
    spec: { ...spec, hostname: podName, ...(service !== '' ? { subdomain: service } : {}) },
  };
}

/** True when the status to write differs from the stored one. */
export function statefulSetStatusChanged(set: StatefulSet, next: StatefulSetStatus): boolean {
  const a = set.status ?? {};
  const keys: (keyof StatefulSetStatus)[] = ['observedGeneration', 'replicas', 'readyReplicas', 'availableReplicas', 'currentReplicas', 'updatedReplicas', 'currentRevision', 'updateRevision', 'collisionCount'];
  return keys.some((k) => (a[k] ?? 0) !== (next[k] ?? 0));
}
