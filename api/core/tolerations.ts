/**
 * Which tolerations tolerate which taints: upstream's `Toleration.ToleratesTaint`,
 * `GetMatchingTolerations` (first match) and `FindMatchingUntoleratedTaint`. Shared by every taint
 * reader: the scheduler's filters and scores, the taint manager, the DaemonSet controller. Pure.
 */
import type { Taint, Toleration } from './scheduling.js';

/** An empty key with Exists tolerates every taint (of its effect); an empty effect matches every effect. */
export function toleratesTaint(t: Toleration, taint: Taint): boolean {
  if (t.effect !== undefined && (t.effect as string) !== '' && t.effect !== taint.effect) return false;
  if (t.key !== undefined && t.key !== '' && t.key !== taint.key) return false;
  switch (t.operator ?? 'Equal') {
    case 'Exists':
      return true;
    case 'Equal':
      return (t.value ?? '') === (taint.value ?? '');
    default:
      return false;
  }
}

/** The first toleration that tolerates `taint`. */
export function matchingToleration(tolerations: readonly Toleration[] | undefined, taint: Taint): Toleration | undefined {
  return (tolerations ?? []).find((t) => toleratesTaint(t, taint));
}

/** The first taint passing `filter` that no toleration tolerates. */
export function findUntoleratedTaint(
  taints: readonly Taint[] | undefined,
  tolerations: readonly Toleration[] | undefined,
  filter: (t: Taint) => boolean = () => true,
): Taint | undefined {
  return (taints ?? []).find((taint) => filter(taint) && matchingToleration(tolerations, taint) === undefined);
}
