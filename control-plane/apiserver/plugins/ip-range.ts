/**
 * IPv4 CIDR arithmetic for the service range (pure). The network and broadcast addresses are never
 * handed out; the first usable address is the `kubernetes` Service's, as upstream reserves it.
 */
export interface Ipv4Range {
  readonly cidr: string;
  readonly base: number;
  readonly size: number;
}

export function parseIpv4(ip: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return (((parts[0] ?? 0) << 24) >>> 0) + ((parts[1] ?? 0) << 16) + ((parts[2] ?? 0) << 8) + (parts[3] ?? 0);
}

export function formatIpv4(n: number): string {
  return [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export function parseCidr(cidr: string): Ipv4Range {
  const [ip, bitsText] = cidr.split('/');
  const addr = ip === undefined ? undefined : parseIpv4(ip);
  const bits = Number(bitsText);
  if (addr === undefined || bitsText === undefined || !/^\d+$/.test(bitsText) || bits < 0 || bits > 32) {
    throw new Error(`invalid CIDR ${JSON.stringify(cidr)}: expected an IPv4 network such as 10.96.0.0/12`);
  }
  const size = 2 ** (32 - bits);
  const base = bits === 0 ? 0 : (addr & ((0xffffffff << (32 - bits)) >>> 0)) >>> 0;
  if (base !== addr) throw new Error(`invalid CIDR ${JSON.stringify(cidr)}: host bits are set (did you mean ${formatIpv4(base)}/${bits}?)`);
  return { cidr, base, size };
}

export function contains(r: Ipv4Range, ip: string): boolean {
  const n = parseIpv4(ip);
  return n !== undefined && n >= r.base && n < r.base + r.size;
}

/** Usable addresses: offsets 1 .. size-2 (network and broadcast excluded; /31 and /32 keep all). */
export function usableOffsets(r: Ipv4Range): { first: number; last: number } {
  if (r.size <= 2) return { first: 0, last: r.size - 1 };
  return { first: 1, last: r.size - 2 };
}

/** The n-th address of the range (n = 1 is the first usable one, 10.96.0.1 for 10.96.0.0/12). */
export function nthAddress(r: Ipv4Range, n: number): string {
  return formatIpv4((r.base + n) >>> 0);
}
