/**
 * Authentication for the apiserver: who is calling. Each Authenticator looks at one kind of
 * credential and answers a user or "not me" (undefined); UnionAuthenticator asks them in order.
 * Authorization (what that user may do) is a separate concern and lives elsewhere.
 *
 * An authenticator never throws for bad credentials, only when it cannot decide (its backing store
 * failed). On undefined the caller chooses between 401 (credentials were presented but none was
 * accepted, see `presentsCredentials`) and the anonymous user.
 */
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { TLSSocket } from 'node:tls';

export interface UserInfo {
  readonly name: string;
  readonly groups: readonly string[];
  readonly uid?: string;
}

/** The subject fields of a peer certificate as Node's TLSSocket.getPeerCertificate() reports them. */
export interface PeerCertificateSubject {
  readonly CN?: string | readonly string[];
  readonly O?: string | readonly string[];
}

/** The part of a TLSSocket authentication reads; a plain TCP socket has neither member. */
export interface TlsPeerInfo {
  /** True when the peer presented a certificate that chains to one of the server's `ca`. */
  readonly authorized?: boolean;
  getPeerCertificate?(): { readonly subject?: PeerCertificateSubject } | null | undefined;
}

export interface AuthRequest {
  readonly socket?: TlsPeerInfo;
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>;
}

export interface Authenticator {
  authenticate(req: AuthRequest): Promise<UserInfo | undefined>;
}

export const GROUP_AUTHENTICATED = 'system:authenticated';
export const GROUP_UNAUTHENTICATED = 'system:unauthenticated';
export const GROUP_MASTERS = 'system:masters';
export const USER_ANONYMOUS = 'system:anonymous';

/** The user of a request that presented no credentials, when anonymous requests are allowed. */
export const ANONYMOUS_USER: UserInfo = { name: USER_ANONYMOUS, groups: [GROUP_UNAUTHENTICATED] };

/** Adds system:authenticated (once), as upstream does for every user any authenticator accepts. */
export function withAuthenticatedGroup(user: UserInfo): UserInfo {
  return user.groups.includes(GROUP_AUTHENTICATED) ? user : { ...user, groups: [...user.groups, GROUP_AUTHENTICATED] };
}

/** The AuthRequest of an incoming HTTP(S) request. */
export function authRequestFrom(req: IncomingMessage): AuthRequest {
  const headers: IncomingHttpHeaders = req.headers;
  return req.socket instanceof TLSSocket ? { socket: req.socket, headers } : { headers };
}

function headerValue(headers: AuthRequest['headers'], name: string): string | undefined {
  const v = headers[name];
  return typeof v === 'string' ? v : v?.[0];
}

/**
 * The token of an `Authorization: Bearer <token>` header, or undefined. Like upstream: the scheme is
 * case-insensitive, surrounding whitespace is ignored, and anything after the token is dropped.
 */
export function bearerToken(headers: AuthRequest['headers']): string | undefined {
  const auth = headerValue(headers, 'authorization')?.trim();
  if (auth === undefined) return undefined;
  const [scheme, token] = auth.split(' ', 3);
  if (scheme?.toLowerCase() !== 'bearer' || token === undefined || token === '') return undefined;
  return token;
}

/** True when the request carries credentials (a bearer token or a client certificate). */
export function presentsCredentials(req: AuthRequest): boolean {
  if (bearerToken(req.headers) !== undefined) return true;
  const subject = req.socket?.getPeerCertificate?.()?.subject;
  return subject !== undefined;
}
