/**
 * Periodic compaction: every `intervalMs` (default 5 minutes, as the upstream apiserver) compacts
 * the store to `current - keepRevisions`, so history stays bounded while watchers that fell a
 * little behind can still resume. The decision is the pure `planCompaction`; the loop only sleeps
 * on an injected Clock, asks, and applies, so tests drive it with a FakeClock and no real waits.
 *
 * A failed pass is reported through `onError` and retried at the next tick: the loop never throws.
 * It ends when `signal` aborts; the returned promise then resolves.
 */
import { realClock, type Clock } from '../../lib/clock.js';
import type { Store } from './store.js';

export const DEFAULT_COMPACTION_INTERVAL_MS = 5 * 60 * 1000;
/** Revisions of history kept behind the head (kine keeps 1000 as well). */
export const DEFAULT_KEEP_REVISIONS = 1000;

export interface CompactorOptions {
  readonly intervalMs?: number;
  readonly keepRevisions?: number;
  readonly clock?: Clock;
  /** Called after each compaction with the new compacted revision. */
  readonly onCompacted?: (revision: number) => void;
  /** Called when a pass fails; the next tick tries again. */
  readonly onError?: (err: unknown) => void;
}

/** The revision to compact to, or undefined when nothing new would be discarded. */
export function planCompaction(current: number, compacted: number, keepRevisions: number): number | undefined {
  const target = current - Math.max(0, keepRevisions);
  return target > compacted ? target : undefined;
}

type CompactableStore = Pick<Store, 'currentRevision' | 'compactedRevision' | 'compact'>;

/** One pass: compacts if the plan says so; returns the new compacted revision, if any. */
export async function compactOnce(store: CompactableStore, keepRevisions: number): Promise<number | undefined> {
  const [current, compacted] = await Promise.all([store.currentRevision(), store.compactedRevision()]);
  const target = planCompaction(current, compacted, keepRevisions);
  if (target !== undefined) await store.compact(target);
  return target;
}

export async function startCompactor(store: CompactableStore, opts: CompactorOptions, signal: AbortSignal): Promise<void> {
  const clock = opts.clock ?? realClock;
  const intervalMs = opts.intervalMs ?? DEFAULT_COMPACTION_INTERVAL_MS;
  const keepRevisions = opts.keepRevisions ?? DEFAULT_KEEP_REVISIONS;
  while (!signal.aborted) {
    try {
      await clock.sleep(intervalMs, signal);
    } catch {
      if (signal.aborted) return;
    }
    try {
      const compacted = await compactOnce(store, keepRevisions);
      if (compacted !== undefined) opts.onCompacted?.(compacted);
    } catch (err) {
      opts.onError?.(err);
    }
  }
}
