/**
 * Managed fields: which manager owns which fields of an object (metadata.managedFields), computed from
 * the kind's Schema. `computeFieldSet` describes the fields an object sets, in upstream's fieldsV1 shape;
 * `recordUpdate` keeps the entries current for ordinary writes (create, update, patch; `trackUpdate` is
 * the apiserver's entry point, `requestFieldManager` names the writer), and apply.ts does the same for
 * server-side apply.
 *
 * Field sets follow upstream's structured-merge-diff conventions: every present scalar, atomic list and
 * empty object is a member; keyed-list items (`k:{"name":"web"}`) and set items (`v:"x"`) are members
 * with their own children; maps and structs are not members themselves. Fields the server owns
 * (apiVersion, kind, metadata.name/namespace/uid/resourceVersion/generation/creationTimestamp/selfLink/
 * managedFields) are never part of a set. Cost: linear in the object size per computed set.
 */
import type { ManagedFieldsEntry } from '../../../api/meta.js';
import type { Schema } from '../../../api/schema.js';
import { resolveSchema } from '../../../api/schema.js';
import { deepEqual } from '../../../lib/json.js';
import type { FieldsV1 } from './field-set.js';
import { FieldSet, fieldElement, keyElement, locate, valueElement } from './field-set.js';
import type { JsonObject } from './json-util.js';
import { copyObject, isJsonObject, put } from './json-util.js';
import { childSchema } from './strategic-merge-patch.js';

/** Top-level and metadata fields the server sets: nobody owns them (upstream's stripped set). */
const serverRootFields = new Set(['apiVersion', 'kind']);
const serverMetaFields = new Set(['name', 'namespace', 'uid', 'resourceVersion', 'generation', 'creationTimestamp', 'selfLink', 'managedFields']);

/** The fields `obj` sets, as fieldsV1 JSON. */
export function computeFieldSet(obj: unknown, schema: Schema | undefined): FieldsV1 {
  return buildFieldSet(obj, schema).toFieldsV1();
}

/** The fields `obj` (an API object) sets, as a tree. */
export function buildFieldSet(obj: unknown, schema: Schema | undefined): FieldSet {
  if (!isJsonObject(obj)) return FieldSet.EMPTY;
  const children = new Map<string, FieldSet>();
  for (const key of Object.keys(obj)) {
    const value = obj[key];
    if (value === null || value === undefined || serverRootFields.has(key)) continue;
    let sub = walk(value, childSchema(schema, key));
    if (key === 'metadata' && isJsonObject(value)) {
      const meta = new Map(sub.children);
      for (const f of serverMetaFields) meta.delete(fieldElement(f));
      sub = FieldSet.node(false, meta);
    }
    children.set(fieldElement(key), sub);
  }
  return FieldSet.node(false, children);
}

function walk(value: unknown, schema: Schema | undefined): FieldSet {
  if (isJsonObject(value)) {
    const children = new Map<string, FieldSet>();
    for (const key of Object.keys(value)) {
      const v = value[key];
      if (v !== null && v !== undefined) children.set(fieldElement(key), walk(v, childSchema(schema, key)));
    }
    return children.size > 0 ? FieldSet.node(false, children) : FieldSet.LEAF;
  }
  if (Array.isArray(value) && value.length > 0 && schema?.type === 'array' && schema.strategy?.startsWith('merge')) {
    const itemSchema = resolveSchema(schema.items);
    const key = schema.mergeKey;
    const children = new Map<string, FieldSet>();
    if (key !== undefined && key !== '') {
      if (!value.every((item) => isJsonObject(item) && item[key] !== undefined && item[key] !== null)) return FieldSet.LEAF;
      for (const item of value as JsonObject[]) {
        const el = keyElement({ [key]: item[key] });
        const node = FieldSet.node(true, walk(item, itemSchema).children);
        const prev = children.get(el);
        children.set(el, prev === undefined ? node : prev.union(node));
      }
      return FieldSet.node(false, children);
    }
    if (value.some((item) => typeof item === 'object' && item !== null)) return FieldSet.LEAF;
    for (const item of value) children.set(valueElement(item), FieldSet.LEAF);
    return FieldSet.node(false, children);
  }
  return FieldSet.LEAF;
}

/**
 * The members of `set` whose value differs between `before` and `after`: a member with nothing under it
 * changed when its value differs; a member with children (a list item) when it appeared or vanished.
 */
export function changedFields(set: FieldSet, before: unknown, after: unknown): FieldSet {
  const children = new Map<string, FieldSet>();
  for (const [el, child] of set.children) {
    const b = locate(before, el);
    const a = locate(after, el);
    const sub = changedFields(child, b, a);
    const changed = child.member && (child.children.size === 0 ? !deepEqual(a, b) : (a === undefined) !== (b === undefined));
    children.set(el, FieldSet.node(changed, sub.children));
  }
  return FieldSet.node(false, children);
}

/** The managedFields entries of an object (empty when absent or malformed). */
export function managedFieldsOf(obj: unknown): ManagedFieldsEntry[] {
  const meta = isJsonObject(obj) ? obj['metadata'] : undefined;
  const entries = isJsonObject(meta) ? meta['managedFields'] : undefined;
  return Array.isArray(entries) ? entries.filter(isJsonObject).map((e) => e as ManagedFieldsEntry) : [];
}

/** A copy of `obj` whose metadata.managedFields is `entries` (the member is omitted when there are none). */
export function withManagedFields<T extends JsonObject>(obj: T, entries: readonly ManagedFieldsEntry[]): T {
  const out = copyObject(obj);
  const meta = copyObject(isJsonObject(obj['metadata']) ? obj['metadata'] : {});
  if (entries.length > 0) put(meta, 'managedFields', entries);
  else delete meta['managedFields'];
  put(out, 'metadata', meta);
  return out as T;
}

export function entrySet(entry: ManagedFieldsEntry): FieldSet {
  return FieldSet.fromFieldsV1(entry.fieldsV1);
}

/** True when `entry` is the one a (manager, operation, subresource) writer keeps. */
export function isEntryOf(entry: ManagedFieldsEntry, manager: string, operation: string, subresource: string | undefined): boolean {
  return entry.manager === manager && entry.operation === operation && (entry.subresource ?? '') === (subresource ?? '');
}

export interface RecordOptions {
  /** Set for writes through a subresource (`status`); entries are kept per subresource, like upstream. */
  readonly subresource?: string;
  /** The entries to start from; default: those of `old`. */
  readonly entries?: readonly ManagedFieldsEntry[];
}

/**
 * Updates the managedFields of `updated` after a non-apply write by `manager` (create when `old` is
 * undefined). Fields this write changed become owned by the manager's 'Update' entry and are taken from
 * every other entry (upstream's updates always take ownership); fields the write removed leave every
 * entry; entries left empty are dropped. The entries of `old` are authoritative: managedFields sent by
 * the client are ignored. Returns a new object; inputs are not mutated.
 */
export function recordUpdate<T extends JsonObject>(
  old: JsonObject | undefined,
  updated: T,
  schema: Schema | undefined,
  manager: string,
  now: string,
  options: RecordOptions = {},
): T {
  const before = old === undefined ? FieldSet.EMPTY : buildFieldSet(old, schema);
  const after = buildFieldSet(updated, schema);
  const changed = changedFields(after, old, updated);
  const removed = before.difference(after);
  const entries: ManagedFieldsEntry[] = [];
  let mine: ManagedFieldsEntry | undefined;
  for (const entry of options.entries ?? (old === undefined ? [] : managedFieldsOf(old))) {
    if (isEntryOf(entry, manager, 'Update', options.subresource)) {
      mine = entry;
      continue;
    }
    const set = entrySet(entry).difference(changed).difference(removed);
    if (!set.isEmpty()) entries.push(withFieldSet(entry, set));
  }

  const owned = (mine === undefined ? FieldSet.EMPTY : entrySet(mine)).union(changed).difference(removed);
  if (!owned.isEmpty()) {
    const apiVersion = typeof updated['apiVersion'] === 'string' ? updated['apiVersion'] : mine?.apiVersion;
    entries.push({
      manager,
      operation: 'Update',
      ...(apiVersion !== undefined ? { apiVersion } : {}),
      time: changed.isEmpty() && mine?.time !== undefined ? mine.time : now,
      fieldsType: 'FieldsV1',
      fieldsV1: owned.toFieldsV1(),
      ...(options.subresource !== undefined && options.subresource !== '' ? { subresource: options.subresource } : {}),
    });
  }
  return withManagedFields(updated, sortEntries(entries));
}

/**
 * managedFields after a create or update by `manager` through the REST API, like upstream's field
 * manager: entries the client sent in `written` are taken as the new baseline when there are any (that
 * is how a client resets them, e.g. with `[{}]`), except through a subresource; otherwise those of
 * `live` (a client unaware of managedFields cannot drop them). Then the write is recorded (recordUpdate).
 */
export function trackUpdate<T extends JsonObject>(
  live: JsonObject | undefined,
  written: T,
  schema: Schema | undefined,
  manager: string,
  now: string,
  options: RecordOptions = {},
): T {
  const sent = managedFieldsOf(written);
  const viaSubresource = options.subresource !== undefined && options.subresource !== '';
  const entries = sent.length > 0 && !viaSubresource ? sent : live === undefined ? [] : managedFieldsOf(live);
  return recordUpdate(live, written, schema, manager, now, { ...options, entries });
}

/** Upstream caps field managers at 128 bytes (FieldManagerMaxLength). */
const MAX_MANAGER_BYTES = 128;

/**
 * The manager a request writes as: its `fieldManager` parameter, else what precedes the first `/` of its
 * User-Agent (`kubectl/v1.32.0 (linux/amd64)` -> `kubectl`), without unprintable characters and cut to
 * 128 bytes, as upstream derives it. '' when neither says.
 */
export function requestFieldManager(fieldManager: string | undefined, userAgent: string | undefined): string {
  if (fieldManager !== undefined && fieldManager !== '') return fieldManager;
  let out = '';
  let bytes = 0;
  for (const ch of (userAgent ?? '').split('/')[0] ?? '') {
    if (/[\p{C}\p{Z}]/u.test(ch) && ch !== ' ') continue;
    const size = Buffer.byteLength(ch, 'utf8');
    if (bytes + size > MAX_MANAGER_BYTES) break;
    out += ch;
    bytes += size;
  }
  return out;
}

/** Upstream's order of managedFields: by operation, then time (to the second), manager, apiVersion, subresource. */
export function sortEntries(entries: readonly ManagedFieldsEntry[]): ManagedFieldsEntry[] {
  const seconds = (t: string | undefined): number => {
    const ms = t === undefined ? Number.NaN : Date.parse(t);
    return Number.isNaN(ms) ? 0 : Math.floor(ms / 1000);
  };
  const cmp = (a: string | undefined, b: string | undefined): number => {
    const x = a ?? '';
    const y = b ?? '';
    return x < y ? -1 : x > y ? 1 : 0;
  };
  return [...entries].sort(
    (p, q) =>
      cmp(p.operation, q.operation) ||
      seconds(p.time) - seconds(q.time) ||
      cmp(p.manager, q.manager) ||
      cmp(p.apiVersion, q.apiVersion) ||
      cmp(p.subresource, q.subresource),
  );
}

/** `entry` with its fieldsV1 set to `set`, the same entry object when nothing changed. */
export function withFieldSet(entry: ManagedFieldsEntry, set: FieldSet): ManagedFieldsEntry {
  const fieldsV1 = set.toFieldsV1();
  return deepEqual(fieldsV1, entry.fieldsV1) ? entry : { ...entry, fieldsV1 };
}
