/**
 * Fixed bearer tokens mapped to users: the control plane's own loopback client and tests. Tokens are
 * compared in constant time against every entry, so response timing says nothing about how close a
 * guess came. Cost: O(number of tokens) per request; meant for a handful.
 */
import { timingSafeEqual } from 'node:crypto';
import { bearerToken, withAuthenticatedGroup, type AuthRequest, type Authenticator, type UserInfo } from './types.js';

/** Equal-length compare in constant time; unequal lengths differ at once (the length is not secret). */
export function constantTimeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

export class StaticTokenAuthenticator implements Authenticator {
  private readonly entries: readonly (readonly [string, UserInfo])[];

  constructor(tokens: ReadonlyMap<string, UserInfo> | Readonly<Record<string, UserInfo>>) {
    const list = tokens instanceof Map ? [...tokens.entries()] : Object.entries(tokens);
    this.entries = list.filter(([token]) => token !== '').map(([token, user]) => [token, withAuthenticatedGroup(user)] as const);
  }

  async authenticate(req: AuthRequest): Promise<UserInfo | undefined> {
    const token = bearerToken(req.headers);
    if (token === undefined) return undefined;
    let found: UserInfo | undefined;
    for (const [candidate, user] of this.entries) {
      if (constantTimeEqual(candidate, token) && found === undefined) found = user;
    }
    return found;
  }
}
