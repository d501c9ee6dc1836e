import { describe, expect, it } from 'vitest';
import { ClientCertAuthenticator, userFromSubject } from './client-cert.js';
import type { PeerCertificateSubject, TlsPeerInfo } from './types.js';

const socket = (authorized: boolean, subject?: PeerCertificateSubject): TlsPeerInfo => ({
  authorized,
  getPeerCertificate: () => (subject === undefined ? {} : { subject }),
});

describe('ClientCertAuthenticator', () => {
  const auth = new ClientCertAuthenticator();

  it.each([
    ['a single O', socket(true, { CN: 'kubernetes-admin', O: 'system:masters' }), { name: 'kubernetes-admin', groups: ['system:masters', 'system:authenticated'] }],
    ['several O', socket(true, { CN: 'system:node:n1', O: ['system:nodes', 'x'] }), { name: 'system:node:n1', groups: ['system:nodes', 'x', 'system:authenticated'] }],
    ['no O', socket(true, { CN: 'alice' }), { name: 'alice', groups: ['system:authenticated'] }],
    ['an empty CN', socket(true, { CN: '', O: 'g' }), undefined],
    ['no CN', socket(true, { O: 'g' }), undefined],
    ['a certificate the handshake did not verify', socket(false, { CN: 'mallory', O: 'system:masters' }), undefined],
    ['no certificate', socket(true), undefined],
    ['a plain TCP socket', {}, undefined],
  ])('with %s', async (_name, s, expected) => {
    expect(await auth.authenticate({ socket: s, headers: {} })).toEqual(expected);
  });

  it('reads a connection\'s certificate once, and each connection its own', async () => {
    let reads = 0;
    const counted = (subject: PeerCertificateSubject): TlsPeerInfo => ({
      authorized: true,
      getPeerCertificate: () => {
        reads++;
        return { subject };
      },
    });
    const a = counted({ CN: 'alice' });
    const b = counted({ CN: 'bob' });
    const fresh = new ClientCertAuthenticator();
    for (let i = 0; i < 3; i++) expect((await fresh.authenticate({ socket: a, headers: {} }))?.name).toBe('alice');
    expect((await fresh.authenticate({ socket: b, headers: {} }))?.name).toBe('bob');
    expect(reads).toBe(2);
    const nobody = counted({ CN: '' });
    expect(await fresh.authenticate({ socket: nobody, headers: {} })).toBeUndefined();
    expect(await fresh.authenticate({ socket: nobody, headers: {} })).toBeUndefined();
    expect(reads).toBe(3);
  });

  it('answers undefined for a request without a socket', async () => {
    expect(await auth.authenticate({ headers: {} })).toBeUndefined();
  });

  it('userFromSubject takes the first CN when a subject carries several', () => {
    expect(userFromSubject({ CN: ['a', 'b'] })?.name).toBe('a');
  });
});
