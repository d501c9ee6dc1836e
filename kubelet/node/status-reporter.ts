/**
 * Registers this node with the apiserver and keeps its status current, as upstream's kubelet does
 * (kubelet_node_status.go):
 * - registration: create the Node (labels, taints, full status); on AlreadyExists, fetch it and
 *   reconcile the kubelet-owned labels; retried with back-off (100 ms doubling to 7 s) until it works;
 * - every `nodeStatusUpdateFrequency` (10 s) observe the runtime (CRI Status and Version), the host
 *   (machine info, pressure figures) and compute the status from the Node as stored; PATCH
 *   nodes/<name>/status (strategic merge) when it changed apart from heartbeats, or when the last report
 *   is older than `nodeStatusReportFrequency` (1 min here, 5 min upstream); up to 5 attempts per check;
 * - a Node deleted behind the kubelet's back is registered again (upstream waits for a restart).
 * Never throws out of `run`: failures are logged with structured fields, counted in `stats`, retried.
 * Cost model: per check one CRI Status + Version, a few /proc reads, one GET of the Node, and one PATCH
 * when something changed or a report is due (so one PATCH a minute on a quiet node).
 */
import type { Node, NodeStatus } from '../../api/core/node.js';
import type { Clock } from '../../lib/clock.js';
import { realClock } from '../../lib/clock.js';
import type { KubeClient } from '../../lib/client/client.js';
import { isAlreadyExists, isNotFound } from '../../lib/client/errors.js';
import { resources } from '../../lib/client/resource.js';
import type { Logger } from '../../lib/log.js';
import { silentLogger } from '../../lib/log.js';
import type { RuntimeService } from '../cri/services.js';
import { CRI_API_VERSION } from '../cri/services.js';
import type { NodeConfig, NodeStatusTimings, ResolvedNodeConfig } from './config.js';
import { DEFAULT_NODE_STATUS_TIMINGS, withNodeDefaults } from './config.js';
import { nodeStatusChanged } from './conditions.js';
import type { HostProbe, MachineInfo } from './host-info.js';
import type { NodeStatusInput, RuntimeFacts } from './node-object.js';
import { buildNode, buildNodeLabels, buildNodeStatus, buildStatusPatch, reconcileNodeLabels } from './node-object.js';
import type { PressureMemory } from './pressure.js';
import { evaluatePressure, NO_PRESSURE, withTransitionPeriod } from './pressure.js';
import { backoffDelay, errorMessage, pause } from './retry.js';
import type { RuntimeHealth } from './runtime-health.js';
import { INITIAL_RUNTIME_HEALTH, networkErrors, observeRuntimeStatus, runtimeErrors } from './runtime-health.js';

/** The KubeClient calls the reporter makes (a fake implements just these). */
export type NodeStatusClient = Pick<KubeClient, 'get' | 'create' | 'patch'>;

export interface NodeStatusReporterOptions {
  readonly client: NodeStatusClient;
  readonly runtime: Pick<RuntimeService, 'status' | 'version'>;
  readonly host: HostProbe;
  readonly config: NodeConfig;
  readonly clock?: Clock;
  readonly log?: Logger;
  readonly timings?: Partial<NodeStatusTimings>;
  /** managedFields manager of the kubelet's writes (upstream: `kubelet`). */
  readonly fieldManager?: string;
}

export interface NodeStatusStats {
  registrations: number;
  statusChecks: number;
  statusPatches: number;
  failures: number;
  lastError?: string;
}

export type StatusSyncResult = 'patched' | 'unchanged' | 'registered' | 'failed';

/** Upstream's nodeStatusUpdateRetry. */
const STATUS_UPDATE_RETRIES = 5;
const REGISTRATION_BACKOFF = { initialMs: 100, maxMs: 7_000 };

export class NodeStatusReporter {
  readonly stats: NodeStatusStats = { registrations: 0, statusChecks: 0, statusPatches: 0, failures: 0 };
  /** Resolves with the Node once it is registered (for the lease owner reference and mirror pods). */
  readonly registered: Promise<Node>;

  private readonly config: ResolvedNodeConfig;
  private readonly timings: NodeStatusTimings;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly fieldManager: string;
  private health: RuntimeHealth = INITIAL_RUNTIME_HEALTH;
  private pressureMemory: PressureMemory = {};
  private runtimeFacts: RuntimeFacts = {};
  private machine: MachineInfo | undefined;
  private lastReportAt: number | undefined;
  private node: Node | undefined;
  private resolveRegistered: (n: Node) => void = () => undefined;

  constructor(private readonly opts: NodeStatusReporterOptions) {
    this.config = withNodeDefaults(opts.config);
    this.timings = { ...DEFAULT_NODE_STATUS_TIMINGS, ...opts.timings };
    this.clock = opts.clock ?? realClock;
    this.log = (opts.log ?? silentLogger()).child({ component: 'node-status', node: this.config.nodeName });
    this.fieldManager = opts.fieldManager ?? 'kubelet';
    this.registered = new Promise((resolve) => {
      this.resolveRegistered = resolve;
    });
  }

  /** The Node as last written or read (undefined before registration). */
  get currentNode(): Node | undefined {
    return this.node;
  }

  /** Registers (retrying until it works), then checks the status every update period until aborted. */
  async run(signal: AbortSignal): Promise<void> {
    for (let attempt = 0; !signal.aborted; attempt++) {
      if (await this.register(signal)) break;
      if (!(await pause(this.clock, backoffDelay(attempt, REGISTRATION_BACKOFF), signal))) return;
    }
    while (!signal.aborted) {
      await this.syncStatus(signal);
      if (!(await pause(this.clock, this.timings.nodeStatusUpdateFrequencyMs, signal))) return;
    }
  }

  /** One registration attempt; true when the Node exists and carries our labels. Never throws. */
  async register(signal?: AbortSignal): Promise<boolean> {
    try {
      const input = await this.observe(signal);
      const desired = buildNode(input);
      const write = { fieldManager: this.fieldManager, ...(signal !== undefined ? { signal } : {}) };
      try {
        this.node = await this.opts.client.create<Node>(resources.nodes, desired, write);
        this.log.info({ event: 'registered' }, 'node registered');
      } catch (err) {
        if (!isAlreadyExists(err)) throw err;
        const existing = await this.opts.client.get<Node>(resources.nodes, this.config.nodeName, signal !== undefined ? { signal } : {});
        const labels = reconcileNodeLabels(buildNodeLabels(this.config, input.machine), existing.metadata.labels);
        this.node =
          labels === undefined
            ? existing
            : await this.opts.client.patch<Node>(resources.nodes, this.config.nodeName, { metadata: { labels } }, { type: 'strategic', ...write });
        this.log.info({ event: 'registered', existing: true, relabelled: labels !== undefined }, 'node was previously registered');
      }
      this.lastReportAt = this.clock.now().getTime();
      this.stats.registrations++;
      this.resolveRegistered(this.node);
      return true;
    } catch (err) {
      this.fail('register', err);
      return false;
    }
  }

  /** One status check: patch when changed or due. Re-registers a Node that disappeared. Never throws. */
  async syncStatus(signal?: AbortSignal): Promise<StatusSyncResult> {
    this.stats.statusChecks++;
    let lastErr: unknown;
    for (let attempt = 0; attempt < STATUS_UPDATE_RETRIES; attempt++) {
      if (signal?.aborted) return 'failed';
      try {
        return await this.trySyncStatus(signal);
      } catch (err) {
        if (isNotFound(err)) {
          this.log.warn({ event: 'node-missing' }, 'node object is gone; registering it again');
          return (await this.register(signal)) ? 'registered' : 'failed';
        }
        lastErr = err;
        this.log.debug({ err: errorMessage(err), attempt }, 'node status update attempt failed');
      }
    }
    this.fail('update-status', lastErr);
    return 'failed';
  }

  private async trySyncStatus(signal?: AbortSignal): Promise<StatusSyncResult> {
    const input = await this.observe(signal);
    const current = await this.opts.client.get<Node>(resources.nodes, this.config.nodeName, signal !== undefined ? { signal } : {});
    this.node = current;
    const next: NodeStatus = buildNodeStatus(current.status, input);
    const nowMs = input.now.getTime();
    const due = this.lastReportAt === undefined || nowMs - this.lastReportAt >= this.timings.nodeStatusReportFrequencyMs;
    if (!due && !nodeStatusChanged(current.status ?? {}, next)) return 'unchanged';
    this.node = await this.opts.client.patch<Node>(resources.nodes, this.config.nodeName, buildStatusPatch(next), {
      type: 'strategic',
      subresource: 'status',
      fieldManager: this.fieldManager,
      ...(signal !== undefined ? { signal } : {}),
    });
    this.lastReportAt = nowMs;
    this.stats.statusPatches++;
    return 'patched';
  }

  /** Gathers runtime and host facts into the pure builders' input. */
  private async observe(signal?: AbortSignal): Promise<NodeStatusInput> {
    const call = signal !== undefined ? { signal } : {};
    const now = this.clock.now();
    const nowMs = now.getTime();
    try {
      const status = await this.opts.runtime.status({}, call);
      this.health = observeRuntimeStatus(this.health, { kind: 'answered', status }, nowMs);
      this.runtimeFacts = { ...this.runtimeFacts, handlers: status.runtimeHandlers };
    } catch (err) {
      this.health = observeRuntimeStatus(this.health, { kind: 'failed', error: errorMessage(err) }, nowMs);
      this.log.warn({ err: errorMessage(err) }, 'container runtime status check failed');
    }
    try {
      const v = await this.opts.runtime.version({ version: CRI_API_VERSION }, call);
      this.runtimeFacts = { ...this.runtimeFacts, runtimeName: v.runtimeName, runtimeVersion: v.runtimeVersion };
    } catch (err) {
      this.log.debug({ err: errorMessage(err) }, 'container runtime version unavailable');
    }
    try {
      this.machine = await this.opts.host.machineInfo();
    } catch (err) {
      // the last good answer is still the best description of this machine
      if (this.machine === undefined) throw err;
    }
    let observed = NO_PRESSURE;
    try {
      observed = evaluatePressure(await this.opts.host.pressureStats(), this.config.evictionHard);
    } catch (err) {
      this.log.debug({ err: errorMessage(err) }, 'host pressure figures unavailable');
    }
    const pressure = withTransitionPeriod(this.pressureMemory, observed, nowMs, this.timings.pressureTransitionPeriodMs);
    this.pressureMemory = pressure.memory;
    return {
      config: this.config,
      machine: this.machine,
      runtime: this.runtimeFacts,
      notReadyReasons: [...runtimeErrors(this.health, nowMs, this.timings.runtimeDownThresholdMs), ...networkErrors(this.health)],
      pressure: pressure.flags,
      now,
    };
  }

  private fail(op: string, err: unknown): void {
    this.stats.failures++;
    this.stats.lastError = errorMessage(err);
    this.log.error({ op, err: this.stats.lastError }, `node ${op} failed; will retry`);
  }
}
