import { describe, expect, it } from 'vitest';
import type { Container, Pod } from '../api/core/pod.js';
import {
  DownwardAPIError,
  extractContainerResource,
  extractFieldPath,
  extractResourceFieldRef,
  formatMap,
  goQuote,
  limitsWithAllocatable,
  splitSubscriptedPath,
} from './downward-api.js';
import type { DownwardFacts } from './downward-api.js';

const pod: Pod = {
  metadata: {
    name: 'web-0',
    namespace: 'shop',
    uid: '1f0e-uid',
    labels: { tier: 'front', app: 'web' },
    annotations: { 'example.com/build': '42', note: 'say "hi"\n' },
  },
  spec: { containers: [{ name: 'app' }], nodeName: 'node-a', serviceAccountName: 'runner' },
};
const facts: DownwardFacts = { nodeName: 'node-a', hostIP: '10.0.0.2', podIP: '10.244.1.5', podIPs: ['10.244.1.5', 'fd00::5'] };

describe('goQuote (Go %q)', () => {
  it.each([
    ['plain', 'abc', '"abc"'],
    ['quote and backslash', 'a"b\\c', '"a\\"b\\\\c"'],
    ['short escapes', '\n\t\r\x07\b\f\v', '"\\n\\t\\r\\a\\b\\f\\v"'],
    ['other control bytes as \\x', '\x01\x7f', '"\\x01\\x7f"'],
    ['printable unicode kept', 'héllo ☃', '"héllo ☃"'],
    ['non-printable unicode as \\u', '\u00a0\u200b', '"\\u00a0\\u200b"'],
  ])('%s', (_name, input, want) => {
    expect(goQuote(input)).toBe(want);
  });
});

describe('formatMap', () => {
  it('prints sorted key="value" lines without a trailing newline', () => {
    expect(formatMap({ b: '2', a: 'x y' })).toBe('a="x y"\nb="2"');
  });
  it('prints nothing for an empty or missing map', () => {
    expect(formatMap({})).toBe('');
    expect(formatMap(undefined)).toBe('');
  });
});

describe('splitSubscriptedPath', () => {
  it.each([
    ["metadata.labels['app']", ['metadata.labels', 'app']],
    ["metadata.annotations['example.com/x']", ['metadata.annotations', 'example.com/x']],
    ['metadata.labels', undefined],
    ["['x']", undefined],
  ])('%s', (input, want) => {
    expect(splitSubscriptedPath(input)).toEqual(want);
  });
});

describe('extractFieldPath', () => {
  it.each([
    ['metadata.name', 'web-0'],
    ['metadata.namespace', 'shop'],
    ['metadata.uid', '1f0e-uid'],
    ['metadata.labels', 'app="web"\ntier="front"'],
    ['metadata.annotations', 'example.com/build="42"\nnote="say \\"hi\\"\\n"'],
    ["metadata.labels['tier']", 'front'],
    ["metadata.labels['missing']", ''],
    ["metadata.annotations['example.com/build']", '42'],
    ['spec.nodeName', 'node-a'],
    ['spec.serviceAccountName', 'runner'],
    ['status.hostIP', '10.0.0.2'],
    ['status.hostIPs', '10.0.0.2'],
    ['status.podIP', '10.244.1.5'],
    ['status.podIPs', '10.244.1.5,fd00::5'],
  ])('%s -> %j', (fieldPath, want) => {
    expect(extractFieldPath(pod, { fieldPath }, facts)).toBe(want);
  });

  it('lists every host IP of a dual-stack node', () => {
    expect(extractFieldPath(pod, { fieldPath: 'status.hostIPs' }, { ...facts, hostIPs: ['10.0.0.2', 'fd00::2'] })).toBe('10.0.0.2,fd00::2');
  });

  it('falls back to podIP when podIPs is empty', () => {
    expect(extractFieldPath(pod, { fieldPath: 'status.podIPs' }, { ...facts, podIPs: [] })).toBe('10.244.1.5');
  });

  it.each([
    ['spec.restartPolicy', 'unsupported fieldPath: spec.restartPolicy'],
    ["spec.nodeName['x']", `fieldPath "spec.nodeName['x']" does not support subscript`],
    ["metadata.labels['bad key!']", "invalid key subscript in metadata.labels['bad key!']"],
  ])('refuses %s', (fieldPath, message) => {
    expect(() => extractFieldPath(pod, { fieldPath }, facts)).toThrow(DownwardAPIError);
    expect(() => extractFieldPath(pod, { fieldPath }, facts)).toThrow(message);
  });

  it('refuses an apiVersion other than v1', () => {
    expect(() => extractFieldPath(pod, { apiVersion: 'v2', fieldPath: 'metadata.name' })).toThrow('unsupported pod version: v2');
  });
});

describe('resource values', () => {
  const c: Container = {
    name: 'app',
    resources: { limits: { cpu: '250m', memory: '64Mi' }, requests: { cpu: '100m', memory: '32Mi', 'ephemeral-storage': '1Gi' } },
  };
  it.each([
    ['limits.cpu', undefined, '1'], // 250m rounds up to one core
    ['limits.cpu', '1m', '250'],
    ['requests.cpu', '1m', '100'],
    ['requests.cpu', '0', '1'], // a zero divisor means 1
    ['limits.memory', undefined, String(64 * 1024 * 1024)],
    ['limits.memory', '1Mi', '64'],
    ['limits.memory', '1M', '68'], // 67.1 M rounded up
    ['requests.memory', '1Mi', '32'],
    ['requests.ephemeral-storage', '1Gi', '1'],
    ['limits.hugepages-2Mi', undefined, '0'],
  ])('%s divisor %s -> %s', (resource, divisor, want) => {
    expect(extractContainerResource({ resource, ...(divisor !== undefined ? { divisor } : {}) }, c)).toBe(want);
  });

  it('reports node allocatable for a missing limit', () => {
    const bare: Container = { name: 'app' };
    const alloc = { cpu: '4', memory: '8Gi', 'ephemeral-storage': '100Gi' };
    expect(extractContainerResource({ resource: 'limits.cpu' }, bare, alloc)).toBe('4');
    expect(extractContainerResource({ resource: 'limits.memory', divisor: '1Gi' }, bare, alloc)).toBe('8');
    expect(extractContainerResource({ resource: 'limits.ephemeral-storage', divisor: '1Gi' }, bare, alloc)).toBe('100');
  });

  it('keeps a set limit and replaces a zero one', () => {
    expect(limitsWithAllocatable({ name: 'a', resources: { limits: { cpu: '0', memory: '1Gi' } } }, { cpu: '2', memory: '4Gi' })).toEqual({
      cpu: '2',
      memory: '1Gi',
    });
  });

  it('refuses unknown resources with upstream message', () => {
    expect(() => extractContainerResource({ resource: 'limits.gpu' }, c)).toThrow('unsupported container resource : limits.gpu');
  });

  it('finds a named container, init containers included', () => {
    const p: Pod = { metadata: { name: 'p' }, spec: { initContainers: [{ name: 'init', resources: { limits: { cpu: '2' } } }], containers: [c] } };
    expect(extractResourceFieldRef(p, { containerName: 'init', resource: 'limits.cpu' }, undefined)).toBe('2');
    expect(extractResourceFieldRef(p, { resource: 'limits.cpu', divisor: '1m' }, c)).toBe('250');
    expect(() => extractResourceFieldRef(p, { containerName: 'nope', resource: 'limits.cpu' }, c)).toThrow('container nope not found');
  });
});
