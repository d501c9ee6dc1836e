/**
 * The opening handshake (RFC 6455 section 4), pure: checking a client's upgrade request and
 * choosing a subprotocol, the server's 101 answer with Sec-WebSocket-Accept, and the client's
 * request headers and its check of the server's answer.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { WebSocketHandshakeError } from './errors.js';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** Sec-WebSocket-Accept for a Sec-WebSocket-Key (section 4.2.2). */
export function acceptKey(key: string): string {
  return createHash('sha1').update(key + GUID).digest('base64');
}

export function newClientKey(): string {
  return randomBytes(16).toString('base64');
}

function header(headers: IncomingHttpHeaders, name: string): string {
  const v = headers[name];
  return Array.isArray(v) ? v.join(', ') : (v ?? '');
}

function tokens(v: string): string[] {
  return v
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '');
}

/** True when the request asks to upgrade to WebSocket (whatever else is wrong with it). */
export function isWebSocketUpgrade(headers: IncomingHttpHeaders): boolean {
  return tokens(header(headers, 'upgrade').toLowerCase()).includes('websocket');
}

export interface UpgradeRequest {
  readonly key: string;
  /** Offered subprotocols, client's order of preference. */
  readonly protocols: readonly string[];
}

/** Validates a client's upgrade request (section 4.2.1); throws WebSocketHandshakeError. */
export function parseUpgradeRequest(method: string, headers: IncomingHttpHeaders): UpgradeRequest {
  if (method !== 'GET') throw new WebSocketHandshakeError(`a WebSocket upgrade must use GET, not ${method}`, 405);
  if (!isWebSocketUpgrade(headers)) throw new WebSocketHandshakeError('missing "Upgrade: websocket" header');
  if (!tokens(header(headers, 'connection').toLowerCase()).includes('upgrade')) throw new WebSocketHandshakeError('missing "Connection: Upgrade" header');
  const version = header(headers, 'sec-websocket-version');
  if (version !== '13') throw new WebSocketHandshakeError(`unsupported Sec-WebSocket-Version ${JSON.stringify(version)} (want 13)`, 426);
  const key = header(headers, 'sec-websocket-key').trim();
  if (Buffer.from(key, 'base64').length !== 16) throw new WebSocketHandshakeError('Sec-WebSocket-Key must be 16 bytes in base64');
  return { key, protocols: tokens(header(headers, 'sec-websocket-protocol')) };
}

/** The first offered protocol the server supports, in the client's order (undefined: none). */
export function chooseProtocol(offered: readonly string[], supported: readonly string[]): string | undefined {
  return offered.find((p) => supported.includes(p));
}

/** The raw 101 response a server writes on the socket before switching to frames. */
export function serverHandshakeResponse(key: string, protocol: string | undefined): string {
  const lines = ['HTTP/1.1 101 Switching Protocols', 'Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Accept: ${acceptKey(key)}`];
  if (protocol !== undefined) lines.push(`Sec-WebSocket-Protocol: ${protocol}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/** Headers a client sends with its GET. */
export function clientHandshakeHeaders(key: string, protocols: readonly string[]): Record<string, string> {
  return {
    Connection: 'Upgrade',
    Upgrade: 'websocket',
    'Sec-WebSocket-Version': '13',
    'Sec-WebSocket-Key': key,
    ...(protocols.length > 0 ? { 'Sec-WebSocket-Protocol': protocols.join(', ') } : {}),
  };
}

/** Checks the server's 101 (section 4.1); answers the protocol it chose. */
export function verifyServerHandshake(headers: IncomingHttpHeaders, key: string, offered: readonly string[]): string | undefined {
  if (!isWebSocketUpgrade(headers)) throw new WebSocketHandshakeError('server did not answer "Upgrade: websocket"', 101);
  if (header(headers, 'sec-websocket-accept') !== acceptKey(key)) throw new WebSocketHandshakeError('server sent a wrong Sec-WebSocket-Accept', 101);
  const chosen = header(headers, 'sec-websocket-protocol').trim();
  if (chosen === '') return undefined;
  if (!offered.includes(chosen)) throw new WebSocketHandshakeError(`server chose subprotocol ${JSON.stringify(chosen)}, which was not offered`, 101);
  return chosen;
}
