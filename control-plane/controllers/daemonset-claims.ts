/**
 * Pod ownership and in-flight bookkeeping for the DaemonSet controller, as upstream's
 * ControllerRefManager.ClaimPods and ControllerExpectations:
 *   - `planClaims`: pods with our controller reference and matching the selector are ours; an orphan
 *     that matches (and is not being deleted) is adopted; one of ours that no longer matches is
 *     released. Nothing is adopted or released while the DaemonSet is being deleted.
 *   - `Expectations`: creates and deletes issued but not yet seen by the pod informer. Until they are
 *     seen (or 5 minutes pass), a sync does not manage pods, so a lagging cache cannot cause a second
 *     pod on a node.
 */
import type { Pod } from '../../api/core/pod.js';
import type { DaemonSet } from '../../api/apps/daemonset.js';
import type { OwnerReference } from '../../api/meta.js';
import { labelSelectorAsSelector, matches, nothing } from '../../api/labels.js';
import type { Selector } from '../../api/labels.js';

export const controllerOf = (p: { metadata: { ownerReferences?: readonly OwnerReference[] } }): OwnerReference | undefined =>
  p.metadata.ownerReferences?.find((r) => r.controller === true);

export function dsSelector(ds: DaemonSet): Selector {
  try {
    return labelSelectorAsSelector(ds.spec.selector);
  } catch {
    return nothing; // an invalid selector selects nothing (validation keeps them out anyway)
  }
}

export interface Claims {
  /** Ours after this claim: already owned and matching, plus the adopted. */
  readonly owned: readonly Pod[];
  readonly adopt: readonly Pod[];
  readonly release: readonly Pod[];
}

/** `pods`: every pod in the DaemonSet's namespace. */
export function planClaims(ds: DaemonSet, pods: readonly Pod[]): Claims {
  const sel = dsSelector(ds);
  const deleting = ds.metadata.deletionTimestamp !== undefined;
  const owned: Pod[] = [];
  const adopt: Pod[] = [];
  const release: Pod[] = [];
  for (const p of pods) {
    if (p.metadata.namespace !== ds.metadata.namespace) continue;
    const ref = controllerOf(p);
    const match = matches(sel, p.metadata.labels);
    if (ref !== undefined) {
      if (ref.uid !== ds.metadata.uid) continue;
      if (match) owned.push(p);
      else if (!deleting) release.push(p);
    } else if (match && !deleting && p.metadata.deletionTimestamp === undefined) {
      adopt.push(p);
      owned.push(p);
    }
  }
  return { owned, adopt, release };
}

const EXPECTATIONS_TIMEOUT_MS = 5 * 60_000;

interface Pending {
  adds: number;
  readonly deletes: Set<string>;
  readonly atMs: number;
}

export class Expectations {
  private readonly pending = new Map<string, Pending>();

  expect(key: string, adds: number, deletes: readonly string[], nowMs: number): void {
    if (adds === 0 && deletes.length === 0) {
      this.pending.delete(key);
      return;
    }
    this.pending.set(key, { adds, deletes: new Set(deletes), atMs: nowMs });
  }

  creationObserved(key: string): void {
    const p = this.pending.get(key);
    if (p !== undefined) p.adds--;
  }

  /** A create that failed or was skipped will not be observed. */
  creationsSkipped(key: string, n: number): void {
    const p = this.pending.get(key);
    if (p !== undefined) p.adds -= n;
  }

  deletionObserved(key: string, podKey: string): void {
    this.pending.get(key)?.deletes.delete(podKey);
  }

  satisfied(key: string, nowMs: number): boolean {
    const p = this.pending.get(key);
    return p === undefined || (p.adds <= 0 && p.deletes.size === 0) || nowMs - p.atMs > EXPECTATIONS_TIMEOUT_MS;
  }

  forget(key: string): void {
    this.pending.delete(key);
  }
}
