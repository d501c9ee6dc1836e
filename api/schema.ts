/**
 * A small structural schema for every kind. One description serves four purposes:
 *  - decoding checks: wrong JSON types are rejected with the field path (`spec.replicas: expected integer`);
 *  - strict field validation: unknown fields are reported (kubectl sends fieldValidation=Strict);
 *  - strategic merge patch: lists say how they merge (`mergeKey`, `strategy`), like upstream's
 *    patchMergeKey/patchStrategy struct tags;
 *  - the OpenAPI v3 documents that kubectl reads (explain, field validation discovery).
 * Keep it declarative: no functions in here.
 */
export type Schema =
  | ScalarSchema
  | ObjectSchema
  | MapSchema
  | ArraySchema;

export interface ScalarSchema {
  readonly type: 'string' | 'integer' | 'number' | 'boolean' | 'any' | 'quantity' | 'int-or-string' | 'date-time' | 'bytes';
  readonly description?: string;
  /** Allowed values (for documentation; semantic validation still reports unsupported values). */
  readonly enum?: readonly string[];
}

export interface ObjectSchema {
  readonly type: 'object';
  readonly description?: string;
  /** Fields by JSON name; a function lets schemas refer to themselves (e.g. JSONSchemaProps-like recursion). */
  readonly fields: Readonly<Record<string, Schema | (() => Schema)>>;
  readonly required?: readonly string[];
  /** Upstream's `patchStrategy:"retainKeys"` on a struct (e.g. volume sources, deployment strategy). */
  readonly retainKeys?: boolean;
}

/** A map with string keys (labels, annotations, ConfigMap data, resource lists). */
export interface MapSchema {
  readonly type: 'map';
  readonly description?: string;
  readonly values: Schema;
}

export interface ArraySchema {
  readonly type: 'array';
  readonly description?: string;
  readonly items: Schema | (() => Schema);
  /**
   * Strategic-merge behaviour. `merge` with a mergeKey merges list items by that key (containers by name);
   * `merge` on a list of scalars merges as a set (finalizers); absent means the list is replaced whole.
   */
  readonly strategy?: 'merge' | 'replace' | 'merge,retainKeys';
  readonly mergeKey?: string;
}

export function resolveSchema(s: Schema | (() => Schema)): Schema {
  return typeof s === 'function' ? s() : s;
}

// Small constructors so kind schemas read compactly.
export const str = (description?: string): ScalarSchema => ({ type: 'string', ...(description ? { description } : {}) });
export const int = (description?: string): ScalarSchema => ({ type: 'integer', ...(description ? { description } : {}) });
export const num = (description?: string): ScalarSchema => ({ type: 'number', ...(description ? { description } : {}) });
export const bool = (description?: string): ScalarSchema => ({ type: 'boolean', ...(description ? { description } : {}) });
export const anyValue = (description?: string): ScalarSchema => ({ type: 'any', ...(description ? { description } : {}) });
export const quantity = (description?: string): ScalarSchema => ({ type: 'quantity', ...(description ? { description } : {}) });
export const intOrString = (description?: string): ScalarSchema => ({ type: 'int-or-string', ...(description ? { description } : {}) });
export const time = (description?: string): ScalarSchema => ({ type: 'date-time', ...(description ? { description } : {}) });
export const obj = (
  fields: ObjectSchema['fields'],
  opts: { description?: string; required?: readonly string[]; retainKeys?: boolean } = {},
): ObjectSchema => ({ type: 'object', fields, ...opts });
export const mapOf = (values: Schema, description?: string): MapSchema => ({
  type: 'map',
  values,
  ...(description ? { description } : {}),
});
export const arrayOf = (
  items: Schema | (() => Schema),
  opts: { strategy?: NonNullable<ArraySchema['strategy']>; mergeKey?: string; description?: string } = {},
): ArraySchema => ({ type: 'array', items, ...opts });
/** A list merged by key, as upstream tags `patchStrategy:"merge" patchMergeKey:"name"`. */
export const listByKey = (items: Schema | (() => Schema), mergeKey: string, description?: string): ArraySchema =>
  arrayOf(items, { strategy: 'merge', mergeKey, ...(description ? { description } : {}) });
/** A list of scalars merged as a set (finalizers). */
export const setOf = (items: Schema, description?: string): ArraySchema =>
  arrayOf(items, { strategy: 'merge', ...(description ? { description } : {}) });
