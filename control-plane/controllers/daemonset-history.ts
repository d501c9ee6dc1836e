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
 * The StatefulSet controller keeps its history the same way (its pods carry the revision's name).
 */
import type { ControllerRevision } from '../../api/apps/controllerrevision.js';
import type { OwnerReference } from '../../api/meta.js';
import type { KubeClient } from '../../lib/client/client.js';
import { isAlreadyExists, isNotFound } from '../../lib/client/errors.js';
import { resources } from '../../lib/client/resource.js';
import type { TemplateOwner } from './daemonset-pods.js';
import { canonicalJson, controllerRef, LABEL_REVISION_HASH } from './daemonset-pods.js';

export const DEFAULT_REVISION_HISTORY_LIMIT = 10;

export interface HistoryPlan {
  /** The name of the revision holding the current template (to be created, or existing). */
  readonly current: string;
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
export function holdsTemplate(r: ControllerRevision, ds: TemplateOwner): boolean {
  return canonicalJson(r.data) === canonicalJson(revisionData(ds));
}

/** The patch that restores the DaemonSet's current template. */
export function revisionData(ds: TemplateOwner): unknown {
  return { spec: { template: { ...ds.spec.template, $patch: 'replace' } } };
}

/** The revisions this DaemonSet controls. */
export function ownedRevisions(ds: TemplateOwner, all: readonly ControllerRevision[]): ControllerRevision[] {
  return all.filter((r) => r.metadata.namespace === ds.metadata.namespace && (r.metadata.ownerReferences ?? []).some((o) => o.controller === true && o.uid === ds.metadata.uid));
}

/** `owned`: ownedRevisions; `hash`: the current template's hash; `liveHashes`: the hashes pods carry. */
export function planHistory(ds: TemplateOwner, owned: readonly ControllerRevision[], hash: string, liveHashes: ReadonlySet<string>, ref: OwnerReference = controllerRef(ds)): HistoryPlan {
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
        ownerReferences: [ref],
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
  // a negative limit keeps every revision (upstream's StatefulSet warns about it, nothing else)
  const excess = limit < 0 ? 0 : Math.max(0, old.length - limit);
  return {
    current: current?.metadata.name ?? name,
    ...(create !== undefined ? { create } : {}),
    ...(renumber !== undefined ? { renumber } : {}),
    delete: old.slice(0, excess).map((r) => r.metadata.name ?? ''),
  };
}

/**
 * Carries out a history plan: creates, renumbers and prunes the owner's ControllerRevisions. A revision
 * of the new name that exists already is our own create the cache has not shown yet, or one left by an
 * owner deleted with --cascade=orphan: an orphan holding this template is adopted (upstream claims
 * orphans too); anything else is left alone.
 */
export async function applyHistoryPlan(client: Pick<KubeClient, 'create' | 'get' | 'patch' | 'delete'>, owner: TemplateOwner, plan: HistoryPlan, ref: OwnerReference): Promise<void> {
  const namespace = owner.metadata.namespace ?? 'default';
  if (plan.create !== undefined) {
    try {
      await client.create<ControllerRevision>(resources.controllerRevisions, plan.create, { namespace });
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
      const name = plan.create.metadata.name ?? '';
      const existing = await client.get<ControllerRevision>(resources.controllerRevisions, name, { namespace });
      const ownerRef = (existing.metadata.ownerReferences ?? []).find((o) => o.controller === true);
      if (ownerRef === undefined && holdsTemplate(existing, owner)) {
        await client.patch(
          resources.controllerRevisions,
          name,
          { metadata: { ownerReferences: [...(existing.metadata.ownerReferences ?? []), ref], resourceVersion: existing.metadata.resourceVersion } },
          { type: 'merge', namespace },
        );
      }
    }
  }
  if (plan.renumber !== undefined) {
    await client.patch(resources.controllerRevisions, plan.renumber.name, { revision: plan.renumber.revision }, { type: 'merge', namespace });
  }
  for (const name of plan.delete) {
    try {
      await client.delete(resources.controllerRevisions, name, { namespace });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}
