import { describe, expect, it } from 'vitest';
import { formatFieldError } from '../field-errors.js';
import type { PodSpec, PodTemplateSpec } from '../core/pod.js';
import type { ReplicaSet, ReplicaSetSpec, ReplicaSetStatus } from './replicaset.js';
import { replicaSetKind } from './replicaset.js';

const template: PodTemplateSpec = {
  metadata: { labels: { app: 'web', 'pod-template-hash': 'abc' } },
  spec: { containers: [{ name: 'web', image: 'busybox' }] },
};

const raw: ReplicaSet = {
  apiVersion: 'apps/v1',
  kind: 'ReplicaSet',
  metadata: { name: 'web-abc', namespace: 'default' },
  spec: { selector: { matchLabels: { app: 'web', 'pod-template-hash': 'abc' } }, template },
};

const base = replicaSetKind.default(raw);
const withSpec = (patch: Partial<ReplicaSetSpec>): ReplicaSet => ({ ...base, spec: { ...base.spec, ...patch } });
const messages = (rs: ReplicaSet): string[] => replicaSetKind.validate(rs).map(formatFieldError);

describe('replicaSetKind', () => {
  it('is apps/v1 replicasets with short name rs, in category all, with a status subresource', () => {
    expect(replicaSetKind).toMatchObject({
      group: 'apps',
      version: 'v1',
      plural: 'replicasets',
      shortNames: ['rs'],
      categories: ['all'],
      hasStatusSubresource: true,
    });
  });

  it('defaults replicas to 1 and the template restartPolicy to Always', () => {
    expect(base.spec.replicas).toBe(1);
    expect(base.spec.template?.spec?.restartPolicy).toBe('Always');
    expect(replicaSetKind.default({ ...raw, spec: { ...raw.spec, replicas: 0 } }).spec.replicas).toBe(0);
  });

  it('exposes status.replicas as a selectable field', () => {
    expect(replicaSetKind.selectableFields?.({ ...base, status: { replicas: 3 } })).toEqual({ 'status.replicas': '3' });
    expect(replicaSetKind.selectableFields?.(base)).toEqual({ 'status.replicas': '0' });
  });
});

describe('validateReplicaSet', () => {
  it('accepts the defaulted base object', () => {
    expect(messages(base)).toEqual([]);
  });

  it.each<[string, ReplicaSet, string[]]>([
    ['negative replicas', withSpec({ replicas: -2 }), ['spec.replicas: Invalid value: -2: must be greater than or equal to 0']],
    ['negative minReadySeconds', withSpec({ minReadySeconds: -1 }), ['spec.minReadySeconds: Invalid value: -1: must be greater than or equal to 0']],
    [
      'a selector the template labels do not satisfy',
      withSpec({ selector: { matchLabels: { app: 'web', 'pod-template-hash': 'def' } } }),
      ['spec.template.metadata.labels: Invalid value: {"app":"web","pod-template-hash":"abc"}: `selector` does not match template `labels`'],
    ],
    // Upstream's message says "deployment" for ReplicaSets as well.
    ['an empty selector', withSpec({ selector: {} }), ['spec.selector: Invalid value: {}: empty selector is invalid for deployment']],
    [
      'a template restartPolicy Never',
      withSpec({ template: { ...template, spec: { ...base.spec.template?.spec, restartPolicy: 'Never' } as PodSpec } }),
      ['spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"'],
    ],
  ])('rejects %s', (_name, rs, want) => {
    expect(messages(rs)).toEqual(want);
  });
});

describe('validateReplicaSetUpdate', () => {
  it('allows scaling but not a new selector', () => {
    expect(replicaSetKind.validateUpdate(withSpec({ replicas: 4 }), base)).toEqual([]);
    const moved = withSpec({ selector: { matchLabels: { app: 'web' } } });
    expect(replicaSetKind.validateUpdate(moved, base).map(formatFieldError)).toEqual([
      'spec.selector: Invalid value: {"matchLabels":{"app":"web"}}: field is immutable',
    ]);
  });

  it.each<[string, ReplicaSetStatus, string[]]>([
    ['a consistent status', { replicas: 2, fullyLabeledReplicas: 2, readyReplicas: 2, availableReplicas: 1, observedGeneration: 1 }, []],
    [
      'more fully labeled than existing',
      { replicas: 1, fullyLabeledReplicas: 2 },
      ['status.fullyLabeledReplicas: Invalid value: 2: cannot be greater than status.replicas'],
    ],
    [
      'a negative observedGeneration',
      { replicas: 1, observedGeneration: -1 },
      ['status.observedGeneration: Invalid value: -1: must be greater than or equal to 0'],
    ],
  ])('checks status: %s', (_name, status, want) => {
    expect(replicaSetKind.validateUpdate({ ...base, status }, base).map(formatFieldError)).toEqual(want);
  });
});
