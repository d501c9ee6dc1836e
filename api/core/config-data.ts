/**
 * What ConfigMaps and Secrets share: config keys, base64 payloads checked as strictly as Go's
 * encoding/base64 (JSON []byte fields), the 1 MiB size limit, and the `immutable` update rule.
 *
 * Cost model: one pass over each value.
 */
import type { FieldError, FieldPath } from '../field-errors.js';
import { forbidden, invalid } from '../field-errors.js';
import { isConfigMapKey, utf8Length } from '../names.js';
import { semanticEqual } from './semantic.js';

/** Upstream MaxSecretSize, also the ConfigMap limit. */
export const MAX_CONFIG_SIZE_BYTES = 1024 * 1024;

const B64_ALPHABET = /^[A-Za-z0-9+/]$/;

/**
 * Why a string is not standard padded base64, as Go words it, or undefined when it is fine. Go skips
 * CR and LF inside the text, and so does this.
 */
export function base64Error(s: string): string | undefined {
  let n = 0;
  let padding = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i] ?? '';
    if (c === '\r' || c === '\n') continue;
    if (c === '=') {
      if (n % 4 < 2 || padding >= 2) return `illegal base64 data at input byte ${i}`;
      padding++;
    } else if (padding > 0 || !B64_ALPHABET.test(c)) {
      return `illegal base64 data at input byte ${i}`;
    }
    n++;
  }
  if (n % 4 !== 0) return `illegal base64 data at input byte ${s.length}`;
  return undefined;
}

/** Byte length of a valid base64 payload. */
export function base64DecodedLength(s: string): number {
  const clean = s.replace(/[\r\n]/g, '');
  const pad = clean.endsWith('==') ? 2 : clean.endsWith('=') ? 1 : 0;
  return (clean.length / 4) * 3 - pad;
}

export function encodeBase64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}

export function decodeBase64(b64: string): Uint8Array {
  return new Uint8Array(Buffer.from(b64, 'base64'));
}

/** Keys valid, values valid base64 (for byte maps); returns the total payload size in bytes. */
export function validateDataMap(
  data: Readonly<Record<string, string>> | undefined,
  encoding: 'text' | 'base64',
  path: FieldPath,
  errs: FieldError[],
): number {
  let total = 0;
  for (const [key, value] of Object.entries(data ?? {})) {
    for (const msg of isConfigMapKey(key)) errs.push(invalid(path.key(key), key, msg));
    const text = String(value);
    if (encoding === 'base64') {
      const bad = base64Error(text);
      if (bad !== undefined) errs.push(invalid(path.key(key), '<secret contents redacted>', bad));
      else total += base64DecodedLength(text);
    } else total += utf8Length(text);
  }
  return total;
}

export function tooLong(path: FieldPath, max: number): FieldError {
  return { type: 'FieldValueTooLong', field: path.toString(), value: '', detail: `may not be more than ${max} bytes` };
}

/** Once `immutable: true` is stored, the flag and the payload fields never change again. */
export function validateImmutableData(
  next: { readonly immutable?: boolean } & Readonly<Record<string, unknown>>,
  old: { readonly immutable?: boolean } & Readonly<Record<string, unknown>>,
  fields: readonly string[],
  root: (name: string) => FieldPath,
): FieldError[] {
  if (old.immutable !== true) return [];
  const msg = 'field is immutable when `immutable` is set';
  const errs: FieldError[] = [];
  if (next.immutable !== true) errs.push(forbidden(root('immutable'), msg));
  for (const f of fields) if (!semanticEqual(next[f], old[f])) errs.push(forbidden(root(f), msg));
  return errs;
}
