import { describe, expect, it } from 'vitest';
import type { Container } from './pod.js';
import { computePodQOS } from './pod.js';
import { container } from './test-fixtures.js';

const withResources = (requests?: Record<string, string>, limits?: Record<string, string>): Container =>
  container({ resources: { ...(requests ? { requests } : {}), ...(limits ? { limits } : {}) } });

describe('computePodQOS', () => {
  it.each<[string, Container[], Container[], string]>([
    ['no resources anywhere', [container()], [], 'BestEffort'],
    ['only non-QoS resources', [withResources({ 'ephemeral-storage': '1Gi' })], [], 'BestEffort'],
    ['zero quantities', [withResources({ cpu: '0' }, { memory: '0' })], [], 'BestEffort'],
    ['requests without limits', [withResources({ cpu: '100m' })], [], 'Burstable'],
    ['cpu and memory limits equal to requests', [withResources({ cpu: '1', memory: '1Gi' }, { cpu: '1000m', memory: '1024Mi' })], [], 'Guaranteed'],
    ['requests below limits', [withResources({ cpu: '500m', memory: '1Gi' }, { cpu: '1', memory: '1Gi' })], [], 'Burstable'],
    ['only a cpu limit', [withResources({ cpu: '1' }, { cpu: '1' })], [], 'Burstable'],
    [
      'one guaranteed container and one best-effort container',
      [withResources({ cpu: '1', memory: '1Gi' }, { cpu: '1', memory: '1Gi' }), container({ name: 'b' })],
      [],
      'Burstable',
    ],
    ['an init container with requests', [container()], [withResources({ memory: '10Mi' })], 'Burstable'],
    [
      'guaranteed app and init containers',
      [withResources({ cpu: '1', memory: '1Gi' }, { cpu: '1', memory: '1Gi' })],
      [withResources({ cpu: '1', memory: '1Gi' }, { cpu: '1', memory: '1Gi' })],
      'Guaranteed',
    ],
  ])('%s -> %s', (_name, containers, initContainers, qos) => {
    expect(computePodQOS({ containers, initContainers })).toBe(qos);
  });
});
