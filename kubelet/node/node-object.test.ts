import { describe, expect, it } from 'vitest';
import type { Node } from '../../api/core/node.js';
import { nodeSchema } from '../../api/core/node.js';
import { applyStrategicMergePatch } from '../../control-plane/apiserver/patch/strategic-merge-patch.js';
import type { JsonObject } from '../../control-plane/apiserver/patch/json-util.js';
import { DEFAULT_EVICTION_HARD, withNodeDefaults } from './config.js';
import type { NodeConfig } from './config.js';
import type { MachineInfo } from './host-info.js';
import type { NodeStatusInput } from './node-object.js';
import { buildCapacity, buildNode, buildNodeStatus, buildStatusPatch, computeAllocatable, reconcileNodeLabels } from './node-object.js';
import { NO_PRESSURE } from './pressure.js';

const Ki = 1024;
const Gi = 1024 ** 3;
const machine: MachineInfo = {
  cpus: 4,
  memoryBytes: 16331868 * Ki,
  hugepages: {},
  ephemeralStorageBytes: 100 * Gi,
  machineID: 'mid',
  systemUUID: 'uuid',
  bootID: 'boot',
  kernelVersion: '6.1.0',
  osImage: 'Debian GNU/Linux 12 (bookworm)',
  architecture: 'amd64',
};
const baseConfig: NodeConfig = { nodeName: 'n1', nodeIPs: ['10.0.0.11'] };
const NOW = new Date('2026-01-01T00:00:00Z');

function input(over: Partial<NodeStatusInput> = {}, config: NodeConfig = baseConfig): NodeStatusInput {
  return {
    config: withNodeDefaults(config),
    machine,
    runtime: { runtimeName: 'containerd', runtimeVersion: '1.6.20', handlers: [{ name: '' }] },
    notReadyReasons: [],
    pressure: NO_PRESSURE,
    now: NOW,
    ...over,
  };
}

describe('buildCapacity / computeAllocatable', () => {
  it('reports cpu, memory in Ki, pods and ephemeral storage', () => {
    expect(buildCapacity(machine, 110)).toEqual({ cpu: '4', 'ephemeral-storage': '100Gi', memory: '16331868Ki', pods: '110' });
  });

  it.each<[string, Record<string, string>, MachineInfo, Record<string, string>]>([
    [
      'hard eviction thresholds only (100Mi memory, 10% nodefs)',
      {},
      machine,
      { cpu: '4', 'ephemeral-storage': '90Gi', memory: '16229468Ki', pods: '110' },
    ],
    [
      'reservations come off too',
      { cpu: '100m', memory: '1Gi', 'ephemeral-storage': '1Gi' },
      machine,
      { cpu: '3900m', 'ephemeral-storage': '89Gi', memory: '15180892Ki', pods: '110' },
    ],
    ['never below zero', { cpu: '8' }, machine, { cpu: '0', 'ephemeral-storage': '90Gi', memory: '16229468Ki', pods: '110' }],
    [
      'huge pages are taken out of memory and kept whole',
      {},
      { ...machine, hugepages: { '2Mi': 512 * 1024 * 1024 } },
      { cpu: '4', 'ephemeral-storage': '90Gi', 'hugepages-2Mi': '512Mi', memory: '15705180Ki', pods: '110' },
    ],
  ])('%s', (_name, reserved, m, want) => {
    expect(computeAllocatable(buildCapacity(m, 110), reserved, DEFAULT_EVICTION_HARD)).toEqual(want);
  });
});

describe('buildNode', () => {
  it('registers with the default labels, addresses, node info and a Ready status', () => {
    const node = buildNode(input({}, { ...baseConfig, hostname: 'Host-1', labels: { 'node-role.kubernetes.io/worker': '' } }));
    expect(node.metadata.labels).toEqual({
      'node-role.kubernetes.io/worker': '',
      'kubernetes.io/hostname': 'host-1',
      'kubernetes.io/os': 'linux',
      'kubernetes.io/arch': 'amd64',
      'beta.kubernetes.io/os': 'linux',
      'beta.kubernetes.io/arch': 'amd64',
    });
    expect(node.spec).toEqual({});
    expect(node.status?.addresses).toEqual([
      { type: 'InternalIP', address: '10.0.0.11' },
      { type: 'Hostname', address: 'host-1' },
    ]);
    expect(node.status?.daemonEndpoints).toEqual({ kubeletEndpoint: { Port: 10250 } });
    expect(node.status?.nodeInfo).toEqual({
      machineID: 'mid',
      systemUUID: 'uuid',
      bootID: 'boot',
      kernelVersion: '6.1.0',
      osImage: 'Debian GNU/Linux 12 (bookworm)',
      containerRuntimeVersion: 'containerd://1.6.20',
      kubeletVersion: 'v1.32.0-knode',
      kubeProxyVersion: 'v1.32.0-knode',
      operatingSystem: 'linux',
      architecture: 'amd64',
    });
    expect(node.status?.runtimeHandlers).toEqual([{ name: '' }]);
    expect(node.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
  });

  it('registers a --pod-cidr in spec.podCIDR(s) and carries registration annotations', () => {
    const node = buildNode(input({}, { ...baseConfig, podCIDR: '10.244.3.0/24', annotations: { 'kubelet.knode.io/serving-ca': 'PEM' } }));
    expect(node.spec).toEqual({ podCIDR: '10.244.3.0/24', podCIDRs: ['10.244.3.0/24'] });
    expect(node.metadata.annotations?.['kubelet.knode.io/serving-ca']).toBe('PEM');
    expect(buildNode(input()).spec).toEqual({});
  });

  it('registers cordoned with the unschedulable taint, next to --register-with-taints', () => {
    const node = buildNode(input({}, { ...baseConfig, unschedulable: true, taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] }));
    expect(node.spec).toEqual({
      unschedulable: true,
      taints: [
        { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' },
        { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' },
      ],
    });
  });

  it('lists every InternalIP of a dual-stack node', () => {
    const node = buildNode(input({}, { ...baseConfig, nodeIPs: ['10.0.0.11', 'fd00::11'] }));
    expect(node.status?.addresses?.map((a) => a.address)).toEqual(['10.0.0.11', 'fd00::11', 'n1']);
  });
});

describe('buildNodeStatus', () => {
  it('is NotReady while a required capacity is missing', () => {
    const { ephemeralStorageBytes: _e, ...noDisk } = machine;
    const ready = buildNodeStatus(undefined, input({ machine: noDisk })).conditions?.find((c) => c.type === 'Ready');
    expect(ready).toMatchObject({ status: 'False', reason: 'KubeletNotReady', message: 'missing node capacity for resources: ephemeral-storage' });
  });

  it('keeps the last known runtime version while the runtime does not answer', () => {
    const prev = buildNodeStatus(undefined, input());
    expect(buildNodeStatus(prev, input({ runtime: {} })).nodeInfo?.containerRuntimeVersion).toBe('containerd://1.6.20');
  });

  it('keeps status fields it does not own', () => {
    const prev = { images: [{ names: ['busybox'], sizeBytes: 1 }] };
    expect(buildNodeStatus(prev, input()).images).toEqual(prev.images);
  });
});

describe('reconcileNodeLabels', () => {
  const desired = { 'kubernetes.io/hostname': 'n1', 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64', zone: 'a' };
  it.each<[string, Record<string, string> | undefined, Record<string, string | null> | undefined]>([
    ['nothing to do', { ...desired, 'user-label': 'kept' }, undefined],
    ['no labels at all', undefined, { ...desired }],
    ['a default label changed', { ...desired, 'kubernetes.io/arch': 'arm64' }, { 'kubernetes.io/arch': 'amd64' }],
    ['a default label the kubelet no longer sets is removed', { ...desired, 'beta.kubernetes.io/os': 'linux' }, { 'beta.kubernetes.io/os': null }],
    ['a --node-labels value is corrected', { ...desired, zone: 'b' }, { zone: 'a' }],
  ])('%s', (_name, existing, want) => {
    expect(reconcileNodeLabels(desired, existing)).toEqual(want);
  });
});

describe('buildStatusPatch', () => {
  const stored: Node = {
    metadata: { name: 'n1' },
    status: {
      addresses: [
        { type: 'InternalIP', address: '10.0.0.99' },
        { type: 'InternalIP', address: 'fd00::99' },
        { type: 'Hostname', address: 'n1' },
      ],
      conditions: [{ type: 'NetworkUnavailable', status: 'False', reason: 'RouteCreated' }],
      images: [{ names: ['busybox'] }],
    },
  };

  it('sends only kubelet-owned fields and conditions', () => {
    const status = buildNodeStatus(stored.status, input());
    const patch = buildStatusPatch(status);
    expect(Object.keys(patch.status).sort()).toEqual(['addresses', 'allocatable', 'capacity', 'conditions', 'daemonEndpoints', 'nodeInfo', 'runtimeHandlers']);
    expect((patch.status['conditions'] as Array<{ type: string }>).map((c) => c.type)).toEqual(['MemoryPressure', 'DiskPressure', 'PIDPressure', 'Ready']);
  });

  it("applied by the apiserver, replaces addresses whole and keeps others' conditions and images", () => {
    const patch = buildStatusPatch(buildNodeStatus(stored.status, input()));
    const result = applyStrategicMergePatch(stored as unknown as JsonObject, patch, nodeSchema) as unknown as Node;
    expect(result.status?.addresses).toEqual([
      { type: 'InternalIP', address: '10.0.0.11' },
      { type: 'Hostname', address: 'n1' },
    ]);
    expect(result.status?.conditions?.map((c) => c.type).sort()).toEqual(['DiskPressure', 'MemoryPressure', 'NetworkUnavailable', 'PIDPressure', 'Ready']);
    expect(result.status?.conditions?.find((c) => c.type === 'NetworkUnavailable')).toEqual(stored.status?.conditions?.[0]);
    expect(result.status?.images).toEqual([{ names: ['busybox'] }]);
  });
});
