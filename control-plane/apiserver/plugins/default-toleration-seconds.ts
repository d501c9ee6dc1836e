/**
 * The DefaultTolerationSeconds admission plugin (upstream plugin/pkg/admission/defaulttolerationseconds):
 * on Pod create, a pod that does not already tolerate them gets
 *   node.kubernetes.io/not-ready:NoExecute   op=Exists for 300 s (--default-not-ready-toleration-seconds)
 *   node.kubernetes.io/unreachable:NoExecute op=Exists for 300 s (--default-unreachable-toleration-seconds)
 * so that the node lifecycle controller's taint manager evicts it five minutes after its node is lost,
 * and its controller recreates it elsewhere.
 *
 * "Already tolerates", as upstream: a toleration whose key is that taint's key or empty, and whose
 * effect is NoExecute or empty (operator and value are not looked at). Updates and subresources are
 * left alone (tolerations may only be added to a running pod, and that is the user's choice).
 */
import type { KubeObject } from '../../../api/meta.js';
import type { Pod } from '../../../api/core/pod.js';
import type { Toleration } from '../../../api/core/scheduling.js';
import type { AdmissionContext, AdmissionPlugin, AdmitResult } from '../admission.js';

export const TAINT_NODE_NOT_READY = 'node.kubernetes.io/not-ready';
export const TAINT_NODE_UNREACHABLE = 'node.kubernetes.io/unreachable';

export interface DefaultTolerationSecondsOptions {
  readonly notReadySeconds?: number;
  readonly unreachableSeconds?: number;
}

export const DEFAULT_TOLERATION_SECONDS = 300;

function tolerates(tolerations: readonly Toleration[], key: string): boolean {
  return tolerations.some((t) => (t.key === key || !t.key) && (t.effect === 'NoExecute' || !t.effect));
}

/** The pod's tolerations with the defaults it lacks appended, or undefined when it lacks none. */
export function computeDefaultTolerations(tolerations: readonly Toleration[] | undefined, opts: DefaultTolerationSecondsOptions = {}): Toleration[] | undefined {
  const have = tolerations ?? [];
  const added: Toleration[] = [];
  const defaults: Array<[string, number]> = [
    [TAINT_NODE_NOT_READY, opts.notReadySeconds ?? DEFAULT_TOLERATION_SECONDS],
    [TAINT_NODE_UNREACHABLE, opts.unreachableSeconds ?? DEFAULT_TOLERATION_SECONDS],
  ];
  for (const [key, seconds] of defaults) {
    if (!tolerates(have, key)) added.push({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: seconds });
  }
  return added.length === 0 ? undefined : [...have, ...added];
}

export class DefaultTolerationSeconds implements AdmissionPlugin {
  readonly name = 'DefaultTolerationSeconds';

  constructor(private readonly opts: DefaultTolerationSecondsOptions = {}) {}

  async admitCreate(ctx: AdmissionContext, obj: KubeObject): Promise<AdmitResult | undefined> {
    if (ctx.entry.def.group !== '' || ctx.entry.def.plural !== 'pods' || ctx.subresource !== undefined) return undefined;
    const pod = obj as unknown as Pod;
    const tolerations = computeDefaultTolerations(pod.spec?.tolerations, this.opts);
    if (tolerations === undefined) return undefined;
    const next: Pod = { ...pod, spec: { ...pod.spec, tolerations } };
    return { obj: next as unknown as KubeObject };
  }
}
