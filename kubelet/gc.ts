/**
 * Container garbage collection: every `periodMs` (1 min, upstream's ContainerGCPeriod) read the
 * runtime, let planContainerGC (gc-plan.ts, pure) pick the dead containers and sandboxes to drop, and
 * remove them through the CRI. The plan keeps the newest dead instance of each container of an active
 * pod (what `kubectl logs --previous` reads) and never touches anything running.
 *
 * "Active" pods come from the caller (the pod sources: pods that exist and are not being deleted).
 * The first round waits until `ready()` says the sources have synced: before that every pod would
 * look inactive and lose its previous containers.
 *
 * Never throws out of `run`; a failed removal is logged and retried next round (RemoveContainer and
 * RemovePodSandbox are idempotent). Cost model per round: one full runtime read (2 lists + a status
 * per container) and one call per removal.
 */
import type { Clock } from '../lib/clock.js';
import { realClock } from '../lib/clock.js';
import type { Logger } from '../lib/log.js';
import { silentLogger } from '../lib/log.js';
import type { RuntimeService } from './cri/services.js';
import { planContainerGC } from './gc-plan.js';
import type { ContainerGCPlan } from './gc-plan.js';
import { readRuntimeState } from './runtime-state.js';

export interface ContainerGCOptions {
  readonly runtime: RuntimeService;
  /** UIDs of pods that exist and are not terminating. */
  readonly activePodUIDs: () => ReadonlySet<string>;
  /** Whether the active set is known yet (sources synced). */
  readonly ready: () => boolean;
  readonly clock?: Clock;
  readonly log?: Logger;
  readonly periodMs?: number;
  readonly minAgeMs?: number;
  readonly maxPerPodContainer?: number;
}

export interface GCStats {
  rounds: number;
  containersRemoved: number;
  sandboxesRemoved: number;
  failures: number;
}

export class ContainerGC {
  readonly stats: GCStats = { rounds: 0, containersRemoved: 0, sandboxesRemoved: 0, failures: 0 };
  private readonly clock: Clock;
  private readonly log: Logger;

  constructor(private readonly opts: ContainerGCOptions) {
    this.clock = opts.clock ?? realClock;
    this.log = (opts.log ?? silentLogger()).child({ component: 'container-gc' });
  }

  /** One round; returns what it planned. Never throws. */
  async collect(signal?: AbortSignal): Promise<ContainerGCPlan> {
    const empty: ContainerGCPlan = { removeContainers: [], removeSandboxes: [] };
    if (!this.opts.ready()) return empty;
    this.stats.rounds++;
    let plan: ContainerGCPlan;
    try {
      const pods = await readRuntimeState(this.opts.runtime, signal !== undefined ? { signal } : {});
      plan = planContainerGC(pods, {
        activePodUIDs: this.opts.activePodUIDs(),
        now: this.clock.now().getTime(),
        ...(this.opts.minAgeMs !== undefined ? { minAge: this.opts.minAgeMs } : {}),
        ...(this.opts.maxPerPodContainer !== undefined ? { maxPerPodContainer: this.opts.maxPerPodContainer } : {}),
      });
    } catch (err) {
      this.stats.failures++;
      this.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'reading the runtime for garbage collection failed');
      return empty;
    }
    for (const id of plan.removeContainers) {
      try {
        await this.opts.runtime.removeContainer({ containerId: id });
        this.stats.containersRemoved++;
      } catch (err) {
        this.stats.failures++;
        this.log.warn({ id, err: err instanceof Error ? err.message : String(err) }, 'removing a dead container failed');
      }
    }
    for (const id of plan.removeSandboxes) {
      try {
        await this.opts.runtime.removePodSandbox({ podSandboxId: id });
        this.stats.sandboxesRemoved++;
      } catch (err) {
        this.stats.failures++;
        this.log.warn({ id, err: err instanceof Error ? err.message : String(err) }, 'removing a dead sandbox failed');
      }
    }
    if (plan.removeContainers.length + plan.removeSandboxes.length > 0) {
      this.log.info({ containers: plan.removeContainers.length, sandboxes: plan.removeSandboxes.length }, 'garbage collected');
    }
    return plan;
  }

  async run(signal: AbortSignal): Promise<void> {
    const period = this.opts.periodMs ?? 60_000;
    while (!signal.aborted) {
      try {
        await this.clock.sleep(period, signal);
      } catch {
        return;
      }
      await this.collect(signal);
    }
  }
}
