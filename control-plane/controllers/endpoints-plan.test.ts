import { describe, expect, it } from 'vitest';
import type { EndpointSubset, Endpoints } from '../../api/core/endpoints.js';
import type { Pod } from '../../api/core/pod-types.js';
import type { Service } from '../../api/core/service-types.js';
import type { Mutable } from '../../api/meta.js';
import { ANNOTATION_OVER_CAPACITY, computeSubsets, planEndpoints, repackSubsets, truncateSubsets } from './endpoints-plan.js';

type SvcParts = { metadata: Mutable<Service['metadata']>; spec: Mutable<NonNullable<Service['spec']>> };
function svc(mutate: (s: SvcParts) => void = () => undefined): Service {
  const s: SvcParts = {
    metadata: { name: 'web', namespace: 'ns', uid: 'svc-uid' },
    spec: { selector: { app: 'web' }, clusterIP: '10.96.0.10', ipFamilies: ['IPv4'], ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }] },
  };
  mutate(s);
  return s as Service;
}

function pod(name: string, ip: string, opts: { ready?: boolean; terminating?: boolean; phase?: string; ports?: Array<[string, number]> } = {}): Pod {
  return {
    metadata: { name, namespace: 'ns', uid: `uid-${name}`, labels: { app: 'web' }, ...(opts.terminating === true ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}) },
    spec: { nodeName: 'n1', containers: [{ name: 'c', ports: (opts.ports ?? [['http', 8080]]).map(([n, p]) => ({ name: n, containerPort: p })) }] },
    status: { phase: (opts.phase ?? 'Running') as 'Running', podIP: ip, podIPs: [{ ip }], conditions: [{ type: 'Ready', status: opts.ready === false ? 'False' : 'True' }] },
  };
}

/** Subsets as `ready ips | not-ready ips | ports`. */
function brief(subsets: readonly EndpointSubset[]): string[] {
  return subsets.map((s) =>
    [(s.addresses ?? []).map((a) => a.ip).join(','), (s.notReadyAddresses ?? []).map((a) => a.ip).join(','), (s.ports ?? []).map((p) => `${p.name ?? ''}/${p.port}`).join(',')].join(' | '),
  );
}

describe('computeSubsets', () => {
  const a = pod('a', '10.244.0.1');
  const b = pod('b', '10.244.0.2');
  const cases: Array<[string, Service, Pod[], string[]]> = [
    ['no pods: no subsets', svc(), [], []],
    ['ready pods share one subset', svc(), [b, a], ['10.244.0.1,10.244.0.2 |  | http/8080']],
    ['a not-ready pod goes to notReadyAddresses', svc(), [a, pod('b', '10.244.0.2', { ready: false })], ['10.244.0.1 | 10.244.0.2 | http/8080']],
    ['a terminating pod is left out', svc(), [a, pod('b', '10.244.0.2', { terminating: true })], ['10.244.0.1 |  | http/8080']],
    ['terminal pods are left out', svc(), [pod('a', '10.244.0.1', { phase: 'Failed' })], []],
    ['publishNotReadyAddresses: not-ready and terminating pods are ready addresses', svc((s) => (s.spec.publishNotReadyAddresses = true)), [pod('a', '10.244.0.1', { ready: false }), pod('b', '10.244.0.2', { terminating: true })], ['10.244.0.1,10.244.0.2 |  | http/8080']],
    ['a named port numbered differently per pod: one subset each', svc(), [a, pod('b', '10.244.0.2', { ports: [['http', 9090]] })], ['10.244.0.1 |  | http/8080', '10.244.0.2 |  | http/9090']],
    [
      'two ports: a pod lacking one named port is only under the other',
      svc((s) => (s.spec.ports = [{ name: 'http', port: 80, targetPort: 'http' }, { name: 'metrics', port: 9100, targetPort: 'metrics' }])),
      [pod('a', '10.244.0.1', { ports: [['http', 8080], ['metrics', 9100]] }), pod('b', '10.244.0.2')],
      ['10.244.0.1,10.244.0.2 |  | http/8080', '10.244.0.1 |  | metrics/9100'],
    ],
    ['a headless Service without ports lists addresses without ports', svc((s) => ((s.spec.clusterIP = 'None'), delete s.spec.ports)), [a], ['10.244.0.1 |  | ']],
    ['a Service with a cluster IP and no ports lists nothing', svc((s) => delete s.spec.ports), [a], []],
  ];
  it.each(cases)('%s', (_n, s, pods, expected) => {
    expect(brief(computeSubsets(s, pods))).toEqual(expected);
  });

  it('an address carries nodeName and a targetRef to the pod', () => {
    expect(computeSubsets(svc(), [a])[0]?.addresses).toEqual([{ ip: '10.244.0.1', nodeName: 'n1', targetRef: { kind: 'Pod', namespace: 'ns', name: 'a', uid: 'uid-a' } }]);
  });
});

describe('repackSubsets', () => {
  const addr = (ip: string) => ({ ip, targetRef: { uid: ip } });
  it('merges subsets by address set; a ready contribution wins', () => {
    const out = repackSubsets([
      { addresses: [addr('1.1.1.1')], ports: [{ port: 80 }] },
      { notReadyAddresses: [addr('1.1.1.1')], ports: [{ port: 80 }] },
      { addresses: [addr('1.1.1.1')], ports: [{ port: 443 }] },
    ]);
    expect(brief(out)).toEqual(['1.1.1.1 |  | /80,/443']);
  });
});

describe('truncateSubsets', () => {
  const addrs = (n: number, base: number) => Array.from({ length: n }, (_, i) => ({ ip: `10.0.${base}.${i}` }));
  it('cuts not-ready addresses first, proportionally', () => {
    const { subsets, truncated } = truncateSubsets([{ addresses: addrs(4, 0), notReadyAddresses: addrs(4, 1) }, { notReadyAddresses: addrs(4, 2) }], 8);
    expect(truncated).toBe(true);
    expect(subsets.map((s) => [(s.addresses ?? []).length, (s.notReadyAddresses ?? []).length])).toEqual([[4, 2], [0, 2]]);
  });
  it('cuts ready addresses (and drops not-ready ones) when those alone are too many', () => {
    const { subsets } = truncateSubsets([{ addresses: addrs(6, 0), notReadyAddresses: addrs(2, 1) }, { addresses: addrs(4, 2) }], 5);
    expect(subsets.map((s) => [(s.addresses ?? []).length, (s.notReadyAddresses ?? []).length])).toEqual([[3, 0], [2, 0]]);
  });
  it('leaves small objects alone', () => {
    expect(truncateSubsets([{ addresses: addrs(3, 0) }], 5).truncated).toBe(false);
  });
});

describe('planEndpoints', () => {
  const a = pod('a', '10.244.0.1');
  const stored = (ep: Endpoints): Endpoints => ({ ...ep, metadata: { ...ep.metadata, uid: 'ep-uid', resourceVersion: '5' } });
  const createdFor = (s: Service, pods: Pod[]): Endpoints => {
    const p = planEndpoints(s, pods, undefined);
    if (p.kind !== 'create') throw new Error(`expected create, got ${p.kind}`);
    return p.endpoints;
  };

  it('creates the Endpoints named like the Service, with the Service labels', () => {
    const ep = createdFor(svc((s) => (s.metadata.labels = { app: 'web' })), [a]);
    expect(ep.metadata).toEqual({ name: 'web', namespace: 'ns', labels: { app: 'web' } });
    expect(brief(ep.subsets ?? [])).toEqual(['10.244.0.1 |  | http/8080']);
  });
  it('creates empty Endpoints for a Service selecting nothing', () => {
    expect(createdFor(svc(), []).subsets).toEqual([]);
  });
  it('a headless Service gets the headless label', () => {
    expect(createdFor(svc((s) => (s.spec.clusterIP = 'None')), []).metadata.labels).toEqual({ 'service.kubernetes.io/headless': '' });
  });
  it('nothing to do when the stored object already matches (server defaults and targetRef versions aside)', () => {
    const ep = stored(createdFor(svc(), [a]));
    const withRv: Endpoints = { ...ep, subsets: (ep.subsets ?? []).map((s) => ({ ...s, addresses: (s.addresses ?? []).map((x) => ({ ...x, targetRef: { ...x.targetRef, resourceVersion: '99' } })) })) };
    expect(planEndpoints(svc(), [a], withRv).kind).toBe('none');
  });
  it('a readiness change updates the stored object, keeping its metadata', () => {
    const ep = stored(createdFor(svc(), [a]));
    const p = planEndpoints(svc(), [pod('a', '10.244.0.1', { ready: false })], ep);
    expect(p.kind).toBe('update');
    if (p.kind !== 'update') return;
    expect(p.endpoints.metadata.resourceVersion).toBe('5');
    expect(brief(p.endpoints.subsets ?? [])).toEqual([' | 10.244.0.1 | http/8080']);
  });
  it('a Service label change updates the labels', () => {
    const ep = stored(createdFor(svc(), [a]));
    const p = planEndpoints(svc((s) => (s.metadata.labels = { team: 'x' })), [a], ep);
    expect(p.kind === 'update' && p.endpoints.metadata.labels).toEqual({ team: 'x' });
  });
  it('over 1000 addresses: truncated and annotated; the annotation goes when back under', () => {
    const pods = Array.from({ length: 1001 }, (_, i) => pod(`p${i}`, `10.244.${Math.floor(i / 200)}.${(i % 200) + 1}`));
    const big = createdFor(svc(), pods);
    expect(big.metadata.annotations).toEqual({ [ANNOTATION_OVER_CAPACITY]: 'truncated' });
    expect((big.subsets ?? []).reduce((n, s) => n + (s.addresses ?? []).length, 0)).toBe(1000);
    const p = planEndpoints(svc(), [a], stored(big));
    expect(p.kind === 'update' && p.endpoints.metadata.annotations).toBe(undefined);
  });
});
