import { describe, expect, it } from 'vitest';
import { formatFieldError } from '../field-errors.js';
import type { PodSpec, PodTemplateSpec } from '../core/pod.js';
import type { StatefulSet, StatefulSetSpec, StatefulSetStatus } from './statefulset.js';
import { STATEFULSET_SPEC_UPDATE_FORBIDDEN, statefulSetKind } from './statefulset.js';

const template: PodTemplateSpec = {
  metadata: { labels: { app: 'db' } },
  spec: { containers: [{ name: 'db', image: 'postgres', volumeMounts: [{ name: 'data', mountPath: '/var/lib/postgresql' }] }] },
};

const raw: StatefulSet = {
  apiVersion: 'apps/v1',
  kind: 'StatefulSet',
  metadata: { name: 'db', namespace: 'default' },
  spec: { selector: { matchLabels: { app: 'db' } }, serviceName: 'db', template },
};

const base = statefulSetKind.default(raw);
const withSpec = (patch: Partial<StatefulSetSpec>): StatefulSet => ({ ...base, spec: { ...base.spec, ...patch } });
const withPodSpec = (patch: Partial<PodSpec>): StatefulSet =>
  withSpec({ template: { ...base.spec.template, spec: { ...base.spec.template.spec, ...patch } as PodSpec } });
const messages = (sts: StatefulSet): string[] => statefulSetKind.validate(sts).map(formatFieldError);
const updateMessages = (sts: StatefulSet, old: StatefulSet = base): string[] => statefulSetKind.validateUpdate(sts, old).map(formatFieldError);

describe('statefulSetKind', () => {
  it('is apps/v1 statefulsets with short name sts, in category all, with a status subresource', () => {
    expect(statefulSetKind).toMatchObject({
      group: 'apps',
      version: 'v1',
      kind: 'StatefulSet',
      plural: 'statefulsets',
      singular: 'statefulset',
      namespaced: true,
      shortNames: ['sts'],
      categories: ['all'],
      hasStatusSubresource: true,
    });
  });

  it('keeps volumeClaimTemplates loose and replaced whole by a patch (atomic upstream)', () => {
    expect(statefulSetKind.schema.fields['spec']).toMatchObject({ fields: { volumeClaimTemplates: { type: 'array', items: { type: 'any' } } } });
    expect(statefulSetKind.schema.fields['spec']).not.toMatchObject({ fields: { volumeClaimTemplates: { strategy: 'merge' } } });
  });
});

describe('defaultStatefulSet', () => {
  it('applies upstream apps/v1 defaults', () => {
    expect(base.spec).toMatchObject({
      replicas: 1,
      podManagementPolicy: 'OrderedReady',
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } },
      revisionHistoryLimit: 10,
      persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Retain' },
      serviceName: 'db',
    });
    // maxUnavailable is defaulted upstream only behind the MaxUnavailableStatefulSet feature gate
    expect(base.spec.updateStrategy?.rollingUpdate).toEqual({ partition: 0 });
    expect(base.spec.template.spec?.restartPolicy).toBe('Always');
    expect(base.spec.volumeClaimTemplates).toBeUndefined();
    expect(base.spec.ordinals).toBeUndefined();
  });

  it('keeps user values; an explicit RollingUpdate without rollingUpdate gets none, OnDelete none either', () => {
    const set = statefulSetKind.default({
      ...raw,
      spec: {
        ...raw.spec,
        replicas: 0,
        podManagementPolicy: 'Parallel',
        revisionHistoryLimit: 0,
        persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Delete' },
        updateStrategy: { type: 'RollingUpdate' },
      },
    });
    expect(set.spec).toMatchObject({
      replicas: 0,
      podManagementPolicy: 'Parallel',
      revisionHistoryLimit: 0,
      persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Delete', whenScaled: 'Retain' },
    });
    expect(set.spec.updateStrategy).toEqual({ type: 'RollingUpdate' });
    const onDelete = statefulSetKind.default({ ...raw, spec: { ...raw.spec, updateStrategy: { type: 'OnDelete' } } });
    expect(onDelete.spec.updateStrategy).toEqual({ type: 'OnDelete' });
    const partial = statefulSetKind.default({ ...raw, spec: { ...raw.spec, updateStrategy: { rollingUpdate: { maxUnavailable: '50%' } } } });
    expect(partial.spec.updateStrategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '50%', partition: 0 } });
  });

  it('prints claim templates as upstream does: apiVersion/kind set, volumeMode Filesystem, phase Pending', () => {
    const set = statefulSetKind.default({
      ...raw,
      spec: {
        ...raw.spec,
        volumeClaimTemplates: [
          { metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } },
          { apiVersion: 'v2', kind: 'Other', metadata: { name: 'logs' }, spec: { volumeMode: 'Block' }, status: { phase: 'Bound' } },
        ],
      },
    });
    expect(set.spec.volumeClaimTemplates).toEqual([
      {
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        metadata: { name: 'data' },
        spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, volumeMode: 'Filesystem' },
        status: { phase: 'Pending' },
      },
      { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'logs' }, spec: { volumeMode: 'Block' }, status: { phase: 'Bound' } },
    ]);
    // idempotent: the registry defaults again on every update
    expect(statefulSetKind.default(set)).toEqual(set);
  });
});

describe('validateStatefulSet', () => {
  it('accepts the defaulted object, claim templates, ordinals, an empty serviceName and a negative revisionHistoryLimit', () => {
    expect(messages(base)).toEqual([]);
    const full = statefulSetKind.default({
      ...raw,
      spec: {
        ...raw.spec,
        serviceName: '',
        ordinals: { start: 3 },
        minReadySeconds: 5,
        revisionHistoryLimit: -1,
        volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'] } }],
        updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2, maxUnavailable: '100%' } },
      },
    });
    expect(messages(full)).toEqual([]);
  });

  it('does not validate the pod spec (upstream leaves it to the pods), only the template labels and annotations', () => {
    expect(messages(withPodSpec({ containers: [{ name: 'Bad_Name', image: '' }] }))).toEqual([]);
    const badLabels = withSpec({ template: { ...base.spec.template, metadata: { labels: { app: 'db', 'bad key!': 'x' } } } });
    expect(messages(badLabels)).toEqual([
      expect.stringMatching(/^spec\.template\.labels: Invalid value: "bad key!": name part must consist of alphanumeric characters/),
    ]);
  });

  it.each<[string, StatefulSet, string[]]>([
    ['a name that is not a DNS label', { ...base, metadata: { ...base.metadata, name: 'db.main' } }, [
      'metadata.name: Invalid value: "db.main": must not contain dots',
    ]],
    ['negative replicas', withSpec({ replicas: -1 }), ['spec.replicas: Invalid value: -1: must be greater than or equal to 0']],
    ['a negative minReadySeconds', withSpec({ minReadySeconds: -1 }), ['spec.minReadySeconds: Invalid value: -1: must be greater than or equal to 0']],
    ['a negative ordinals.start', withSpec({ ordinals: { start: -2 } }), ['spec.ordinals.start: Invalid value: -2: must be greater than or equal to 0']],
    ['a missing podManagementPolicy', withSpec({ podManagementPolicy: '' as 'Parallel' }), ['spec.podManagementPolicy: Required value']],
    [
      'an unknown podManagementPolicy',
      withSpec({ podManagementPolicy: 'Random' as 'Parallel' }),
      ['spec.podManagementPolicy: Invalid value: "Random": must be \'OrderedReady\' or \'Parallel\''],
    ],
    ['a missing update strategy type', withSpec({ updateStrategy: {} }), ['spec.updateStrategy: Required value']],
    [
      'an unknown update strategy',
      withSpec({ updateStrategy: { type: 'Surge' as 'OnDelete' } }),
      ['spec.updateStrategy: Invalid value: {"type":"Surge"}: must be \'RollingUpdate\' or \'OnDelete\''],
    ],
    [
      'OnDelete with rollingUpdate',
      withSpec({ updateStrategy: { type: 'OnDelete', rollingUpdate: { partition: 1 } } }),
      ['spec.updateStrategy.rollingUpdate: Invalid value: {"partition":1}: only allowed for updateStrategy \'RollingUpdate\''],
    ],
    [
      'a negative partition',
      withSpec({ updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: -1 } } }),
      ['spec.updateStrategy.rollingUpdate.partition: Invalid value: -1: must be greater than or equal to 0'],
    ],
    [
      'maxUnavailable 0',
      withSpec({ updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0, maxUnavailable: 0 } } }),
      ['spec.updateStrategy.rollingUpdate.maxUnavailable: Invalid value: 0: cannot be 0'],
    ],
    [
      'maxUnavailable 0%',
      withSpec({ updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '0%' } } }),
      ['spec.updateStrategy.rollingUpdate.maxUnavailable: Invalid value: "0%": cannot be 0'],
    ],
    [
      'maxUnavailable over 100%',
      withSpec({ updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '150%' } } }),
      ['spec.updateStrategy.rollingUpdate.maxUnavailable: Invalid value: "150%": must not be greater than 100%'],
    ],
    [
      'a negative maxUnavailable',
      withSpec({ updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: -1 } } }),
      ['spec.updateStrategy.rollingUpdate.maxUnavailable: Invalid value: -1: must be greater than or equal to 0'],
    ],
    [
      'an unknown retention policy',
      withSpec({ persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Keep' as 'Retain', whenScaled: 'Delete' } }),
      ['spec.persistentVolumeClaimRetentionPolicy.whenDeleted: Unsupported value: "Keep": supported values: "Retain", "Delete"'],
    ],
    [
      'a selector that does not match the template',
      withSpec({ selector: { matchLabels: { app: 'other' } } }),
      ['spec.template.metadata.labels: Invalid value: {"app":"db"}: `selector` does not match template `labels`'],
    ],
    [
      'a missing selector',
      (() => { const { selector: _gone, ...spec } = base.spec; return { ...base, spec } as StatefulSet; })(),
      ['spec.selector: Required value', 'spec.template.metadata.labels: Invalid value: {"app":"db"}: `selector` does not match template `labels`'],
    ],
    ['an empty selector', withSpec({ selector: {} }), ['spec.selector: Invalid value: {}: empty selector is invalid for statefulset']],
    [
      'a template restartPolicy other than Always',
      withPodSpec({ restartPolicy: 'OnFailure' }),
      ['spec.template.spec.restartPolicy: Unsupported value: "OnFailure": supported values: "Always"'],
    ],
    [
      'a template activeDeadlineSeconds',
      withPodSpec({ activeDeadlineSeconds: 30 }),
      ['spec.template.spec.activeDeadlineSeconds: Forbidden: activeDeadlineSeconds in StatefulSet is not Supported'],
    ],
    [
      'claim templates without a name, or not objects',
      withSpec({ volumeClaimTemplates: [{ spec: {} }, { metadata: { name: '' } }, 'data' as never] }),
      [
        'spec.volumeClaimTemplates[0].metadata.name: Required value',
        'spec.volumeClaimTemplates[1].metadata.name: Required value',
        'spec.volumeClaimTemplates[2]: Invalid value: "data": must be a PersistentVolumeClaim object',
      ],
    ],
  ])('rejects %s', (_name, sts, want) => {
    expect(messages(sts)).toEqual(want);
  });
});

describe('validateStatefulSetUpdate', () => {
  it('allows replicas, ordinals, template, updateStrategy, revisionHistoryLimit, retention policy and minReadySeconds to change', () => {
    const changed = withSpec({
      replicas: 5,
      ordinals: { start: 1 },
      template: { ...base.spec.template, spec: { ...base.spec.template.spec, containers: [{ name: 'db', image: 'postgres:17' }] } as PodSpec },
      updateStrategy: { type: 'OnDelete' },
      revisionHistoryLimit: 3,
      persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Delete', whenScaled: 'Delete' },
      minReadySeconds: 10,
    });
    expect(updateMessages(changed)).toEqual([]);
  });

  it('treats an empty serviceName as an absent one, as Go does', () => {
    const { serviceName: _s, ...spec } = base.spec;
    const without = { ...base, spec } as StatefulSet;
    expect(updateMessages(withSpec({ serviceName: '' }), without)).toEqual([]);
    expect(updateMessages(without, withSpec({ serviceName: '' }))).toEqual([]);
  });

  it.each<[string, StatefulSet]>([
    ['a new selector', withSpec({ selector: { matchLabels: { app: 'db', tier: 'x' } }, template: { ...base.spec.template, metadata: { labels: { app: 'db', tier: 'x' } } } })],
    ['a new serviceName', withSpec({ serviceName: 'db-headless' })],
    ['a new podManagementPolicy', withSpec({ podManagementPolicy: 'Parallel' })],
    ['new volumeClaimTemplates', withSpec({ volumeClaimTemplates: [{ metadata: { name: 'data' } }] })],
  ])('forbids %s', (_name, sts) => {
    expect(updateMessages(sts)).toEqual([`spec: Forbidden: ${STATEFULSET_SPEC_UPDATE_FORBIDDEN}`]);
  });

  it('uses upstream wording for the forbidden update', () => {
    expect(STATEFULSET_SPEC_UPDATE_FORBIDDEN).toBe(
      "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
    );
  });

  it('does not check the name format again (older sets may have DNS-subdomain names)', () => {
    const old = { ...base, metadata: { ...base.metadata, name: 'db.main' } };
    expect(updateMessages({ ...old, spec: { ...old.spec, replicas: 2 } }, old)).toEqual([]);
  });

  it('checks status counters and collisionCount', () => {
    const withStatus = (status: StatefulSetStatus): StatefulSet => ({ ...base, status });
    expect(updateMessages(withStatus({ replicas: 3, readyReplicas: 3, currentReplicas: 2, updatedReplicas: 1, availableReplicas: 3, collisionCount: 0 }))).toEqual([]);
    expect(updateMessages(withStatus({ replicas: 1, readyReplicas: 2, currentReplicas: -1, availableReplicas: 2 }))).toEqual([
      'status.currentReplicas: Invalid value: -1: must be greater than or equal to 0',
      'status.readyReplicas: Invalid value: 2: cannot be greater than status.replicas',
      'status.availableReplicas: Invalid value: 2: cannot be greater than status.replicas',
    ]);
    expect(updateMessages(withStatus({ replicas: 2, readyReplicas: 1, availableReplicas: 2 }))).toEqual([
      'status.availableReplicas: Invalid value: 2: cannot be greater than status.readyReplicas',
    ]);
    expect(updateMessages(withStatus({ replicas: 0, collisionCount: 1 }), withStatus({ replicas: 0, collisionCount: 2 }))).toEqual([
      'status.collisionCount: Invalid value: 1: cannot be decremented',
    ]);
  });
});
