import { describe, expect, it } from 'vitest';
import { ApiError } from '../errors.js';
import { impersonatedUser } from './impersonation.js';
import { ADMIN, clusterRole, clusterRoleBinding, plainUser, roleBinding, testChain, user } from './testing.js';

const { chain } = testChain({
  objects: [
    clusterRole('impersonator', [{ verbs: ['impersonate'], apiGroups: [''], resources: ['users', 'groups'] }]),
    clusterRoleBinding('support', 'impersonator', [user('support')]),
    clusterRole('bob-only', [{ verbs: ['impersonate'], apiGroups: [''], resources: ['users'], resourceNames: ['bob'] }]),
    clusterRoleBinding('limited', 'bob-only', [user('limited')]),
    clusterRole('uid-extra', [
      { verbs: ['impersonate'], apiGroups: [''], resources: ['users'] },
      { verbs: ['impersonate'], apiGroups: ['authentication.k8s.io'], resources: ['uids', 'userextras/scopes'] },
    ]),
    clusterRoleBinding('uid-extra', 'uid-extra', [user('auditor')]),
    roleBinding('ci', 'jane-edit', { kind: 'ClusterRole', name: 'edit' }, [user('jane')]),
  ],
});

const jane = plainUser('jane');
const support = plainUser('support');

function refusal(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  throw new Error('expected an ApiError');
}

describe('impersonatedUser', () => {
  it('without impersonation headers the user is the caller, the same object', () => {
    expect(impersonatedUser({ accept: 'application/json', authorization: 'Bearer x' }, jane, chain)).toBe(jane);
    expect(impersonatedUser({}, jane, chain)).toBe(jane);
  });

  it('Impersonate-User without permission is refused with upstream wording', () => {
    const err = refusal(() => impersonatedUser({ 'impersonate-user': 'bob' }, jane, chain));
    expect(err.httpCode).toBe(403);
    expect(err.reason).toBe('Forbidden');
    expect(err.message).toBe('users "bob" is forbidden: User "jane" cannot impersonate resource "users" in API group "" at the cluster scope');
  });

  it('with impersonate on users and groups: the new user, with its groups and system:authenticated', () => {
    expect(impersonatedUser({ 'impersonate-user': 'bob' }, support, chain)).toEqual({ name: 'bob', groups: ['system:authenticated'] });
    expect(impersonatedUser({ 'impersonate-user': 'bob', 'impersonate-group': ['dev', 'ops,qa'] }, support, chain)).toEqual({
      name: 'bob',
      groups: ['dev', 'ops', 'qa', 'system:authenticated'],
    });
    expect(impersonatedUser({ 'impersonate-user': 'bob', 'impersonate-group': 'system:authenticated' }, support, chain).groups).toEqual(['system:authenticated']);
  });

  it('every impersonated group is checked', () => {
    const limited = plainUser('limited');
    expect(impersonatedUser({ 'impersonate-user': 'bob' }, limited, chain).name).toBe('bob');
    expect(refusal(() => impersonatedUser({ 'impersonate-user': 'alice' }, limited, chain)).httpCode).toBe(403);
    const err = refusal(() => impersonatedUser({ 'impersonate-user': 'bob', 'impersonate-group': 'system:masters' }, limited, chain));
    expect(err.httpCode).toBe(403);
    expect(err.message).toBe('groups "system:masters" is forbidden: User "limited" cannot impersonate resource "groups" in API group "" at the cluster scope');
  });

  it('a uid and extras need their own permission', () => {
    const auditor = plainUser('auditor');
    expect(impersonatedUser({ 'impersonate-user': 'bob', 'impersonate-uid': 'u-1', 'impersonate-extra-scopes': 'view' }, auditor, chain)).toEqual({
      name: 'bob',
      groups: ['system:authenticated'],
      uid: 'u-1',
    });
    expect(refusal(() => impersonatedUser({ 'impersonate-user': 'bob', 'impersonate-uid': 'u-1' }, support, chain)).httpCode).toBe(403);
    const err = refusal(() => impersonatedUser({ 'impersonate-user': 'bob', 'impersonate-extra-reason': 'x' }, auditor, chain));
    expect(err.message).toContain('cannot impersonate resource "userextras/reason" in API group "authentication.k8s.io"');
  });

  it('a service account is checked as serviceaccounts in its namespace, and gets the service account groups', () => {
    // edit (bound to jane in ci) holds impersonate on serviceaccounts
    expect(impersonatedUser({ 'impersonate-user': 'system:serviceaccount:ci:builder' }, jane, chain)).toEqual({
      name: 'system:serviceaccount:ci:builder',
      groups: ['system:serviceaccounts', 'system:serviceaccounts:ci', 'system:authenticated'],
    });
    const err = refusal(() => impersonatedUser({ 'impersonate-user': 'system:serviceaccount:prod:builder' }, jane, chain));
    expect(err.httpCode).toBe(403);
    expect(err.message).toBe(
      'serviceaccounts "builder" is forbidden: User "jane" cannot impersonate resource "serviceaccounts" in API group "" in the namespace "prod"',
    );
    // impersonate on users does not reach service accounts
    expect(refusal(() => impersonatedUser({ 'impersonate-user': 'system:serviceaccount:ci:builder' }, support, chain)).httpCode).toBe(403);
    expect(refusal(() => impersonatedUser({ 'impersonate-user': 'system:serviceaccount:ci' }, ADMIN, chain)).httpCode).toBe(400);
  });

  it('groups, uid or extras without Impersonate-User are a bad request', () => {
    for (const headers of [{ 'impersonate-group': 'dev' }, { 'impersonate-uid': 'x' }, { 'impersonate-extra-a': 'b' }, { 'impersonate-user': ' ', 'impersonate-group': 'dev' }]) {
      const err = refusal(() => impersonatedUser(headers, ADMIN, chain));
      expect(err.httpCode).toBe(400);
      expect(err.message).toContain('Impersonate-User');
    }
  });

  it('system:masters may impersonate anyone', () => {
    expect(impersonatedUser({ 'impersonate-user': 'anyone', 'impersonate-group': 'system:masters' }, ADMIN, chain)).toEqual({
      name: 'anyone',
      groups: ['system:masters', 'system:authenticated'],
    });
    expect(impersonatedUser({ 'impersonate-user': 'system:serviceaccount:kube-system:x' }, ADMIN, chain).name).toBe('system:serviceaccount:kube-system:x');
  });

  it('the anonymous user is unauthenticated; asking for system:unauthenticated does not add system:authenticated', () => {
    expect(impersonatedUser({ 'impersonate-user': 'system:anonymous' }, ADMIN, chain)).toEqual({ name: 'system:anonymous', groups: ['system:unauthenticated'] });
    expect(impersonatedUser({ 'impersonate-user': 'x', 'impersonate-group': 'system:unauthenticated' }, ADMIN, chain).groups).toEqual(['system:unauthenticated']);
  });

  it('a service account name has exactly a namespace and a name; asked-for groups replace the service account groups', () => {
    const bad = refusal(() => impersonatedUser({ 'impersonate-user': 'system:serviceaccount:ns:a:b' }, ADMIN, chain));
    expect(bad.httpCode).toBe(400);
    expect(bad.message).toContain('system:serviceaccount:ns:a:b');
    expect(impersonatedUser({ 'impersonate-user': 'system:serviceaccount:ns:a', 'impersonate-group': 'g' }, ADMIN, chain).groups).toEqual(['g', 'system:authenticated']);
  });

  it('an extra header whose key is not valid percent-encoding is a bad request, not a crash', () => {
    const err = refusal(() => impersonatedUser({ 'impersonate-user': 'bob', 'impersonate-extra-%zz': 'v' }, ADMIN, chain));
    expect(err.httpCode).toBe(400);
    expect(err.message).toContain('impersonate-extra-%zz');
  });
});
