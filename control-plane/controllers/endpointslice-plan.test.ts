import { describe, expect, it } from 'vitest';
import type { Pod } from '../../api/core/pod-types.js';
import type { Service } from '../../api/core/service-types.js';
import type { EndpointSlice } from '../../api/discovery/endpointslice.js';
import type { Mutable } from '../../api/meta.js';
import { CONTROLLER_NAME, LABEL_HEADLESS, LABEL_MANAGED_BY, LABEL_SERVICE_NAME, planEndpointSlices } from './endpointslice-plan.js';
import type { SlicePlan, SlicePlanOptions } from './endpointslice-plan.js';

// ---- fixtures: base objects, mutated per case ----

function svc(mutate: (s: { metadata: Mutable<Service['metadata']>; spec: Mutable<NonNullable<Service['spec']>> }) => void = () => undefined): Service {
  const s = {
    metadata: { name: 'web', namespace: 'ns', uid: 'svc-uid', labels: { app: 'web' } } as Mutable<Service['metadata']>,
    spec: { selector: { app: 'web' }, clusterIP: '10.96.0.10', ipFamilies: ['IPv4'], ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }] } as Mutable<NonNullable<Service['spec']>>,
  };
  mutate(s);
  return s as Service;
}

let ipSeq = 0;
function pod(name: string, opts: { ready?: boolean; ip?: string | null; terminating?: boolean; phase?: string; port?: number; node?: string; created?: string } = {}): Pod {
  const ip = opts.ip === null ? undefined : (opts.ip ?? `10.244.${Math.floor(++ipSeq / 250) + 1}.${ipSeq % 250}`);
  return {
    metadata: {
      name,
      namespace: 'ns',
      uid: `uid-${name}`,
      labels: { app: 'web' },
      ...(opts.terminating === true ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}),
    },
    spec: { nodeName: opts.node ?? 'n1', containers: [{ name: 'c', ports: [{ name: 'http', containerPort: opts.port ?? 8080 }] }] },
    status: {
      phase: (opts.phase ?? 'Running') as 'Running',
      ...(ip !== undefined ? { podIP: ip, podIPs: [{ ip }] } : {}),
      conditions: [{ type: 'Ready', status: opts.ready === false ? 'False' : 'True' }],
    },
  };
}

/** An existing managed slice as the apiserver would return it, built from a plan's create. */
function stored(slice: EndpointSlice, name: string, mutate: (s: Mutable<EndpointSlice>) => void = () => undefined): EndpointSlice {
  const { generateName: _g, ...meta } = slice.metadata;
  const s: Mutable<EndpointSlice> = { ...slice, metadata: { ...meta, name, uid: `uid-${name}`, resourceVersion: '7' } };
  mutate(s);
  return s;
}

/** What a reader checks in a plan: per slice its name (or "new"), ports and endpoints as pod:ready/serving/terminating. */
function summary(plan: SlicePlan): unknown {
  const one = (s: EndpointSlice): string => {
    const ports = (s.ports ?? []).map((p) => `${p.name}/${p.port}`).join(',');
    const eps = (s.endpoints ?? []).map((e) => `${e.targetRef?.name}:${flag(e.conditions?.ready)}${flag(e.conditions?.serving)}${flag(e.conditions?.terminating)}`).join(',');
    return `${s.metadata.name ?? 'new'} [${ports}] ${eps}`;
  };
  return { create: plan.create.map(one), update: plan.update.map(one), delete: plan.delete.map((s) => s.metadata.name), missing: plan.podsOnMissingNodes };
}
const flag = (b: boolean | undefined): string => (b === true ? 'T' : b === false ? 'F' : '?');

const plan = (s: Service, pods: Pod[], existing: EndpointSlice[] = [], opts: SlicePlanOptions = {}): SlicePlan => planEndpointSlices(s, pods, existing, opts);
const created = (s: Service, pods: Pod[]): EndpointSlice => {
  const p = plan(s, pods);
  expect(p.create).toHaveLength(1);
  return p.create[0] as EndpointSlice;
};
const none = { create: [], update: [], delete: [], missing: [] };

describe('planEndpointSlices', () => {
  const a = pod('a', { ip: '10.244.0.1' });
  const b = pod('b', { ip: '10.244.0.2' });

  const cases: Array<[string, () => SlicePlan, unknown]> = [
    ['no pods: one empty placeholder slice', () => plan(svc(), []), { ...none, create: ['new [] '] }],
    ['no pods and a placeholder already there: nothing', () => plan(svc(), [], [stored(created(svc(), []), 'web-p')]), none],
    ['a ready pod: one slice, ready and serving, port resolved by name', () => plan(svc(), [a]), { ...none, create: ['new [http/8080] a:TTF'] }],
    ['the first pod reuses the placeholder (update under its name, no delete + create)', () => plan(svc(), [a], [stored(created(svc(), []), 'web-p')]), { ...none, update: ['web-p [http/8080] a:TTF'] }],
    ['a slice already right: nothing', () => plan(svc(), [a, b], [stored(created(svc(), [a, b]), 'web-1')]), none],
    ['readiness lost: ready and serving false', () => plan(svc(), [pod('a', { ip: '10.244.0.1', ready: false })], [stored(created(svc(), [a]), 'web-1')]), { ...none, update: ['web-1 [http/8080] a:FFF'] }],
    ['a terminating ready pod: not ready, still serving, terminating', () => plan(svc(), [pod('a', { ip: '10.244.0.1', terminating: true })]), { ...none, create: ['new [http/8080] a:FTT'] }],
    ['publishNotReadyAddresses: a not-ready pod is ready', () => plan(svc((s) => (s.spec.publishNotReadyAddresses = true)), [pod('a', { ready: false })]), { ...none, create: ['new [http/8080] a:TFF'] }],
    ['publishNotReadyAddresses: a terminating pod is ready', () => plan(svc((s) => (s.spec.publishNotReadyAddresses = true)), [pod('a', { terminating: true })]), { ...none, create: ['new [http/8080] a:TTT'] }],
    ['pods without an IP or terminal are left out', () => plan(svc(), [pod('a', { ip: null }), pod('b', { phase: 'Succeeded' }), pod('c', { phase: 'Failed' })]), { ...none, create: ['new [] '] }],
    [
      'a named port numbered differently per pod: one slice per port set',
      () => plan(svc(), [pod('a', { port: 8080 }), pod('b', { port: 9090 }), pod('c', { port: 8080 })]),
      { ...none, create: ['new [http/8080] a:TTF,c:TTF', 'new [http/9090] b:TTF'] },
    ],
    [
      'a pod whose named port does not resolve still gets an endpoint, in a slice without ports',
      () => plan(svc((s) => (s.spec.ports = [{ name: 'http', port: 80, targetPort: 'nope', protocol: 'TCP' }])), [a]),
      { ...none, create: ['new [] a:TTF'] },
    ],
    ['a numeric targetPort is used as is', () => plan(svc((s) => (s.spec.ports = [{ port: 80, targetPort: 3000 }])), [a]), { ...none, create: ['new [/3000] a:TTF'] }],
    ['the last pod gone: its slice becomes the placeholder', () => plan(svc(), [], [stored(created(svc(), [a]), 'web-1')]), { ...none, update: ['web-1 [] '] }],
    ['one of two pods gone: the slice drops it', () => plan(svc(), [b], [stored(created(svc(), [a, b]), 'web-1')]), { ...none, update: ['web-1 [http/8080] b:TTF'] }],
    ['a pod added: fills the existing slice', () => plan(svc(), [a, b], [stored(created(svc(), [a]), 'web-1')]), { ...none, update: ['web-1 [http/8080] a:TTF,b:TTF'] }],
    [
      'a pod moved to another port: removed from one slice, added to another',
      () => plan(svc(), [pod('a', { ip: '10.244.0.1', port: 9090 }), b], [stored(created(svc(), [a, b]), 'web-1')]),
      { ...none, update: ['web-1 [http/8080] b:TTF'], create: ['new [http/9090] a:TTF'] },
    ],
    ['slices of other managers are ignored', () => plan(svc(), [a], [stored(created(svc(), [b]), 'mine', (s) => (s.metadata = { ...s.metadata, labels: { [LABEL_SERVICE_NAME]: 'web', [LABEL_MANAGED_BY]: 'someone-else' } }))]), { ...none, create: ['new [http/8080] a:TTF'] }],
    [
      'a managed slice of an address type the Service does not use is deleted',
      () => plan(svc(), [a], [stored(created(svc(), [a]), 'web-1'), stored(created(svc(), []), 'web-v6', (s) => (s.addressType = 'IPv6'))]),
      { ...none, delete: ['web-v6'] },
    ],
    [
      'an endpoint listed in two slices is kept in the first only (the second, left empty, goes)',
      () => plan(svc(), [a, b], [stored(created(svc(), [a, b]), 'web-1'), stored(created(svc(), [a]), 'web-2')]),
      { ...none, delete: ['web-2'] },
    ],
    [
      'a slice owned by an earlier Service of the same name is replaced',
      () => plan(svc(), [a], [stored(created(svc((s) => (s.metadata.uid = 'old-uid')), [a]), 'web-old')]),
      { ...none, create: ['new [http/8080] a:TTF'], delete: ['web-old'] },
    ],
    ['pods on an unknown node are left out and reported', () => plan(svc(), [a, pod('x', { node: 'gone' })], [], { nodeExists: (n) => n === 'n1' }), { ...none, create: ['new [http/8080] a:TTF'], missing: ['ns/x'] }],
    [
      'with publishNotReadyAddresses, pods on an unknown node are kept',
      () => plan(svc((s) => (s.spec.publishNotReadyAddresses = true)), [pod('x', { node: 'gone' })], [], { nodeExists: () => false }),
      { ...none, create: ['new [http/8080] x:TTF'] },
    ],
  ];
  it.each(cases)('%s', (_name, run, expected) => {
    expect(summary(run())).toEqual(expected);
  });

  it('a new slice carries the labels, owner, generateName and targetRef upstream sets', () => {
    const s = created(svc(), [a]);
    expect(s.metadata).toEqual({
      generateName: 'web-',
      namespace: 'ns',
      labels: { app: 'web', [LABEL_SERVICE_NAME]: 'web', [LABEL_MANAGED_BY]: CONTROLLER_NAME },
      ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name: 'web', uid: 'svc-uid', controller: true, blockOwnerDeletion: true }],
    });
    expect(s.addressType).toBe('IPv4');
    expect(s.ports).toEqual([{ name: 'http', protocol: 'TCP', port: 8080 }]);
    expect(s.endpoints).toEqual([{ addresses: ['10.244.0.1'], conditions: { ready: true, serving: true, terminating: false }, nodeName: 'n1', targetRef: { kind: 'Pod', namespace: 'ns', name: 'a', uid: 'uid-a' } }]);
  });

  it('a headless Service marks its slices service.kubernetes.io/headless', () => {
    const s = created(svc((x) => (x.spec.clusterIP = 'None')), [a]);
    expect(s.metadata.labels?.[LABEL_HEADLESS]).toBe('');
  });

  it('a Service label change updates the slices, reserved keys excepted', () => {
    const existing = stored(created(svc(), [a]), 'web-1');
    const p = plan(
      svc((s) => (s.metadata.labels = { app: 'web', tier: 'front', [LABEL_MANAGED_BY]: 'spoof' })),
      [a],
      [existing],
    );
    expect(p.update.map((s) => s.metadata.labels)).toEqual([{ app: 'web', tier: 'front', [LABEL_SERVICE_NAME]: 'web', [LABEL_MANAGED_BY]: CONTROLLER_NAME }]);
    expect(p.update[0]?.metadata.resourceVersion).toBe('7');
  });

  it('at most maxEndpointsPerSlice endpoints per slice', () => {
    const pods = Array.from({ length: 250 }, (_, i) => pod(`p${String(i).padStart(3, '0')}`));
    expect(plan(svc(), pods).create.map((s) => s.endpoints.length)).toEqual([100, 100, 50]);
    expect(plan(svc(), pods.slice(0, 7), [], { maxEndpointsPerSlice: 3 }).create.map((s) => s.endpoints.length)).toEqual([3, 3, 1]);
  });

  it('leftover endpoints go to the unchanged slice closest to full that takes them all, else a new slice', () => {
    const pods = Array.from({ length: 6 }, (_, i) => pod(`p${i}`));
    const s1 = stored(created(svc(), pods.slice(0, 2)), 'two');
    const s2 = stored(created(svc(), pods.slice(2, 5)), 'three');
    const p = plan(svc(), pods, [s1, s2], { maxEndpointsPerSlice: 4 });
    expect(summary(p)).toEqual({ ...none, update: ['three [http/8080] p2:TTF,p3:TTF,p4:TTF,p5:TTF'] });
    const full = stored(created(svc(), pods.slice(0, 4)), 'full');
    expect(summary(plan(svc(), pods.slice(0, 5), [full], { maxEndpointsPerSlice: 4 }))).toEqual({ ...none, create: ['new [http/8080] p4:TTF'] });
  });
});
