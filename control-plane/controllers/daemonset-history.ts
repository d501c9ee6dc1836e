/**
 * A DaemonSet's history as ControllerRevisions (upstream pkg/controller/daemon/update.go
 * constructHistory + cleanupHistory), pure: what `kubectl rollout history|undo daemonset` reads.
 *
 *   - the current template has a revision named `<ds>-<controller-revision-hash>` (the name cut to
 *     223 characters, as upstream), whose `data` is the
 *     strategic merge patch that puts that template back (`{"spec":{"template":{..., "$patch":
 *     "replace"}}}`, what kubectl's rollback sends as is), labelled with the template's labels and the
 *     hash, annotated with the DaemonSet's annotations (so CHANGE-CAUSE shows), owned by the DaemonSet;
 *   - its `revision` is one more than the highest so far; when the template comes back to an older one
 *     (a rollback), that revision is renumbered to the top instead of a new one being made;
 *   - beyond `spec.revisionHistoryLimit` (default 10) old revisions, the oldest go, except those whose
 *     hash a pod still carries.
 */
import type { ControllerRevision } from '../../api/apps/controllerrevision.js';
import type { DaemonSet } from '../../api/apps/daemonset.js';
import { canonicalJson, controllerRef, LABEL_REVISION_HASH } from './daemonset-pods.js';

export const DEFAULT_REVISION_HISTORY_LIMIT = 10;

export interface HistoryPlan {
  readonly create?: ControllerRevision;
  /** An existing revision to renumber (rollback to its template). */
  readonly renumber?: { readonly name: string; readonly revision: number };
  /** Names of revisions to delete. */
  readonly delete: readonly string[];
}

/** Upstream's ControllerRevisionName: the owner's name cut to 223 characters, a dash, the hash. */
export function revisionName(owner: string, hash: string): string {
  return `${owner.slice(0, 223)}-${hash}`;
}

/** Whether `r` holds `ds`'s current template (its data is the same patch). */
export function holdsTemplate(r: ControllerRevision, ds: DaemonSet): boolean {
  return canonicalJson(r.data) === canonicalJson(revisionData(ds));
}

/** The patch that restores the DaemonSet's current template. */
export function revisionData(ds: DaemonSet): unknown {
  return { spec: { template: { ...ds.spec.template, $patch: 'replace' } } };
}

/** The revisions this DaemonSet controls. */
export function ownedRevisions(ds: DaemonSet, all: readonly ControllerRevision[]): ControllerRevision[] {
  return all.filter((r) => r.metadata.namespace === ds.metadata.namespace && (r.metadata.ownerReferences ?? []).some((o) => o.controller === true && o.uid === ds.metadata.uid));
}

/** `owned`: ownedRevisions; `hash`: the current template's hash; `liveHashes`: the hashes pods carry. */
export function planHistory(ds: DaemonSet, owned: readonly ControllerRevision[], hash: string, liveHashes: ReadonlySet<string>): HistoryPlan {
  const name = revisionName(ds.metadata.name ?? '', hash);
  const current = owned.find((r) => r.metadata.name === name) ?? owned.find((r) => holdsTemplate(r, ds));
  const max = owned.reduce((m, r) => Math.max(m, r.revision), 0);
  let create: ControllerRevision | undefined;
  let renumber: HistoryPlan['renumber'];
  if (current === undefined) {
    create = {
      apiVersion: 'apps/v1',
      kind: 'ControllerRevision',
      metadata: {
        name,
        namespace: ds.metadata.namespace ?? 'default',
        labels: { ...(ds.spec.template.metadata?.labels ?? {}), [LABEL_REVISION_HASH]: hash },
        ...(ds.metadata.annotations !== undefined ? { annotations: { ...ds.metadata.annotations } } : {}),
        ownerReferences: [controllerRef(ds)],
      },
      data: revisionData(ds),
      revision: max + 1,
    };
  } else if (current.revision < max) {
    renumber = { name: current.metadata.name ?? '', revision: max + 1 };
  }
  const limit = ds.spec.revisionHistoryLimit ?? DEFAULT_REVISION_HISTORY_LIMIT;
  const old = owned
    .filter((r) => r !== current && !liveHashes.has(r.metadata.labels?.[LABEL_REVISION_HASH] ?? ''))
    .sort((a, b) => a.revision - b.revision);
  const excess = Math.max(0, old.length - limit);
  return { ...(create !== undefined ? { create } : {}), ...(renumber !== undefined ? { renumber } : {}), delete: old.slice(0, excess).map((r) => r.metadata.name ?? '') };
}
