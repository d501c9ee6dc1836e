/**
 * Node selection rules (pure): spec.nodeSelector, required node affinity (terms ORed, the expressions
 * and fields of one term ANDed, an empty term matching nothing) and the weight of matching preferred
 * terms, as upstream's component-helpers nodeaffinity package defines them. Operators: In, NotIn,
 * Exists, DoesNotExist, Gt, Lt (integers compared; a value that is not an integer matches nothing);
 * matchFields knows only `metadata.name` with In / NotIn, as upstream.
 */
import type { NodeSelector, NodeSelectorRequirement, NodeSelectorTerm, PreferredSchedulingTerm } from '../../api/core/scheduling.js';

const INTEGER = /^-?\d+$/;

export function requirementMatches(r: NodeSelectorRequirement, value: string | undefined): boolean {
  switch (r.operator) {
    case 'In':
      return value !== undefined && (r.values ?? []).includes(value);
    case 'NotIn':
      return value === undefined || !(r.values ?? []).includes(value);
    case 'Exists':
      return value !== undefined;
    case 'DoesNotExist':
      return value === undefined;
    case 'Gt':
    case 'Lt': {
      const want = r.values?.[0];
      if (value === undefined || want === undefined || (r.values ?? []).length !== 1 || !INTEGER.test(value) || !INTEGER.test(want)) return false;
      const have = Number(value);
      return r.operator === 'Gt' ? have > Number(want) : have < Number(want);
    }
    default: {
      const never: never = r.operator;
      void never;
      return false;
    }
  }
}

export function termMatches(term: NodeSelectorTerm, labels: Readonly<Record<string, string>>, nodeName: string): boolean {
  const exprs = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (exprs.length === 0 && fields.length === 0) return false;
  for (const r of exprs) if (!requirementMatches(r, labels[r.key])) return false;
  for (const r of fields) {
    if (r.key !== 'metadata.name' || (r.operator !== 'In' && r.operator !== 'NotIn')) return false;
    if (!requirementMatches(r, nodeName)) return false;
  }
  return true;
}

export function nodeSelectorMatches(sel: NodeSelector, labels: Readonly<Record<string, string>>, nodeName: string): boolean {
  for (const t of sel.nodeSelectorTerms) if (termMatches(t, labels, nodeName)) return true;
  return false;
}

/** spec.nodeSelector and required node affinity together (upstream's RequiredNodeAffinity.Match). */
export function podMatchesNode(
  pod: { readonly nodeSelector?: Readonly<Record<string, string>>; readonly requiredNodeAffinity?: NodeSelector },
  labels: Readonly<Record<string, string>>,
  nodeName: string,
): boolean {
  if (pod.nodeSelector !== undefined) {
    for (const k in pod.nodeSelector) if (labels[k] !== pod.nodeSelector[k]) return false;
  }
  if (pod.requiredNodeAffinity !== undefined && !nodeSelectorMatches(pod.requiredNodeAffinity, labels, nodeName)) return false;
  return true;
}

/** Sum of the weights of the preferred terms the node matches (upstream NodeAffinity Score, before normalising). */
export function preferredAffinityWeight(terms: readonly PreferredSchedulingTerm[], labels: Readonly<Record<string, string>>, nodeName: string): number {
  let total = 0;
  for (const t of terms) if (t.weight !== 0 && termMatches(t.preference, labels, nodeName)) total += t.weight;
  return total;
}
