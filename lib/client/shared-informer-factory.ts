/**
 * One informer per (resource, namespace, selectors), shared by every consumer that asks for it, so a
 * node agent whose pod worker, status manager and volume manager all follow pods holds one watch and
 * one cache, not three. Informers created after `start` are started on the next `start` call, as
 * client-go's factory does.
 */
import type { KubeObject } from '../../api/meta.js';
import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import type { KubeClient } from './client.js';
import type { BackoffPolicy } from './informer.js';
import { Informer } from './informer.js';
import type { ListWatchOptions, Selection } from './list-watch.js';
import { clientListerWatcher } from './list-watch.js';
import type { ResourceRef } from './resource.js';

export interface SharedInformerFactoryOptions {
  readonly clock: Clock;
  readonly log?: Logger;
  readonly backoff?: BackoffPolicy;
  readonly listWatch?: ListWatchOptions;
}

interface Entry {
  readonly informer: Informer<KubeObject>;
  run?: Promise<void>;
}

function factoryKey(ref: ResourceRef, sel: Selection): string {
  return JSON.stringify([ref.group, ref.version, ref.plural, sel.namespace ?? '', sel.labelSelector ?? '', sel.fieldSelector ?? '']);
}

export class SharedInformerFactory {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly client: KubeClient,
    private readonly opts: SharedInformerFactoryOptions,
  ) {}

  /** The informer for this selection, created on first use. */
  informerFor<T extends KubeObject = KubeObject>(ref: ResourceRef, sel: Selection = {}): Informer<T> {
    const key = factoryKey(ref, sel);
    let entry = this.entries.get(key);
    if (entry === undefined) {
      const name = [ref.plural, sel.namespace, sel.labelSelector, sel.fieldSelector].filter((s) => s !== undefined && s !== '').join(' ');
      const informer = new Informer<KubeObject>(clientListerWatcher(this.client, ref, sel, this.opts.listWatch ?? {}), {
        clock: this.opts.clock,
        name,
        ...(this.opts.log !== undefined ? { log: this.opts.log } : {}),
        ...(this.opts.backoff !== undefined ? { backoff: this.opts.backoff } : {}),
      });
      entry = { informer };
      this.entries.set(key, entry);
    }
    // Informers are keyed by selection, not by T: the caller's T is its view of that resource.
    return entry.informer as unknown as Informer<T>;
  }

  /** Starts every informer not yet running; they stop when `signal` aborts. */
  start(signal: AbortSignal): void {
    for (const entry of this.entries.values()) {
      if (entry.run === undefined) entry.run = entry.informer.run(signal);
    }
  }

  /** Resolves when every started informer has synced. */
  async waitForCacheSync(signal?: AbortSignal): Promise<void> {
    await Promise.all([...this.entries.values()].filter((e) => e.run !== undefined).map((e) => e.informer.waitForSync(signal)));
  }

  /** Resolves once every started informer's loop has ended (after the start signal aborted). */
  async stopped(): Promise<void> {
    await Promise.all([...this.entries.values()].map((e) => e.run));
  }
}
