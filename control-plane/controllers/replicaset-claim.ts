/**
 * Ownership by selector, as upstream's ControllerRefManager does it (pkg/controller/controller_ref_manager.go):
 * a controller (ReplicaSet over pods, Deployment over ReplicaSets) claims the objects it selects.
 *   - owned by another controller: never touched;
 *   - owned by us and still selected: ours;
 *   - owned by us but no longer selected: released (our ownerReference removed), unless we are being
 *     deleted (the garbage collector is about to act);
 *   - orphan, selected, neither side being deleted, same namespace: adopted (a controller
 *     ownerReference added), and ours from then on.
 * `planClaim` is the pure decision; the patches are strategic merge patches keyed by uid, as upstream
 * sends them, carrying the object's uid so they cannot land on a namesake created since.
 */
import type { KubeObject, OwnerReference } from '../../api/meta.js';

export interface ClaimPlan<T extends KubeObject> {
  /** Already ours and selected. */
  readonly owned: readonly T[];
  /** Orphans to adopt; ours once the patch succeeded. */
  readonly adopt: readonly T[];
  /** Ours but not selected any more. */
  readonly release: readonly T[];
}

/** The ownerReference with controller: true, or undefined (upstream GetControllerOf). */
export function controllerRefOf(obj: KubeObject): OwnerReference | undefined {
  return obj.metadata.ownerReferences?.find((r) => r.controller === true);
}

/** The reference a controller puts on what it creates or adopts (upstream NewControllerRef). */
export function controllerRefTo(owner: KubeObject, apiVersion: string, kind: string): OwnerReference {
  return { apiVersion, kind, name: owner.metadata.name ?? '', uid: owner.metadata.uid ?? '', controller: true, blockOwnerDeletion: true };
}

export function planClaim<T extends KubeObject>(owner: KubeObject, objects: readonly T[], selected: (obj: T) => boolean): ClaimPlan<T> {
  const owned: T[] = [];
  const adopt: T[] = [];
  const release: T[] = [];
  const ownerDeleting = owner.metadata.deletionTimestamp !== undefined;
  for (const obj of objects) {
    const ref = controllerRefOf(obj);
    if (ref !== undefined) {
      if (ref.uid !== owner.metadata.uid) continue;
      if (selected(obj)) owned.push(obj);
      else if (!ownerDeleting) release.push(obj);
      continue;
    }
    if (ownerDeleting || !selected(obj)) continue;
    if (obj.metadata.deletionTimestamp !== undefined) continue;
    if ((obj.metadata.namespace ?? '') !== (owner.metadata.namespace ?? '')) continue;
    adopt.push(obj);
  }
  return { owned, adopt, release };
}

/** Strategic merge patch adding `ref` to the ownerReferences of the object with uid `uid`. */
export function adoptPatch(ref: OwnerReference, uid: string): unknown {
  return { metadata: { ownerReferences: [ref], uid } };
}

/** Strategic merge patch removing the ownerReference to `ownerUid` from the object with uid `uid`. */
export function releasePatch(ownerUid: string, uid: string): unknown {
  return { metadata: { ownerReferences: [{ $patch: 'delete', uid: ownerUid }], uid } };
}
