/**
 * NamespaceLifecycle, as upstream's admission plugin: namespaced objects can only be created in a
 * namespace that exists and is not terminating; the system namespaces cannot be deleted.
 */
import type { KubeObject } from '../../../api/meta.js';
import type { AdmissionContext, AdmissionPlugin, AdmitResult } from '../admission.js';
import { ApiError, forbidden, notFound } from '../errors.js';
import type { ResourceEntry } from '../resource-table.js';

export const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'] as const;
/** Namespaces upstream never lets anyone delete. */
const IMMORTAL_NAMESPACES: ReadonlySet<string> = new Set(['default', 'kube-system', 'kube-public']);

export class NamespaceLifecycle implements AdmissionPlugin {
  readonly name = 'NamespaceLifecycle';
  constructor(private readonly namespaces: () => ResourceEntry) {}

  async admitCreate(ctx: AdmissionContext, obj: KubeObject): Promise<AdmitResult | undefined> {
    if (!ctx.entry.def.namespaced) return undefined;
    const ns = obj.metadata.namespace ?? '';
    let namespace: KubeObject;
    try {
      namespace = await ctx.registry.get(this.namespaces(), undefined, ns);
    } catch (err) {
      if (err instanceof ApiError && err.httpCode === 404) throw notFound({ group: '', resource: 'namespaces' }, ns);
      throw err;
    }
    if (namespace.metadata.deletionTimestamp !== undefined) {
      const message = `${ctx.entry.def.plural} "${obj.metadata.name ?? ''}" is forbidden: unable to create new content in namespace ${ns} because it is being terminated`;
      // upstream's cause, which controllers check to stop retrying creates into a dying namespace
      throw new ApiError(403, 'Forbidden', message, {
        name: obj.metadata.name ?? '',
        kind: ctx.entry.def.plural,
        causes: [{ reason: 'NamespaceTerminating', message: `namespace ${ns} is being terminated`, field: 'metadata.namespace' }],
      });
    }
    return undefined;
  }

  async admitDelete(ctx: AdmissionContext, obj: KubeObject): Promise<void> {
    if (ctx.entry.def.group !== '' || ctx.entry.def.plural !== 'namespaces') return;
    const name = obj.metadata.name ?? '';
    if (IMMORTAL_NAMESPACES.has(name)) throw forbidden(`namespaces "${name}" is forbidden: this namespace may not be deleted`);
  }
}
