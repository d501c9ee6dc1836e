/**
 * Just enough SPDY/3 framing (draft-mbelshe-httpbis-spdy-00, section 2.6) to be a client of a
 * Kubernetes streaming server over SPDY, pure: SYN_STREAM, DATA (with FIN: the half-close WebSocket
 * v4 lacks), PING answers, and a decoder for what the server sends. Users: the kubelet's exec with
 * stdin against the runtime (kubelet/server/runtime-stream.ts) and the apiserver's pods/proxy and
 * services/proxy over port-forward (control-plane/apiserver/port-forward-client.ts).
 *
 * Header blocks must be zlib streams (one per direction, continued across frames, with the SPDY
 * dictionary). We never compress: the block is written as deflate *stored* blocks behind a zlib
 * header without FDICT, so the peer's inflater needs no dictionary, and each frame ends with an
 * empty stored block, exactly the sync flush real compressors end a frame with. Header blocks the
 * server sends (SYN_REPLY) are skipped, so we need no inflater either.
 */

export const SPDY_VERSION = 3;

export const ControlType = {
  SynStream: 1,
  SynReply: 2,
  RstStream: 3,
  Settings: 4,
  Ping: 6,
  GoAway: 7,
  Headers: 8,
  WindowUpdate: 9,
} as const;

export const FLAG_FIN = 0x01;

/** zlib header: CM 8 (deflate), 32K window, no FDICT, check bits so that 0x7801 % 31 == 0. */
const ZLIB_HEADER = Buffer.from([0x78, 0x01]);
const MAX_STORED = 0xffff;

function storedBlocks(data: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let off = 0; off < data.length; off += MAX_STORED) {
    const part = data.subarray(off, off + MAX_STORED);
    const head = Buffer.alloc(5);
    head[0] = 0x00; // BFINAL 0, BTYPE 00 (stored), padded to the byte boundary
    head.writeUInt16LE(part.length, 1);
    head.writeUInt16LE(~part.length & 0xffff, 3);
    out.push(head, part);
  }
  // the sync flush marker: an empty stored block
  out.push(Buffer.from([0x00, 0x00, 0x00, 0xff, 0xff]));
  return out;
}

/** The name/value block (32-bit counts and lengths in SPDY/3), names lowercased as the spec wants. */
export function encodeHeaderPairs(headers: Readonly<Record<string, string>>): Buffer {
  const parts: Buffer[] = [];
  const entries = Object.entries(headers);
  const count = Buffer.alloc(4);
  count.writeUInt32BE(entries.length, 0);
  parts.push(count);
  for (const [name, value] of entries) {
    for (const s of [name.toLowerCase(), value]) {
      const b = Buffer.from(s, 'utf8');
      const len = Buffer.alloc(4);
      len.writeUInt32BE(b.length, 0);
      parts.push(len, b);
    }
  }
  return Buffer.concat(parts);
}

/**
 * Header-block compression state of one connection: the zlib header goes in front of the first
 * block only, as the peer reads one continuous zlib stream.
 */
export class HeaderWriter {
  private started = false;

  block(headers: Readonly<Record<string, string>>): Buffer {
    const parts = storedBlocks(encodeHeaderPairs(headers));
    if (!this.started) parts.unshift(ZLIB_HEADER);
    this.started = true;
    return Buffer.concat(parts);
  }
}

function controlFrame(type: number, flags: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt16BE(0x8000 | SPDY_VERSION, 0);
  head.writeUInt16BE(type, 2);
  head.writeUInt32BE(((flags & 0xff) << 24) | payload.length, 4);
  return Buffer.concat([head, payload]);
}

export function encodeSynStream(streamId: number, headerBlock: Buffer, flags = 0): Buffer {
  const fixed = Buffer.alloc(10);
  fixed.writeUInt32BE(streamId & 0x7fffffff, 0);
  fixed.writeUInt32BE(0, 4); // associated-to-stream-id
  fixed.writeUInt16BE(0, 8); // priority 0, slot 0
  return controlFrame(ControlType.SynStream, flags, Buffer.concat([fixed, headerBlock]));
}

export function encodeData(streamId: number, data: Buffer, fin = false): Buffer {
  if (data.length > 0xffffff) throw new RangeError('SPDY data frames carry at most 16 MiB - 1');
  const head = Buffer.alloc(8);
  head.writeUInt32BE(streamId & 0x7fffffff, 0);
  head.writeUInt32BE(((fin ? FLAG_FIN : 0) << 24) | data.length, 4);
  return Buffer.concat([head, data]);
}

export function encodePing(id: number): Buffer {
  const p = Buffer.alloc(4);
  p.writeUInt32BE(id >>> 0, 0);
  return controlFrame(ControlType.Ping, 0, p);
}

export function encodeGoAway(lastGoodStreamId: number): Buffer {
  const p = Buffer.alloc(8);
  p.writeUInt32BE(lastGoodStreamId & 0x7fffffff, 0);
  p.writeUInt32BE(0, 4); // OK
  return controlFrame(ControlType.GoAway, 0, p);
}

export type SpdyFrame =
  | { readonly kind: 'data'; readonly streamId: number; readonly fin: boolean; readonly data: Buffer }
  | { readonly kind: 'control'; readonly type: number; readonly flags: number; readonly payload: Buffer };

export class SpdyFrameError extends Error {
  readonly code = 'ERR_SPDY_FRAME';
}

/** Cuts the server's byte stream into frames. */
export class SpdyFrameDecoder {
  private buf: Buffer = Buffer.alloc(0);
  /** Chunks after `buf` not yet joined (joined once a frame is complete: linear, not quadratic). */
  private more: Buffer[] = [];
  private size = 0;
  /** Bytes needed before the next frame (or its header) is complete. */
  private needed = 8;

  push(chunk: Buffer): SpdyFrame[] {
    if (this.size === 0) this.buf = chunk;
    else this.more.push(chunk);
    this.size += chunk.length;
    const frames: SpdyFrame[] = [];
    if (this.size < this.needed) return frames;
    if (this.more.length > 0) {
      this.buf = Buffer.concat([this.buf, ...this.more]);
      this.more = [];
    }
    this.needed = 8;
    while (this.buf.length >= 8) {
      const word = this.buf.readUInt32BE(4);
      const len = word & 0xffffff;
      const flags = word >>> 24;
      if (this.buf.length < 8 + len) {
        this.needed = 8 + len;
        break;
      }
      const payload = Buffer.from(this.buf.subarray(8, 8 + len));
      const first = this.buf.readUInt32BE(0);
      if ((first & 0x80000000) !== 0) {
        const version = (first >>> 16) & 0x7fff;
        if (version !== SPDY_VERSION) throw new SpdyFrameError(`SPDY version ${version} is not supported`);
        frames.push({ kind: 'control', type: first & 0xffff, flags, payload });
      } else {
        frames.push({ kind: 'data', streamId: first & 0x7fffffff, fin: (flags & FLAG_FIN) !== 0, data: payload });
      }
      this.buf = this.buf.subarray(8 + len);
    }
    this.size = this.buf.length;
    return frames;
  }
}
