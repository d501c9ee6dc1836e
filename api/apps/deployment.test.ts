import { describe, expect, it } from 'vitest';
import { formatFieldError } from '../field-errors.js';
import type { PodSpec, PodTemplateSpec } from '../core/pod.js';
import type { Deployment, DeploymentSpec, DeploymentStatus } from './deployment.js';
import { deploymentKind } from './deployment.js';

const template: PodTemplateSpec = {
  metadata: { labels: { app: 'web' } },
  spec: { containers: [{ name: 'web', image: 'busybox' }] },
};

const raw: Deployment = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'default' },
  spec: { selector: { matchLabels: { app: 'web' } }, template },
};

const base = deploymentKind.default(raw);
const withSpec = (patch: Partial<DeploymentSpec>): Deployment => ({ ...base, spec: { ...base.spec, ...patch } });
const withTemplateSpec = (patch: Record<string, unknown>): Deployment =>
  withSpec({ template: { ...base.spec.template, spec: { ...base.spec.template.spec, ...patch } as PodSpec } });
const withRollingUpdate = (maxUnavailable: number | string, maxSurge: number | string): Deployment =>
  withSpec({ strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable, maxSurge } } });
const messages = (d: Deployment): string[] => deploymentKind.validate(d).map(formatFieldError);

describe('deploymentKind', () => {
  it('is apps/v1 deployments with short name deploy, in category all, with a status subresource', () => {
    expect(deploymentKind).toMatchObject({
      group: 'apps',
      version: 'v1',
      kind: 'Deployment',
      plural: 'deployments',
      singular: 'deployment',
      namespaced: true,
      shortNames: ['deploy'],
      categories: ['all'],
      hasStatusSubresource: true,
    });
  });

  it('marks the strategy retainKeys for strategic merge patch', () => {
    const spec = deploymentKind.schema.fields['spec'];
    expect(spec).toMatchObject({ fields: { strategy: { retainKeys: true } } });
  });
});

describe('defaultDeployment', () => {
  it('applies upstream apps/v1 defaults', () => {
    expect(base.spec).toMatchObject({
      replicas: 1,
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } },
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
    });
    expect(base.spec.template.spec?.restartPolicy).toBe('Always');
  });

  it('keeps what the user set', () => {
    const d = deploymentKind.default({
      ...raw,
      spec: {
        ...raw.spec,
        replicas: 0,
        revisionHistoryLimit: 0,
        progressDeadlineSeconds: 30,
        strategy: { rollingUpdate: { maxSurge: 2 } },
      },
    });
    expect(d.spec).toMatchObject({
      replicas: 0,
      revisionHistoryLimit: 0,
      progressDeadlineSeconds: 30,
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: 2 } },
    });
  });

  it('adds no rollingUpdate to a Recreate strategy', () => {
    const d = deploymentKind.default({ ...raw, spec: { ...raw.spec, strategy: { type: 'Recreate' } } });
    expect(d.spec.strategy).toEqual({ type: 'Recreate' });
  });

  it('does not mutate its argument', () => {
    const copy = structuredClone(raw);
    deploymentKind.default(raw);
    expect(raw).toEqual(copy);
  });
});

describe('validateDeployment', () => {
  it('accepts the defaulted base object', () => {
    expect(messages(base)).toEqual([]);
  });

  it.each<[string, Deployment, string[]]>([
    ['negative replicas', withSpec({ replicas: -1 }), ['spec.replicas: Invalid value: -1: must be greater than or equal to 0']],
    [
      'a selector that does not match the template',
      withSpec({ selector: { matchLabels: { app: 'db' } } }),
      ['spec.template.metadata.labels: Invalid value: {"app":"web"}: `selector` does not match template `labels`'],
    ],
    [
      'a set-based selector that does not match the template',
      withSpec({ selector: { matchExpressions: [{ key: 'app', operator: 'NotIn', values: ['web'] }] } }),
      ['spec.template.metadata.labels: Invalid value: {"app":"web"}: `selector` does not match template `labels`'],
    ],
    [
      'a missing selector',
      (() => { const { selector: _gone, ...spec } = base.spec; return { ...base, spec } as Deployment; })(),
      ['spec.selector: Required value', 'spec.template.metadata.labels: Invalid value: {"app":"web"}: `selector` does not match template `labels`'],
    ],
    ['an empty selector', withSpec({ selector: {} }), ['spec.selector: Invalid value: {}: empty selector is invalid for deployment']],
    [
      'an invalid selector operator',
      withSpec({ selector: { matchExpressions: [{ key: 'app', operator: 'Equals' as 'In', values: ['web'] }] } }),
      [
        'spec.selector.matchExpressions[0].operator: Invalid value: "Equals": not a valid selector operator',
        'spec.selector: Invalid value: {"matchExpressions":[{"key":"app","operator":"Equals","values":["web"]}]}: invalid label selector',
      ],
    ],
    [
      'both maxUnavailable and maxSurge zero',
      withRollingUpdate(0, 0),
      ['spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be 0 when `maxSurge` is 0'],
    ],
    [
      'both zero as percentages',
      withRollingUpdate('0%', '0%'),
      ['spec.strategy.rollingUpdate.maxUnavailable: Invalid value: "0%": may not be 0 when `maxSurge` is 0'],
    ],
    ['maxUnavailable over 100%', withRollingUpdate('150%', 1), ['spec.strategy.rollingUpdate.maxUnavailable: Invalid value: "150%": must not be greater than 100%']],
    [
      'a maxSurge that is neither int nor percent',
      withRollingUpdate(1, 'lots'),
      [
        "spec.strategy.rollingUpdate.maxSurge: Invalid value: \"lots\": a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')",
      ],
    ],
    ['a negative maxSurge', withRollingUpdate(1, -1), ['spec.strategy.rollingUpdate.maxSurge: Invalid value: -1: must be greater than or equal to 0']],
    [
      'Recreate with rollingUpdate',
      withSpec({ strategy: { type: 'Recreate', rollingUpdate: { maxSurge: 1 } } }),
      ["spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy `type` is 'Recreate'"],
    ],
    [
      'an unknown strategy type',
      withSpec({ strategy: { type: 'BlueGreen' as 'Recreate' } }),
      ['spec.strategy: Unsupported value: {"type":"BlueGreen"}: supported values: "Recreate", "RollingUpdate"'],
    ],
    [
      'a progress deadline not above minReadySeconds',
      withSpec({ minReadySeconds: 600 }),
      ['spec.progressDeadlineSeconds: Invalid value: 600: must be greater than minReadySeconds'],
    ],
    ['a negative revisionHistoryLimit', withSpec({ revisionHistoryLimit: -1 }), ['spec.revisionHistoryLimit: Invalid value: -1: must be greater than or equal to 0']],
    [
      'a template restartPolicy other than Always',
      withTemplateSpec({ restartPolicy: 'OnFailure' }),
      ['spec.template.spec.restartPolicy: Unsupported value: "OnFailure": supported values: "Always"'],
    ],
    [
      'a template activeDeadlineSeconds',
      withTemplateSpec({ activeDeadlineSeconds: 30 }),
      ['spec.template.spec.activeDeadlineSeconds: Forbidden: activeDeadlineSeconds in ReplicaSet is not Supported'],
    ],
    ['a missing namespace', { ...base, metadata: { name: 'web' } }, ['metadata.namespace: Required value']],
  ])('rejects %s', (_name, d, want) => {
    expect(messages(d)).toEqual(want);
  });

  it('accepts a matching set-based selector and integer rollout knobs', () => {
    expect(messages(withSpec({ selector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['web', 'api'] }] } }))).toEqual([]);
    expect(messages(withRollingUpdate(0, 1))).toEqual([]);
    expect(messages(withRollingUpdate('100%', 0))).toEqual([]);
  });
});

describe('validateDeploymentUpdate', () => {
  const withStatus = (status: DeploymentStatus): Deployment => ({ ...base, status });

  it('allows scaling and template changes', () => {
    expect(deploymentKind.validateUpdate(withSpec({ replicas: 5 }), base)).toEqual([]);
    expect(deploymentKind.validateUpdate(withTemplateSpec({ hostname: 'x' }), base)).toEqual([]);
  });

  it('forbids changing the selector in apps/v1', () => {
    const moved: Deployment = withSpec({
      selector: { matchLabels: { app: 'web', tier: 'a' } },
      template: { ...base.spec.template, metadata: { labels: { app: 'web', tier: 'a' } } },
    });
    expect(deploymentKind.validateUpdate(moved, base).map(formatFieldError)).toEqual([
      'spec.selector: Invalid value: {"matchLabels":{"app":"web","tier":"a"}}: field is immutable',
    ]);
  });

  it('does not count an empty matchExpressions list as a selector change', () => {
    const same = withSpec({ selector: { matchLabels: { app: 'web' }, matchExpressions: [] } });
    expect(deploymentKind.validateUpdate(same, base)).toEqual([]);
  });

  it.each<[string, DeploymentStatus, string[]]>([
    ['a consistent status', { replicas: 3, updatedReplicas: 3, readyReplicas: 2, availableReplicas: 2, observedGeneration: 1 }, []],
    ['more ready than existing', { replicas: 1, readyReplicas: 2, availableReplicas: 1 }, ['status.readyReplicas: Invalid value: 2: cannot be greater than status.replicas']],
    ['more available than ready', { replicas: 3, readyReplicas: 1, availableReplicas: 2 }, ['status.availableReplicas: Invalid value: 2: cannot be greater than readyReplicas']],
    ['negative unavailable', { replicas: 1, unavailableReplicas: -1 }, ['status.unavailableReplicas: Invalid value: -1: must be greater than or equal to 0']],
  ])('checks status: %s', (_name, status, want) => {
    expect(deploymentKind.validateUpdate(withStatus(status), base).map(formatFieldError)).toEqual(want);
  });

  it('refuses a decremented collisionCount', () => {
    const errs = deploymentKind.validateUpdate(withStatus({ collisionCount: 1 }), withStatus({ collisionCount: 2 }));
    expect(errs.map(formatFieldError)).toEqual(['status.collisionCount: Invalid value: 1: cannot be decremented']);
  });
});
