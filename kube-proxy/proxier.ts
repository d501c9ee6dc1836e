/**
 * The proxy loop: Services, EndpointSlices and this node's Node in (informers), rules out through a
 * `RuleBackend` (backend.ts: one atomic `nft -f` transaction, or `iptables-restore --noflush`), then
 * the side effects that follow applied rules (stale UDP conntrack entries, health-check node ports,
 * metrics, /healthz).
 *
 *   informers -> ChangeTracker (per Service, lazy) -> SyncRunner (min interval, periodic full
 *   resync, back-off after a failure) -> sync():
 *     snapshot -> backend.sync(state, opts, changed?) -> keep state
 *     -> conntrack -D for stale UDP flows -> health-check servers -> metrics, health
 *
 * Full or partial: the first sync, every periodic one (`syncPeriodMs`, upstream's --sync-period,
 * 30 s) and the one after any failed apply are full; the others rewrite only the changed service
 * ports. A full sync that follows a start or a failure lists the kernel's rules first, so chains and
 * sets left by an earlier run or a half-known table are deleted; other full syncs work from the
 * rules last applied. A sync whose snapshot changes nothing runs no nft or iptables at all.
 * The applied state is replaced only once the kernel accepted the rules, so a failed apply never
 * leaves the loop believing in rules the kernel does not hold.
 *
 * Restarts: nothing here flushes conntrack for TCP, and a full sync rewrites rules in place (one nft
 * transaction; iptables-restore without flushing other chains), so established connections keep
 * their NAT across resyncs and agent restarts.
 *
 * Cost model: per sync, O(changed Services) to snapshot + O(all service ports) to copy the state and
 * the per-key index; the backend's apply dominates (see nftables/ruleset.ts, iptables/ruleset.ts and
 * README.md). One conntrack
 * exec per stale UDP filter. Idle: one periodic full resync per `syncPeriodMs`.
 */
import type { Registry } from 'prom-client';
import type { Node } from '../api/core/node.js';
import type { Service } from '../api/core/service-types.js';
import type { EndpointSlice } from '../api/discovery/endpointslice.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/log.js';
import { ChangeTracker } from './change-tracker.js';
import type { Snapshot } from './change-tracker.js';
import type { Conntrack } from './conntrack.js';
import { filterId, planConntrackCleanup } from './conntrack.js';
import { ProxierHealth, startHealthzServer } from './healthz.js';
import type { RunningHealthzServer } from './healthz.js';
import { ProxyMetrics } from './metrics.js';
import type { BackendOptions, RuleBackend } from './backend.js';
import type { ProxyState } from './model.js';
import { isIPv4 } from './model.js';
import { planServiceHealth, ServiceHealthServers } from './service-health.js';
import { SyncRunner } from './sync-runner.js';

export const DEFAULT_MIN_SYNC_PERIOD_MS = 1_000;
export const DEFAULT_SYNC_PERIOD_MS = 30_000;

/** What the proxier reads from an informer (Informer<T> fits). */
export interface ObjectSource<T> {
  addEventHandler(h: { onAdd?(obj: T): void; onUpdate?(oldObj: T, newObj: T): void; onDelete?(obj: T): void }): () => void;
  waitForSync(signal?: AbortSignal): Promise<void>;
}

export interface ProxierOptions {
  readonly nodeName: string;
  /** The node's addresses (--node-ip); InternalIP/ExternalIP addresses of its Node are added. */
  readonly nodeIPs: readonly string[];
  /** Traffic to a cluster IP from outside it is masqueraded. */
  readonly clusterCIDR?: string;
  readonly masqueradeAll?: boolean;
  readonly minSyncPeriodMs?: number;
  readonly syncPeriodMs?: number;
  /** Where /healthz listens; omitted: no healthz server. */
  readonly healthz?: { readonly address: string; readonly port: number; readonly serveMetrics?: boolean };
  /** Where health-check node ports listen; default every address. */
  readonly healthCheckAddress?: string;
  readonly services: ObjectSource<Service>;
  readonly slices: ObjectSource<EndpointSlice>;
  /** Nodes (all or just this one): this node's addresses and whether it is being deleted. */
  readonly nodes?: ObjectSource<Node>;
  /** nftables or iptables (NftBackend, IptablesBackend). */
  readonly backend: RuleBackend;
  readonly conntrack: Conntrack;
  readonly registry: Registry;
  readonly clock: Clock;
  readonly log: Logger;
  /** Uniform in [0, 1) for retry jitter (tests). */
  readonly random?: () => number;
}

interface Applied {
  readonly state: ProxyState;
}

export class Proxier {
  readonly health: ProxierHealth;
  readonly metrics: ProxyMetrics;
  private readonly tracker: ChangeTracker;
  private readonly runner: SyncRunner;
  private readonly healthChecks: ServiceHealthServers;
  private readonly log: Logger;
  private applied: Applied | undefined;
  private nodeAddresses: readonly string[] = [];
  private healthzServer: RunningHealthzServer | undefined;
  private syncs = 0;

  constructor(private readonly opts: ProxierOptions) {
    const clock = opts.clock;
    const syncPeriod = opts.syncPeriodMs ?? DEFAULT_SYNC_PERIOD_MS;
    this.log = opts.log;
    this.health = new ProxierHealth(clock, 2 * syncPeriod);
    this.tracker = new ChangeTracker({ nodeName: opts.nodeName, startedAt: clock.now().getTime(), now: () => clock.now().getTime() });
    this.metrics = new ProxyMetrics(opts.registry, () => ({ services: this.tracker.pendingServiceChanges, endpoints: this.tracker.pendingEndpointChanges }));
    this.runner = new SyncRunner({
      clock,
      minIntervalMs: opts.minSyncPeriodMs ?? DEFAULT_MIN_SYNC_PERIOD_MS,
      periodMs: syncPeriod,
      sync: (periodic) => this.sync(periodic),
      onPeriodic: () => this.health.queued(),
      ...(opts.random !== undefined ? { random: opts.random } : {}),
    });
    this.healthChecks = new ServiceHealthServers({
      proxyHealthy: () => this.health.status().healthy,
      log: opts.log,
      ...(opts.healthCheckAddress !== undefined ? { address: opts.healthCheckAddress } : {}),
    });
    // handlers first: the informers replay their caches to them, and start right after
    const changed = (): void => {
      this.health.queued();
      this.metrics.lastQueued.set(clock.now().getTime() / 1000);
      this.runner.request();
    };
    opts.services.addEventHandler({
      onAdd: (s) => (this.tracker.onService(undefined, s), changed()),
      onUpdate: (o, s) => (this.tracker.onService(o, s), changed()),
      onDelete: (s) => (this.tracker.onService(s, undefined), changed()),
    });
    opts.slices.addEventHandler({
      onAdd: (s) => (this.tracker.onSlice(undefined, s), changed()),
      onUpdate: (o, s) => (this.tracker.onSlice(o, s), changed()),
      onDelete: (s) => (this.tracker.onSlice(s, undefined), changed()),
    });
    opts.nodes?.addEventHandler({ onAdd: (n) => this.onNode(n), onUpdate: (_o, n) => this.onNode(n), onDelete: (n) => this.onNode(n, true) });
  }

  /** The rule backend (nftables or iptables). */
  get backend(): RuleBackend {
    return this.opts.backend;
  }

  /** The state last applied (undefined before the first successful sync). */
  lastApplied(): Applied | undefined {
    return this.applied;
  }

  /** Successful and failed syncs so far. */
  get syncCount(): number {
    return this.syncs;
  }

  /** Waits for the informers, then syncs until `signal` aborts; closes its servers on the way out. */
  async run(signal: AbortSignal): Promise<void> {
    const healthz = this.opts.healthz !== undefined ? this.serveHealthz(signal) : Promise.resolve();
    try {
      await Promise.all([this.opts.services.waitForSync(signal), this.opts.slices.waitForSync(signal), this.opts.nodes?.waitForSync(signal)]);
      this.log.info({ nodeIPs: this.nodeIPs(), clusterCIDR: this.opts.clusterCIDR }, `kube-proxy (${this.opts.backend.mode}) caches synced, syncing rules`);
      await this.runner.run(signal);
    } catch (err) {
      if (!signal.aborted) throw err;
    } finally {
      await healthz;
      await this.healthzServer?.close();
      await this.healthChecks.close();
    }
  }

  private nodeIPs(): string[] {
    return [...new Set([...this.opts.nodeIPs, ...this.nodeAddresses])];
  }

  private onNode(node: Node, deleted = false): void {
    if (node.metadata.name !== this.opts.nodeName) return;
    this.nodeAddresses = deleted
      ? []
      : (node.status?.addresses ?? []).filter((a) => (a.type === 'InternalIP' || a.type === 'ExternalIP') && isIPv4(a.address)).map((a) => a.address);
    this.health.setNodeEligible(!deleted && node.metadata.deletionTimestamp === undefined);
  }

  /** One sync; answers whether it worked (the runner retries otherwise). Never throws. */
  private async sync(periodic: boolean): Promise<boolean> {
    const clock = this.opts.clock;
    const start = clock.now().getTime();
    this.syncs++;
    this.health.syncStarting();
    const snap = this.tracker.snapshot();
    this.metrics.serviceChanges.inc(snap.serviceChanges);
    this.metrics.endpointChanges.inc(snap.endpointChanges);
    const backend = this.opts.backend;
    const full = periodic || !backend.ready || this.applied === undefined;
    try {
      if (!full && snap.changed.size === 0) {
        this.succeeded(snap, start);
        return true;
      }
      const opts: BackendOptions = {
        nodeIPs: this.nodeIPs(),
        ...(this.opts.clusterCIDR !== undefined ? { clusterCIDR: this.opts.clusterCIDR } : {}),
        ...(this.opts.masqueradeAll === true ? { masqueradeAll: true } : {}),
      };
      const done = await backend.sync(snap.state, opts, full ? undefined : snap.changed);
      const previous = this.applied?.state;
      this.applied = { state: snap.state };
      const elapsed = (clock.now().getTime() - start) / 1000;
      (done.full ? this.metrics.syncFullDuration : this.metrics.syncPartialDuration).observe(elapsed);
      this.log.debug({ mode: backend.mode, full: done.full, touched: done.touched, size: done.size, ms: Math.round(elapsed * 1000) }, 'synced proxy rules');
      this.succeeded(snap, start);
      await this.cleanupConntrack(previous, snap.state, full ? undefined : snap.changed);
      return true;
    } catch (err) {
      backend.forget();
      this.tracker.restoreTriggerTimes(snap.triggerTimes);
      this.health.syncFailed();
      this.metrics.syncFailures.inc();
      this.log.error({ full, err: err instanceof Error ? err.message : String(err), failures: this.runner.consecutiveFailures + 1 }, 'syncing proxy rules failed; the next sync is full');
      return false;
    } finally {
      await this.healthChecks.sync(planServiceHealth(this.tracker.current())).catch(() => undefined);
    }
  }

  private succeeded(snap: Snapshot, start: number): void {
    const now = this.opts.clock.now().getTime();
    this.metrics.syncDuration.observe((now - start) / 1000);
    this.metrics.lastSync.set(now / 1000);
    this.health.synced();
    for (const times of snap.triggerTimes.values()) for (const t of times) this.metrics.networkProgramming.observe(Math.max(0, now - t) / 1000);
  }

  private async cleanupConntrack(prev: ProxyState | undefined, next: ProxyState, changed: ReadonlySet<string> | undefined): Promise<void> {
    const keys = changed ?? new Set([...(prev?.services.keys() ?? []), ...next.services.keys()]);
    const filters = planConntrackCleanup(prev, next, keys);
    for (const f of filters) {
      try {
        const n = await this.opts.conntrack.delete(f);
        if (n > 0) {
          this.metrics.conntrackDeleted.inc(n);
          this.log.debug({ filter: filterId(f), deleted: n }, 'deleted stale conntrack entries');
        }
      } catch (err) {
        this.metrics.conntrackFailures.inc();
        this.log.warn({ filter: filterId(f), err: err instanceof Error ? err.message : String(err) }, 'cannot delete stale conntrack entries');
      }
    }
  }

  /** Listens for /healthz, retrying every 5 s while the address is not usable (upstream does the same). */
  private async serveHealthz(signal: AbortSignal): Promise<void> {
    const hz = this.opts.healthz;
    if (hz === undefined) return;
    while (!signal.aborted) {
      try {
        this.healthzServer = await startHealthzServer({
          address: hz.address,
          port: hz.port,
          health: this.health,
          ...(hz.serveMetrics === true ? { registry: this.opts.registry } : {}),
        });
        if (signal.aborted) await this.healthzServer.close();
        return;
      } catch (err) {
        this.log.error({ address: hz.address, port: hz.port, err: err instanceof Error ? err.message : String(err) }, 'cannot serve /healthz; retrying in 5 s');
        await this.opts.clock.sleep(5_000, signal).catch(() => undefined);
      }
    }
  }
}
