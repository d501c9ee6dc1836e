/**
 * IP address and CIDR checks for API validation (upstream validation.IsValidIP, IsValidCIDR,
 * ValidateNonSpecialIP, netutils.IsDualStack*). Written by hand so that api/ stays free of Node
 * modules; the rules are the strict ones upstream applies to new objects (no leading zeros in IPv4).
 *
 * Cost model: a split and a few integer parses per address.
 */
import type { FieldError } from '../field-errors.js';
import type { FieldPath } from '../field-errors.js';
import { invalid } from '../field-errors.js';

export type IPFamily = 'IPv4' | 'IPv6';

const IPV4_PART = /^(0|[1-9][0-9]{0,2})$/;

export function isIPv4(s: string): boolean {
  const parts = s.split('.');
  return parts.length === 4 && parts.every((p) => IPV4_PART.test(p) && Number(p) <= 255);
}

export function isIPv6(s: string): boolean {
  if (s.length === 0 || s.length > 45 || s.includes('%')) return false;
  let text = s;
  let groupsNeeded = 8;
  const lastColon = text.lastIndexOf(':');
  // an embedded IPv4 tail (::ffff:1.2.3.4) counts as two groups
  if (lastColon >= 0 && text.slice(lastColon + 1).includes('.')) {
    if (!isIPv4(text.slice(lastColon + 1))) return false;
    text = `${text.slice(0, lastColon + 1)}0`;
    groupsNeeded = 7;
  }
  const halves = text.split('::');
  if (halves.length > 2) return false;
  const groups = (h: string): string[] | undefined => (h === '' ? [] : h.split(':'));
  const head = groups(halves[0] ?? '');
  const tail = halves.length === 2 ? groups(halves[1] ?? '') : [];
  if (head === undefined || tail === undefined) return false;
  const all = [...head, ...tail];
  if (!all.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g))) return false;
  return halves.length === 2 ? all.length < groupsNeeded : all.length === groupsNeeded;
}

export const isIP = (s: string): boolean => isIPv4(s) || isIPv6(s);

export function ipFamilyOf(s: string): IPFamily | undefined {
  if (isIPv4(s)) return 'IPv4';
  if (isIPv6(s)) return 'IPv6';
  return undefined;
}

export const INVALID_IP_MESSAGE = 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)';

export function validateIP(value: string | undefined, path: FieldPath): FieldError[] {
  return isIP(value ?? '') ? [] : [invalid(path, value ?? '', INVALID_IP_MESSAGE)];
}

export function isCIDR(s: string): boolean {
  const slash = s.indexOf('/');
  if (slash < 0) return false;
  const ip = s.slice(0, slash);
  const bits = s.slice(slash + 1);
  if (!/^(0|[1-9][0-9]{0,2})$/.test(bits)) return false;
  const family = ipFamilyOf(ip);
  if (family === undefined) return false;
  return Number(bits) <= (family === 'IPv4' ? 32 : 128);
}

export function validateCIDR(value: string, path: FieldPath): FieldError[] {
  return isCIDR(value) ? [] : [invalid(path, value, 'must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)')];
}

/** Expanded 16-bit groups of an IPv6 address (for range checks); assumes isIPv6. */
function ipv6Groups(s: string): number[] {
  let text = s;
  let v4: number[] = [];
  const lastColon = text.lastIndexOf(':');
  const last = text.slice(lastColon + 1);
  if (last.includes('.')) {
    const o = last.split('.').map(Number);
    v4 = [((o[0] ?? 0) << 8) | (o[1] ?? 0), ((o[2] ?? 0) << 8) | (o[3] ?? 0)];
    text = text.slice(0, lastColon + 1);
    if (!text.endsWith('::')) text = text.slice(0, -1);
  }
  const parse = (h: string | undefined): number[] => (h === undefined || h === '' ? [] : h.split(':').map((g) => Number.parseInt(g, 16)));
  const halves = text.split('::');
  const head = parse(halves[0]);
  if (halves.length === 1) return [...head, ...v4];
  const tail = parse(halves[1]);
  return [...head, ...Array<number>(8 - v4.length - head.length - tail.length).fill(0), ...tail, ...v4];
}

/**
 * Upstream ValidateNonSpecialIP: endpoint and external IPs may not be unspecified, loopback,
 * link-local or link-local multicast addresses, since proxies cannot forward to them.
 */
export function validateNonSpecialIP(value: string, path: FieldPath): FieldError[] {
  const family = ipFamilyOf(value);
  if (family === undefined) return [];
  let unspecified = false;
  let loopback = false;
  let linkLocal = false;
  let linkLocalMulticast = false;
  if (family === 'IPv4') {
    const o = value.split('.').map(Number);
    unspecified = o.every((x) => x === 0);
    loopback = o[0] === 127;
    linkLocal = o[0] === 169 && o[1] === 254;
    linkLocalMulticast = o[0] === 224 && o[1] === 0 && o[2] === 0;
  } else {
    const g = ipv6Groups(value);
    unspecified = g.every((x) => x === 0);
    loopback = g.slice(0, 7).every((x) => x === 0) && g[7] === 1;
    linkLocal = ((g[0] ?? 0) & 0xffc0) === 0xfe80;
    linkLocalMulticast = ((g[0] ?? 0) & 0xff0f) === 0xff02;
    // IPv4-mapped addresses are checked as IPv4
    if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) {
      const a = g[6] ?? 0;
      const b = g[7] ?? 0;
      return validateNonSpecialIP(`${a >> 8}.${a & 255}.${b >> 8}.${b & 255}`, path);
    }
  }
  if (unspecified) return [invalid(path, value, 'may not be unspecified (0.0.0.0)')];
  if (loopback) return [invalid(path, value, 'may not be in the loopback range (127.0.0.0/8, ::1/128)')];
  if (linkLocal) return [invalid(path, value, 'may not be in the link-local range (169.254.0.0/16, fe80::/10)')];
  if (linkLocalMulticast) return [invalid(path, value, 'may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)')];
  return [];
}

/** True when the addresses are exactly one IPv4 and one IPv6 (in either order). */
export function isDualStackPair(ips: readonly string[]): boolean {
  if (ips.length !== 2) return false;
  const fams = new Set(ips.map(ipFamilyOf));
  return fams.has('IPv4') && fams.has('IPv6');
}
