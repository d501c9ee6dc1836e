/**
 * Expectations, as upstream's ControllerExpectations / UIDTrackingControllerExpectations: after a
 * ReplicaSet sync creates N pods (or deletes some), its informer has not seen them yet, so a sync run
 * right away would count too few (or too many) pods and create (or delete) again. The controller records
 * what it expects to observe and skips managing replicas for that key until the informer has observed
 * every create and delete, or until the record is 5 minutes old (a watch event lost for good must not
 * wedge the ReplicaSet forever).
 *
 * Deletions are tracked by pod key, so seeing a pod first get a deletionTimestamp and later disappear
 * counts once. Also `slowStartBatch`, upstream's way of issuing creates: 1, then 2, 4, 8... in parallel,
 * stopping at the first failing batch, so a template the apiserver rejects costs one request, not 500.
 */
import type { Clock } from '../../lib/clock.js';

/** Upstream ExpectationsTimeout. */
export const EXPECTATIONS_TTL_MS = 5 * 60_000;

interface ExpectationRecord {
  add: number;
  del: number;
  readonly deleteKeys: Set<string>;
  readonly at: number;
}

export class Expectations {
  private readonly records = new Map<string, ExpectationRecord>();

  constructor(
    private readonly clock: Pick<Clock, 'now'>,
    private readonly ttlMs = EXPECTATIONS_TTL_MS,
  ) {}

  /** Replaces the key's record: `n` creates to observe. */
  expectCreations(key: string, n: number): void {
    this.records.set(key, { add: n, del: 0, deleteKeys: new Set(), at: this.clock.now().getTime() });
  }

  /** Replaces the key's record: these pods' deletions to observe. */
  expectDeletions(key: string, podKeys: readonly string[]): void {
    const deleteKeys = new Set(podKeys);
    this.records.set(key, { add: 0, del: deleteKeys.size, deleteKeys, at: this.clock.now().getTime() });
  }

  /** A pod of this controller appeared (or a create we counted on will never happen). */
  creationObserved(key: string, n = 1): void {
    const r = this.records.get(key);
    if (r !== undefined) r.add -= n;
  }

  /** A pod of this controller is being deleted or gone; counted once per expected pod. */
  deletionObserved(key: string, podKey: string): void {
    const r = this.records.get(key);
    if (r === undefined || !r.deleteKeys.delete(podKey)) return;
    r.del--;
  }

  /** True when nothing is outstanding, nothing was ever recorded, or the record expired. */
  satisfied(key: string): boolean {
    const r = this.records.get(key);
    if (r === undefined) return true;
    if (r.add <= 0 && r.del <= 0) return true;
    return this.clock.now().getTime() - r.at > this.ttlMs;
  }

  /** What is still expected (tests, logs). */
  pending(key: string): { add: number; del: number } | undefined {
    const r = this.records.get(key);
    return r === undefined ? undefined : { add: r.add, del: r.del };
  }

  /** The controller is gone: forget it. */
  delete(key: string): void {
    this.records.delete(key);
  }
}

/** Upstream SlowStartInitialBatchSize. */
export const SLOW_START_INITIAL_BATCH = 1;

export interface BatchResult {
  readonly successes: number;
  /** The first error of the first failing batch; later batches were not started. */
  readonly error?: unknown;
}

/**
 * Calls `fn` `count` times in batches of 1, 2, 4, ... (each batch in parallel, the next one only once
 * the whole batch succeeded). Never throws: failures are returned.
 */
export async function slowStartBatch(count: number, initial: number, fn: () => Promise<void>): Promise<BatchResult> {
  let remaining = count;
  let successes = 0;
  for (let size = Math.min(remaining, initial); size > 0; size = Math.min(2 * size, remaining)) {
    const results = await Promise.allSettled(Array.from({ length: size }, () => fn()));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    successes += results.filter((r) => r.status === 'fulfilled').length;
    if (failed !== undefined) return { successes, error: failed.reason };
    remaining -= size;
  }
  return { successes };
}
