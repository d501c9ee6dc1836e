/**
 * Netlink wire format, the parts knode speaks itself (rtnetlink for the CNI node side, nf_tables for
 * kube-proxy): the 16-byte message header, type-length-value attributes padded to 4 bytes, nesting,
 * and parsing of replies and of NLMSG_ERROR acknowledgements. Pure: buffers in, buffers out. Field
 * layouts from linux/netlink.h (host byte order, little-endian here, except where a family says
 * otherwise: nf_tables values are big-endian).
 */
import { constants } from 'node:os';

export const NLM_F_REQUEST = 0x1;
export const NLM_F_ACK = 0x4;
export const NLM_F_REPLACE = 0x100;
export const NLM_F_EXCL = 0x200;
export const NLM_F_CREATE = 0x400;
export const NLM_F_APPEND = 0x800;
export const NLMSG_ERROR = 0x2;
export const NLMSG_DONE = 0x3;
export const NLA_F_NESTED = 0x8000;
const HEADER = 16;

const pad4 = (n: number): number => (n + 3) & ~3;

/** One attribute: length, type, payload, zero padding to 4 bytes. */
export function attr(type: number, payload: Buffer): Buffer {
  const out = Buffer.alloc(pad4(4 + payload.length));
  out.writeUInt16LE(4 + payload.length, 0);
  out.writeUInt16LE(type, 2);
  payload.copy(out, 4);
  return out;
}

export const nested = (type: number, ...children: readonly Buffer[]): Buffer => attr(type | NLA_F_NESTED, Buffer.concat(children));
export const strAttr = (type: number, s: string): Buffer => attr(type, Buffer.from(`${s}\0`));
export function u8Attr(type: number, v: number): Buffer {
  return attr(type, Buffer.from([v & 0xff]));
}
export function u32Attr(type: number, v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v >>> 0, 0);
  return attr(type, b);
}
/** A 32-bit value in network byte order (nf_tables attributes). */
export function be32Attr(type: number, v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v >>> 0, 0);
  return attr(type, b);
}

/** A whole message: header (length, type, flags, sequence, port 0) + body. */
export function message(type: number, flags: number, seq: number, body: Buffer): Buffer {
  const out = Buffer.alloc(HEADER + body.length);
  out.writeUInt32LE(HEADER + body.length, 0);
  out.writeUInt16LE(type, 4);
  out.writeUInt16LE(flags, 6);
  out.writeUInt32LE(seq >>> 0, 8);
  out.writeUInt32LE(0, 12);
  body.copy(out, HEADER);
  return out;
}

export interface ParsedMessage {
  readonly type: number;
  readonly flags: number;
  readonly seq: number;
  readonly body: Buffer;
}

/** The messages of one datagram. A truncated trailing message ends the walk. */
export function parseMessages(buf: Buffer): ParsedMessage[] {
  const out: ParsedMessage[] = [];
  let off = 0;
  while (off + HEADER <= buf.length) {
    const len = buf.readUInt32LE(off);
    if (len < HEADER || off + len > buf.length) break;
    out.push({ type: buf.readUInt16LE(off + 4), flags: buf.readUInt16LE(off + 6), seq: buf.readUInt32LE(off + 8), body: buf.subarray(off + HEADER, off + len) });
    off += pad4(len);
  }
  return out;
}

/** Attributes by type (the nested flag masked off); the last of a repeated type wins. */
export function parseAttrs(buf: Buffer): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  let off = 0;
  while (off + 4 <= buf.length) {
    const len = buf.readUInt16LE(off);
    if (len < 4 || off + len > buf.length) break;
    out.set(buf.readUInt16LE(off + 2) & ~NLA_F_NESTED, buf.subarray(off + 4, off + len));
    off += pad4(len);
  }
  return out;
}

const ERRNO_NAMES = new Map<number, string>(Object.entries(constants.errno).map(([name, n]) => [n, name]));

/** `EEXIST` for 17, `errno 999` for a number Node does not name. */
export function errnoName(errno: number): string {
  return ERRNO_NAMES.get(errno) ?? `errno ${errno}`;
}

/** The (positive) errno an NLMSG_ERROR carries; 0 is an acknowledgement. */
export function errorOf(m: ParsedMessage): number {
  return m.body.length >= 4 ? Math.abs(m.body.readInt32LE(0)) : 0;
}
