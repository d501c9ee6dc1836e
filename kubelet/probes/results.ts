/**
 * The probe results cache: the latest published result per (container id, probe kind), read by the
 * pod status generator and pod actions through the `ProbeResults` contract (kubelet/types.ts).
 *
 * Reading it: a result exists only while a worker probes that container. `get` answers `unknown` for
 * anything else, so callers decide with the container spec: no readiness probe means ready once
 * running, no startup probe means started once running. Liveness is only meaningful for a running
 * container. Cost: two map lookups per read.
 */
import type { ProbeKind, ProbeResult, ProbeResults } from '../types.js';

export class ProbeResultsCache implements ProbeResults {
  private readonly byContainer = new Map<string, Map<ProbeKind, ProbeResult>>();

  get(containerId: string, kind: ProbeKind): ProbeResult {
    return this.byContainer.get(containerId)?.get(kind) ?? 'unknown';
  }

  has(containerId: string, kind: ProbeKind): boolean {
    return this.byContainer.get(containerId)?.has(kind) ?? false;
  }

  /** Stores a result; true when it differs from the previous one (or there was none). */
  set(containerId: string, kind: ProbeKind, result: ProbeResult): boolean {
    let m = this.byContainer.get(containerId);
    if (!m) {
      m = new Map();
      this.byContainer.set(containerId, m);
    }
    const changed = m.get(kind) !== result;
    m.set(kind, result);
    return changed;
  }

  remove(containerId: string, kind: ProbeKind): void {
    const m = this.byContainer.get(containerId);
    if (!m) return;
    m.delete(kind);
    if (m.size === 0) this.byContainer.delete(containerId);
  }

  /** Number of containers with at least one result, for tests and metrics. */
  size(): number {
    return this.byContainer.size;
  }
}
