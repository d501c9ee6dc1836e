/**
 * IPv4 arithmetic on unsigned 32-bit numbers, and the pod range of a node CIDR: the first address is
 * the bridge (gateway), pods get the second to the last before broadcast. Pure.
 */

export function parseIPv4(s: string): number | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (!/^(0|[1-9]\d{0,2})$/.test(p)) return undefined;
    const b = Number(p);
    if (b > 255) return undefined;
    n = n * 256 + b;
  }
  return n;
}

export function formatIPv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export interface Cidr {
  /** The network address (host bits zero). */
  readonly network: number;
  readonly prefix: number;
}

/** Parses `a.b.c.d/n`; host bits must be zero (a CIDR, not an address). */
export function parseCidr(s: string): Cidr | undefined {
  const m = /^([0-9.]+)\/(\d{1,2})$/.exec(s);
  if (!m || m[1] === undefined || m[2] === undefined) return undefined;
  const addr = parseIPv4(m[1]);
  const prefix = Number(m[2]);
  if (addr === undefined || prefix > 32) return undefined;
  if ((addr & hostMask(prefix)) >>> 0 !== 0) return undefined;
  return { network: addr, prefix };
}

function hostMask(prefix: number): number {
  return prefix === 0 ? 0xffffffff : (2 ** (32 - prefix) - 1) >>> 0;
}

export function formatCidr(c: Cidr): string {
  return `${formatIPv4(c.network)}/${c.prefix}`;
}

export function cidrContains(c: Cidr, ip: number): boolean {
  return ip >= c.network && ip <= c.network + hostMask(c.prefix);
}

/** Where pods of one node live. */
export interface PodRange {
  readonly cidr: Cidr;
  /** The bridge's address, also every pod's default gateway. */
  readonly gateway: number;
  /** First and last allocatable pod address, inclusive. */
  readonly first: number;
  readonly last: number;
}

/** undefined when the CIDR leaves no room for a gateway and one pod (prefix > 30). */
export function podRangeOf(c: Cidr): PodRange | undefined {
  if (c.prefix > 30) return undefined;
  const broadcast = c.network + hostMask(c.prefix);
  return { cidr: c, gateway: c.network + 1, first: c.network + 2, last: broadcast - 1 };
}

export function rangeSize(r: PodRange): number {
  return r.last - r.first + 1;
}

/** The address after `ip` inside the range, wrapping to `first`. */
export function nextInRange(r: PodRange, ip: number): number {
  return ip >= r.last || ip < r.first ? r.first : ip + 1;
}
