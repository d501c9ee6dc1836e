/**
 * Probe settings with upstream's defaults, container port resolution, and the small shared vocabulary
 * of the prober (outcomes, events, Go-style durations in messages). Pure.
 */
import type { IntOrString } from '../../api/core/common.js';
import type { Container, Pod, Probe } from '../../api/core/pod.js';
import type { ProbeKind } from '../types.js';
import { ProbeConfigError } from './errors.js';

/** Upstream's defaults (k8s.io/api core/v1 SetDefaults_Probe). */
export const PROBE_DEFAULTS = {
  initialDelaySeconds: 0,
  periodSeconds: 10,
  timeoutSeconds: 1,
  successThreshold: 1,
  failureThreshold: 3,
} as const;

/** The version the prober names in User-Agent (`kube-probe/1.32`), matching the apiserver's. */
export const KUBE_MAJOR_MINOR = '1.32';

/** Upstream reads at most 10 KiB of a probe's output or HTTP body. */
export const MAX_PROBE_OUTPUT_BYTES = 10 * 1024;

export interface ProbeSettings {
  readonly initialDelaySeconds: number;
  readonly periodSeconds: number;
  readonly timeoutSeconds: number;
  readonly successThreshold: number;
  readonly failureThreshold: number;
}

const positive = (v: number | undefined, d: number): number => (v !== undefined && v > 0 ? v : d);

/** Settings of a probe as it will run; zero or missing values take upstream's defaults. */
export function probeSettings(p: Probe): ProbeSettings {
  return {
    initialDelaySeconds: p.initialDelaySeconds !== undefined && p.initialDelaySeconds > 0 ? p.initialDelaySeconds : 0,
    periodSeconds: positive(p.periodSeconds, PROBE_DEFAULTS.periodSeconds),
    timeoutSeconds: positive(p.timeoutSeconds, PROBE_DEFAULTS.timeoutSeconds),
    successThreshold: positive(p.successThreshold, PROBE_DEFAULTS.successThreshold),
    failureThreshold: positive(p.failureThreshold, PROBE_DEFAULTS.failureThreshold),
  };
}

export function probeOf(container: Container, kind: ProbeKind): Probe | undefined {
  switch (kind) {
    case 'liveness':
      return container.livenessProbe;
    case 'readiness':
      return container.readinessProbe;
    case 'startup':
      return container.startupProbe;
    default: {
      const never: never = kind;
      return never;
    }
  }
}

/** `Liveness`, `Readiness`, `Startup`: how upstream names a probe in events and metrics. */
export function probeKindTitle(kind: ProbeKind): string {
  return kind.charAt(0).toUpperCase() + kind.slice(1);
}

/**
 * A probe's port: a number, a name declared in the container's ports, or (last resort, as upstream)
 * a number written as a string. Throws ProbeConfigError otherwise.
 */
export function resolveContainerPort(port: IntOrString, container: Container): number {
  let n: number;
  if (typeof port === 'number') {
    n = port;
  } else {
    const named = container.ports?.find((p) => p.name === port);
    if (named) n = named.containerPort;
    else if (/^\d+$/.test(port)) n = Number(port);
    // upstream falls back to strconv.Atoi and reports its error
    else throw new ProbeConfigError(`strconv.Atoi: parsing ${JSON.stringify(port)}: invalid syntax`);
  }
  if (Number.isInteger(n) && n > 0 && n < 65536) return n;
  throw new ProbeConfigError(`invalid port number: ${n}`);
}

/** Upstream's format.Pod: `name_namespace(uid)`, used in hook failure messages. */
export function formatPod(pod: Pod): string {
  return `${pod.metadata.name ?? ''}_${pod.metadata.namespace ?? ''}(${pod.metadata.uid ?? ''})`;
}

/** Go's time.Duration String for whole or fractional seconds (`1s`, `1m30s`, `500ms`), for messages users compare with upstream's. */
export function goDuration(seconds: number): string {
  if (seconds === 0) return '0s';
  if (seconds < 1) return `${Math.round(seconds * 1000)}ms`;
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = Math.round((seconds % 60) * 1000) / 1000;
  if (h > 0) return `${h}h${m}m${s}s`;
  if (m > 0) return `${m}m${s}s`;
  return `${s}s`;
}

// ---- outcomes and events ------------------------------------------------------------------------

/**
 * What one run of a probe handler found. `warning` counts as success (upstream: a redirect to another
 * host); `unknown` carries an error and is thrown away by the worker instead of counting.
 */
export type ProbeOutcome =
  | { readonly result: 'success' | 'warning' | 'failure'; readonly output: string }
  | { readonly result: 'unknown'; readonly output: string; readonly error: Error };

/** An event about a container, for the caller to record as a core/v1 Event on the pod. */
export interface ContainerEvent {
  readonly pod: Pod;
  readonly containerName: string;
  readonly type: 'Normal' | 'Warning';
  /** Upstream's reasons: Unhealthy, ProbeWarning, Killing, FailedPostStartHook, FailedPreStopHook. */
  readonly reason: string;
  readonly message: string;
}

export type ContainerEventSink = (event: ContainerEvent) => void;

/** Cuts output to the prober's 10 KiB limit; a UTF-8 sequence cut in half decodes as U+FFFD. */
export function limitOutput(buf: Buffer): string {
  return buf.subarray(0, MAX_PROBE_OUTPUT_BYTES).toString('utf8');
}
