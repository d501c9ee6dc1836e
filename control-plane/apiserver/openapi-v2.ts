/**
 * GET /openapi/v2: the Swagger 2.0 document kubectl downloads when it validates a manifest itself.
 *
 * kubectl asks the server to validate fields (fieldValidation) for every kind whose PATCH operation in
 * the OpenAPI v3 documents carries that parameter. Kinds without a PATCH (the create-only reviews:
 * SelfSubjectAccessReview, TokenReview, ...) are validated on the client, against this document:
 * without it `kubectl create -f` of such a kind fails with "failed to download openapi".
 *
 * The document is built from the v3 documents (./openapi.ts), so both always describe the same schemas:
 * their components become `definitions`, `#/components/schemas/X` references become
 * `#/definitions/X`, and what Swagger 2.0 has no word for is dropped: `oneOf`/`anyOf` (an
 * int-or-string or a quantity is then untyped, which kubectl accepts in any form, as upstream's
 * validation does for them) and `nullable`. `paths` is left empty: kubectl reads only the definitions
 * and their `x-kubernetes-group-version-kind` from this document (explain and apply use v3).
 *
 * Wire forms: kubectl (client-go's OpenAPISchema) asks for the protobuf form
 * (`application/com.github.proto-openapi.spec.v2@v1.0+protobuf`, gnostic's openapi_v2.Document, whose
 * field numbers are used below); anything else gets JSON. Vendor extensions travel in protobuf as YAML
 * text, for which JSON text qualifies. Memoized per `resources` array, like the v3 documents.
 */
import { varintBytes } from '../../api/protobuf/wire.js';
import { KNODE_GIT_VERSION, servedGroupVersions } from './discovery.js';
import type { ServedResource } from './discovery.js';
import { buildOpenAPIV3GroupVersion } from './openapi.js';
import type { JsonObject } from './openapi-schema.js';

/** What kubectl asks for, and what the answer says it is (Go's mime parser refuses the `@`). */
export const OPENAPI_V2_PROTOBUF = 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf';
export const OPENAPI_V2_PROTOBUF_RETURNED = 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf';

export interface OpenAPIV2Document {
  readonly swagger: '2.0';
  readonly info: { readonly title: string; readonly version: string };
  readonly paths: Readonly<Record<string, never>>;
  readonly definitions: Readonly<Record<string, JsonObject>>;
}

const V3_REF = '#/components/schemas/';
const V2_REF = '#/definitions/';

/** One v3 schema in Swagger 2.0's terms (see the file comment); pure. */
export function toV2Schema(s: JsonObject): JsonObject {
  // v3's `allOf: [{$ref}]` beside a description is how a reference carries its own words; Swagger 2.0
  // (and kubectl's reader, which ignores allOf) wants the reference itself
  const only = Array.isArray(s['allOf']) && s['allOf'].length === 1 ? s['allOf'][0] : undefined;
  if (isObject(only) && typeof only['$ref'] === 'string' && s['type'] === undefined) {
    const { allOf: _allOf, ...rest } = s;
    return toV2Schema({ ...rest, $ref: only['$ref'] });
  }
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(s)) {
    if (key === 'oneOf' || key === 'anyOf' || key === 'nullable') continue;
    if (key === '$ref' && typeof value === 'string') out[key] = value.startsWith(V3_REF) ? V2_REF + value.slice(V3_REF.length) : value;
    else if ((key === 'items' || key === 'additionalProperties') && isObject(value)) out[key] = toV2Schema(value);
    else if (key === 'properties' && isObject(value)) out[key] = mapValues(value, toV2Schema);
    else if (key === 'allOf' && Array.isArray(value)) out[key] = value.filter(isObject).map(toV2Schema);
    else out[key] = value;
  }
  return out;
}

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function mapValues(o: JsonObject, f: (s: JsonObject) => JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(o)) if (isObject(v)) out[k] = f(v);
  return out;
}

const memo = new WeakMap<readonly ServedResource[], { doc: OpenAPIV2Document; protobuf?: Uint8Array }>();

function entry(resources: readonly ServedResource[]): { doc: OpenAPIV2Document; protobuf?: Uint8Array } {
  let e = memo.get(resources);
  if (e === undefined) {
    const definitions: Record<string, JsonObject> = {};
    for (const { group, version } of servedGroupVersions(resources)) {
      const doc = buildOpenAPIV3GroupVersion(resources, group, version);
      // a schema shared by several group-versions (ObjectMeta...) is the same in each: first one wins
      for (const [name, schema] of Object.entries(doc?.components.schemas ?? {})) definitions[name] ??= toV2Schema(schema);
    }
    const sorted: Record<string, JsonObject> = {};
    for (const name of Object.keys(definitions).sort()) sorted[name] = definitions[name] as JsonObject;
    e = { doc: { swagger: '2.0', info: { title: 'Kubernetes', version: KNODE_GIT_VERSION }, paths: {}, definitions: sorted } };
    memo.set(resources, e);
  }
  return e;
}

/** The document as JSON. Shared between calls with the same `resources`: do not mutate it. */
export function buildOpenAPIV2(resources: readonly ServedResource[]): OpenAPIV2Document {
  return entry(resources).doc;
}

/** The document in gnostic's protobuf form (what kubectl asks for). */
export function buildOpenAPIV2Protobuf(resources: readonly ServedResource[]): Uint8Array {
  const e = entry(resources);
  e.protobuf ??= encodeDocument(e.doc);
  return e.protobuf;
}

// ---------------------------------------------------------------------------------------------------
// protobuf (gnostic openapiv2/OpenAPIv2.proto): only the messages and fields this document uses

/** A message under construction: fields appended in the order written. */
class Message {
  private readonly parts: Uint8Array[] = [];

  private varint(n: number): void {
    this.parts.push(Uint8Array.from(varintBytes(n)));
  }

  private delimited(field: number, body: Uint8Array): this {
    this.varint((field << 3) | 2);
    this.varint(body.length);
    this.parts.push(body);
    return this;
  }

  string(field: number, s: string | undefined): this {
    return s === undefined || s === '' ? this : this.delimited(field, Buffer.from(s, 'utf8'));
  }

  message(field: number, m: Message): this {
    return this.delimited(field, m.bytes());
  }

  bool(field: number, b: boolean): this {
    this.varint(field << 3);
    this.varint(b ? 1 : 0);
    return this;
  }

  bytes(): Uint8Array {
    return Buffer.concat(this.parts);
  }
}

// Field numbers of gnostic's openapi_v2 messages.
const DOCUMENT = { swagger: 1, info: 2, paths: 8, definitions: 9 } as const;
const INFO = { title: 1, version: 2 } as const;
const NAMED = { name: 1, value: 2 } as const; // NamedSchema, NamedAny
const ANY_YAML = 2;
const REPEATED_VALUES = 1; // Definitions, Properties (NamedSchema), TypeItem (string), ItemsItem (Schema)
const ADDITIONAL_PROPERTIES = { schema: 1, boolean: 2 } as const;
const SCHEMA = {
  ref: 1,
  format: 2,
  title: 3,
  description: 4,
  default: 5,
  required: 19,
  additionalProperties: 21,
  type: 22,
  items: 23,
  allOf: 24,
  properties: 25,
  vendorExtension: 31,
} as const;

function yamlAny(value: unknown): Message {
  return new Message().string(ANY_YAML, JSON.stringify(value));
}

function encodeSchema(s: JsonObject): Message {
  const m = new Message();
  if (typeof s['$ref'] === 'string') m.string(SCHEMA.ref, s['$ref']);
  if (typeof s['format'] === 'string') m.string(SCHEMA.format, s['format']);
  if (typeof s['title'] === 'string') m.string(SCHEMA.title, s['title']);
  if (typeof s['description'] === 'string') m.string(SCHEMA.description, s['description']);
  if (s['default'] !== undefined) m.message(SCHEMA.default, yamlAny(s['default']));
  if (Array.isArray(s['required'])) for (const r of s['required']) if (typeof r === 'string') m.string(SCHEMA.required, r);
  const extra = s['additionalProperties'];
  if (typeof extra === 'boolean') m.message(SCHEMA.additionalProperties, new Message().bool(ADDITIONAL_PROPERTIES.boolean, extra));
  else if (isObject(extra)) m.message(SCHEMA.additionalProperties, new Message().message(ADDITIONAL_PROPERTIES.schema, encodeSchema(extra)));
  if (typeof s['type'] === 'string') m.message(SCHEMA.type, new Message().string(REPEATED_VALUES, s['type']));
  if (isObject(s['items'])) m.message(SCHEMA.items, new Message().message(REPEATED_VALUES, encodeSchema(s['items'])));
  if (Array.isArray(s['allOf'])) for (const a of s['allOf']) if (isObject(a)) m.message(SCHEMA.allOf, encodeSchema(a));
  if (isObject(s['properties'])) m.message(SCHEMA.properties, namedSchemas(s['properties']));
  for (const [key, value] of Object.entries(s)) {
    if (key.startsWith('x-')) m.message(SCHEMA.vendorExtension, new Message().string(NAMED.name, key).message(NAMED.value, yamlAny(value)));
  }
  return m;
}

function namedSchemas(o: JsonObject): Message {
  const m = new Message();
  for (const [name, s] of Object.entries(o)) {
    if (isObject(s)) m.message(REPEATED_VALUES, new Message().string(NAMED.name, name).message(NAMED.value, encodeSchema(s)));
  }
  return m;
}

function encodeDocument(doc: OpenAPIV2Document): Uint8Array {
  return new Message()
    .string(DOCUMENT.swagger, doc.swagger)
    .message(DOCUMENT.info, new Message().string(INFO.title, doc.info.title).string(INFO.version, doc.info.version))
    .message(DOCUMENT.paths, new Message())
    .message(DOCUMENT.definitions, namedSchemas(doc.definitions))
    .bytes();
}
