import { describe, expect, it } from 'vitest';
import { constantTimeEqual, StaticTokenAuthenticator } from './static-token.js';

describe('StaticTokenAuthenticator', () => {
  const auth = new StaticTokenAuthenticator(
    new Map([
      ['loopback-secret', { name: 'system:apiserver', groups: ['system:masters'], uid: 'u-1' }],
      ['', { name: 'empty-token-user', groups: [] }],
    ]),
  );

  it.each([
    ['the right token', 'Bearer loopback-secret', { name: 'system:apiserver', groups: ['system:masters', 'system:authenticated'], uid: 'u-1' }],
    ['a lower-case scheme and extra spaces', '  bearer loopback-secret  ', { name: 'system:apiserver', groups: ['system:masters', 'system:authenticated'], uid: 'u-1' }],
    ['a wrong token', 'Bearer loopback-secreT', undefined],
    ['a prefix of the token', 'Bearer loopback', undefined],
    ['an empty token, which never matches', 'Bearer ', undefined],
    ['another scheme', 'Basic loopback-secret', undefined],
  ])('with %s', async (_name, authorization, expected) => {
    expect(await auth.authenticate({ headers: { authorization } })).toEqual(expected);
  });

  it('accepts a plain record of tokens', async () => {
    const a = new StaticTokenAuthenticator({ t: { name: 'bob', groups: [] } });
    expect((await a.authenticate({ headers: { authorization: 'Bearer t' } }))?.name).toBe('bob');
  });

  it.each([
    ['abc', 'abc', true],
    ['abc', 'abd', false],
    ['abc', 'abcd', false],
    ['', '', true],
  ])('constantTimeEqual(%j, %j) is %s', (a, b, eq) => {
    expect(constantTimeEqual(a, b)).toBe(eq);
  });
});
