import { createPublicKey, generateKeyPairSync, sign } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../../lib/clock.js';
import {
  DEFAULT_ISSUER,
  keyIdOf,
  loadOrCreateServiceAccountKey,
  SA_KEY_FILE,
  SA_PUB_FILE,
  ServiceAccountTokenAuthenticator,
  VERIFIED_TOKEN_CACHE_SIZE,
  TokenIssuer,
  verifiedClaims,
} from './service-account.js';
import type { IssueRequest, ServiceAccountKey, ServiceAccountLookup } from './service-account.js';

const b64url = (s: string | Buffer): string => Buffer.from(s).toString('base64url');
const decodePart = (part: string): Record<string, unknown> => JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;

function keyPair(): ServiceAccountKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { privateKey, publicKey, keyId: keyIdOf(publicKey) };
}

let KEY: ServiceAccountKey;
let OTHER: ServiceAccountKey;
beforeAll(() => {
  KEY = keyPair();
  OTHER = keyPair();
});

describe('loadOrCreateServiceAccountKey', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'knode-sa-key-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('creates sa.key (0600, PKCS#8 RSA) and sa.pub in a missing directory, then loads the same key', async () => {
    const pki = join(dir, 'pki');
    const first = await loadOrCreateServiceAccountKey(pki);
    expect(first.privateKey.asymmetricKeyType).toBe('rsa');
    expect(first.privateKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
    const keyStat = await stat(join(pki, SA_KEY_FILE));
    expect(keyStat.mode & 0o777).toBe(0o600);
    const keyPem = await readFile(join(pki, SA_KEY_FILE), 'utf8');
    expect(keyPem).toContain('-----BEGIN PRIVATE KEY-----');
    const pubPem = await readFile(join(pki, SA_PUB_FILE), 'utf8');
    expect(pubPem).toContain('-----BEGIN PUBLIC KEY-----');
    // sa.pub is the public half of sa.key
    expect(keyIdOf(createPublicKey(pubPem))).toBe(first.keyId);
    expect(first.keyId).toBe(keyIdOf(first.publicKey));
    expect(first.keyId).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const second = await loadOrCreateServiceAccountKey(pki);
    expect(second.keyId).toBe(first.keyId);
    expect(await readFile(join(pki, SA_KEY_FILE), 'utf8')).toBe(keyPem);
    // a token from the first load verifies with the second
    const token = new TokenIssuer(first).issue({
      namespace: 'ns',
      serviceAccount: { name: 'sa', uid: 'u' },
      audiences: [DEFAULT_ISSUER],
      expirationSeconds: 600,
      nowMs: 0,
    }).token;
    expect(verifiedClaims(token, second.publicKey)?.sub).toBe('system:serviceaccount:ns:sa');
  });

  it('loads an existing RSA key it did not make', async () => {
    await writeFile(join(dir, SA_KEY_FILE), KEY.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
    expect((await loadOrCreateServiceAccountKey(dir)).keyId).toBe(KEY.keyId);
  });

  it('refuses a non-RSA key, naming the file', async () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    await writeFile(join(dir, SA_KEY_FILE), ec.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
    await expect(loadOrCreateServiceAccountKey(dir)).rejects.toThrow(join(dir, SA_KEY_FILE));
    await expect(loadOrCreateServiceAccountKey(dir)).rejects.toThrow(/must be an RSA key.*not ec/);
  });

  it('refuses a garbage key file, naming the file, and does not overwrite it', async () => {
    await writeFile(join(dir, SA_KEY_FILE), 'not a key at all\n');
    await expect(loadOrCreateServiceAccountKey(dir)).rejects.toThrow(`${join(dir, SA_KEY_FILE)} is not a usable private key`);
    expect(await readFile(join(dir, SA_KEY_FILE), 'utf8')).toBe('not a key at all\n');
  });
});

const NOW_MS = Date.UTC(2026, 0, 1, 12, 0, 0);
const NOW_S = NOW_MS / 1000;

function request(over: Partial<IssueRequest> = {}): IssueRequest {
  return {
    namespace: 'team-a',
    serviceAccount: { name: 'builder', uid: 'sa-uid-1' },
    audiences: [DEFAULT_ISSUER],
    expirationSeconds: 3600,
    bound: { kind: 'Pod', name: 'web-0', uid: 'pod-uid-1', nodeName: 'node-1' },
    nowMs: NOW_MS,
    ...over,
  };
}

describe('TokenIssuer and verifiedClaims', () => {
  it('issues an RS256 JWT with the key id whose verified claims are the issued ones', () => {
    const issuer = new TokenIssuer(KEY);
    expect(issuer.issuer).toBe(DEFAULT_ISSUER);
    expect(issuer.apiAudience).toBe(DEFAULT_ISSUER);
    const { token, claims } = issuer.issue(request({ nowMs: NOW_MS + 999 }));
    const parts = token.split('.');
    expect(parts).toHaveLength(3);
    expect(decodePart(parts[0] ?? '')).toEqual({ alg: 'RS256', kid: KEY.keyId });
    expect(claims).toEqual({
      iss: DEFAULT_ISSUER,
      sub: 'system:serviceaccount:team-a:builder',
      aud: [DEFAULT_ISSUER],
      iat: NOW_S,
      nbf: NOW_S,
      exp: NOW_S + 3600,
      jti: expect.stringMatching(/^[0-9a-f-]{36}$/) as unknown as string,
      'kubernetes.io': {
        namespace: 'team-a',
        serviceaccount: { name: 'builder', uid: 'sa-uid-1' },
        pod: { name: 'web-0', uid: 'pod-uid-1' },
        node: { name: 'node-1' },
      },
    });
    expect(verifiedClaims(token, KEY.publicKey)).toEqual(claims);
  });

  it('records a bound secret, several audiences, no node for an empty nodeName, and a fresh jti each time', () => {
    const issuer = new TokenIssuer(KEY, 'https://issuer.example');
    const r = request({ audiences: ['vault', 'https://issuer.example'], bound: { kind: 'Secret', name: 's', uid: 'sec-uid', nodeName: '' }, expirationSeconds: 600 });
    const a = issuer.issue(r);
    const b = issuer.issue(r);
    expect(a.claims.iss).toBe('https://issuer.example');
    expect(a.claims.aud).toEqual(['vault', 'https://issuer.example']);
    expect(a.claims.exp - a.claims.iat).toBe(600);
    expect(a.claims['kubernetes.io']).toEqual({ namespace: 'team-a', serviceaccount: { name: 'builder', uid: 'sa-uid-1' }, secret: { name: 's', uid: 'sec-uid' } });
    expect(a.claims.jti).not.toBe(b.claims.jti);
    const { bound: _b, ...unbound } = request();
    expect(issuer.issue(unbound).claims['kubernetes.io']).toEqual({ namespace: 'team-a', serviceaccount: { name: 'builder', uid: 'sa-uid-1' } });
  });

  it('rejects a token signed by another key', () => {
    const { token } = new TokenIssuer(OTHER).issue(request());
    expect(verifiedClaims(token, KEY.publicKey)).toBeUndefined();
  });

  it('rejects a tampered payload and a tampered signature', () => {
    const { token } = new TokenIssuer(KEY).issue(request());
    const [h = '', b = '', s = ''] = token.split('.');
    const body = decodePart(b);
    const forged = b64url(JSON.stringify({ ...body, sub: 'system:serviceaccount:kube-system:admin' }));
    expect(verifiedClaims(`${h}.${forged}.${s}`, KEY.publicKey)).toBeUndefined();
    const sig = Buffer.from(s, 'base64url');
    sig[0] = (sig[0] ?? 0) ^ 0xff;
    expect(verifiedClaims(`${h}.${b}.${b64url(sig)}`, KEY.publicKey)).toBeUndefined();
  });

  it('rejects alg none and HS256 headers, even over a valid RS256 signature of the same input', () => {
    const { token } = new TokenIssuer(KEY).issue(request());
    const [, b = ''] = token.split('.');
    for (const alg of ['none', 'HS256', 'rs256']) {
      const h = b64url(JSON.stringify({ alg, kid: KEY.keyId }));
      const realSig = b64url(sign('sha256', Buffer.from(`${h}.${b}`), KEY.privateKey));
      expect(verifiedClaims(`${h}.${b}.${realSig}`, KEY.publicKey)).toBeUndefined();
      expect(verifiedClaims(`${h}.${b}.`, KEY.publicKey)).toBeUndefined();
    }
    // HS256 keyed with the public key's PEM (the classic algorithm-confusion attack)
    const h = b64url(JSON.stringify({ alg: 'HS256' }));
    expect(verifiedClaims(`${h}.${b}.${b64url('x')}`, KEY.publicKey)).toBeUndefined();
  });

  it.each([
    ['two parts', (t: string) => t.split('.').slice(0, 2).join('.')],
    ['four parts', (t: string) => `${t}.x`],
    ['empty', () => ''],
    ['a bootstrap token', () => 'abcdef.0123456789abcdef'],
    ['garbage header', (t: string) => `!!!.${t.split('.').slice(1).join('.')}`],
  ])('rejects %s', (_name, mangle) => {
    const { token } = new TokenIssuer(KEY).issue(request());
    expect(verifiedClaims(mangle(token), KEY.publicKey)).toBeUndefined();
  });

  it('rejects a signed payload that is not a JSON object', () => {
    const h = b64url(JSON.stringify({ alg: 'RS256' }));
    for (const payload of ['42', 'null', 'not json']) {
      const b = b64url(payload);
      const s = b64url(sign('sha256', Buffer.from(`${h}.${b}`), KEY.privateKey));
      expect(verifiedClaims(`${h}.${b}.${s}`, KEY.publicKey)).toBeUndefined();
    }
  });
});

interface Obj {
  metadata: { uid: string; deletionTimestamp?: string };
}

class FakeLookup implements ServiceAccountLookup {
  readonly objects = new Map<string, Obj>();
  readonly calls: string[] = [];
  set(resource: string, ns: string, name: string, obj: Obj | undefined): void {
    if (obj === undefined) this.objects.delete(`${resource}/${ns}/${name}`);
    else this.objects.set(`${resource}/${ns}/${name}`, obj);
  }
  get(resource: 'serviceaccounts' | 'pods' | 'secrets', namespace: string, name: string): Promise<Obj | undefined> {
    const key = `${resource}/${namespace}/${name}`;
    this.calls.push(key);
    return Promise.resolve(this.objects.get(key));
  }
}

const bearer = (token: string): { headers: Record<string, string> } => ({ headers: { authorization: `Bearer ${token}` } });

describe('ServiceAccountTokenAuthenticator', () => {
  let clock: FakeClock;
  let lookup: FakeLookup;
  let issuer: TokenIssuer;
  let auth: ServiceAccountTokenAuthenticator;

  beforeEach(() => {
    clock = new FakeClock(NOW_MS);
    lookup = new FakeLookup();
    lookup.set('serviceaccounts', 'team-a', 'builder', { metadata: { uid: 'sa-uid-1' } });
    lookup.set('pods', 'team-a', 'web-0', { metadata: { uid: 'pod-uid-1' } });
    lookup.set('secrets', 'team-a', 's', { metadata: { uid: 'sec-uid' } });
    issuer = new TokenIssuer(KEY);
    auth = new ServiceAccountTokenAuthenticator(issuer, lookup, () => clock.now().getTime());
  });

  const tokenFor = (over: Partial<IssueRequest> = {}, by: TokenIssuer = issuer): string => by.issue(request(over)).token;

  const USER = {
    name: 'system:serviceaccount:team-a:builder',
    groups: ['system:serviceaccounts', 'system:serviceaccounts:team-a', 'system:authenticated'],
    uid: 'sa-uid-1',
  };

  it('authenticates a valid pod-bound token as the service account, checking the account and the pod', async () => {
    expect(await auth.authenticate(bearer(tokenFor()))).toEqual(USER);
    expect(lookup.calls).toEqual(['serviceaccounts/team-a/builder', 'pods/team-a/web-0']);
  });

  it('authenticates unbound and secret-bound tokens, and tokens with extra audiences', async () => {
    const { bound: _b, ...unbound } = request();
    expect(await auth.authenticate(bearer(issuer.issue(unbound).token))).toEqual(USER);
    expect(await auth.authenticate(bearer(tokenFor({ bound: { kind: 'Secret', name: 's', uid: 'sec-uid' } })))).toEqual(USER);
    expect(await auth.authenticate(bearer(tokenFor({ audiences: ['vault', DEFAULT_ISSUER] })))).toEqual(USER);
  });

  it('checks a token\'s signature once; the cached claims change no decision (revocation, expiry, bad tokens)', async () => {
    const token = tokenFor({ expirationSeconds: 600 });
    expect(await auth.authenticate(bearer(token))).toEqual(USER);
    expect(auth.cachedTokens).toBe(1);
    expect(await auth.authenticate(bearer(token))).toEqual(USER);
    expect(auth.cachedTokens).toBe(1);
    // the pod goes: refused at once, though the claims are cached
    lookup.set('pods', 'team-a', 'web-0', undefined);
    expect(await auth.authenticate(bearer(token))).toBeUndefined();
    lookup.set('pods', 'team-a', 'web-0', { metadata: { uid: 'pod-uid-1' } });
    expect(await auth.authenticate(bearer(token))).toEqual(USER);
    // times are still checked per request
    await clock.advance(661_000);
    expect(await auth.authenticate(bearer(token))).toBeUndefined();
    // a token that fails its check is not kept
    const [h = '', b = ''] = tokenFor().split('.');
    expect(await auth.authenticate(bearer(`${h}.${b}.AAAA`))).toBeUndefined();
    expect(auth.cachedTokens).toBe(1);
  });

  it('keeps at most VERIFIED_TOKEN_CACHE_SIZE tokens, dropping the oldest', async () => {
    for (let i = 0; i < VERIFIED_TOKEN_CACHE_SIZE + 5; i++) await auth.authenticate(bearer(tokenFor()));
    expect(auth.cachedTokens).toBe(VERIFIED_TOKEN_CACHE_SIZE);
  });

  it('refuses a token of another issuer, even signed with the same key', async () => {
    expect(await auth.authenticate(bearer(tokenFor({}, new TokenIssuer(KEY, 'https://elsewhere.example'))))).toBeUndefined();
  });

  it('refuses a token signed by another key', async () => {
    expect(await auth.authenticate(bearer(tokenFor({}, new TokenIssuer(OTHER))))).toBeUndefined();
  });

  it('refuses a token without the API audience', async () => {
    expect(await auth.authenticate(bearer(tokenFor({ audiences: ['vault'] })))).toBeUndefined();
    expect(await auth.authenticate(bearer(tokenFor({ audiences: [] })))).toBeUndefined();
    expect(lookup.calls).toEqual([]);
  });

  it('accepts an expired token within the 60 s leeway and refuses it beyond', async () => {
    const token = tokenFor({ expirationSeconds: 600 });
    await clock.advance(600_000);
    expect(await auth.authenticate(bearer(token))).toEqual(USER);
    await clock.advance(60_000);
    expect(await auth.authenticate(bearer(token))).toEqual(USER);
    await clock.advance(1_000);
    expect(await auth.authenticate(bearer(token))).toBeUndefined();
  });

  it('accepts a token from slightly in the future (nbf within leeway) and refuses one beyond', async () => {
    expect(await auth.authenticate(bearer(tokenFor({ nowMs: NOW_MS + 60_000 })))).toEqual(USER);
    expect(await auth.authenticate(bearer(tokenFor({ nowMs: NOW_MS + 61_000 })))).toBeUndefined();
  });

  it('refuses the token once its service account is deleted, or recreated with another uid', async () => {
    const token = tokenFor();
    lookup.set('serviceaccounts', 'team-a', 'builder', undefined);
    expect(await auth.authenticate(bearer(token))).toBeUndefined();
    lookup.set('serviceaccounts', 'team-a', 'builder', { metadata: { uid: 'sa-uid-2' } });
    expect(await auth.authenticate(bearer(token))).toBeUndefined();
  });

  it('refuses the token once its pod is deleted, or recreated with another uid', async () => {
    const token = tokenFor();
    lookup.set('pods', 'team-a', 'web-0', undefined);
    expect(await auth.authenticate(bearer(token))).toBeUndefined();
    lookup.set('pods', 'team-a', 'web-0', { metadata: { uid: 'pod-uid-2' } });
    expect(await auth.authenticate(bearer(token))).toBeUndefined();
  });

  it('refuses the token of a deleted or recreated bound secret', async () => {
    const token = tokenFor({ bound: { kind: 'Secret', name: 's', uid: 'sec-uid' } });
    lookup.set('secrets', 'team-a', 's', { metadata: { uid: 'sec-uid-2' } });
    expect(await auth.authenticate(bearer(token))).toBeUndefined();
    lookup.set('secrets', 'team-a', 's', undefined);
    expect(await auth.authenticate(bearer(token))).toBeUndefined();
  });

  it('keeps the token of a gracefully deleting pod valid until its deletion time, then refuses it', async () => {
    const token = tokenFor();
    lookup.set('pods', 'team-a', 'web-0', { metadata: { uid: 'pod-uid-1', deletionTimestamp: new Date(NOW_MS + 30_000).toISOString() } });
    expect(await auth.authenticate(bearer(token))).toEqual(USER);
    await clock.advance(31_000);
    expect(await auth.authenticate(bearer(token))).toBeUndefined();
  });

  it('refuses the token of a pod whose deletionTimestamp is in the past', async () => {
    lookup.set('pods', 'team-a', 'web-0', { metadata: { uid: 'pod-uid-1', deletionTimestamp: '2025-12-31T00:00:00Z' } });
    expect(await auth.authenticate(bearer(tokenFor()))).toBeUndefined();
  });

  it('ignores non-JWT bearer tokens (a bootstrap token) and requests without one, without any lookup', async () => {
    expect(await auth.authenticate(bearer('abcdef.0123456789abcdef'))).toBeUndefined();
    expect(await auth.authenticate(bearer('static-token'))).toBeUndefined();
    expect(await auth.authenticate({ headers: {} })).toBeUndefined();
    expect(await auth.authenticate({ headers: { authorization: `Basic ${b64url('a:b')}` } })).toBeUndefined();
    expect(lookup.calls).toEqual([]);
  });

  it('refuses a validly signed token whose sub does not match its kubernetes.io claims, or lacks exp', async () => {
    const h = b64url(JSON.stringify({ alg: 'RS256', kid: KEY.keyId }));
    const signed = (claims: object): string => {
      const b = b64url(JSON.stringify(claims));
      return `${h}.${b}.${b64url(sign('sha256', Buffer.from(`${h}.${b}`), KEY.privateKey))}`;
    };
    const good = issuer.issue(request()).claims;
    expect(await auth.authenticate(bearer(signed(good)))).toEqual(USER);
    expect(await auth.authenticate(bearer(signed({ ...good, sub: 'system:serviceaccount:kube-system:admin' })))).toBeUndefined();
    const { exp: _e, ...noExp } = good;
    expect(await auth.authenticate(bearer(signed(noExp)))).toBeUndefined();
    // a single-string aud is accepted, as JWT allows
    expect(await auth.authenticate(bearer(signed({ ...good, aud: DEFAULT_ISSUER })))).toEqual(USER);
  });
});
