/** Discovery facts of every core/v1 kind, as upstream serves them (kubectl's short names and `all`). */
import { describe, expect, it } from 'vitest';
import { apiVersionOf } from '../kind.js';
import { configMapKind } from './configmap.js';
import { endpointsKind } from './endpoints.js';
import { eventKind } from './event.js';
import { namespaceKind } from './namespace.js';
import { nodeKind } from './node.js';
import { defaultPod, podKind } from './pod.js';
import { secretKind } from './secret.js';
import { serviceKind } from './service.js';
import { serviceAccountKind } from './serviceaccount.js';
import { pod } from './test-fixtures.js';

describe('core/v1 kinds', () => {
  it.each([
    [podKind, 'Pod', 'pods', 'pod', ['po'], ['all'], true, true],
    [serviceKind, 'Service', 'services', 'service', ['svc'], ['all'], true, true],
    [namespaceKind, 'Namespace', 'namespaces', 'namespace', ['ns'], [], false, true],
    [nodeKind, 'Node', 'nodes', 'node', ['no'], [], false, true],
    [endpointsKind, 'Endpoints', 'endpoints', 'endpoints', ['ep'], [], true, false],
    [configMapKind, 'ConfigMap', 'configmaps', 'configmap', ['cm'], [], true, false],
    [secretKind, 'Secret', 'secrets', 'secret', [], [], true, false],
    [serviceAccountKind, 'ServiceAccount', 'serviceaccounts', 'serviceaccount', ['sa'], [], true, false],
    [eventKind, 'Event', 'events', 'event', ['ev'], [], true, false],
  ] as const)('%#: %s', (def, kind, plural, singular, shortNames, categories, namespaced, status) => {
    expect({
      kind: def.kind,
      plural: def.plural,
      singular: def.singular,
      shortNames: def.shortNames,
      categories: def.categories,
      namespaced: def.namespaced,
      status: def.hasStatusSubresource,
      apiVersion: apiVersionOf(def),
    }).toEqual({ kind, plural, singular, shortNames, categories, namespaced, status, apiVersion: 'v1' });
  });

  it('gives the pod field selectors upstream supports', () => {
    const p = defaultPod({ ...pod({ nodeName: 'node-1', hostNetwork: true }), status: { phase: 'Running', podIPs: [{ ip: '10.244.1.5' }], nominatedNodeName: '' } });
    expect(podKind.selectableFields?.(p)).toEqual({
      'spec.nodeName': 'node-1',
      'spec.restartPolicy': 'Always',
      'spec.schedulerName': 'default-scheduler',
      'spec.serviceAccountName': 'default',
      'spec.hostNetwork': 'true',
      'status.phase': 'Running',
      'status.podIP': '10.244.1.5',
      'status.nominatedNodeName': '',
    });
  });

  it('never mutates the object it defaults', () => {
    const input = pod();
    const frozen = JSON.parse(JSON.stringify(input)) as typeof input;
    podKind.default(input);
    expect(input).toEqual(frozen);
  });
});
