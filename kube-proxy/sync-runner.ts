/**
 * The proxy's rate-limited sync runner (upstream's BoundedFrequencyRunner, reduced to what the proxy
 * uses): `request()` asks for a sync; syncs start at most once per `minIntervalMs` (a change after a
 * quiet spell runs at once, a burst is folded into the next allowed run); a periodic sync runs every
 * `periodMs` whatever happens (the proxy makes it a full resync); a failed sync is retried after a
 * back-off that starts at `minIntervalMs` (at least 1 s) and doubles up to `periodMs`, each delay
 * stretched by up to 20% of jitter so agents do not retry in step.
 *
 * One sync at a time: a request made while a sync runs is served by the next one. Time comes from an
 * injected Clock and the loop ends when its signal aborts, so tests drive it without waiting.
 */
import type { Clock } from '../lib/clock.js';

/** What a sync answers: whether it worked. `periodic` says the periodic deadline was reached. */
export type SyncFn = (periodic: boolean) => Promise<boolean>;

export interface SyncRunnerOptions {
  readonly clock: Clock;
  readonly minIntervalMs: number;
  readonly periodMs: number;
  readonly sync: SyncFn;
  /** Uniform in [0, 1): injected so tests get fixed delays. */
  readonly random?: () => number;
  /** Called when a periodic deadline passes (the health check counts it as queued work). */
  readonly onPeriodic?: () => void;
}

/** The delay before retry number `failures` (1-based). Pure. */
export function retryDelay(failures: number, minIntervalMs: number, periodMs: number, random: number): number {
  const first = Math.max(minIntervalMs, 1000);
  const base = Math.min(first * 2 ** Math.max(failures - 1, 0), Math.max(periodMs, first));
  return Math.round(base * (1 + 0.2 * random));
}

export class SyncRunner {
  private requested = true;
  private lastStart = Number.NEGATIVE_INFINITY;
  private lastPeriodic: number | undefined;
  private retryAt: number | undefined;
  private failures = 0;
  private wake: (() => void) | undefined;
  private readonly random: () => number;

  constructor(private readonly opts: SyncRunnerOptions) {
    this.random = opts.random ?? Math.random;
  }

  /** Asks for a sync as soon as the rate limit allows. */
  request(): void {
    this.requested = true;
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  /** Consecutive failed syncs (0 after a success). */
  get consecutiveFailures(): number {
    return this.failures;
  }

  /** Runs syncs until `signal` aborts. The first sync starts at once. */
  async run(signal: AbortSignal): Promise<void> {
    const { clock } = this.opts;
    this.lastPeriodic = clock.now().getTime();
    while (!signal.aborted) {
      const now = clock.now().getTime();
      const periodicAt = (this.lastPeriodic ?? now) + this.opts.periodMs;
      const wanted = this.requested || this.retryAt !== undefined;
      const dueAt = wanted ? Math.max(this.lastStart + this.opts.minIntervalMs, this.retryAt ?? Number.NEGATIVE_INFINITY) : Number.POSITIVE_INFINITY;
      const at = Math.min(dueAt, periodicAt);
      if (at > now) {
        await this.sleep(at - now, signal);
        continue;
      }
      const periodic = now >= periodicAt;
      if (periodic) {
        this.lastPeriodic = now;
        this.opts.onPeriodic?.();
      }
      this.requested = false;
      this.retryAt = undefined;
      this.lastStart = now;
      let ok: boolean;
      try {
        ok = await this.opts.sync(periodic);
      } catch {
        ok = false;
      }
      if (ok) {
        this.failures = 0;
      } else {
        this.failures++;
        this.retryAt = clock.now().getTime() + retryDelay(this.failures, this.opts.minIntervalMs, this.opts.periodMs, this.random());
      }
    }
  }

  /** Sleeps `ms` on the clock or until `request()`; never throws. */
  private async sleep(ms: number, signal: AbortSignal): Promise<void> {
    const ac = new AbortController();
    const onAbort = (): void => ac.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    const woken = new Promise<void>((resolve) => {
      this.wake = resolve;
    });
    try {
      await Promise.race([this.opts.clock.sleep(ms, ac.signal).catch(() => undefined), woken]);
    } finally {
      this.wake = undefined;
      ac.abort();
      signal.removeEventListener('abort', onAbort);
    }
  }
}
