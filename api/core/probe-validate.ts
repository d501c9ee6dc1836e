/**
 * Validation of probes and lifecycle hooks (upstream validateProbe, validateLivenessProbe,
 * validateReadinessProbe, validateStartupProbe, validateHandler, validateLifecycle): exactly one handler,
 * valid ports and schemes, non-negative timings, successThreshold 1 for liveness and startup probes.
 */
import type { FieldError, FieldPath } from '../field-errors.js';
import { forbidden, invalid, notSupported, required } from '../field-errors.js';
import { isHTTPHeaderName } from '../names.js';
import { NON_NEGATIVE_MESSAGE } from '../validate-meta.js';
import { validatePortNumOrName } from './common.js';
import type { HTTPGetAction, Lifecycle, LifecycleHandler, Probe } from './container-types.js';

type HandlerKind = 'exec' | 'httpGet' | 'tcpSocket' | 'grpc' | 'sleep';
const PROBE_HANDLERS: readonly HandlerKind[] = ['exec', 'httpGet', 'tcpSocket', 'grpc'];
const LIFECYCLE_HANDLERS: readonly HandlerKind[] = ['exec', 'httpGet', 'tcpSocket', 'sleep'];

function validateHTTPGet(h: HTTPGetAction, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  if (!h.path) errs.push(required(path.child('path')));
  errs.push(...validatePortNumOrName(h.port, path.child('port')));
  if (h.scheme !== 'HTTP' && h.scheme !== 'HTTPS') errs.push(notSupported(path.child('scheme'), h.scheme ?? '', ['HTTP', 'HTTPS']));
  for (const header of h.httpHeaders ?? []) {
    for (const msg of isHTTPHeaderName(header.name)) errs.push(invalid(path.child('httpHeaders'), header.name, msg));
  }
  return errs;
}

function validateHandlerOf(kind: HandlerKind, handler: Probe & LifecycleHandler, gracePeriod: number | undefined, path: FieldPath): FieldError[] {
  switch (kind) {
    case 'exec':
      return (handler.exec?.command ?? []).length === 0 ? [required(path.child('command'))] : [];
    case 'httpGet':
      return handler.httpGet ? validateHTTPGet(handler.httpGet, path) : [];
    case 'tcpSocket':
      return validatePortNumOrName(handler.tcpSocket?.port, path.child('port'));
    case 'grpc':
      return validatePortNumOrName(handler.grpc?.port ?? 0, path.child('port'));
    case 'sleep': {
      const s = handler.sleep?.seconds ?? 0;
      if (gracePeriod !== undefined && (s < 0 || s > gracePeriod)) {
        return [invalid(path, s, `must be non-negative and less than terminationGracePeriodSeconds (${gracePeriod})`)];
      }
      return [];
    }
    default: {
      const never: never = kind;
      return [invalid(path, never, 'unknown handler')];
    }
  }
}

/** Exactly one handler: the first one set is validated, each further one is Forbidden. */
function validateHandler(
  handler: Probe & LifecycleHandler,
  kinds: readonly HandlerKind[],
  gracePeriod: number | undefined,
  path: FieldPath,
): FieldError[] {
  const errs: FieldError[] = [];
  let count = 0;
  for (const kind of kinds) {
    if (handler[kind] === undefined || handler[kind] === null) continue;
    if (count > 0) errs.push(forbidden(path.child(kind), 'may not specify more than 1 handler type'));
    else errs.push(...validateHandlerOf(kind, handler, gracePeriod, path.child(kind)));
    count++;
  }
  if (count === 0) errs.push(required(path, 'must specify a handler type'));
  return errs;
}

const nonNegative = (v: number | undefined, path: FieldPath): FieldError[] =>
  v !== undefined && v < 0 ? [invalid(path, v, NON_NEGATIVE_MESSAGE)] : [];

export type ProbeKind = 'liveness' | 'readiness' | 'startup';

export function validateProbe(probe: Probe | undefined, kind: ProbeKind, gracePeriod: number | undefined, path: FieldPath): FieldError[] {
  if (probe === undefined) return [];
  const errs = validateHandler(probe, PROBE_HANDLERS, gracePeriod, path);
  for (const f of ['initialDelaySeconds', 'timeoutSeconds', 'periodSeconds', 'successThreshold', 'failureThreshold'] as const) {
    errs.push(...nonNegative(probe[f], path.child(f)));
  }
  const tgps = probe.terminationGracePeriodSeconds;
  if (tgps !== undefined && tgps <= 0) errs.push(invalid(path.child('terminationGracePeriodSeconds'), tgps, 'must be greater than 0'));
  if (kind === 'readiness' && tgps !== undefined) {
    errs.push(invalid(path.child('terminationGracePeriodSeconds'), tgps, 'must not be set for readinessProbes'));
  }
  // a liveness or startup probe that needs several successes would delay restarts for nothing
  if (kind !== 'readiness' && probe.successThreshold !== undefined && probe.successThreshold !== 1) {
    errs.push(invalid(path.child('successThreshold'), probe.successThreshold, 'must be 1'));
  }
  return errs;
}

export function validateLifecycle(lc: Lifecycle | undefined, gracePeriod: number | undefined, path: FieldPath): FieldError[] {
  if (lc === undefined) return [];
  const errs: FieldError[] = [];
  if (lc.postStart) errs.push(...validateHandler(lc.postStart, LIFECYCLE_HANDLERS, gracePeriod, path.child('postStart')));
  if (lc.preStop) errs.push(...validateHandler(lc.preStop, LIFECYCLE_HANDLERS, gracePeriod, path.child('preStop')));
  return errs;
}
