/**
 * Node IPAM controller: gives every Node a `spec.podCIDR`/`spec.podCIDRs` (a /24 by default) cut from the
 * cluster CIDR, records CIDRs that Nodes were created with, and frees a CIDR once its Node is gone, as
 * upstream's range allocator in kube-controller-manager does.
 *
 * Design: a taken CIDR is one store key `/ranges/podcidrs/<cidr>` holding its owner `{owner, uid}`,
 * created with create-if-absent (the pattern of apiserver/plugins/allocator.ts), so two control planes on
 * one store, or one restarted mid-write, can never hand the same CIDR to two Nodes. The controller is
 * level-triggered: any Node event queues one `sync`, which lists the keys, then the Nodes, and lets the
 * pure `planNodeCIDRs` decide everything (allocate, adopt, record, release, report). A CIDR is written to
 * a Node only after a key owned by that Node's uid exists, and a key is released (conditionally on its
 * revision) only when its owner uid no longer exists or holds another CIDR. Reading keys before Nodes
 * makes that safe: a key is created after its Node, so a key we saw has its live owner in the later list.
 * A Node key left behind by a crash between "take the key" and "write the Node" is adopted on the next
 * sync, so the Node ends up with exactly that CIDR.
 *
 * Cost: each sync is O(nodes + taken keys + subnets) in time and one list of each; bursts of events
 * coalesce in the de-duplicating work queue. One store create and one Node update per new Node.
 */
import type { Node } from '../../api/core/node.js';
import type { KubeObject } from '../../api/meta.js';
import type { Clock } from '../../lib/clock.js';
import { KnodeError } from '../../lib/errors.js';
import type { Logger } from '../../lib/log.js';
import { WorkQueue } from '../../lib/work-queue.js';
import { ApiError } from '../apiserver/errors.js';
import { everything } from '../apiserver/filter.js';
import { formatIpv4, parseCidr } from '../apiserver/plugins/ip-range.js';
import type { Ipv4Range } from '../apiserver/plugins/ip-range.js';
import type { Registry } from '../apiserver/registry.js';
import { listObjects } from '../apiserver/registry-read.js';
import type { ResourceEntry, ResourceIndex } from '../apiserver/resource-table.js';
import { ConflictError, KeyExistsError, KeyNotFoundError } from '../storage/errors.js';

export const POD_CIDR_KEY_PREFIX = '/ranges/podcidrs/';

/** Upstream refuses more than 2^16 node subnets in one cluster CIDR. */
const MAX_SUBNET_BITS = 16;

export class NodeIpamConfigError extends KnodeError {
  constructor(message: string) {
    super('ERR_NODE_IPAM_CONFIG', message);
  }
}

/** What the plan needs of a Node. `cidrs` are its spec.podCIDRs (or [spec.podCIDR]). */
export interface NodeCIDRView {
  readonly name: string;
  readonly uid: string;
  readonly cidrs: readonly string[];
  readonly deleting: boolean;
}

/** One taken key: its owner Node and the key's revision (for a conditional release). */
export interface TakenCIDR {
  readonly owner: string;
  readonly uid: string;
  readonly revision: number;
}

export type NodeCIDRAction =
  /** Take a new key for the Node, then write the CIDR to it. */
  | { readonly kind: 'allocate'; readonly node: string; readonly uid: string; readonly cidr: string }
  /** A key owned by this Node exists (a write that crashed or raced): write its CIDR to the Node. */
  | { readonly kind: 'adopt'; readonly node: string; readonly uid: string; readonly cidr: string }
  /** The Node came with a CIDR nobody holds: take its key. */
  | { readonly kind: 'record'; readonly node: string; readonly uid: string; readonly cidr: string }
  /** The key's owner is gone or holds another CIDR. */
  | { readonly kind: 'release'; readonly cidr: string; readonly revision: number; readonly owner: string }
  /** The Node's CIDR is held by another live Node: nothing is changed, a person must look. */
  | { readonly kind: 'conflict'; readonly node: string; readonly cidr: string; readonly holder: string }
  /** No free subnet left (upstream: the CIDRNotAvailable event); the Node stays without a CIDR. */
  | { readonly kind: 'full'; readonly node: string };

export interface NodeCIDRLayout {
  readonly range: Ipv4Range;
  readonly prefix: number;
  readonly maskSize: number;
  /** How many node subnets the cluster CIDR holds. */
  readonly count: number;
}

/** Checks that `maskSize` cuts `clusterCIDR` into node subnets; throws NodeIpamConfigError otherwise. */
export function nodeCIDRLayout(clusterCIDR: string, maskSize: number): NodeCIDRLayout {
  let range: Ipv4Range;
  try {
    range = parseCidr(clusterCIDR);
  } catch (err) {
    throw new NodeIpamConfigError(`cluster CIDR: ${err instanceof Error ? err.message : String(err)}`);
  }
  const prefix = 32 - Math.log2(range.size);
  if (!Number.isInteger(maskSize) || maskSize < prefix || maskSize > 32) {
    throw new NodeIpamConfigError(`node CIDR mask size must be an integer between ${prefix} (the cluster CIDR ${clusterCIDR}) and 32, got ${maskSize}`);
  }
  if (maskSize - prefix > MAX_SUBNET_BITS) {
    throw new NodeIpamConfigError(
      `node CIDR mask size ${maskSize} cuts ${clusterCIDR} into more than 2^${MAX_SUBNET_BITS} subnets; use a mask size of at most ${prefix + MAX_SUBNET_BITS}`,
    );
  }
  return { range, prefix, maskSize, count: 2 ** (maskSize - prefix) };
}

/** The n-th node subnet of the layout. */
export function nthSubnet(layout: NodeCIDRLayout, n: number): string {
  return `${formatIpv4(layout.range.base + n * 2 ** (32 - layout.maskSize))}/${layout.maskSize}`;
}

/** Marks the subnets of `layout` that `cidr` overlaps (IPv6 or malformed CIDRs overlap nothing). */
function markOverlap(layout: NodeCIDRLayout, occupied: Uint8Array, cidr: string): void {
  let r: Ipv4Range;
  try {
    r = parseCidr(cidr);
  } catch {
    return;
  }
  const start = Math.max(r.base, layout.range.base);
  const end = Math.min(r.base + r.size, layout.range.base + layout.range.size);
  if (start >= end) return;
  const sub = 2 ** (32 - layout.maskSize);
  const lo = Math.floor((start - layout.range.base) / sub);
  const hi = Math.ceil((end - layout.range.base) / sub);
  occupied.fill(1, lo, hi);
}

/**
 * Pure: what to do so every live Node holds exactly one recorded, collision-free CIDR. Nodes are handled
 * in name order and get the lowest free subnet, so the outcome does not depend on listing order.
 */
export function planNodeCIDRs(
  nodes: readonly NodeCIDRView[],
  taken: ReadonlyMap<string, TakenCIDR>,
  range: Ipv4Range,
  maskSize: number,
): NodeCIDRAction[] {
  const layout = nodeCIDRLayout(range.cidr, maskSize);
  const byUid = new Map(nodes.map((n) => [n.uid, n]));
  const sorted = [...nodes].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const actions: NodeCIDRAction[] = [];
  const released = new Set<string>();

  const claimedBy = new Map<string, string>();
  for (const n of nodes) for (const c of n.cidrs) claimedBy.set(c, n.uid);
  // keys whose owner is gone, owns a different CIDR (a lost race; its CIDR is immutable now), or has
  // none yet while another Node was created with this one (adopting it would make a collision)
  for (const [cidr, t] of [...taken].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const owner = byUid.get(t.uid);
    const claimer = claimedBy.get(cidr);
    if (
      owner === undefined ||
      (owner.cidrs.length > 0 && !owner.cidrs.includes(cidr)) ||
      (owner.cidrs.length === 0 && claimer !== undefined && claimer !== owner.uid)
    ) {
      actions.push({ kind: 'release', cidr, revision: t.revision, owner: t.owner });
      released.add(cidr);
    }
  }

  const occupied = new Uint8Array(layout.count);
  for (const [cidr] of taken) if (!released.has(cidr)) markOverlap(layout, occupied, cidr);
  for (const n of nodes) for (const c of n.cidrs) markOverlap(layout, occupied, c);

  // an owner without a CIDR adopts its lowest key; extra keys go once it has one
  const adoptable = new Map<string, string>();
  for (const [cidr, t] of taken) {
    if (released.has(cidr)) continue;
    const prev = adoptable.get(t.uid);
    if (prev === undefined || cidr < prev) adoptable.set(t.uid, cidr);
  }

  let next = 0;
  for (const n of sorted) {
    if (n.cidrs.length > 0) {
      for (const cidr of n.cidrs) {
        const t = taken.get(cidr);
        if (t === undefined || released.has(cidr)) actions.push({ kind: 'record', node: n.name, uid: n.uid, cidr });
        else if (t.uid !== n.uid) actions.push({ kind: 'conflict', node: n.name, cidr, holder: t.owner });
      }
      continue;
    }
    if (n.deleting) continue;
    const own = adoptable.get(n.uid);
    if (own !== undefined) {
      actions.push({ kind: 'adopt', node: n.name, uid: n.uid, cidr: own });
      continue;
    }
    while (next < layout.count && occupied[next] === 1) next++;
    if (next >= layout.count) {
      actions.push({ kind: 'full', node: n.name });
      continue;
    }
    occupied[next] = 1;
    actions.push({ kind: 'allocate', node: n.name, uid: n.uid, cidr: nthSubnet(layout, next) });
  }
  return actions;
}

/** The plan's view of a Node object. */
export function nodeCIDRView(node: Node): NodeCIDRView {
  const spec = node.spec ?? {};
  const cidrs = spec.podCIDRs !== undefined && spec.podCIDRs.length > 0 ? spec.podCIDRs : spec.podCIDR ? [spec.podCIDR] : [];
  return { name: node.metadata.name ?? '', uid: node.metadata.uid ?? '', cidrs, deleting: node.metadata.deletionTimestamp !== undefined };
}

/** Parses the keys under POD_CIDR_KEY_PREFIX; unreadable values are kept with an empty owner (released). */
export function parseTakenCIDRs(items: ReadonlyArray<{ readonly key: string; readonly value: string; readonly modRevision: number }>): Map<string, TakenCIDR> {
  const taken = new Map<string, TakenCIDR>();
  for (const kv of items) {
    let owner = '';
    let uid = '';
    try {
      const v = JSON.parse(kv.value) as { owner?: unknown; uid?: unknown };
      if (typeof v.owner === 'string') owner = v.owner;
      if (typeof v.uid === 'string') uid = v.uid;
    } catch {
      // an unreadable key has no live owner and is released by the plan
    }
    taken.set(kv.key.slice(POD_CIDR_KEY_PREFIX.length), { owner, uid, revision: kv.modRevision });
  }
  return taken;
}

/** Thrown to make the queue retry with back-off (a racing writer took the CIDR first). */
class CIDRTaken extends KnodeError {
  constructor(cidr: string, node: string) {
    super('ERR_NODE_IPAM_TAKEN', `pod CIDR ${cidr} for node ${node} was taken by another writer; retrying`);
  }
}

const SYNC = 'sync';

export class NodeIpamController {
  private readonly queue: WorkQueue<string>;
  private readonly nodes: ResourceEntry;
  private readonly layout: NodeCIDRLayout;

  constructor(
    private readonly registry: Registry,
    index: ResourceIndex,
    private readonly clock: Clock,
    private readonly log: Logger,
    opts: { readonly clusterCIDR: string; readonly nodeCIDRMaskSize: number },
  ) {
    const nodes = index.find('', 'v1', 'nodes');
    if (!nodes) throw new Error('nodes are not served');
    this.nodes = nodes;
    this.layout = nodeCIDRLayout(opts.clusterCIDR, opts.nodeCIDRMaskSize);
    this.queue = new WorkQueue<string>(clock, 50, 10_000);
  }

  /** Syncs once, then on every Node change; runs until the signal aborts. */
  async run(signal: AbortSignal): Promise<void> {
    this.watch(signal, await this.registry.store.currentRevision());
    this.queue.add(SYNC);
    await this.queue.process(signal, () => this.sync(), (_item, err) => {
      if (err instanceof CIDRTaken) this.log.info({ err: err.message }, 'pod CIDR race');
      else this.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'node IPAM sync failed; will retry');
    });
  }

  private watch(signal: AbortSignal, fromRevision: number): void {
    this.registry.store.watch(this.nodes.storagePrefix, { fromRevision, signal }, {
      onEvents: () => this.queue.add(SYNC),
      onError: (err) => {
        if (signal.aborted) return;
        this.log.error({ err: err.message }, 'node IPAM watch ended; restarting');
        void this.rewatch(signal);
      },
    });
  }

  private async rewatch(signal: AbortSignal): Promise<void> {
    try {
      await this.clock.sleep(1_000, signal);
      this.watch(signal, await this.registry.store.currentRevision());
      this.queue.add(SYNC);
    } catch (err) {
      if (!signal.aborted) {
        this.log.error({ err: err instanceof Error ? err.message : String(err) }, 'node IPAM watch restart failed');
        void this.rewatch(signal);
      }
    }
  }

  /** One full reconcile; throws to be retried with back-off. */
  async sync(): Promise<void> {
    const store = this.registry.store;
    // keys first, then Nodes: see the design note
    const taken = parseTakenCIDRs((await store.list(POD_CIDR_KEY_PREFIX)).items);
    const list = await listObjects(this.registry, this.nodes, { filter: everything });
    const views = list.items.map((o) => nodeCIDRView(o as KubeObject as Node));
    const actions = planNodeCIDRs(views, taken, this.layout.range, this.layout.maskSize);
    // releases first: a subnet they free may be allocated in the same plan
    const ordered = [...actions.filter((a) => a.kind === 'release'), ...actions.filter((a) => a.kind !== 'release')];
    let raced: CIDRTaken | undefined;
    for (const a of ordered) {
      try {
        await this.apply(a);
      } catch (err) {
        if (!(err instanceof CIDRTaken)) throw err;
        raced = err;
      }
    }
    if (raced) throw raced;
  }

  private async apply(a: NodeCIDRAction): Promise<void> {
    const store = this.registry.store;
    switch (a.kind) {
      case 'release':
        try {
          await store.delete(POD_CIDR_KEY_PREFIX + a.cidr, a.revision);
          this.log.info({ cidr: a.cidr, owner: a.owner }, 'released pod CIDR');
        } catch (err) {
          // someone else released or re-took it since our list: their view is newer
          if (!(err instanceof KeyNotFoundError || err instanceof ConflictError)) throw err;
        }
        return;
      case 'record':
        if (!(await this.take(a.cidr, a.node, a.uid))) throw new CIDRTaken(a.cidr, a.node);
        this.log.info({ node: a.node, cidr: a.cidr }, 'recorded pod CIDR the node came with');
        return;
      case 'allocate':
        if (!(await this.take(a.cidr, a.node, a.uid))) throw new CIDRTaken(a.cidr, a.node);
        await this.writeNode(a.node, a.uid, a.cidr);
        return;
      case 'adopt':
        await this.writeNode(a.node, a.uid, a.cidr);
        return;
      case 'conflict':
        this.log.error({ node: a.node, cidr: a.cidr, holder: a.holder }, 'node was created with a pod CIDR another node holds');
        return;
      case 'full':
        this.log.warn({ node: a.node, reason: 'CIDRNotAvailable', clusterCIDR: this.layout.range.cidr }, 'no pod CIDR left for node');
        return;
      default: {
        const never: never = a;
        throw new Error(`unhandled node IPAM action ${JSON.stringify(never)}`);
      }
    }
  }

  private async take(cidr: string, owner: string, uid: string): Promise<boolean> {
    try {
      await this.registry.store.create(POD_CIDR_KEY_PREFIX + cidr, JSON.stringify({ owner, uid }));
      return true;
    } catch (err) {
      if (err instanceof KeyExistsError) return false;
      throw err;
    }
  }

  /** Sets the CIDR on the Node with this uid, unless it got one meanwhile (the key is then released later). */
  private async writeNode(name: string, uid: string, cidr: string): Promise<void> {
    try {
      const written = await this.registry.update(
        this.nodes,
        undefined,
        name,
        (cur) => {
          const node = cur as Node;
          if (node.metadata.uid !== uid || nodeCIDRView(node).cidrs.length > 0) return cur;
          return { ...node, spec: { ...(node.spec ?? {}), podCIDR: cidr, podCIDRs: [cidr] } } as KubeObject;
        },
        { fieldManager: 'knode-node-ipam' },
      );
      if ((written as Node).spec?.podCIDR === cidr) this.log.info({ node: name, cidr }, 'assigned pod CIDR');
    } catch (err) {
      if (err instanceof ApiError && err.httpCode === 404) return;
      throw err;
    }
  }
}
