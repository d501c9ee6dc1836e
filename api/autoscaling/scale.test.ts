import { describe, expect, it } from 'vitest';
import { formatFieldError } from '../field-errors.js';
import type { Scalable, Scale } from './scale.js';
import { applyScale, scaleOf, validateScale } from './scale.js';

const owner: Scalable = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: {
    name: 'web',
    namespace: 'default',
    uid: 'u1',
    resourceVersion: '42',
    creationTimestamp: '2024-05-01T10:00:00Z',
    labels: { app: 'web' },
    generation: 3,
  },
  spec: { replicas: 3, selector: { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'Exists' }] } },
  status: { replicas: 2 },
};

describe('scaleOf', () => {
  it('copies identity metadata, desired and observed replicas, and the selector as a string', () => {
    expect(scaleOf(owner)).toEqual({
      apiVersion: 'autoscaling/v1',
      kind: 'Scale',
      metadata: { name: 'web', namespace: 'default', uid: 'u1', resourceVersion: '42', creationTimestamp: '2024-05-01T10:00:00Z' },
      spec: { replicas: 3 },
      status: { replicas: 2, selector: 'app=web,tier' },
    });
  });

  it('reports 0 observed replicas for an owner without status', () => {
    const { status: _status, ...fresh } = owner;
    expect(scaleOf(fresh as Scalable).status).toEqual({ replicas: 0, selector: 'app=web,tier' });
  });
});

describe('applyScale', () => {
  it('writes spec.replicas and the Scale resourceVersion back, keeping everything else', () => {
    const scale: Scale = { metadata: { name: 'web', resourceVersion: '42' }, spec: { replicas: 5 } };
    const scaled = applyScale(owner, scale);
    expect(scaled.spec).toEqual({ ...owner.spec, replicas: 5 });
    expect(scaled.metadata).toEqual(owner.metadata);
    expect(scaled.status).toEqual(owner.status);
  });

  it('uses the Scale resourceVersion for the compare-and-swap, and treats absent replicas as 0', () => {
    const scaled = applyScale(owner, { metadata: { name: 'web', resourceVersion: '41' }, spec: {} });
    expect(scaled.metadata.resourceVersion).toBe('41');
    expect(scaled.spec.replicas).toBe(0);
  });
});

describe('validateScale', () => {
  const scale: Scale = { metadata: { name: 'web', namespace: 'default' }, spec: { replicas: 1 } };
  it.each<[string, Scale, string[]]>([
    ['a valid scale', scale, []],
    ['zero replicas', { ...scale, spec: { replicas: 0 } }, []],
    ['negative replicas', { ...scale, spec: { replicas: -1 } }, ['spec.replicas: Invalid value: -1: must be greater than or equal to 0']],
    ['a bad name', { ...scale, metadata: { name: 'Web', namespace: 'default' } }, [expect.stringMatching(/^metadata.name: Invalid value: "Web"/) as unknown as string]],
  ])('%s', (_name, s, want) => {
    expect(validateScale(s).map(formatFieldError)).toEqual(want);
  });
});
