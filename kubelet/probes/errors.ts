/**
 * Errors of the prober and lifecycle hooks. A probe that cannot even be built (a named port the
 * container does not declare, no handler) is an error, not a failure: upstream throws such results
 * away instead of counting them against the thresholds.
 */
import { KubeletError } from '../errors.js';

/** The probe or hook spec cannot be turned into a request (bad port, missing handler). */
export class ProbeConfigError extends KubeletError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_KUBELET_PROBE_CONFIG', message, options);
  }
}

/**
 * A postStart hook failed; the container has been killed with reason FailedPostStartHook. `reason`
 * is upstream's sync error name (ErrPostStartHook), `message` the hook's own failure text.
 */
export class PostStartHookError extends KubeletError {
  readonly reason = 'PostStartHookError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_KUBELET_POST_START_HOOK', message, options);
  }
}
