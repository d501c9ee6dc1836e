import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../api/meta.js';
import {
  BootstrapTokenAuthenticator,
  bootstrapTokenExpired,
  bootstrapTokenSecret,
  evaluateBootstrapToken,
  generateBootstrapToken,
  InvalidBootstrapTokenError,
  parseBootstrapToken,
  toSecretLike,
  type BootstrapRejection,
  type SecretLike,
} from './bootstrap-token.js';

const NOW = new Date('2026-05-01T10:00:00Z');
const TOKEN = 'abcdef.0123456789abcdef';
const PARSED = { id: 'abcdef', secret: '0123456789abcdef' };
const b64 = (s: string): string => Buffer.from(s).toString('base64');
const decode = (data: Readonly<Record<string, string>>): Record<string, string> =>
  Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]));

const VALID: SecretLike = bootstrapTokenSecret(TOKEN, {
  ttlSeconds: 3600,
  groups: ['system:bootstrappers:knode:nodes'],
  description: 'join',
  now: NOW,
});

function withData(patch: Record<string, string | undefined>): SecretLike {
  const data: Record<string, string> = { ...VALID.data };
  for (const [k, v] of Object.entries(patch)) {
    if (v === undefined) delete data[k];
    else data[k] = b64(v);
  }
  return { ...VALID, data };
}

describe('parseBootstrapToken', () => {
  it.each([
    [TOKEN, PARSED],
    ['ABCDEF.0123456789abcdef', undefined],
    ['abcde.0123456789abcdef', undefined],
    ['abcdef.0123456789abcde', undefined],
    ['abcdef0123456789abcdef', undefined],
    [`${TOKEN} `, undefined],
    ['', undefined],
  ])('parses %j as %j', (text, expected) => {
    expect(parseBootstrapToken(text)).toEqual(expected);
  });
});

describe('generateBootstrapToken', () => {
  it('makes well-formed tokens that differ each time', () => {
    const tokens = Array.from({ length: 50 }, () => generateBootstrapToken());
    for (const t of tokens) expect(parseBootstrapToken(t)).toBeDefined();
    expect(new Set(tokens).size).toBe(50);
  });
});

describe('bootstrapTokenSecret', () => {
  it('is the kube-system Secret upstream tooling expects, with base64 data', () => {
    const secret: KubeObject = bootstrapTokenSecret(TOKEN, { ttlSeconds: 3600, groups: ['system:bootstrappers:knode:nodes'], description: 'join', now: NOW });
    expect(secret).toMatchObject({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'bootstrap-token-abcdef', namespace: 'kube-system' },
      type: 'bootstrap.kubernetes.io/token',
    });
    expect(decode(VALID.data ?? {})).toEqual({
      'token-id': 'abcdef',
      'token-secret': '0123456789abcdef',
      'usage-bootstrap-authentication': 'true',
      'usage-bootstrap-signing': 'true',
      expiration: '2026-05-01T11:00:00Z',
      description: 'join',
      'auth-extra-groups': 'system:bootstrappers:knode:nodes',
    });
  });

  it('omits expiration when there is no TTL', () => {
    expect(decode(bootstrapTokenSecret(TOKEN).data)).not.toHaveProperty('expiration');
  });

  it.each([
    ['a malformed token', 'nope', {}],
    ['a group outside system:bootstrappers:', TOKEN, { groups: ['system:masters'] }],
    ['a group ending in a colon', TOKEN, { groups: ['system:bootstrappers:'] }],
  ])('refuses %s', (_name, token, opts) => {
    expect(() => bootstrapTokenSecret(token, opts)).toThrow(InvalidBootstrapTokenError);
  });
});

describe('evaluateBootstrapToken', () => {
  it('accepts a valid token as system:bootstrap:<id> with the bootstrap groups', () => {
    expect(evaluateBootstrapToken(PARSED, VALID, NOW)).toEqual({
      kind: 'accepted',
      user: {
        name: 'system:bootstrap:abcdef',
        groups: ['system:bootstrappers', 'system:bootstrappers:knode:nodes', 'system:authenticated'],
      },
    });
  });

  const cases: [string, SecretLike | undefined, BootstrapRejection | 'accepted'][] = [
    ['no Secret', undefined, 'not-found'],
    ['a Secret being deleted', { ...VALID, metadata: { deletionTimestamp: '2026-05-01T09:00:00Z' } }, 'being-deleted'],
    ['a Secret of another type', { ...VALID, type: 'Opaque' }, 'wrong-type'],
    ['a Secret without data', { type: 'bootstrap.kubernetes.io/token' }, 'wrong-type'],
    ['a different secret', withData({ 'token-secret': '0123456789abcdeX' }), 'wrong-secret'],
    ['a shorter secret', withData({ 'token-secret': '0123' }), 'wrong-secret'],
    ['a missing secret', withData({ 'token-secret': undefined }), 'wrong-secret'],
    ['a different id', withData({ 'token-id': 'zzzzzz' }), 'wrong-id'],
    ['an expiration in the past', withData({ expiration: '2026-05-01T09:59:59Z' }), 'expired'],
    ['an expiration of exactly now', withData({ expiration: '2026-05-01T10:00:00Z' }), 'expired'],
    ['an unreadable expiration', withData({ expiration: 'tomorrow' }), 'expired'],
    ['an expiration with an offset, still ahead', withData({ expiration: '2026-05-01T12:30:00+02:00' }), 'accepted'],
    ['no expiration at all', withData({ expiration: undefined }), 'accepted'],
    ['authentication usage off', withData({ 'usage-bootstrap-authentication': 'false' }), 'not-for-authentication'],
    ['authentication usage absent', withData({ 'usage-bootstrap-authentication': undefined }), 'not-for-authentication'],
    ['an extra group outside the bootstrap prefix', withData({ 'auth-extra-groups': 'system:masters' }), 'invalid-groups'],
  ];
  it.each(cases)('with %s: %s', (_name, secret, expected) => {
    const verdict = evaluateBootstrapToken(PARSED, secret, NOW);
    expect(verdict.kind === 'accepted' ? 'accepted' : verdict.reason).toBe(expected);
  });

  it('deduplicates and sorts extra groups, as upstream does', () => {
    const v = evaluateBootstrapToken(PARSED, withData({ 'auth-extra-groups': 'system:bootstrappers:b,system:bootstrappers:a,system:bootstrappers:b' }), NOW);
    expect(v.kind === 'accepted' && v.user.groups).toEqual(['system:bootstrappers', 'system:bootstrappers:a', 'system:bootstrappers:b', 'system:authenticated']);
  });

  it.each([' system:bootstrappers:a', 'system:bootstrappers:a,', 'system:bootstrappers'])('rejects the extra group list %j', (groups) => {
    expect(evaluateBootstrapToken(PARSED, withData({ 'auth-extra-groups': groups }), NOW)).toEqual({ kind: 'rejected', reason: 'invalid-groups' });
  });

  it('bootstrapTokenExpired treats a missing expiration as never', () => {
    expect(bootstrapTokenExpired({ data: {} }, new Date('2999-01-01T00:00:00Z'))).toBe(false);
  });
});

describe('BootstrapTokenAuthenticator', () => {
  function setup(secret: SecretLike | undefined, now = NOW) {
    const lookups: string[] = [];
    const rejections: string[] = [];
    const auth = new BootstrapTokenAuthenticator({
      lookupSecret: async (ns, name) => {
        lookups.push(`${ns}/${name}`);
        return secret;
      },
      now: () => now,
      onReject: (id, reason) => rejections.push(`${id}:${reason}`),
    });
    return { auth, lookups, rejections };
  }

  it('authenticates a bearer bootstrap token by its kube-system Secret', async () => {
    const { auth, lookups } = setup(VALID);
    const user = await auth.authenticate({ headers: { authorization: `Bearer ${TOKEN}` } });
    expect(user?.name).toBe('system:bootstrap:abcdef');
    expect(lookups).toEqual(['kube-system/bootstrap-token-abcdef']);
  });

  it('ignores other credentials without looking anything up', async () => {
    const { auth, lookups, rejections } = setup(VALID);
    for (const headers of [{}, { authorization: 'Bearer some-other-token' }, { authorization: `Basic ${TOKEN}` }]) {
      expect(await auth.authenticate({ headers })).toBeUndefined();
    }
    expect(lookups).toEqual([]);
    expect(rejections).toEqual([]);
  });

  it('refuses a wrong secret and reports the token id, not the secret', async () => {
    const { auth, rejections } = setup(VALID);
    expect(await auth.authenticate({ headers: { authorization: 'Bearer abcdef.ffffffffffffffff' } })).toBeUndefined();
    expect(rejections).toEqual(['abcdef:wrong-secret']);
  });

  it('refuses a token once its Secret has expired', async () => {
    const { auth, rejections } = setup(VALID, new Date(NOW.getTime() + 3601_000));
    expect(await auth.authenticate({ headers: { authorization: `Bearer ${TOKEN}` } })).toBeUndefined();
    expect(rejections).toEqual(['abcdef:expired']);
  });

  it('lets a failing lookup propagate, so the caller can tell an outage from a bad token', async () => {
    const auth = new BootstrapTokenAuthenticator({ lookupSecret: async () => Promise.reject(new Error('store down')) });
    await expect(auth.authenticate({ headers: { authorization: `Bearer ${TOKEN}` } })).rejects.toThrow('store down');
  });
});

describe('toSecretLike', () => {
  it('keeps the fields a stored Secret has and accepts it as such', () => {
    const stored: KubeObject = { ...bootstrapTokenSecret(TOKEN, { now: NOW }), metadata: { name: 'bootstrap-token-abcdef', uid: 'u' } };
    expect(evaluateBootstrapToken(PARSED, toSecretLike(stored), NOW).kind).toBe('accepted');
  });

  it('drops fields of the wrong type', () => {
    expect(toSecretLike({ metadata: { deletionTimestamp: 'x' }, type: 7, data: { a: 'YQ==', b: 1 } })).toEqual({
      metadata: { deletionTimestamp: 'x' },
      data: { a: 'YQ==' },
    });
    expect(toSecretLike({ metadata: {} })).toEqual({});
  });
});
