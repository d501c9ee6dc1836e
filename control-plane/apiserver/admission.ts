/**
 * Admission: the steps between decoding and storing that need more than the object itself
 * (does the namespace exist, which ClusterIP is free, which default tolerations apply).
 * Each plugin may mutate, refuse with an ApiError, reserve something (undo on a failed write),
 * and act after a successful write or delete. Plugins run in order; undos run in reverse.
 */
import type { KubeObject } from '../../api/meta.js';
import type { Registry } from './registry.js';
import type { RequestUser, ResourceEntry } from './resource-table.js';

export interface AdmissionContext {
  readonly entry: ResourceEntry;
  readonly registry: Registry;
  readonly dryRun: boolean;
  readonly subresource?: string;
  /** Who writes, when a request does (unset for the control plane's own writes). */
  readonly user?: RequestUser;
}

export interface AdmitResult {
  readonly obj: KubeObject;
  /** Releases reservations when the write does not happen. */
  readonly undo?: () => Promise<void>;
  /** Runs after the write succeeded (e.g. releasing what the old object held). */
  readonly afterCommit?: () => Promise<void>;
}

export interface AdmissionPlugin {
  readonly name: string;
  /** Undefined: nothing to change or hold. */
  admitCreate?(ctx: AdmissionContext, obj: KubeObject): Promise<AdmitResult | undefined>;
  admitUpdate?(ctx: AdmissionContext, obj: KubeObject, old: KubeObject): Promise<AdmitResult | undefined>;
  /** May refuse a delete (throws an ApiError). */
  admitDelete?(ctx: AdmissionContext, obj: KubeObject): Promise<void>;
  afterDelete?(ctx: AdmissionContext, obj: KubeObject): Promise<void>;
}

export class AdmissionChain {
  constructor(private readonly plugins: readonly AdmissionPlugin[]) {}

  admitCreate(ctx: AdmissionContext, obj: KubeObject): Promise<AdmitResult> {
    return this.run(obj, (p, o) => p.admitCreate?.(ctx, o));
  }

  admitUpdate(ctx: AdmissionContext, obj: KubeObject, old: KubeObject): Promise<AdmitResult> {
    return this.run(obj, (p, o) => p.admitUpdate?.(ctx, o, old));
  }

  async admitDelete(ctx: AdmissionContext, obj: KubeObject): Promise<void> {
    for (const p of this.plugins) await p.admitDelete?.(ctx, obj);
  }

  async afterDelete(ctx: AdmissionContext, obj: KubeObject): Promise<void> {
    for (const p of this.plugins) await p.afterDelete?.(ctx, obj);
  }

  private async run(
    obj: KubeObject,
    step: (p: AdmissionPlugin, o: KubeObject) => Promise<AdmitResult | undefined> | undefined,
  ): Promise<AdmitResult> {
    const undos: Array<() => Promise<void>> = [];
    const afters: Array<() => Promise<void>> = [];
    let current = obj;
    try {
      for (const p of this.plugins) {
        const r = await step(p, current);
        if (!r) continue;
        current = r.obj;
        if (r.undo) undos.push(r.undo);
        if (r.afterCommit) afters.push(r.afterCommit);
      }
    } catch (err) {
      for (const u of undos.reverse()) await u();
      throw err;
    }
    return {
      obj: current,
      undo: async () => {
        for (const u of [...undos].reverse()) await u();
      },
      afterCommit: async () => {
        for (const a of afters) await a();
      },
    };
  }
}
