/**
 * API errors. Every failure a client sees is a meta/v1 `Status` with upstream's reason, code and wording,
 * so kubectl prints the same sentences it prints against a real cluster
 * (`Error from server (NotFound): pods "web" not found`).
 */
import { KnodeError } from '../../lib/errors.js';
import type { FieldError } from '../../api/field-errors.js';
import { formatFieldError } from '../../api/field-errors.js';
import type { Status, StatusCause, StatusDetails } from '../../api/meta.js';

export type StatusReason =
  | 'BadRequest'
  | 'Unauthorized'
  | 'Forbidden'
  | 'NotFound'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Gone'
  | 'Expired'
  | 'Invalid'
  | 'MethodNotAllowed'
  | 'NotAcceptable'
  | 'UnsupportedMediaType'
  | 'RequestEntityTooLarge'
  | 'InternalError'
  | 'ServiceUnavailable'
  | 'Timeout'
  | 'TooManyRequests';

export class ApiError extends KnodeError {
  constructor(
    readonly httpCode: number,
    readonly reason: StatusReason,
    message: string,
    readonly details?: StatusDetails,
    options?: { cause?: unknown },
  ) {
    super(`ERR_API_${reason.toUpperCase()}`, message, options);
  }

  toStatus(): Status {
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      ...(this.details ? { details: this.details } : {}),
      code: this.httpCode,
    };
  }
}

/** `pods`, `deployments.apps`: how upstream names a resource in messages. */
export interface GroupResource {
  readonly group: string;
  readonly resource: string;
}
const qualified = (gr: GroupResource): string => (gr.group ? `${gr.resource}.${gr.group}` : gr.resource);

export const notFound = (gr: GroupResource, name: string): ApiError =>
  new ApiError(404, 'NotFound', `${qualified(gr)} "${name}" not found`, {
    name,
    ...(gr.group ? { group: gr.group } : {}),
    kind: gr.resource,
  });

export const alreadyExists = (gr: GroupResource, name: string): ApiError =>
  new ApiError(409, 'AlreadyExists', `${qualified(gr)} "${name}" already exists`, {
    name,
    ...(gr.group ? { group: gr.group } : {}),
    kind: gr.resource,
  });

export const conflict = (gr: GroupResource, name: string, why: string): ApiError =>
  new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${qualified(gr)} "${name}": ${why}`, {
    name,
    ...(gr.group ? { group: gr.group } : {}),
    kind: gr.resource,
  });

export const modifiedConflict = (gr: GroupResource, name: string): ApiError =>
  conflict(gr, name, 'the object has been modified; please apply your changes to the latest version and try again');

export function invalid(kind: string, group: string, name: string, errors: readonly FieldError[]): ApiError {
  const causes: StatusCause[] = errors.map((e) => ({
    reason: e.type,
    message: formatFieldError(e).slice(e.field.length + 2),
    field: e.field,
  }));
  const list = errors.map(formatFieldError);
  const summary = list.length === 1 ? list[0] : `[${list.join(', ')}]`;
  return new ApiError(422, 'Invalid', `${kind}${group ? `.${group}` : ''} "${name}" is invalid: ${summary}`, {
    name,
    ...(group ? { group } : {}),
    kind,
    causes,
  });
}

export const badRequest = (message: string, causes?: readonly StatusCause[]): ApiError =>
  new ApiError(400, 'BadRequest', message, causes ? { causes } : undefined);
export const unauthorized = (): ApiError => new ApiError(401, 'Unauthorized', 'Unauthorized');
export const forbidden = (message: string): ApiError => new ApiError(403, 'Forbidden', message);
export const methodNotAllowed = (method: string, what: string): ApiError =>
  new ApiError(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource (${method} ${what})`);
export const notAcceptable = (message: string): ApiError => new ApiError(406, 'NotAcceptable', message);
export const unsupportedMediaType = (type: string): ApiError =>
  new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/apply-patch+yaml, application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json (got ${type || 'none'})`);
export const tooLarge = (limit: number): ApiError =>
  new ApiError(413, 'RequestEntityTooLarge', `Request entity too large: limit is ${limit}`);
export const gone = (message: string): ApiError => new ApiError(410, 'Expired', message);
export const internalError = (message: string, cause?: unknown): ApiError =>
  new ApiError(500, 'InternalError', `Internal error occurred: ${message}`, undefined, { cause });
export const unavailable = (message: string): ApiError => new ApiError(503, 'ServiceUnavailable', message);
