/**
 * The overlay agent, run by `knode agent` on every node:
 *   start  finds the underlay link (--iface, else the one holding the node IP), creates or keeps the
 *          VXLAN device (device.ts), loads the masquerade table (masquerade.ts), warns when the node
 *          does not forward IPv4;
 *   sync   on every Node event (and every `resyncMs` as a safety net):
 *            - own Node: publishes `knode.io/vtep-mac` and `knode.io/public-ip` when they differ,
 *              gives the device its VTEP address once `spec.podCIDR` is assigned, and writes the CNI
 *              node state file (`{"podCIDR", "mtu"}`) that knode-cni reads on every ADD;
 *            - peers: `apply(diff(planPeers(nodes), observe()))` (plan.ts: one route, one neighbour,
 *              one FDB entry per remote node), so a missed event or a restart converges without
 *              touching entries that are already right.
 * Events are not debounced: a sync starts as soon as the previous one ends, so a change is applied
 * within one sync (~10-20 ms of `ip`/`bridge` batches) of its watch event. A failed sync is retried
 * with back-off (0.5 s doubling to 30 s) and counted.
 *
 * Everything the loop touches comes in through interfaces (Node source, publisher, executor, device,
 * state file writer), so the unit tests drive it with fakes and a FakeClock.
 */
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Counter, Gauge, Histogram } from 'prom-client';
import type { Registry } from 'prom-client';
import type { Node } from '../../api/core/node.js';
import type { Clock } from '../../lib/clock.js';
import type { Logger } from '../../lib/log.js';
import { PRIVATE_MODE, writeFileAtomic } from '../../lib/pki/files.js';
import type { ObservedLink, DeviceSpec } from './device.js';
import { deviceSpec, findUnderlay } from './device.js';
import type { FastPathNetwork, FastPathPeer } from '../fastpath/fastpath.js';
import type { OverlayExecutor } from './executor.js';
import type { PeerNode } from './plan.js';
import { describeOp, diff, nodePeer, planPeers, PUBLIC_IP_ANNOTATION, VTEP_MAC_ANNOTATION, canonicalCIDR } from './plan.js';

/** The Node cache the agent reads (an Informer<Node> fits). */
export interface NodeSource {
  list(): Node[];
  getByName(name: string): Node | undefined;
  addEventHandler(h: { onAdd?(n: Node): void; onUpdate?(o: Node, n: Node): void; onDelete?(n: Node): void }): () => void;
  waitForSync(signal?: AbortSignal): Promise<void>;
}

/** The device side effects (VxlanDevice fits). */
export interface DeviceControl {
  links(): Promise<ObservedLink[]>;
  ensure(want: DeviceSpec, links: readonly ObservedLink[]): Promise<string[]>;
  forwarding(): Promise<boolean>;
}

export interface OverlayAgentOptions {
  readonly nodeName: string;
  readonly nodeIP: string;
  readonly iface?: string;
  readonly device: string;
  readonly vni: number;
  readonly port: number;
  readonly clusterCIDR: string;
  readonly nodes: NodeSource;
  /** Merges annotations into the own Node (a merge patch). */
  publish(annotations: Readonly<Record<string, string>>): Promise<void>;
  readonly executor: OverlayExecutor;
  readonly control: DeviceControl;
  /** Loads the masquerade table. */
  masquerade(clusterCIDR: string): Promise<void>;
  /** The CNI node state file (knode-cni's `nodeStateFile`). */
  readonly nodeStateFile: string;
  /** Writes the node state file; default: atomic write (temp + rename). */
  writeState?(file: string, text: string): Promise<void>;
  readonly clock: Clock;
  readonly log: Logger;
  readonly registry?: Registry;
  readonly resyncMs?: number;
  /**
   * The pod fast path (../fastpath/fastpath.ts), configured once the pod CIDR is known and again when
   * anything it uses changes; its failures are logged, never a failed sync (pods use the normal path).
   */
  readonly fastPath?: { configure(n: FastPathNetwork): Promise<void>; setPeers(peers: readonly FastPathPeer[]): Promise<void> };
}

export interface OverlayStatus {
  readonly underlay?: string;
  readonly mac?: string;
  readonly mtu?: number;
  readonly podCIDR?: string;
  readonly peers: number;
  readonly lastSyncError?: string;
}

async function defaultWriteState(file: string, text: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await writeFileAtomic(file, text, PRIVATE_MODE | 0o044);
}

/** The node's first IPv4 pod CIDR, canonical. */
function ownPodCIDR(node: Node | undefined): string | undefined {
  for (const c of [...(node?.spec?.podCIDRs ?? []), ...(node?.spec?.podCIDR !== undefined ? [node.spec.podCIDR] : [])]) {
    const canon = canonicalCIDR(c);
    if (canon !== undefined) return canon;
  }
  return undefined;
}

const FAST_PATH_FAILED = {
  settings: 'could not configure the pod fast path; pods use the normal path (retried at each sync)',
  peers:
    "could not write the fast path's peer map (retried at each sync): packets for a node it does not list go through the VXLAN device, and a node whose underlay IP changed gets them at its old IP until a sync succeeds",
} as const;

export class OverlayAgent {
  private readonly opts: OverlayAgentOptions;
  private readonly resyncMs: number;
  private spec: DeviceSpec | undefined;
  private underlay: ObservedLink | undefined;
  private writtenState: string | undefined;
  private dirty = true;
  private wake: (() => void) | undefined;
  private peers = 0;
  private lastError: string | undefined;
  private readonly fastPathErrors = new Map<'settings' | 'peers', string>();
  private readonly syncs?: Counter<'result'>;
  private readonly duration?: Histogram;
  private readonly opsTotal?: Counter<'kind' | 'action'>;

  constructor(opts: OverlayAgentOptions) {
    this.opts = opts;
    this.resyncMs = opts.resyncMs ?? 30_000;
    const registers = opts.registry !== undefined ? [opts.registry] : [];
    if (opts.registry !== undefined) {
      this.syncs = new Counter({ name: 'knode_overlay_syncs_total', help: 'Overlay syncs by result', labelNames: ['result'], registers });
      this.duration = new Histogram({
        name: 'knode_overlay_sync_duration_seconds',
        help: 'Time of one overlay sync (observe + apply)',
        buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
        registers,
      });
      this.opsTotal = new Counter({ name: 'knode_overlay_operations_total', help: 'Route, neighbour and FDB operations applied', labelNames: ['kind', 'action'], registers });
      const self = this;
      new Gauge({
        name: 'knode_overlay_peers',
        help: 'Remote nodes the VXLAN device is programmed for',
        registers,
        collect() {
          this.set(self.peers);
        },
      });
    }
  }

  status(): OverlayStatus {
    const podCIDR = ownPodCIDR(this.opts.nodes.getByName(this.opts.nodeName));
    return {
      peers: this.peers,
      ...(this.underlay !== undefined ? { underlay: this.underlay.name } : {}),
      ...(this.spec !== undefined ? { mac: this.spec.mac, mtu: this.spec.mtu } : {}),
      ...(podCIDR !== undefined ? { podCIDR } : {}),
      ...(this.lastError !== undefined ? { lastSyncError: this.lastError } : {}),
    };
  }

  private trigger(): void {
    this.dirty = true;
    this.wake?.();
  }

  /** Creates the device and the masquerade table; throws (naming the problem) when it cannot. */
  async start(): Promise<void> {
    const { opts } = this;
    const links = await opts.control.links();
    this.underlay = findUnderlay(links, opts.nodeIP, opts.iface);
    const podCIDR = ownPodCIDR(opts.nodes.getByName(opts.nodeName));
    this.spec = this.wantDevice(podCIDR);
    const lines = await opts.control.ensure(this.spec, links);
    opts.log.info(
      { device: this.spec.name, underlay: this.underlay.name, mtu: this.spec.mtu, mac: this.spec.mac, changes: lines.length },
      lines.length > 0 ? 'VXLAN device set up' : 'VXLAN device already in place',
    );
    await opts.masquerade(opts.clusterCIDR);
    if (!(await opts.control.forwarding().catch(() => true))) {
      opts.log.error('net.ipv4.ip_forward is 0 on this node: pod traffic to other nodes will be dropped (sysctl -w net.ipv4.ip_forward=1)');
    }
  }

  private wantDevice(podCIDR: string | undefined): DeviceSpec {
    const { opts } = this;
    if (this.underlay === undefined) throw new Error('overlay agent not started');
    return deviceSpec({
      name: opts.device,
      vni: opts.vni,
      port: opts.port,
      nodeName: opts.nodeName,
      localIP: opts.nodeIP,
      underlay: this.underlay,
      ...(podCIDR !== undefined ? { podCIDR } : {}),
    });
  }

  /** One pass; `full` also re-checks the device (the periodic resync). */
  async sync(full: boolean): Promise<void> {
    const { opts } = this;
    const spec0 = this.spec;
    if (spec0 === undefined) throw new Error('overlay agent not started');
    const self = opts.nodes.getByName(opts.nodeName);
    const podCIDR = ownPodCIDR(self);
    const want = this.wantDevice(podCIDR);
    if (full || want.address !== spec0.address) {
      const links = await opts.control.links();
      const lines = await opts.control.ensure(want, links);
      if (lines.length > 0) opts.log.info({ device: want.name, lines }, 'VXLAN device repaired');
      this.spec = want;
    }
    if (self !== undefined) {
      const ann = self.metadata.annotations ?? {};
      if (ann[VTEP_MAC_ANNOTATION] !== want.mac || ann[PUBLIC_IP_ANNOTATION] !== opts.nodeIP) {
        await opts.publish({ [VTEP_MAC_ANNOTATION]: want.mac, [PUBLIC_IP_ANNOTATION]: opts.nodeIP });
        opts.log.info({ mac: want.mac, ip: opts.nodeIP }, 'published the VTEP on the Node');
      }
    }
    if (podCIDR !== undefined) {
      const text = `${JSON.stringify({ podCIDR, mtu: want.mtu })}\n`;
      if (text !== this.writtenState) {
        await (opts.writeState ?? defaultWriteState)(opts.nodeStateFile, text);
        this.writtenState = text;
        opts.log.info({ file: opts.nodeStateFile, podCIDR, mtu: want.mtu }, 'wrote the CNI node state');
      }
      if (opts.fastPath !== undefined && this.underlay !== undefined) await this.configureFastPath(opts.fastPath, podCIDR, want.name, this.underlay.name);
    }
    const peers = opts.nodes
      .list()
      .map((n) => nodePeer(n))
      .filter((p): p is PeerNode => p !== undefined);
    const desired = planPeers(opts.nodeName, peers, want.name);
    const ops = diff(desired, await opts.executor.observe());
    if (ops.length > 0) {
      await opts.executor.apply(ops);
      for (const op of ops) this.opsTotal?.inc({ kind: op.kind, action: op.action });
      opts.log.info({ ops: ops.map(describeOp) }, 'overlay peers programmed');
    }
    this.peers = desired.routes.length;
    // after the device's FDB: from_pod encapsulates only for a peer whose route and neighbour exist
    const fp = opts.fastPath;
    if (fp !== undefined) await this.fastPathStep('peers', () => fp.setPeers(desired.fdb.map((f) => ({ mac: f.mac, ip: f.dst }))));
  }

  private async configureFastPath(fp: NonNullable<OverlayAgentOptions['fastPath']>, podCIDR: string, device: string, underlay: string): Promise<void> {
    const { opts } = this;
    const n: FastPathNetwork = { clusterCIDR: opts.clusterCIDR, podCIDR, nodeIP: opts.nodeIP, device, vni: opts.vni, port: opts.port, underlay };
    await this.fastPathStep('settings', () => fp.configure(n));
  }

  /** A fast path step never fails the sync: its error is logged once (until it changes) and it is retried at each sync. */
  private async fastPathStep(what: 'settings' | 'peers', step: () => Promise<void>): Promise<void> {
    try {
      await step();
      this.fastPathErrors.delete(what);
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      if (msg !== this.fastPathErrors.get(what)) this.opts.log.warn({ err: msg }, FAST_PATH_FAILED[what]);
      this.fastPathErrors.set(what, msg);
    }
  }

  /** Waits `ms` or until `trigger`/abort, whichever comes first; leaves no timer behind. */
  private async pause(ms: number, signal: AbortSignal, wakeable: boolean): Promise<void> {
    const ctl = new AbortController();
    const onAbort = (): void => ctl.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    const woke = wakeable
      ? new Promise<void>((resolve) => {
          this.wake = resolve;
        })
      : new Promise<void>(() => undefined);
    try {
      await Promise.race([woke, this.opts.clock.sleep(ms, ctl.signal).catch(() => undefined)]);
    } finally {
      this.wake = undefined;
      ctl.abort();
      signal.removeEventListener('abort', onAbort);
    }
  }

  /** Whether a Node update can change what this node programs (status heartbeats cannot). */
  private relevant(oldNode: Node, newNode: Node): boolean {
    if (newNode.metadata.name === this.opts.nodeName) {
      const ann = (n: Node): string => `${n.metadata.annotations?.[VTEP_MAC_ANNOTATION] ?? ''} ${n.metadata.annotations?.[PUBLIC_IP_ANNOTATION] ?? ''}`;
      if (ann(oldNode) !== ann(newNode) || ownPodCIDR(oldNode) !== ownPodCIDR(newNode)) return true;
    }
    return JSON.stringify(nodePeer(oldNode) ?? null) !== JSON.stringify(nodePeer(newNode) ?? null);
  }

  /** Syncs on every relevant Node change until `signal` aborts. `start` must have succeeded. */
  async run(signal: AbortSignal): Promise<void> {
    const { opts } = this;
    const off = opts.nodes.addEventHandler({
      onAdd: () => this.trigger(),
      onUpdate: (o, n) => {
        if (this.relevant(o, n)) this.trigger();
      },
      onDelete: () => this.trigger(),
    });
    try {
      await opts.nodes.waitForSync(signal).catch(() => undefined);
      let retryMs = 0;
      let lastFull = opts.clock.now().getTime();
      while (!signal.aborted) {
        if (!this.dirty && retryMs === 0) {
          await this.pause(Math.max(0, lastFull + this.resyncMs - opts.clock.now().getTime()), signal, true);
        } else if (retryMs > 0) {
          await this.pause(retryMs, signal, false);
        }
        if (signal.aborted) return;
        const now = opts.clock.now().getTime();
        const full = now - lastFull >= this.resyncMs;
        this.dirty = false;
        const t0 = performance.now();
        try {
          await this.sync(full);
          if (full) lastFull = now;
          this.syncs?.inc({ result: 'ok' });
          this.lastError = undefined;
          retryMs = 0;
        } catch (err) {
          const message = err instanceof Error ? err.message : String(err);
          this.syncs?.inc({ result: 'error' });
          this.lastError = message;
          retryMs = retryMs === 0 ? 500 : Math.min(retryMs * 2, 30_000);
          opts.log.error({ err: message, retryInMs: retryMs }, 'overlay sync failed');
        } finally {
          this.duration?.observe((performance.now() - t0) / 1000);
        }
      }
    } finally {
      off();
    }
  }
}
