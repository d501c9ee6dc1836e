/**
 * RFC 6455 frame codec, pure: `encodeFrame` builds one frame (masked when a client sends it),
 * `FrameDecoder` cuts a byte stream into frames, unmasking them and enforcing the rules of
 * section 5 (reserved bits clear, known opcodes, control frames short and unfragmented, the
 * masking direction, minimal 64-bit lengths, a size cap). `MessageAssembler` joins fragmented data
 * frames into messages and lets control frames pass between fragments (section 5.4).
 *
 * Cost: one copy per frame on decode (payload slices are unmasked into a fresh buffer), one on
 * encode. Chunks of an incomplete frame are held in a list and joined once, when the frame (or
 * its header) is complete, so a frame trickling in costs linear, not quadratic, time.
 */
import { randomBytes } from 'node:crypto';
import { WebSocketProtocolError } from './errors.js';

export const Opcode = {
  Continuation: 0x0,
  Text: 0x1,
  Binary: 0x2,
  Close: 0x8,
  Ping: 0x9,
  Pong: 0xa,
} as const;
export type Opcode = (typeof Opcode)[keyof typeof Opcode];

const KNOWN = new Set<number>(Object.values(Opcode));

export function isControl(opcode: number): boolean {
  return (opcode & 0x8) !== 0;
}

export interface Frame {
  readonly fin: boolean;
  readonly opcode: Opcode;
  readonly payload: Buffer;
}

export interface EncodeOptions {
  /** Clients must mask every frame (section 5.3); pass the 4-byte key, or `true` for a random one. */
  readonly mask?: Buffer | boolean;
}

/** One frame on the wire. */
export function encodeFrame(frame: Frame, opts: EncodeOptions = {}): Buffer {
  const { payload } = frame;
  const len = payload.length;
  if (isControl(frame.opcode) && (len > 125 || !frame.fin)) throw new WebSocketProtocolError('control frames carry at most 125 bytes and cannot be fragmented');
  const key = opts.mask === true ? randomBytes(4) : opts.mask === false || opts.mask === undefined ? undefined : opts.mask;
  if (key !== undefined && key.length !== 4) throw new WebSocketProtocolError('a masking key is 4 bytes');
  const lenBytes = len < 126 ? 0 : len <= 0xffff ? 2 : 8;
  const head = 2 + lenBytes + (key ? 4 : 0);
  const out = Buffer.allocUnsafe(head + len);
  out[0] = (frame.fin ? 0x80 : 0) | frame.opcode;
  const maskBit = key ? 0x80 : 0;
  if (lenBytes === 0) out[1] = maskBit | len;
  else if (lenBytes === 2) {
    out[1] = maskBit | 126;
    out.writeUInt16BE(len, 2);
  } else {
    out[1] = maskBit | 127;
    out.writeBigUInt64BE(BigInt(len), 2);
  }
  if (key) {
    key.copy(out, 2 + lenBytes);
    for (let i = 0; i < len; i++) out[head + i] = (payload[i] ?? 0) ^ (key[i & 3] ?? 0);
  } else {
    payload.copy(out, head);
  }
  return out;
}

export interface DecoderOptions {
  /** 'server' requires masked frames (from clients), 'client' refuses them (section 5.1). */
  readonly role: 'server' | 'client';
  /** Largest frame payload accepted; bigger ones fail with close code 1009. Default 16 MiB. */
  readonly maxPayload?: number;
}

export const DEFAULT_MAX_PAYLOAD = 16 << 20;

/** Incremental frame parser: feed chunks, get the complete frames they finish. */
export class FrameDecoder {
  private buf: Buffer = Buffer.alloc(0);
  /** Chunks after `buf` not yet joined, and the byte count of `buf` plus them. */
  private more: Buffer[] = [];
  private size = 0;
  /** Bytes needed before the next frame (or the rest of its header) can be parsed. */
  private needed = 2;
  private readonly maxPayload: number;

  constructor(private readonly opts: DecoderOptions) {
    this.maxPayload = opts.maxPayload ?? DEFAULT_MAX_PAYLOAD;
  }

  /** Throws WebSocketProtocolError on a frame that breaks the RFC; the connection must then close. */
  push(chunk: Buffer): Frame[] {
    if (this.size === 0) this.buf = chunk;
    else this.more.push(chunk);
    this.size += chunk.length;
    const frames: Frame[] = [];
    if (this.size < this.needed) return frames;
    if (this.more.length > 0) {
      this.buf = Buffer.concat([this.buf, ...this.more]);
      this.more = [];
    }
    for (;;) {
      const frame = this.next();
      if (!frame) break;
      frames.push(frame);
    }
    this.size = this.buf.length;
    return frames;
  }

  /** Bytes held for an incomplete frame. */
  get pending(): number {
    return this.size;
  }

  /** The next complete frame, or undefined after setting `needed` to the bytes it takes. */
  private next(): Frame | undefined {
    const b = this.buf;
    this.needed = 2;
    if (b.length < 2) return undefined;
    const b0 = b[0] ?? 0;
    const b1 = b[1] ?? 0;
    if ((b0 & 0x70) !== 0) throw new WebSocketProtocolError('reserved bits set without a negotiated extension');
    const opcode = b0 & 0x0f;
    if (!KNOWN.has(opcode)) throw new WebSocketProtocolError(`unknown opcode ${opcode}`);
    const fin = (b0 & 0x80) !== 0;
    const masked = (b1 & 0x80) !== 0;
    if (this.opts.role === 'server' && !masked) throw new WebSocketProtocolError('client frames must be masked');
    if (this.opts.role === 'client' && masked) throw new WebSocketProtocolError('server frames must not be masked');
    let len = b1 & 0x7f;
    let offset = 2;
    if (len === 126) {
      this.needed = 4;
      if (b.length < 4) return undefined;
      len = b.readUInt16BE(2);
      offset = 4;
    } else if (len === 127) {
      this.needed = 10;
      if (b.length < 10) return undefined;
      const big = b.readBigUInt64BE(2);
      if (big > BigInt(Number.MAX_SAFE_INTEGER)) throw new WebSocketProtocolError('frame length out of range', 1009);
      len = Number(big);
      offset = 10;
    }
    if (isControl(opcode) && (len > 125 || !fin)) throw new WebSocketProtocolError('control frames carry at most 125 bytes and cannot be fragmented');
    if (len > this.maxPayload) throw new WebSocketProtocolError(`frame of ${len} bytes exceeds the limit of ${this.maxPayload}`, 1009);
    const keyAt = offset;
    if (masked) offset += 4;
    this.needed = offset + len;
    if (b.length < offset + len) return undefined;
    const payload = Buffer.allocUnsafe(len);
    if (masked) {
      for (let i = 0; i < len; i++) payload[i] = (b[offset + i] ?? 0) ^ (b[keyAt + (i & 3)] ?? 0);
    } else {
      b.copy(payload, 0, offset, offset + len);
    }
    this.buf = b.subarray(offset + len);
    this.needed = 2;
    return { fin, opcode: opcode as Opcode, payload };
  }
}

/** A complete data message or a control frame, in arrival order. */
export type WebSocketEvent =
  | { readonly type: 'message'; readonly binary: boolean; readonly data: Buffer }
  | { readonly type: 'ping'; readonly data: Buffer }
  | { readonly type: 'pong'; readonly data: Buffer }
  | { readonly type: 'close'; readonly code: number | undefined; readonly reason: string };

/** Close codes an endpoint may receive (section 7.4). */
function validCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

/** Joins fragments into messages; control frames may arrive between them. */
export class MessageAssembler {
  private parts: Buffer[] = [];
  private size = 0;
  private opcode: Opcode | undefined;

  constructor(private readonly maxMessage = DEFAULT_MAX_PAYLOAD) {}

  push(frame: Frame): WebSocketEvent | undefined {
    switch (frame.opcode) {
      case Opcode.Ping:
        return { type: 'ping', data: frame.payload };
      case Opcode.Pong:
        return { type: 'pong', data: frame.payload };
      case Opcode.Close:
        return parseClose(frame.payload);
      case Opcode.Continuation:
        if (this.opcode === undefined) throw new WebSocketProtocolError('continuation frame without a message to continue');
        return this.add(frame);
      case Opcode.Text:
      case Opcode.Binary:
        if (this.opcode !== undefined) throw new WebSocketProtocolError('new data frame inside a fragmented message');
        this.opcode = frame.opcode;
        return this.add(frame);
      default: {
        const never: never = frame.opcode;
        throw new WebSocketProtocolError(`unknown opcode ${String(never)}`);
      }
    }
  }

  private add(frame: Frame): WebSocketEvent | undefined {
    this.size += frame.payload.length;
    if (this.size > this.maxMessage) throw new WebSocketProtocolError(`message exceeds the limit of ${this.maxMessage} bytes`, 1009);
    this.parts.push(frame.payload);
    if (!frame.fin) return undefined;
    const data = this.parts.length === 1 ? (this.parts[0] ?? Buffer.alloc(0)) : Buffer.concat(this.parts);
    const binary = this.opcode === Opcode.Binary;
    this.parts = [];
    this.size = 0;
    this.opcode = undefined;
    if (!binary && !isValidUtf8(data)) throw new WebSocketProtocolError('text message is not valid UTF-8', 1007);
    return { type: 'message', binary, data };
  }
}

function isValidUtf8(data: Buffer): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(data);
    return true;
  } catch {
    return false;
  }
}

/** The payload of a close frame: optional 2-byte code then a UTF-8 reason (section 5.5.1). */
export function parseClose(payload: Buffer): WebSocketEvent {
  if (payload.length === 0) return { type: 'close', code: undefined, reason: '' };
  if (payload.length === 1) throw new WebSocketProtocolError('close frame with a 1-byte payload');
  const code = payload.readUInt16BE(0);
  if (!validCloseCode(code)) throw new WebSocketProtocolError(`invalid close code ${code}`);
  const reasonBytes = payload.subarray(2);
  if (!isValidUtf8(reasonBytes)) throw new WebSocketProtocolError('close reason is not valid UTF-8', 1007);
  return { type: 'close', code, reason: reasonBytes.toString('utf8') };
}

export function closePayload(code?: number, reason = ''): Buffer {
  if (code === undefined) return Buffer.alloc(0);
  const text = Buffer.from(reason, 'utf8').subarray(0, 123);
  const out = Buffer.allocUnsafe(2 + text.length);
  out.writeUInt16BE(code, 0);
  text.copy(out, 2);
  return out;
}
