/**
 * Netlink TLV attributes and message framing, host byte order for the netlink headers (x86 and
 * arm64 are little endian: this module refuses to load elsewhere), network byte order for the
 * nf_tables u32/u64 attribute values, as the kernel's nla_get_be32 reads them.
 */
import { endianness } from 'node:os';
import { NLA_F_NESTED } from './constants.js';

if (endianness() !== 'LE') throw new Error('the nf_tables netlink encoder assumes a little-endian host');

const align4 = (n: number): number => (n + 3) & ~3;

export function attr(type: number, payload: Buffer): Buffer {
  const len = 4 + payload.length;
  const b = Buffer.alloc(align4(len));
  b.writeUInt16LE(len, 0);
  b.writeUInt16LE(type, 2);
  payload.copy(b, 4);
  return b;
}

export function nest(type: number, children: readonly Buffer[]): Buffer {
  return attr(type | NLA_F_NESTED, Buffer.concat(children));
}

export function str(type: number, s: string): Buffer {
  return attr(type, Buffer.from(`${s}\0`, 'utf8'));
}

export function be32(type: number, n: number): Buffer {
  const b = Buffer.alloc(4);
  if (n < 0) b.writeInt32BE(n);
  else b.writeUInt32BE(n);
  return attr(type, b);
}

export function be64(type: number, n: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(n);
  return attr(type, b);
}

/** nlmsghdr (16 bytes) + nfgenmsg (family, version 0, res_id big endian) + attributes. */
export function message(type: number, flags: number, seq: number, family: number, resId: number, attrs: readonly Buffer[]): Buffer {
  const body = Buffer.concat(attrs);
  const b = Buffer.alloc(20 + body.length);
  b.writeUInt32LE(b.length, 0);
  b.writeUInt16LE(type, 4);
  b.writeUInt16LE(flags, 6);
  b.writeUInt32LE(seq >>> 0, 8);
  b.writeUInt32LE(0, 12);
  b.writeUInt8(family, 16);
  b.writeUInt8(0, 17);
  b.writeUInt16BE(resId, 18);
  body.copy(b, 20);
  return b;
}

/** The IPv4 address as 4 network-order bytes, or undefined when `ip` is not dotted-quad IPv4. */
export function ipv4Bytes(ip: string): Buffer | undefined {
  const parts = ip.split('.');
  if (parts.length !== 4) return undefined;
  const out = Buffer.alloc(4);
  for (const [i, p] of parts.entries()) {
    if (!/^\d{1,3}$/.test(p)) return undefined;
    const v = Number(p);
    if (v > 255) return undefined;
    out[i] = v;
  }
  return out;
}

/** Address bytes and prefix length of `A.B.C.D/N`, or undefined. */
export function parseCidr(cidr: string): { bytes: Buffer; prefix: number } | undefined {
  const [ip = '', len, ...rest] = cidr.split('/');
  const bytes = ipv4Bytes(ip);
  const prefix = len === undefined ? 32 : /^\d{1,2}$/.test(len) ? Number(len) : -1;
  if (bytes === undefined || rest.length > 0 || prefix < 0 || prefix > 32) return undefined;
  return { bytes, prefix };
}

export function u32LE(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return b;
}
