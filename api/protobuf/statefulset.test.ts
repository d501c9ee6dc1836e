import { describe, expect, it } from 'vitest';
import { decodeObject } from './object.js';
import { allMessages } from './kinds.js';
import { encodeByTable, pb } from './test-encoder.js';

/**
 * apps/v1 StatefulSet bodies. kubectl has no `create statefulset` and `kubectl scale` sends an
 * autoscaling/v1 Scale, so no captured kubectl bytes: the hand-built messages below state the numbers of
 * k8s.io/api/apps/v1 generated.proto (StatefulSetSpec replicas 1, selector 2, template 3,
 * volumeClaimTemplates 4, serviceName 5, podManagementPolicy 6, updateStrategy 7, revisionHistoryLimit 8,
 * minReadySeconds 9, persistentVolumeClaimRetentionPolicy 10, ordinals 11; StatefulSetStatus
 * observedGeneration 1, replicas 2, readyReplicas 3, currentReplicas 4, updatedReplicas 5,
 * currentRevision 6, updateRevision 7, collisionCount 9, conditions 10, availableReplicas 11) and of
 * core/v1 PersistentVolumeClaim (metadata 1, spec 2, status 3; status phase 1, accessModes 2, capacity 3,
 * conditions 4), so a wrong number in the tables fails here.
 */
const template = pb.sub(3, pb.sub(1, pb.entry(11, 'app', 'db')), pb.sub(2, pb.sub(2, pb.str(1, 'db'), pb.str(2, 'postgres'))));

describe('StatefulSet (protobuf)', () => {
  it('reads every StatefulSetSpec field at its generated.proto number', () => {
    const claim = pb.sub(
      4,
      pb.sub(1, pb.str(1, 'data')),
      pb.sub(2, pb.str(1, 'ReadWriteOnce'), pb.sub(2, pb.quantityEntry(2, 'storage', '1Gi')), pb.str(5, 'fast'), pb.str(6, 'Filesystem')),
      pb.sub(3, pb.str(1, 'Pending'), pb.str(2, 'ReadWriteOnce'), pb.quantityEntry(3, 'storage', '1Gi')),
    );
    const spec = pb.msg(
      pb.int(1, 0), // replicas: a pointer, 0 kept
      pb.sub(2, pb.entry(1, 'app', 'db')),
      template,
      claim,
      pb.str(5, 'db'),
      pb.str(6, 'Parallel'),
      pb.sub(7, pb.str(1, 'RollingUpdate'), pb.sub(2, pb.int(1, 0), pb.intOrStr(2, '50%'))),
      pb.int(8, 0), // revisionHistoryLimit: a pointer, 0 kept
      pb.int(9, 0), // minReadySeconds: not a pointer, 0 dropped
      pb.sub(10, pb.str(1, 'Delete'), pb.str(2, 'Retain')),
      pb.sub(11, pb.int(1, 0)), // ordinals.start: always in the JSON upstream
    );
    const obj = decodeObject(pb.envelope('apps/v1', 'StatefulSet', pb.msg(pb.sub(1, pb.str(1, 'db')), pb.bytes(2, spec))));
    expect(obj['apiVersion']).toBe('apps/v1');
    expect(obj['kind']).toBe('StatefulSet');
    expect(obj['spec']).toEqual({
      replicas: 0,
      selector: { matchLabels: { app: 'db' } },
      template: { metadata: { labels: { app: 'db' } }, spec: { containers: [{ name: 'db', image: 'postgres' }] } },
      volumeClaimTemplates: [
        {
          metadata: { name: 'data' },
          spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, storageClassName: 'fast', volumeMode: 'Filesystem' },
          status: { phase: 'Pending', accessModes: ['ReadWriteOnce'], capacity: { storage: '1Gi' } },
        },
      ],
      serviceName: 'db',
      podManagementPolicy: 'Parallel',
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0, maxUnavailable: '50%' } },
      revisionHistoryLimit: 0,
      persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Delete', whenScaled: 'Retain' },
      ordinals: { start: 0 },
    });
  });

  it('reads a StatefulSetStatus: zero counters dropped except replicas and availableReplicas', () => {
    const status = pb.msg(
      pb.int(1, 4),
      pb.int(2, 0),
      pb.int(3, 0),
      pb.int(4, 0),
      pb.int(5, 0),
      pb.str(6, 'db-5d8f'),
      pb.str(7, 'db-7c9b'),
      pb.int(9, 0), // collisionCount: a pointer
      pb.sub(10, pb.str(1, 'Stalled'), pb.str(2, 'False'), pb.time(3, 1767268800), pb.str(4, 'Fine'), pb.str(5, 'ok')),
      pb.int(11, 0),
    );
    const obj = decodeObject(pb.envelope('apps/v1', 'StatefulSet', pb.msg(pb.sub(1, pb.str(1, 'db')), pb.bytes(3, status))));
    expect(obj['status']).toEqual({
      observedGeneration: 4,
      replicas: 0,
      currentRevision: 'db-5d8f',
      updateRevision: 'db-7c9b',
      collisionCount: 0,
      conditions: [{ type: 'Stalled', status: 'False', lastTransitionTime: '2026-01-01T12:00:00Z', reason: 'Fine', message: 'ok' }],
      availableReplicas: 0,
    });
  });

  it('reads an OnDelete strategy and a claim condition', () => {
    const claim = pb.sub(4, pb.sub(1, pb.str(1, 'logs')), pb.sub(3, pb.sub(4, pb.str(1, 'Resizing'), pb.str(2, 'True'), pb.time(4, 1767268800))));
    const spec = pb.msg(pb.sub(2, pb.entry(1, 'app', 'db')), template, claim, pb.sub(7, pb.str(1, 'OnDelete')), pb.int(9, 10), pb.sub(11, pb.int(1, 5)));
    const obj = decodeObject(pb.envelope('apps/v1', 'StatefulSet', pb.msg(pb.sub(1, pb.str(1, 'db')), pb.bytes(2, spec))));
    expect(obj['spec']).toMatchObject({
      volumeClaimTemplates: [{ metadata: { name: 'logs' }, status: { conditions: [{ type: 'Resizing', status: 'True', lastTransitionTime: '2026-01-01T12:00:00Z' }] } }],
      updateStrategy: { type: 'OnDelete' },
      minReadySeconds: 10,
      ordinals: { start: 5 },
    });
  });

  it('round-trips a full StatefulSet through the tables', () => {
    const spec = {
      replicas: 3,
      selector: { matchLabels: { app: 'db' } },
      template: {
        metadata: { labels: { app: 'db' } },
        spec: { containers: [{ name: 'db', image: 'postgres', volumeMounts: [{ name: 'data', mountPath: '/data' }] }], restartPolicy: 'Always' },
      },
      volumeClaimTemplates: [
        {
          metadata: { name: 'data', labels: { app: 'db' } },
          spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, storageClassName: '', volumeMode: 'Filesystem' },
          status: { phase: 'Pending' },
        },
      ],
      serviceName: 'db',
      podManagementPolicy: 'OrderedReady',
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 1, maxUnavailable: 2 } },
      revisionHistoryLimit: 10,
      minReadySeconds: 5,
      persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Delete' },
      ordinals: { start: 1 },
    };
    const status = {
      observedGeneration: 2,
      replicas: 3,
      readyReplicas: 2,
      currentReplicas: 1,
      updatedReplicas: 2,
      currentRevision: 'db-1',
      updateRevision: 'db-2',
      collisionCount: 1,
      conditions: [{ type: 'Progressing', status: 'True', lastTransitionTime: '2026-01-01T12:00:00Z', reason: 'Rolling', message: 'rolling' }],
      availableReplicas: 2,
    };
    const raw = encodeByTable(allMessages, 'apps.v1.StatefulSet', { metadata: { name: 'db', namespace: 'default' }, spec, status });
    const obj = decodeObject(pb.envelope('apps/v1', 'StatefulSet', raw));
    expect(obj).toEqual({ apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'db', namespace: 'default' }, spec, status });
  });
});
