import { KnodeError } from '../../lib/errors.js';
import type { KeyValue } from './store.js';

export class StoreError extends KnodeError {}

export class KeyExistsError extends StoreError {
  constructor(readonly key: string) {
    super('ERR_STORE_KEY_EXISTS', `key ${key} already exists`);
  }
}

export class KeyNotFoundError extends StoreError {
  constructor(readonly key: string) {
    super('ERR_STORE_KEY_NOT_FOUND', `key ${key} not found`);
  }
}

export class ConflictError extends StoreError {
  constructor(
    readonly key: string,
    readonly expectedRevision: number,
    /** The key's current value (undefined if it was deleted meanwhile). */
    readonly current: KeyValue | undefined,
  ) {
    super(
      'ERR_STORE_CONFLICT',
      `key ${key} is at revision ${current?.modRevision ?? 'deleted'}, expected ${expectedRevision}`,
    );
  }
}

export class CompactedError extends StoreError {
  constructor(
    readonly requested: number,
    readonly compacted: number,
  ) {
    super('ERR_STORE_COMPACTED', `revision ${requested} has been compacted (oldest available is ${compacted})`);
  }
}

export class StoreClosedError extends StoreError {
  constructor() {
    super('ERR_STORE_CLOSED', 'store is closed');
  }
}

/** A read or compaction asked for a revision the store has not reached yet. */
export class FutureRevisionError extends StoreError {
  constructor(
    readonly requested: number,
    readonly current: number,
  ) {
    super('ERR_STORE_FUTURE_REVISION', `revision ${requested} is in the future (current is ${current})`);
  }
}

/**
 * A watcher fell too far behind: more than `limit` events were waiting for it. The watch is over;
 * the client must re-list and watch again from the list's revision (the apiserver answers 410 Gone).
 */
export class WatchOverflowError extends StoreError {
  constructor(readonly limit: number) {
    super('ERR_STORE_WATCH_OVERFLOW', `watcher fell behind by more than ${limit} events`);
  }
}

/** Another process holds the store's file; two servers on one file would hand out the same revisions. */
export class StoreInUseError extends StoreError {
  constructor(
    readonly path: string,
    options?: { cause?: unknown },
  ) {
    super('ERR_STORE_IN_USE', `store file ${path} is in use by another process`, options);
  }
}
