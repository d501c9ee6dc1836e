/**
 * Field-level validation errors, shaped like upstream's field.Error so that the apiserver can turn
 * them into a `Status` with `details.causes` (reason FieldValueInvalid, field `spec.containers[0].name`...).
 */
export type FieldErrorType =
  | 'FieldValueRequired'
  | 'FieldValueInvalid'
  | 'FieldValueNotSupported'
  | 'FieldValueDuplicate'
  | 'FieldValueForbidden'
  | 'FieldValueTooLong'
  | 'FieldValueTypeInvalid'
  | 'FieldValueUnknown';

export interface FieldError {
  readonly type: FieldErrorType;
  /** Dotted path with indices, as upstream prints it: `spec.containers[0].image`, `metadata.labels[app]`. */
  readonly field: string;
  readonly value?: unknown;
  /** One human sentence; for Invalid it follows the value, e.g. `must be no more than 63 characters`. */
  readonly detail?: string;
}

/** A path builder so validators write `p.child('spec').child('containers').index(0)`. */
export class FieldPath {
  private constructor(private readonly text: string) {}
  static root(name = ''): FieldPath {
    return new FieldPath(name);
  }
  child(name: string): FieldPath {
    return new FieldPath(this.text === '' ? name : `${this.text}.${name}`);
  }
  index(i: number): FieldPath {
    return new FieldPath(`${this.text}[${i}]`);
  }
  key(k: string): FieldPath {
    return new FieldPath(`${this.text}[${k}]`);
  }
  toString(): string {
    return this.text;
  }
}

export const required = (f: FieldPath, detail = ''): FieldError => ({
  type: 'FieldValueRequired',
  field: f.toString(),
  ...(detail ? { detail } : {}),
});
export const invalid = (f: FieldPath, value: unknown, detail: string): FieldError => ({
  type: 'FieldValueInvalid',
  field: f.toString(),
  value,
  detail,
});
export const notSupported = (f: FieldPath, value: unknown, valid: readonly string[]): FieldError => ({
  type: 'FieldValueNotSupported',
  field: f.toString(),
  value,
  detail: `supported values: ${valid.map((v) => `"${v}"`).join(', ')}`,
});
export const duplicate = (f: FieldPath, value: unknown): FieldError => ({
  type: 'FieldValueDuplicate',
  field: f.toString(),
  value,
});
export const forbidden = (f: FieldPath, detail: string): FieldError => ({
  type: 'FieldValueForbidden',
  field: f.toString(),
  detail,
});

/** Renders one error the way upstream does in a Status message: `spec.containers[0].name: Required value`. */
export function formatFieldError(e: FieldError): string {
  const v = e.value === undefined ? '' : goValue(e.value);
  switch (e.type) {
    case 'FieldValueRequired':
      return `${e.field}: Required value${e.detail ? `: ${e.detail}` : ''}`;
    case 'FieldValueInvalid':
      // no value: upstream's field.OmitValueType (`status.conditions: Invalid value: cannot ...`)
      if (e.value === undefined) return `${e.field}: Invalid value${e.detail ? `: ${e.detail}` : ''}`;
      return `${e.field}: Invalid value: ${v}${e.detail ? `: ${e.detail}` : ''}`;
    case 'FieldValueNotSupported':
      return `${e.field}: Unsupported value: ${v}${e.detail ? `: ${e.detail}` : ''}`;
    case 'FieldValueDuplicate':
      return `${e.field}: Duplicate value: ${v}`;
    case 'FieldValueForbidden':
      return `${e.field}: Forbidden${e.detail ? `: ${e.detail}` : ''}`;
    case 'FieldValueTooLong':
      return `${e.field}: Too long${e.detail ? `: ${e.detail}` : ''}`;
    case 'FieldValueTypeInvalid':
      return `${e.field}: Invalid value: ${v}${e.detail ? `: ${e.detail}` : ''}`;
    case 'FieldValueUnknown':
      return `unknown field "${e.field}"`;
    default: {
      const never: never = e.type;
      return String(never);
    }
  }
}

/**
 * Values as upstream prints them (Go's %#v for the common shapes): strings quoted, numbers bare,
 * string slices as `[]string{"a", "b"}`, other values as JSON.
 */
function goValue(v: unknown): string {
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) {
    return `[]string{${v.map((x) => JSON.stringify(x)).join(', ')}}`;
  }
  return JSON.stringify(v);
}
