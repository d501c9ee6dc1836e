/**
 * Request body decoding: bytes -> JSON value -> object checked against the kind's schema.
 *
 * Upstream decodes into Go structs, so a wrong JSON type is a 400 ("cannot be handled as a Pod"), an
 * unknown field is dropped (and reported under fieldValidation=Warn, refused under Strict, which kubectl
 * sends by default), and a null field is the zero value. We reproduce that with one walk over the schema:
 * it returns the pruned object plus the type errors and unknown field paths it met.
 */
import { parse as parseYaml } from 'yaml';
import { resolveSchema } from '../../api/schema.js';
import type { Schema } from '../../api/schema.js';
import { badRequest, unsupportedMediaType } from './errors.js';
import { PROTOBUF_MEDIA_TYPE, decodeProtobufBody } from './protobuf.js';
import type { ExpectedKind } from './protobuf.js';

export type BodyFormat = 'json' | 'yaml' | 'protobuf';

/** The media type without parameters, lower-cased: `application/json; charset=utf-8` -> `application/json`. */
export function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

export function formatOf(contentType: string | undefined): BodyFormat {
  const mt = mediaType(contentType);
  switch (mt) {
    case '':
    case 'application/json':
    case '*/*':
      return 'json';
    case 'application/yaml':
    case 'application/x-yaml':
    case 'text/yaml':
      return 'yaml';
    // Go typed clients (kubectl create ...) send protobuf and never retry in JSON
    case PROTOBUF_MEDIA_TYPE:
      return 'protobuf';
    default:
      throw unsupportedMediaType(mt);
  }
}

/**
 * Deepest nesting accepted in a body. Real objects stay under 30 levels; the limit keeps recursive
 * code (patch engines, the YAML parser) away from stack and memory exhaustion on hostile input.
 */
export const MAX_NESTING_DEPTH = 256;

/**
 * Parses a body as JSON, YAML or protobuf into the same JSON shape. The error names the format and the
 * parser's position. `expected` only matters for protobuf: it stands in for an envelope without TypeMeta
 * (without it, the envelope's TypeMeta decides and the kind checks come after).
 */
export function parseBody(body: Buffer, format: BodyFormat, expected?: ExpectedKind): unknown {
  if (format === 'protobuf') {
    if (body.length === 0) throw badRequest('the request body is empty: expected a protobuf object');
    return decodeProtobufBody(body, expected);
  }
  const text = body.toString('utf8');
  if (text.trim() === '') throw badRequest('the request body is empty: expected a JSON or YAML object');
  if (format === 'json') {
    let value: unknown;
    try {
      value = JSON.parse(text) as unknown;
    } catch (err) {
      throw badRequest(`the request body is not valid JSON: ${(err as Error).message}`);
    }
    checkDepth(value);
    return value;
  }
  // The YAML parser itself recurses on flow collections ({...} and [...]): bound them before parsing.
  if (flowDepth(text) > MAX_NESTING_DEPTH) throw tooDeep();
  let value: unknown;
  try {
    value = parseYaml(text, { maxAliasCount: 100 }) as unknown;
  } catch (err) {
    throw badRequest(`the request body is not valid YAML: ${(err as Error).message.split('\n')[0] ?? ''}`);
  }
  checkDepth(value);
  return value;
}

const tooDeep = (): ReturnType<typeof badRequest> =>
  badRequest(`the request body is nested too deeply (more than ${MAX_NESTING_DEPTH} levels)`);

/** Throws 400 when a parsed value nests deeper than MAX_NESTING_DEPTH (iterative: no recursion). */
export function checkDepth(value: unknown): void {
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [v, d] = stack.pop() as [unknown, number];
    if (typeof v !== 'object' || v === null) continue;
    if (d > MAX_NESTING_DEPTH) throw tooDeep();
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      if (typeof child === 'object' && child !== null) stack.push([child, d + 1]);
    }
  }
}

/** Maximum nesting of YAML/JSON flow brackets outside quoted strings (an upper bound is enough). */
function flowDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let quote = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === '\\' && quote === '"') i++;
      else if (c === quote) quote = '';
      continue;
    }
    if (c === '"' || c === "'") quote = c;
    else if (c === '{' || c === '[') max = Math.max(max, ++depth);
    else if (c === '}' || c === ']') depth = Math.max(0, depth - 1);
  }
  return max;
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export interface SchemaCheck {
  /** The value with unknown fields and null fields removed. */
  readonly value: unknown;
  /** `spec.replicas: expected integer, got string` */
  readonly typeErrors: readonly string[];
  /** Dotted paths of fields the schema does not know: `spec.template.spec.containers[0].imagePullPolcy`. */
  readonly unknownFields: readonly string[];
}

export function checkAgainstSchema(value: unknown, schema: Schema): SchemaCheck {
  const typeErrors: string[] = [];
  const unknownFields: string[] = [];
  const out = walk(value, schema, '', typeErrors, unknownFields);
  return { value: out, typeErrors, unknownFields };
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

const join = (path: string, field: string): string => (path === '' ? field : `${path}.${field}`);

function walk(v: unknown, s: Schema, path: string, errors: string[], unknown: string[]): unknown {
  const where = path === '' ? 'the object' : path;
  switch (s.type) {
    case 'any':
      return v;
    case 'string':
    case 'date-time':
    case 'bytes':
      if (typeof v !== 'string') errors.push(`${where}: expected string, got ${describe(v)}`);
      return v;
    case 'integer':
      if (typeof v !== 'number' || !Number.isInteger(v)) errors.push(`${where}: expected integer, got ${describe(v)}`);
      return v;
    case 'number':
      if (typeof v !== 'number') errors.push(`${where}: expected number, got ${describe(v)}`);
      return v;
    case 'boolean':
      if (typeof v !== 'boolean') errors.push(`${where}: expected boolean, got ${describe(v)}`);
      return v;
    case 'quantity':
      if (typeof v !== 'string' && typeof v !== 'number') errors.push(`${where}: expected a quantity (string or number), got ${describe(v)}`);
      return v;
    case 'int-or-string':
      if (typeof v !== 'string' && !(typeof v === 'number' && Number.isInteger(v))) {
        errors.push(`${where}: expected integer or string, got ${describe(v)}`);
      }
      return v;
    case 'object': {
      if (!isPlainObject(v)) {
        errors.push(`${where}: expected object, got ${describe(v)}`);
        return v;
      }
      const out: Record<string, unknown> = {};
      for (const [k, fv] of Object.entries(v)) {
        const fs = s.fields[k];
        if (fs === undefined) {
          unknown.push(join(path, k));
          continue;
        }
        if (fv === null) continue; // JSON null is the zero value: same as absent
        out[k] = walk(fv, resolveSchema(fs), join(path, k), errors, unknown);
      }
      return out;
    }
    case 'map': {
      if (!isPlainObject(v)) {
        errors.push(`${where}: expected object, got ${describe(v)}`);
        return v;
      }
      const out: Record<string, unknown> = {};
      for (const [k, fv] of Object.entries(v)) {
        if (fv === null) continue;
        out[k] = walk(fv, s.values, `${path}[${k}]`, errors, unknown);
      }
      return out;
    }
    case 'array': {
      if (!Array.isArray(v)) {
        errors.push(`${where}: expected array, got ${describe(v)}`);
        return v;
      }
      const items = resolveSchema(s.items);
      return v.map((item, i) => walk(item, items, `${path}[${i}]`, errors, unknown));
    }
    default: {
      const never: never = s;
      return never;
    }
  }
}
