/**
 * Kubernetes strategic merge patch (`application/strategic-merge-patch+json`), driven by our Schema
 * instead of Go struct tags.
 *
 * Semantics (apimachinery's strategicpatch, server side):
 *  - objects and maps merge member by member; `null` deletes a member;
 *  - lists with `strategy: merge` and a `mergeKey` merge item by item (a patch item merges into the live
 *    item with the same key, new items are appended); lists of scalars with `strategy: merge` merge as
 *    sets; every other list is replaced by the patch list;
 *  - directives: `$patch: replace | delete | merge` on a map, `{$patch: replace}` and
 *    `{<key>: x, $patch: delete}` items in a keyed list, `$retainKeys: [...]` (clear members not listed),
 *    `$deleteFromPrimitiveList/<list>: [...]` and `$setElementOrder/<list>: [...]` (see list-order.ts);
 *  - no schema (unknown fields, `any`): objects merge and lists replace, i.e. JSON merge patch.
 * Deviations, all lenient: `$patch: merge` is accepted as "merge as usual" (upstream rejects it on
 * lists); a `strategy: merge` list without mergeKey whose items are objects is replaced rather than
 * refused; `$patch: delete` on a map field removes the field (upstream leaves `{}`); directives inside
 * newly added subtrees are interpreted rather than stored verbatim.
 * Pure: inputs are never mutated; unchanged subtrees are shared. Cost: linear in the patch size plus,
 * per merged keyed list, O(live * patch) key lookups and one sort.
 */
import type { ArraySchema, Schema } from '../../../api/schema.js';
import { resolveSchema } from '../../../api/schema.js';
import { deepEqual } from '../../../lib/json.js';
import { PatchError, describePath } from './errors.js';
import type { JsonObject } from './json-util.js';
import { copyObject, hasOwn, isJsonObject, jsonType, put } from './json-util.js';
import { findOrderViolation, keyIdentity, normalizeOrder, scalarIdentity } from './list-order.js';
import type { ItemIdentity } from './list-order.js';

const DIRECTIVE = '$patch';
const RETAIN_KEYS = '$retainKeys';
const SET_ORDER = '$setElementOrder';
const DELETE_FROM = '$deleteFromPrimitiveList';

/** Returned by a map carrying `$patch: delete`: the parent removes the member. */
const DELETED: unique symbol = Symbol('deleted');
type Merged<T> = T | typeof DELETED;

/** Applies `patch` to `original`; both are objects (API objects or subtrees of them). */
export function applyStrategicMergePatch(original: JsonObject, patch: unknown, schema: Schema | undefined): JsonObject {
  if (!isJsonObject(patch)) {
    throw new PatchError('ERR_PATCH_MALFORMED', `strategic merge patch must be a JSON object, got ${jsonType(patch)}`, '');
  }
  const out = mergeObject(original, patch, schema, '');
  return out === DELETED ? {} : out;
}

/** The schema of member `key` of a value described by `schema` (undefined: unknown, merge as plain JSON). */
export function childSchema(schema: Schema | undefined, key: string): Schema | undefined {
  if (schema === undefined) return undefined;
  switch (schema.type) {
    case 'object':
      return hasOwn(schema.fields, key) ? resolveSchema(schema.fields[key] as Schema | (() => Schema)) : undefined;
    case 'map':
      return schema.values;
    default:
      return undefined;
  }
}

const memberPath = (path: string, key: string): string => (path === '' ? key : `${path}.${key}`);
const itemPath = (path: string, i: number): string => `${path}[${i}]`;

function without(o: JsonObject, key: string): JsonObject {
  const out = copyObject(o);
  delete out[key];
  return out;
}

function mergeObject(original: JsonObject, patch: JsonObject, schema: Schema | undefined, path: string): Merged<JsonObject> {
  if (hasOwn(patch, DIRECTIVE)) {
    const directive = patch[DIRECTIVE];
    switch (directive) {
      case 'delete':
        return DELETED;
      case 'replace':
        // Merging into nothing still interprets directives nested in the replacement.
        return mergeObject({}, without(patch, DIRECTIVE), schema, path);
      case 'merge':
        return mergeObject(original, without(patch, DIRECTIVE), schema, path);
      default:
        throw new PatchError(
          'ERR_PATCH_INVALID_DIRECTIVE',
          `${describePath(path)}: unknown $patch directive ${JSON.stringify(directive)} (expected replace, delete or merge)`,
          path,
        );
    }
  }

  const out = copyObject(original);
  const plain: string[] = [];
  const orders: [string, unknown[]][] = [];
  const deletions: [string, unknown[]][] = [];
  for (const key of Object.keys(patch)) {
    if (key === RETAIN_KEYS) continue;
    const parallel = parallelList(key, patch[key], path);
    if (parallel === undefined) plain.push(key);
    else (parallel.kind === 'order' ? orders : deletions).push([parallel.field, parallel.values]);
  }

  if (hasOwn(patch, RETAIN_KEYS)) retainKeys(out, patch, plain, path);

  for (const key of plain) {
    const value = patch[key];
    if (value === null) {
      delete out[key];
      continue;
    }
    const merged = mergeValue(hasOwn(out, key) ? out[key] : undefined, value, childSchema(schema, key), memberPath(path, key));
    if (merged === DELETED) delete out[key];
    else put(out, key, merged);
  }

  for (const [field, order] of orders) {
    const merged = out[field];
    if (!hasOwn(out, field) || !Array.isArray(merged)) continue;
    const live = hasOwn(original, field) && Array.isArray(original[field]) ? (original[field] as unknown[]) : [];
    const patchList = hasOwn(patch, field) && Array.isArray(patch[field]) ? (patch[field] as unknown[]) : [];
    put(out, field, reorder(merged, order, patchList, live, childSchema(schema, field), memberPath(path, field)));
  }

  for (const [field, values] of deletions) {
    const current = out[field];
    if (!hasOwn(out, field) || !Array.isArray(current)) continue;
    put(out, field, current.filter((v) => !values.some((d) => deepEqual(d, v))));
  }
  return out;
}

/** Recognizes `$setElementOrder/<field>` and `$deleteFromPrimitiveList/<field>` members. */
function parallelList(
  key: string,
  value: unknown,
  path: string,
): { kind: 'order' | 'delete'; field: string; values: unknown[] } | undefined {
  const kind = key.startsWith(SET_ORDER) ? 'order' : key.startsWith(DELETE_FROM) ? 'delete' : undefined;
  if (kind === undefined) return undefined;
  const prefix = kind === 'order' ? SET_ORDER : DELETE_FROM;
  const field = key.slice(prefix.length + 1);
  if (key[prefix.length] !== '/' || field === '') {
    throw new PatchError('ERR_PATCH_INVALID_DIRECTIVE', `${describePath(path)}: directive ${key} must be written ${prefix}/<list field>`, path);
  }
  if (!Array.isArray(value)) {
    throw new PatchError(
      'ERR_PATCH_INVALID_DIRECTIVE',
      `${describePath(path)}: ${key} must be a list, got ${jsonType(value)}`,
      memberPath(path, key),
    );
  }
  return { kind, field, values: value };
}

/** `$retainKeys`: members of the original not listed are cleared; the patch may only set listed members. */
function retainKeys(out: Record<string, unknown>, patch: JsonObject, plain: readonly string[], path: string): void {
  const list = patch[RETAIN_KEYS];
  if (!Array.isArray(list) || !list.every((k) => typeof k === 'string')) {
    throw new PatchError('ERR_PATCH_RETAIN_KEYS', `${describePath(path)}: $retainKeys must be a list of field names`, path);
  }
  const keep = new Set<string>(list);
  for (const key of plain) {
    if (patch[key] !== null && !keep.has(key)) {
      throw new PatchError(
        'ERR_PATCH_RETAIN_KEYS',
        `${describePath(path)}: the patch sets ${key} but $retainKeys does not list it`,
        memberPath(path, key),
      );
    }
  }
  for (const key of Object.keys(out)) if (!keep.has(key)) delete out[key];
}

function mergeValue(original: unknown, patch: unknown, schema: Schema | undefined, path: string): Merged<unknown> {
  if (isJsonObject(patch)) return mergeObject(isJsonObject(original) ? original : {}, patch, schema, path);
  if (Array.isArray(patch)) return mergeList(Array.isArray(original) ? original : [], patch, schema, path);
  return patch;
}

function arraySchema(schema: Schema | undefined): ArraySchema | undefined {
  return schema?.type === 'array' ? schema : undefined;
}

function mergeList(original: readonly unknown[], patch: readonly unknown[], schema: Schema | undefined, path: string): unknown[] {
  const s = arraySchema(schema);
  if (s === undefined || s.strategy === undefined || s.strategy === 'replace') return [...patch];
  const items = resolveSchema(s.items);
  if (s.mergeKey !== undefined && s.mergeKey !== '') return mergeKeyedList(original, patch, s.mergeKey, items, path);
  return mergeSet(original, patch);
}

/** A list of scalars merged as a set: union, patch values in patch order, live-only values kept. */
function mergeSet(original: readonly unknown[], patch: readonly unknown[]): unknown[] {
  const isReplaceMarker = (v: unknown): boolean => isJsonObject(v) && v[DIRECTIVE] === 'replace' && Object.keys(v).length === 1;
  const replace = patch.some(isReplaceMarker);
  const values = patch.filter((v) => !isReplaceMarker(v));
  // Objects without a merge key cannot be matched: treat the list as atomic, like a replace list.
  if ([...values, ...original].some((v) => typeof v === 'object' && v !== null)) return values;
  if (replace) return dedupe(values);
  return normalizeOrder(dedupe([...original, ...values]), values, original, scalarIdentity);
}

function dedupe(values: readonly unknown[]): unknown[] {
  const seen = new Set<string>();
  return values.filter((v) => {
    const key = JSON.stringify(v);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function mergeKeyedList(
  original: readonly unknown[],
  patch: readonly unknown[],
  key: string,
  itemSchema: Schema,
  path: string,
): unknown[] {
  let list: unknown[] = [...original];
  const patchItems: JsonObject[] = [];
  let replace = false;
  const matches = (value: unknown) => (o: unknown) => isJsonObject(o) && deepEqual(o[key], value);

  patch.forEach((item, i) => {
    if (!isJsonObject(item)) {
      throw new PatchError(
        'ERR_PATCH_TYPE_MISMATCH',
        `${itemPath(path, i)}: items of a list merged by "${key}" must be objects, got ${jsonType(item)}`,
        itemPath(path, i),
      );
    }
    const directive = hasOwn(item, DIRECTIVE) ? item[DIRECTIVE] : undefined;
    switch (directive) {
      case undefined:
        patchItems.push(item);
        return;
      case 'merge':
        patchItems.push(without(item, DIRECTIVE));
        return;
      case 'replace':
        replace = true;
        return;
      case 'delete':
        requireKey(item, key, itemPath(path, i));
        list = list.filter((o) => !matches(item[key])(o));
        return;
      default:
        throw new PatchError(
          'ERR_PATCH_INVALID_DIRECTIVE',
          `${itemPath(path, i)}: unknown $patch directive ${JSON.stringify(directive)} (expected replace, delete or merge)`,
          itemPath(path, i),
        );
    }
  });
  if (replace) list = [];

  for (const [i, item] of patchItems.entries()) {
    requireKey(item, key, itemPath(path, i));
    const idx = list.findIndex(matches(item[key]));
    const base = idx >= 0 ? list[idx] : undefined;
    const merged = mergeObject(isJsonObject(base) ? base : {}, item, itemSchema, itemPath(path, idx >= 0 ? idx : list.length));
    if (merged === DELETED) {
      if (idx >= 0) list.splice(idx, 1);
    } else if (idx >= 0) {
      list[idx] = merged;
    } else {
      list.push(merged);
    }
  }
  return replace ? list : normalizeOrder(list, patchItems, original, keyIdentity(key));
}

function requireKey(item: JsonObject, key: string, path: string): void {
  if (!hasOwn(item, key) || item[key] === null) {
    throw new PatchError(
      'ERR_PATCH_MISSING_MERGE_KEY',
      `${describePath(path)}: item ${JSON.stringify(item)} does not contain declared merge key "${key}"`,
      path,
    );
  }
}

/** Applies `$setElementOrder/<field>` to the merged list, after checking it agrees with the patch list. */
function reorder(
  merged: readonly unknown[],
  order: readonly unknown[],
  patchList: readonly unknown[],
  live: readonly unknown[],
  schema: Schema | undefined,
  path: string,
): unknown[] {
  const mergeKey = arraySchema(schema)?.mergeKey;
  const directivePath = `${describePath(path)} ($setElementOrder)`;
  let id: ItemIdentity = scalarIdentity;
  let named = patchList;
  if (mergeKey !== undefined && mergeKey !== '') {
    order.forEach((item, i) => {
      if (!isJsonObject(item)) {
        throw new PatchError('ERR_PATCH_ELEMENT_ORDER', `${directivePath}: item ${i} must be an object naming "${mergeKey}"`, path);
      }
      requireKey(item, mergeKey, itemPath(path, i));
    });
    id = keyIdentity(mergeKey);
    named = patchList.filter((item) => !(isJsonObject(item) && hasOwn(item, DIRECTIVE)));
  }
  const violation = findOrderViolation(named, order, id);
  if (violation !== undefined) {
    throw new PatchError(
      'ERR_PATCH_ELEMENT_ORDER',
      `${directivePath}: patch item ${JSON.stringify(violation)} is missing from the order list or out of its order`,
      path,
    );
  }
  return normalizeOrder(merged, order, live, id);
}
