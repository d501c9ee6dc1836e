import { describe, expect, it } from 'vitest';
import type { Pod } from '../../api/core/pod.js';
import { computeHostPorts, computePodInfo, computePodRequests, DEFAULT_MEMORY_REQUEST, DEFAULT_MILLI_CPU_REQUEST } from './pod-info.js';
import type { DeepMutable } from './test-fixtures.js';
import { makePod, mutated } from './test-fixtures.js';

const base = makePod('p', { cpu: '500m', memory: '1Gi' });
const c = (name: string, requests?: Record<string, string>, restartPolicy?: 'Always') => ({
  name,
  image: 'x',
  ...(requests ? { resources: { requests } } : {}),
  ...(restartPolicy ? { restartPolicy } : {}),
});

describe('computePodRequests', () => {
  it.each<[string, (p: DeepMutable<Pod>) => void, { cpu: number; mem: number; nzCpu: number; nzMem: number }]>([
    ['one container', () => undefined, { cpu: 500, mem: 1024 ** 3, nzCpu: 500, nzMem: 1024 ** 3 }],
    ['containers add up', (p) => void p.spec.containers.push(c('b', { cpu: '250m' })), { cpu: 750, mem: 1024 ** 3, nzCpu: 750, nzMem: 1024 ** 3 + DEFAULT_MEMORY_REQUEST }],
    ['no requests: zero, non-zero defaults', (p) => void (p.spec.containers = [c('a')]), { cpu: 0, mem: 0, nzCpu: DEFAULT_MILLI_CPU_REQUEST, nzMem: DEFAULT_MEMORY_REQUEST }],
    ['a larger init container wins', (p) => void (p.spec.initContainers = [c('i', { cpu: '2', memory: '1Mi' })]), { cpu: 2000, mem: 1024 ** 3, nzCpu: 2000, nzMem: 1024 ** 3 }],
    [
      'a sidecar adds to the containers and to later init steps',
      (p) => void (p.spec.initContainers = [c('s', { cpu: '100m' }, 'Always'), c('i', { cpu: '1' })]),
      // the sidecar requests no memory: 200 MiB for scoring
      { cpu: 1100, mem: 1024 ** 3, nzCpu: 1100, nzMem: 1024 ** 3 + DEFAULT_MEMORY_REQUEST },
    ],
    ['overhead is added', (p) => void (p.spec.overhead = { cpu: '250m', memory: '1Mi' }), { cpu: 750, mem: 1024 ** 3 + 1024 ** 2, nzCpu: 750, nzMem: 1024 ** 3 + 1024 ** 2 }],
  ])('%s', (_n, mutate, want) => {
    const r = computePodRequests(mutated(base, mutate));
    expect({ cpu: r.requests.milliCPU, mem: r.requests.memory, nzCpu: r.nonZeroMilliCPU, nzMem: r.nonZeroMemory }).toEqual(want);
  });

  it('keeps extended resources by name', () => {
    const r = computePodRequests(mutated(base, (p) => void (p.spec.containers[0]!.resources = { requests: { 'example.com/gpu': '2' } })));
    expect([...r.requests.scalar]).toEqual([['example.com/gpu', 2]]);
  });
});

describe('computePodInfo', () => {
  it('takes the controller owner, host ports and the pod-affinity namespace default', () => {
    const pod = mutated(makePod('p', { namespace: 'ns1', ownerUID: 'rs-1', hostPort: 8080 }), (p) => {
      p.spec.affinity = { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { a: 'b' } }, topologyKey: 'kubernetes.io/hostname' }] } };
    });
    const info = computePodInfo(pod);
    expect(info.key).toBe('ns1/p');
    expect(info.ownerUID).toBe('rs-1');
    expect(computeHostPorts(pod)).toEqual([{ protocol: 'TCP', port: 8080, ip: '0.0.0.0' }]);
    expect([...(info.requiredAntiAffinity[0]?.namespaces ?? [])]).toEqual(['ns1']);
  });
});
