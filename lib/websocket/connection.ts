/**
 * One open WebSocket over a byte stream (a socket after the 101), either end. Answers pings,
 * completes the closing handshake (section 7), fails the connection with the right close code on a
 * protocol error, and exposes the socket's backpressure so a relay can pause its other side.
 *
 * Events, in order: any number of `message`, then exactly one `close` (code/reason of the peer's
 * close frame, or 1006 when the transport just ended). Messages that arrive before the first
 * `onMessage` listener (e.g. in the `head` read along with the 101) are held and handed to it.
 */
import type { Duplex } from 'node:stream';
import { WebSocketProtocolError } from './errors.js';
import { closePayload, encodeFrame, FrameDecoder, MessageAssembler, Opcode } from './frame.js';
import type { Opcode as OpcodeT } from './frame.js';

export interface ConnectionOptions {
  readonly role: 'server' | 'client';
  /** Bytes already read past the handshake (the `head` of an 'upgrade' event). */
  readonly head?: Buffer;
  readonly maxPayload?: number;
  /** How long to wait for the peer's close frame or FIN after ours before destroying. Default 5 s. */
  readonly closeTimeoutMs?: number;
}

export type MessageListener = (data: Buffer, binary: boolean) => void;
export type CloseListener = (code: number, reason: string) => void;

/** 1006: no close frame was received (never sent on the wire). */
export const ABNORMAL_CLOSURE = 1006;

export class WebSocketConnection {
  private readonly decoder: FrameDecoder;
  private readonly assembler: MessageAssembler;
  private readonly messageListeners: MessageListener[] = [];
  private readonly closeListeners: CloseListener[] = [];
  private sentClose = false;
  private receivedClose: { code: number; reason: string } | undefined;
  private closed = false;
  private closeTimer: NodeJS.Timeout | undefined;
  /** Messages received before anyone listened; undefined once the first listener took them. */
  private early: { data: Buffer; binary: boolean }[] | undefined = [];
  /** Payload of the latest ping not yet answered because the socket buffer was full. */
  private pendingPong: Buffer | undefined;

  constructor(
    readonly socket: Duplex,
    private readonly opts: ConnectionOptions,
  ) {
    this.decoder = new FrameDecoder({ role: opts.role, ...(opts.maxPayload !== undefined ? { maxPayload: opts.maxPayload } : {}) });
    this.assembler = new MessageAssembler(opts.maxPayload);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => socket.destroy());
    socket.on('end', () => {
      // the peer half-closed: a WebSocket has no half-open state, finish ours
      if (!socket.writableEnded) socket.end();
    });
    socket.on('close', () => this.finish());
    // the peer may have gone while the caller was still setting up: its 'close' already fired
    if (socket.destroyed) {
      this.finish();
      return;
    }
    if (opts.head && opts.head.length > 0) queueMicrotask(() => this.onData(opts.head ?? Buffer.alloc(0)));
  }

  onMessage(listener: MessageListener): void {
    this.messageListeners.push(listener);
    const early = this.early;
    this.early = undefined;
    if (early) for (const m of early) listener(m.data, m.binary);
  }

  onClose(listener: CloseListener): void {
    if (this.closed) {
      const c = this.receivedClose ?? { code: ABNORMAL_CLOSURE, reason: '' };
      queueMicrotask(() => listener(c.code, c.reason));
      return;
    }
    this.closeListeners.push(listener);
  }

  get isOpen(): boolean {
    return !this.closed && !this.sentClose && this.receivedClose === undefined;
  }

  /** Sends one unfragmented message; false when the socket buffer is full (wait for `drained`). */
  send(data: Buffer | string, binary = typeof data !== 'string'): boolean {
    if (!this.isOpen) return false;
    const payload = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    return this.write(binary ? Opcode.Binary : Opcode.Text, payload);
  }

  ping(data: Buffer = Buffer.alloc(0)): void {
    if (this.isOpen) this.write(Opcode.Ping, data);
  }

  /** Resolves once the socket can take more (at once when it already can). */
  drained(): Promise<void> {
    if (!this.socket.writableNeedDrain || this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        this.socket.off('drain', done);
        this.socket.off('close', done);
        resolve();
      };
      this.socket.on('drain', done);
      this.socket.on('close', done);
    });
  }

  /** Stops reading from the peer (backpressure towards it). */
  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  /** Starts the closing handshake; the socket ends when the peer answers or after the timeout. */
  close(code = 1000, reason = ''): void {
    if (this.closed || this.sentClose) return;
    this.sentClose = true;
    this.write(Opcode.Close, closePayload(code, reason));
    if (this.receivedClose !== undefined) {
      this.socket.end();
      return;
    }
    this.closeTimer = setTimeout(() => this.socket.destroy(), this.opts.closeTimeoutMs ?? 5_000);
    this.closeTimer.unref();
  }

  /** Drops the connection without a closing handshake. */
  terminate(): void {
    this.socket.destroy();
  }

  private write(opcode: OpcodeT, payload: Buffer): boolean {
    if (this.socket.destroyed || this.socket.writableEnded) return false;
    return this.socket.write(encodeFrame({ fin: true, opcode, payload }, { mask: this.opts.role === 'client' }));
  }

  /**
   * Answers a ping, unless our writes are backed up (a peer pinging without reading): then only the
   * latest ping is answered once the socket drains (section 5.5.3 allows answering just that one).
   */
  private pong(data: Buffer): void {
    if (!this.socket.writableNeedDrain) {
      this.write(Opcode.Pong, data);
      return;
    }
    const waiting = this.pendingPong !== undefined;
    this.pendingPong = data;
    if (waiting) return;
    this.socket.once('drain', () => {
      const payload = this.pendingPong;
      this.pendingPong = undefined;
      if (payload && !this.sentClose) this.pong(payload);
    });
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    try {
      for (const frame of this.decoder.push(chunk)) {
        if (this.receivedClose !== undefined) break;
        const ev = this.assembler.push(frame);
        if (!ev) continue;
        switch (ev.type) {
          case 'message':
            // after our close frame the peer may still send data; section 5.5.1 lets us drop it
            if (this.sentClose) break;
            if (this.early) this.early.push({ data: ev.data, binary: ev.binary });
            else for (const l of this.messageListeners) l(ev.data, ev.binary);
            break;
          case 'ping':
            if (!this.sentClose) this.pong(ev.data);
            break;
          case 'pong':
            break;
          case 'close':
            this.receivedClose = { code: ev.code ?? 1005, reason: ev.reason };
            if (!this.sentClose) {
              this.sentClose = true;
              this.write(Opcode.Close, closePayload(ev.code, ev.reason));
            }
            // the server closes TCP first (section 7.1.1); either side waits for the peer's FIN but not forever
            if (this.opts.role === 'server') this.socket.end();
            this.closeTimer ??= setTimeout(() => this.socket.destroy(), this.opts.closeTimeoutMs ?? 5_000);
            this.closeTimer.unref();
            break;
          default: {
            const never: never = ev;
            throw new Error(`unreachable ${String(never)}`);
          }
        }
      }
    } catch (err) {
      const code = err instanceof WebSocketProtocolError ? err.closeCode : 1011;
      if (!this.sentClose) {
        this.sentClose = true;
        this.write(Opcode.Close, closePayload(code, err instanceof Error ? err.message : ''));
      }
      this.socket.end();
      setTimeout(() => this.socket.destroy(), 1_000).unref();
    }
  }

  private finish(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.closeTimer) clearTimeout(this.closeTimer);
    const c = this.receivedClose ?? { code: ABNORMAL_CLOSURE, reason: '' };
    for (const l of this.closeListeners) l(c.code, c.reason);
  }
}
