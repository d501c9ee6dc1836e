/**
 * planContainerGC: which dead containers and sandboxes to remove, as upstream's kuberuntime
 * containerGC decides it (GC policy: MinAge 0, MaxPerPodContainer 1, MaxContainers unlimited).
 *
 * Containers (an "evict unit" is a pod UID + container name):
 *  - running containers are never removed here (killing is the pod worker's job);
 *  - containers younger than `minAge` are kept;
 *  - pods that are no longer active (deleted, or gone from the API) lose all their dead containers;
 *  - active pods keep the newest `maxPerPodContainer` dead containers per name, so `kubectl logs
 *    --previous` still has the last run, and lose the older ones.
 * Sandboxes (after the container removals above):
 *  - a sandbox is "active" when ready or still holding containers, and is never removed;
 *  - an active pod keeps its newest sandbox whatever its state (the next sync reuses or replaces it)
 *    and loses older inactive ones; an inactive pod loses every inactive sandbox.
 *
 * Pure: the executor removes what the plan lists (RemoveContainer kills an unknown-state container
 * first, as upstream does before removal).
 *
 * Cost model: O(containers log containers) for the per-unit sort.
 */
import type { RuntimeContainer, RuntimePod } from './types.js';

export interface ContainerGCOptions {
  /** UIDs of pods that exist and are not being removed: their newest containers are kept. */
  readonly activePodUIDs: ReadonlySet<string>;
  /** ms since the epoch */
  readonly now: number;
  /** Dead containers younger than this (ms) are kept. Default 0. */
  readonly minAge?: number;
  /** Dead containers kept per pod and container name; negative means no limit. Default 1. */
  readonly maxPerPodContainer?: number;
}

export interface ContainerGCPlan {
  readonly removeContainers: readonly string[];
  readonly removeSandboxes: readonly string[];
}

export function planContainerGC(runtimePods: ReadonlyMap<string, RuntimePod> | Iterable<RuntimePod>, opts: ContainerGCOptions): ContainerGCPlan {
  const minAge = opts.minAge ?? 0;
  const maxPer = opts.maxPerPodContainer ?? 1;
  const pods: Iterable<RuntimePod> = isMap(runtimePods) ? runtimePods.values() : runtimePods;
  const removeContainers: string[] = [];
  const removeSandboxes: string[] = [];

  for (const pod of pods) {
    const active = opts.activePodUIDs.has(pod.uid);
    const removed = new Set<string>();

    const units = new Map<string, RuntimeContainer[]>();
    for (const c of pod.containers) {
      if (c.state === 'running') continue;
      if (opts.now - c.createdAt < minAge) continue;
      const unit = units.get(c.name) ?? [];
      unit.push(c);
      units.set(c.name, unit);
    }
    for (const unit of units.values()) {
      unit.sort((a, b) => b.createdAt - a.createdAt);
      const keep = !active ? 0 : maxPer < 0 ? unit.length : maxPer;
      for (const c of unit.slice(keep)) {
        removeContainers.push(c.id);
        removed.add(c.id);
      }
    }

    const holding = new Set(pod.containers.filter((c) => !removed.has(c.id)).map((c) => c.sandboxId));
    const sandboxes = [...pod.sandboxes].sort((a, b) => b.createdAt - a.createdAt);
    const candidates = active ? sandboxes.slice(1) : sandboxes;
    for (const s of candidates) {
      if (s.state === 'ready' || holding.has(s.id)) continue;
      removeSandboxes.push(s.id);
    }
  }
  return { removeContainers, removeSandboxes };
}

function isMap(x: ReadonlyMap<string, RuntimePod> | Iterable<RuntimePod>): x is ReadonlyMap<string, RuntimePod> {
  return x instanceof Map;
}
