/**
 * A set of field paths, the unit of ownership in server-side apply, and its `fieldsV1` wire form.
 *
 * A path is a list of elements written as upstream writes them: `f:<field>` (object member or map key),
 * `k:<json>` (item of a keyed list, e.g. `k:{"name":"web"}`), `v:<json>` (item of a set, `v:"a"`) and
 * `i:<n>` (list index; we never produce it but accept it). The set is a tree: each node says whether the
 * path ending there is a member, and has children. In fieldsV1 a node is an object of its children plus
 * `".": {}` when it is itself a member and has children; a member leaf is `{}`.
 * Trees are immutable and normalized (no empty non-member nodes), so "some path at or under P is in the
 * set" is simply "the node for P exists". Cost: set operations are linear in the size of the trees.
 */
import type { JsonObject } from './json-util.js';
import { hasOwn, isJsonObject, put } from './json-util.js';
import { deepEqual } from '../../../lib/json.js';

/** The JSON of a managedFields entry's `fieldsV1`. */
export type FieldsV1 = { readonly [element: string]: unknown };

export type PathElement =
  | { readonly kind: 'field'; readonly name: string }
  | { readonly kind: 'key'; readonly fields: JsonObject }
  | { readonly kind: 'value'; readonly value: unknown }
  | { readonly kind: 'index'; readonly index: number };

export const fieldElement = (name: string): string => `f:${name}`;
export const valueElement = (value: unknown): string => `v:${JSON.stringify(value)}`;
/** `k:` with the key fields in sorted order, as upstream serializes them. */
export function keyElement(fields: JsonObject): string {
  const sorted: Record<string, unknown> = {};
  for (const k of Object.keys(fields).sort()) put(sorted, k, fields[k]);
  return `k:${JSON.stringify(sorted)}`;
}

/** Decodes one element; undefined when it is not valid fieldsV1. */
export function parseElement(element: string): PathElement | undefined {
  const body = element.slice(2);
  try {
    switch (element.slice(0, 2)) {
      case 'f:':
        return { kind: 'field', name: body };
      case 'k:': {
        const fields: unknown = JSON.parse(body);
        return isJsonObject(fields) ? { kind: 'key', fields } : undefined;
      }
      case 'v:':
        return { kind: 'value', value: JSON.parse(body) as unknown };
      case 'i:':
        return /^\d+$/.test(body) ? { kind: 'index', index: Number(body) } : undefined;
      default:
        return undefined;
    }
  } catch {
    return undefined;
  }
}

export class FieldSet {
  static readonly EMPTY = new FieldSet(false, new Map());
  /** A member path with nothing under it. */
  static readonly LEAF = new FieldSet(true, new Map());

  private constructor(
    readonly member: boolean,
    readonly children: ReadonlyMap<string, FieldSet>,
  ) {}

  /** Builds a node, dropping empty children so the tree stays normalized. */
  static node(member: boolean, children: ReadonlyMap<string, FieldSet>): FieldSet {
    const kept = new Map<string, FieldSet>();
    for (const [el, child] of children) if (!child.isEmpty()) kept.set(el, child);
    if (kept.size === 0) return member ? FieldSet.LEAF : FieldSet.EMPTY;
    return new FieldSet(member, kept);
  }

  /** Reads fieldsV1 JSON. Lenient: unknown or malformed elements are skipped, a non-object is empty. */
  static fromFieldsV1(json: unknown): FieldSet {
    if (!isJsonObject(json)) return FieldSet.EMPTY;
    const children = new Map<string, FieldSet>();
    for (const el of Object.keys(json)) {
      if (el === '.' || parseElement(el) === undefined) continue;
      const value = json[el];
      const sub = FieldSet.fromFieldsV1(value);
      const member = isJsonObject(value) && (Object.keys(value).length === 0 || hasOwn(value, '.'));
      children.set(el, FieldSet.node(member, sub.children));
    }
    return FieldSet.node(false, children);
  }

  /** The fieldsV1 JSON of this tree (the root's own membership is not representable and is ignored). */
  toFieldsV1(): FieldsV1 {
    return this.childrenJson();
  }

  private childrenJson(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    if (this.member && this.children.size > 0) out['.'] = {};
    for (const el of [...this.children.keys()].sort()) {
      put(out, el, (this.children.get(el) as FieldSet).childrenJson());
    }
    return out;
  }

  isEmpty(): boolean {
    return !this.member && this.children.size === 0;
  }

  child(element: string): FieldSet | undefined {
    return this.children.get(element);
  }

  /** True when `path` is a member. */
  has(path: readonly string[]): boolean {
    let node: FieldSet | undefined = this;
    for (const el of path) {
      node = node.children.get(el);
      if (node === undefined) return false;
    }
    return node.member;
  }

  union(other: FieldSet): FieldSet {
    if (other.isEmpty()) return this;
    if (this.isEmpty()) return other;
    const children = new Map(this.children);
    for (const [el, child] of other.children) {
      const mine = children.get(el);
      children.set(el, mine === undefined ? child : mine.union(child));
    }
    return FieldSet.node(this.member || other.member, children);
  }

  /** Members of this set that are not members of `other`. */
  difference(other: FieldSet): FieldSet {
    if (other.isEmpty() || this.isEmpty()) return this;
    const children = new Map<string, FieldSet>();
    for (const [el, child] of this.children) {
      const theirs = other.children.get(el);
      children.set(el, theirs === undefined ? child : child.difference(theirs));
    }
    return FieldSet.node(this.member && !other.member, children);
  }

  /** Members of this set that are also members of `other`. */
  intersection(other: FieldSet): FieldSet {
    if (other.isEmpty() || this.isEmpty()) return FieldSet.EMPTY;
    const children = new Map<string, FieldSet>();
    for (const [el, child] of this.children) {
      const theirs = other.children.get(el);
      if (theirs !== undefined) children.set(el, child.intersection(theirs));
    }
    return FieldSet.node(this.member && other.member, children);
  }

  /** Every member path, depth first in element order (for tests and messages). */
  paths(prefix: readonly string[] = []): string[][] {
    const out: string[][] = [];
    if (this.member && prefix.length > 0) out.push([...prefix]);
    for (const el of [...this.children.keys()].sort()) {
      out.push(...(this.children.get(el) as FieldSet).paths([...prefix, el]));
    }
    return out;
  }
}

/** The value under `element` in `value`, or undefined when absent. */
export function locate(value: unknown, element: string): unknown {
  const el = parseElement(element);
  if (el === undefined) return undefined;
  switch (el.kind) {
    case 'field':
      return isJsonObject(value) && hasOwn(value, el.name) ? value[el.name] : undefined;
    case 'key':
      return Array.isArray(value) ? value.find((item) => matchesKey(item, el.fields)) : undefined;
    case 'value':
      return Array.isArray(value) ? value.find((item) => deepEqual(item, el.value)) : undefined;
    case 'index':
      return Array.isArray(value) ? value[el.index] : undefined;
    default: {
      const unreachable: never = el;
      return unreachable;
    }
  }
}

/** A copy of `container` without what `element` designates (every matching list item). */
export function removeElement(container: unknown, element: string): unknown {
  const el = parseElement(element);
  if (el === undefined) return container;
  if (el.kind === 'field') {
    if (!isJsonObject(container) || !hasOwn(container, el.name)) return container;
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(container)) if (k !== el.name) put(out, k, container[k]);
    return out;
  }
  if (!Array.isArray(container)) return container;
  switch (el.kind) {
    case 'key':
      return container.filter((item) => !matchesKey(item, el.fields));
    case 'value':
      return container.filter((item) => !deepEqual(item, el.value));
    case 'index':
      return container.filter((_, i) => i !== el.index);
    default: {
      const unreachable: never = el;
      return unreachable;
    }
  }
}

/** A copy of `container` with the value under `element` replaced (no-op when the element is absent). */
export function replaceElement(container: unknown, element: string, value: unknown): unknown {
  const el = parseElement(element);
  if (el === undefined) return container;
  if (el.kind === 'field') {
    if (!isJsonObject(container)) return container;
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(container)) put(out, k, k === el.name ? value : container[k]);
    return out;
  }
  if (!Array.isArray(container)) return container;
  const target = locate(container, element);
  return container.map((item) => (item === target ? value : item));
}

function matchesKey(item: unknown, fields: JsonObject): boolean {
  return isJsonObject(item) && Object.keys(fields).every((k) => hasOwn(item, k) && deepEqual(item[k], fields[k]));
}
