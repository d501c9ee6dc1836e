/**
 * Node health decisions of the node lifecycle controller (upstream tryUpdateNodeHealth and
 * ComputeZoneState), pure:
 *   - `observeHeartbeat`: when did this controller last hear from the node's kubelet? The probe time
 *     is the LOCAL time at which the controller saw the Lease's renewTime or the Ready condition's
 *     lastHeartbeatTime move forward, as upstream does, so clock skew between a kubelet and the control
 *     plane does not matter. Only a newer heartbeat counts: this controller's own writes never touch
 *     lastHeartbeatTime, so a stale informer copy of the node cannot pass for a heartbeat.
 *   - `planNodeHealth`: past the grace period (40 s; 60 s for a node that never posted Ready),
 *     Ready/MemoryPressure/DiskPressure/PIDPressure become Unknown with upstream's reasons.
 *   - `computeZoneStates`: per zone (region + zone labels), Normal / PartialDisruption /
 *     FullDisruption, which set how fast NoExecute taints may be added, and whether they are at all.
 */
import type { Node, NodeCondition } from '../../api/core/node.js';
import type { Lease } from '../../api/coordination/lease.js';
import type { Condition } from '../../api/meta.js';

export type ConditionStatus = Condition['status'];

export const REASON_NODE_STATUS_UNKNOWN = 'NodeStatusUnknown';
export const MESSAGE_NODE_STATUS_UNKNOWN = 'Kubelet stopped posting node status.';
export const REASON_NODE_STATUS_NEVER_UPDATED = 'NodeStatusNeverUpdated';
export const MESSAGE_NODE_STATUS_NEVER_UPDATED = 'Kubelet never posted node status.';

/** The conditions the controller marks Unknown, in upstream's order. */
const MONITORED_CONDITIONS = ['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure'] as const;

export interface HeartbeatRecord {
  /** Local time (ms) at which the last heartbeat was seen. */
  readonly probeTimeMs: number;
  /** The newest Lease renewTime seen (ms since the epoch; 0 when none). */
  readonly leaseRenewMs: number;
  /** The newest Ready lastHeartbeatTime seen (ms; 0 when none). */
  readonly statusHeartbeatMs: number;
}

const timeMs = (s: string | undefined | null): number => {
  const t = s ? Date.parse(s) : Number.NaN;
  return Number.isNaN(t) ? 0 : t;
};

export const readyCondition = (node: Node): NodeCondition | undefined => node.status?.conditions?.find((c) => c.type === 'Ready');

/**
 * The record after looking at the node and its lease at local time `nowMs`. A node seen for the first
 * time counts as heard from now; one without a Ready condition counts from its creation, so it gets
 * only the startup grace period (upstream uses the creation timestamp there as well).
 */
export function observeHeartbeat(prev: HeartbeatRecord | undefined, node: Node, lease: Lease | undefined, nowMs: number): HeartbeatRecord {
  const leaseRenewMs = timeMs(lease?.spec?.renewTime);
  const statusHeartbeatMs = timeMs(readyCondition(node)?.lastHeartbeatTime);
  if (prev === undefined) {
    const created = timeMs(node.metadata.creationTimestamp);
    const probeTimeMs = readyCondition(node) === undefined && created > 0 ? Math.min(created, nowMs) : nowMs;
    return { probeTimeMs, leaseRenewMs, statusHeartbeatMs };
  }
  const heard = leaseRenewMs > prev.leaseRenewMs || statusHeartbeatMs > prev.statusHeartbeatMs;
  if (!heard) return prev;
  return {
    probeTimeMs: nowMs,
    leaseRenewMs: Math.max(leaseRenewMs, prev.leaseRenewMs),
    statusHeartbeatMs: Math.max(statusHeartbeatMs, prev.statusHeartbeatMs),
  };
}

export interface NodeHealthOptions {
  /** --node-monitor-grace-period: 40 s upstream. */
  readonly gracePeriodMs: number;
  /** --node-startup-grace-period, for nodes that never posted Ready: 60 s upstream. */
  readonly startupGracePeriodMs: number;
}

export interface NodeHealthPlan {
  /** The node's new status.conditions, when the controller must change them. */
  readonly conditions?: readonly NodeCondition[];
  /** Ready as the node has it now (posted by the kubelet, or earlier by this controller). */
  readonly observedReady?: ConditionStatus;
  /** Ready after this plan. */
  readonly ready?: ConditionStatus;
}

/** What to write when the kubelet has been silent too long (nothing when it has not). */
export function planNodeHealth(node: Node, record: HeartbeatRecord, nowMs: number, opts: NodeHealthOptions): NodeHealthPlan {
  const observed = readyCondition(node);
  const observedReady = observed?.status;
  const grace = observed === undefined ? opts.startupGracePeriodMs : opts.gracePeriodMs;
  if (nowMs <= record.probeTimeMs + grace) return { ...(observedReady !== undefined ? { observedReady } : {}), ...(observedReady !== undefined ? { ready: observedReady } : {}) };

  const now = new Date(nowMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const conditions = [...(node.status?.conditions ?? [])];
  let changed = false;
  for (const type of MONITORED_CONDITIONS) {
    const i = conditions.findIndex((c) => c.type === type);
    const c = i >= 0 ? conditions[i] : undefined;
    if (c === undefined) {
      conditions.push({
        type,
        status: 'Unknown',
        reason: REASON_NODE_STATUS_NEVER_UPDATED,
        message: MESSAGE_NODE_STATUS_NEVER_UPDATED,
        ...(node.metadata.creationTimestamp !== undefined ? { lastHeartbeatTime: node.metadata.creationTimestamp } : {}),
        lastTransitionTime: now,
      });
      changed = true;
    } else if (c.status !== 'Unknown') {
      // lastHeartbeatTime stays: it is the kubelet's, and what observeHeartbeat compares
      conditions[i] = { ...c, status: 'Unknown', reason: REASON_NODE_STATUS_UNKNOWN, message: MESSAGE_NODE_STATUS_UNKNOWN, lastTransitionTime: now };
      changed = true;
    }
  }
  return {
    ...(changed ? { conditions } : {}),
    ...(observedReady !== undefined ? { observedReady } : {}),
    ready: 'Unknown',
  };
}

export type ZoneState = 'Normal' | 'PartialDisruption' | 'FullDisruption';

export const LABEL_ZONE = 'topology.kubernetes.io/zone';
export const LABEL_REGION = 'topology.kubernetes.io/region';
const LEGACY_ZONE = 'failure-domain.beta.kubernetes.io/zone';
const LEGACY_REGION = 'failure-domain.beta.kubernetes.io/region';

/** Upstream GetZoneKey: '' for a node without region and zone labels, else `region:\0:zone`. */
export function zoneKey(node: Node): string {
  const l = node.metadata.labels ?? {};
  const region = l[LABEL_REGION] ?? l[LEGACY_REGION] ?? '';
  const zone = l[LABEL_ZONE] ?? l[LEGACY_ZONE] ?? '';
  return region === '' && zone === '' ? '' : `${region}:\u0000:${zone}`;
}

export interface ZoneOptions {
  /** --unhealthy-zone-threshold: 0.55. */
  readonly unhealthyZoneThreshold: number;
}

export interface ZoneInfo {
  readonly state: ZoneState;
  readonly size: number;
}

/**
 * Upstream ComputeZoneState per zone: no Ready node -> FullDisruption; more than 2 not-ready nodes
 * making up at least the threshold -> PartialDisruption; else Normal. `ready` is each node's Ready
 * status after this pass's updates.
 */
export function computeZoneStates(nodes: readonly { readonly zone: string; readonly ready: ConditionStatus | undefined }[], opts: ZoneOptions): Map<string, ZoneInfo> {
  const counts = new Map<string, { ready: number; notReady: number }>();
  for (const n of nodes) {
    const c = counts.get(n.zone) ?? { ready: 0, notReady: 0 };
    if (n.ready === 'True') c.ready++;
    else c.notReady++;
    counts.set(n.zone, c);
  }
  const out = new Map<string, ZoneInfo>();
  for (const [zone, c] of counts) {
    const size = c.ready + c.notReady;
    let state: ZoneState = 'Normal';
    if (c.ready === 0 && c.notReady > 0) state = 'FullDisruption';
    else if (c.notReady > 2 && c.notReady / size >= opts.unhealthyZoneThreshold) state = 'PartialDisruption';
    out.set(zone, { state, size });
  }
  return out;
}

export interface EvictionRateOptions {
  /** --node-eviction-rate: 0.1 nodes/s. */
  readonly nodeEvictionRate: number;
  /** --secondary-node-eviction-rate: 0.01 nodes/s. */
  readonly secondaryNodeEvictionRate: number;
  /** --large-cluster-size-threshold: 50. */
  readonly largeClusterSizeThreshold: number;
}

/**
 * Nodes per second that may get a NoExecute taint in a zone (upstream setLimiterInZone): the normal
 * rate, also for a fully disrupted zone (others are healthy, so the zone itself is likely gone); in a
 * partial disruption, the secondary rate in large zones and none in small ones.
 */
export function zoneTaintRate(info: ZoneInfo, opts: EvictionRateOptions): number {
  switch (info.state) {
    case 'Normal':
    case 'FullDisruption':
      return opts.nodeEvictionRate;
    case 'PartialDisruption':
      return info.size > opts.largeClusterSizeThreshold ? opts.secondaryNodeEvictionRate : 0;
    default: {
      const never: never = info.state;
      return never;
    }
  }
}

/**
 * Upstream's "master disruption" mode: when every zone is fully disrupted, the control plane most
 * likely lost its own network, so it removes the NoExecute taints and evicts nothing.
 */
export function allZonesFullyDisrupted(zones: ReadonlyMap<string, ZoneInfo>): boolean {
  if (zones.size === 0) return false;
  for (const z of zones.values()) if (z.state !== 'FullDisruption') return false;
  return true;
}
