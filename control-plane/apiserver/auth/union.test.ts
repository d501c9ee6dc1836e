import { describe, expect, it } from 'vitest';
import { UnionAuthenticator } from './union.js';
import type { Authenticator, UserInfo } from './types.js';

const answers = (user: UserInfo | undefined, calls: string[], tag: string): Authenticator => ({
  authenticate: async () => {
    calls.push(tag);
    return user;
  },
});
const fails = (calls: string[], tag: string): Authenticator => ({
  authenticate: async () => {
    calls.push(tag);
    throw new Error(`${tag} failed`);
  },
});

describe('UnionAuthenticator', () => {
  it('returns the first accepted user with system:authenticated and asks no further', async () => {
    const calls: string[] = [];
    const union = new UnionAuthenticator([answers(undefined, calls, 'a'), answers({ name: 'bob', groups: ['g'] }, calls, 'b'), answers({ name: 'eve', groups: [] }, calls, 'c')]);
    expect(await union.authenticate({ headers: {} })).toEqual({ name: 'bob', groups: ['g', 'system:authenticated'] });
    expect(calls).toEqual(['a', 'b']);
  });

  it('does not add system:authenticated twice', async () => {
    const union = new UnionAuthenticator([answers({ name: 'bob', groups: ['system:authenticated'] }, [], 'a')]);
    expect((await union.authenticate({ headers: {} }))?.groups).toEqual(['system:authenticated']);
  });

  it('still accepts a later credential when an earlier authenticator fails', async () => {
    const calls: string[] = [];
    const union = new UnionAuthenticator([fails(calls, 'a'), answers({ name: 'bob', groups: [] }, calls, 'b')]);
    expect((await union.authenticate({ headers: {} }))?.name).toBe('bob');
  });

  it('rethrows the first failure when nobody accepts', async () => {
    const calls: string[] = [];
    const union = new UnionAuthenticator([fails(calls, 'a'), fails(calls, 'b'), answers(undefined, calls, 'c')]);
    await expect(union.authenticate({ headers: {} })).rejects.toThrow('a failed');
    expect(calls).toEqual(['a', 'b', 'c']);
  });

  it('answers undefined when nobody accepts and nothing failed', async () => {
    expect(await new UnionAuthenticator([]).authenticate({ headers: {} })).toBeUndefined();
  });
});
