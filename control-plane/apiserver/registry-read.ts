/**
 * Reads: LIST with selectors, pagination and resourceVersion semantics, and WATCH.
 *
 * resourceVersion on LIST (upstream semantics):
 *   unset             -> the most recent state (a consistent read at the store's current revision)
 *   "0"               -> any state; we serve the current one
 *   N, NotOlderThan   -> the current state if it is at least N (504 if N is in the future)
 *   N, Exact          -> the state at revision N (410 Gone once compacted)
 * `continue` tokens carry the revision of the first page, so a paginated list is one consistent snapshot.
 *
 * WATCH: from resourceVersion N delivers every change after N; unset or "0" first sends the current state
 * as ADDED events. With selectors, an object entering or leaving the selection is ADDED or DELETED, as upstream.
 * Events come from the store's watch (pushed on commit), never from polling.
 */
import type { KubeObject, ListMeta, ObjectList } from '../../api/meta.js';
import { CompactedError, FutureRevisionError, WatchOverflowError } from '../storage/errors.js';
import type { KeyValue, WatchEvent } from '../storage/store.js';
import { ApiError, badRequest, gone } from './errors.js';
import type { ObjectFilter } from './filter.js';
import type { Registry } from './registry.js';
import type { ResourceEntry } from './resource-table.js';
import { apiVersionOfEntry, listPrefix } from './resource-table.js';

export interface ListParams {
  readonly namespace?: string;
  readonly filter: ObjectFilter;
  readonly limit?: number;
  readonly continueToken?: string;
  readonly resourceVersion?: string;
  readonly resourceVersionMatch?: string;
}

interface ContinueToken {
  readonly v: 'meta.k8s.io/v1';
  readonly rv: number;
  readonly start: string;
}

export function encodeContinue(rv: number, start: string): string {
  const t: ContinueToken = { v: 'meta.k8s.io/v1', rv, start };
  return Buffer.from(JSON.stringify(t)).toString('base64url');
}

export function decodeContinue(token: string): ContinueToken {
  try {
    const t = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as Partial<ContinueToken>;
    if (t.v !== 'meta.k8s.io/v1' || typeof t.rv !== 'number' || typeof t.start !== 'string') throw new Error('bad shape');
    return t as ContinueToken;
  } catch {
    throw badRequest(`continue key is not valid: ${JSON.stringify(token)}`);
  }
}

function parseRv(rv: string, what: string): number {
  if (!/^\d+$/.test(rv)) throw badRequest(`${what}: invalid resource version ${JSON.stringify(rv)}`);
  return Number(rv);
}

/** Upstream's ListOptions validation of resourceVersion and resourceVersionMatch (422 / 400). */
export function validateListVersion(resourceVersion: string | undefined, match: string | undefined, watch: boolean): void {
  if (match !== undefined && match !== '') {
    if (match !== 'Exact' && match !== 'NotOlderThan') {
      throw new ApiError(422, 'Invalid', `ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Unsupported value: ${JSON.stringify(match)}: supported values: "Exact", "NotOlderThan"`, {
        kind: 'ListOptions',
        group: 'meta.k8s.io',
        causes: [{ reason: 'FieldValueNotSupported', message: `Unsupported value: ${JSON.stringify(match)}: supported values: "Exact", "NotOlderThan"`, field: 'resourceVersionMatch' }],
      });
    }
    if (!watch && (resourceVersion === undefined || resourceVersion === '')) {
      throw new ApiError(422, 'Invalid', 'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided', {
        kind: 'ListOptions',
        group: 'meta.k8s.io',
        causes: [{ reason: 'FieldValueForbidden', message: 'Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided', field: 'resourceVersionMatch' }],
      });
    }
  }
  if (resourceVersion !== undefined && resourceVersion !== '' && !/^\d+$/.test(resourceVersion)) {
    throw badRequest(`resourceVersion: Invalid value: ${JSON.stringify(resourceVersion)}: must be a non-negative integer`);
  }
}

/** Lists pages of at most `limit` matching objects (filtering happens before counting, like upstream). */
export async function listObjects(registry: Registry, e: ResourceEntry, p: ListParams): Promise<ObjectList> {
  const items: KubeObject[] = [];
  const metadata = await scanList(registry, e, p, (obj) => {
    items.push(obj);
  });
  return { apiVersion: apiVersionOfEntry(e), kind: `${e.def.kind}List`, metadata, items };
}

/**
 * The LIST loop: hands each matching object to `consume` as it is decoded (so a caller can stream
 * the answer without holding every object), and returns the list's metadata.
 */
export async function scanList(
  registry: Registry,
  e: ResourceEntry,
  p: ListParams,
  consume: (obj: KubeObject) => void | Promise<void>,
): Promise<ListMeta> {
  validateListVersion(p.resourceVersion, p.resourceVersionMatch, false);
  const store = registry.store;
  const prefix = listPrefix(e, p.namespace);
  let revision = 0;
  let start: string | undefined;
  if (p.continueToken) {
    const t = decodeContinue(p.continueToken);
    if (!t.start.startsWith(prefix)) throw badRequest('continue key does not belong to this list');
    revision = t.rv;
    start = t.start;
  } else if (p.resourceVersion !== undefined && p.resourceVersion !== '' && p.resourceVersion !== '0') {
    const rv = parseRv(p.resourceVersion, 'resourceVersion');
    if (p.resourceVersionMatch === 'Exact') revision = rv;
    else {
      const current = await store.currentRevision();
      if (rv > current) {
        throw new ApiError(504, 'Timeout', `Timeout: Too large resource version: ${rv}, current: ${current}`, {
          causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }],
          retryAfterSeconds: 1,
        });
      }
    }
  } else if (p.resourceVersionMatch === 'Exact') {
    throw badRequest('resourceVersionMatch "Exact" is forbidden for resourceVersion "" or "0"');
  }
  const limit = p.limit && p.limit > 0 ? p.limit : 0;
  let count = 0;
  let more = false;
  let remaining = 0;
  let next: string | undefined;
  try {
    for (;;) {
      const want = limit === 0 ? 0 : Math.max(limit - count, 1);
      const page = await store.list(prefix, {
        ...(revision > 0 ? { revision } : {}),
        ...(want > 0 ? { limit: want } : {}),
        ...(start !== undefined ? { startKey: start } : {}),
      });
      revision = page.revision;
      for (const kv of page.items) {
        const obj = registry.decode(e, kv);
        if (p.filter.matches(obj)) {
          count++;
          await consume(obj);
        }
        start = kv.key + '\u0000';
      }
      if (!page.more) break;
      if (limit > 0 && count >= limit) {
        more = true;
        remaining = page.remaining;
        next = start;
        break;
      }
    }
  } catch (err) {
    if (err instanceof FutureRevisionError) {
      throw new ApiError(504, 'Timeout', `Timeout: Too large resource version: ${revision}`, {
        causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }],
        retryAfterSeconds: 1,
      });
    }
    if (err instanceof CompactedError) {
      throw gone(
        p.continueToken
          ? 'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.'
          : `too old resource version: ${revision} (${err.compacted})`,
      );
    }
    throw err;
  }
  return {
    resourceVersion: String(revision),
    ...(more && next !== undefined ? { continue: encodeContinue(revision, next) } : {}),
    ...(more && p.filter.empty ? { remainingItemCount: remaining } : {}),
  };
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface ApiWatchEvent {
  readonly type: WatchEventType;
  readonly object: KubeObject | ReturnType<ApiError['toStatus']>;
}

export interface WatchParams {
  readonly namespace?: string;
  readonly filter: ObjectFilter;
  readonly resourceVersion?: string;
  /** Send the current state first (unset or "0" resourceVersion). */
  readonly signal: AbortSignal;
}

export interface WatchSink {
  send(ev: ApiWatchEvent): void;
  /** The watch cannot go on (store closed, overflow): the sink should end the response. */
  end(err?: Error): void;
}

/**
 * Starts a watch. Returns the revision it started from; progress (the newest revision delivered)
 * is reported through `onProgress` so the caller can send bookmarks that never run ahead of events.
 */
export async function watchObjects(
  registry: Registry,
  e: ResourceEntry,
  p: WatchParams,
  sink: WatchSink,
  onProgress: (revision: number) => void,
): Promise<void> {
  const store = registry.store;
  const prefix = listPrefix(e, p.namespace);
  let from: number;
  if (p.resourceVersion === undefined || p.resourceVersion === '' || p.resourceVersion === '0') {
    const page = await store.list(prefix);
    from = page.revision;
    for (const kv of page.items) {
      const obj = registry.decode(e, kv);
      if (p.filter.matches(obj)) sink.send({ type: 'ADDED', object: obj });
    }
  } else {
    from = parseRv(p.resourceVersion, 'resourceVersion');
  }
  onProgress(from);
  const handle = (events: readonly WatchEvent[]): void => {
    for (const ev of events) {
      const out = translate(registry, e, ev, p.filter);
      if (out) sink.send(out);
      onProgress(ev.kv.modRevision);
    }
  };
  try {
    store.watch(prefix, { fromRevision: from, signal: p.signal }, {
      onEvents: handle,
      onError: (err) => {
        if (err instanceof CompactedError) {
          sink.send({ type: 'ERROR', object: gone(`too old resource version: ${from} (${err.compacted})`).toStatus() });
          sink.end();
        } else if (err instanceof WatchOverflowError) {
          // the client fell too far behind: tell it to re-list, as upstream does for a slow watcher
          sink.send({ type: 'ERROR', object: gone('the watch fell too far behind; re-list and watch again').toStatus() });
          sink.end();
        } else sink.end(err);
      },
    });
  } catch (err) {
    if (err instanceof CompactedError) {
      sink.send({ type: 'ERROR', object: gone(`too old resource version: ${from} (${err.compacted})`).toStatus() });
      sink.end();
      return;
    }
    throw err;
  }
}

function translate(registry: Registry, e: ResourceEntry, ev: WatchEvent, filter: ObjectFilter): ApiWatchEvent | undefined {
  const decodePrev = (kv: KeyValue | undefined): KubeObject | undefined => (kv ? registry.decode(e, kv) : undefined);
  if (ev.type === 'delete') {
    const obj = registry.decode(e, ev.prev, ev.kv.modRevision);
    return filter.matches(obj) ? { type: 'DELETED', object: obj } : undefined;
  }
  const obj = registry.decode(e, ev.kv);
  const prev = decodePrev(ev.prev);
  const now = filter.matches(obj);
  const before = prev !== undefined && (filter.empty || filter.matches(prev));
  if (now && before) return { type: 'MODIFIED', object: obj };
  if (now) return { type: 'ADDED', object: obj };
  // leaving the selection: upstream sends the last state that matched, stamped with this revision
  if (before && prev) return { type: 'DELETED', object: { ...prev, metadata: { ...prev.metadata, resourceVersion: obj.metadata.resourceVersion ?? '' } } };
  return undefined;
}
