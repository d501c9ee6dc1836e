/**
 * kube-proxy's metrics, named and bucketed as upstream's (pkg/proxy/metrics), registered on the
 * registry the caller hands over (the agent's, served by the kubelet's /metrics).
 */
import { Counter, Gauge, Histogram } from 'prom-client';
import type { Registry } from 'prom-client';

const exponential = (start: number, factor: number, count: number): number[] => Array.from({ length: count }, (_, i) => start * factor ** i);
const linear = (start: number, width: number, count: number): number[] => Array.from({ length: count }, (_, i) => start + width * i);

/** Upstream's network programming buckets: 0.25 s to 5 minutes. */
const PROGRAMMING_BUCKETS = [...linear(0.25, 0.25, 2), ...linear(1, 1, 59), ...linear(60, 5, 12), ...linear(120, 30, 7)];

export class ProxyMetrics {
  readonly syncDuration: Histogram;
  readonly syncFullDuration: Histogram;
  readonly syncPartialDuration: Histogram;
  readonly networkProgramming: Histogram;
  readonly lastSync: Gauge;
  readonly lastQueued: Gauge;
  readonly syncFailures: Counter;
  readonly serviceChanges: Counter;
  readonly endpointChanges: Counter;
  readonly servicesPending: Gauge;
  readonly endpointsPending: Gauge;
  readonly conntrackDeleted: Counter;
  readonly conntrackFailures: Counter;

  constructor(registry: Registry, pending: () => { services: number; endpoints: number } = () => ({ services: 0, endpoints: 0 })) {
    const registers = [registry];
    const buckets = exponential(0.001, 2, 15);
    this.syncDuration = new Histogram({ name: 'kubeproxy_sync_proxy_rules_duration_seconds', help: 'SyncProxyRules latency in seconds', buckets, registers });
    this.syncFullDuration = new Histogram({ name: 'kubeproxy_sync_full_proxy_rules_duration_seconds', help: 'SyncProxyRules latency in seconds for full resyncs', buckets, registers });
    this.syncPartialDuration = new Histogram({ name: 'kubeproxy_sync_partial_proxy_rules_duration_seconds', help: 'SyncProxyRules latency in seconds for partial resyncs', buckets, registers });
    this.networkProgramming = new Histogram({
      name: 'kubeproxy_network_programming_duration_seconds',
      help: 'In Cluster Network Programming Latency in seconds',
      buckets: PROGRAMMING_BUCKETS,
      registers,
    });
    this.lastSync = new Gauge({ name: 'kubeproxy_sync_proxy_rules_last_timestamp_seconds', help: 'The last time proxy rules were successfully synced', registers });
    this.lastQueued = new Gauge({ name: 'kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds', help: 'The last time a sync of proxy rules was queued', registers });
    this.syncFailures = new Counter({ name: 'kubeproxy_sync_proxy_rules_nftables_sync_failures_total', help: 'Cumulative proxy nftables sync failures', registers });
    this.serviceChanges = new Counter({ name: 'kubeproxy_sync_proxy_rules_service_changes_total', help: 'Cumulative proxy rules Service changes', registers });
    this.endpointChanges = new Counter({ name: 'kubeproxy_sync_proxy_rules_endpoint_changes_total', help: 'Cumulative proxy rules Endpoint changes', registers });
    this.servicesPending = new Gauge({
      name: 'kubeproxy_sync_proxy_rules_service_changes_pending',
      help: 'Pending proxy rules Service changes',
      registers,
      collect() {
        this.set(pending().services);
      },
    });
    this.endpointsPending = new Gauge({
      name: 'kubeproxy_sync_proxy_rules_endpoint_changes_pending',
      help: 'Pending proxy rules Endpoint changes',
      registers,
      collect() {
        this.set(pending().endpoints);
      },
    });
    this.conntrackDeleted = new Counter({ name: 'knode_proxy_conntrack_entries_deleted_total', help: 'Stale UDP/SCTP conntrack entries deleted after syncs', registers });
    this.conntrackFailures = new Counter({ name: 'knode_proxy_conntrack_cleanup_failures_total', help: 'conntrack -D calls that failed', registers });
  }
}
