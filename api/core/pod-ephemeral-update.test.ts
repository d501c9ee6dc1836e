import { describe, expect, it } from 'vitest';
import { formatFieldError } from '../field-errors.js';
import type { EphemeralContainer, Pod } from './pod.js';
import { defaultPod, podKind, validatePodEphemeralContainersUpdate } from './pod.js';
import { container, pod } from './test-fixtures.js';

const stored: Pod = {
  ...defaultPod(pod({ initContainers: [container({ name: 'init' })] })),
  metadata: { name: 'web', namespace: 'default', uid: 'u1', resourceVersion: '7', creationTimestamp: '2024-01-01T00:00:00Z', labels: { app: 'web' } },
};

const debuggerC = (over: Partial<EphemeralContainer> = {}): EphemeralContainer => ({ name: 'debugger', image: 'busybox:1.36', stdin: true, tty: true, ...over });

/** The stored pod with these ephemeral containers, defaulted as the registry does. */
const withEphemeral = (base: Pod, ephemeral: readonly EphemeralContainer[] | undefined): Pod => {
  const { ephemeralContainers: _e, ...spec } = base.spec;
  return defaultPod({ ...base, spec: ephemeral === undefined ? spec : { ...spec, ephemeralContainers: ephemeral } });
};

const errors = (next: Pod, old: Pod): [string, string][] => validatePodEphemeralContainersUpdate(next, old).map((e) => [e.field, e.type]);

const oneDebugger = withEphemeral(stored, [debuggerC()]);

describe('pods/ephemeralcontainers updates', () => {
  it('accepts adding an ephemeral container, with or without a target', () => {
    expect(errors(oneDebugger, stored)).toEqual([]);
    expect(errors(withEphemeral(stored, [debuggerC({ targetContainerName: 'app' })]), stored)).toEqual([]);
  });

  it('accepts adding a second one next to an unchanged first, in any order', () => {
    const two = withEphemeral(stored, [debuggerC({ name: 'debugger-2' }), ...(oneDebugger.spec.ephemeralContainers ?? [])]);
    expect(errors(two, oneDebugger)).toEqual([]);
  });

  it('accepts a request that changes nothing', () => {
    expect(errors(oneDebugger, oneDebugger)).toEqual([]);
  });

  it('refuses a change to an existing one with a Forbidden error on spec.ephemeralContainers, worded as upstream', () => {
    const changed = withEphemeral(stored, [debuggerC({ image: 'busybox:1.37' })]);
    const errs = validatePodEphemeralContainersUpdate(changed, oneDebugger);
    expect(errs.map((e) => [e.field, e.type])).toEqual([['spec.ephemeralContainers', 'FieldValueForbidden']]);
    expect(errs[0]?.detail?.startsWith('existing ephemeral containers "debugger" may not be changed\n')).toBe(true);
    expect(errs[0]?.detail).toContain('- \timage: "busybox:1.36"');
    expect(errs[0]?.detail).toContain('+ \timage: "busybox:1.37"');
  });

  it('refuses removing one', () => {
    const errs = validatePodEphemeralContainersUpdate(withEphemeral(stored, []), oneDebugger);
    expect(errs.map(formatFieldError)).toEqual(['spec.ephemeralContainers: Forbidden: existing ephemeral containers "debugger" may not be removed\n']);
    expect(errors(withEphemeral(stored, undefined), oneDebugger)).toEqual([['spec.ephemeralContainers', 'FieldValueForbidden']]);
  });

  it.each<[string, EphemeralContainer, [string, string][]]>([
    ['with ports', debuggerC({ ports: [{ containerPort: 80, protocol: 'TCP' }] }), [['spec.ephemeralContainers[0].ports', 'FieldValueForbidden']]],
    ['with a probe', debuggerC({ readinessProbe: { exec: { command: ['true'] } } }), [['spec.ephemeralContainers[0].readinessProbe', 'FieldValueForbidden']]],
    ['with resources', debuggerC({ resources: { limits: { cpu: '1' } } }), [['spec.ephemeralContainers[0].resources', 'FieldValueForbidden']]],
    ['named like a container', debuggerC({ name: 'app' }), [['spec.ephemeralContainers[0].name', 'FieldValueDuplicate']]],
    ['named like an init container', debuggerC({ name: 'init' }), [['spec.ephemeralContainers[0].name', 'FieldValueDuplicate']]],
    ['targeting no container', debuggerC({ targetContainerName: 'nope' }), [['spec.ephemeralContainers[0].targetContainerName', 'FieldValueInvalid']]],
    ['without an image', debuggerC({ image: '' }), [['spec.ephemeralContainers[0].image', 'FieldValueRequired']]],
    ['with a bad name', debuggerC({ name: 'Debug_1' }), [['spec.ephemeralContainers[0].name', 'FieldValueInvalid']]],
  ])('refuses a new one %s, as validateEphemeralContainers does', (_name, c, expected) => {
    expect(errors(withEphemeral(stored, [c]), stored)).toEqual(expected);
  });

  it('refuses two new ones with the same name', () => {
    expect(errors(withEphemeral(stored, [debuggerC(), debuggerC()]), stored)).toEqual([['spec.ephemeralContainers[1].name', 'FieldValueDuplicate']]);
  });

  it('keeps the metadata update rules', () => {
    const renamed = { ...oneDebugger, metadata: { ...oneDebugger.metadata, name: 'other' } };
    expect(errors(renamed, stored)).toEqual([['metadata.name', 'FieldValueInvalid']]);
  });

  it('refuses static (mirror) pods with one error', () => {
    const mirror: Pod = { ...stored, metadata: { ...stored.metadata, annotations: { 'kubernetes.io/config.mirror': 'abc' } } };
    const errs = validatePodEphemeralContainersUpdate(withEphemeral(mirror, [debuggerC()]), mirror);
    expect(errs).toEqual([{ type: 'FieldValueForbidden', field: '', detail: 'static pods do not support ephemeral containers' }]);
  });

  it('is what the pod kind validates pods/ephemeralcontainers with; other subresources are left to validateUpdate', () => {
    expect(podKind.validateSubresourceUpdate?.('ephemeralcontainers', withEphemeral(stored, []), oneDebugger)).toHaveLength(1);
    expect(podKind.validateSubresourceUpdate?.('status', oneDebugger, stored)).toBeUndefined();
    // a plain update may not add one
    expect(podKind.validateUpdate(oneDebugger, stored).map((e) => [e.field, e.type])).toEqual([['spec', 'FieldValueForbidden']]);
  });
});

describe('ephemeral containers on create and at binding', () => {
  it('refuses them on create, as upstream, but a stored pod that gained them can still be bound', () => {
    const created: Pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'default' }, spec: { containers: [{ name: 'app', image: 'busybox' }], ephemeralContainers: [{ name: 'dbg', image: 'busybox', terminationMessagePolicy: 'File', imagePullPolicy: 'IfNotPresent' }] } } as Pod;
    const errs = podKind.validate(created).map((e) => [e.field, e.type, e.detail]);
    expect(errs).toContainEqual(['spec.ephemeralContainers', 'FieldValueForbidden', 'cannot have ephemeral containers on create']);
    const stored = podKind.default(created);
    const bound = { ...stored, spec: { ...stored.spec, nodeName: 'w1' } };
    expect(podKind.validateSubresourceUpdate?.('binding', bound, stored)).toEqual([]);
  });
});
