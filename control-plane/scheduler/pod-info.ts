/**
 * What the scheduler needs from a Pod, computed once per pod (pure): its resource requests as plain
 * numbers (millicores, bytes, counts), the "non-zero" requests scoring uses, host ports, the owner to
 * spread by, tolerations, node selector and affinity, compiled pod (anti-)affinity terms and topology
 * spread constraints. Filters
 * and scores then run over these numbers per node without parsing a quantity or a selector again.
 *
 * Requests follow upstream's PodRequests: the sum over regular containers plus restartable init
 * containers (sidecars), or the largest init container step if that is higher, plus spec.overhead.
 * Non-zero requests (upstream's DefaultMilliCPURequest / DefaultMemoryRequest) give a container that
 * requests nothing 100m cpu and 200 MiB memory, so that best-effort pods still spread when scoring.
 */
import type { Container, Pod } from '../../api/core/pod.js';
import type { NodeSelector, PodAffinityTerm, PreferredSchedulingTerm, Toleration } from '../../api/core/scheduling.js';
import type { Selector } from '../../api/labels.js';
import { labelSelectorAsSelector, nothing } from '../../api/labels.js';
import { quantityMilliValue, quantityValue, tryParseQuantity } from '../../api/quantity.js';
import type { SpreadConstraint } from './topology-spread.js';
import { compileSpreadConstraints } from './topology-spread.js';

export const DEFAULT_MILLI_CPU_REQUEST = 100;
export const DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024;

/** Requests of one pod: cpu in millicores, memory and ephemeral storage in bytes, other resources in units. */
export interface ResourceRequest {
  readonly milliCPU: number;
  readonly memory: number;
  readonly ephemeralStorage: number;
  /** Extended resources and hugepages, by name (only those > 0). */
  readonly scalar: ReadonlyMap<string, number>;
}

export interface HostPort {
  readonly protocol: string;
  readonly port: number;
  /** '0.0.0.0' when unset: every address. */
  readonly ip: string;
}

export interface AffinityTerm {
  readonly selector: Selector;
  /** Namespaces named by the term (or the pod's own when neither namespaces nor namespaceSelector is set). */
  readonly namespaces: ReadonlySet<string>;
  /** A namespace whose labels match this also counts; undefined: none. */
  readonly namespaceSelector?: Selector;
  readonly topologyKey: string;
}

export interface PodInfo {
  /** `namespace/name`. */
  readonly key: string;
  readonly pod: Pod;
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly requests: ResourceRequest;
  readonly nonZeroMilliCPU: number;
  readonly nonZeroMemory: number;
  readonly hostPorts: readonly HostPort[];
  /** The UID of the controller owner (ownerReferences[controller=true]), if any. */
  readonly ownerUID?: string;
  readonly tolerations: readonly Toleration[];
  readonly nodeSelector?: Readonly<Record<string, string>>;
  readonly requiredNodeAffinity?: NodeSelector;
  readonly preferredNodeAffinity: readonly PreferredSchedulingTerm[];
  readonly requiredAffinity: readonly AffinityTerm[];
  readonly requiredAntiAffinity: readonly AffinityTerm[];
  /** Compiled topologySpreadConstraints (topology-spread.ts). */
  readonly spreadConstraints: readonly SpreadConstraint[];
  readonly priority: number;
  readonly preemptionNever: boolean;
}

type Totals = { cpu: number; mem: number; eph: number; nzCpu: number; nzMem: number; scalar: Map<string, number> };

const emptyTotals = (): Totals => ({ cpu: 0, mem: 0, eph: 0, nzCpu: 0, nzMem: 0, scalar: new Map() });

function containerTotals(c: Container): Totals {
  const t = emptyTotals();
  const req = c.resources?.requests;
  if (req === undefined) {
    t.nzCpu = DEFAULT_MILLI_CPU_REQUEST;
    t.nzMem = DEFAULT_MEMORY_REQUEST;
    return t;
  }
  let cpuSet = false;
  let memSet = false;
  for (const [name, text] of Object.entries(req)) {
    const q = tryParseQuantity(text);
    if (q === undefined) continue;
    switch (name) {
      case 'cpu':
        t.cpu = quantityMilliValue(q);
        cpuSet = true;
        break;
      case 'memory':
        t.mem = quantityValue(q);
        memSet = true;
        break;
      case 'ephemeral-storage':
        t.eph = quantityValue(q);
        break;
      default: {
        const v = quantityValue(q);
        if (v > 0) t.scalar.set(name, v);
      }
    }
  }
  // upstream: an explicit zero stays zero for scoring too; only an absent request gets the default
  t.nzCpu = cpuSet ? t.cpu : DEFAULT_MILLI_CPU_REQUEST;
  t.nzMem = memSet ? t.mem : DEFAULT_MEMORY_REQUEST;
  return t;
}

function addInto(into: Totals, t: Totals): void {
  into.cpu += t.cpu;
  into.mem += t.mem;
  into.eph += t.eph;
  into.nzCpu += t.nzCpu;
  into.nzMem += t.nzMem;
  for (const [k, v] of t.scalar) into.scalar.set(k, (into.scalar.get(k) ?? 0) + v);
}

function maxInto(into: Totals, t: Totals): void {
  into.cpu = Math.max(into.cpu, t.cpu);
  into.mem = Math.max(into.mem, t.mem);
  into.eph = Math.max(into.eph, t.eph);
  into.nzCpu = Math.max(into.nzCpu, t.nzCpu);
  into.nzMem = Math.max(into.nzMem, t.nzMem);
  for (const [k, v] of t.scalar) into.scalar.set(k, Math.max(into.scalar.get(k) ?? 0, v));
}

const sum = (a: Totals, b: Totals): Totals => {
  const t = emptyTotals();
  addInto(t, a);
  addInto(t, b);
  return t;
};

/** Upstream PodRequests (with sidecars) plus overhead, and the non-zero variant for scoring. */
export function computePodRequests(pod: Pod): { requests: ResourceRequest; nonZeroMilliCPU: number; nonZeroMemory: number } {
  const total = emptyTotals();
  for (const c of pod.spec.containers ?? []) addInto(total, containerTotals(c));
  const sidecars = emptyTotals();
  const initPeak = emptyTotals();
  for (const c of pod.spec.initContainers ?? []) {
    const t = containerTotals(c);
    if (c.restartPolicy === 'Always') {
      addInto(sidecars, t);
      maxInto(initPeak, sidecars);
    } else {
      // a regular init container runs next to the sidecars started before it
      maxInto(initPeak, sum(t, sidecars));
    }
  }
  addInto(total, sidecars);
  maxInto(total, initPeak);
  const overhead = pod.spec.overhead;
  if (overhead !== undefined) {
    const o = containerTotals({ name: 'overhead', resources: { requests: overhead } });
    // overhead adds to the non-zero figures only where it is set
    o.nzCpu = o.cpu;
    o.nzMem = o.mem;
    addInto(total, o);
  }
  return {
    requests: { milliCPU: total.cpu, memory: total.mem, ephemeralStorage: total.eph, scalar: total.scalar },
    nonZeroMilliCPU: total.nzCpu,
    nonZeroMemory: total.nzMem,
  };
}

export function computeHostPorts(pod: Pod): HostPort[] {
  const out: HostPort[] = [];
  for (const c of pod.spec.containers ?? []) {
    for (const p of c.ports ?? []) {
      if (p.hostPort === undefined || p.hostPort <= 0) continue;
      out.push({ protocol: p.protocol ?? 'TCP', port: p.hostPort, ip: p.hostIP !== undefined && p.hostIP !== '' ? p.hostIP : '0.0.0.0' });
    }
  }
  return out;
}

function compileTerm(term: PodAffinityTerm, podNamespace: string): AffinityTerm {
  let selector: Selector;
  try {
    selector = labelSelectorAsSelector(term.labelSelector);
  } catch {
    // validation rejects such selectors; one that slipped through selects nothing
    selector = nothing;
  }
  let namespaceSelector: Selector | undefined;
  if (term.namespaceSelector !== undefined) {
    try {
      namespaceSelector = labelSelectorAsSelector(term.namespaceSelector);
    } catch {
      namespaceSelector = undefined;
    }
  }
  const listed = term.namespaces ?? [];
  const namespaces = new Set(listed.length === 0 && term.namespaceSelector === undefined ? [podNamespace] : listed);
  return { selector, namespaces, ...(namespaceSelector !== undefined ? { namespaceSelector } : {}), topologyKey: term.topologyKey };
}

export function controllerOwnerUID(pod: Pod): string | undefined {
  return pod.metadata.ownerReferences?.find((r) => r.controller === true)?.uid;
}

export function computePodInfo(pod: Pod): PodInfo {
  const namespace = pod.metadata.namespace ?? 'default';
  const { requests, nonZeroMilliCPU, nonZeroMemory } = computePodRequests(pod);
  const affinity = pod.spec.affinity;
  const ownerUID = controllerOwnerUID(pod);
  const required = affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  const nodeSelector = pod.spec.nodeSelector;
  return {
    key: `${namespace}/${pod.metadata.name ?? ''}`,
    pod,
    namespace,
    labels: pod.metadata.labels ?? {},
    requests,
    nonZeroMilliCPU,
    nonZeroMemory,
    hostPorts: computeHostPorts(pod),
    ...(ownerUID !== undefined ? { ownerUID } : {}),
    tolerations: pod.spec.tolerations ?? [],
    ...(nodeSelector !== undefined && Object.keys(nodeSelector).length > 0 ? { nodeSelector } : {}),
    ...(required !== undefined ? { requiredNodeAffinity: required } : {}),
    preferredNodeAffinity: affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [],
    requiredAffinity: (affinity?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []).map((t) => compileTerm(t, namespace)),
    requiredAntiAffinity: (affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []).map((t) => compileTerm(t, namespace)),
    spreadConstraints: compileSpreadConstraints(pod.spec.topologySpreadConstraints, pod.metadata.labels ?? {}),
    priority: pod.spec.priority ?? 0,
    preemptionNever: pod.spec.preemptionPolicy === 'Never',
  };
}
