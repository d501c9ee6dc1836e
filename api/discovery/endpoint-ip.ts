/**
 * Address checks for EndpointSlice addresses (upstream IsValidIPv4Address, IsValidIPv6Address and
 * ValidateEndpointIP): an endpoint must be a routable unicast destination of the slice's family.
 * Parsing and the special-range check are core's (api/core/ip.ts); this file adds what is specific to
 * slices: an IPv6 slice refuses IPv4-mapped addresses (`::ffff:1.2.3.4`), as Go's To4() makes upstream do.
 */
import type { FieldError, FieldPath } from '../field-errors.js';
import { invalid } from '../field-errors.js';
import { isIPv4, isIPv6, validateNonSpecialIP } from '../core/ip.js';

/** 16 bytes of a valid IPv6 text (caller checked isIPv6). */
function ipv6Bytes(text: string): Uint8Array {
  // Rewrite a dotted-quad tail as two hex groups so one parser handles both spellings.
  let s = text;
  const lastColon = s.lastIndexOf(':');
  const tail = s.slice(lastColon + 1);
  if (tail.includes('.')) {
    const [a = 0, b = 0, c = 0, d = 0] = tail.split('.').map((p) => Number.parseInt(p, 10));
    s = `${s.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const groups = (part: string): number[] => (part === '' ? [] : part.split(':').map((g) => Number.parseInt(g, 16)));
  const [left = '', right] = s.split('::');
  const l = groups(left);
  const r = right === undefined ? [] : groups(right);
  const all = [...l, ...new Array<number>(8 - l.length - r.length).fill(0), ...r];
  const bytes = new Uint8Array(16);
  all.forEach((g, i) => {
    bytes[i * 2] = g >> 8;
    bytes[i * 2 + 1] = g & 0xff;
  });
  return bytes;
}

export function isIPv4Mapped(text: string): boolean {
  if (!isIPv6(text)) return false;
  const b = ipv6Bytes(text);
  return b.slice(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff;
}

/** A valid IPv4 address that is also a usable endpoint. */
export function validateIPv4EndpointAddress(value: string, path: FieldPath): FieldError[] {
  if (!isIPv4(value)) return [invalid(path, value, 'must be a valid IPv4 address')];
  return validateNonSpecialIP(value, path);
}

/** A valid, genuinely IPv6 address that is also a usable endpoint. */
export function validateIPv6EndpointAddress(value: string, path: FieldPath): FieldError[] {
  if (!isIPv6(value) || isIPv4Mapped(value)) return [invalid(path, value, 'must be a valid IPv6 address')];
  return validateNonSpecialIP(value, path);
}
