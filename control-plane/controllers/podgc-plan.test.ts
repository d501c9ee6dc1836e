import { describe, expect, it } from 'vitest';
import type { Node } from '../../api/core/node.js';
import type { Pod } from '../../api/core/pod-types.js';
import { ORPHAN_CONDITION, TAINT_OUT_OF_SERVICE, planPodGC, trackMissingNodes } from './podgc-plan.js';
import type { PodGCInput } from './podgc-plan.js';

function pod(name: string, opts: { phase?: string; node?: string; created?: string; deleting?: boolean; reason?: string } = {}): Pod {
  return {
    metadata: { name, namespace: 'ns', uid: `uid-${name}`, creationTimestamp: opts.created ?? '2026-01-01T00:00:00Z', ...(opts.deleting === true ? { deletionTimestamp: '2026-01-02T00:00:00Z' } : {}) },
    spec: { containers: [{ name: 'c' }], ...(opts.node !== '' ? { nodeName: opts.node ?? 'n1' } : {}) },
    status: { phase: (opts.phase ?? 'Running') as 'Running', ...(opts.reason !== undefined ? { reason: opts.reason } : {}) },
  };
}

function node(name: string, opts: { ready?: boolean; outOfService?: boolean } = {}): Node {
  return {
    metadata: { name },
    spec: opts.outOfService === true ? { taints: [{ key: TAINT_OUT_OF_SERVICE, effect: 'NoExecute' }] } : {},
    status: { conditions: [{ type: 'Ready', status: opts.ready === false ? 'False' : 'True' }] },
  };
}

const input = (over: Partial<PodGCInput>): PodGCInput => ({ pods: [], nodes: [node('n1')], terminatedPodThreshold: 12500, deletedNodes: new Set(), ...over });
const brief = (i: PodGCInput): string[] => planPodGC(i).map((a) => `${a.pod.metadata.name}:${a.reason}${a.condition !== undefined ? `:${a.condition.reason}` : ''}`);

describe('planPodGC', () => {
  const cases: Array<[string, PodGCInput, string[]]> = [
    ['nothing to do in a healthy cluster', input({ pods: [pod('a'), pod('b', { phase: 'Succeeded' })] }), []],
    [
      'terminated pods beyond the threshold go, oldest first',
      input({
        terminatedPodThreshold: 2,
        pods: [pod('new', { phase: 'Succeeded', created: '2026-01-03T00:00:00Z' }), pod('old', { phase: 'Failed', created: '2026-01-01T00:00:00Z' }), pod('mid', { phase: 'Succeeded', created: '2026-01-02T00:00:00Z' }), pod('older', { phase: 'Succeeded', created: '2025-12-31T00:00:00Z' }), pod('run')],
      }),
      ['older:terminated', 'old:terminated'],
    ],
    [
      'evicted pods go before older ones; same age: by name',
      input({ terminatedPodThreshold: 1, pods: [pod('b', { phase: 'Failed' }), pod('a', { phase: 'Failed' }), pod('ev', { phase: 'Failed', reason: 'Evicted', created: '2026-02-01T00:00:00Z' })] }),
      ['ev:terminated', 'a:terminated'],
    ],
    ['a threshold of 0 disables terminated-pod GC', input({ terminatedPodThreshold: 0, pods: [pod('a', { phase: 'Failed' })] }), []],
    ['pods of a deleted node go, marked DeletionByPodGC', input({ pods: [pod('a', { node: 'gone' }), pod('b')], deletedNodes: new Set(['gone']) }), ['a:orphaned:DeletionByPodGC']],
    ['pods of a node merely missing from the cache stay', input({ pods: [pod('a', { node: 'late' })] }), []],
    ['unscheduled terminating pods go', input({ pods: [pod('a', { node: '', deleting: true }), pod('b', { node: '' }), pod('c', { deleting: true })] }), ['a:unscheduled-terminating']],
    [
      'terminating pods on a not-ready out-of-service node go',
      input({ nodes: [node('n1', { ready: false, outOfService: true }), node('n2', { ready: false })], pods: [pod('a', { deleting: true }), pod('b'), pod('c', { node: 'n2', deleting: true })] }),
      ['a:out-of-service'],
    ],
    [
      'a pod qualifying twice is deleted once',
      input({ terminatedPodThreshold: 1, pods: [pod('a', { phase: 'Failed', node: 'gone' }), pod('b', { phase: 'Failed', created: '2026-05-01T00:00:00Z' })], deletedNodes: new Set(['gone']) }),
      ['a:terminated'],
    ],
  ];
  it.each(cases)('%s', (_n, i, expected) => expect(brief(i)).toEqual(expected));

  it('the orphan condition is upstream DisruptionTarget', () => {
    expect(ORPHAN_CONDITION).toEqual({ type: 'DisruptionTarget', status: 'True', reason: 'DeletionByPodGC', message: 'PodGC: node no longer exists' });
  });
});

describe('trackMissingNodes', () => {
  const pods = [pod('a', { node: 'gone' }), pod('b', { node: 'n1' }), pod('c', { node: '' })];
  it('a node first seen missing starts its quarantine', () => {
    const t = trackMissingNodes(pods, new Set(['n1']), new Map(), 1000, 40_000);
    expect([...t.since]).toEqual([['gone', 1000]]);
    expect(t.candidates).toEqual([]);
  });
  it('after the quarantine it is a candidate', () => {
    const t = trackMissingNodes(pods, new Set(['n1']), new Map([['gone', 1000]]), 41_000, 40_000);
    expect(t.candidates).toEqual(['gone']);
  });
  it('a node that appears, or that no pod references any more, is forgotten', () => {
    const since = new Map([['gone', 1000], ['old', 1000]]);
    expect([...trackMissingNodes(pods, new Set(['n1', 'gone']), since, 50_000, 40_000).since]).toEqual([]);
  });
});
