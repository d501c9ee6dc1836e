import { describe, expect, it } from 'vitest';
import { formatFieldError } from '../field-errors.js';
import type { Lease, LeaseSpec } from './lease.js';
import { leaseKind } from './lease.js';

const base: Lease = {
  apiVersion: 'coordination.k8s.io/v1',
  kind: 'Lease',
  metadata: { name: 'node-1', namespace: 'kube-node-lease' },
  spec: {
    holderIdentity: 'node-1',
    leaseDurationSeconds: 40,
    renewTime: '2024-05-01T10:00:00.123456Z',
    leaseTransitions: 0,
  },
};

const withSpec = (patch: Partial<LeaseSpec>): Lease => ({ ...base, spec: { ...base.spec, ...patch } });

describe('leaseKind', () => {
  it('is coordination.k8s.io/v1 leases, namespaced, without status subresource', () => {
    expect(leaseKind).toMatchObject({
      group: 'coordination.k8s.io',
      version: 'v1',
      kind: 'Lease',
      plural: 'leases',
      namespaced: true,
      shortNames: [],
      hasStatusSubresource: false,
    });
  });

  it('defaults nothing', () => {
    expect(leaseKind.default(base)).toEqual(base);
  });

  it('accepts a node heartbeat lease and one with no spec', () => {
    expect(leaseKind.validate(base)).toEqual([]);
    expect(leaseKind.validate({ metadata: base.metadata })).toEqual([]);
  });

  it.each<[string, Lease, string[]]>([
    ['a zero duration', withSpec({ leaseDurationSeconds: 0 }), ['spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0']],
    ['a negative duration', withSpec({ leaseDurationSeconds: -5 }), ['spec.leaseDurationSeconds: Invalid value: -5: must be greater than 0']],
    [
      'negative transitions',
      withSpec({ leaseTransitions: -1 }),
      ['spec.leaseTransitions: Invalid value: -1: must be greater than or equal to 0'],
    ],
    [
      'a preferred holder without a strategy',
      withSpec({ preferredHolder: 'node-2' }),
      ['spec.preferredHolder: Forbidden: may only be specified if `strategy` is defined'],
    ],
    [
      'an unknown built-in strategy',
      withSpec({ strategy: 'Newest' }),
      ['spec.strategy: Unsupported value: "Newest": supported values: "OldestEmulationVersion"'],
    ],
    ['a missing namespace', { ...base, metadata: { name: 'x' } }, ['metadata.namespace: Required value']],
  ])('rejects %s', (_name, lease, want) => {
    expect(leaseKind.validate(lease).map(formatFieldError)).toEqual(want);
  });

  it('accepts a known or domain-prefixed strategy with a preferred holder', () => {
    expect(leaseKind.validate(withSpec({ strategy: 'OldestEmulationVersion', preferredHolder: 'a' }))).toEqual([]);
    expect(leaseKind.validate(withSpec({ strategy: 'example.com/mine' }))).toEqual([]);
  });

  it('lets holders change on update but not the name', () => {
    const renewed = withSpec({ holderIdentity: 'node-2', leaseTransitions: 1 });
    expect(leaseKind.validateUpdate(renewed, base)).toEqual([]);
    const renamed = { ...base, metadata: { ...base.metadata, name: 'node-2' } };
    expect(leaseKind.validateUpdate(renamed, base).map((e) => e.field)).toEqual(['metadata.name']);
  });
});
