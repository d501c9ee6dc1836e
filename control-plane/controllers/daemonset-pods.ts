/**
 * DaemonSet pods, pure (upstream pkg/controller/daemon/util and NodeShouldRunDaemonPod):
 *   - which nodes a DaemonSet belongs on: spec.nodeName, nodeSelector, required node affinity, and the
 *     node's NoSchedule/NoExecute taints against the template's tolerations PLUS the ones upstream adds
 *     to every daemon pod (not-ready and unreachable NoExecute forever; disk-, memory-, pid-pressure and
 *     unschedulable NoSchedule; network-unavailable for hostNetwork pods). An untolerated NoSchedule taint
 *     keeps new pods off but lets a running one stay; an untolerated NoExecute taint removes it.
 *   - the pod for a node: the template, those tolerations, generateName `<ds>-`, the controller
 *     ownerReference, labels controller-revision-hash and pod-template-generation, and a required node
 *     affinity `matchFields metadata.name In [node]` replacing the template's required terms (already
 *     checked here), so the scheduler binds it there, as upstream since 1.12.
 *   - the revision hash: FNV-1a 32 over the template's canonical JSON (plus the collision count),
 *     spelled with upstream's SafeEncodeString alphabet. It names the template's ControllerRevision
 *     (daemonset-history.ts) and is the pods' controller-revision-hash label.
 */
import type { Node } from '../../api/core/node.js';
import type { Pod, PodSpec, PodTemplateSpec } from '../../api/core/pod.js';
import type { NodeSelectorRequirement, NodeSelectorTerm, Toleration } from '../../api/core/scheduling.js';
import type { DaemonSet } from '../../api/apps/daemonset.js';
import type { ObjectMeta, OwnerReference } from '../../api/meta.js';
import {
  TAINT_DISK_PRESSURE,
  TAINT_MEMORY_PRESSURE,
  TAINT_NETWORK_UNAVAILABLE,
  TAINT_NOT_READY,
  TAINT_PID_PRESSURE,
  TAINT_UNREACHABLE,
  TAINT_UNSCHEDULABLE,
} from './node-lifecycle-taints.js';
import { findUntoleratedTaint } from '../../api/core/tolerations.js';

export const LABEL_REVISION_HASH = 'controller-revision-hash';
export const LABEL_TEMPLATE_GENERATION = 'pod-template-generation';

/** Upstream AddOrUpdateDaemonPodTolerations. */
export function daemonTolerations(hostNetwork: boolean): Toleration[] {
  const exec = (key: string): Toleration => ({ key, operator: 'Exists', effect: 'NoExecute' });
  const sched = (key: string): Toleration => ({ key, operator: 'Exists', effect: 'NoSchedule' });
  return [
    exec(TAINT_NOT_READY),
    exec(TAINT_UNREACHABLE),
    sched(TAINT_DISK_PRESSURE),
    sched(TAINT_MEMORY_PRESSURE),
    sched(TAINT_PID_PRESSURE),
    sched(TAINT_UNSCHEDULABLE),
    ...(hostNetwork ? [sched(TAINT_NETWORK_UNAVAILABLE)] : []),
  ];
}

const sameToleration = (a: Toleration, b: Toleration): boolean =>
  (a.key ?? '') === (b.key ?? '') && (a.operator ?? 'Equal') === (b.operator ?? 'Equal') && (a.value ?? '') === (b.value ?? '') && (a.effect ?? '') === (b.effect ?? '');

/** The template's tolerations with the daemon ones added or replacing the same key/operator/value/effect. */
export function withDaemonTolerations(spec: PodSpec | undefined): Toleration[] {
  const out = [...(spec?.tolerations ?? [])];
  for (const t of daemonTolerations(spec?.hostNetwork === true)) {
    const i = out.findIndex((o) => sameToleration(o, t));
    if (i >= 0) out[i] = t;
    else out.push(t);
  }
  return out;
}

function requirementMatches(r: NodeSelectorRequirement, value: string | undefined): boolean {
  const values = r.values ?? [];
  switch (r.operator) {
    case 'In':
      return value !== undefined && values.includes(value);
    case 'NotIn':
      return value === undefined || !values.includes(value);
    case 'Exists':
      return value !== undefined;
    case 'DoesNotExist':
      return value === undefined;
    case 'Gt':
    case 'Lt': {
      if (value === undefined || values.length !== 1 || !/^-?\d+$/.test(value) || !/^-?\d+$/.test(values[0] ?? '')) return false;
      const have = BigInt(value);
      const want = BigInt(values[0] ?? '0');
      return r.operator === 'Gt' ? have > want : have < want;
    }
    default:
      return false;
  }
}

/** A term with no requirements selects nothing (upstream nodeaffinity). Fields: metadata.name only. */
function termMatches(term: NodeSelectorTerm, node: Node): boolean {
  const exprs = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (exprs.length + fields.length === 0) return false;
  const labels = node.metadata.labels ?? {};
  return (
    exprs.every((r) => requirementMatches(r, labels[r.key])) &&
    fields.every((r) => r.key === 'metadata.name' && requirementMatches(r, node.metadata.name))
  );
}

/** Upstream GetRequiredNodeAffinity(pod).Match(node): nodeSelector AND any required term. */
export function nodeMatchesPodSpec(spec: PodSpec | undefined, node: Node): boolean {
  const labels = node.metadata.labels ?? {};
  for (const [k, v] of Object.entries(spec?.nodeSelector ?? {})) if (labels[k] !== v) return false;
  const required = spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  if (required === undefined) return true;
  return required.nodeSelectorTerms.some((t) => termMatches(t, node));
}

export interface NodePlacement {
  /** A daemon pod should be created here if none is. */
  readonly shouldRun: boolean;
  /** A daemon pod already here may stay. */
  readonly shouldContinueRunning: boolean;
}

/** Upstream NodeShouldRunDaemonPod. */
export function nodeShouldRunDaemonPod(ds: DaemonSet, node: Node): NodePlacement {
  const spec = ds.spec.template.spec;
  const no = { shouldRun: false, shouldContinueRunning: false };
  if (spec?.nodeName && spec.nodeName !== node.metadata.name) return no;
  if (!nodeMatchesPodSpec(spec, node)) return no;
  const tolerations = withDaemonTolerations(spec);
  const blocking = findUntoleratedTaint(node.spec?.taints, tolerations, (t) => t.effect === 'NoSchedule' || t.effect === 'NoExecute');
  if (blocking === undefined) return { shouldRun: true, shouldContinueRunning: true };
  const evicting = findUntoleratedTaint(node.spec?.taints, tolerations, (t) => t.effect === 'NoExecute');
  return { shouldRun: false, shouldContinueRunning: evicting === undefined };
}

/** The node a daemon pod is for: spec.nodeName, or before binding, its matchFields metadata.name (upstream GetTargetNodeName). */
export function daemonPodNode(pod: Pod): string | undefined {
  if (pod.spec.nodeName) return pod.spec.nodeName;
  for (const term of pod.spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? []) {
    for (const f of term.matchFields ?? []) {
      if (f.key === 'metadata.name' && f.operator === 'In' && f.values?.length === 1) return f.values[0];
    }
  }
  return undefined;
}

/** JSON with object keys sorted, so the hash does not depend on the order a server wrote them in. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonicalJson(x)}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

const SAFE_ALPHANUMS = 'bcdfghjklmnpqrstvwxz2456789';

/** What a workload keeping a history of its pod template has (DaemonSet, StatefulSet). */
export interface TemplateOwner {
  readonly metadata: ObjectMeta;
  readonly spec: { readonly template: PodTemplateSpec; readonly revisionHistoryLimit?: number };
  readonly status?: { readonly collisionCount?: number };
}

/** The controller-revision-hash of a workload's template (see the note at the top). */
export function templateHash(ds: TemplateOwner): string {
  const text = canonicalJson(ds.spec.template) + (ds.status?.collisionCount !== undefined ? `#${ds.status.collisionCount}` : '');
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  // upstream: rand.SafeEncodeString(fmt.Sprint(hash)), one alphabet letter per decimal digit byte
  return [...String(h)].map((c) => SAFE_ALPHANUMS[c.charCodeAt(0) % SAFE_ALPHANUMS.length]).join('');
}

export function controllerRef(ds: Pick<TemplateOwner, 'metadata'>, kind = 'DaemonSet'): OwnerReference {
  return { apiVersion: 'apps/v1', kind, name: ds.metadata.name ?? '', uid: ds.metadata.uid ?? '', controller: true, blockOwnerDeletion: true };
}

/** The pod to create for `nodeName` (upstream CreatePodTemplate + ReplaceDaemonSetPodNodeNameNodeAffinity). */
export function newDaemonPod(ds: DaemonSet, nodeName: string, hash: string): Pod {
  const tmpl = ds.spec.template;
  const spec = tmpl.spec ?? ({ containers: [] } as unknown as PodSpec);
  const nameTerm: NodeSelectorTerm = { matchFields: [{ key: 'metadata.name', operator: 'In', values: [nodeName] }] };
  const affinity = spec.affinity ?? {};
  const nodeAffinity = affinity.nodeAffinity ?? {};
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      ...(tmpl.metadata?.annotations !== undefined ? { annotations: tmpl.metadata.annotations } : {}),
      generateName: `${ds.metadata.name ?? ''}-`,
      namespace: ds.metadata.namespace ?? 'default',
      labels: {
        ...(tmpl.metadata?.labels ?? {}),
        [LABEL_REVISION_HASH]: hash,
        ...(ds.metadata.generation !== undefined ? { [LABEL_TEMPLATE_GENERATION]: String(ds.metadata.generation) } : {}),
      },
      ownerReferences: [controllerRef(ds)],
    },
    spec: {
      ...spec,
      tolerations: withDaemonTolerations(spec),
      affinity: { ...affinity, nodeAffinity: { ...nodeAffinity, requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [nameTerm] } } },
    },
  };
}

/** Upstream IsPodUpdated: the hash label matches, or the template generation label does. */
export function isPodUpdated(pod: Pod, hash: string, generation: number | undefined): boolean {
  const labels = pod.metadata.labels ?? {};
  return labels[LABEL_REVISION_HASH] === hash || (generation !== undefined && labels[LABEL_TEMPLATE_GENERATION] === String(generation));
}

export function isPodReady(pod: Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
}

/** Ready for at least minReadySeconds (upstream IsPodAvailable). */
export function isPodAvailable(pod: Pod, minReadySeconds: number, nowMs: number): boolean {
  const ready = pod.status?.conditions?.find((c) => c.type === 'Ready' && c.status === 'True');
  if (ready === undefined) return false;
  if (minReadySeconds <= 0) return true;
  const since = ready.lastTransitionTime !== undefined ? Date.parse(ready.lastTransitionTime) : Number.NaN;
  return !Number.isNaN(since) && since + minReadySeconds * 1000 <= nowMs;
}

/** Upstream podByCreationTimestampAndPhase: bound pods first, then oldest, then by name. */
export function compareDaemonPods(a: Pod, b: Pod): number {
  const ab = a.spec.nodeName ? 0 : 1;
  const bb = b.spec.nodeName ? 0 : 1;
  if (ab !== bb) return ab - bb;
  const ta = a.metadata.creationTimestamp ?? '';
  const tb = b.metadata.creationTimestamp ?? '';
  if (ta !== tb) return (Date.parse(ta) || 0) - (Date.parse(tb) || 0);
  return (a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : (a.metadata.name ?? '') > (b.metadata.name ?? '') ? 1 : 0;
}
