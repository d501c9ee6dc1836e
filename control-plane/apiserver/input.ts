/**
 * Turns a request body into an object of the addressed kind, with upstream's answers for bad input:
 * malformed JSON/YAML, a body that is not an object, the wrong kind or apiVersion, wrong JSON types
 * (all 400), and unknown fields, handled per `fieldValidation` (Strict: 400; Warn: a Warning header;
 * Ignore: dropped silently; dropped in every case, as Go's decoding drops them).
 */
import type { KubeObject } from '../../api/meta.js';
import type { ObjectSchema } from '../../api/schema.js';
import { checkAgainstSchema, formatOf, isPlainObject, parseBody } from './decode.js';
import { badRequest } from './errors.js';

export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

export function fieldValidationOf(v: string | undefined): FieldValidation {
  if (v === undefined || v === '' || v === 'Warn') return 'Warn';
  if (v === 'Strict' || v === 'Ignore') return v;
  throw badRequest(`fieldValidation: Unsupported value: ${JSON.stringify(v)}: supported values: "Ignore", "Strict", "Warn"`);
}

export interface DecodedInput {
  readonly obj: KubeObject;
  readonly warnings: readonly string[];
}

export interface ExpectedType {
  readonly apiVersion: string;
  readonly kind: string;
  readonly schema: ObjectSchema;
}

export function decodeInput(body: Buffer, contentType: string | undefined, expected: ExpectedType, validation: FieldValidation): DecodedInput {
  return checkInput(parseBody(body, formatOf(contentType)), expected, validation);
}

/** The checks of `decodeInput` on an already parsed value (patch results go through here too). */
export function checkInput(value: unknown, expected: ExpectedType, validation: FieldValidation): DecodedInput {
  const { apiVersion, kind } = expected;
  if (!isPlainObject(value)) {
    throw badRequest(`${kind} in version "${versionOf(apiVersion)}" cannot be handled as a ${kind}: the body must be a JSON or YAML object, got ${Array.isArray(value) ? 'an array' : typeof value}`);
  }
  if (value['kind'] !== undefined && value['kind'] !== kind) {
    throw badRequest(`the object provided is unrecognized (must be of type ${kind}): kind ${JSON.stringify(value['kind'])} does not match the resource`);
  }
  if (value['apiVersion'] !== undefined && value['apiVersion'] !== apiVersion) {
    throw badRequest(`the API version in the data (${String(value['apiVersion'])}) does not match the expected API version (${apiVersion})`);
  }
  const checked = checkAgainstSchema(value, expected.schema);
  if (checked.typeErrors.length > 0) {
    throw badRequest(`${kind} in version "${versionOf(apiVersion)}" cannot be handled as a ${kind}: ${checked.typeErrors.join('; ')}`);
  }
  const unknown = checked.unknownFields.map((f) => `unknown field "${f}"`);
  if (unknown.length > 0 && validation === 'Strict') {
    throw badRequest(`${kind} in version "${versionOf(apiVersion)}" cannot be handled as a ${kind}: strict decoding error: ${unknown.join(', ')}`);
  }
  const obj = checked.value as Record<string, unknown>;
  return {
    obj: { ...obj, metadata: (obj['metadata'] ?? {}) as KubeObject['metadata'] } as KubeObject,
    warnings: validation === 'Warn' ? unknown : [],
  };
}

function versionOf(apiVersion: string): string {
  const i = apiVersion.indexOf('/');
  return i < 0 ? apiVersion : apiVersion.slice(i + 1);
}

/**
 * `Warning` header values (RFC 7234 style, code 299, as upstream sends them). The text is a quoted
 * string with everything outside printable ASCII escaped as \uXXXX: a warning can quote a field name
 * from the request body, and a header value may not carry control or non-Latin-1 characters.
 */
export function warningHeader(warnings: readonly string[]): Record<string, string[]> {
  if (warnings.length === 0) return {};
  const quote = (w: string): string => JSON.stringify(w).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return { Warning: warnings.map((w) => `299 - ${quote(w)}`) };
}
