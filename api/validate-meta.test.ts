import { describe, expect, it } from 'vitest';
import { FieldPath, formatFieldError } from './field-errors.js';
import type { ObjectMeta } from './meta.js';
import { isDNS1123Label } from './names.js';
import { validateKubeFinalizerNames, validateObjectMeta, validateObjectMetaUpdate } from './validate-meta.js';

const base: ObjectMeta = { name: 'web', namespace: 'default', labels: { app: 'web' } };
const fields = (errs: readonly { field: string }[]): string[] => errs.map((e) => e.field);

describe('validateObjectMeta', () => {
  it('accepts a valid namespaced object', () => expect(validateObjectMeta(base, { namespaced: true })).toEqual([]));

  it.each<[string, ObjectMeta, { namespaced: boolean; nameValidator?: (n: string) => string[] }, string[]]>([
    ['name or generateName is required', { namespace: 'default' }, { namespaced: true }, ['metadata.name']],
    ['generateName alone is enough', { generateName: 'web-', namespace: 'default' }, { namespaced: true }, []],
    ['a bad generateName prefix', { generateName: 'Web-', namespace: 'default' }, { namespaced: true }, ['metadata.generateName']],
    ['a bad name', { ...base, name: 'Web_1' }, { namespaced: true }, ['metadata.name']],
    ['a kind-specific name check', { ...base, name: 'a.b' }, { namespaced: true, nameValidator: isDNS1123Label }, ['metadata.name']],
    ['a missing namespace', { name: 'web' }, { namespaced: true }, ['metadata.namespace']],
    ['a bad namespace', { ...base, namespace: 'a.b' }, { namespaced: true }, ['metadata.namespace']],
    ['a namespace on a cluster-scoped kind', base, { namespaced: false }, ['metadata.namespace']],
    ['a negative generation', { ...base, generation: -1 }, { namespaced: true }, ['metadata.generation']],
    ['a bad label', { ...base, labels: { 'a b': 'x' } }, { namespaced: true }, ['metadata.labels']],
    ['a bad annotation key', { ...base, annotations: { '/x': 'y' } }, { namespaced: true }, ['metadata.annotations']],
    ['a bad finalizer', { ...base, finalizers: ['a/b/c'] }, { namespaced: true }, ['metadata.finalizers']],
    ['orphan with foregroundDeletion', { ...base, finalizers: ['orphan', 'foregroundDeletion'] }, { namespaced: true }, ['metadata.finalizers']],
  ])('reports %s', (_name, meta, opts, expected) => {
    expect(fields(validateObjectMeta(meta, opts))).toEqual(expected);
  });

  it('words the missing name like upstream', () => {
    const [err] = validateObjectMeta({ namespace: 'default' }, { namespaced: true });
    expect(formatFieldError(err!)).toBe('metadata.name: Required value: name or generateName is required');
  });

  it('forbids a namespace on cluster-scoped kinds with upstream words', () => {
    const [err] = validateObjectMeta(base, { namespaced: false });
    expect(formatFieldError(err!)).toBe('metadata.namespace: Forbidden: not allowed on this type');
  });

  describe('owner references', () => {
    const ref = { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: 'u1' };
    it('accepts a complete reference', () => expect(validateObjectMeta({ ...base, ownerReferences: [ref] }, { namespaced: true })).toEqual([]));
    it('requires version, kind, name and uid', () => {
      const errs = validateObjectMeta({ ...base, ownerReferences: [{ apiVersion: 'apps/', kind: '', name: '', uid: '' }] }, { namespaced: true });
      expect(errs.map((e) => e.detail)).toEqual(['version must not be empty', 'kind must not be empty', 'name must not be empty', 'uid must not be empty']);
      expect(fields(errs)).toEqual([
        'metadata.ownerReferences.apiVersion',
        'metadata.ownerReferences.kind',
        'metadata.ownerReferences.name',
        'metadata.ownerReferences.uid',
      ]);
    });
    it('allows one controller only', () => {
      const errs = validateObjectMeta(
        { ...base, ownerReferences: [{ ...ref, controller: true }, { ...ref, uid: 'u2', name: 'rs2', controller: true }] },
        { namespaced: true },
      );
      expect(errs).toHaveLength(1);
      expect(errs[0]?.detail).toBe(
        'Only one reference can have Controller set to true. Found "true" in references for ReplicaSet/rs and ReplicaSet/rs2',
      );
    });
    it('refuses v1 Events as owners', () => {
      const errs = validateObjectMeta({ ...base, ownerReferences: [{ ...ref, apiVersion: 'v1', kind: 'Event' }] }, { namespaced: true });
      expect(errs[0]?.detail).toBe('/v1, Kind=Event is disallowed from being an owner');
    });
  });
});

describe('validateKubeFinalizerNames', () => {
  it('accepts standard and qualified finalizers', () => {
    expect(validateKubeFinalizerNames(['kubernetes', 'orphan', 'foregroundDeletion', 'example.com/x'], FieldPath.root('f'))).toEqual([]);
  });
  it('rejects unknown short names', () => {
    expect(validateKubeFinalizerNames(['mine'], FieldPath.root('f'))[0]?.detail).toBe(
      'name is neither a standard finalizer name nor is it fully qualified',
    );
  });
});

describe('validateObjectMetaUpdate', () => {
  const old: ObjectMeta = { ...base, uid: 'u1', creationTimestamp: '2024-01-01T00:00:00Z', generation: 2, resourceVersion: '5' };

  it('accepts label and annotation changes', () => {
    expect(validateObjectMetaUpdate({ ...old, labels: { app: 'other' }, annotations: { a: 'b' } }, old)).toEqual([]);
  });

  it.each<[string, Partial<ObjectMeta>, string]>([
    ['name', { name: 'other' }, 'metadata.name'],
    ['namespace', { namespace: 'other' }, 'metadata.namespace'],
    ['uid', { uid: 'u2' }, 'metadata.uid'],
    ['creationTimestamp', { creationTimestamp: '2025-01-01T00:00:00Z' }, 'metadata.creationTimestamp'],
  ])('says %s is immutable', (_f, change, field) => {
    const errs = validateObjectMetaUpdate({ ...old, ...change }, old);
    expect(errs.map((e) => [e.field, e.detail])).toEqual([[field, 'field is immutable']]);
  });

  it('treats an absent uid or creationTimestamp as unchanged', () => {
    const { uid: _u, creationTimestamp: _c, ...rest } = old;
    expect(validateObjectMetaUpdate(rest, old)).toEqual([]);
  });

  it('refuses a decremented generation', () => {
    expect(fields(validateObjectMetaUpdate({ ...old, generation: 1 }, old))).toEqual(['metadata.generation']);
  });

  it('refuses new finalizers on an object being deleted, but allows removing them', () => {
    const deleting = { ...old, deletionTimestamp: '2024-02-01T00:00:00Z', finalizers: ['example.com/a'] };
    const errs = validateObjectMetaUpdate({ ...deleting, finalizers: ['example.com/a', 'example.com/b'] }, deleting);
    expect(errs.map((e) => [e.type, e.field])).toEqual([['FieldValueForbidden', 'metadata.finalizers']]);
    expect(errs[0]?.detail).toContain('no new finalizers can be added if the object is being deleted');
    expect(validateObjectMetaUpdate({ ...deleting, finalizers: [] }, deleting)).toEqual([]);
  });

  it('still validates the new labels', () => {
    expect(fields(validateObjectMetaUpdate({ ...old, labels: { '-': 'x' } }, old))).toEqual(['metadata.labels']);
  });
});
