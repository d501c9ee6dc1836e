/**
 * JSON merge patch (RFC 7386), the `application/merge-patch+json` content type.
 *
 * An object patch merges member by member, `null` removes a member, anything else (arrays included)
 * replaces the target value. A non-object patch replaces the whole target. Pure: inputs are never
 * mutated; unchanged subtrees of the target are shared with the result, so cost is proportional to the
 * size of the patch, not of the target.
 */
import { PatchError } from './errors.js';
import type { JsonObject } from './json-util.js';
import { copyObject, hasOwn, isJsonObject, jsonType, put } from './json-util.js';

/** RFC 7386 MergePatch(target, patch) for any JSON values; `target` undefined means "absent". */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isJsonObject(patch)) return patch;
  const out = isJsonObject(target) ? copyObject(target) : {};
  for (const k of Object.keys(patch)) {
    const value = patch[k];
    if (value === null) {
      delete out[k];
    } else {
      put(out, k, applyMergePatch(hasOwn(out, k) ? out[k] : undefined, value));
    }
  }
  return out;
}

/**
 * The apiserver's form: an API object patched by an object. Upstream rejects any other patch body with
 * 400, since replacing a whole object by a scalar or array can never decode.
 */
export function applyObjectMergePatch(target: JsonObject, patch: unknown): JsonObject {
  if (!isJsonObject(patch)) {
    throw new PatchError('ERR_PATCH_MALFORMED', `merge patch must be a JSON object, got ${jsonType(patch)}`, '');
  }
  return applyMergePatch(target, patch) as JsonObject;
}
