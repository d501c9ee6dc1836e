/**
 * The kubelet's connection to the container runtime's streaming server for one exec/attach, as
 * channel messages (`[channel, ...payload]`, the WebSocket framing) whatever the transport:
 *
 * - WebSocket v4.channel.k8s.io: the default. v4 cannot half-close stdin (remote-command.ts
 *   `planStdinClose`).
 * - SPDY/3.1 with X-Stream-Protocol-Version v4.channel.k8s.io: used when the caller asked for
 *   stdin without a tty, the one case where closing stdin must reach the process (`echo x |
 *   kubectl exec -i .. cat`). One SPDY stream per channel; closing stdin is a DATA frame with FIN.
 *   No flow control is sent or honoured (the Go streaming server does not enforce it).
 */
import { request as httpRequest } from 'node:http';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { connectWebSocket, WebSocketHandshakeError } from '../../lib/websocket/index.js';
import type { WebSocketConnection } from '../../lib/websocket/index.js';
import { Channel, planStdinClose, RUNTIME_PROTOCOLS, V4_PROTOCOL } from './remote-command.js';
import type { StreamOptions } from './remote-command.js';
import { ControlType, encodeData, encodeGoAway, encodePing, encodeSynStream, HeaderWriter, SpdyFrameDecoder } from '../../lib/spdy/frames.js';

export interface RuntimeStream {
  /** `[channel, ...payload]` from the runtime: stdout 1, stderr 2, error 3. */
  onMessage(listener: (msg: Buffer) => void): void;
  /** Once, when the runtime side is gone; `abnormal` names why when it did not end cleanly. */
  onClose(listener: (abnormal: string | undefined) => void): void;
  /** `[channel, ...payload]` for stdin (0) or resize (4); false when the socket buffer is full. */
  send(msg: Buffer): boolean;
  closeStdin(): void;
  close(): void;
  pause(): void;
  resume(): void;
  drained(): Promise<void>;
}

export type RuntimeTransport = 'websocket' | 'spdy';

/** SPDY only where its half-close matters: stdin without a tty (a tty gets ^D instead). */
export function chooseRuntimeTransport(opts: Pick<StreamOptions, 'stdin' | 'tty'>): RuntimeTransport {
  return opts.stdin && !opts.tty ? 'spdy' : 'websocket';
}

export async function dialRuntimeStream(url: URL, opts: Pick<StreamOptions, 'stdin' | 'stdout' | 'stderr' | 'tty'>, timeoutMs = 10_000): Promise<RuntimeStream> {
  if (chooseRuntimeTransport(opts) === 'spdy') return dialSpdy(url, opts, timeoutMs);
  const { ws } = await connectWebSocket(url, { protocols: RUNTIME_PROTOCOLS, timeoutMs });
  return new WebSocketRuntimeStream(ws, opts);
}

export class WebSocketRuntimeStream implements RuntimeStream {
  constructor(
    private readonly ws: WebSocketConnection,
    private readonly opts: Pick<StreamOptions, 'tty'>,
  ) {}
  onMessage(listener: (msg: Buffer) => void): void {
    this.ws.onMessage((data) => listener(data));
  }
  onClose(listener: (abnormal: string | undefined) => void): void {
    this.ws.onClose((code, reason) => listener(code === 1000 || code === 1005 ? undefined : `${code}${reason ? ` ${reason}` : ''}`));
  }
  send(msg: Buffer): boolean {
    return this.ws.send(msg);
  }
  closeStdin(): void {
    const plan = planStdinClose(this.opts);
    if (plan.type === 'send') this.ws.send(plan.data);
    else this.ws.close(1000, 'stdin closed');
  }
  close(): void {
    this.ws.close(1000);
  }
  pause(): void {
    this.ws.pause();
  }
  resume(): void {
    this.ws.resume();
  }
  drained(): Promise<void> {
    return this.ws.drained();
  }
}

const STREAM_TYPES: readonly { readonly channel: number; readonly type: string; readonly wanted: (o: Pick<StreamOptions, 'stdin' | 'stdout' | 'stderr' | 'tty'>) => boolean }[] = [
  { channel: Channel.Error, type: 'error', wanted: () => true },
  { channel: Channel.Stdin, type: 'stdin', wanted: (o) => o.stdin },
  { channel: Channel.Stdout, type: 'stdout', wanted: (o) => o.stdout },
  { channel: Channel.Stderr, type: 'stderr', wanted: (o) => o.stderr },
  { channel: Channel.Resize, type: 'resize', wanted: (o) => o.tty },
];

function dialSpdy(url: URL, opts: Pick<StreamOptions, 'stdin' | 'stdout' | 'stderr' | 'tty'>, timeoutMs: number): Promise<RuntimeStream> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, {
      method: 'POST',
      agent: false,
      headers: { Connection: 'Upgrade', Upgrade: 'SPDY/3.1', 'X-Stream-Protocol-Version': V4_PROTOCOL },
    });
    req.setTimeout(timeoutMs, () => req.destroy(new WebSocketHandshakeError(`no answer from ${url.origin} within ${timeoutMs} ms`, 504)));
    req.on('upgrade', (res: IncomingMessage, socket: Duplex, head: Buffer) => {
      req.setTimeout(0);
      const chosen = res.headers['x-stream-protocol-version'];
      if (chosen !== V4_PROTOCOL) {
        socket.destroy();
        reject(new WebSocketHandshakeError(`the runtime chose stream protocol ${JSON.stringify(chosen ?? '')}, not ${V4_PROTOCOL}`, 101));
        return;
      }
      resolve(new SpdyRuntimeStream(socket, head, opts));
    });
    req.on('response', (res: IncomingMessage) => {
      res.resume();
      reject(new WebSocketHandshakeError(`${url.origin} refused the SPDY upgrade with status ${res.statusCode ?? 0}`, res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

export class SpdyRuntimeStream implements RuntimeStream {
  private readonly decoder = new SpdyFrameDecoder();
  private readonly streamOf = new Map<number, number>();
  private readonly channelOf = new Map<number, number>();
  private readonly messageListeners: ((msg: Buffer) => void)[] = [];
  private readonly closeListeners: ((abnormal: string | undefined) => void)[] = [];
  private closed = false;
  private abnormal: string | undefined;
  /** Messages (e.g. from the `head` read with the 101) that came before the first listener. */
  private early: Buffer[] | undefined = [];

  constructor(
    private readonly socket: Duplex,
    head: Buffer,
    opts: Pick<StreamOptions, 'stdin' | 'stdout' | 'stderr' | 'tty'>,
  ) {
    const headers = new HeaderWriter();
    let id = 1;
    // the runtime waits for exactly these streams; the error stream first, as client-go does
    for (const s of STREAM_TYPES) {
      if (!s.wanted(opts)) continue;
      this.streamOf.set(s.channel, id);
      this.channelOf.set(id, s.channel);
      socket.write(encodeSynStream(id, headers.block({ streamtype: s.type })));
      id += 2;
    }
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err: Error) => {
      this.abnormal ??= err.message;
      socket.destroy();
    });
    socket.on('end', () => socket.end());
    socket.on('close', () => this.finish());
    if (head.length > 0) queueMicrotask(() => this.onData(head));
  }

  onMessage(listener: (msg: Buffer) => void): void {
    this.messageListeners.push(listener);
    const early = this.early;
    this.early = undefined;
    if (early) for (const m of early) listener(m);
  }
  onClose(listener: (abnormal: string | undefined) => void): void {
    if (this.closed) queueMicrotask(() => listener(this.abnormal));
    else this.closeListeners.push(listener);
  }

  send(msg: Buffer): boolean {
    const stream = this.streamOf.get(msg[0] ?? -1);
    if (stream === undefined || this.socket.destroyed || this.socket.writableEnded) return true;
    const data = msg.subarray(1);
    let ok = true;
    for (let off = 0; off < data.length; off += 0xffff) ok = this.socket.write(encodeData(stream, data.subarray(off, off + 0xffff)));
    return ok;
  }

  closeStdin(): void {
    const stream = this.streamOf.get(Channel.Stdin);
    if (stream !== undefined && !this.socket.writableEnded && !this.socket.destroyed) this.socket.write(encodeData(stream, Buffer.alloc(0), true));
  }

  close(): void {
    if (this.socket.destroyed || this.socket.writableEnded) return;
    this.socket.write(encodeGoAway(0));
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 5_000).unref();
  }
  pause(): void {
    this.socket.pause();
  }
  resume(): void {
    this.socket.resume();
  }
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

  private onData(chunk: Buffer): void {
    try {
      for (const f of this.decoder.push(chunk)) {
        if (f.kind === 'data') {
          const channel = this.channelOf.get(f.streamId);
          if (channel !== undefined && f.data.length > 0) {
            const msg = Buffer.concat([Buffer.from([channel]), f.data]);
            if (this.early) this.early.push(msg);
            else for (const l of this.messageListeners) l(msg);
          }
          continue;
        }
        if (f.type === ControlType.Ping) this.socket.write(encodePing(f.payload.readUInt32BE(0)));
        // SYN_REPLY, SETTINGS, HEADERS, WINDOW_UPDATE, GOAWAY: nothing to do; the socket's end is the end.
        // RST_STREAM too: the Go server resets (CANCEL) the streams it still holds when it finishes.
      }
    } catch (err) {
      this.abnormal ??= err instanceof Error ? err.message : String(err);
      this.socket.destroy();
    }
  }

  private finish(): void {
    if (this.closed) return;
    this.closed = true;
    for (const l of this.closeListeners) l(this.abnormal);
  }
}
