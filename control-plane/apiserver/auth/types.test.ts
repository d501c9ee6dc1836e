import { createServer, request, type IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { ANONYMOUS_USER, authRequestFrom, bearerToken, presentsCredentials, withAuthenticatedGroup } from './types.js';

describe('bearerToken', () => {
  it.each([
    [{ authorization: 'Bearer abc' }, 'abc'],
    [{ authorization: 'BEARER abc' }, 'abc'],
    [{ authorization: ' Bearer abc ' }, 'abc'],
    [{ authorization: 'Bearer abc trailing' }, 'abc'],
    [{ authorization: ['Bearer first', 'Bearer second'] }, 'first'],
    [{ authorization: 'Bearer' }, undefined],
    [{ authorization: 'Bearer  abc' }, undefined],
    [{ authorization: 'Basic abc' }, undefined],
    [{}, undefined],
  ])('reads %j as %j', (headers, token) => {
    expect(bearerToken(headers)).toBe(token);
  });
});

describe('presentsCredentials', () => {
  it.each([
    ['a bearer token', { headers: { authorization: 'Bearer x' } }, true],
    ['a client certificate', { socket: { getPeerCertificate: () => ({ subject: { CN: 'x' } }) }, headers: {} }, true],
    ['an empty peer certificate', { socket: { getPeerCertificate: () => ({}) }, headers: {} }, false],
    ['nothing', { headers: {} }, false],
  ])('is true only with credentials: %s', (_name, req, expected) => {
    expect(presentsCredentials(req)).toBe(expected);
  });
});

describe('withAuthenticatedGroup', () => {
  it('appends system:authenticated once and keeps the uid', () => {
    const u = withAuthenticatedGroup({ name: 'a', groups: ['g'], uid: '1' });
    expect(u).toEqual({ name: 'a', groups: ['g', 'system:authenticated'], uid: '1' });
    expect(withAuthenticatedGroup(u)).toBe(u);
  });

  it('leaves the anonymous user unauthenticated', () => {
    expect(ANONYMOUS_USER).toEqual({ name: 'system:anonymous', groups: ['system:unauthenticated'] });
  });
});

describe('authRequestFrom', () => {
  it('passes the headers of a plain HTTP request and no TLS socket', async () => {
    const seen = await new Promise<ReturnType<typeof authRequestFrom>>((resolve, reject) => {
      const server = createServer((req: IncomingMessage, res) => {
        resolve(authRequestFrom(req));
        res.end();
        server.close();
      });
      server.listen(0, '127.0.0.1', () => {
        const addr = server.address();
        if (addr === null || typeof addr === 'string') return reject(new Error('no port'));
        request({ host: '127.0.0.1', port: addr.port, headers: { authorization: 'Bearer t' } }, (res) => res.resume()).on('error', reject).end();
      });
    });
    expect(seen.socket).toBeUndefined();
    expect(bearerToken(seen.headers)).toBe('t');
  });
});
