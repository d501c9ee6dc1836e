/**
 * One node as the scheduler sees it: the Node's allocatable resources, labels and effective taints,
 * plus running totals over the pods bound or assumed on it (requested resources, non-zero requests,
 * pod count, host ports in use, pods per controller owner, pods with required anti-affinity). Filters
 * and scores read these totals, so checking a node costs a few comparisons whatever its pod count;
 * adding or removing a pod updates them in O(its ports + its resources).
 *
 * Effective taints: a node whose conditions say it is not ready (or under pressure) counts as tainted
 * the way upstream's node lifecycle controller would taint it (TaintNodesByCondition, NoSchedule):
 * Ready False -> node.kubernetes.io/not-ready, Ready Unknown or missing -> .../unreachable or
 * .../not-ready, MemoryPressure/DiskPressure/PIDPressure True -> .../memory-pressure etc.,
 * NetworkUnavailable True -> .../network-unavailable. So a pod scheduled here meets the same
 * rule (and FailedScheduling message) as upstream whether or not a lifecycle controller has written the
 * taint yet, and DaemonSet pods that tolerate those taints still land.
 */
import type { Node } from '../../api/core/node.js';
import type { Taint } from '../../api/core/scheduling.js';
import { quantityMilliValue, quantityValue, tryParseQuantity } from '../../api/quantity.js';
import type { PodInfo } from './pod-info.js';

export const TAINT_NOT_READY = 'node.kubernetes.io/not-ready';
export const TAINT_UNREACHABLE = 'node.kubernetes.io/unreachable';
export const TAINT_UNSCHEDULABLE = 'node.kubernetes.io/unschedulable';

const CONDITION_TAINTS: ReadonlyArray<readonly [string, string]> = [
  ['MemoryPressure', 'node.kubernetes.io/memory-pressure'],
  ['DiskPressure', 'node.kubernetes.io/disk-pressure'],
  ['PIDPressure', 'node.kubernetes.io/pid-pressure'],
  ['NetworkUnavailable', 'node.kubernetes.io/network-unavailable'],
];

export interface Allocatable {
  readonly milliCPU: number;
  readonly memory: number;
  readonly ephemeralStorage: number;
  readonly pods: number;
  readonly scalar: ReadonlyMap<string, number>;
}

/** The taints a node's conditions imply (pure). */
export function conditionTaints(node: Node): Taint[] {
  const conditions = node.status?.conditions ?? [];
  const out: Taint[] = [];
  const ready = conditions.find((c) => c.type === 'Ready');
  if (ready === undefined || ready.status === 'False') out.push({ key: TAINT_NOT_READY, effect: 'NoSchedule' });
  else if (ready.status !== 'True') out.push({ key: TAINT_UNREACHABLE, effect: 'NoSchedule' });
  for (const [type, key] of CONDITION_TAINTS) {
    if (conditions.some((c) => c.type === type && c.status === 'True')) out.push({ key, effect: 'NoSchedule' });
  }
  return out;
}

/** Explicit taints plus the implied ones the node does not carry yet. */
export function effectiveTaints(node: Node): Taint[] {
  const explicit = node.spec?.taints ?? [];
  const implied = conditionTaints(node).filter((t) => !explicit.some((e) => e.key === t.key && e.effect === t.effect));
  return [...explicit, ...implied];
}

export function parseAllocatable(node: Node): Allocatable {
  let milliCPU = 0;
  let memory = 0;
  let ephemeralStorage = 0;
  let pods = 0;
  const scalar = new Map<string, number>();
  for (const [name, text] of Object.entries(node.status?.allocatable ?? {})) {
    const q = tryParseQuantity(text);
    if (q === undefined) continue;
    switch (name) {
      case 'cpu':
        milliCPU = quantityMilliValue(q);
        break;
      case 'memory':
        memory = quantityValue(q);
        break;
      case 'ephemeral-storage':
        ephemeralStorage = quantityValue(q);
        break;
      case 'pods':
        pods = quantityValue(q);
        break;
      default:
        scalar.set(name, quantityValue(q));
    }
  }
  return { milliCPU, memory, ephemeralStorage, pods, scalar };
}

const EMPTY_ALLOCATABLE: Allocatable = { milliCPU: 0, memory: 0, ephemeralStorage: 0, pods: 0, scalar: new Map() };

export class NodeInfo {
  node: Node | undefined;
  labels: Readonly<Record<string, string>> = {};
  allocatable: Allocatable = EMPTY_ALLOCATABLE;
  /** NoSchedule and NoExecute taints (explicit and implied), which filter. */
  filterTaints: readonly Taint[] = [];
  /** PreferNoSchedule taints, which only score. */
  preferTaints: readonly Taint[] = [];
  unschedulable = false;

  requestedMilliCPU = 0;
  requestedMemory = 0;
  requestedEphemeral = 0;
  readonly requestedScalar = new Map<string, number>();
  nonZeroMilliCPU = 0;
  nonZeroMemory = 0;
  readonly pods = new Map<string, PodInfo>();
  /** `protocol/port` -> host IP -> pods using it. */
  readonly usedPorts = new Map<string, Map<string, number>>();
  /** controller owner UID -> pods of that owner here. */
  readonly ownerCounts = new Map<string, number>();
  /** Pods here with required anti-affinity terms (they constrain every incoming pod). */
  readonly podsWithRequiredAntiAffinity = new Map<string, PodInfo>();

  constructor(
    readonly name: string,
    node?: Node,
  ) {
    if (node !== undefined) this.setNode(node);
  }

  setNode(node: Node): void {
    this.node = node;
    this.labels = node.metadata.labels ?? {};
    this.allocatable = parseAllocatable(node);
    const taints = effectiveTaints(node);
    this.filterTaints = taints.filter((t) => t.effect === 'NoSchedule' || t.effect === 'NoExecute');
    this.preferTaints = taints.filter((t) => t.effect === 'PreferNoSchedule');
    this.unschedulable = node.spec?.unschedulable === true;
  }

  clearNode(): void {
    this.node = undefined;
  }

  addPod(p: PodInfo): void {
    if (this.pods.has(p.key)) this.removePod(p.key);
    this.pods.set(p.key, p);
    this.requestedMilliCPU += p.requests.milliCPU;
    this.requestedMemory += p.requests.memory;
    this.requestedEphemeral += p.requests.ephemeralStorage;
    for (const [k, v] of p.requests.scalar) this.requestedScalar.set(k, (this.requestedScalar.get(k) ?? 0) + v);
    this.nonZeroMilliCPU += p.nonZeroMilliCPU;
    this.nonZeroMemory += p.nonZeroMemory;
    for (const hp of p.hostPorts) {
      const k = `${hp.protocol}/${hp.port}`;
      let ips = this.usedPorts.get(k);
      if (ips === undefined) this.usedPorts.set(k, (ips = new Map()));
      ips.set(hp.ip, (ips.get(hp.ip) ?? 0) + 1);
    }
    if (p.ownerUID !== undefined) this.ownerCounts.set(p.ownerUID, (this.ownerCounts.get(p.ownerUID) ?? 0) + 1);
    if (p.requiredAntiAffinity.length > 0) this.podsWithRequiredAntiAffinity.set(p.key, p);
  }

  /** Returns false when the pod was not here. */
  removePod(key: string): boolean {
    const p = this.pods.get(key);
    if (p === undefined) return false;
    this.pods.delete(key);
    this.requestedMilliCPU -= p.requests.milliCPU;
    this.requestedMemory -= p.requests.memory;
    this.requestedEphemeral -= p.requests.ephemeralStorage;
    for (const [k, v] of p.requests.scalar) {
      const left = (this.requestedScalar.get(k) ?? 0) - v;
      if (left <= 0) this.requestedScalar.delete(k);
      else this.requestedScalar.set(k, left);
    }
    this.nonZeroMilliCPU -= p.nonZeroMilliCPU;
    this.nonZeroMemory -= p.nonZeroMemory;
    for (const hp of p.hostPorts) {
      const k = `${hp.protocol}/${hp.port}`;
      const ips = this.usedPorts.get(k);
      if (ips === undefined) continue;
      const n = (ips.get(hp.ip) ?? 0) - 1;
      if (n <= 0) ips.delete(hp.ip);
      else ips.set(hp.ip, n);
      if (ips.size === 0) this.usedPorts.delete(k);
    }
    if (p.ownerUID !== undefined) {
      const n = (this.ownerCounts.get(p.ownerUID) ?? 0) - 1;
      if (n <= 0) this.ownerCounts.delete(p.ownerUID);
      else this.ownerCounts.set(p.ownerUID, n);
    }
    this.podsWithRequiredAntiAffinity.delete(p.key);
    return true;
  }

  /** A pod wanting `hp` conflicts when the same protocol/port is used on the same IP, or either side binds every IP. */
  portInUse(hp: { protocol: string; port: number; ip: string }): boolean {
    const ips = this.usedPorts.get(`${hp.protocol}/${hp.port}`);
    if (ips === undefined) return false;
    if (hp.ip === '0.0.0.0') return ips.size > 0;
    return ips.has(hp.ip) || ips.has('0.0.0.0');
  }
}
