/**
 * Errors of the API client. An answer the server gave is a ClientApiError carrying its `Status`
 * (upstream's reason, code and message), so callers decide with `isNotFound(err)` and friends, never
 * by message text. Failures that never reached an answer (connection refused, TLS, timeout) have their
 * own classes, which is what retry loops key on: a transport error is worth retrying, a 422 is not.
 */
import type { Status } from '../../api/meta.js';
import { KnodeError } from '../errors.js';

export class ClientError extends KnodeError {}

/** The server answered with a non-2xx status (or an ERROR watch event); `status` is its body. */
export class ClientApiError extends ClientError {
  constructor(
    readonly status: Status,
    readonly method: string,
    readonly path: string,
  ) {
    super('ERR_CLIENT_API', status.message ?? `${method} ${path}: HTTP ${status.code}`);
  }
  /** HTTP status code, e.g. 404. */
  get httpCode(): number {
    return this.status.code;
  }
  /** Upstream's StatusReason, e.g. `NotFound`, `AlreadyExists`, `Expired`. */
  get reason(): string {
    return this.status.reason ?? '';
  }
}

/** The request did not finish within its timeout. */
export class ClientTimeoutError extends ClientError {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly timeoutMs: number,
  ) {
    super('ERR_CLIENT_TIMEOUT', `${method} ${path}: no answer within ${timeoutMs} ms`);
  }
}

/** No HTTP answer: connection refused or reset, DNS, TLS verification failed. */
export class ClientConnectionError extends ClientError {
  constructor(
    readonly method: string,
    readonly path: string,
    options: { cause: unknown },
  ) {
    const why = options.cause instanceof Error ? options.cause.message : String(options.cause);
    super('ERR_CLIENT_CONNECTION', `${method} ${path}: ${why}`, options);
  }
}

/** The server answered 2xx with a body that is not the JSON we expected, or a watch line is malformed. */
export class ClientDecodeError extends ClientError {
  constructor(detail: string, options?: { cause?: unknown }) {
    super('ERR_CLIENT_DECODE', `cannot decode the server's answer: ${detail}`, options);
  }
}

/** The client configuration (kubeconfig, flags) cannot be used as given. */
export class ClientConfigError extends ClientError {
  constructor(detail: string, options?: { cause?: unknown }) {
    super('ERR_CLIENT_CONFIG', detail, options);
  }
}

const hasCode = (err: unknown, code: number): boolean => err instanceof ClientApiError && err.httpCode === code;

export const isNotFound = (err: unknown): boolean => hasCode(err, 404);
/** The apiserver refused a create because the namespace is being deleted (controllers record no event for it, as upstream). */
export const isNamespaceTerminating = (err: unknown): boolean =>
  err instanceof ClientApiError && (err.status.details?.causes ?? []).some((c) => c.reason === 'NamespaceTerminating');
export const isConflict = (err: unknown): boolean => hasCode(err, 409) && !isAlreadyExists(err);
export const isAlreadyExists = (err: unknown): boolean => err instanceof ClientApiError && err.reason === 'AlreadyExists';
/** 410: the requested resourceVersion has been compacted; the caller must list again. */
export const isGone = (err: unknown): boolean => hasCode(err, 410);
export const isUnauthorized = (err: unknown): boolean => hasCode(err, 401);
export const isForbidden = (err: unknown): boolean => hasCode(err, 403);
export const isInvalid = (err: unknown): boolean => hasCode(err, 422);

/** Worth retrying unchanged: no answer at all, or the server said it is busy or timed out. */
export function isRetryable(err: unknown): boolean {
  if (err instanceof ClientConnectionError || err instanceof ClientTimeoutError) return true;
  return err instanceof ClientApiError && [429, 500, 502, 503, 504].includes(err.httpCode);
}

/** A Status for an error answer whose body was not one (a proxy's HTML page, an empty 401). */
export function statusFromResponse(code: number, text: string): Status {
  try {
    const parsed = JSON.parse(text) as Partial<Status>;
    if (parsed.kind === 'Status' && typeof parsed.code === 'number') return parsed as Status;
  } catch {
    // not JSON: fall through to a synthesized Status
  }
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    code,
    reason: reasonOf(code),
    message: text.trim() !== '' ? text.trim().slice(0, 512) : `the server responded with HTTP ${code}`,
  };
}

function reasonOf(code: number): string {
  switch (code) {
    case 400:
      return 'BadRequest';
    case 401:
      return 'Unauthorized';
    case 403:
      return 'Forbidden';
    case 404:
      return 'NotFound';
    case 409:
      return 'Conflict';
    case 410:
      return 'Gone';
    case 422:
      return 'Invalid';
    case 429:
      return 'TooManyRequests';
    case 503:
      return 'ServiceUnavailable';
    case 504:
      return 'Timeout';
    default:
      return code >= 500 ? 'InternalError' : 'Unknown';
  }
}

export type NodeBootstrapFailure =
  | 'token-rejected'
  | 'no-ca'
  | 'ca-mismatch'
  | 'csr-denied'
  | 'csr-failed'
  | 'bad-certificate'
  | 'timeout';

/** The node TLS bootstrap could not get credentials; `failure` says which step, the message what to do. */
export class NodeBootstrapError extends ClientError {
  constructor(
    readonly failure: NodeBootstrapFailure,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`ERR_NODE_BOOTSTRAP_${failure.toUpperCase().replace(/-/g, '_')}`, message, options);
  }
}
