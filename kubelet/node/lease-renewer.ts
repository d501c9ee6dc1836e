/**
 * The node heartbeat: Lease `kube-node-lease/<node>` renewed every 10 s (a quarter of its 40 s
 * duration), as upstream's lease controller (component-helpers/apimachinery/lease) does for the kubelet:
 * - with a lease from the last round, PUT the renewal straight away (no GET; optimistic, since only
 *   this kubelet writes it); otherwise ensure it exists: GET, CREATE when missing, retrying with
 *   back-off (200 ms doubling to 7 s) until it works or the signal aborts;
 * - up to 5 immediate update attempts per round; a 409 Conflict re-reads the lease and tries again;
 * - the lease carries holderIdentity=<node>, leaseDurationSeconds, renewTime (MicroTime) and an
 *   ownerReference to the Node (so it is garbage collected with it); like upstream's kubelet, it is not
 *   created before the Node exists, and the reference is added on a later renewal if it was missing.
 * The period is jittered by up to 4% (wait.JitterUntil). Never throws out of `run`.
 * Cost model: one PUT per renewal in the steady state.
 */
import type { Lease } from '../../api/coordination/lease.js';
import type { Node } from '../../api/core/node.js';
import type { Clock } from '../../lib/clock.js';
import { realClock, rfc3339Micro } from '../../lib/clock.js';
import type { KubeClient } from '../../lib/client/client.js';
import { isConflict, isNotFound } from '../../lib/client/errors.js';
import { resources } from '../../lib/client/resource.js';
import type { Logger } from '../../lib/log.js';
import { silentLogger } from '../../lib/log.js';
import { NODE_LEASE_NAMESPACE } from './config.js';
import { API_BACKOFF, backoffDelay, errorMessage, jittered, pause } from './retry.js';

export type LeaseClient = Pick<KubeClient, 'get' | 'create' | 'update'>;

export interface LeaseRenewerOptions {
  readonly client: LeaseClient;
  readonly nodeName: string;
  readonly clock?: Clock;
  readonly log?: Logger;
  /** `--node-lease-duration-seconds`, default 40. */
  readonly leaseDurationSeconds?: number;
  /** Default: a quarter of the duration (upstream's renewIntervalFraction). */
  readonly renewIntervalMs?: number;
  readonly namespace?: string;
  /** The Node's uid for the ownerReference; default GET nodes/<name>. Undefined: not registered yet. */
  readonly nodeUid?: () => Promise<string | undefined>;
  readonly random?: () => number;
}

export interface LeaseParams {
  readonly nodeName: string;
  readonly namespace: string;
  readonly durationSeconds: number;
  readonly now: Date;
  readonly ownerUid?: string;
}

/** Upstream's newLease: a fresh lease, or `base` with duration and renewTime asserted (pure). */
export function buildLease(base: Lease | undefined, p: LeaseParams): Lease {
  const meta = base?.metadata ?? { name: p.nodeName, namespace: p.namespace };
  const hasOwner = (meta.ownerReferences ?? []).length > 0;
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    ...base,
    metadata: {
      ...meta,
      ...(!hasOwner && p.ownerUid !== undefined
        ? { ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: p.nodeName, uid: p.ownerUid }] }
        : {}),
    },
    spec: {
      ...base?.spec,
      holderIdentity: base?.spec?.holderIdentity ?? p.nodeName,
      leaseDurationSeconds: p.durationSeconds,
      renewTime: rfc3339Micro(p.now),
    },
  };
}

export interface LeaseRenewerStats {
  creates: number;
  renewals: number;
  failures: number;
  lastError?: string;
}

const MAX_UPDATE_RETRIES = 5;
const RENEW_JITTER = 0.04;

export class LeaseRenewer {
  readonly stats: LeaseRenewerStats = { creates: 0, renewals: 0, failures: 0 };
  private latest: Lease | undefined;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly namespace: string;
  private readonly durationSeconds: number;
  private readonly renewIntervalMs: number;

  constructor(private readonly opts: LeaseRenewerOptions) {
    this.clock = opts.clock ?? realClock;
    this.log = (opts.log ?? silentLogger()).child({ component: 'node-lease', node: opts.nodeName });
    this.namespace = opts.namespace ?? NODE_LEASE_NAMESPACE;
    this.durationSeconds = opts.leaseDurationSeconds ?? 40;
    this.renewIntervalMs = opts.renewIntervalMs ?? this.durationSeconds * 250;
  }

  get latestLease(): Lease | undefined {
    return this.latest;
  }

  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      await this.syncOnce(signal);
      if (!(await pause(this.clock, jittered(this.renewIntervalMs, RENEW_JITTER, this.opts.random), signal))) return;
    }
  }

  /** One round: renew, creating the lease first when needed. True when the lease was written. */
  async syncOnce(signal: AbortSignal): Promise<boolean> {
    try {
      if (this.latest !== undefined && (await this.retryUpdate(this.latest, signal))) return true;
      const ensured = await this.backoffEnsure(signal);
      if (ensured === undefined) return false;
      this.latest = ensured.lease;
      if (ensured.created) return true;
      return await this.retryUpdate(ensured.lease, signal);
    } catch (err) {
      this.fail('renew', err);
      return false;
    }
  }

  /** GET, or CREATE when missing, until it works; undefined when aborted or the Node is not there yet. */
  private async backoffEnsure(signal: AbortSignal): Promise<{ lease: Lease; created: boolean } | undefined> {
    for (let attempt = 0; !signal.aborted; attempt++) {
      try {
        const ensured = await this.ensure(signal);
        if (ensured === 'no-node') this.log.info({ event: 'waiting-for-node' }, 'node not registered yet; lease not created');
        return ensured === 'no-node' ? undefined : ensured;
      } catch (err) {
        this.fail('ensure', err);
      }
      if (!(await pause(this.clock, backoffDelay(attempt, API_BACKOFF), signal))) return undefined;
    }
    return undefined;
  }

  /** `no-node`: the lease is missing and cannot be owned yet, so (as upstream) it is not created. */
  private async ensure(signal: AbortSignal): Promise<{ lease: Lease; created: boolean } | 'no-node'> {
    try {
      const lease = await this.opts.client.get<Lease>(resources.leases, this.opts.nodeName, { namespace: this.namespace, signal });
      return { lease, created: false };
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    const ownerUid = await this.nodeUid(signal);
    if (ownerUid === undefined) return 'no-node';
    const lease = await this.opts.client.create<Lease>(resources.leases, buildLease(undefined, this.params(ownerUid)), { namespace: this.namespace, signal });
    this.stats.creates++;
    this.log.info({ event: 'lease-created' }, 'node lease created');
    return { lease, created: true };
  }

  private async retryUpdate(base: Lease, signal: AbortSignal): Promise<boolean> {
    let current = base;
    for (let i = 0; i < MAX_UPDATE_RETRIES && !signal.aborted; i++) {
      const needsOwner = (current.metadata.ownerReferences ?? []).length === 0;
      const ownerUid = needsOwner ? await this.nodeUid(signal).catch(() => undefined) : undefined;
      try {
        this.latest = await this.opts.client.update<Lease>(resources.leases, buildLease(current, this.params(ownerUid)), { signal });
        this.stats.renewals++;
        return true;
      } catch (err) {
        this.log.warn({ err: errorMessage(err), attempt: i }, 'failed to update lease');
        if (isConflict(err)) {
          // someone else wrote it: start again from what is stored now
          const ensured = await this.backoffEnsure(signal);
          if (ensured === undefined) return false;
          current = ensured.lease;
        } else if (isNotFound(err)) {
          this.latest = undefined;
          return false;
        }
      }
    }
    this.fail('update', new Error(`failed ${MAX_UPDATE_RETRIES} attempts to update lease`));
    return false;
  }

  private params(ownerUid: string | undefined): LeaseParams {
    return {
      nodeName: this.opts.nodeName,
      namespace: this.namespace,
      durationSeconds: this.durationSeconds,
      now: this.clock.now(),
      ...(ownerUid !== undefined ? { ownerUid } : {}),
    };
  }

  private async nodeUid(signal: AbortSignal): Promise<string | undefined> {
    if (this.opts.nodeUid !== undefined) return this.opts.nodeUid();
    try {
      const node = await this.opts.client.get<Node>(resources.nodes, this.opts.nodeName, { signal });
      return node.metadata.uid;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  private fail(op: string, err: unknown): void {
    this.stats.failures++;
    this.stats.lastError = errorMessage(err);
    this.log.error({ op, err: this.stats.lastError }, `node lease ${op} failed; will retry`);
  }
}
