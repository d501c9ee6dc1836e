/**
 * ServiceAccount tokens, as upstream's bound service account tokens: JWTs signed RS256 by the control
 * plane's key (`<data-dir>/pki/sa.key`, RSA 2048, made at first start as kubeadm does), with
 *   iss  the issuer (default https://kubernetes.default.svc.cluster.local, upstream's kubeadm default)
 *   sub  system:serviceaccount:<namespace>:<name>
 *   aud  the audiences asked for, else the API audience (= the issuer)
 *   iat, nbf, exp, jti
 *   kubernetes.io: { namespace, serviceaccount: {name, uid}, pod|secret: {name, uid}, node: {name} }
 * and `kid` = base64url(SHA-256 of the public key's DER), as upstream computes it.
 *
 * A token authenticates (ServiceAccountTokenAuthenticator) while its signature, issuer, API audience
 * and times hold (60 s of leeway for clock skew, as upstream) AND its service account still exists
 * with the same uid, AND the object it is bound to (a Pod or Secret) still exists with the same uid
 * and is not past its deletion time. So deleting the pod revokes its token at once.
 * The user is system:serviceaccount:<ns>:<name> in groups system:serviceaccounts and
 * system:serviceaccounts:<ns>.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomUUID, sign, verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { bearerToken, withAuthenticatedGroup } from './types.js';
import type { AuthRequest, Authenticator, UserInfo } from './types.js';

export const DEFAULT_ISSUER = 'https://kubernetes.default.svc.cluster.local';
export const SA_KEY_FILE = 'sa.key';
export const SA_PUB_FILE = 'sa.pub';
const LEEWAY_S = 60;

export interface ServiceAccountKey {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly keyId: string;
}

const b64url = (b: Buffer | string): string => Buffer.from(b).toString('base64url');

export function keyIdOf(publicKey: KeyObject): string {
  return b64url(createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest());
}

/** Reads `<pkiDir>/sa.key` or makes it (and sa.pub) when missing. */
export async function loadOrCreateServiceAccountKey(pkiDir: string): Promise<ServiceAccountKey> {
  const keyPath = join(pkiDir, SA_KEY_FILE);
  let pem: string;
  try {
    pem = await readFile(keyPath, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
    pem = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    await mkdir(pkiDir, { recursive: true, mode: 0o700 });
    await writeFile(keyPath, pem, { mode: 0o600, flag: 'wx' });
    await writeFile(join(pkiDir, SA_PUB_FILE), pair.publicKey.export({ type: 'spki', format: 'pem' }).toString(), { mode: 0o644 });
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
  } catch (err) {
    throw new Error(`${keyPath} is not a usable private key: ${(err as Error).message}`);
  }
  if (privateKey.asymmetricKeyType !== 'rsa') throw new Error(`${keyPath} must be an RSA key (RS256), not ${privateKey.asymmetricKeyType ?? 'unknown'}`);
  const publicKey = createPublicKey(privateKey);
  return { privateKey, publicKey, keyId: keyIdOf(publicKey) };
}

export interface BoundObject {
  readonly kind: 'Pod' | 'Secret';
  readonly name: string;
  readonly uid: string;
  /** For a Pod: the node it runs on (recorded as upstream does). */
  readonly nodeName?: string;
}

export interface TokenClaims {
  readonly iss: string;
  readonly sub: string;
  readonly aud: readonly string[];
  readonly iat: number;
  readonly nbf: number;
  readonly exp: number;
  readonly jti: string;
  readonly 'kubernetes.io': {
    readonly namespace: string;
    readonly serviceaccount: { readonly name: string; readonly uid: string };
    readonly pod?: { readonly name: string; readonly uid: string };
    readonly secret?: { readonly name: string; readonly uid: string };
    readonly node?: { readonly name: string };
  };
}

export interface IssueRequest {
  readonly namespace: string;
  readonly serviceAccount: { readonly name: string; readonly uid: string };
  readonly audiences: readonly string[];
  readonly expirationSeconds: number;
  readonly bound?: BoundObject;
  readonly nowMs: number;
}

export class TokenIssuer {
  constructor(
    private readonly key: ServiceAccountKey,
    readonly issuer: string = DEFAULT_ISSUER,
  ) {}

  /** The audience API requests must carry (upstream's default --api-audiences: the issuer). */
  get apiAudience(): string {
    return this.issuer;
  }

  get publicKey(): KeyObject {
    return this.key.publicKey;
  }

  issue(r: IssueRequest): { token: string; claims: TokenClaims } {
    const now = Math.floor(r.nowMs / 1000);
    const k8s: TokenClaims['kubernetes.io'] = {
      namespace: r.namespace,
      serviceaccount: { name: r.serviceAccount.name, uid: r.serviceAccount.uid },
      ...(r.bound?.kind === 'Pod' ? { pod: { name: r.bound.name, uid: r.bound.uid } } : {}),
      ...(r.bound?.kind === 'Secret' ? { secret: { name: r.bound.name, uid: r.bound.uid } } : {}),
      ...(r.bound?.nodeName !== undefined && r.bound.nodeName !== '' ? { node: { name: r.bound.nodeName } } : {}),
    };
    const claims: TokenClaims = {
      iss: this.issuer,
      sub: `system:serviceaccount:${r.namespace}:${r.serviceAccount.name}`,
      aud: [...r.audiences],
      iat: now,
      nbf: now,
      exp: now + r.expirationSeconds,
      jti: randomUUID(),
      'kubernetes.io': k8s,
    };
    const header = b64url(JSON.stringify({ alg: 'RS256', kid: this.key.keyId }));
    const body = b64url(JSON.stringify(claims));
    const signature = sign('sha256', Buffer.from(`${header}.${body}`), this.key.privateKey);
    return { token: `${header}.${body}.${b64url(signature)}`, claims };
  }
}

/** The claims of a token signed by `publicKey`, or undefined when it is not one (wrong shape, algorithm or signature). */
export function verifiedClaims(token: string, publicKey: KeyObject): Partial<TokenClaims> | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  const [h = '', b = '', s = ''] = parts;
  try {
    const header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8')) as { alg?: unknown };
    if (header.alg !== 'RS256') return undefined;
    if (!verify('sha256', Buffer.from(`${h}.${b}`), publicKey, Buffer.from(s, 'base64url'))) return undefined;
    const claims = JSON.parse(Buffer.from(b, 'base64url').toString('utf8')) as unknown;
    return typeof claims === 'object' && claims !== null ? (claims as Partial<TokenClaims>) : undefined;
  } catch {
    return undefined;
  }
}

interface StoredObject {
  readonly metadata?: { readonly uid?: string; readonly deletionTimestamp?: string };
}

export interface ServiceAccountLookup {
  /** The object, or undefined when it does not exist. */
  get(resource: 'serviceaccounts' | 'pods' | 'secrets', namespace: string, name: string): Promise<StoredObject | undefined>;
}

/** Tokens whose signature was checked, kept (oldest dropped first) so a client's next request skips the RSA verify. */
export const VERIFIED_TOKEN_CACHE_SIZE = 4096;

export class ServiceAccountTokenAuthenticator implements Authenticator {
  /**
   * Token -> its verified claims. A token's claims never change, so this cache alters no decision:
   * times, the service account and the bound object are still checked on every request (deleting the
   * pod revokes at once). It saves the signature check (~25 us of a ~90 us request on the project VM).
   */
  private readonly verified = new Map<string, Partial<TokenClaims>>();

  constructor(
    private readonly issuer: TokenIssuer,
    private readonly lookup: ServiceAccountLookup,
    private readonly now: () => number = Date.now,
  ) {}

  /** How many verified tokens are cached (tests). */
  get cachedTokens(): number {
    return this.verified.size;
  }

  private claimsOf(token: string): Partial<TokenClaims> | undefined {
    const hit = this.verified.get(token);
    if (hit !== undefined) return hit;
    const c = verifiedClaims(token, this.issuer.publicKey);
    if (c === undefined) return undefined;
    if (this.verified.size >= VERIFIED_TOKEN_CACHE_SIZE) {
      const oldest = this.verified.keys().next().value;
      if (oldest !== undefined) this.verified.delete(oldest);
    }
    this.verified.set(token, c);
    return c;
  }

  async authenticate(req: AuthRequest): Promise<UserInfo | undefined> {
    const token = bearerToken(req.headers);
    if (token === undefined || token.split('.').length !== 3) return undefined;
    const c = this.claimsOf(token);
    if (c === undefined || c.iss !== this.issuer.issuer) return undefined;
    const aud = Array.isArray(c.aud) ? c.aud : typeof c.aud === 'string' ? [c.aud] : [];
    if (!aud.includes(this.issuer.apiAudience)) return undefined;
    const now = Math.floor(this.now() / 1000);
    if (typeof c.exp !== 'number' || c.exp + LEEWAY_S < now) return undefined;
    if (typeof c.nbf === 'number' && c.nbf - LEEWAY_S > now) return undefined;
    const k8s = c['kubernetes.io'];
    const ns = k8s?.namespace;
    const sa = k8s?.serviceaccount;
    if (typeof ns !== 'string' || typeof sa?.name !== 'string' || c.sub !== `system:serviceaccount:${ns}:${sa.name}`) return undefined;
    const account = await this.lookup.get('serviceaccounts', ns, sa.name);
    if (account === undefined || account.metadata?.uid !== sa.uid) return undefined;
    const bound = k8s?.pod !== undefined ? (['pods', k8s.pod] as const) : k8s?.secret !== undefined ? (['secrets', k8s.secret] as const) : undefined;
    if (bound !== undefined) {
      const obj = await this.lookup.get(bound[0], ns, bound[1].name);
      if (obj === undefined || obj.metadata?.uid !== bound[1].uid) return undefined;
      const deleting = obj.metadata?.deletionTimestamp;
      if (deleting !== undefined && Date.parse(deleting) / 1000 < now) return undefined;
    }
    return withAuthenticatedGroup({
      name: `system:serviceaccount:${ns}:${sa.name}`,
      groups: ['system:serviceaccounts', `system:serviceaccounts:${ns}`],
      ...(sa.uid !== undefined ? { uid: sa.uid } : {}),
    });
  }
}
