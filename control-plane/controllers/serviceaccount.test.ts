import { describe, expect, it } from 'vitest';
import type { Namespace } from '../../api/core/namespace.js';
import { isActiveNamespace, planServiceAccounts } from './serviceaccount.js';

const ns = (over: { phase?: 'Active' | 'Terminating'; deleting?: boolean } = {}): Namespace => ({
  metadata: { name: 'team', ...(over.deleting === true ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}) },
  ...(over.phase !== undefined ? { status: { phase: over.phase } } : {}),
});

describe('planServiceAccounts', () => {
  const cases: Array<[string, Namespace | undefined, string[], readonly string[] | undefined, string[]]> = [
    ['a new namespace gets `default`', ns({ phase: 'Active' }), [], undefined, ['team/default']],
    ['a namespace whose phase is not set yet counts as active', ns(), [], undefined, ['team/default']],
    ['`default` already there: nothing', ns({ phase: 'Active' }), ['default'], undefined, []],
    ['a terminating namespace gets nothing', ns({ phase: 'Terminating', deleting: true }), [], undefined, []],
    ['a namespace being deleted (phase not flipped yet) gets nothing', ns({ phase: 'Active', deleting: true }), [], undefined, []],
    ['a namespace gone from the cache gets nothing', undefined, [], undefined, []],
    ['configured accounts: only the missing ones', ns(), ['default'], ['default', 'builder'], ['team/builder']],
  ];
  it.each(cases)('%s', (_n, namespace, existing, wanted, expected) => {
    expect(planServiceAccounts(namespace, new Set(existing), wanted).map((sa) => `${sa.metadata.namespace}/${sa.metadata.name}`)).toEqual(expected);
  });

  it('creates a bare ServiceAccount, as upstream', () => {
    expect(planServiceAccounts(ns(), new Set())).toEqual([{ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace: 'team' } }]);
  });
  it('isActiveNamespace', () => {
    expect(isActiveNamespace(ns({ phase: 'Active' }))).toBe(true);
    expect(isActiveNamespace(ns({ phase: 'Terminating' }))).toBe(false);
  });
});
