import { describe, expect, it } from 'vitest';
import { WebSocketHandshakeError } from './errors.js';
import { acceptKey, chooseProtocol, clientHandshakeHeaders, parseUpgradeRequest, serverHandshakeResponse, verifyServerHandshake } from './handshake.js';

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const base = { upgrade: 'websocket', connection: 'keep-alive, Upgrade', 'sec-websocket-version': '13', 'sec-websocket-key': KEY };

describe('handshake', () => {
  it('computes the RFC 6455 example Sec-WebSocket-Accept', () => {
    expect(acceptKey(KEY)).toBe('s3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
  });

  it('parses a valid upgrade and its offered protocols in order', () => {
    expect(parseUpgradeRequest('GET', { ...base, 'sec-websocket-protocol': 'v5.channel.k8s.io, v4.channel.k8s.io,channel.k8s.io' })).toEqual({
      key: KEY,
      protocols: ['v5.channel.k8s.io', 'v4.channel.k8s.io', 'channel.k8s.io'],
    });
  });

  const bad: { name: string; method?: string; headers: Record<string, string>; status: number }[] = [
    { name: 'POST', method: 'POST', headers: base, status: 405 },
    { name: 'no Upgrade header', headers: { ...base, upgrade: 'SPDY/3.1' }, status: 400 },
    { name: 'no Connection: Upgrade', headers: { ...base, connection: 'keep-alive' }, status: 400 },
    { name: 'version 8', headers: { ...base, 'sec-websocket-version': '8' }, status: 426 },
    { name: 'short key', headers: { ...base, 'sec-websocket-key': 'abcd' }, status: 400 },
  ];
  for (const c of bad) {
    it(`refuses ${c.name} with ${c.status}`, () => {
      try {
        parseUpgradeRequest(c.method ?? 'GET', c.headers);
        expect.unreachable('accepted');
      } catch (err) {
        expect(err).toBeInstanceOf(WebSocketHandshakeError);
        expect((err as WebSocketHandshakeError).httpStatus).toBe(c.status);
      }
    });
  }

  it('chooses the first offered protocol the server supports', () => {
    expect(chooseProtocol(['v5.channel.k8s.io', 'v4.channel.k8s.io'], ['v4.channel.k8s.io', 'v5.channel.k8s.io'])).toBe('v5.channel.k8s.io');
    expect(chooseProtocol(['v3.channel.k8s.io'], ['v4.channel.k8s.io'])).toBeUndefined();
  });

  it('writes a 101 the client side accepts, and rejects a wrong accept or unoffered protocol', () => {
    const raw = serverHandshakeResponse(KEY, 'v4.channel.k8s.io');
    expect(raw.startsWith('HTTP/1.1 101 Switching Protocols\r\n')).toBe(true);
    expect(raw.endsWith('\r\n\r\n')).toBe(true);
    const headers = Object.fromEntries(
      raw
        .split('\r\n')
        .slice(1)
        .filter((l) => l.includes(':'))
        .map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]),
    );
    expect(verifyServerHandshake(headers, KEY, ['v4.channel.k8s.io'])).toBe('v4.channel.k8s.io');
    expect(() => verifyServerHandshake({ ...headers, 'sec-websocket-accept': 'x' }, KEY, ['v4.channel.k8s.io'])).toThrow(/Accept/);
    expect(() => verifyServerHandshake(headers, KEY, ['v5.channel.k8s.io'])).toThrow(/not offered/);
    expect(clientHandshakeHeaders(KEY, ['a', 'b'])['Sec-WebSocket-Protocol']).toBe('a, b');
  });
});
