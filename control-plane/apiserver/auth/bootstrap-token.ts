/**
 * Bootstrap tokens, in upstream's format, so `kubeadm token`-style tooling and the kubelet's TLS
 * bootstrap work unchanged. A token `<id>.<secret>` (id [a-z0-9]{6}, secret [a-z0-9]{16}) is stored as
 * Secret `kube-system/bootstrap-token-<id>` of type `bootstrap.kubernetes.io/token`; a request bearing
 * it authenticates as `system:bootstrap:<id>` in `system:bootstrappers` plus the Secret's
 * auth-extra-groups, while the Secret allows authentication, has not expired and is not being deleted.
 *
 * The decision (evaluateBootstrapToken) is a pure function of token, Secret and time; the
 * authenticator adds only the Secret lookup, injected so this file has no storage dependency.
 * Cost: one Secret lookup per request that carries a well-formed bootstrap token.
 */
import { randomInt } from 'node:crypto';
import { KnodeError } from '../../../lib/errors.js';
import { constantTimeEqual } from './static-token.js';
import { bearerToken, withAuthenticatedGroup, type AuthRequest, type Authenticator, type UserInfo } from './types.js';

export const BOOTSTRAP_TOKEN_SECRET_TYPE = 'bootstrap.kubernetes.io/token';
export const BOOTSTRAP_TOKEN_SECRET_PREFIX = 'bootstrap-token-';
export const BOOTSTRAP_TOKEN_NAMESPACE = 'kube-system';
export const BOOTSTRAP_USER_PREFIX = 'system:bootstrap:';
export const BOOTSTRAP_GROUP = 'system:bootstrappers';
/** The group kubeadm gives node join tokens; the CSR approver and RBAC bindings key on it. */
export const DEFAULT_NODE_TOKEN_GROUP = 'system:bootstrappers:kubeadm:default-node-token';

export const TOKEN_ID_KEY = 'token-id';
export const TOKEN_SECRET_KEY = 'token-secret';
export const EXPIRATION_KEY = 'expiration';
export const DESCRIPTION_KEY = 'description';
export const EXTRA_GROUPS_KEY = 'auth-extra-groups';
export const USAGE_AUTHENTICATION_KEY = 'usage-bootstrap-authentication';
export const USAGE_SIGNING_KEY = 'usage-bootstrap-signing';

const TOKEN = /^([a-z0-9]{6})\.([a-z0-9]{16})$/;
const EXTRA_GROUP = /^system:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$/;
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

export class InvalidBootstrapTokenError extends KnodeError {
  constructor(detail: string) {
    super('ERR_BOOTSTRAP_TOKEN_INVALID', `invalid bootstrap token: ${detail}`);
  }
}

export interface BootstrapToken {
  readonly id: string;
  readonly secret: string;
}

/** The shape of a core/v1 Secret this file reads; a stored Secret object satisfies it. */
export interface SecretLike {
  readonly metadata?: { readonly name?: string; readonly namespace?: string; readonly deletionTimestamp?: string };
  readonly type?: string;
  /** Values are base64, as in the API. */
  readonly data?: Readonly<Record<string, string>>;
}

/**
 * Narrows a stored object of unknown shape (e.g. an api/meta KubeObject read from the store) to the
 * fields read here, dropping any that have the wrong type rather than trusting them.
 */
export function toSecretLike(obj: { readonly metadata?: { readonly deletionTimestamp?: string }; readonly [field: string]: unknown }): SecretLike {
  const data: Record<string, string> = {};
  const raw = obj['data'];
  if (typeof raw === 'object' && raw !== null) {
    for (const [k, v] of Object.entries(raw)) if (typeof v === 'string') data[k] = v;
  }
  const type = obj['type'];
  const deletionTimestamp = obj.metadata?.deletionTimestamp;
  return {
    ...(typeof type === 'string' ? { type } : {}),
    ...(typeof raw === 'object' && raw !== null ? { data } : {}),
    ...(deletionTimestamp !== undefined ? { metadata: { deletionTimestamp } } : {}),
  };
}

/** `<id>.<secret>` split, or undefined when the text is not a bootstrap token. */
export function parseBootstrapToken(text: string): BootstrapToken | undefined {
  const m = TOKEN.exec(text);
  return m?.[1] !== undefined && m[2] !== undefined ? { id: m[1], secret: m[2] } : undefined;
}

export function formatBootstrapToken(t: BootstrapToken): string {
  return `${t.id}.${t.secret}`;
}

export function bootstrapTokenSecretName(id: string): string {
  return `${BOOTSTRAP_TOKEN_SECRET_PREFIX}${id}`;
}

function randomString(length: number): string {
  let s = '';
  // randomInt is uniform over the range (no modulo bias), unlike byte % 36.
  for (let i = 0; i < length; i++) s += ALPHABET[randomInt(ALPHABET.length)];
  return s;
}

/** A fresh random token, e.g. `abcdef.0123456789abcdef` (~83 bits in the secret). */
export function generateBootstrapToken(): string {
  return formatBootstrapToken({ id: randomString(6), secret: randomString(16) });
}

export interface BootstrapTokenSecretOptions {
  /** Lifetime from `now`; 0 or omitted means the token never expires. */
  readonly ttlSeconds?: number;
  readonly description?: string;
  /** Extra groups, each `system:bootstrappers:...`. */
  readonly groups?: readonly string[];
  readonly now?: Date;
}

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');

/** RFC 3339 in UTC without fractional seconds, the form Go's time.RFC3339 writes. */
function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** A type alias rather than an interface so it is assignable to the API's KubeObject. */
export type BootstrapTokenSecret = {
  readonly apiVersion: 'v1';
  readonly kind: 'Secret';
  readonly metadata: { readonly name: string; readonly namespace: string };
  readonly type: typeof BOOTSTRAP_TOKEN_SECRET_TYPE;
  readonly data: Readonly<Record<string, string>>;
};

/** The Secret to create for `token`, usable for authentication and for signing cluster-info. */
export function bootstrapTokenSecret(token: string, opts: BootstrapTokenSecretOptions = {}): BootstrapTokenSecret {
  const t = parseBootstrapToken(token);
  if (t === undefined) throw new InvalidBootstrapTokenError('want <6 chars [a-z0-9]>.<16 chars [a-z0-9]>');
  for (const g of opts.groups ?? []) {
    if (!EXTRA_GROUP.test(g)) throw new InvalidBootstrapTokenError(`group "${g}" must match ${EXTRA_GROUP.source}`);
  }
  const data: Record<string, string> = {
    [TOKEN_ID_KEY]: b64(t.id),
    [TOKEN_SECRET_KEY]: b64(t.secret),
    [USAGE_AUTHENTICATION_KEY]: b64('true'),
    [USAGE_SIGNING_KEY]: b64('true'),
  };
  if (opts.ttlSeconds !== undefined && opts.ttlSeconds > 0) {
    const now = opts.now ?? new Date();
    data[EXPIRATION_KEY] = b64(rfc3339(new Date(now.getTime() + opts.ttlSeconds * 1000)));
  }
  if (opts.description !== undefined) data[DESCRIPTION_KEY] = b64(opts.description);
  if (opts.groups !== undefined && opts.groups.length > 0) data[EXTRA_GROUPS_KEY] = b64(opts.groups.join(','));
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: bootstrapTokenSecretName(t.id), namespace: BOOTSTRAP_TOKEN_NAMESPACE },
    type: BOOTSTRAP_TOKEN_SECRET_TYPE,
    data,
  };
}

function secretData(secret: SecretLike, key: string): string | undefined {
  const v = secret.data?.[key];
  return v === undefined ? undefined : Buffer.from(v, 'base64').toString('utf8');
}

/** Why a token was not accepted; logged by the caller at a verbose level, never shown to the client. */
export type BootstrapRejection =
  | 'malformed'
  | 'not-found'
  | 'being-deleted'
  | 'wrong-type'
  | 'wrong-secret'
  | 'wrong-id'
  | 'expired'
  | 'not-for-authentication'
  | 'invalid-groups';

export type BootstrapVerdict =
  | { readonly kind: 'accepted'; readonly user: UserInfo }
  | { readonly kind: 'rejected'; readonly reason: BootstrapRejection };

/** True when the Secret's expiration has passed; an unreadable expiration counts as expired (upstream). */
export function bootstrapTokenExpired(secret: SecretLike, now: Date): boolean {
  const exp = secretData(secret, EXPIRATION_KEY);
  if (exp === undefined || exp === '') return false;
  const at = RFC3339.test(exp) ? Date.parse(exp) : Number.NaN;
  return Number.isNaN(at) || at <= now.getTime();
}

/** Decides whether `token` authenticates against `secret` (its Secret, if one exists) at `now`. */
export function evaluateBootstrapToken(token: BootstrapToken, secret: SecretLike | undefined, now: Date): BootstrapVerdict {
  const reject = (reason: BootstrapRejection): BootstrapVerdict => ({ kind: 'rejected', reason });
  if (secret === undefined) return reject('not-found');
  if (secret.metadata?.deletionTimestamp !== undefined) return reject('being-deleted');
  if (secret.type !== BOOTSTRAP_TOKEN_SECRET_TYPE || secret.data === undefined) return reject('wrong-type');
  if (!constantTimeEqual(secretData(secret, TOKEN_SECRET_KEY) ?? '', token.secret)) return reject('wrong-secret');
  if (secretData(secret, TOKEN_ID_KEY) !== token.id) return reject('wrong-id');
  if (bootstrapTokenExpired(secret, now)) return reject('expired');
  if (secretData(secret, USAGE_AUTHENTICATION_KEY) !== 'true') return reject('not-for-authentication');

  // As upstream: every listed group must be valid as written (no trimming), result sorted and unique.
  const groups = new Set([BOOTSTRAP_GROUP]);
  const extra = secretData(secret, EXTRA_GROUPS_KEY) ?? '';
  for (const g of extra === '' ? [] : extra.split(',')) {
    if (!EXTRA_GROUP.test(g)) return reject('invalid-groups');
    groups.add(g);
  }
  const user = { name: `${BOOTSTRAP_USER_PREFIX}${token.id}`, groups: [...groups].sort() };
  return { kind: 'accepted', user: withAuthenticatedGroup(user) };
}

export type LookupSecret = (namespace: string, name: string) => Promise<SecretLike | undefined>;

export interface BootstrapTokenAuthenticatorOptions {
  readonly lookupSecret: LookupSecret;
  readonly now?: () => Date;
  /** Called with the token id (never the secret) when a well-formed token is refused. */
  readonly onReject?: (tokenId: string, reason: BootstrapRejection) => void;
}

export class BootstrapTokenAuthenticator implements Authenticator {
  private readonly lookupSecret: LookupSecret;
  private readonly now: () => Date;
  private readonly onReject: (tokenId: string, reason: BootstrapRejection) => void;

  constructor(opts: BootstrapTokenAuthenticatorOptions) {
    this.lookupSecret = opts.lookupSecret;
    this.now = opts.now ?? (() => new Date());
    this.onReject = opts.onReject ?? (() => {});
  }

  async authenticate(req: AuthRequest): Promise<UserInfo | undefined> {
    const text = bearerToken(req.headers);
    const token = text === undefined ? undefined : parseBootstrapToken(text);
    // Other token kinds (static, service account) are someone else's: not a rejection.
    if (token === undefined) return undefined;
    const secret = await this.lookupSecret(BOOTSTRAP_TOKEN_NAMESPACE, bootstrapTokenSecretName(token.id));
    const verdict = evaluateBootstrapToken(token, secret, this.now());
    switch (verdict.kind) {
      case 'accepted':
        return verdict.user;
      case 'rejected':
        this.onReject(token.id, verdict.reason);
        return undefined;
      default: {
        const unreachable: never = verdict;
        return unreachable;
      }
    }
  }
}
