/**
 * Namespace controller: a namespace being deleted (Terminating) is emptied of every namespaced object,
 * then its `kubernetes` finalizer is removed, which completes its deletion. Objects still terminating
 * (graceful pods, finalizers) are waited for by re-checking with back-off; the watch on namespaces
 * brings new work.
 */
import type { KubeObject } from '../../api/meta.js';
import type { Clock } from '../../lib/clock.js';
import type { Logger } from '../../lib/log.js';
import { ApiError } from '../apiserver/errors.js';
import type { Registry } from '../apiserver/registry.js';
import { listObjects } from '../apiserver/registry-read.js';
import type { ResourceEntry, ResourceIndex } from '../apiserver/resource-table.js';
import { everything } from '../apiserver/filter.js';
import { WorkQueue } from '../../lib/work-queue.js';

export class NamespaceController {
  private readonly queue: WorkQueue<string>;
  private readonly namespaces: ResourceEntry;
  private readonly contents: readonly ResourceEntry[];

  constructor(
    private readonly registry: Registry,
    index: ResourceIndex,
    clock: Clock,
    private readonly log: Logger,
  ) {
    const ns = index.find('', 'v1', 'namespaces');
    if (!ns) throw new Error('namespaces are not served');
    this.namespaces = ns;
    // one entry per storage prefix: events.k8s.io Events are the core Events
    const seen = new Set<string>();
    this.contents = index.entries.filter((e) => {
      if (!e.def.namespaced || seen.has(e.storagePrefix)) return false;
      seen.add(e.storagePrefix);
      return true;
    });
    this.queue = new WorkQueue<string>(clock, 200, 5_000);
  }

  async run(signal: AbortSignal): Promise<void> {
    const store = this.registry.store;
    const page = await store.list(this.namespaces.storagePrefix);
    const consider = (value: string): void => {
      const ns = JSON.parse(value) as KubeObject;
      if (ns.metadata.deletionTimestamp && ns.metadata.name) this.queue.add(ns.metadata.name);
    };
    for (const kv of page.items) consider(kv.value);
    store.watch(this.namespaces.storagePrefix, { fromRevision: page.revision, signal }, {
      onEvents: (events) => {
        for (const ev of events) if (ev.type === 'put') consider(ev.kv.value);
      },
      onError: (err) => {
        if (!signal.aborted) this.log.error({ err: err.message }, 'namespace controller watch ended');
      },
    });
    await this.queue.process(signal, (name) => this.sync(name), (name, err) => {
      if (!(err instanceof StillTerminating)) this.log.warn({ namespace: name, err: err instanceof Error ? err.message : String(err) }, 'namespace cleanup failed; will retry');
    });
  }

  /** Deletes every namespaced object in `name` not yet being deleted; returns how many were found. */
  private async deleteContents(name: string): Promise<number> {
    let found = 0;
    for (const e of this.contents) {
      const list = await listObjects(this.registry, e, { namespace: name, filter: everything });
      for (const obj of list.items) {
        found++;
        if (obj.metadata.deletionTimestamp) continue;
        try {
          await this.registry.delete(e, name, obj.metadata.name ?? '', { propagationPolicy: 'Background' });
        } catch (err) {
          if (!(err instanceof ApiError && err.httpCode === 404)) throw err;
        }
      }
    }
    return found;
  }

  private async sync(name: string): Promise<void> {
    let ns: KubeObject;
    try {
      ns = await this.registry.get(this.namespaces, undefined, name);
    } catch (err) {
      if (err instanceof ApiError && err.httpCode === 404) return;
      throw err;
    }
    if (!ns.metadata.deletionTimestamp) return;
    // First pass deletes; the second counts what is still terminating (graceful pods, finalizers).
    await this.deleteContents(name);
    const remaining = await this.deleteContents(name);
    if (remaining > 0) {
      // the queue retries with back-off until those deletions complete
      throw new StillTerminating(name, remaining);
    }
    await this.registry.update(
      this.namespaces,
      undefined,
      name,
      (cur) => ({ ...cur, spec: { ...((cur['spec'] ?? {}) as object), finalizers: [] } }),
      { subresource: 'finalize' },
    );
    this.log.info({ namespace: name }, 'namespace emptied and finalized');
  }
}

class StillTerminating extends Error {
  constructor(name: string, remaining: number) {
    super(`namespace ${name} still has ${remaining} objects`);
  }
}
