/**
 * Asks authenticators in order and returns the first user any of them accepts. A failing lookup in
 * one (e.g. the store behind bootstrap tokens is unavailable) does not hide a valid credential for
 * another; if nobody accepts and some lookup failed, the first failure is rethrown so the caller can
 * answer 500/503 instead of 401. Cost: the sum of the members' costs in the worst case.
 */
import { withAuthenticatedGroup, type AuthRequest, type Authenticator, type UserInfo } from './types.js';

export class UnionAuthenticator implements Authenticator {
  private readonly members: readonly Authenticator[];

  constructor(members: readonly Authenticator[]) {
    this.members = [...members];
  }

  async authenticate(req: AuthRequest): Promise<UserInfo | undefined> {
    let firstError: { readonly error: unknown } | undefined;
    for (const member of this.members) {
      try {
        const user = await member.authenticate(req);
        if (user !== undefined) return withAuthenticatedGroup(user);
      } catch (error) {
        firstError ??= { error };
      }
    }
    if (firstError !== undefined) throw firstError.error;
    return undefined;
  }
}
