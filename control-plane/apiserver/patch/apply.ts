/**
 * Server-side apply (`application/apply-patch+yaml`, PATCH with fieldManager).
 *
 * One apply by manager M of configuration C to live object L:
 *  1. merge C into L with strategic-merge semantics (maps merge, keyed lists merge by key, sets union,
 *     atomic lists replace);
 *  2. conflicts: a field whose value the merge changed and that another entry owns (any manager and
 *     operation except M's own Apply entry) is a conflict; unless the apply is forced, the whole apply
 *     fails with every conflict listed (conflicts.ts). Setting the value a field already has is no
 *     conflict: the field becomes shared;
 *  3. prune: fields M owned at its previous apply (its 'Apply' entry) that C no longer sets are removed,
 *     unless another entry owns them or something under them (then only M's own leaves go); key fields
 *     of surviving list items, status and server-owned metadata are never removed, and maps or lists
 *     emptied by pruning are dropped, as upstream's typed objects omit them;
 *  4. ownership: M's 'Apply' entry becomes exactly the fields of C; fields whose value this apply changed
 *     (possible only when forced, or when nobody else owned them) leave every other entry.
 * The entry's time only moves when the object, the field set or the apiVersion changes, so a repeated identical apply
 * yields an identical object and the apiserver can skip the write. Pure; cost linear in object size.
 */
import type { KubeObject, ManagedFieldsEntry } from '../../../api/meta.js';
import type { Schema } from '../../../api/schema.js';
import { resolveSchema } from '../../../api/schema.js';
import { deepEqual } from '../../../lib/json.js';
import { applyConflictError, findConflicts } from './conflicts.js';
import { PatchError } from './errors.js';
import { FieldSet, locate, parseElement, removeElement, replaceElement } from './field-set.js';
import type { JsonObject } from './json-util.js';
import { copyObject, dropNulls, isJsonObject, jsonType } from './json-util.js';
import { buildFieldSet, changedFields, entrySet, isEntryOf, managedFieldsOf, sortEntries, withFieldSet, withManagedFields } from './managed-fields.js';
import { applyStrategicMergePatch, childSchema } from './strategic-merge-patch.js';

export interface ApplyOptions {
  /** Set when applying through a subresource (`status`); entries are kept per subresource. */
  readonly subresource?: string;
  /** Take fields other managers own instead of failing with ApplyConflictError (`force=true`). */
  readonly force?: boolean;
}

/** Metadata members owned by the server: an apply configuration never sets or removes them. */
const serverMeta = ['uid', 'resourceVersion', 'generation', 'creationTimestamp', 'selfLink', 'managedFields'];
const protectedRoot = new Set(['f:apiVersion', 'f:kind', 'f:status']);
const protectedMeta = new Set(['name', 'namespace', ...serverMeta].map((f) => `f:${f}`));

/**
 * Applies configuration `applied` for `manager` to `live` (undefined: the object is being created) and
 * returns the resulting object with its managedFields updated. `now` is the RFC 3339 time recorded.
 * Throws ApplyConflictError when a non-forced apply would change fields other managers own.
 */
export function applyPatch(
  live: KubeObject | undefined,
  applied: unknown,
  schema: Schema | undefined,
  manager: string,
  now: string,
  options: ApplyOptions = {},
): KubeObject {
  if (!isJsonObject(applied)) {
    throw new PatchError('ERR_PATCH_MALFORMED', `apply configuration must be a JSON object, got ${jsonType(applied)}`, '');
  }
  const config = sanitize(applied);
  const applySet = buildFieldSet(config, schema);
  const entries = live === undefined ? [] : managedFieldsOf(live);
  const mineIndex = entries.findIndex((e) => isEntryOf(e, manager, 'Apply', options.subresource));
  const mine = entries[mineIndex];
  const others = entries.filter((_, i) => i !== mineIndex);

  let result: JsonObject = config;
  let otherEntries: ManagedFieldsEntry[] = others;
  let objectChanged = true;
  if (live !== undefined) {
    // live keeps its managedFields through the merge (the config has none, pruning protects them), so
    // the member keeps its position and a no-op apply serializes byte for byte as before.
    const merged = applyStrategicMergePatch(live, config, schema);
    const ownedByOthers = others.reduce((acc, e) => acc.union(entrySet(e)), FieldSet.EMPTY);
    const stale = (mine === undefined ? FieldSet.EMPTY : entrySet(mine)).difference(applySet);
    const pruned = prune(merged, stale, ownedByOthers.union(applySet), schema, 'root', []);
    result = pruned === GONE || !isJsonObject(pruned) ? {} : pruned;
    objectChanged = !deepEqual(withManagedFields(live, []), withManagedFields(result, []));
    const changed = changedFields(applySet, live, result);
    if (options.force !== true) {
      const conflicts = findConflicts(others, changed);
      if (conflicts.length > 0) throw applyConflictError(conflicts);
    }
    otherEntries = others.flatMap((e) => {
      const set = entrySet(e).difference(changed);
      return set.isEmpty() ? [] : [withFieldSet(e, set)];
    });
  }

  const apiVersion = typeof config['apiVersion'] === 'string' ? config['apiVersion'] : live?.apiVersion;
  const fieldsV1 = applySet.toFieldsV1();
  const unchanged = !objectChanged && mine !== undefined && mine.apiVersion === apiVersion && withFieldSet(mine, applySet) === mine;
  const entry: ManagedFieldsEntry = unchanged
    ? mine
    : {
        manager,
        operation: 'Apply',
        ...(apiVersion !== undefined ? { apiVersion } : {}),
        time: now,
        fieldsType: 'FieldsV1',
        fieldsV1,
        ...(options.subresource !== undefined && options.subresource !== '' ? { subresource: options.subresource } : {}),
      };
  return withManagedFields(result, sortEntries([...otherEntries, entry])) as KubeObject;
}

/** The configuration without nulls and without the metadata the server owns. */
function sanitize(applied: JsonObject): JsonObject {
  const config = copyObject(dropNulls(applied) as JsonObject);
  const meta = config['metadata'];
  if (isJsonObject(meta)) {
    const m = copyObject(meta);
    for (const f of serverMeta) delete m[f];
    config['metadata'] = m;
  }
  return config;
}

const GONE: unique symbol = Symbol('gone');
type Context = 'root' | 'metadata' | 'other';

/**
 * Removes from `value` the members of `stale` not covered by `keep` (a path is covered when `keep` has
 * it or anything under it). `keyFields` are the key fields of the list item `value` is, never removed
 * while the item stays. Returns GONE when pruning emptied a map or list.
 */
function prune(
  value: unknown,
  stale: FieldSet,
  keep: FieldSet | undefined,
  schema: Schema | undefined,
  context: Context,
  keyFields: readonly string[],
): unknown {
  let out = value;
  let removedAny = false;
  for (const [el, sub] of stale.children) {
    if ((context === 'root' && protectedRoot.has(el)) || (context === 'metadata' && protectedMeta.has(el))) continue;
    if (keyFields.includes(el)) continue;
    const current = locate(out, el);
    if (current === undefined) continue;
    const keepSub = keep?.child(el);
    if (sub.member && keepSub === undefined) {
      out = removeElement(out, el);
      removedAny = true;
      continue;
    }
    if (sub.children.size === 0) continue;
    const parsed = parseElement(el);
    const childKeys = parsed?.kind === 'key' ? Object.keys(parsed.fields).map((k) => `f:${k}`) : [];
    const childContext: Context = context === 'root' && el === 'f:metadata' ? 'metadata' : 'other';
    const pruned = prune(current, sub, keepSub, elementSchema(schema, el), childContext, childKeys);
    if (pruned === GONE) {
      out = removeElement(out, el);
      removedAny = true;
    } else if (pruned !== current) {
      out = replaceElement(out, el, pruned);
    }
  }
  if (removedAny && context === 'other' && isPrunableEmpty(out, schema)) return GONE;
  return out;
}

/** The schema of the value under a path element: a member's schema, or a list's item schema. */
function elementSchema(schema: Schema | undefined, el: string): Schema | undefined {
  if (el.startsWith('f:')) return childSchema(schema, el.slice(2));
  return schema?.type === 'array' ? resolveSchema(schema.items) : undefined;
}

/** Emptied maps and lists disappear; emptied structs stay `{}`, as upstream serializes them. */
function isPrunableEmpty(value: unknown, schema: Schema | undefined): boolean {
  if (Array.isArray(value)) return value.length === 0;
  if (!isJsonObject(value) || Object.keys(value).length > 0) return false;
  return schema === undefined || schema.type !== 'object';
}
