/**
 * Converts the apiserver's `Schema` DSL (api/schema.ts) into OpenAPI v3 schemas for the documents built
 * in openapi.ts, as `kubectl explain` and client-side `kubectl apply` read them.
 *
 * Nested objects are inlined (the DSL has no type names) except the shared meta/v1 types, Quantity and
 * IntOrString, which are components referenced the way upstream does, so that explain prints
 * `<ObjectMeta>`, `<LabelSelector>`, `<IntOrString>`. A property that is a `$ref` is wrapped in `allOf`
 * so that it can carry its own description. Lists carry both the strategic-merge-patch extensions
 * (`x-kubernetes-patch-merge-key`/`-strategy`) and server-side apply's `x-kubernetes-list-type`.
 *
 * Cost model: one pass over each schema, linear in its size; a named component is converted once per
 * converter, and a schema reaching itself through a thunk is cut at the repetition.
 */
import {
  labelSelectorSchema,
  listMetaSchema,
  managedFieldsEntrySchema,
  objectMetaSchema,
  ownerReferenceSchema,
} from '../../api/meta-schema.js';
import type { ArraySchema, ObjectSchema, ScalarSchema, Schema } from '../../api/schema.js';
import { resolveSchema } from '../../api/schema.js';
import type { JsonValue } from '../../lib/json.js';

export type JsonObject = { [k: string]: JsonValue };

/** The Go package upstream's meta/v1 schema names start with. */
export const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';
const QUANTITY = 'io.k8s.apimachinery.pkg.api.resource.Quantity';
const INT_OR_STRING = 'io.k8s.apimachinery.pkg.util.intstr.IntOrString';

/** A reference to the component `name` of the same document. */
export const componentRef = (name: string): JsonObject => ({ $ref: `#/components/schemas/${name}` });

/** DSL schemas that become shared components instead of being inlined, by identity. */
const NAMED_SCHEMAS: ReadonlyMap<Schema, string> = new Map<Schema, string>([
  [objectMetaSchema, `${META}.ObjectMeta`],
  [listMetaSchema, `${META}.ListMeta`],
  [ownerReferenceSchema, `${META}.OwnerReference`],
  [managedFieldsEntrySchema, `${META}.ManagedFieldsEntry`],
  [labelSelectorSchema, `${META}.LabelSelector`],
]);

/**
 * Turns DSL schemas into OpenAPI v3 schemas, collecting the components they reference. A schema that
 * contains itself (through a thunk) is cut at the repetition and left open, as explain would stop there.
 */
export class SchemaConverter {
  readonly components = new Map<string, JsonObject>();
  private readonly path = new Set<Schema>();

  constructor(private readonly named: ReadonlyMap<Schema, string> = NAMED_SCHEMAS) {}

  /** The schema for a value; named types become `$ref`s. */
  convert(input: Schema | (() => Schema)): JsonObject {
    const s = resolveSchema(input);
    const name = this.named.get(s);
    if (name === undefined) return this.inline(s);
    // The description stays with each use (the property wrapper), not on the shared component: explain
    // prints both, and they would repeat each other.
    if (!this.components.has(name)) this.defineNamed(name, s, { description: null });
    return componentRef(name);
  }

  /** A property: like `convert`, but a `$ref` is wrapped in `allOf` so it can carry its own description. */
  property(input: Schema | (() => Schema)): JsonObject {
    const s = resolveSchema(input);
    const converted = this.convert(s);
    const extra: JsonObject = s.type === 'object' && s.retainKeys ? { 'x-kubernetes-patch-strategy': 'retainKeys' } : {};
    if (converted.$ref === undefined) return { ...converted, ...extra };
    if (s.description === undefined && Object.keys(extra).length === 0) return converted;
    return { allOf: [converted], ...(s.description !== undefined ? { description: s.description } : {}), ...extra };
  }

  /** Registers `s` as the component `name` (once), e.g. a kind's top-level schema. `null` in `extra` drops a key. */
  defineNamed(name: string, s: Schema, extra: JsonObject = {}): void {
    if (this.components.has(name)) return;
    this.components.set(name, {}); // placeholder, so that a schema reaching itself stops at a $ref
    const merged: JsonObject = { ...this.inline(s), ...extra };
    for (const [k, v] of Object.entries(extra)) if (v === null) delete merged[k];
    this.components.set(name, merged);
  }

  private inline(s: Schema): JsonObject {
    switch (s.type) {
      case 'object':
        return this.object(s);
      case 'map':
        return withDescription({ type: 'object', additionalProperties: this.convert(s.values) }, s.description);
      case 'array':
        return this.array(s);
      default:
        return this.scalar(s);
    }
  }

  private object(s: ObjectSchema): JsonObject {
    if (this.path.has(s)) return withDescription({ type: 'object', 'x-kubernetes-preserve-unknown-fields': true }, s.description);
    this.path.add(s);
    try {
      const properties: JsonObject = {};
      for (const [field, fs] of Object.entries(s.fields)) properties[field] = this.property(fs);
      return {
        ...(s.description !== undefined ? { description: s.description } : {}),
        type: 'object',
        ...(Object.keys(properties).length > 0 ? { properties } : {}),
        ...(s.required && s.required.length > 0 ? { required: [...s.required] } : {}),
      };
    } finally {
      this.path.delete(s);
    }
  }

  private array(s: ArraySchema): JsonObject {
    const out: JsonObject = withDescription({ type: 'array', items: this.convert(s.items) }, s.description);
    if (s.mergeKey !== undefined) out['x-kubernetes-patch-merge-key'] = s.mergeKey;
    if (s.strategy !== undefined) out['x-kubernetes-patch-strategy'] = s.strategy;
    // Server-side apply's view of the same list: keyed lists are maps, merged scalar lists are sets.
    if (s.strategy !== undefined && s.strategy.startsWith('merge')) {
      if (s.mergeKey !== undefined) {
        out['x-kubernetes-list-type'] = 'map';
        out['x-kubernetes-list-map-keys'] = [s.mergeKey];
      } else {
        out['x-kubernetes-list-type'] = 'set';
      }
    } else if (s.strategy === 'replace') {
      out['x-kubernetes-list-type'] = 'atomic';
    }
    return out;
  }

  private scalar(s: ScalarSchema): JsonObject {
    const enumValues: JsonObject = s.enum && s.enum.length > 0 ? { enum: [...s.enum] } : {};
    const d = s.description;
    switch (s.type) {
      case 'string':
        return withDescription({ type: 'string', ...enumValues }, d);
      case 'integer':
        return withDescription({ type: 'integer', ...enumValues }, d);
      case 'number':
        return withDescription({ type: 'number', format: 'double' }, d);
      case 'boolean':
        return withDescription({ type: 'boolean' }, d);
      case 'date-time':
        return withDescription({ type: 'string', format: 'date-time' }, d);
      case 'bytes':
        return withDescription({ type: 'string', format: 'byte' }, d);
      case 'any':
        return withDescription({ 'x-kubernetes-preserve-unknown-fields': true }, d);
      case 'quantity':
        this.components.set(QUANTITY, QUANTITY_SCHEMA);
        return withDescription(componentRef(QUANTITY), d, true);
      case 'int-or-string':
        this.components.set(INT_OR_STRING, INT_OR_STRING_SCHEMA);
        return withDescription(componentRef(INT_OR_STRING), d, true);
      default: {
        const never: never = s.type;
        return never;
      }
    }
  }
}

function withDescription(schema: JsonObject, description: string | undefined, isRef = false): JsonObject {
  if (description === undefined) return schema;
  return isRef ? { allOf: [schema], description } : { description, ...schema };
}

// Upstream's v3 forms: these two have no single `type`, they accept either JSON type.
const QUANTITY_SCHEMA: JsonObject = {
  description: 'A fixed-point number with a unit suffix, e.g. 100m (CPU), 128Mi (memory), 1e3.',
  oneOf: [{ type: 'string' }, { type: 'number' }],
};
const INT_OR_STRING_SCHEMA: JsonObject = {
  description: 'Either an integer or a string, e.g. a port number or a port name, a count or a percentage.',
  format: 'int-or-string',
  oneOf: [{ type: 'integer' }, { type: 'string' }],
  'x-kubernetes-int-or-string': true,
};
