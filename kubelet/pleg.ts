/**
 * PLEG (pod lifecycle event generator), upstream's "generic" relisting flavour: every `periodMs` (1 s)
 * list the runtime's sandboxes and containers, fingerprint each pod UID's (id, state) pairs and report
 * the UIDs whose fingerprint changed since the previous relist (a container exited, a sandbox died,
 * something appeared or vanished). The pod workers re-sync exactly those pods, so a crashed container
 * is restarted within a second or so instead of at the next periodic resync.
 *
 * Only the two list calls are made (no per-container status): the worker reads the details itself.
 * The first relist reports every UID, so a restarted agent looks at every pod it left running.
 * A failed relist keeps the previous fingerprints (no spurious events) and is counted; `healthy`
 * tells whether the last relist succeeded recently (upstream's PLEG health check, 3 min there).
 *
 * Cost model: 2 CRI list calls per period, O(containers) hashing.
 */
import type { Clock } from '../lib/clock.js';
import { realClock } from '../lib/clock.js';
import type { Logger } from '../lib/log.js';
import { silentLogger } from '../lib/log.js';
import type { RuntimeService } from './cri/services.js';
import type { Container } from './cri/types-container.js';
import type { PodSandbox } from './cri/types-sandbox.js';
import { LABEL_POD_UID } from './types.js';

/** UID -> fingerprint of its sandboxes' and containers' states. Pure. */
export function fingerprintPods(sandboxes: readonly Pick<PodSandbox, 'id' | 'state' | 'labels'>[], containers: readonly Pick<Container, 'id' | 'state' | 'labels'>[]): Map<string, string> {
  const parts = new Map<string, string[]>();
  const add = (uid: string | undefined, entry: string): void => {
    if (uid === undefined || uid === '') return;
    let list = parts.get(uid);
    if (list === undefined) {
      list = [];
      parts.set(uid, list);
    }
    list.push(entry);
  };
  for (const s of sandboxes) add(s.labels[LABEL_POD_UID], `s:${s.id}:${s.state}`);
  for (const c of containers) add(c.labels[LABEL_POD_UID], `c:${c.id}:${c.state}`);
  const out = new Map<string, string>();
  for (const [uid, list] of parts) out.set(uid, list.sort().join(','));
  return out;
}

/** UIDs whose fingerprint differs between two relists (new, changed or gone). Pure. */
export function changedPods(prev: ReadonlyMap<string, string>, next: ReadonlyMap<string, string>): string[] {
  const out: string[] = [];
  for (const [uid, fp] of next) if (prev.get(uid) !== fp) out.push(uid);
  for (const uid of prev.keys()) if (!next.has(uid)) out.push(uid);
  return out;
}

export interface PlegOptions {
  readonly runtime: Pick<RuntimeService, 'listPodSandbox' | 'listContainers'>;
  readonly onChange: (uids: readonly string[]) => void;
  readonly clock?: Clock;
  readonly log?: Logger;
  readonly periodMs?: number;
  /** The last successful relist must be younger than this for `healthy` (default 3 min, upstream). */
  readonly healthThresholdMs?: number;
}

export interface PlegStats {
  relists: number;
  failures: number;
  events: number;
}

export class Pleg {
  readonly stats: PlegStats = { relists: 0, failures: 0, events: 0 };
  private prints: Map<string, string> | undefined;
  private lastOkAt: number | undefined;
  private readonly clock: Clock;
  private readonly log: Logger;
  private failingSince: number | undefined;

  constructor(private readonly opts: PlegOptions) {
    this.clock = opts.clock ?? realClock;
    this.log = (opts.log ?? silentLogger()).child({ component: 'pleg' });
  }

  /** UIDs seen in the runtime at the last successful relist. */
  runtimeUids(): string[] {
    return [...(this.prints?.keys() ?? [])];
  }

  /** UIDs with something alive (a ready sandbox, or a container not exited) at the last relist. */
  liveUids(): string[] {
    const out: string[] = [];
    for (const [uid, fp] of this.prints ?? []) if (/SANDBOX_READY|CONTAINER_RUNNING|CONTAINER_CREATED|CONTAINER_UNKNOWN/.test(fp)) out.push(uid);
    return out;
  }

  /** Whether at least one relist succeeded. */
  get synced(): boolean {
    return this.prints !== undefined;
  }

  get healthy(): boolean {
    if (this.lastOkAt === undefined) return false;
    return this.clock.now().getTime() - this.lastOkAt < (this.opts.healthThresholdMs ?? 180_000);
  }

  /** One relist; never throws. Returns the UIDs reported. */
  async relist(signal?: AbortSignal): Promise<string[]> {
    const call = signal !== undefined ? { signal } : {};
    let next: Map<string, string>;
    try {
      const [{ items }, { containers }] = await Promise.all([this.opts.runtime.listPodSandbox({}, call), this.opts.runtime.listContainers({}, call)]);
      next = fingerprintPods(items, containers);
    } catch (err) {
      this.stats.failures++;
      const now = this.clock.now().getTime();
      // log the first failure of a streak, then once a minute
      if (this.failingSince === undefined || now - this.failingSince >= 60_000) {
        this.failingSince = now;
        this.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'relisting the runtime failed');
      }
      return [];
    }
    this.failingSince = undefined;
    this.stats.relists++;
    this.lastOkAt = this.clock.now().getTime();
    const changed = changedPods(this.prints ?? new Map(), next);
    this.prints = next;
    if (changed.length > 0) {
      this.stats.events += changed.length;
      this.opts.onChange(changed);
    }
    return changed;
  }

  async run(signal: AbortSignal): Promise<void> {
    const period = this.opts.periodMs ?? 1_000;
    while (!signal.aborted) {
      await this.relist(signal);
      try {
        await this.clock.sleep(period, signal);
      } catch {
        return;
      }
    }
  }
}
