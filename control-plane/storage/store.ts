/**
 * The storage contract of the control plane: a revisioned key/value store with etcd's semantics,
 * small enough that a backend is a few hundred lines (in the spirit of kine's interface).
 *
 * - Every successful write (create, update, delete) gets the next global revision; revisions only grow.
 * - A key's `modRevision` is the revision of its last write, `createRevision` that of its creation.
 *   The apiserver uses `modRevision` as the object's resourceVersion.
 * - Conditional writes (create-if-absent, update/delete-if-revision) are atomic: two racing writers
 *   never both succeed.
 * - History is kept until `compact(rev)`: `list` at an older revision and `watch` from an older revision
 *   work down to the compacted revision and fail with `CompactedError` below it.
 * - Watch delivers every change after `fromRevision`, in revision order, exactly once, without polling.
 *
 * Values are opaque strings (the apiserver stores JSON).
 */

export interface KeyValue {
  readonly key: string;
  readonly value: string;
  readonly createRevision: number;
  readonly modRevision: number;
}

export interface ListOptions {
  /** Read as of this revision (0 or absent: the current revision). Below the compacted revision: CompactedError. */
  readonly revision?: number;
  /** Return at most this many keys (0 or absent: no limit). */
  readonly limit?: number;
  /** Start at this key (inclusive), for pagination. Must be within the prefix. */
  readonly startKey?: string;
}

export interface ListResult {
  readonly items: readonly KeyValue[];
  /** The revision the list was read at (the current revision when none was asked). */
  readonly revision: number;
  /** True when more keys exist after the last returned one. */
  readonly more: boolean;
  /** How many keys remain after this page (when `more`). */
  readonly remaining: number;
}

export type WatchEvent =
  | { readonly type: 'put'; readonly kv: KeyValue; readonly prev?: KeyValue }
  /** `kv` is the deleted key's last value, with `modRevision` set to the deletion's revision. */
  | { readonly type: 'delete'; readonly kv: KeyValue; readonly prev: KeyValue };

export interface WatchOptions {
  /** Deliver events with revision > fromRevision. Below the compacted revision: CompactedError at start. */
  readonly fromRevision: number;
  /** The watch ends (without error) when this aborts. */
  readonly signal: AbortSignal;
}

/**
 * A running watch. Events arrive through `onEvents` in revision order, grouped per revision.
 * `onError` is called once if the watch cannot continue (e.g. the store closed); it is then over.
 */
export interface WatchHandlers {
  onEvents(events: readonly WatchEvent[]): void;
  onError(err: Error): void;
}

export interface Store {
  get(key: string): Promise<KeyValue | undefined>;
  /** Keys starting with `prefix`, sorted by key. */
  list(prefix: string, opts?: ListOptions): Promise<ListResult>;
  /** Count of keys under a prefix at the current revision. */
  count(prefix: string): Promise<number>;
  /** Creates the key; KeyExistsError if it exists. */
  create(key: string, value: string): Promise<KeyValue>;
  /**
   * Replaces the value if the key's modRevision equals `expectedRevision`.
   * KeyNotFoundError if the key is absent, ConflictError (carrying the current KeyValue) on a mismatch.
   */
  update(key: string, value: string, expectedRevision: number): Promise<KeyValue>;
  /**
   * Deletes the key, if `expectedRevision` is given only when it matches (ConflictError otherwise).
   * KeyNotFoundError if absent. Returns the deleted value with the deletion revision as modRevision.
   */
  delete(key: string, expectedRevision?: number): Promise<KeyValue>;
  /** Starts watching keys under `prefix`; registration is synchronous with respect to later writes. */
  watch(prefix: string, opts: WatchOptions, handlers: WatchHandlers): void;
  /** Discards history at revisions < `revision` (keeps the latest value of every live key). */
  compact(revision: number): Promise<void>;
  currentRevision(): Promise<number>;
  /** The oldest revision still readable (the last compaction). */
  compactedRevision(): Promise<number>;
  close(): Promise<void>;
}
