import { describe, expect, it } from 'vitest';
import { formatFieldError } from '../field-errors.js';
import type { PodSpec, PodTemplateSpec } from '../core/pod.js';
import type { DaemonSet, DaemonSetSpec } from './daemonset.js';
import { daemonSetKind } from './daemonset.js';

const template: PodTemplateSpec = {
  metadata: { labels: { app: 'agent' } },
  spec: { containers: [{ name: 'agent', image: 'busybox' }] },
};

const raw: DaemonSet = {
  apiVersion: 'apps/v1',
  kind: 'DaemonSet',
  metadata: { name: 'agent', namespace: 'kube-system' },
  spec: { selector: { matchLabels: { app: 'agent' } }, template },
};

const base = daemonSetKind.default(raw);
const withSpec = (patch: Partial<DaemonSetSpec>): DaemonSet => ({ ...base, spec: { ...base.spec, ...patch } });
const withRollingUpdate = (maxUnavailable: number | string, maxSurge: number | string): DaemonSet =>
  withSpec({ updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable, maxSurge } } });
const messages = (ds: DaemonSet): string[] => daemonSetKind.validate(ds).map(formatFieldError);

describe('daemonSetKind', () => {
  it('is apps/v1 daemonsets with short name ds, in category all, with a status subresource', () => {
    expect(daemonSetKind).toMatchObject({
      group: 'apps',
      version: 'v1',
      plural: 'daemonsets',
      shortNames: ['ds'],
      categories: ['all'],
      hasStatusSubresource: true,
    });
  });

  it('does not mark updateStrategy retainKeys (only Deployment strategy is)', () => {
    expect(daemonSetKind.schema.fields['spec']).toMatchObject({ fields: { updateStrategy: { type: 'object' } } });
    expect(daemonSetKind.schema.fields['spec']).not.toMatchObject({ fields: { updateStrategy: { retainKeys: true } } });
  });
});

describe('defaultDaemonSet', () => {
  it('applies upstream apps/v1 defaults', () => {
    expect(base.spec).toMatchObject({
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } },
      revisionHistoryLimit: 10,
    });
    expect(base.spec.template.spec?.restartPolicy).toBe('Always');
  });

  it('leaves OnDelete without rollingUpdate and keeps user values', () => {
    const onDelete = daemonSetKind.default({ ...raw, spec: { ...raw.spec, updateStrategy: { type: 'OnDelete' }, revisionHistoryLimit: 2 } });
    expect(onDelete.spec.updateStrategy).toEqual({ type: 'OnDelete' });
    expect(onDelete.spec.revisionHistoryLimit).toBe(2);
    const surge = daemonSetKind.default({ ...raw, spec: { ...raw.spec, updateStrategy: { rollingUpdate: { maxSurge: '10%', maxUnavailable: 0 } } } });
    expect(surge.spec.updateStrategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: '10%', maxUnavailable: 0 } });
  });
});

describe('validateDaemonSet', () => {
  it('accepts the defaulted base object and a surge-based rollout', () => {
    expect(messages(base)).toEqual([]);
    expect(messages(withRollingUpdate(0, '10%'))).toEqual([]);
  });

  it.each<[string, DaemonSet, string[]]>([
    [
      'a selector that does not match the template',
      withSpec({ selector: { matchLabels: { app: 'other' } } }),
      ['spec.template.metadata.labels: Invalid value: {"app":"agent"}: `selector` does not match template `labels`'],
    ],
    [
      'a missing selector',
      (() => { const { selector: _gone, ...spec } = base.spec; return { ...base, spec } as DaemonSet; })(),
      ['spec.selector: Required value', 'spec.template.metadata.labels: Invalid value: {"app":"agent"}: `selector` does not match template `labels`'],
    ],
    ['an empty selector', withSpec({ selector: {} }), ['spec.selector: Invalid value: {}: empty selector is invalid for daemonset']],
    [
      'both maxUnavailable and maxSurge non-zero',
      withRollingUpdate(1, 1),
      ['spec.updateStrategy.rollingUpdate.maxSurge: Invalid value: 1: may not be set when maxUnavailable is non-zero'],
    ],
    [
      'both zero',
      withRollingUpdate(0, '0%'),
      ['spec.updateStrategy.rollingUpdate.maxUnavailable: Required value: cannot be 0 when maxSurge is 0'],
    ],
    [
      'maxSurge over 100%',
      withRollingUpdate(0, '101%'),
      ['spec.updateStrategy.rollingUpdate.maxSurge: Invalid value: "101%": must not be greater than 100%'],
    ],
    [
      'RollingUpdate without rollingUpdate',
      withSpec({ updateStrategy: { type: 'RollingUpdate' } }),
      ['spec.updateStrategy.rollingUpdate: Required value'],
    ],
    [
      'an unknown update strategy',
      withSpec({ updateStrategy: { type: 'Surge' as 'OnDelete' } }),
      ['spec.updateStrategy: Unsupported value: {"type":"Surge"}: supported values: "RollingUpdate", "OnDelete"'],
    ],
    [
      'a template restartPolicy other than Always',
      withSpec({ template: { ...base.spec.template, spec: { ...base.spec.template.spec, restartPolicy: 'Never' } as PodSpec } }),
      ['spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"'],
    ],
    [
      'a template activeDeadlineSeconds',
      withSpec({ template: { ...base.spec.template, spec: { ...base.spec.template.spec, activeDeadlineSeconds: 5 } as PodSpec } }),
      ['spec.template.spec.activeDeadlineSeconds: Forbidden: activeDeadlineSeconds in DaemonSet is not Supported'],
    ],
    ['a negative minReadySeconds', withSpec({ minReadySeconds: -1 }), ['spec.minReadySeconds: Invalid value: -1: must be greater than or equal to 0']],
  ])('rejects %s', (_name, ds, want) => {
    expect(messages(ds)).toEqual(want);
  });
});

describe('validateDaemonSetUpdate', () => {
  it('allows a new template but not a new selector', () => {
    const newImage = withSpec({ template: { ...base.spec.template, metadata: { labels: { app: 'agent', v: '2' } } } });
    expect(daemonSetKind.validateUpdate(newImage, base)).toEqual([]);
    const moved = withSpec({ selector: { matchLabels: { v: '2' } }, template: newImage.spec.template });
    expect(daemonSetKind.validateUpdate(moved, base).map(formatFieldError)).toEqual([
      'spec.selector: Invalid value: {"matchLabels":{"v":"2"}}: field is immutable',
    ]);
  });

  it('checks status counters', () => {
    const bad = { ...base, status: { currentNumberScheduled: 1, numberMisscheduled: 0, desiredNumberScheduled: -1, numberReady: 0 } };
    expect(daemonSetKind.validateUpdate(bad, base).map(formatFieldError)).toEqual([
      'status.desiredNumberScheduled: Invalid value: -1: must be greater than or equal to 0',
    ]);
  });
});
