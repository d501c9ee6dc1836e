/**
 * Pieces of core/v1 that several kinds share: object references, protocols, resource lists, and the
 * small validators every kind uses (port number or name, enum membership, one-of checks). Pure.
 */
import type { FieldError } from '../field-errors.js';
import type { FieldPath } from '../field-errors.js';
import { invalid, notSupported, required } from '../field-errors.js';
import { isValidPortName, isValidPortNum } from '../names.js';
import { mapOf, obj, quantity, str } from '../schema.js';
import type { ObjectSchema } from '../schema.js';

/** JSON int-or-string (ports, probe ports): `8080` or `"http"`. */
export type IntOrString = number | string;

/** Resource name -> quantity text (`cpu: 500m`). JSON numbers are accepted on input and canonicalized by defaulting. */
export type ResourceList = Readonly<Record<string, string>>;

export type Protocol = 'TCP' | 'UDP' | 'SCTP';
export const PROTOCOLS: readonly Protocol[] = ['SCTP', 'TCP', 'UDP'];

export interface ObjectReference {
  readonly kind?: string;
  readonly namespace?: string;
  readonly name?: string;
  readonly uid?: string;
  readonly apiVersion?: string;
  readonly resourceVersion?: string;
  readonly fieldPath?: string;
}

export interface LocalObjectReference {
  readonly name?: string;
}

export const objectReferenceSchema: ObjectSchema = obj({
  kind: str('Kind of the referent.'),
  namespace: str('Namespace of the referent.'),
  name: str('Name of the referent.'),
  uid: str('UID of the referent.'),
  apiVersion: str('API version of the referent.'),
  resourceVersion: str('Specific resourceVersion to which this reference is made, if any.'),
  fieldPath: str('If referring to a piece of an object instead of an entire object, the JSON path of that piece.'),
});

export const localObjectReferenceSchema: ObjectSchema = obj({ name: str('Name of the referent.') });

export const resourceListSchema = mapOf(quantity(), 'Resource name to quantity.');

// ---- validators ------------------------------------------------------------------------------

/** Upstream ValidatePortNumOrName: numbers 1-65535, names IANA_SVC_NAME. */
export function validatePortNumOrName(port: IntOrString | undefined, path: FieldPath): FieldError[] {
  if (typeof port === 'number') return isValidPortNum(port).map((msg) => invalid(path, port, msg));
  if (typeof port === 'string') return isValidPortName(port).map((msg) => invalid(path, port, msg));
  return isValidPortNum(0).map((msg) => invalid(path, 0, msg));
}

export function validatePortNum(port: number | undefined, path: FieldPath): FieldError[] {
  const p = port ?? 0;
  return isValidPortNum(p).map((msg) => invalid(path, p, msg));
}

/** Required enum: Required when empty, NotSupported (listing the valid values) otherwise. */
export function validateEnum(value: string | undefined, valid: readonly string[], path: FieldPath): FieldError[] {
  if (value === undefined || value === '') return [required(path)];
  return valid.includes(value) ? [] : [notSupported(path, value, valid)];
}

/** Optional enum: absent is fine, anything else must be one of `valid`. */
export function validateOptionalEnum(value: string | undefined, valid: readonly string[], path: FieldPath): FieldError[] {
  if (value === undefined) return [];
  return valid.includes(value) ? [] : [notSupported(path, value, valid)];
}

export function validateProtocol(protocol: string | undefined, path: FieldPath): FieldError[] {
  return validateEnum(protocol, PROTOCOLS, path);
}

/** Names of the object-valued fields of `value` that are set: for "exactly one of" checks. */
export function setFields(value: object | undefined, candidates: readonly string[]): string[] {
  if (value === undefined) return [];
  const rec = value as Record<string, unknown>;
  return candidates.filter((k) => rec[k] !== undefined && rec[k] !== null);
}
