import { describe, expect, it } from 'vitest';
import type { Node } from '../../api/core/node.js';
import type { Pod } from '../../api/core/pod.js';
import type { Taint } from '../../api/core/scheduling.js';
import type { DaemonSet, DaemonSetStatus } from '../../api/apps/daemonset.js';
import { FakeClock, rfc3339 } from '../../lib/clock.js';
import type { PlanOptions } from './daemonset-plan.js';
import { planDaemonSet, scaledValue } from './daemonset-plan.js';
import { newDaemonPod, templateHash } from './daemonset-pods.js';

const clock = new FakeClock(Date.UTC(2026, 0, 1));
const NOW = clock.now().getTime();
const ago = (s: number): string => rfc3339(new Date(NOW - s * 1000));

const base = (): DaemonSet => ({
  metadata: { name: 'agent', namespace: 'ns', uid: 'ds-uid', generation: 1 },
  spec: {
    selector: { matchLabels: { app: 'agent' } },
    template: { metadata: { labels: { app: 'agent' } }, spec: { containers: [{ name: 'c', image: 'img:1' }] } },
    updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } },
  },
});
/** The same DaemonSet with a new template (image img:2), as after `kubectl set image`. */
const v2 = (ds: DaemonSet): DaemonSet => ({
  ...ds,
  metadata: { ...ds.metadata, generation: 2 },
  spec: { ...ds.spec, template: { ...ds.spec.template, spec: { containers: [{ name: 'c', image: 'img:2' }] } } },
});
const strategy = (s: NonNullable<DaemonSet['spec']['updateStrategy']>) => (ds: DaemonSet): DaemonSet => ({ ...ds, spec: { ...ds.spec, updateStrategy: s } });

const node = (name: string, labels: Record<string, string> = {}, taints: Taint[] = []): Node => ({ metadata: { name, labels }, spec: { taints } });
const N3 = [node('a'), node('b'), node('c')];

interface PodOpts {
  readonly version?: DaemonSet;
  readonly ready?: boolean;
  readonly phase?: 'Running' | 'Failed' | 'Succeeded';
  readonly deleting?: boolean;
  readonly ageS?: number;
  readonly bound?: boolean;
}
/** A daemon pod on `nodeName`, built by the controller's own constructor from `version` (default: base). */
const pod = (name: string, nodeName: string, o: PodOpts = {}): Pod => {
  const ds = o.version ?? base();
  const p = newDaemonPod(ds, nodeName, templateHash(ds));
  return {
    ...p,
    metadata: {
      ...p.metadata,
      name,
      uid: `uid-${name}`,
      creationTimestamp: ago(o.ageS ?? 100),
      ...(o.deleting ? { deletionTimestamp: ago(0) } : {}),
    },
    spec: { ...p.spec, ...(o.bound !== false ? { nodeName } : {}) },
    status: {
      phase: o.phase ?? 'Running',
      conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True', lastTransitionTime: ago(60) }],
    },
  };
};

interface Expected {
  readonly create: string[];
  readonly delete: string[];
  readonly status?: Partial<DaemonSetStatus>;
}

const run = (ds: DaemonSet, nodes: Node[], pods: Pod[], opts?: PlanOptions): Expected & { requeue?: number } => {
  const plan = planDaemonSet(ds, nodes, pods, NOW, opts);
  return {
    create: [...plan.create],
    delete: plan.delete.map((p) => p.metadata.name ?? ''),
    ...(plan.status ? { status: plan.status } : {}),
    ...(plan.requeueAfterMs !== undefined ? { requeue: plan.requeueAfterMs } : {}),
  };
};

describe('planDaemonSet: manage', () => {
  const cases: Array<[string, DaemonSet, Node[], Pod[], Expected]> = [
    ['a new DaemonSet: one pod per node', base(), N3, [], { create: ['a', 'b', 'c'], delete: [] }],
    ['a new node gets a pod', base(), N3, [pod('pa', 'a'), pod('pb', 'b')], { create: ['c'], delete: [] }],
    ['all there: nothing', base(), N3, [pod('pa', 'a'), pod('pb', 'b'), pod('pc', 'c')], { create: [], delete: [] }],
    [
      'nodeSelector: only matching nodes; a pod on a node that stopped matching goes',
      ((d) => ({ ...d, spec: { ...d.spec, template: { ...d.spec.template, spec: { ...d.spec.template.spec, containers: [{ name: 'c', image: 'img:1' }], nodeSelector: { role: 'edge' } } } } }))(base()),
      [node('a', { role: 'edge' }), node('b')],
      [pod('pb', 'b')],
      { create: ['a'], delete: ['pb'] },
    ],
    ['a NoSchedule-tainted node gets no pod', base(), [node('a'), node('t', {}, [{ key: 'dedicated', effect: 'NoSchedule' }])], [], { create: ['a'], delete: [] }],
    ['... but a pod already there stays', base(), [node('t', {}, [{ key: 'dedicated', effect: 'NoSchedule' }])], [pod('pt', 't')], { create: [], delete: [] }],
    ['a NoExecute-tainted node loses its pod', base(), [node('t', {}, [{ key: 'dedicated', effect: 'NoExecute' }])], [pod('pt', 't')], { create: [], delete: ['pt'] }],
    ['two pods on a node: the oldest stays', base(), [node('a')], [pod('young', 'a', { ageS: 5 }), pod('old', 'a', { ageS: 50 })], { create: [], delete: ['young'] }],
    ['a failed pod is deleted (recreated on the next sync)', base(), [node('a')], [pod('pa', 'a', { phase: 'Failed' })], { create: [], delete: ['pa'] }],
    ['a pod being deleted blocks its replacement', base(), [node('a')], [pod('pa', 'a', { deleting: true })], { create: [], delete: [] }],
    ['an unbound pod for a node that is gone is deleted', base(), [node('a')], [pod('pa', 'a'), pod('ghost', 'gone', { bound: false })], { create: [], delete: ['ghost'] }],
    ['a BOUND pod on a node that is gone is left to pod GC', base(), [node('a')], [pod('pa', 'a'), pod('ghost', 'gone')], { create: [], delete: [] }],
    ['an unbound pod counts for its target node', base(), [node('a')], [pod('pa', 'a', { bound: false })], { create: [], delete: [] }],
  ];
  for (const [name, ds, nodes, pods, expected] of cases) {
    it(name, () => {
      const got = run(ds, nodes, pods);
      expect({ create: got.create, delete: got.delete }).toEqual({ create: expected.create, delete: expected.delete });
    });
  }

  it('a failed pod on a node in back-off waits and asks for a requeue', () => {
    const got = run(base(), [node('a')], [pod('pa', 'a', { phase: 'Failed' })], { failedPodBackoffMs: () => 2000 });
    expect(got.delete).toEqual([]);
    expect(got.requeue).toBe(2000);
  });
});

describe('planDaemonSet: rolling update', () => {
  const old = (name: string, n: string, o: PodOpts = {}): Pod => pod(name, n, o);
  const fresh = (name: string, n: string, o: PodOpts = {}): Pod => pod(name, n, { ...o, version: v2(base()) });
  const cases: Array<[string, DaemonSet, Node[], Pod[], Expected]> = [
    ['maxUnavailable 1: one old pod at a time', v2(base()), N3, [old('pa', 'a'), old('pb', 'b'), old('pc', 'c')], { create: [], delete: ['pa'] }],
    ['a new pod not yet available holds the next one back', v2(base()), N3, [fresh('na', 'a', { ready: false }), old('pb', 'b'), old('pc', 'c')], { create: [], delete: [] }],
    ['the new pod is available: the next old one goes', v2(base()), N3, [fresh('na', 'a'), old('pb', 'b'), old('pc', 'c')], { create: [], delete: ['pb'] }],
    // upstream: replacing an unavailable pod costs nothing, so the budget is still there for an available one
    ['unavailable old pods are replaced at once and do not use up maxUnavailable', v2(base()), N3, [old('pa', 'a', { ready: false }), old('pb', 'b', { ready: false }), old('pc', 'c')], { create: [], delete: ['pa', 'pb', 'pc'] }],
    ['maxUnavailable 2', strategy({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 2 } })(v2(base())), N3, [old('pa', 'a'), old('pb', 'b'), old('pc', 'c')], { create: [], delete: ['pa', 'pb'] }],
    ['maxUnavailable 50% of 3 rounds up to 2', strategy({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '50%' } })(v2(base())), N3, [old('pa', 'a'), old('pb', 'b'), old('pc', 'c')], { create: [], delete: ['pa', 'pb'] }],
    ['a node still missing its pod: manage creates first, no rolling', v2(base()), N3, [old('pa', 'a'), old('pb', 'b')], { create: ['c'], delete: [] }],
    ['OnDelete: old pods stay', strategy({ type: 'OnDelete' })(v2(base())), N3, [old('pa', 'a'), old('pb', 'b'), old('pc', 'c')], { create: [], delete: [] }],
    ['OnDelete: a deleted pod comes back with the new template (create)', strategy({ type: 'OnDelete' })(v2(base())), N3, [old('pa', 'a'), old('pb', 'b')], { create: ['c'], delete: [] }],
    ['all updated: nothing', v2(base()), N3, [fresh('na', 'a'), fresh('nb', 'b'), fresh('nc', 'c')], { create: [], delete: [] }],
  ];
  for (const [name, ds, nodes, pods, expected] of cases) {
    it(name, () => {
      const got = run(ds, nodes, pods);
      expect({ create: got.create, delete: got.delete }).toEqual({ create: expected.create, delete: expected.delete });
    });
  }

  const surge = strategy({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } });
  const surgeCases: Array<[string, DaemonSet, Node[], Pod[], Expected]> = [
    ['maxSurge 1: a new pod beside one old pod', surge(v2(base())), N3, [old('pa', 'a'), old('pb', 'b'), old('pc', 'c')], { create: ['a'], delete: [] }],
    ['the new pod is not available yet: wait, the old one stays', surge(v2(base())), N3, [old('pa', 'a'), fresh('na', 'a', { ready: false }), old('pb', 'b'), old('pc', 'c')], { create: [], delete: [] }],
    ['the new pod is available: manage deletes the old one', surge(v2(base())), N3, [old('pa', 'a'), fresh('na', 'a'), old('pb', 'b'), old('pc', 'c')], { create: [], delete: ['pa'] }],
    ['unavailable old pods get their new pods at once, without using up maxSurge', surge(v2(base())), N3, [old('pa', 'a', { ready: false }), old('pb', 'b', { ready: false }), old('pc', 'c')], { create: ['a', 'b', 'c'], delete: [] }],
  ];
  for (const [name, ds, nodes, pods, expected] of surgeCases) {
    it(name, () => {
      const got = run(ds, nodes, pods);
      expect({ create: got.create, delete: got.delete }).toEqual({ create: expected.create, delete: expected.delete });
    });
  }
});

describe('planDaemonSet: status', () => {
  it('counts desired, current, ready, available, updated and misscheduled', () => {
    const ds = v2(base());
    const nodes = [node('a'), node('b'), node('c'), node('x', {}, [{ key: 'k', effect: 'NoSchedule' }])];
    const pods = [pod('na', 'a', { version: ds }), pod('pb', 'b', { ready: false }), pod('px', 'x')];
    expect(run(ds, nodes, pods).status).toEqual({
      desiredNumberScheduled: 3,
      currentNumberScheduled: 2,
      numberReady: 1,
      numberAvailable: 1,
      updatedNumberScheduled: 1,
      numberMisscheduled: 1,
      numberUnavailable: 2,
      observedGeneration: 2,
    });
  });

  it('no status when nothing changed', () => {
    const ds = base();
    const pods = [pod('pa', 'a')];
    const status = run(ds, [node('a')], pods).status;
    expect(run({ ...ds, status: status as DaemonSetStatus }, [node('a')], pods).status).toBeUndefined();
  });

  it('minReadySeconds: ready but not yet available pods ask for a requeue', () => {
    const ds: DaemonSet = { ...base(), spec: { ...base().spec, minReadySeconds: 120 } };
    const got = run(ds, [node('a')], [pod('pa', 'a')]);
    expect(got.status?.numberReady).toBe(1);
    expect(got.status?.numberAvailable).toBeUndefined();
    expect(got.requeue).toBe(120_000);
  });
});

describe('scaledValue', () => {
  it('ints, percents rounded up, junk as 0', () => {
    expect([scaledValue(2, 10), scaledValue('25%', 10), scaledValue('10%', 1), scaledValue('0%', 5), scaledValue(undefined, 5), scaledValue('x', 5)]).toEqual([2, 3, 1, 0, 0, 0]);
  });
});
