/**
 * Garbage collector: deletes objects whose owners are gone, and carries out the Orphan and Foreground
 * deletion policies, as upstream's GC does.
 *
 * Design: one watch on the whole registry keeps an ownership graph (uid -> object, owner uid ->
 * dependents) in memory; changes put uids on a work queue; one worker decides per uid with the pure
 * `planOwnerWork`/`planDependentWork` below and acts through the Registry (the same code path as API
 * requests, so admission and finalizer rules apply). An owner missing from the graph is confirmed
 * absent by a direct read before anything is deleted, so a lagging graph never deletes a live object.
 *
 * Cost: memory O(objects) for the graph (uid, key, owner uids only); each event O(owners + dependents).
 */
import type { KubeObject, OwnerReference } from '../../api/meta.js';
import type { Clock } from '../../lib/clock.js';
import type { Logger } from '../../lib/log.js';
import { ApiError } from '../apiserver/errors.js';
import type { Registry } from '../apiserver/registry.js';
import type { ResourceEntry, ResourceIndex } from '../apiserver/resource-table.js';
import type { WatchEvent } from '../storage/store.js';
import { WorkQueue } from '../../lib/work-queue.js';

interface GraphNode {
  readonly uid: string;
  readonly entry: ResourceEntry;
  readonly namespace: string | undefined;
  readonly name: string;
  readonly owners: readonly OwnerReference[];
  readonly deleting: boolean;
  readonly finalizers: readonly string[];
}

export type OwnerWork =
  | { readonly kind: 'none' }
  | { readonly kind: 'orphan-dependents'; readonly dependents: readonly string[] }
  | { readonly kind: 'remove-finalizer'; readonly finalizer: 'orphan' | 'foregroundDeletion' }
  | { readonly kind: 'delete-dependents'; readonly dependents: readonly string[] }
  | { readonly kind: 'wait' };

/** Pure: what to do for an owner under deletion, given its live dependents. */
export function planOwnerWork(node: Pick<GraphNode, 'deleting' | 'finalizers'>, dependents: ReadonlyArray<Pick<GraphNode, 'uid' | 'deleting'>>): OwnerWork {
  if (!node.deleting) return { kind: 'none' };
  if (node.finalizers.includes('orphan')) {
    return dependents.length > 0 ? { kind: 'orphan-dependents', dependents: dependents.map((d) => d.uid) } : { kind: 'remove-finalizer', finalizer: 'orphan' };
  }
  if (node.finalizers.includes('foregroundDeletion')) {
    if (dependents.length === 0) return { kind: 'remove-finalizer', finalizer: 'foregroundDeletion' };
    const toDelete = dependents.filter((d) => !d.deleting).map((d) => d.uid);
    return toDelete.length > 0 ? { kind: 'delete-dependents', dependents: toDelete } : { kind: 'wait' };
  }
  return { kind: 'none' };
}

export type DependentWork =
  | { readonly kind: 'none' }
  | { readonly kind: 'delete' }
  | { readonly kind: 'drop-references'; readonly uids: readonly string[] };

/** Pure: what to do for a dependent given which of its owners still exist. */
export function planDependentWork(owners: readonly OwnerReference[], alive: ReadonlySet<string>): DependentWork {
  if (owners.length === 0) return { kind: 'none' };
  const dangling = owners.filter((o) => !alive.has(o.uid)).map((o) => o.uid);
  if (dangling.length === 0) return { kind: 'none' };
  if (dangling.length === owners.length) return { kind: 'delete' };
  return { kind: 'drop-references', uids: dangling };
}

export class GarbageCollector {
  private readonly nodes = new Map<string, GraphNode>();
  private readonly dependents = new Map<string, Set<string>>();
  private readonly queue: WorkQueue<string>;
  private readonly prefixes: Array<[string, ResourceEntry]>;

  constructor(
    private readonly registry: Registry,
    private readonly index: ResourceIndex,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {
    // longest prefix first; the first entry of a shared prefix (core events) wins
    const seen = new Set<string>();
    this.prefixes = [];
    for (const e of index.entries) {
      if (seen.has(e.storagePrefix)) continue;
      seen.add(e.storagePrefix);
      this.prefixes.push([e.storagePrefix, e]);
    }
    this.prefixes.sort((a, b) => b[0].length - a[0].length);
    this.queue = new WorkQueue<string>(clock);
  }

  /** Lists everything, then follows the store's watch; runs until the signal aborts. */
  async run(signal: AbortSignal): Promise<void> {
    const store = this.registry.store;
    const page = await store.list('/registry/');
    for (const kv of page.items) this.observe(kv.key, kv.value);
    for (const uid of this.nodes.keys()) this.queue.add(uid);
    store.watch('/registry/', { fromRevision: page.revision, signal }, {
      onEvents: (events) => {
        for (const ev of events) this.onEvent(ev);
      },
      onError: (err) => {
        if (!signal.aborted) this.log.error({ err: err.message }, 'garbage collector watch ended; restarting');
        if (!signal.aborted) void this.restart(signal);
      },
    });
    await this.queue.process(signal, (uid) => this.sync(uid), (uid, err) => {
      this.log.warn({ uid, err: err instanceof Error ? err.message : String(err) }, 'garbage collection failed; will retry');
    });
  }

  private async restart(signal: AbortSignal): Promise<void> {
    this.nodes.clear();
    this.dependents.clear();
    const store = this.registry.store;
    const page = await store.list('/registry/');
    for (const kv of page.items) this.observe(kv.key, kv.value);
    for (const uid of this.nodes.keys()) this.queue.add(uid);
    store.watch('/registry/', { fromRevision: page.revision, signal }, {
      onEvents: (events) => {
        for (const ev of events) this.onEvent(ev);
      },
      onError: () => {
        if (!signal.aborted) void this.restart(signal);
      },
    });
  }

  private entryFor(key: string): ResourceEntry | undefined {
    for (const [prefix, e] of this.prefixes) if (key.startsWith(prefix)) return e;
    return undefined;
  }

  private observe(key: string, value: string): GraphNode | undefined {
    const entry = this.entryFor(key);
    if (!entry) return undefined;
    let obj: KubeObject;
    try {
      obj = JSON.parse(value) as KubeObject;
    } catch {
      return undefined;
    }
    const m = obj.metadata;
    if (!m?.uid || !m.name) return undefined;
    const node: GraphNode = {
      uid: m.uid,
      entry,
      namespace: m.namespace,
      name: m.name,
      owners: m.ownerReferences ?? [],
      deleting: m.deletionTimestamp !== undefined,
      finalizers: m.finalizers ?? [],
    };
    const old = this.nodes.get(node.uid);
    if (old) for (const o of old.owners) this.dependents.get(o.uid)?.delete(node.uid);
    this.nodes.set(node.uid, node);
    for (const o of node.owners) {
      let set = this.dependents.get(o.uid);
      if (!set) this.dependents.set(o.uid, (set = new Set()));
      set.add(node.uid);
    }
    return node;
  }

  private onEvent(ev: WatchEvent): void {
    if (ev.type === 'put') {
      const node = this.observe(ev.kv.key, ev.kv.value);
      if (!node) return;
      if (node.owners.length > 0) this.queue.add(node.uid);
      if (node.deleting) this.queue.add(node.uid);
      for (const o of node.owners) if (this.nodes.get(o.uid)?.deleting) this.queue.add(o.uid);
      return;
    }
    let uid: string | undefined;
    try {
      uid = (JSON.parse(ev.prev.value) as KubeObject).metadata?.uid;
    } catch {
      return;
    }
    if (!uid) return;
    const node = this.nodes.get(uid);
    this.nodes.delete(uid);
    if (node) for (const o of node.owners) {
      this.dependents.get(o.uid)?.delete(uid);
      // an owner in foreground deletion may be waiting for exactly this dependent
      if (this.nodes.has(o.uid)) this.queue.add(o.uid);
    }
    for (const d of this.dependents.get(uid) ?? []) this.queue.add(d);
  }

  private liveDependents(uid: string): GraphNode[] {
    return [...(this.dependents.get(uid) ?? [])].map((d) => this.nodes.get(d)).filter((n): n is GraphNode => n !== undefined);
  }

  /** One decision for one uid; throws to be retried with back-off. */
  private async sync(uid: string): Promise<void> {
    const node = this.nodes.get(uid);
    if (!node) return;
    const ownerWork = planOwnerWork(node, this.liveDependents(uid));
    switch (ownerWork.kind) {
      case 'none':
      case 'wait':
        break;
      case 'orphan-dependents':
        for (const d of ownerWork.dependents) await this.dropReferences(d, [uid]);
        this.queue.add(uid);
        break;
      case 'delete-dependents':
        for (const d of ownerWork.dependents) {
          const dep = this.nodes.get(d);
          if (!dep) continue;
          const hasOwnDependents = this.liveDependents(d).length > 0;
          await this.deleteNode(dep, hasOwnDependents ? 'Foreground' : 'Background');
        }
        break;
      case 'remove-finalizer':
        await this.removeFinalizer(node, ownerWork.finalizer);
        break;
      default: {
        const never: never = ownerWork;
        throw new Error(`unhandled owner work ${JSON.stringify(never)}`);
      }
    }
    if (node.owners.length === 0) return;
    const alive = new Set<string>();
    for (const o of node.owners) if (await this.ownerExists(node, o)) alive.add(o.uid);
    const work = planDependentWork(node.owners, alive);
    switch (work.kind) {
      case 'none':
        return;
      case 'delete': {
        // a dependent of owners in foreground deletion goes in foreground too, as upstream
        this.log.info({ resource: node.entry.def.plural, namespace: node.namespace, name: node.name }, 'deleting object whose owners are gone');
        await this.deleteNode(node, 'Background');
        return;
      }
      case 'drop-references':
        await this.dropReferences(uid, work.uids);
        return;
      default: {
        const never: never = work;
        throw new Error(`unhandled dependent work ${JSON.stringify(never)}`);
      }
    }
  }

  /** Checks with a direct read (not the graph) that the owner exists with that uid. */
  private async ownerExists(dependent: GraphNode, ref: OwnerReference): Promise<boolean> {
    if (this.nodes.has(ref.uid)) return true;
    const entry = this.index.findByKind(ref.apiVersion, ref.kind);
    if (!entry) return false; // an owner of a kind we do not serve can never exist here
    try {
      const owner = await this.registry.get(entry, entry.def.namespaced ? dependent.namespace : undefined, ref.name);
      return owner.metadata.uid === ref.uid;
    } catch (err) {
      if (err instanceof ApiError && err.httpCode === 404) return false;
      throw err;
    }
  }

  private async deleteNode(node: GraphNode, propagation: 'Background' | 'Foreground'): Promise<void> {
    try {
      await this.registry.delete(node.entry, node.namespace, node.name, { propagationPolicy: propagation, preconditions: { uid: node.uid } });
    } catch (err) {
      if (err instanceof ApiError && (err.httpCode === 404 || err.httpCode === 409)) return;
      throw err;
    }
  }

  private async dropReferences(uid: string, ownerUids: readonly string[]): Promise<void> {
    const node = this.nodes.get(uid);
    if (!node) return;
    try {
      await this.registry.update(node.entry, node.namespace, node.name, (obj) => {
        if (obj.metadata.uid !== uid) return obj;
        const refs = (obj.metadata.ownerReferences ?? []).filter((r) => !ownerUids.includes(r.uid));
        const { ownerReferences: _o, ...meta } = obj.metadata;
        return { ...obj, metadata: refs.length > 0 ? { ...meta, ownerReferences: refs } : meta };
      });
    } catch (err) {
      if (err instanceof ApiError && err.httpCode === 404) return;
      throw err;
    }
  }

  private async removeFinalizer(node: GraphNode, finalizer: string): Promise<void> {
    try {
      await this.registry.update(node.entry, node.namespace, node.name, (obj) => {
        if (obj.metadata.uid !== node.uid) return obj;
        return { ...obj, metadata: { ...obj.metadata, finalizers: (obj.metadata.finalizers ?? []).filter((f) => f !== finalizer) } };
      });
    } catch (err) {
      if (err instanceof ApiError && err.httpCode === 404) return;
      throw err;
    }
  }

  /** For tests and metrics. */
  get graphSize(): number {
    return this.nodes.size;
  }

  get queueDepth(): number {
    return this.queue.length;
  }
}
