/**
 * The Store on a real etcd cluster (v3 API), for when one machine's embedded SQLite is not enough:
 * `knode server --etcd-servers http://a:2379,http://b:2379,...` (https with --etcd-cafile/certfile/keyfile).
 * Several stores (processes) can share one cluster: every write is a guarded transaction and
 * compactions by one are seen by the others. (A second control plane on the same cluster would also
 * need the first one's pki/ directory; that set-up is not tested.)
 *
 * Mapping (each Store call is one etcd request; etcd does the atomicity):
 * - Revisions: knode's revision = etcd's revision - 1. etcd starts at revision 1 with nothing in it
 *   (the first write is 2), where the Store contract starts at 0 (first write 1); so an empty etcd
 *   is an empty Store and `resourceVersion` is `mod_revision - 1` (keep that in mind when reading
 *   keys with etcdctl).
 * - create: Txn if create_revision(key) == 0 then Put. update: Txn if mod_revision(key) == expected
 *   then Put (prev_kv, for createRevision) else Range(key), so a conflict carries the current value
 *   read in the same transaction. delete: Txn if mod_revision == expected (or the key exists) then
 *   DeleteRange (prev_kv) else Range(key). A failed compare consumes no revision, as the contract wants.
 * - list: Range [startKey or prefix, prefix end) with the limit; `count` minus the page is `remaining`.
 * - watch: watchers share one etcd Watch stream (etcd/watch-feed.ts), which also keeps the recent
 *   events for watchers that start a little in the past; one starting further back gets a stream of
 *   its own. Both resume on another member when theirs goes away, from the last revision handed
 *   over (no gap, no duplicate); only when no member answers for `watchResumeMs` does a watch end.
 * - compact: etcd Compact(revision + 1, physical). The compacted revision is not something etcd
 *   reports, so it is found once (the smallest revision a Range can still read, by bisection, a few
 *   round trips) and then kept up to date by our compactions and by etcd's "compacted" answers.
 *
 * Keys and values are UTF-8 strings on our side and bytes on etcd's; etcd orders keys by bytes, which
 * is the code point order the contract asks for.
 */
import { KnodeError } from '../../lib/errors.js';
import { ETCD_COMPACTED, ETCD_FUTURE_REV, EtcdClient, grpc, isGrpcError } from './etcd/client.js';
import type { EtcdClientOptions, EtcdKeyValue, RequestOp } from './etcd/client.js';
import { WatchFeed, fromEtcd, prefixEnd, resumableWatch, toEtcd, toKeyValue } from './etcd/watch-feed.js';
import { CompactedError, ConflictError, FutureRevisionError, KeyExistsError, KeyNotFoundError, StoreClosedError, StoreError } from './errors.js';
import type { KeyValue, ListOptions, ListResult, Store, WatchHandlers, WatchOptions } from './store.js';

export interface EtcdStoreOptions extends EtcdClientOptions {
  /** How long a broken watch keeps trying to resume on another member; default 60 s. */
  readonly watchResumeMs?: number;
  /** How long `connect` waits for a first member; default 20 s. */
  readonly dialTimeoutMs?: number;
  /** Recent events the shared watch feed keeps for watchers that start in the past; default 10,000. */
  readonly watchFeedEvents?: number;
}

export class EtcdStore implements Store {
  private closed = false;
  private compacted: number | undefined;
  private readonly watches = new Set<() => void>();
  private feed: WatchFeed | undefined;

  private constructor(
    private readonly client: EtcdClient,
    private readonly watchResumeMs: number,
    private readonly watchFeedEvents: number,
  ) {}

  /** Connects and checks that a member answers a read; rejects naming the endpoints otherwise. */
  static async connect(opts: EtcdStoreOptions): Promise<EtcdStore> {
    const client = await EtcdClient.create(opts);
    try {
      await client.ready(opts.dialTimeoutMs ?? 20_000);
      const store = new EtcdStore(client, opts.watchResumeMs ?? 60_000, opts.watchFeedEvents ?? 10_000);
      await store.currentRevision();
      return store;
    } catch (err) {
      client.close();
      if (err instanceof KnodeError) throw err;
      throw new KnodeError('ERR_ETCD_UNAVAILABLE', `etcd at ${opts.endpoints.join(',')} did not answer: ${(err as Error).message}`, { cause: err });
    }
  }

  private checkOpen(): void {
    if (this.closed) throw new StoreClosedError();
  }

  /** Turns a gRPC failure into the Store's errors (and a closed store's cancelled calls into StoreClosedError). */
  private async failure(err: unknown, requested?: number): Promise<never> {
    if (this.closed) throw new StoreClosedError();
    if (isGrpcError(err)) {
      if (err.details.includes(ETCD_COMPACTED) && requested !== undefined) {
        this.compacted = undefined;
        throw new CompactedError(requested, await this.compactedRevision());
      }
      if (err.details.includes(ETCD_FUTURE_REV) && requested !== undefined) {
        throw new FutureRevisionError(requested, await this.currentRevision());
      }
      throw new StoreError('ERR_ETCD_REQUEST', `etcd request failed (${grpc.status[err.code] ?? err.code}): ${err.details}`, { cause: err });
    }
    throw err;
  }

  async get(key: string): Promise<KeyValue | undefined> {
    this.checkOpen();
    try {
      const res = await this.client.range({ key: Buffer.from(key) });
      const kv = res.kvs[0];
      return kv === undefined ? undefined : toKeyValue(kv);
    } catch (err) {
      return this.failure(err);
    }
  }

  async list(prefix: string, opts: ListOptions = {}): Promise<ListResult> {
    this.checkOpen();
    const p = Buffer.from(prefix);
    const start = opts.startKey !== undefined ? Buffer.from(opts.startKey) : p.length === 0 ? Buffer.from([0]) : p;
    const asked = opts.revision !== undefined && opts.revision > 0 ? opts.revision : undefined;
    try {
      const res = await this.client.range({
        key: start,
        range_end: prefixEnd(p),
        limit: opts.limit ?? 0,
        revision: asked !== undefined ? toEtcd(asked) : 0,
      });
      const items = res.kvs.map(toKeyValue);
      return { items, revision: asked ?? fromEtcd(res.header.revision), more: res.more, remaining: res.more ? res.count - items.length : 0 };
    } catch (err) {
      return this.failure(err, asked);
    }
  }

  async count(prefix: string): Promise<number> {
    this.checkOpen();
    const p = Buffer.from(prefix);
    try {
      const res = await this.client.range({ key: p.length === 0 ? Buffer.from([0]) : p, range_end: prefixEnd(p), count_only: true });
      return res.count;
    } catch (err) {
      return this.failure(err);
    }
  }

  async create(key: string, value: string): Promise<KeyValue> {
    this.checkOpen();
    const k = Buffer.from(key);
    try {
      const res = await this.client.txn({
        compare: [{ target: 'CREATE', result: 'EQUAL', key: k, create_revision: 0 }],
        success: [{ request_put: { key: k, value: Buffer.from(value) } }],
        failure: [],
      });
      if (!res.succeeded) throw new KeyExistsError(key);
      const rev = fromEtcd(res.header.revision);
      return { key, value, createRevision: rev, modRevision: rev };
    } catch (err) {
      if (err instanceof StoreError) throw err;
      return this.failure(err);
    }
  }

  async update(key: string, value: string, expectedRevision: number): Promise<KeyValue> {
    this.checkOpen();
    const k = Buffer.from(key);
    try {
      const res = await this.client.txn({
        compare: [{ target: 'MOD', result: 'EQUAL', key: k, mod_revision: toEtcd(expectedRevision) }],
        success: [{ request_put: { key: k, value: Buffer.from(value), prev_kv: true } }],
        failure: [rangeOf(k)],
      });
      if (!res.succeeded) throw this.refused(key, expectedRevision, res.responses[0]?.response_range?.kvs[0]);
      const prev = res.responses[0]?.response_put?.prev_kv;
      if (!prev) throw new StoreError('ERR_ETCD_PROTOCOL', `etcd put of ${key} returned no previous value`);
      return { key, value, createRevision: fromEtcd(prev.create_revision), modRevision: fromEtcd(res.header.revision) };
    } catch (err) {
      if (err instanceof StoreError) throw err;
      return this.failure(err);
    }
  }

  async delete(key: string, expectedRevision?: number): Promise<KeyValue> {
    this.checkOpen();
    const k = Buffer.from(key);
    try {
      const res = await this.client.txn({
        compare: [
          expectedRevision !== undefined
            ? { target: 'MOD', result: 'EQUAL', key: k, mod_revision: toEtcd(expectedRevision) }
            : { target: 'CREATE', result: 'GREATER', key: k, create_revision: 0 },
        ],
        success: [{ request_delete_range: { key: k, prev_kv: true } }],
        failure: [rangeOf(k)],
      });
      if (!res.succeeded) throw this.refused(key, expectedRevision ?? 0, res.responses[0]?.response_range?.kvs[0]);
      const prev = res.responses[0]?.response_delete_range?.prev_kvs[0];
      if (!prev) throw new StoreError('ERR_ETCD_PROTOCOL', `etcd delete of ${key} returned no previous value`);
      return { ...toKeyValue(prev), modRevision: fromEtcd(res.header.revision) };
    } catch (err) {
      if (err instanceof StoreError) throw err;
      return this.failure(err);
    }
  }

  private refused(key: string, expectedRevision: number, current: EtcdKeyValue | undefined): StoreError {
    return current === undefined ? new KeyNotFoundError(key) : new ConflictError(key, expectedRevision, toKeyValue(current));
  }

  watch(prefix: string, opts: WatchOptions, handlers: WatchHandlers): void {
    if (opts.signal.aborted) return;
    if (this.closed) {
      queueMicrotask(() => handlers.onError(new StoreClosedError()));
      return;
    }
    let cancel: (() => void) | undefined;
    let ended = false;
    const finish = (err?: Error): void => {
      if (ended) return;
      ended = true;
      this.watches.delete(onClose);
      opts.signal.removeEventListener('abort', onAbort);
      cancel?.();
      if (err !== undefined && !opts.signal.aborted) handlers.onError(err);
    };
    const onClose = (): void => finish(new StoreClosedError());
    const onAbort = (): void => finish();
    this.watches.add(onClose);
    opts.signal.addEventListener('abort', onAbort, { once: true });
    const guarded: WatchHandlers = {
      onEvents: (events) => {
        if (!ended) handlers.onEvents(events);
      },
      onError: (err) => finish(err),
    };

    // The contract refuses a start below the compacted revision (etcd itself would still replay the
    // compacted revision's own events), so that is checked first.
    void this.knownCompacted()
      .then(async (compacted) => {
        if (ended) return;
        if (opts.fromRevision < compacted) {
          finish(new CompactedError(opts.fromRevision, compacted));
          return;
        }
        const feed = await this.feedFor(opts.fromRevision);
        if (ended) return;
        if (feed !== undefined) {
          cancel = feed.join(prefix, opts.fromRevision, guarded);
          if (ended) cancel(); // the watcher ended while its backlog was handed over
          return;
        }
        const own = resumableWatch(this.client, {
          prefix,
          fromRevision: opts.fromRevision,
          resumeMs: this.watchResumeMs,
          onBatch: (batch) => {
            try {
              guarded.onEvents(batch);
            } catch (err) {
              finish(err instanceof Error ? err : new Error(String(err)));
            }
          },
          onEnd: (err) => finish(err),
        });
        cancel = () => own.cancel();
      })
      .catch((err: unknown) => finish(err instanceof Error ? err : new Error(String(err))));
  }

  /**
   * The shared feed if it can serve a watch from `fromRevision`. The first watch starts it, from its
   * own revision or the current one if that is lower (a watch from a future revision must not hold
   * the feed back for everybody).
   */
  private async feedFor(fromRevision: number): Promise<WatchFeed | undefined> {
    if (this.feed === undefined) {
      const start = Math.min(fromRevision, await this.currentRevision());
      if (this.feed === undefined) {
        const feed: WatchFeed = new WatchFeed(this.client, start, { resumeMs: this.watchResumeMs, maxEvents: this.watchFeedEvents }, () => {
          if (this.feed === feed) this.feed = undefined;
        });
        this.feed = feed;
      }
    }
    return this.feed.covers(fromRevision) ? this.feed : undefined;
  }

  async compact(revision: number): Promise<void> {
    this.checkOpen();
    const compacted = await this.compactedRevision();
    if (revision <= compacted) return;
    const current = await this.currentRevision();
    if (revision > current) throw new FutureRevisionError(revision, current);
    try {
      await this.client.compact(toEtcd(revision));
      this.compacted = Math.max(this.compacted ?? 0, revision);
    } catch (err) {
      // Another control plane compacted further meanwhile: nothing left to do here.
      if (isGrpcError(err) && err.details.includes(ETCD_COMPACTED)) {
        this.compacted = undefined;
        return;
      }
      return this.failure(err);
    }
  }

  async currentRevision(): Promise<number> {
    this.checkOpen();
    try {
      const res = await this.client.range({ key: Buffer.from([0]), count_only: true });
      return fromEtcd(res.header.revision);
    } catch (err) {
      return this.failure(err);
    }
  }

  /**
   * Another control plane may have compacted since we last looked, so a known value is checked with
   * one read at it (it stays readable until a later compaction); only an unknown or outdated value
   * costs the bisection.
   */
  async compactedRevision(): Promise<number> {
    this.checkOpen();
    if (this.compacted !== undefined && (await this.readableAt(toEtcd(this.compacted)))) return this.compacted;
    return this.findCompacted(this.compacted !== undefined ? toEtcd(this.compacted) : 1);
  }

  /** What watches check against: the last known value, asking etcd only when none is known. */
  private async knownCompacted(): Promise<number> {
    return this.compacted ?? this.compactedRevision();
  }

  private async readableAt(rev: number): Promise<boolean> {
    try {
      await this.client.range({ key: Buffer.from([0]), count_only: true, revision: rev });
      return true;
    } catch (err) {
      if (isGrpcError(err) && err.details.includes(ETCD_COMPACTED)) return false;
      return this.failure(err);
    }
  }

  /** The oldest readable etcd revision at or above `from`, by bisection, as a knode revision. */
  private async findCompacted(from: number): Promise<number> {
    let lo = from; // etcd revision 1 always exists: never compacted if it is readable
    let hi = toEtcd(await this.currentRevision()); // the current revision is always readable
    if (await this.readableAt(lo)) {
      this.compacted = fromEtcd(lo);
      return this.compacted;
    }
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (await this.readableAt(mid)) hi = mid;
      else lo = mid;
    }
    this.compacted = fromEtcd(hi);
    return this.compacted;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const stop of [...this.watches]) stop();
    this.feed?.end(new StoreClosedError());
    this.client.close();
  }
}

function rangeOf(key: Buffer): RequestOp {
  return { request_range: { key } };
}
