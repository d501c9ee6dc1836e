/**
 * The Node object a kubelet registers and the status it reports, built from configuration and
 * observations (pure). Upstream's rules:
 * - labels: kubernetes.io/hostname, kubernetes.io/os, kubernetes.io/arch and their beta.* twins, plus
 *   --node-labels; on an existing Node only these are reconciled (updateDefaultLabels);
 * - capacity: cpu, memory (MemTotal), pods, ephemeral-storage (the kubelet root filesystem),
 *   hugepages-<size>; allocatable = capacity - reservations - hard eviction thresholds, never below 0,
 *   with huge pages also taken out of allocatable memory (they cannot back ordinary allocations);
 * - addresses: InternalIP(s) then Hostname; nodeInfo with `<runtime>://<version>`;
 * - Ready is False while any required capacity is missing.
 * The status patch is a strategic merge patch of the status subresource; addresses are replaced whole
 * (`$patch: replace`) because their merge key `type` is not unique on dual-stack nodes.
 */
import type { ResourceList } from '../../api/core/common.js';
import type { Node, NodeAddress, NodeStatus, NodeSystemInfo } from '../../api/core/node.js';
import type { Taint } from '../../api/core/scheduling.js';
import { formatQuantity, parseQuantity, quantityFromInt, subtractQuantities } from '../../api/quantity.js';
import type { Quantity } from '../../api/quantity.js';
import type { RuntimeHandler } from '../cri/types-sandbox.js';
import type { EvictionThresholds, ResolvedNodeConfig } from './config.js';
import {
  ANNOTATION_ATTACH_DETACH,
  DEFAULT_NODE_LABELS,
  LABEL_ARCH,
  LABEL_BETA_ARCH,
  LABEL_BETA_OS,
  LABEL_HOSTNAME,
  LABEL_OS,
  TAINT_UNSCHEDULABLE,
} from './config.js';
import { computeNodeConditions, OWNED_CONDITION_TYPES } from './conditions.js';
import type { MachineInfo } from './host-info.js';
import type { PressureFlags } from './pressure.js';

/** What the runtime said about itself (CRI Version and Status). */
export interface RuntimeFacts {
  readonly runtimeName?: string;
  readonly runtimeVersion?: string;
  readonly handlers?: readonly RuntimeHandler[];
}

export interface NodeStatusInput {
  readonly config: ResolvedNodeConfig;
  readonly machine: MachineInfo;
  readonly runtime: RuntimeFacts;
  /** Runtime and network errors (runtime-health.ts); empty when both are fine. */
  readonly notReadyReasons: readonly string[];
  readonly pressure: PressureFlags;
  readonly now: Date;
}

/** Upstream requires these before a node may be Ready (LocalStorageCapacityIsolation is GA). */
export const REQUIRED_CAPACITY: readonly string[] = ['cpu', 'memory', 'pods', 'ephemeral-storage'];

const binary = (bytes: number): string => formatQuantity(quantityFromInt(bytes, 'BinarySI'));

export function buildNodeLabels(config: ResolvedNodeConfig, machine: MachineInfo): Record<string, string> {
  return {
    ...config.labels,
    [LABEL_HOSTNAME]: config.hostname,
    [LABEL_OS]: 'linux',
    [LABEL_ARCH]: machine.architecture,
    [LABEL_BETA_OS]: 'linux',
    [LABEL_BETA_ARCH]: machine.architecture,
  };
}

export function buildCapacity(machine: MachineInfo, maxPods: number): ResourceList {
  const out: Record<string, string> = {};
  if (machine.cpus > 0) out['cpu'] = String(machine.cpus);
  if (machine.ephemeralStorageBytes !== undefined) out['ephemeral-storage'] = binary(machine.ephemeralStorageBytes);
  for (const [size, bytes] of Object.entries(machine.hugepages)) out[`hugepages-${size}`] = binary(bytes);
  if (machine.memoryBytes > 0) out['memory'] = binary(machine.memoryBytes);
  out['pods'] = String(maxPods);
  return out;
}

/** Upstream's node allocatable: capacity minus kube/system reservations and hard eviction thresholds. */
export function computeAllocatable(capacity: ResourceList, reserved: ResourceList, eviction: EvictionThresholds): ResourceList {
  const out: Record<string, string> = {};
  const clampSub = (a: Quantity, b: Quantity | undefined): Quantity => {
    if (b === undefined) return a;
    const r = subtractQuantities(a, b);
    return r.nanos < 0n ? { nanos: 0n, format: a.format } : r;
  };
  const evictionReservation = (name: string, cap: Quantity): Quantity | undefined => {
    if (name === 'memory') return quantityFromInt(eviction.memoryAvailableBytes, 'BinarySI');
    if (name === 'ephemeral-storage') {
      const bytes = Number(cap.nanos / 1_000_000_000n);
      return quantityFromInt(Math.floor((bytes * eviction.nodefsAvailablePercent) / 100), 'BinarySI');
    }
    return undefined;
  };
  for (const [name, value] of Object.entries(capacity)) {
    const cap = parseQuantity(value);
    const reservedQ = reserved[name] !== undefined ? parseQuantity(reserved[name]) : undefined;
    let q = clampSub(cap, reservedQ);
    if (!name.startsWith('hugepages-')) q = clampSub(q, evictionReservation(name, cap));
    out[name] = formatQuantity(q);
  }
  const memory = out['memory'];
  if (memory !== undefined) {
    let m = parseQuantity(memory);
    for (const [name, value] of Object.entries(capacity)) if (name.startsWith('hugepages-')) m = clampSub(m, parseQuantity(value));
    out['memory'] = formatQuantity(m);
  }
  return out;
}

export function buildAddresses(config: ResolvedNodeConfig): NodeAddress[] {
  return [...config.nodeIPs.map((address): NodeAddress => ({ type: 'InternalIP', address })), { type: 'Hostname', address: config.hostname }];
}

export function buildNodeInfo(config: ResolvedNodeConfig, machine: MachineInfo, runtime: RuntimeFacts, prev?: NodeSystemInfo): NodeSystemInfo {
  const runtimeVersion =
    runtime.runtimeName !== undefined && runtime.runtimeVersion !== undefined
      ? `${runtime.runtimeName}://${runtime.runtimeVersion}`
      : (prev?.containerRuntimeVersion ?? '');
  return {
    machineID: machine.machineID,
    systemUUID: machine.systemUUID,
    bootID: machine.bootID,
    kernelVersion: machine.kernelVersion,
    osImage: machine.osImage,
    containerRuntimeVersion: runtimeVersion,
    kubeletVersion: config.kubeletVersion,
    kubeProxyVersion: config.kubeProxyVersion,
    operatingSystem: 'linux',
    architecture: machine.architecture,
  };
}

/** The full kubelet-owned status on top of `prev` (fields owned by others are kept). */
export function buildNodeStatus(prev: NodeStatus | undefined, input: NodeStatusInput): NodeStatus {
  const { config, machine } = input;
  const capacity = buildCapacity(machine, config.maxPods);
  const missing = REQUIRED_CAPACITY.filter((r) => capacity[r] === undefined);
  const reasons = [...input.notReadyReasons, ...(missing.length > 0 ? [`missing node capacity for resources: ${missing.join(', ')}`] : [])];
  const handlers = input.runtime.handlers;
  return {
    ...prev,
    capacity,
    allocatable: computeAllocatable(capacity, config.reserved, config.evictionHard),
    conditions: computeNodeConditions(prev?.conditions ?? [], { notReadyReasons: reasons, pressure: input.pressure }, input.now),
    addresses: buildAddresses(config),
    daemonEndpoints: { kubeletEndpoint: { Port: config.kubeletPort } },
    nodeInfo: buildNodeInfo(config, machine, input.runtime, prev?.nodeInfo),
    ...(handlers !== undefined
      ? { runtimeHandlers: handlers.map((h) => ({ name: h.name, ...(h.features !== undefined ? { features: { ...h.features } } : {}) })) }
      : {}),
  };
}

export function buildNodeTaints(config: ResolvedNodeConfig): Taint[] {
  const taints = [...config.taints];
  // upstream taints a node registered unschedulable at once, so nothing lands before the controller does it
  if (config.unschedulable && !taints.some((t) => t.key === TAINT_UNSCHEDULABLE && t.effect === 'NoSchedule')) {
    taints.push({ key: TAINT_UNSCHEDULABLE, effect: 'NoSchedule' });
  }
  return taints;
}

/** The Node to create at registration; spec.podCIDR is the control plane's to allocate unless --pod-cidr was given. */
export function buildNode(input: NodeStatusInput): Node {
  const taints = buildNodeTaints(input.config);
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: input.config.nodeName,
      labels: buildNodeLabels(input.config, input.machine),
      annotations: { ...(input.config.annotations ?? {}), [ANNOTATION_ATTACH_DETACH]: 'true' },
    },
    spec: {
      ...(input.config.podCIDR ? { podCIDR: input.config.podCIDR, podCIDRs: [input.config.podCIDR] } : {}),
      ...(taints.length > 0 ? { taints } : {}),
      ...(input.config.unschedulable ? { unschedulable: true } : {}),
    },
    status: buildNodeStatus(undefined, input),
  };
}

/**
 * Labels to patch on a Node that already existed: the default labels follow this kubelet (set when
 * different, removed when the kubelet no longer has them), --node-labels are added or corrected.
 * Undefined when nothing differs. Values of `null` delete (merge patch semantics).
 */
export function reconcileNodeLabels(
  desired: Readonly<Record<string, string>>,
  existing: Readonly<Record<string, string>> | undefined,
): Record<string, string | null> | undefined {
  const have = existing ?? {};
  const patch: Record<string, string | null> = {};
  for (const key of DEFAULT_NODE_LABELS) {
    const want = desired[key];
    if (want === undefined) {
      if (have[key] !== undefined) patch[key] = null;
    } else if (have[key] !== want) patch[key] = want;
  }
  for (const [key, want] of Object.entries(desired)) {
    if (!DEFAULT_NODE_LABELS.includes(key) && have[key] !== want) patch[key] = want;
  }
  return Object.keys(patch).length > 0 ? patch : undefined;
}

/** Status fields the kubelet writes; everything else (images, volumes, others' conditions) is left alone. */
const OWNED_STATUS_FIELDS = ['capacity', 'allocatable', 'conditions', 'addresses', 'daemonEndpoints', 'nodeInfo', 'runtimeHandlers'] as const;

/**
 * The strategic merge patch of nodes/<name>/status for the kubelet-owned part of `status`. Conditions
 * merge by type, so only the owned ones are sent and a concurrent writer's NetworkUnavailable survives.
 */
export function buildStatusPatch(status: NodeStatus): { readonly status: Record<string, unknown> } {
  const out: Record<string, unknown> = {};
  for (const field of OWNED_STATUS_FIELDS) if (status[field] !== undefined) out[field] = status[field];
  if (status.conditions !== undefined) out['conditions'] = status.conditions.filter((c) => OWNED_CONDITION_TYPES.includes(c.type));
  if (status.addresses !== undefined) out['addresses'] = [{ $patch: 'replace' }, ...status.addresses];
  return { status: out };
}
