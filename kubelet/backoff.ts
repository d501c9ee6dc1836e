/**
 * Back-off windows for container restarts (CrashLoopBackOff) and image pulls (ImagePullBackOff), with
 * upstream's rules (client-go flowcontrol.Backoff as the kubelet configures it):
 *  - the first failure opens a 10 s window; every further one doubles it, up to 300 s;
 *  - a key whose last `next` is older than twice the maximum (10 minutes) starts again at 10 s: for a
 *    restart, the container ran for 10 minutes before failing again, so it counts as healthy;
 *  - no jitter (the kubelet's factor is 0).
 *
 * Two questions, two clocks: `inBackoff` takes `now` explicitly so the pure planners
 * (computePodActions) read it without touching time; `next` records "a restart/pull happens now" and
 * takes its time from the injected Clock, as the executor calls it at the moment it acts.
 *
 * Restart windows count from the failed container's finish (`since`); pull windows from the last
 * failed pull (the last `next`).
 *
 * Cost model: one map entry per key; `gc` drops entries idle for longer than 2 x max.
 */
import type { Clock } from '../lib/clock.js';
import type { Pod } from '../api/core/pod.js';
import { hashContainer } from './container-hash.js';

export const BACKOFF_INITIAL_MS = 10_000;
export const BACKOFF_MAX_MS = 300_000;

export interface BackoffState {
  readonly inBackoff: boolean;
  /** ms left in the window; 0 when not in back-off */
  readonly remainingMs: number;
  /** the current window length (the "10s" of upstream's message); 0 for an unknown key */
  readonly delayMs: number;
}

/** The read side, all a planner needs. */
export interface BackoffReader {
  /**
   * Whether `key` must still wait at `now`. `since` is the event the window counts from (a container's
   * finish time); without it the window counts from the last `next`.
   */
  inBackoff(key: string, now: number, since?: number): BackoffState;
}

export interface BackoffOptions {
  readonly initialMs?: number;
  readonly maxMs?: number;
}

interface Entry {
  delayMs: number;
  lastUpdate: number;
}

const NOT_IN_BACKOFF = (delayMs: number): BackoffState => ({ inBackoff: false, remainingMs: 0, delayMs });

export class Backoff implements BackoffReader {
  private readonly entries = new Map<string, Entry>();
  private readonly initialMs: number;
  private readonly maxMs: number;

  constructor(
    private readonly clock: Clock,
    opts: BackoffOptions = {},
  ) {
    this.initialMs = opts.initialMs ?? BACKOFF_INITIAL_MS;
    this.maxMs = opts.maxMs ?? BACKOFF_MAX_MS;
  }

  /** An event this long after the last update means the thing was healthy in between. */
  private expired(eventTime: number, entry: Entry): boolean {
    return eventTime - entry.lastUpdate > 2 * this.maxMs;
  }

  inBackoff(key: string, now: number = this.clock.now().getTime(), since?: number): BackoffState {
    const entry = this.entries.get(key);
    if (!entry) return NOT_IN_BACKOFF(0);
    const from = since ?? entry.lastUpdate;
    if (this.expired(since ?? now, entry)) return NOT_IN_BACKOFF(entry.delayMs);
    const remainingMs = from + entry.delayMs - now;
    return remainingMs > 0 ? { inBackoff: true, remainingMs, delayMs: entry.delayMs } : NOT_IN_BACKOFF(entry.delayMs);
  }

  /**
   * Records a failure-driven retry: opens (or doubles) the window. `eventTime` is what the failure is
   * dated by (the container's finish for restarts); it defaults to the clock, as for image pulls.
   */
  next(key: string, eventTime: number = this.clock.now().getTime()): void {
    const now = this.clock.now().getTime();
    const entry = this.entries.get(key);
    if (!entry || this.expired(eventTime, entry)) {
      this.entries.set(key, { delayMs: this.initialMs, lastUpdate: now });
      return;
    }
    entry.delayMs = Math.min(entry.delayMs * 2, this.maxMs);
    entry.lastUpdate = now;
  }

  /** The current window of `key`, 0 when unknown. */
  delay(key: string): number {
    return this.entries.get(key)?.delayMs ?? 0;
  }

  reset(key: string): void {
    this.entries.delete(key);
  }

  /** Forgets keys idle for more than twice the maximum (they would restart at the initial delay anyway). */
  gc(now: number = this.clock.now().getTime()): void {
    for (const [key, entry] of this.entries) if (this.expired(now, entry)) this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }
}

/** Restart back-off with upstream's defaults. */
export function createRestartBackoff(clock: Clock): Backoff {
  return new Backoff(clock);
}

/** Image pull back-off: the same schedule (upstream uses 10 s .. 300 s for both). */
export function createImagePullBackoff(clock: Clock): Backoff {
  return new Backoff(clock);
}

/**
 * Restart back-off key, as upstream's getStableKey: name, namespace, uid, container and its spec hash,
 * so a new image starts a fresh schedule.
 */
export function restartBackoffKey(pod: Pod, container: { readonly name: string; readonly image?: string }): string {
  const m = pod.metadata;
  return `${m.name ?? ''}_${m.namespace ?? ''}_${m.uid ?? ''}_${container.name}_${hashContainer(container)}`;
}

/** Image pull back-off key: per pod and image reference (upstream `<uid>_<image>`). */
export function imagePullBackoffKey(podUid: string, image: string): string {
  return `${podUid}_${image}`;
}

/**
 * A duration as Go's time.Duration prints it (`10s`, `1m20s`, `5m0s`, `1.5s`, `500ms`): upstream's
 * CrashLoopBackOff message embeds it, and users grep for it.
 */
export function formatGoDuration(ms: number): string {
  if (ms === 0) return '0s';
  const sign = ms < 0 ? '-' : '';
  const abs = Math.abs(ms);
  if (abs < 1000) return `${sign}${trimNumber(abs)}ms`;
  const hours = Math.floor(abs / 3_600_000);
  const minutes = Math.floor((abs % 3_600_000) / 60_000);
  const seconds = trimNumber((abs % 60_000) / 1000);
  if (hours > 0) return `${sign}${hours}h${minutes}m${seconds}s`;
  if (minutes > 0) return `${sign}${minutes}m${seconds}s`;
  return `${sign}${seconds}s`;
}

function trimNumber(n: number): string {
  return String(Number(n.toFixed(9)));
}
