import { describe, expect, it } from 'vitest';
import { criProto, findProtoPath } from './proto.js';

describe('CriProto codec', () => {
  const proto = criProto();

  it('finds the .proto from the source tree', () => {
    expect(findProtoPath()).toMatch(/proto\/runtime\/v1\/api\.proto$/);
  });

  it('declares every RPC the kubelet uses, under runtime.v1', () => {
    expect(Object.keys(proto.service('RuntimeService')).filter((k) => /^[A-Z]/.test(k)).sort()).toEqual(
      ['Attach', 'ContainerStats', 'ContainerStatus', 'CreateContainer', 'Exec', 'ExecSync', 'ListContainerStats', 'ListContainers', 'ListPodSandbox',
        'PodSandboxStatus', 'PortForward', 'RemoveContainer', 'RemovePodSandbox', 'ReopenContainerLog', 'RunPodSandbox', 'StartContainer', 'Status',
        'StopContainer', 'StopPodSandbox', 'UpdateContainerResources', 'Version'].sort(),
    );
    expect(proto.method('ImageService', 'PullImage').path).toBe('/runtime.v1.ImageService/PullImage');
    expect(proto.method('RuntimeService', 'Version').path).toBe('/runtime.v1.RuntimeService/Version');
  });

  it.each([
    ['a timestamp to bigint', 'PodSandbox', { createdAt: '1800000000000000123' }, { createdAt: 1_800_000_000_000_000_123n }],
    ['other int64 to number', 'LinuxContainerResources', { memoryLimitInBytes: '67108864', cpuQuota: '-1' }, { memoryLimitInBytes: 67_108_864, cpuQuota: -1 }],
    ['repeated int64 to numbers', 'LinuxContainerSecurityContext', { supplementalGroups: ['1000', '2000'] }, { supplementalGroups: [1000, 2000] }],
    ['wrapped uint64 to number', 'Image', { size: '3117998', uid: { value: '65535' } }, { size: 3_117_998, uid: { value: 65_535 } }],
    ['nested timestamps in lists', 'ListContainersResponse', { containers: [{ createdAt: '5' }, { createdAt: '6' }] }, { containers: [{ createdAt: 5n }, { createdAt: 6n }] }],
  ])('decodes %s', (_name, type, wire, want) => {
    expect(proto.decode(type, structuredClone(wire))).toMatchObject(want);
  });

  it('drops absent nested messages instead of keeping null', () => {
    const out = proto.decode<Record<string, unknown>>('ContainerStatus', { id: 'x', metadata: null, image: null, labels: {} });
    expect(Object.keys(out).sort()).toEqual(['id', 'labels']);
  });

  it('encodes bigint as an exact decimal string and leaves maps alone', () => {
    expect(proto.encode('ExecSyncRequest', { containerId: 'c', cmd: ['a'], timeout: 5n })).toEqual({ containerId: 'c', cmd: ['a'], timeout: '5' });
    expect(proto.encode('PodSandboxConfig', { labels: { 'any/key': 'v' } })).toEqual({ labels: { 'any/key': 'v' } });
  });
});
