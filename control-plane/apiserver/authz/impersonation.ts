/**
 * Impersonation (`kubectl --as jane --as-group dev`): the headers Impersonate-User, Impersonate-Group
 * (repeatable), Impersonate-Uid and Impersonate-Extra-<key> make the request act as another user,
 * once the real user is allowed the `impersonate` verb on each of them, as upstream checks:
 *   users (core group) named the user, or serviceaccounts in their namespace for
 *   `system:serviceaccount:<ns>:<name>`; groups named each group; uids and userextras/<key>
 *   in authentication.k8s.io.
 * The impersonated user gets system:authenticated (and a service account its two groups); it is the
 * user authorization, admission and audit see from then on.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { UserInfo } from '../auth/types.js';
import { GROUP_AUTHENTICATED, GROUP_UNAUTHENTICATED, USER_ANONYMOUS } from '../auth/types.js';
import { ApiError, forbidden } from '../errors.js';
import { SERVICE_ACCOUNT_PREFIX } from './rules.js';
import { forbiddenMessage } from './types.js';
import type { Attributes, Authorizer } from './types.js';

const USER = 'impersonate-user';
const GROUP = 'impersonate-group';
const UID = 'impersonate-uid';
const EXTRA = 'impersonate-extra-';

function values(v: string | string[] | undefined): string[] {
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).flatMap((s) => s.split(',')).map((s) => s.trim()).filter((s) => s !== '');
}

function wantsImpersonation(headers: IncomingHttpHeaders): boolean {
  return Object.keys(headers).some((h) => h === USER || h === GROUP || h === UID || h.startsWith(EXTRA));
}

/** The user a request acts as: `user` itself, or whom it may impersonate (else 403; malformed: 400). */
export function impersonatedUser(headers: IncomingHttpHeaders, user: UserInfo, authorizer: Authorizer): UserInfo {
  if (!wantsImpersonation(headers)) return user;
  const raw = headers[USER];
  const name = (Array.isArray(raw) ? raw[0] : raw)?.trim();
  if (name === undefined || name === '') {
    throw new ApiError(400, 'BadRequest', 'requested impersonation of groups, uid or extra without impersonating a user (Impersonate-User)');
  }
  const check = (verbTarget: Omit<Attributes, 'user' | 'verb' | 'resourceRequest' | 'subresource' | 'path'> & { subresource?: string }): void => {
    const attrs: Attributes = { user, verb: 'impersonate', resourceRequest: true, subresource: '', path: '', ...verbTarget };
    const d = authorizer.authorize(attrs);
    if (d.verdict !== 'allow') throw forbidden(forbiddenMessage(attrs, d.reason));
  };
  const groups = values(headers[GROUP]);
  let extraGroups: string[] = [];
  if (name.startsWith(SERVICE_ACCOUNT_PREFIX)) {
    const parts = name.slice(SERVICE_ACCOUNT_PREFIX.length).split(':');
    const [ns, sa] = parts;
    if (parts.length !== 2 || ns === undefined || sa === undefined || ns === '' || sa === '') throw new ApiError(400, 'BadRequest', `Impersonate-User ${JSON.stringify(name)} is not a valid service account user name`);
    check({ apiGroup: '', resource: 'serviceaccounts', namespace: ns, name: sa });
    // as upstream: the service account groups only when no group was asked for
    if (groups.length === 0) extraGroups = ['system:serviceaccounts', `system:serviceaccounts:${ns}`];
  } else {
    check({ apiGroup: '', resource: 'users', namespace: '', name });
  }
  for (const g of groups) check({ apiGroup: '', resource: 'groups', namespace: '', name: g });
  const uid = values(headers[UID])[0];
  if (uid !== undefined) check({ apiGroup: 'authentication.k8s.io', resource: 'uids', namespace: '', name: uid });
  for (const h of Object.keys(headers)) {
    if (!h.startsWith(EXTRA)) continue;
    let key: string;
    try {
      key = decodeURIComponent(h.slice(EXTRA.length));
    } catch {
      throw new ApiError(400, 'BadRequest', `header ${h}: the key is not valid percent-encoding`);
    }
    for (const v of values(headers[h])) check({ apiGroup: 'authentication.k8s.io', resource: 'userextras', subresource: key, namespace: '', name: v });
  }
  const all = [...new Set([...groups, ...extraGroups])];
  // as upstream: the anonymous user is unauthenticated; anybody else authenticated, unless asked otherwise
  if (name === USER_ANONYMOUS) {
    if (!all.includes(GROUP_UNAUTHENTICATED)) all.push(GROUP_UNAUTHENTICATED);
  } else if (!all.includes(GROUP_AUTHENTICATED) && !all.includes(GROUP_UNAUTHENTICATED)) {
    all.push(GROUP_AUTHENTICATED);
  }
  return { name, groups: all, ...(uid !== undefined ? { uid } : {}) };
}
