/**
 * JSON patch (RFC 6902), the `application/json-patch+json` content type, with JSON pointers (RFC 6901).
 *
 * Two steps, like upstream: `parseJsonPatch` checks the document's shape (a 400 when it fails), then
 * `applyJsonPatch` runs the operations in order on a private deep copy of the target (a 422 when one does
 * not apply). Any failure throws before anything is returned, so a patch is applied whole or not at all;
 * inputs are never mutated. Cost: one deep copy of the target plus, per operation, a walk down its path.
 */
import { deepEqual } from '../../../lib/json.js';
import { PatchError } from './errors.js';
import type { JsonObject } from './json-util.js';
import { hasOwn, isJsonObject, jsonType, put } from './json-util.js';

export type JsonPatchOperation =
  | { readonly op: 'add' | 'replace' | 'test'; readonly path: string; readonly value: unknown }
  | { readonly op: 'remove'; readonly path: string }
  | { readonly op: 'move' | 'copy'; readonly path: string; readonly from: string };

const ops = new Set(['add', 'remove', 'replace', 'move', 'copy', 'test']);

/** Splits a JSON pointer into unescaped reference tokens (`/a~1b/~0c` -> [`a/b`, `~c`]); '' is the root. */
export function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) {
    throw new PatchError('ERR_PATCH_INVALID_POINTER', `JSON pointer "${pointer}" must be empty or start with "/"`, pointer);
  }
  return pointer
    .slice(1)
    .split('/')
    .map((token) => {
      if (/~(?![01])/.test(token)) {
        throw new PatchError('ERR_PATCH_INVALID_POINTER', `JSON pointer "${pointer}" has an invalid escape (only ~0 and ~1)`, pointer);
      }
      // ~1 first: `~01` must decode to `~1`, not `/`.
      return token.replaceAll('~1', '/').replaceAll('~0', '~');
    });
}

/** Builds a JSON pointer from raw tokens, escaping `~` and `/`. */
export function formatPointer(tokens: readonly string[]): string {
  return tokens.map((t) => '/' + t.replaceAll('~', '~0').replaceAll('/', '~1')).join('');
}

/** Checks the shape of a JSON patch document (an array of operation objects). */
export function parseJsonPatch(patch: unknown): JsonPatchOperation[] {
  if (!Array.isArray(patch)) {
    throw new PatchError('ERR_PATCH_MALFORMED', `json patch must be a JSON array of operations, got ${jsonType(patch)}`, '');
  }
  return patch.map((raw: unknown, i): JsonPatchOperation => {
    const bad = (detail: string): PatchError =>
      new PatchError('ERR_PATCH_INVALID_OPERATION', `json patch operation ${i}: ${detail}`, '');
    if (!isJsonObject(raw)) throw bad(`expected an object, got ${jsonType(raw)}`);
    const { op, path } = raw;
    if (typeof op !== 'string' || !ops.has(op)) throw bad(`unknown op ${JSON.stringify(op ?? null)}`);
    if (typeof path !== 'string') throw bad(`op "${op}" needs a string "path"`);
    parsePointer(path);
    switch (op) {
      case 'add':
      case 'replace':
      case 'test':
        if (!hasOwn(raw, 'value')) throw bad(`op "${op}" at ${path} needs a "value"`);
        return { op, path, value: raw['value'] };
      case 'remove':
        return { op, path };
      case 'move':
      case 'copy': {
        const from = raw['from'];
        if (typeof from !== 'string') throw bad(`op "${op}" to ${path} needs a string "from"`);
        parsePointer(from);
        if (op === 'move' && path.startsWith(from + '/')) {
          throw bad(`cannot move ${from} into its own child ${path}`);
        }
        return { op, path, from };
      }
      default:
        throw bad(`unknown op "${op}"`);
    }
  });
}

/** Applies a JSON patch document (raw JSON or parsed operations) to `doc` and returns the new document. */
export function applyJsonPatch(doc: unknown, patch: unknown): unknown {
  const operations = parseJsonPatch(patch);
  const holder = { root: structuredClone(doc) };
  operations.forEach((operation, i) => applyOperation(holder, operation, i));
  return holder.root;
}

/** The apiserver's form: the result must still be an object (upstream then decodes it as the kind). */
export function applyJsonPatchToObject(doc: JsonObject, patch: unknown): JsonObject {
  const out = applyJsonPatch(doc, patch);
  if (!isJsonObject(out)) {
    throw new PatchError('ERR_PATCH_TYPE_MISMATCH', `json patch turned the object into ${jsonType(out)}`, '');
  }
  return out;
}

interface Holder {
  root: unknown;
}
type Container = { [k: string]: unknown } | unknown[];

function applyOperation(holder: Holder, operation: JsonPatchOperation, i: number): void {
  const fail = (code: 'ERR_PATCH_PATH_NOT_FOUND' | 'ERR_PATCH_TYPE_MISMATCH', pointer: string, detail: string) =>
    new PatchError(code, `json patch operation ${i} (${operation.op} ${operation.path}): ${detail}`, pointer);

  /** Walks to the value at `pointer`; missing locations throw. */
  const get = (pointer: string): unknown => {
    let cur = holder.root;
    for (const token of parsePointer(pointer)) {
      if (Array.isArray(cur)) {
        const idx = arrayIndex(token, cur.length - 1);
        if (idx === undefined) throw fail('ERR_PATCH_PATH_NOT_FOUND', pointer, `path ${pointer} does not exist`);
        cur = cur[idx];
      } else if (isJsonObject(cur) && hasOwn(cur, token)) {
        cur = cur[token];
      } else {
        throw fail('ERR_PATCH_PATH_NOT_FOUND', pointer, `path ${pointer} does not exist`);
      }
    }
    return cur;
  };

  /** The container holding the last token of `pointer`, which must exist (RFC 6902 section 4.1). */
  const parent = (pointer: string): { container: Container; key: string } => {
    const tokens = parsePointer(pointer);
    const key = tokens.pop() ?? '';
    const container = get(formatPointer(tokens));
    if (!Array.isArray(container) && !isJsonObject(container)) {
      throw fail('ERR_PATCH_TYPE_MISMATCH', pointer, `parent of ${pointer} is a ${jsonType(container)}, not an object or array`);
    }
    return { container: container as Container, key };
  };

  const add = (pointer: string, value: unknown): void => {
    if (pointer === '') {
      holder.root = value;
      return;
    }
    const { container, key } = parent(pointer);
    if (Array.isArray(container)) {
      const idx = key === '-' ? container.length : arrayIndex(key, container.length);
      if (idx === undefined) throw fail('ERR_PATCH_PATH_NOT_FOUND', pointer, `index ${key} is out of bounds for an array of ${container.length}`);
      container.splice(idx, 0, value);
    } else {
      put(container, key, value);
    }
  };

  const remove = (pointer: string): unknown => {
    if (pointer === '') throw fail('ERR_PATCH_PATH_NOT_FOUND', pointer, 'cannot remove the whole document');
    const value = get(pointer);
    const { container, key } = parent(pointer);
    if (Array.isArray(container)) {
      container.splice(arrayIndex(key, container.length - 1) ?? container.length, 1);
    } else {
      delete container[key];
    }
    return value;
  };

  switch (operation.op) {
    case 'add':
      add(operation.path, structuredClone(operation.value));
      return;
    case 'remove':
      remove(operation.path);
      return;
    case 'replace': {
      get(operation.path);
      const value = structuredClone(operation.value);
      if (operation.path === '') {
        holder.root = value;
        return;
      }
      // Set in place rather than remove+add, so an object keeps its member order.
      const { container, key } = parent(operation.path);
      if (Array.isArray(container)) container[Number(key)] = value;
      else put(container, key, value);
      return;
    }
    case 'move':
      if (operation.from !== operation.path) add(operation.path, remove(operation.from));
      else get(operation.from);
      return;
    case 'copy':
      add(operation.path, structuredClone(get(operation.from)));
      return;
    case 'test': {
      const actual = get(operation.path);
      if (!deepEqual(actual, operation.value)) {
        // Upstream's wording (evanphx/json-patch), which clients and scripts match on.
        throw new PatchError('ERR_PATCH_TEST_FAILED', `testing value ${operation.path} failed: test failed`, operation.path);
      }
      return;
    }
    default: {
      const unreachable: never = operation;
      throw new Error(`unhandled operation ${JSON.stringify(unreachable)}`);
    }
  }
}

/** A decimal array index without leading zeros, at most `max`; undefined when not one. */
function arrayIndex(token: string, max: number): number | undefined {
  if (!/^(0|[1-9][0-9]*)$/.test(token)) return undefined;
  const n = Number(token);
  return n <= max ? n : undefined;
}
