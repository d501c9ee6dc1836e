import { describe, expect, it } from 'vitest';
import type { Node, NodeSpec } from './node.js';
import { defaultNode, nodeKind } from './node.js';

const node = (spec: NodeSpec = {}, status: Node['status'] = {}): Node => ({
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name: 'node-1', labels: { 'kubernetes.io/hostname': 'node-1' } },
  spec,
  status,
});

describe('node defaults', () => {
  it('copies capacity into allocatable and spells quantities canonically', () => {
    expect(defaultNode(node({}, { capacity: { cpu: '2', memory: '4194304Ki', pods: '110' } })).status).toEqual({
      capacity: { cpu: '2', memory: '4Gi', pods: '110' },
      allocatable: { cpu: '2', memory: '4Gi', pods: '110' },
    });
  });
  it('keeps podCIDR and podCIDRs in step', () => {
    expect(defaultNode(node({ podCIDR: '10.244.1.0/24' })).spec?.podCIDRs).toEqual(['10.244.1.0/24']);
    expect(defaultNode(node({ podCIDRs: ['10.244.2.0/24'] })).spec?.podCIDR).toBe('10.244.2.0/24');
  });
});

describe('node validation', () => {
  it('accepts a node', () => expect(nodeKind.validate(defaultNode(node({ podCIDR: '10.244.1.0/24', taints: [{ key: 'a', effect: 'NoSchedule' }] })))).toEqual([]));
  it.each<[string, Node, string[]]>([
    ['a namespace', { ...node(), metadata: { name: 'n', namespace: 'default' } }, ['metadata.namespace']],
    ['a name that is no DNS subdomain', { ...node(), metadata: { name: 'Node_1' } }, ['metadata.name']],
    ['a bad taint', node({ taints: [{ key: 'a', effect: 'Never' as 'NoSchedule' }] }), ['spec.taints[0].effect']],
    ['a bad pod CIDR', node({ podCIDRs: ['10.244.1.0/33'] }), ['spec.podCIDRs[0]']],
    ['two IPv4 pod CIDRs', node({ podCIDRs: ['10.244.1.0/24', '10.245.1.0/24'] }), ['spec.podCIDRs']],
    ['a bad capacity', node({}, { capacity: { cpu: 'two' } }), ['status.capacity[cpu]', 'status.allocatable[cpu]']],
  ])('reports %s', (_n, n, expected) => expect(nodeKind.validate(defaultNode(n)).map((e) => e.field)).toEqual(expected));
});

describe('node updates', () => {
  const stored = defaultNode({ ...node({ podCIDR: '10.244.1.0/24', providerID: 'knode://node-1' }), metadata: { name: 'node-1', uid: 'u' } });
  const update = (n: Node): string[] => nodeKind.validateUpdate(defaultNode(n), stored).map((e) => e.field);

  it.each<[string, Node]>([
    ['labels', { ...stored, metadata: { ...stored.metadata, labels: { role: 'worker' } } }],
    ['taints', { ...stored, spec: { ...stored.spec, taints: [{ key: 'node.kubernetes.io/not-ready', effect: 'NoExecute' }] } }],
    ['unschedulable', { ...stored, spec: { ...stored.spec, unschedulable: true } }],
    ['status', { ...stored, status: { capacity: { cpu: '4' }, addresses: [{ type: 'InternalIP', address: '10.0.0.2' }] } }],
  ])('accepts a change of %s', (_n, n) => expect(update(n)).toEqual([]));

  it('lets a pod CIDR be set once', () => {
    const bare = defaultNode({ ...node(), metadata: { name: 'node-1', uid: 'u' } });
    expect(nodeKind.validateUpdate(defaultNode({ ...bare, spec: { podCIDR: '10.244.3.0/24' } }), bare)).toEqual([]);
  });
  it.each<[string, Node, string[]]>([
    ['a changed pod CIDR', { ...stored, spec: { ...stored.spec, podCIDR: '10.244.9.0/24', podCIDRs: ['10.244.9.0/24'] } }, ['spec.podCIDRs']],
    ['a changed providerID', { ...stored, spec: { ...stored.spec, providerID: 'other' } }, ['spec.providerID']],
    ['another spec field', { ...stored, spec: { ...stored.spec, externalID: 'x' } }, ['']],
    ['a duplicated address', { ...stored, status: { addresses: [{ type: 'InternalIP', address: '10.0.0.2' }, { type: 'InternalIP', address: '10.0.0.2' }] } }, ['status.addresses[1]']],
  ])('refuses %s', (_n, n, expected) => expect(update(n)).toEqual(expected));
});

describe('nodeKind', () => {
  it('is registered like upstream', () => {
    expect(nodeKind).toMatchObject({ plural: 'nodes', shortNames: ['no'], namespaced: false, hasStatusSubresource: true });
    expect(nodeKind.selectableFields?.(node({ unschedulable: true }))).toEqual({ 'spec.unschedulable': 'true' });
  });
});
