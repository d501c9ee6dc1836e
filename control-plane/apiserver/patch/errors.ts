/**
 * Errors of the patch engines. Each carries a stable `code`, the location it concerns (`path`: a JSON
 * pointer for JSON patch, a dotted field path for merge patches) and the HTTP status upstream answers
 * with, so the apiserver can turn it into a Status without reading the message:
 *  - 400 BadRequest: the patch document itself is malformed (not an object, unknown op, bad directive);
 *  - 422 Unprocessable: a well-formed patch that does not apply to this object (missing path, failed
 *    `test`, merge key missing). Upstream answers 422 for every JSON patch application error, including a
 *    failed `test`; callers wanting 409 for `test` can switch on ERR_PATCH_TEST_FAILED.
 * A server-side apply that would change fields other managers own fails with ApplyConflictError (409),
 * which lists every such field so the caller can build upstream's Status causes.
 */
import type { ManagedFieldsEntry } from '../../../api/meta.js';
import { KnodeError } from '../../../lib/errors.js';

export type PatchErrorCode =
  /** The patch is not the JSON shape its content type requires (e.g. a JSON patch that is not an array). */
  | 'ERR_PATCH_MALFORMED'
  /** A JSON patch operation is unknown or lacks a member it needs (`value`, `from`). */
  | 'ERR_PATCH_INVALID_OPERATION'
  /** A JSON pointer is not syntactically valid (`foo` without leading slash, `~2`, `01` as index). */
  | 'ERR_PATCH_INVALID_POINTER'
  /** The operation targets a location that does not exist in the document. */
  | 'ERR_PATCH_PATH_NOT_FOUND'
  /** A JSON patch `test` operation found a different value. */
  | 'ERR_PATCH_TEST_FAILED'
  /** The target exists but has the wrong type for the operation (a member added to a string...). */
  | 'ERR_PATCH_TYPE_MISMATCH'
  /** A strategic merge directive is unknown or badly formed (`$patch: foo`, `$setElementOrder` not a list). */
  | 'ERR_PATCH_INVALID_DIRECTIVE'
  /** An item of a list merged by key lacks the key (`name` of a container). */
  | 'ERR_PATCH_MISSING_MERGE_KEY'
  /** `$setElementOrder/<list>` disagrees with the order or content of the patch list. */
  | 'ERR_PATCH_ELEMENT_ORDER'
  /** `$retainKeys` is not a list of strings, or the patch sets a field it does not retain. */
  | 'ERR_PATCH_RETAIN_KEYS';

const statusByCode: Readonly<Record<PatchErrorCode, 400 | 422>> = {
  ERR_PATCH_MALFORMED: 400,
  ERR_PATCH_INVALID_OPERATION: 400,
  ERR_PATCH_INVALID_POINTER: 400,
  ERR_PATCH_PATH_NOT_FOUND: 422,
  ERR_PATCH_TEST_FAILED: 422,
  ERR_PATCH_TYPE_MISMATCH: 422,
  ERR_PATCH_INVALID_DIRECTIVE: 400,
  ERR_PATCH_MISSING_MERGE_KEY: 422,
  ERR_PATCH_ELEMENT_ORDER: 400,
  ERR_PATCH_RETAIN_KEYS: 400,
};

export class PatchError extends KnodeError {
  declare readonly code: PatchErrorCode;
  /** HTTP status upstream uses for this failure (400 BadRequest or 422 Unprocessable Entity). */
  readonly httpStatus: 400 | 422;

  constructor(
    code: PatchErrorCode,
    message: string,
    /** Where the problem is: JSON pointer (JSON patch) or dotted field path (merge patches); '' = root. */
    readonly path: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
    this.httpStatus = statusByCode[code];
  }
}

/** Dotted path for messages: `spec.containers[1]`, `metadata.labels`; the root reads as `<root>`. */
export function describePath(path: string): string {
  return path === '' ? '<root>' : path;
}

/** One field a server-side apply would take from another manager. */
export interface ApplyConflict {
  /** The entry owning the field (its manager, operation, apiVersion and subresource name the owner). */
  readonly owner: ManagedFieldsEntry;
  /** The field, as fieldsV1 path elements (`f:metadata`, `k:{"name":"web"}`). */
  readonly path: readonly string[];
}

/** A non-forced apply would change fields owned by other managers; nothing was applied. */
export class ApplyConflictError extends KnodeError {
  declare readonly code: 'ERR_PATCH_APPLY_CONFLICT';
  readonly httpStatus = 409;

  constructor(
    readonly conflicts: readonly ApplyConflict[],
    message: string,
  ) {
    super('ERR_PATCH_APPLY_CONFLICT', message);
  }
}
