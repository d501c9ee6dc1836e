import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../api/meta.js';
import { buildTable, tableFor } from './table.js';

const now = new Date('2026-01-01T12:00:00Z');
const created = '2025-12-29T08:00:00Z'; // 3d4h before now
const meta = (name: string, extra: Record<string, unknown> = {}): KubeObject['metadata'] => ({ name, creationTimestamp: created, ...extra });

const header = (plural: string): string =>
  tableFor(plural)
    .columns.map((c) => `${c.priority === 1 ? '*' : ''}${c.name.toUpperCase()}`)
    .join(' ');

describe('rbac printers', () => {
  it.each(['roles', 'clusterroles'])('%s print NAME and CREATED AT in RFC 3339', (plural) => {
    expect(header(plural)).toBe('NAME CREATED AT');
    expect(tableFor(plural).columns[1]?.type).toBe('date');
    const obj: KubeObject = { metadata: meta('system:node'), rules: [] };
    expect(tableFor(plural).cells(obj, now)).toEqual(['system:node', '2025-12-29T08:00:00Z']);
  });

  it('prints whole seconds in UTC, and Go zero time without a creationTimestamp', () => {
    const roles = tableFor('roles');
    expect(roles.cells({ metadata: meta('r', { creationTimestamp: '2025-06-01T10:00:00.123456+02:00' }) }, now)[1]).toBe('2025-06-01T08:00:00Z');
    expect(roles.cells({ metadata: { name: 'r' } }, now)[1]).toBe('0001-01-01T00:00:00Z');
  });

  it.each(['rolebindings', 'clusterrolebindings'])('%s print NAME ROLE AGE and wide subject columns', (plural) => {
    expect(header(plural)).toBe('NAME ROLE AGE *USERS *GROUPS *SERVICEACCOUNTS');
    const obj: KubeObject = {
      metadata: meta('admins'),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
      subjects: [
        { kind: 'User', name: 'jane' },
        { kind: 'Group', name: 'system:masters' },
        { kind: 'User', name: 'bob' },
        { kind: 'ServiceAccount', name: 'ci', namespace: 'tools' },
        { kind: 'ServiceAccount', name: 'deployer', namespace: 'prod' },
        { kind: 'Robot', name: 'r2' },
      ],
    };
    expect(tableFor(plural).cells(obj, now)).toEqual(['admins', 'ClusterRole/cluster-admin', '3d4h', 'jane, bob', 'system:masters', 'tools/ci, prod/deployer']);
  });

  it('prints empty subject cells for a binding without subjects and never throws on odd shapes', () => {
    const rb = tableFor('rolebindings');
    expect(rb.cells({ metadata: meta('b'), roleRef: { kind: 'Role', name: 'r' } }, now)).toEqual(['b', 'Role/r', '3d4h', '', '', '']);
    expect(rb.cells({ metadata: meta('b'), roleRef: 'x', subjects: [null, 3] }, now)).toEqual(['b', '/', '3d4h', '', '', '']);
  });

  it('builds a table of cluster role bindings', () => {
    const t = buildTable('clusterrolebindings', [{ metadata: meta('system:node'), roleRef: { kind: 'ClusterRole', name: 'system:node' } }], now);
    expect(t.columnDefinitions.map((c) => c.name)).toEqual(['Name', 'Role', 'Age', 'Users', 'Groups', 'ServiceAccounts']);
    expect(t.rows[0]?.cells.slice(0, 2)).toEqual(['system:node', 'ClusterRole/system:node']);
  });
});
