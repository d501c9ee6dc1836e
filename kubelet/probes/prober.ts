/**
 * Runs one probe of a container: picks the handler the spec names, retries up to three times while
 * the handler errors (as upstream's runProbeWithRetries), and records the event the pure
 * `probeEvent` decides (upstream's wording) through the sink its owner gives it:
 *   Warning Unhealthy     `Liveness probe failed: <output>`
 *   Warning ProbeWarning  `Readiness probe warning: <output>` (the result still counts as success)
 *   Warning Unhealthy     `Startup probe errored and resulted in unknown state: <error>`
 * An errored probe is reported as `error` so the worker throws it away instead of counting it.
 */
import type { Container, Pod, Probe } from '../../api/core/pod.js';
import type { ProbeKind } from '../types.js';
import { ProbeConfigError } from './errors.js';
import { buildHttpGetRequest } from './http-get.js';
import type { ProbeRunners } from './runners.js';
import { formatPod, probeKindTitle, probeSettings, resolveContainerPort } from './settings.js';
import type { ContainerEventSink, ProbeOutcome } from './settings.js';

/** Upstream's maxProbeRetries: handler errors (not failures) are retried at once. */
export const MAX_PROBE_RETRIES = 3;

export interface ProbeTarget {
  readonly pod: Pod;
  readonly container: Container;
  readonly containerId: string;
  /** The pod's IP; the node's IP for hostNetwork pods. */
  readonly podIP: string;
}

export type ProbeVerdict =
  | { readonly result: 'success' | 'failure'; readonly output: string }
  | { readonly result: 'error'; readonly error: Error };

/** What a worker needs from a prober; a fake in unit tests. */
export interface ProbeRunner {
  probe(kind: ProbeKind, probe: Probe, target: ProbeTarget, signal?: AbortSignal): Promise<ProbeVerdict>;
}

/** What a probe run asks to record about its container; the prober's owner writes it. */
export interface ProbeEvent {
  readonly type: 'Warning';
  readonly reason: 'Unhealthy' | 'ProbeWarning';
  readonly message: string;
}

/**
 * The event upstream's prober records for one probe run (prober.go), or undefined for a clean
 * success. Upstream records on every failed run, not only once the threshold is reached; the event
 * recorder folds repeats into `count`. A run cancelled because its worker stopped records nothing.
 * The output goes in as the handler produced it (at most 10 KiB), untrimmed, as upstream's does.
 */
export function probeEvent(kind: ProbeKind, outcome: ProbeOutcome, cancelled = false): ProbeEvent | undefined {
  const title = probeKindTitle(kind);
  switch (outcome.result) {
    case 'success':
      return undefined;
    case 'warning':
      return { type: 'Warning', reason: 'ProbeWarning', message: `${title} probe warning: ${outcome.output}` };
    case 'failure':
      return { type: 'Warning', reason: 'Unhealthy', message: `${title} probe failed: ${outcome.output}` };
    case 'unknown':
      if (cancelled) return undefined;
      return { type: 'Warning', reason: 'Unhealthy', message: `${title} probe errored and resulted in unknown state: ${outcome.error.message}` };
    default: {
      const never: never = outcome;
      return never;
    }
  }
}

export class Prober implements ProbeRunner {
  constructor(
    private readonly runners: ProbeRunners,
    private readonly events?: ContainerEventSink,
  ) {}

  async probe(kind: ProbeKind, probe: Probe, target: ProbeTarget, signal?: AbortSignal): Promise<ProbeVerdict> {
    let outcome: ProbeOutcome = { result: 'unknown', output: '', error: new Error('probe not run') };
    for (let i = 0; i < MAX_PROBE_RETRIES; i++) {
      outcome = await this.runOnce(probe, target, signal);
      if (outcome.result !== 'unknown' || signal?.aborted) break;
    }
    const event = probeEvent(kind, outcome, signal?.aborted === true);
    if (event) this.events?.({ pod: target.pod, containerName: target.container.name, ...event });
    switch (outcome.result) {
      case 'success':
      case 'warning':
        return { result: 'success', output: outcome.output };
      case 'failure':
        return { result: 'failure', output: outcome.output };
      case 'unknown':
        return { result: 'error', error: outcome.error };
      default: {
        const never: never = outcome;
        return never;
      }
    }
  }

  private async runOnce(probe: Probe, target: ProbeTarget, signal?: AbortSignal): Promise<ProbeOutcome> {
    const { timeoutSeconds } = probeSettings(probe);
    try {
      if (probe.exec) {
        return await this.runners.exec(target.containerId, probe.exec.command ?? [], timeoutSeconds, signal);
      }
      if (probe.httpGet) {
        const req = buildHttpGetRequest(probe.httpGet, target.container, target.podIP, 'probe');
        return await this.runners.http(req, timeoutSeconds, signal);
      }
      if (probe.tcpSocket) {
        const host = probe.tcpSocket.host !== undefined && probe.tcpSocket.host !== '' ? probe.tcpSocket.host : target.podIP;
        return await this.runners.tcp(host, resolveContainerPort(probe.tcpSocket.port, target.container), timeoutSeconds, signal);
      }
      if (probe.grpc) {
        return await this.runners.grpc(target.podIP, probe.grpc.port, probe.grpc.service ?? '', timeoutSeconds, signal);
      }
      throw new ProbeConfigError(`missing probe handler for ${formatPod(target.pod)}:${target.container.name}`);
    } catch (err) {
      return { result: 'unknown', output: '', error: err instanceof Error ? err : new Error(String(err)) };
    }
  }
}
