/**
 * The informer's data source over the API client: a paginated LIST (pages share one snapshot through
 * the continue token) and a WATCH with bookmarks from the listed resourceVersion.
 *
 * If a continue token expires mid-way (410), the list is retried once without pagination, as
 * client-go's pager falls back to a full list. Cost: ceil(n / pageSize) requests per list.
 */
import type { KubeObject } from '../../api/meta.js';
import type { KubeClient } from './client.js';
import { isGone } from './errors.js';
import type { ListerWatcher, ListResult } from './informer.js';
import type { ResourceRef } from './resource.js';
import type { WatchEvent } from './watch-decoder.js';

export interface Selection {
  /** Omit for all namespaces (or a cluster-scoped resource). */
  readonly namespace?: string;
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
}

export interface ListWatchOptions {
  /** Objects per LIST page; 500 like client-go. 0 lists in one request. */
  readonly pageSize?: number;
  /** Server-side watch timeout; upstream's reflector picks 5-10 minutes at random. */
  readonly watchTimeoutSeconds?: () => number;
}

const selectionOpts = (sel: Selection): Selection => ({
  ...(sel.namespace !== undefined ? { namespace: sel.namespace } : {}),
  ...(sel.labelSelector !== undefined ? { labelSelector: sel.labelSelector } : {}),
  ...(sel.fieldSelector !== undefined ? { fieldSelector: sel.fieldSelector } : {}),
});

export function clientListerWatcher<T extends KubeObject>(
  client: KubeClient,
  ref: ResourceRef,
  sel: Selection = {},
  opts: ListWatchOptions = {},
): ListerWatcher<T> {
  const pageSize = opts.pageSize ?? 500;
  const timeoutSeconds = opts.watchTimeoutSeconds ?? ((): number => 300 + Math.floor(Math.random() * 300));

  const listAll = async (signal: AbortSignal, paged: boolean): Promise<ListResult<T>> => {
    const items: T[] = [];
    let cont: string | undefined;
    let rv = '';
    do {
      const page = await client.list<T>(ref, {
        ...selectionOpts(sel),
        ...(paged && pageSize > 0 ? { limit: pageSize } : {}),
        ...(cont !== undefined ? { continue: cont } : {}),
        signal,
      });
      items.push(...page.items);
      rv = page.metadata.resourceVersion ?? rv;
      cont = page.metadata.continue !== undefined && page.metadata.continue !== '' ? page.metadata.continue : undefined;
    } while (cont !== undefined);
    return { items, resourceVersion: rv };
  };

  return {
    async list(signal) {
      try {
        return await listAll(signal, true);
      } catch (err) {
        if (!isGone(err)) throw err;
        return listAll(signal, false);
      }
    },
    watch(resourceVersion, signal): AsyncIterable<WatchEvent<T>> {
      return client.watch<T>(ref, {
        ...selectionOpts(sel),
        resourceVersion,
        allowWatchBookmarks: true,
        timeoutSeconds: timeoutSeconds(),
        signal,
      });
    },
  };
}
