import { describe, expect, it } from 'vitest';
import { streamRefusal } from './subresources.js';

describe('streamRefusal (pods/exec, attach, portforward without an authorizer)', () => {
  it.each([
    ['the admin', { name: 'kubernetes-admin', groups: ['system:masters', 'system:authenticated'] }, undefined],
    ['a service account', { name: 'system:serviceaccount:default:default', groups: ['system:serviceaccounts', 'system:authenticated'] }, undefined],
    [
      'a bootstrap token',
      { name: 'system:bootstrap:abcdef', groups: ['system:bootstrappers', 'system:authenticated'] },
      'pods "web" is forbidden: User "system:bootstrap:abcdef" cannot create resource "pods/exec" in API group "" in the namespace "default"',
    ],
    [
      'a node',
      { name: 'system:node:w1', groups: ['system:nodes', 'system:authenticated'] },
      'pods "web" is forbidden: User "system:node:w1" cannot create resource "pods/exec" in API group "" in the namespace "default"',
    ],
  ])('%s', (_who, user, expected) => {
    expect(streamRefusal(user, 'exec', 'default', 'web')).toBe(expected);
  });
});
