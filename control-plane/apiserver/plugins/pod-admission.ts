/**
 * Pod admission defaults that upstream applies through admission plugins rather than API defaulting:
 * DefaultTolerationSeconds (not-ready/unreachable NoExecute tolerations of 300 s), so that the node
 * lifecycle controller can evict pods from a lost node after that time.
 */
import type { KubeObject } from '../../../api/meta.js';
import { addDefaultTolerations } from '../../../api/core/pod.js';
import type { Pod } from '../../../api/core/pod.js';
import type { AdmissionContext, AdmissionPlugin, AdmitResult } from '../admission.js';

export class PodAdmission implements AdmissionPlugin {
  readonly name = 'DefaultTolerationSeconds';
  constructor(private readonly tolerationSeconds = 300) {}

  async admitCreate(ctx: AdmissionContext, obj: KubeObject): Promise<AdmitResult | undefined> {
    if (ctx.entry.def.group !== '' || ctx.entry.def.plural !== 'pods') return undefined;
    return { obj: addDefaultTolerations(obj as unknown as Pod, this.tolerationSeconds) as unknown as KubeObject };
  }
}
