/**
 * Opening a WebSocket as a client over ws/http or wss/https (the kubelet dials the container
 * runtime's streaming server this way). Resolves with the open connection and the subprotocol the
 * server chose; rejects with WebSocketHandshakeError (carrying the HTTP status and body) when the
 * server answers anything but a valid 101.
 */
import { request as httpRequest } from 'node:http';
import { readBodyPrefix } from '../http-body.js';
import type { IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Duplex } from 'node:stream';
import { WebSocketConnection } from './connection.js';
import { WebSocketHandshakeError } from './errors.js';
import { clientHandshakeHeaders, newClientKey, verifyServerHandshake } from './handshake.js';

export interface ConnectOptions {
  readonly protocols?: readonly string[];
  readonly headers?: Readonly<Record<string, string>>;
  readonly signal?: AbortSignal;
  /** Fails the attempt when no answer comes in time. Default 10 s. */
  readonly timeoutMs?: number;
  /** TLS client options for wss/https (ca, cert, key, rejectUnauthorized). */
  readonly tls?: { readonly ca?: string; readonly cert?: string; readonly key?: string; readonly rejectUnauthorized?: boolean };
  readonly maxPayload?: number;
}

export interface ClientConnection {
  readonly ws: WebSocketConnection;
  readonly protocol: string | undefined;
}

const MAX_ERROR_BODY = 64 * 1024;


export function connectWebSocket(target: URL, opts: ConnectOptions = {}): Promise<ClientConnection> {
  const protocols = opts.protocols ?? [];
  const key = newClientKey();
  const secure = target.protocol === 'https:' || target.protocol === 'wss:';
  const url = new URL(target.href);
  url.protocol = secure ? 'https:' : 'http:';
  return new Promise((resolve, reject) => {
    const headers = { ...(opts.headers ?? {}), ...clientHandshakeHeaders(key, protocols) };
    const common = { method: 'GET', headers, agent: false as const, ...(opts.signal ? { signal: opts.signal } : {}) };
    const req = secure ? httpsRequest(url, { ...common, ...(opts.tls ?? {}) }) : httpRequest(url, common);
    req.setTimeout(opts.timeoutMs ?? 10_000, () => req.destroy(new WebSocketHandshakeError(`no answer from ${url.origin} within ${opts.timeoutMs ?? 10_000} ms`, 504)));
    req.on('upgrade', (res: IncomingMessage, socket: Duplex, head: Buffer) => {
      req.setTimeout(0);
      let protocol: string | undefined;
      try {
        if (res.statusCode !== 101) throw new WebSocketHandshakeError(`unexpected status ${res.statusCode ?? 0} on upgrade`, res.statusCode ?? 0);
        protocol = verifyServerHandshake(res.headers, key, protocols);
      } catch (err) {
        socket.destroy();
        reject(err);
        return;
      }
      const ws = new WebSocketConnection(socket, { role: 'client', head, ...(opts.maxPayload !== undefined ? { maxPayload: opts.maxPayload } : {}) });
      resolve({ ws, protocol });
    });
    req.on('response', (res: IncomingMessage) => {
      const status = res.statusCode ?? 0;
      readBodyPrefix(res, MAX_ERROR_BODY).then(
        (body) => reject(new WebSocketHandshakeError(`${url.origin} refused the WebSocket upgrade with status ${status}${body.trim() ? `: ${body.trim()}` : ''}`, status, body)),
        reject,
      );
    });
    req.on('error', reject);
    req.end();
  });
}
