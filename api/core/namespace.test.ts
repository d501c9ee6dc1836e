import { describe, expect, it } from 'vitest';
import type { Namespace } from './namespace.js';
import { defaultNamespace, namespaceKind } from './namespace.js';

const ns = (name = 'team-a'): Namespace => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });

describe('namespace defaults', () => {
  it('adds the kubernetes finalizer, Active phase and the name label on create', () => {
    expect(defaultNamespace(ns())).toEqual({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'team-a', labels: { 'kubernetes.io/metadata.name': 'team-a' } },
      spec: { finalizers: ['kubernetes'] },
      status: { phase: 'Active' },
    });
  });
  it('keeps other finalizers', () => {
    expect(defaultNamespace({ ...ns(), spec: { finalizers: ['example.com/x'] } }).spec?.finalizers).toEqual(['example.com/x', 'kubernetes']);
  });
  it('does not re-add the finalizer once the namespace controller removed it', () => {
    const finalizing: Namespace = { ...ns(), spec: { finalizers: [] }, status: { phase: 'Terminating' } };
    expect(defaultNamespace(finalizing).spec?.finalizers).toEqual([]);
  });
  it('restores the name label if a client changed it', () => {
    const n = defaultNamespace({ ...ns(), metadata: { name: 'team-a', labels: { 'kubernetes.io/metadata.name': 'x' } }, status: { phase: 'Active' } });
    expect(n.metadata.labels).toEqual({ 'kubernetes.io/metadata.name': 'team-a' });
  });
});

describe('namespace validation', () => {
  it('accepts a defaulted namespace', () => expect(namespaceKind.validate(defaultNamespace(ns()))).toEqual([]));
  it.each<[string, Namespace, string[]]>([
    ['a name with dots', ns('a.b'), ['metadata.name']],
    ['a short unknown spec finalizer', { ...ns(), spec: { finalizers: ['mine'] } }, ['spec.finalizers']],
    ['Terminating without deletion', { ...ns(), status: { phase: 'Terminating' } }, ['status.Phase']],
    ['a phase typo', { ...ns(), status: { phase: 'Gone' as 'Active' } }, ['status.Phase']],
  ])('reports %s', (_n, n, expected) => expect(namespaceKind.validate(n).map((e) => e.field)).toEqual(expected));
  it('accepts Terminating once deletion started', () => {
    const n = defaultNamespace({ ...ns(), metadata: { name: 'team-a', deletionTimestamp: '2024-01-01T00:00:00Z' }, status: { phase: 'Terminating' } });
    expect(namespaceKind.validate(n)).toEqual([]);
  });
  it('refuses a rename', () => {
    const stored = defaultNamespace(ns());
    expect(namespaceKind.validateUpdate({ ...stored, metadata: { ...stored.metadata, name: 'b' } }, stored).map((e) => e.field)).toEqual(['metadata.name']);
  });
  it('is registered like upstream', () => {
    expect(namespaceKind).toMatchObject({ plural: 'namespaces', shortNames: ['ns'], namespaced: false, hasStatusSubresource: true });
    expect(namespaceKind.selectableFields?.(defaultNamespace(ns()))).toEqual({ 'status.phase': 'Active' });
  });
});
