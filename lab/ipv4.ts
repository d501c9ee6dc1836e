/**
 * IPv4 prefixes as plain numbers: parse, format, overlap and the n-th address. The lab's underlay and
 * pod ranges are IPv4 only, so this is all the address arithmetic it needs. Pure; no I/O.
 */
import { LabInputError } from './errors.js';

export interface Prefix4 {
  /** The network address as an unsigned 32-bit integer (host bits cleared). */
  readonly base: number;
  readonly bits: number;
}

const OCTET = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

/** Parses a dotted quad, or returns undefined. */
export function parseIPv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((p) => OCTET.test(p))) return undefined;
  return parts.reduce((acc, p) => acc * 256 + Number(p), 0);
}

export function formatIPv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

function mask(bits: number): number {
  return bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
}

/**
 * `a.b.c.d/n` (host bits must be zero unless `allowHostBits`) or a bare address (a /32). Returns
 * undefined when the text is not IPv4 at all, so callers can skip IPv6 entries they do not care about.
 */
export function parsePrefix4(text: string, allowHostBits = false): Prefix4 | undefined {
  const [addr, len, ...rest] = text.split('/');
  if (addr === undefined || rest.length > 0) return undefined;
  const ip = parseIPv4(addr);
  if (ip === undefined) return undefined;
  if (len === undefined) return { base: ip, bits: 32 };
  if (!/^\d{1,2}$/.test(len) || Number(len) > 32) return undefined;
  const bits = Number(len);
  const base = (ip & mask(bits)) >>> 0;
  if (base !== ip && !allowHostBits) return undefined;
  return { base, bits };
}

/** Like parsePrefix4 but throws one sentence naming the flag when the text is not an IPv4 network. */
export function mustParsePrefix4(text: string, what: string): Prefix4 {
  const p = parsePrefix4(text);
  if (p === undefined) {
    const loose = parsePrefix4(text, true);
    throw new LabInputError(
      loose !== undefined
        ? `${what} ${JSON.stringify(text)} has host bits set; did you mean ${formatPrefix4(loose)}?`
        : `${what} must be an IPv4 network such as 172.31.250.0/24, got ${JSON.stringify(text)}.`,
    );
  }
  return p;
}

export function formatPrefix4(p: Prefix4): string {
  return `${formatIPv4(p.base)}/${p.bits}`;
}

export function prefixSize(p: Prefix4): number {
  return 2 ** (32 - p.bits);
}

/** True when the two prefixes share at least one address. */
export function overlaps(a: Prefix4, b: Prefix4): boolean {
  const bits = Math.min(a.bits, b.bits);
  return ((a.base & mask(bits)) >>> 0) === ((b.base & mask(bits)) >>> 0);
}

/** The address at offset `n` inside the prefix; throws when it falls outside. */
export function nthAddress(p: Prefix4, n: number): string {
  if (!Number.isInteger(n) || n < 0 || n >= prefixSize(p)) throw new RangeError(`offset ${n} is outside ${formatPrefix4(p)}`);
  return formatIPv4(p.base + n);
}
