import { describe, expect, it } from 'vitest';
import type { Pod, PodSpec, PodStatus } from './pod.js';
import { defaultPod, podKind } from './pod.js';
import { POD_UPDATE_FORBIDDEN_MESSAGE } from './pod-update.js';
import { container, pod } from './test-fixtures.js';

const stored: Pod = {
  ...defaultPod(pod({ activeDeadlineSeconds: 600, tolerations: [{ key: 'k', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 60 }] })),
  metadata: { name: 'web', namespace: 'default', uid: 'u1', resourceVersion: '7', creationTimestamp: '2024-01-01T00:00:00Z', labels: { app: 'web' } },
};

const withSpec = (change: Partial<PodSpec>): Pod => defaultPod({ ...stored, spec: { ...stored.spec, ...change } });
const updateErrors = (next: Pod, old: Pod = stored): [string, string][] =>
  podKind.validateUpdate(next, old).map((e) => [e.field, e.type]);

describe('pod updates: what may change', () => {
  it.each<[string, Pod]>([
    ['nothing at all', stored],
    ['labels', { ...stored, metadata: { ...stored.metadata, labels: { app: 'web', v: '2' } } }],
    ['a container image', withSpec({ containers: [{ ...stored.spec.containers[0]!, image: 'busybox:1.37' }] })],
    ['a shorter activeDeadlineSeconds', withSpec({ activeDeadlineSeconds: 300 })],
    ['an added toleration', withSpec({ tolerations: [...(stored.spec.tolerations ?? []), { key: 'x', operator: 'Exists' }] })],
    ['a toleration with new tolerationSeconds', withSpec({ tolerations: [{ key: 'k', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 5 }] })],
    ['status only', { ...stored, status: { ...stored.status, phase: 'Running', podIP: '10.244.1.5', podIPs: [{ ip: '10.244.1.5' }] } }],
  ])('accepts %s', (_name, next) => expect(updateErrors(next)).toEqual([]));
});

describe('pod updates: what may not change', () => {
  it('refuses other spec changes with one Forbidden error on spec, worded as upstream', () => {
    const errs = podKind.validateUpdate(withSpec({ restartPolicy: 'Never', hostname: 'h' }), stored);
    expect(errs.map((e) => [e.field, e.type])).toEqual([['spec', 'FieldValueForbidden']]);
    expect(errs[0]?.detail?.startsWith(POD_UPDATE_FORBIDDEN_MESSAGE)).toBe(true);
    expect(errs[0]?.detail).toContain('spec.hostname, spec.restartPolicy');
  });

  it.each<[string, Pod, [string, string][]]>([
    ['a changed container port', withSpec({ containers: [{ ...stored.spec.containers[0]!, ports: [{ containerPort: 80, protocol: 'TCP' }] }] }), [['spec', 'FieldValueForbidden']]],
    ['an added container', withSpec({ containers: [...stored.spec.containers, defaultPod(pod({ containers: [container({ name: 'b' })] })).spec.containers[0]!] }), [['spec.containers', 'FieldValueForbidden']]],
    ['an emptied image', withSpec({ containers: [{ ...stored.spec.containers[0]!, image: '' }] }), [['spec.containers[0].image', 'FieldValueRequired']]],
    ['an image with spaces', withSpec({ containers: [{ ...stored.spec.containers[0]!, image: ' busybox ' }] }), [['spec.containers[0].image', 'FieldValueInvalid']]],
    ['a longer activeDeadlineSeconds', withSpec({ activeDeadlineSeconds: 900 }), [['spec.activeDeadlineSeconds', 'FieldValueInvalid']]],
    ['a removed activeDeadlineSeconds', (() => { const { activeDeadlineSeconds: _a, ...spec } = stored.spec; return { ...stored, spec }; })(), [['spec.activeDeadlineSeconds', 'FieldValueInvalid']]],
    ['a removed toleration', withSpec({ tolerations: [] }), [['spec.tolerations', 'FieldValueForbidden']]],
    ['a changed toleration value', withSpec({ tolerations: [{ key: 'k2', operator: 'Exists', effect: 'NoExecute' }] }), [['spec.tolerations', 'FieldValueForbidden']]],
    ['nodeName set by a plain update', withSpec({ nodeName: 'n1' }), [['spec', 'FieldValueForbidden']]],
    ['a renamed pod', { ...stored, metadata: { ...stored.metadata, name: 'other' } }, [['metadata.name', 'FieldValueInvalid']]],
    ['a changed qosClass', { ...stored, status: { ...stored.status, qosClass: 'Guaranteed' } }, [['status.qosClass', 'FieldValueInvalid']]],
  ])('refuses %s', (_name, next, expected) => expect(updateErrors(next)).toEqual(expected));

  it('lets terminationGracePeriodSeconds go from negative to 1 only', () => {
    const negative = withSpec({ terminationGracePeriodSeconds: -1 });
    expect(updateErrors(withSpec({ terminationGracePeriodSeconds: 1 }), negative)).toEqual([]);
    expect(updateErrors(withSpec({ terminationGracePeriodSeconds: 2 }), negative)).toEqual([['spec', 'FieldValueForbidden']]);
  });

  it('lets scheduling gates be removed but not added', () => {
    const gated = withSpec({ schedulingGates: [{ name: 'example.com/a' }] });
    expect(updateErrors(withSpec({ schedulingGates: [] }), gated)).toEqual([]);
    expect(updateErrors(withSpec({ schedulingGates: [{ name: 'example.com/b' }] }), gated)).toEqual([
      ['spec.schedulingGates[0].name', 'FieldValueForbidden'],
    ]);
  });

  it('lets a gated pod gain node selector entries', () => {
    const gated = withSpec({ schedulingGates: [{ name: 'g' }], nodeSelector: { a: '1' } });
    expect(updateErrors(withSpec({ schedulingGates: [{ name: 'g' }], nodeSelector: { a: '1', b: '2' } }), gated)).toEqual([]);
    expect(updateErrors(withSpec({ schedulingGates: [{ name: 'g' }], nodeSelector: { a: '2' } }), gated)).toEqual([['spec', 'FieldValueForbidden']]);
  });
});

describe('pod status updates', () => {
  const terminated: PodStatus = {
    phase: 'Succeeded',
    qosClass: 'BestEffort',
    containerStatuses: [{ name: 'app', ready: false, restartCount: 0, image: 'busybox', imageID: '', state: { terminated: { exitCode: 0 } } }],
  };
  const restarted: PodStatus = {
    ...terminated,
    containerStatuses: [{ name: 'app', ready: true, restartCount: 1, image: 'busybox', imageID: '', state: { running: {} } }],
  };
  it('lets a container of a restartPolicy Always pod restart', () => {
    expect(updateErrors({ ...stored, status: restarted }, { ...stored, status: terminated })).toEqual([]);
  });
  it('refuses to revive a container of a Never pod', () => {
    const never = withSpec({ restartPolicy: 'Never' });
    expect(updateErrors({ ...never, status: restarted }, { ...never, status: terminated })).toEqual([
      ['status.containerStatuses[0].state', 'FieldValueForbidden'],
    ]);
  });
  it('lets OnFailure restart a failed container but not a succeeded one', () => {
    const onFailure = withSpec({ restartPolicy: 'OnFailure' });
    const failed: PodStatus = { ...terminated, containerStatuses: [{ ...terminated.containerStatuses![0]!, state: { terminated: { exitCode: 1 } } }] };
    expect(updateErrors({ ...onFailure, status: restarted }, { ...onFailure, status: failed })).toEqual([]);
    expect(updateErrors({ ...onFailure, status: restarted }, { ...onFailure, status: terminated })).toHaveLength(1);
  });
  it('validates the new status', () => {
    expect(updateErrors({ ...stored, status: { ...stored.status, phase: 'Done' as 'Succeeded' } })).toEqual([['status.phase', 'FieldValueNotSupported']]);
  });
});
